// The options page (src/options.html + src/cardlogin.js) against a fake document built from the
// real options.html, the real _locales texts, and a fake of Firefox's permissions and pkcs11 APIs
// that behaves as Firefox does: pkcs11 exists only once the permission is granted, every call is
// rejected with "No such PKCS#11 module <name>" without the native manifest, and
// permissions.request is refused outside a click.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

import { MODULE_NAME, errorMessage, startOptionsPage } from "../src/cardlogin.js";
import { LOCALES, manifest } from "../tools/manifest.mjs";
import { EXTENSION_DIR, flush } from "./support/fakes.mjs";

const SRC = path.join(EXTENSION_DIR, "src");
const HTML = fs.readFileSync(path.join(SRC, "options.html"), "utf8");

function messages(language) {
  return JSON.parse(fs.readFileSync(path.join(SRC, "_locales", language, "messages.json"), "utf8"));
}

/** chrome.i18n over one language's messages.json, with $1-style substitutions as browsers do. */
function fakeI18n(language) {
  const table = messages(language);
  return {
    getUILanguage: () => language,
    getMessage(key, substitutions = []) {
      const entry = table[key];
      if (!entry) return "";
      return entry.message.replace(/\$([a-z0-9_]+)\$/gi, (_, name) => {
        const content = entry.placeholders?.[name.toLowerCase()]?.content ?? "";
        return content.replace(/\$(\d)/g, (__, n) => substitutions[Number(n) - 1] ?? "");
      });
    },
  };
}

/** One element of options.html: what cardlogin.js reads and sets. */
class FakeElement {
  constructor(tag, attributes, gesture) {
    this.tagName = tag.toUpperCase();
    this.attributes = attributes;
    this.id = attributes.id;
    this.hidden = "hidden" in attributes;
    this.disabled = false;
    this.textContent = "";
    this.listeners = [];
    this.gesture = gesture;
  }

  getAttribute(name) {
    return name in this.attributes ? this.attributes[name] : null;
  }

  addEventListener(type, listener) {
    if (type === "click") this.listeners.push(listener);
  }

  /** A user's click: the browser counts calls made while its listeners run as a user action. */
  click() {
    if (this.disabled || this.hidden) return;
    this.gesture.active = true;
    try {
      for (const l of this.listeners) l({ type: "click", target: this });
    } finally {
      this.gesture.active = false;
    }
  }

  visible() {
    return !this.hidden;
  }
}

