// The options page's logic: its texts, and in Firefox the card login for sites that ask for a TLS
// client certificate (Belgium's CSAM "identification with an eID card reader", Login.gov PIV/CAC).
// Those sites do not use Web eID: the browser itself asks a PKCS#11 module for a certificate and a
// signature. eidlink's module (libeidlink_pkcs11) asks the PIN in eidlink's own dialog.
//
// Firefox loads the module through its pkcs11 API, which needs the "pkcs11" permission. It is an
// optional permission: nothing asks for it at install; only the click on the install button does
// (permissions.request must be called while the click is being handled, so nothing is awaited
// before it). Firefox finds the module through the PKCS#11 native manifest that `eidlink install`
// writes (name MODULE_NAME, allowed_extensions our add-on id); without it every pkcs11 call is
// rejected with "No such PKCS#11 module <name>".
//
// No browser globals: options.js passes the document and the chrome/browser namespaces in, so the
// tests run this module in node against a fake document.

/** The name of eidlink's PKCS#11 native manifest (`eidlink install` writes it). */
export const MODULE_NAME = "eidlink_pkcs11";

/** What the install button asks for. */
export const PKCS11_PERMISSION = Object.freeze({ permissions: ["pkcs11"] });

/** pkcs11.installModule's flags: none (the module itself tells NSS what its token needs). */
export const INSTALL_FLAGS = 0;

/** Whether this build offers card login: only Firefox's manifest lists the optional permission. */
export function cardLoginOffered(manifest) {
  return Array.isArray(manifest?.optional_permissions) && manifest.optional_permissions.includes("pkcs11");
}

/**
 * The message (its _locales key and substitutions) for an error of the pkcs11 or permissions API.
 * Firefox rejects every pkcs11 call with "No such PKCS#11 module <name>" when the native manifest is
 * missing or does not list this add-on, and installModule with "The description field ..." when the
 * manifest is one eidlink no longer writes: either way eidlink is missing or too old here.
 */
export function errorMessage(error) {
  const text = String(error?.message ?? error ?? "");
  if (/No such PKCS#11 module/i.test(text) || /description field in the manifest/i.test(text)) {
    return { key: "errorNotInstalled", substitutions: [] };
  }
  return { key: "errorUnexpected", substitutions: [text || "?"] };
}

/**
 * Reads the state: "not-granted" (the permission is not given: nothing is asked of the pkcs11
 * API), "installed" or "not-installed" (Firefox has, or has not, eidlink's module loaded, whoever
 * loaded it: this page or the SecurityDevices policy), or "error" with the message.
 */
export async function readState(browser) {
  if (!(await browser.permissions.contains(PKCS11_PERMISSION))) return { state: "not-granted" };
  const pkcs11 = browser.pkcs11;
  if (!pkcs11) return { state: "error", message: { key: "errorReload", substitutions: [] } };
  try {
    return { state: (await pkcs11.isModuleInstalled(MODULE_NAME)) ? "installed" : "not-installed" };
  } catch (e) {
    return { state: "error", message: errorMessage(e) };
  }
}

const STATE_TEXT = {
  "not-granted": "stateNotGranted",
  installed: "stateInstalled",
  "not-installed": "stateNotInstalled",
  error: "stateUnknown",
};

/**
 * Sets up the options page in `document`: every element with data-i18n gets that message; in a
 * build that offers card login (Firefox), its section shows the state and the two buttons; in the
 * other (Chromium), a note says what applies there. Returns `{ready}`, settled when the first state
 * is shown (for the tests).
 */
export function startOptionsPage({ document, chrome, browser }) {
  const t = (key, substitutions = []) => chrome.i18n.getMessage(key, substitutions) || key;
  document.documentElement.lang = chrome.i18n.getUILanguage?.() ?? "en";
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.getAttribute("data-i18n"));
  }

  const byId = (id) => document.getElementById(id);
  if (!cardLoginOffered(chrome.runtime.getManifest()) || !browser?.permissions) {
    byId("other-browsers").hidden = false;
    return { ready: Promise.resolve() };
  }

  const section = byId("card-login");
  const stateText = byId("state");
  const errorText = byId("error");
  const install = byId("install");
  const remove = byId("remove");
  section.hidden = false;

  let busy = false;
  const show = ({ state, message }, note) => {
    stateText.textContent = t(STATE_TEXT[state]);
    install.hidden = state === "installed";
    remove.hidden = state !== "installed";
    const shown = message ?? note;
    errorText.hidden = !shown;
    errorText.textContent = shown ? t(shown.key, shown.substitutions) : "";
  };
  const setBusy = (on) => {
    busy = on;
    install.disabled = on;
    remove.disabled = on;
  };
  const refresh = async (note) => {
    let current;
    try {
      current = await readState(browser);
    } catch (e) {
      current = { state: "error", message: errorMessage(e) };
    }
    show(current, current.message ? undefined : note);
  };
  // A failed action's message, or the state's own if it has one.
  const run = async (action) => {
    if (busy) return;
    setBusy(true);
    try {
      await refresh(await action());
    } finally {
      setBusy(false);
    }
  };

  install.addEventListener("click", () => {
    if (busy) return;
    // Asked here, synchronously in the click: Firefox grants optional permissions only from a user
    // action, and this is the only place that asks.
    const granted = browser.permissions.request(PKCS11_PERMISSION);
    void run(async () => {
      try {
        if (!(await granted)) return { key: "declined", substitutions: [] };
      } catch (e) {
        return errorMessage(e);
      }
      const pkcs11 = browser.pkcs11;
      if (!pkcs11) return { key: "errorReload", substitutions: [] };
      try {
        // Loaded already (by the SecurityDevices policy, or another window): a second load of the
        // same library would fail, and there is nothing to do.
        if (await pkcs11.isModuleInstalled(MODULE_NAME)) return undefined;
        await pkcs11.installModule(MODULE_NAME, INSTALL_FLAGS);
      } catch (e) {
        return errorMessage(e);
      }
      return undefined;
    });
  });

  remove.addEventListener("click", () => {
    void run(async () => {
      const pkcs11 = browser.pkcs11;
      if (!pkcs11) return { key: "errorReload", substitutions: [] };
      try {
        await pkcs11.uninstallModule(MODULE_NAME);
      } catch (e) {
        return errorMessage(e);
      }
      return undefined;
    });
  });

  // The permission can be taken back (or given) in Firefox's add-ons manager while the page is open.
  browser.permissions.onAdded?.addListener(() => void refresh());
  browser.permissions.onRemoved?.addListener(() => void refresh());

  return { ready: run(async () => undefined) };
}
