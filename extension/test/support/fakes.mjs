// Test doubles for the browser: a window with postMessage, a document element, chrome.runtime with
// sendMessage and native ports. They copy data across like browsers do (structured clone for
// postMessage, JSON for runtime messages), so tests see what a page or host would see.

import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";

export const EXTENSION_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A challenge nonce of the shortest length the protocol allows (44 characters). */
export const NONCE = "n".repeat(44);

/** An authentication token as the host answers it (its contents are not checked here). */
export const TOKEN = Object.freeze({
  unverifiedCertificate: "MIIC",
  algorithm: "ES384",
  signature: "c2ln",
  format: "web-eid:1.0",
  appVersion: "eidlink/0.1.0",
});

/** Lets queued callbacks (setImmediate, promise jobs) run; not affected by mock timers. */
export async function flush(rounds = 5) {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A window: postMessage dispatches a MessageEvent-like object to every listener, asynchronously.
 * `origin` is its URL's origin; `windowOrigin` its own (default the same; "null" for a sandboxed
 * document, whose URL still has the hosting site's origin).
 */
export class FakeWindow {
  constructor({ origin = "https://site.example", windowOrigin = origin, secure = true } = {}) {
    this.location = { origin };
    this.origin = windowOrigin;
    this.isSecureContext = secure;
    this.listeners = [];
    /** Every message posted on this window: `{data, targetOrigin}` in order. */
    this.posted = [];
    const attributes = new Map();
    this.document = {
      documentElement: {
        setAttribute: (name, value) => attributes.set(name, String(value)),
        getAttribute: (name) => (attributes.has(name) ? attributes.get(name) : null),
        removeAttribute: (name) => attributes.delete(name),
      },
    };
  }

  addEventListener(type, listener) {
    if (type === "message") this.listeners.push(listener);
  }

  postMessage(data, targetOrigin) {
    if (targetOrigin !== "*" && !/^[a-z][a-z0-9+.-]*:\/\/[^/]+$/.test(targetOrigin)) {
      throw new SyntaxError(`Invalid target origin '${targetOrigin}'`);
    }
    const copy = structuredClone(data);
    this.posted.push({ data: copy, targetOrigin });
    if (targetOrigin !== "*" && targetOrigin !== this.origin) return; // not delivered
    this.dispatch(copy);
  }

  /** Delivers a message as if posted by `source` (default: this window) from `origin`. */
  dispatch(data, { source = this, origin = this.origin } = {}) {
    setImmediate(() => {
      for (const listener of this.listeners) listener({ data: structuredClone(data), source, origin });
    });
  }

  /** The posted messages' data whose action matches. */
  actions() {
    return this.posted.map((p) => p.data?.action);
  }
}

/** A native port as chrome.runtime.connectNative returns it; the test plays the host. */
export class FakePort {
  constructor(name) {
    this.name = name;
    this.sent = [];
    this.disconnected = false;
    this.messageListeners = [];
    this.disconnectListeners = [];
    this.onMessage = { addListener: (l) => this.messageListeners.push(l) };
    this.onDisconnect = { addListener: (l) => this.disconnectListeners.push(l) };
    this.error = null;
  }

  postMessage(message) {
    if (this.disconnected) throw new Error("Attempting to use a disconnected port object");
    this.sent.push(JSON.parse(JSON.stringify(message)));
  }

  /** The extension closes the port (no onDisconnect for its own disconnect, as in browsers). */
  disconnect() {
    this.disconnected = true;
  }

  /** The host writes a message. */
  hostSends(message) {
    if (this.disconnected) return;
    const copy = JSON.parse(JSON.stringify(message));
    for (const l of this.messageListeners) l(copy);
  }

  /** The host exits (or was never found): Chromium style with runtime.lastError set. */
  hostExits(runtime, lastError) {
    if (this.disconnected) return;
    this.disconnected = true;
    runtime.lastError = lastError === undefined ? undefined : { message: lastError };
    for (const l of this.disconnectListeners) l(this);
    runtime.lastError = undefined;
  }

  /** Firefox style: the reason is in port.error, runtime.lastError stays unset. */
  hostExitsFirefox(message) {
    if (this.disconnected) return;
    this.disconnected = true;
    this.error = { message };
    for (const l of this.disconnectListeners) l(this);
  }
}

/** chrome.runtime for the background side: connectNative hands out FakePorts. */
export class FakeRuntime {
  constructor() {
    this.id = "ccnigmgcdcaomdokminffignfkmonapb";
    this.ports = [];
    this.lastError = undefined;
    /** Called with each new port, to script the host; default: none (test drives the ports). */
    this.onConnect = null;
  }

  connectNative(name) {
    const port = new FakePort(name);
    this.ports.push(port);
    this.onConnect?.(port);
    return port;
  }

  /** The env handleRequest takes. */
  env(extra = {}) {
    return {
      connectNative: (name) => this.connectNative(name),
      lastError: () => this.lastError?.message,
      ...extra,
    };
  }
}

/**
 * A runtime port between a content script and the background, as runtime.connect returns it on
 * the content script's side. `answer(response)` is the background's one reply; `answer(undefined)`
 * closes the port without one (runtime.lastError as the caller set it). `pageGone` is set when the
 * content script disconnects (after the reply), `onPageGone` is told.
 */
export class FakeRequestPort {
  constructor(name) {
    this.name = name;
    this.messageListeners = [];
    this.disconnectListeners = [];
    this.onMessage = { addListener: (l) => this.messageListeners.push(l) };
    this.onDisconnect = { addListener: (l) => this.disconnectListeners.push(l) };
    this.disconnected = false;
    this.onPost = null;
  }

  postMessage(message) {
    if (this.disconnected) throw new Error("Attempting to use a disconnected port object");
    this.onPost?.(JSON.parse(JSON.stringify(message)));
  }

  disconnect() {
    this.disconnected = true;
  }

  answer(response) {
    if (this.disconnected) return;
    if (response === undefined) {
      this.disconnected = true;
      for (const l of this.disconnectListeners) l(this);
      return;
    }
    const copy = JSON.parse(JSON.stringify(response));
    for (const l of this.messageListeners) l(copy);
  }
}

/**
 * Runs src/content.js in a vm context whose `window` and `document` are `win`'s and whose
 * `chrome.runtime.connect` hands out FakeRequestPorts: each request posted on one is passed to
 * `sendMessage(message, callback, runtime, port)`, and `callback(response)` is the background's
 * reply (undefined: the port closed without one).
 */
export function loadContentScript(win, sendMessage) {
  const runtime = {
    lastError: undefined,
    ports: [],
    connect({ name } = {}) {
      const port = new FakeRequestPort(name);
      runtime.ports.push(port);
      port.onPost = (message) => sendMessage(message, (response) => port.answer(response), runtime, port);
      return port;
    },
  };
  const context = vm.createContext({ window: win, document: win.document, chrome: { runtime } });
  const source = fs.readFileSync(path.join(EXTENSION_DIR, "src/content.js"), "utf8");
  vm.runInContext(source, context, { filename: "content.js" });
  return runtime;
}