/** A document with options.html's elements (start tags and their attributes). */
function fakeDocument(gesture) {
  const elements = [];
  for (const [, tag, rest] of HTML.matchAll(/<([a-z][a-z0-9]*)((?:\s+[a-z0-9-]+(?:="[^"]*")?)*)\s*>/g)) {
    const attributes = {};
    for (const [, name, value] of rest.matchAll(/([a-z0-9-]+)(?:="([^"]*)")?/g)) attributes[name] = value ?? "";
    elements.push(new FakeElement(tag, attributes, gesture));
  }
  const html = elements.find((e) => e.tagName === "HTML");
  return {
    elements,
    documentElement: html,
    getElementById: (id) => elements.find((e) => e.id === id) ?? null,
    querySelectorAll(selector) {
      assert.equal(selector, "[data-i18n]");
      return elements.filter((e) => e.getAttribute("data-i18n") !== null);
    },
  };
}

/** Firefox's permissions and pkcs11 APIs, with a log of every call. */
class FakeFirefox {
  constructor(gesture, { granted = false, manifestPresent = true, loaded = false, userSays = true } = {}) {
    this.gesture = gesture;
    this.granted = granted;
    this.manifestPresent = manifestPresent;
    this.loaded = loaded;
    this.userSays = userSays;
    this.calls = [];
    this.installError = null;
    const listeners = { added: [], removed: [] };
    this.listeners = listeners;
    this.permissions = {
      contains: async (p) => {
        this.calls.push(["contains", p]);
        return this.granted && p.permissions.every((x) => x === "pkcs11");
      },
      request: (p) => {
        this.calls.push(["request", structuredClone(p), this.gesture.active]);
        if (!this.gesture.active) {
          return Promise.reject(new Error("permissions.request may only be called from a user input handler"));
        }
        if (this.userSays) this.granted = true;
        return Promise.resolve(this.userSays);
      },
      onAdded: { addListener: (l) => listeners.added.push(l) },
      onRemoved: { addListener: (l) => listeners.removed.push(l) },
    };
    const manifestFor = async (name) => {
      // Firefox: no manifest, or one that does not list this add-on, look the same.
      if (!this.manifestPresent || name !== MODULE_NAME) throw { message: `No such PKCS#11 module ${name}` };
    };
    this.api = {
      isModuleInstalled: async (name) => {
        this.calls.push(["isModuleInstalled", name]);
        await manifestFor(name);
        return this.loaded;
      },
      installModule: async (name, flags) => {
        this.calls.push(["installModule", name, flags]);
        await manifestFor(name);
        if (this.installError) throw this.installError;
        if (this.loaded) throw new Error("An unexpected error occurred");
        this.loaded = true;
      },
      uninstallModule: async (name) => {
        this.calls.push(["uninstallModule", name]);
        await manifestFor(name);
        if (!this.loaded) throw { message: `The PKCS#11 module ${name} is not loaded` };
        this.loaded = false;
      },
    };
  }

  /** As in Firefox: the namespace is there only while the permission is granted. */
  get pkcs11() {
    return this.granted ? this.api : undefined;
  }

  names() {
    return this.calls.map((c) => c[0]);
  }
}

/** The page started as the given build ("firefox" or "chromium") in `language`. */
async function open({ build = "firefox", language = "en", ...firefox } = {}) {
  const gesture = { active: false };
  const document = fakeDocument(gesture);
  const browser = new FakeFirefox(gesture, firefox);
  const chrome = { i18n: fakeI18n(language), runtime: { getManifest: () => manifest(build) } };
  await startOptionsPage({ document, chrome, browser }).ready;
  await flush(10);
  const el = (id) => document.getElementById(id);
  const text = (key, ...subs) => fakeI18n(language).getMessage(key, subs);
  return { document, browser, el, text };
}

async function click(element) {
  element.click();
  await flush(10);
}

describe("options page: the state", () => {
  it("not granted: says so, offers the button, asks nothing and touches no pkcs11 call", async () => {
    const { browser, el, text } = await open({ granted: false });
    assert.ok(el("card-login").visible());
    assert.ok(!el("other-browsers").visible());
    assert.equal(el("state").textContent, text("stateNotGranted"));
    assert.ok(el("install").visible());
    assert.ok(!el("remove").visible());
    assert.ok(!el("error").visible());
    assert.deepEqual(browser.names(), ["contains"]);
  });

  it("granted and loaded (by this page or the SecurityDevices policy): on, with the remove button", async () => {
    const { browser, el, text } = await open({ granted: true, loaded: true });
    assert.equal(el("state").textContent, text("stateInstalled"));
    assert.ok(!el("install").visible());
    assert.ok(el("remove").visible());
    assert.deepEqual(browser.calls.slice(1), [["isModuleInstalled", "eidlink_pkcs11"]]);
  });

  it("granted, not loaded: off, with the install button", async () => {
    const { el, text } = await open({ granted: true, loaded: false });
    assert.equal(el("state").textContent, text("stateNotInstalled"));
    assert.ok(el("install").visible());
    assert.ok(!el("remove").visible());
    assert.ok(!el("error").visible());
  });

  it("granted, but eidlink's native manifest is missing: the clear message", async () => {
    const { el, text } = await open({ granted: true, manifestPresent: false });
    assert.equal(el("state").textContent, text("stateUnknown"));
    assert.ok(el("error").visible());
    assert.equal(el("error").textContent, text("errorNotInstalled"));
    assert.match(el("error").textContent, /^eidlink is not installed on this computer, or too old\./);
  });

  it("follows the permission when it is taken back in the add-ons manager", async () => {
    const { browser, el, text } = await open({ granted: true, loaded: true });
    browser.granted = false;
    for (const l of browser.listeners.removed) l({ permissions: ["pkcs11"] });
    await flush(10);
    assert.equal(el("state").textContent, text("stateNotGranted"));
  });

  it("is in the browser's language", async () => {
    const { document, el } = await open({ language: "fr" });
    assert.equal(document.documentElement.lang, "fr");
    assert.equal(el("install").textContent, messages("fr").buttonInstall.message);
    assert.equal(el("state").textContent, messages("fr").stateNotGranted.message);
  });
});

describe("options page: the buttons", () => {
  it("install: the permission is asked in the click, then eidlink's module is installed", async () => {
    const { browser, el, text } = await open();
    assert.ok(!browser.names().includes("request"), "nothing asks before the click");
    await click(el("install"));
    const requests = browser.calls.filter((c) => c[0] === "request");
    assert.deepEqual(requests, [["request", { permissions: ["pkcs11"] }, true]]);
    assert.deepEqual(
      browser.calls.filter((c) => c[0] === "installModule"),
      [["installModule", "eidlink_pkcs11", 0]],
    );
    assert.ok(browser.loaded);
    assert.equal(el("state").textContent, text("stateInstalled"));
    assert.ok(el("remove").visible());
    assert.ok(!el("install").visible());
    assert.ok(!el("error").visible());
    assert.ok(!el("install").disabled && !el("remove").disabled);
  });

  it("install when the module is already loaded (the policy did it): nothing loaded twice", async () => {
    const { browser, el, text } = await open({ granted: false, loaded: true });
    await click(el("install"));
    assert.ok(!browser.names().includes("installModule"));
    assert.equal(el("state").textContent, text("stateInstalled"));
    assert.ok(!el("error").visible());
  });

  it("install refused by the user: nothing installed, said so", async () => {
    const { browser, el, text } = await open({ userSays: false });
    await click(el("install"));
    assert.ok(!browser.names().includes("installModule"));
    assert.ok(!browser.names().includes("isModuleInstalled"));
    assert.equal(el("state").textContent, text("stateNotGranted"));
    assert.equal(el("error").textContent, text("declined"));
  });

  it("install without eidlink's native manifest: the clear message, not Firefox's", async () => {
    const { el, text } = await open({ manifestPresent: false });
    await click(el("install"));
    assert.ok(el("error").visible());
    assert.equal(el("error").textContent, text("errorNotInstalled"));
    assert.doesNotMatch(el("error").textContent, /No such PKCS#11 module/);
    assert.ok(el("install").visible(), "the user can try again once eidlink is installed");
  });

  it("install failing otherwise: Firefox's reason is shown", async () => {
    const { browser, el, text } = await open();
    browser.installError = new Error("An unexpected error occurred");
    await click(el("install"));
    assert.equal(el("error").textContent, text("errorUnexpected", "An unexpected error occurred"));
    assert.equal(el("error").textContent, "Firefox could not do it: An unexpected error occurred");
    assert.equal(el("state").textContent, text("stateNotInstalled"));
  });

  it("remove: uninstalls eidlink's module, by its name", async () => {
    const { browser, el, text } = await open({ granted: true, loaded: true });
    await click(el("remove"));
    assert.deepEqual(
      browser.calls.filter((c) => c[0] === "uninstallModule"),
      [["uninstallModule", "eidlink_pkcs11"]],
    );
    assert.ok(!browser.loaded);
    assert.equal(el("state").textContent, text("stateNotInstalled"));
    assert.ok(el("install").visible());
    assert.ok(!browser.names().includes("request"), "removing asks for nothing");
  });
});

describe("options page: the Chromium build", () => {
  it("shows the note for Chrome, Chromium and Edge, and no card-login buttons or calls", async () => {
    const { document, browser, el } = await open({ build: "chromium", granted: true });
    assert.ok(el("other-browsers").visible());
    assert.ok(!el("card-login").visible());
    const note = document.elements.find((e) => e.getAttribute("data-i18n") === "otherBrowsersNote");
    assert.equal(note.textContent, messages("en").otherBrowsersNote.message);
    assert.match(note.textContent, /eidlink install --user/);
    assert.deepEqual(browser.calls, []);
  });
});

describe("options page: errors", () => {
  it("map Firefox's missing-manifest rejections to errorNotInstalled, the rest with their text", () => {
    assert.deepEqual(errorMessage({ message: "No such PKCS#11 module eidlink_pkcs11" }).key, "errorNotInstalled");
    assert.deepEqual(
      errorMessage(new Error("The description field in the manifest for PKCS#11 module eidlink_pkcs11 must have a value")).key,
      "errorNotInstalled",
    );
    assert.deepEqual(errorMessage(new Error("boom")), { key: "errorUnexpected", substitutions: ["boom"] });
    assert.deepEqual(errorMessage(undefined), { key: "errorUnexpected", substitutions: ["?"] });
  });
});

describe("options page: texts and markup", () => {
  it("every language has every text, with the same placeholders", () => {
    assert.deepEqual(fs.readdirSync(path.join(SRC, "_locales")).sort(), [...LOCALES].sort());
    const en = messages("en");
    const used = new Set([...HTML.matchAll(/data-i18n="([^"]+)"/g)].map((m) => m[1]));
    const source = fs.readFileSync(path.join(SRC, "cardlogin.js"), "utf8");
    for (const [, key] of source.matchAll(/"((?:state|error)[A-Z][A-Za-z]*|declined)"/g)) used.add(key);
    assert.ok(used.has("errorNotInstalled") && used.has("stateInstalled") && used.has("declined"));
    for (const key of used) assert.ok(en[key], `en lacks ${key}`);
    for (const language of LOCALES) {
      const table = messages(language);
      assert.deepEqual(Object.keys(table).sort(), Object.keys(en).sort(), language);
      for (const [key, entry] of Object.entries(table)) {
        assert.ok(entry.message.trim(), `${language} ${key}`);
        assert.deepEqual(Object.keys(entry.placeholders ?? {}), Object.keys(en[key].placeholders ?? {}), `${language} ${key}`);
        for (const [, name] of entry.message.matchAll(/\$([a-z0-9_]+)\$/gi)) {
          assert.ok(en[key].placeholders?.[name.toLowerCase()], `${language} ${key} $${name}$`);
        }
      }
    }
  });

  it("options.html loads only the extension's own script and style: no inline code, no remote source", () => {
    const scripts = [...HTML.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.deepEqual(scripts.map((m) => [m[1].trim(), m[2]]), [['type="module" src="options.js"', ""]]);
    assert.doesNotMatch(HTML, /\son[a-z]+=/i);
    assert.doesNotMatch(HTML, /<style\b|\sstyle=/i);
    assert.doesNotMatch(HTML, /(?:src|href)="(?:https?:)?\/\//i);
    for (const id of ["card-login", "other-browsers", "state", "error", "install", "remove"]) {
      assert.ok(HTML.includes(`id="${id}"`), id);
    }
  });
});
