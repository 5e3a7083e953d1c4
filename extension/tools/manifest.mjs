// The per-browser manifests, generated from one base (the only differences are the background key,
// the Chromium "key"/version_name/minimum version, and Firefox's gecko settings and its optional
// "pkcs11" permission, which Chromium does not know).

import { EXTENSION_VERSION, PROTOCOL_VERSION } from "../src/config.js";

/**
 * The manifest "key" (base64 SubjectPublicKeyInfo) that fixes the Chromium extension id; the id is
 * the first 32 hex digits of SHA-256(DER key), written with the letters a-p.
 */
export const CHROMIUM_KEY =
  "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx+PJvLWEtQXp0a6l6ulxgOLmq5Eais7IBPDwGcNINiPk4+tmbkRoLtsNFrsuJ4Jti4zxFt0ZN7GLNtbNUPO43xgHoWKWkYzeejqnUvnt26ane/dqtRUZHSQ9VbSZgqYX98A8WI5PSK4ZGS37gy7gKAYiPGcGOtVhHCOR4eSSMuwKILyLq9tx2/N+9aEsvULE6varrL9utlizcf0WN/oYNdmusfBwJ8GxN2wCDdS8DB84cU9Tz21+zYKOHKuNlOGtRZFPu6QjhFkoMe58pwvXNt0WWI1wxR39GjIGvvrrmMDvgiXSftPskvVuvAJJayXNlqQH5F9YPldVfdfJH6Su5QIDAQAB";
export const CHROMIUM_ID = "ccnigmgcdcaomdokminffignfkmonapb";
export const GECKO_ID = "eidlink@eidlink.org";

/** The languages of the extension's own texts (src/_locales/<language>/messages.json). */
export const LOCALES = ["de", "en", "fr", "nl"];

/**
 * Files of the extension, copied from src/ with their paths (background.js and options.js import
 * their siblings; the texts are in _locales/, where browsers' i18n API reads them).
 */
export const FILES = [
  ...LOCALES.map((language) => `_locales/${language}/messages.json`),
  "actions.js",
  "background.js",
  "cardlogin.js",
  "config.js",
  "content.js",
  "limits.js",
  "native.js",
  "options.css",
  "options.html",
  "options.js",
  "protocol.js",
];

/**
 * The extension's pages (the options page) run only files of the extension: no remote script, no
 * inline script or style, nothing fetched.
 */
export const EXTENSION_PAGES_CSP = "default-src 'none'; script-src 'self'; style-src 'self'";

const base = {
  manifest_version: 3,
  name: "eidlink",
  description: "Log in and sign with your eID card on websites that use Web eID.",
  // Browsers take only dotted integers here; the full semver is EXTENSION_VERSION.
  version: PROTOCOL_VERSION,
  // The texts of the options page (chrome.i18n); the browser's language picks one of LOCALES.
  default_locale: "en",
  permissions: ["nativeMessaging"],
  content_security_policy: { extension_pages: EXTENSION_PAGES_CSP },
  // Both builds have the page; its card-login part shows only where the manifest offers the
  // optional "pkcs11" permission (Firefox).
  options_ui: { page: "options.html", open_in_tab: false },
  content_scripts: [
    {
      // https pages; and every http page, so a site on plain http gets ERR_WEBEID_CONTEXT_INSECURE
      // instead of a silent EXTENSION_UNAVAILABLE (http://localhost stays usable for development:
      // the host accepts it only with its developer setting). all_frames: a login form may sit in
      // an iframe.
      matches: ["https://*/*", "http://*/*"],
      js: ["content.js"],
      run_at: "document_start",
      all_frames: true,
    },
  ],
};

/** The manifest for "chromium" (Chrome, Chromium, Edge) or "firefox". */
export function manifest(browser) {
  switch (browser) {
    case "chromium":
      return {
        ...base,
        version_name: EXTENSION_VERSION,
        key: CHROMIUM_KEY,
        // 110: the service worker lives as long as it has work (native port open) without the
        // former 5-minute cap.
        minimum_chrome_version: "110",
        background: { service_worker: "background.js", type: "module" },
      };
    case "firefox":
      return {
        ...base,
        background: { scripts: ["background.js"], type: "module" },
        // Firefox's pkcs11 API, to load eidlink's PKCS#11 module for sites that ask for a TLS
        // client certificate. Optional: never asked at install, only when the user clicks the
        // options page's button (permissions.request needs that click).
        optional_permissions: ["pkcs11"],
        browser_specific_settings: {
          gecko: {
            id: GECKO_ID,
            // 140 (ESR): has MV3 with module background scripts (112+), the content scripts' host
            // permissions granted at install (127+, else pages get no content script), and
            // data_collection_permissions (140+, which addons.mozilla.org requires).
            strict_min_version: "140.0",
            // Nothing leaves the machine: the extension only talks to the local native host.
            data_collection_permissions: { required: ["none"] },
          },
        },
      };
    default:
      throw new Error(`unknown browser ${browser}`);
  }
}
