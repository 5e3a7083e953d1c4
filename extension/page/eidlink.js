// eidlink.js: a small ES module for web pages, with web-eid.js's API (protocol.md §1, "eidlink adds"):
//
//   import * as eidlink from "./eidlink.js";
//   const versions = await eidlink.status();                          // {library, extension, nativeApp}
//   const token = await eidlink.authenticate(challengeNonce, { lang: "fr" });
//   const { certificate, supportedSignatureAlgorithms } = await eidlink.getSigningCertificate();
//   const { signature, signatureAlgorithm } = await eidlink.sign(certificate, hash, "SHA-256");
//
// Options: `lang` (ISO 639-1) and `userInteractionTimeout` (ms, default 120000). A failed call
// rejects with an Error whose `code` is one of `ErrorCode` (exported below), with `message`, and,
// when the extension gave them, `reason` (eidlink's stable reason, e.g. "NO_CARD", "PIN_BLOCKED")
// and `requiresUpdate: {extension, nativeApp}` (ERR_WEBEID_VERSION_MISMATCH).
//
// Messages: each call posts `{action: "web-eid:X", libraryVersion, ...}` to this window (target
// "*"), waits up to 1 s for `web-eid:X-ack` (else ERR_WEBEID_EXTENSION_UNAVAILABLE), then for
// `web-eid:X-success` or `web-eid:X-failure`, until 1 s + 5 s (native handshake) + the user
// interaction timeout + 1 s (so that the extension's own ERR_WEBEID_USER_TIMEOUT arrives first), else
// ERR_WEBEID_ACTION_TIMEOUT. Only messages from this window and this origin are accepted. One
// call per action at a time (ERR_WEBEID_ACTION_PENDING).
//
// Start-up: web-eid.js waits until 1 s after it was loaded before its first call, in case the
// content script is late. eidlink's content script instead announces itself by setting the attribute
// `data-eidlink-extension="ready"` on the document element at document_start, before any page
// script runs. When the attribute is there, calls start at once. When it is not (no extension, or
// Web eID's own extension, which sets no attribute), a call waits for it until 1 s after this module
// was loaded and then posts its request anyway, so that it works with Web eID's extension too.

export const LIBRARY_VERSION = "2.0.0";

/** The error codes of the Web eID page protocol (protocol.md §1): `ErrorCode.X === "X"`. */
export const ErrorCode = Object.freeze({
  ERR_WEBEID_ACTION_PENDING: "ERR_WEBEID_ACTION_PENDING",
  ERR_WEBEID_ACTION_TIMEOUT: "ERR_WEBEID_ACTION_TIMEOUT",
  ERR_WEBEID_CONTEXT_INSECURE: "ERR_WEBEID_CONTEXT_INSECURE",
  ERR_WEBEID_EXTENSION_UNAVAILABLE: "ERR_WEBEID_EXTENSION_UNAVAILABLE",
  ERR_WEBEID_MISSING_PARAMETER: "ERR_WEBEID_MISSING_PARAMETER",
  ERR_WEBEID_NATIVE_FATAL: "ERR_WEBEID_NATIVE_FATAL",
  ERR_WEBEID_NATIVE_INVALID_ARGUMENT: "ERR_WEBEID_NATIVE_INVALID_ARGUMENT",
  ERR_WEBEID_NATIVE_UNAVAILABLE: "ERR_WEBEID_NATIVE_UNAVAILABLE",
  ERR_WEBEID_UNKNOWN_ERROR: "ERR_WEBEID_UNKNOWN_ERROR",
  ERR_WEBEID_USER_CANCELLED: "ERR_WEBEID_USER_CANCELLED",
  ERR_WEBEID_USER_TIMEOUT: "ERR_WEBEID_USER_TIMEOUT",
  ERR_WEBEID_VERSION_INVALID: "ERR_WEBEID_VERSION_INVALID",
  ERR_WEBEID_VERSION_MISMATCH: "ERR_WEBEID_VERSION_MISMATCH",
});

export const config = Object.freeze({
  EXTENSION_HANDSHAKE_TIMEOUT: 1000,
  NATIVE_APP_HANDSHAKE_TIMEOUT: 5000,
  DEFAULT_USER_INTERACTION_TIMEOUT: 120000,
  MAX_EXTENSION_LOAD_DELAY: 1000,
  REPLY_MARGIN: 1000,
  READY_ATTRIBUTE: "data-eidlink-extension",
});

const READY_POLL_MS = 20;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

// The class names web-eid.js uses for each code, so `error.name` reads the same with both libraries.
const NAMES = {
  ERR_WEBEID_ACTION_PENDING: "ActionPendingError",
  ERR_WEBEID_ACTION_TIMEOUT: "ActionTimeoutError",
  ERR_WEBEID_CONTEXT_INSECURE: "ContextInsecureError",
  ERR_WEBEID_EXTENSION_UNAVAILABLE: "ExtensionUnavailableError",
  ERR_WEBEID_MISSING_PARAMETER: "MissingParameterError",
  ERR_WEBEID_NATIVE_FATAL: "NativeFatalError",
  ERR_WEBEID_NATIVE_INVALID_ARGUMENT: "NativeInvalidArgumentError",
  ERR_WEBEID_NATIVE_UNAVAILABLE: "NativeUnavailableError",
  ERR_WEBEID_UNKNOWN_ERROR: "UnknownError",
  ERR_WEBEID_USER_CANCELLED: "UserCancelledError",
  ERR_WEBEID_USER_TIMEOUT: "UserTimeoutError",
  ERR_WEBEID_VERSION_INVALID: "VersionInvalidError",
  ERR_WEBEID_VERSION_MISMATCH: "VersionMismatchError",
};

/** A failed call: `code` (an ErrorCode), `message`, and `reason`, `requiresUpdate`, ... when given. */
export class EidlinkError extends Error {
  constructor(code, message, properties = {}) {
    super(message);
    Object.assign(this, properties);
    this.name = NAMES[code] ?? NAMES.ERR_WEBEID_UNKNOWN_ERROR;
    this.code = code in NAMES ? code : ErrorCode.ERR_WEBEID_UNKNOWN_ERROR;
  }
}

/** The extension's serialized `{name, message, code, ...}` as an EidlinkError. */
function toError(serialized) {
  if (serialized === null || typeof serialized !== "object") {
    return new EidlinkError(ErrorCode.ERR_WEBEID_UNKNOWN_ERROR, "the extension reported an unknown error");
  }
  // eslint-disable-next-line no-unused-vars -- name and stack are our own; the rest is copied
  const { name, stack, code, message, ...properties } = serialized;
  const known = typeof code === "string" && code in NAMES;
  return new EidlinkError(
    known ? code : ErrorCode.ERR_WEBEID_UNKNOWN_ERROR,
    typeof message === "string" ? message : "the extension reported an error",
    properties,
  );
}

function interactionTimeout(options) {
  const value = options?.userInteractionTimeout;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    return config.DEFAULT_USER_INTERACTION_TIMEOUT;
  }
  return Math.min(value, MAX_TIMEOUT_MS);
}

// Only the options the protocol knows, so that postMessage never meets something it cannot clone.
function protocolOptions(options) {
  if (options === null || typeof options !== "object") return undefined;
  const copy = {};
  if (options.userInteractionTimeout !== undefined) copy.userInteractionTimeout = options.userInteractionTimeout;
  if (options.lang !== undefined) copy.lang = options.lang;
  return copy;
}

const pick = (object, keys) => Object.fromEntries(keys.map((k) => [k, object[k]]));

/**
 * A client bound to one window. The module's own functions use one created for `window` when the
 * module is loaded; tests (and pages with several frames) can make their own.
 * @param {Window} win
 */
export function createClient(win) {
  const loadedAt = Date.now();
  /** @type {Map<string, {settle: (error: Error | null, message?: object) => void, acked: () => void}>} */
  const pending = new Map();

  const announced = () => win.document?.documentElement?.getAttribute(config.READY_ATTRIBUTE) === "ready";

  // Resolves when the content script has announced itself, or 1 s after load at the latest.
  function extensionReady() {
    return new Promise((resolve) => {
      const check = () => {
        if (announced() || Date.now() >= loadedAt + config.MAX_EXTENSION_LOAD_DELAY) resolve();
        else setTimeout(check, Math.min(READY_POLL_MS, loadedAt + config.MAX_EXTENSION_LOAD_DELAY - Date.now()));
      };
      check();
    });
  }

  win.addEventListener("message", (event) => {
    if (event.source !== win || event.origin !== win.location.origin) return;
    const action = event.data?.action;
    if (typeof action !== "string") return;
    const match = /^(web-eid:[a-z-]+?)-(ack|success|failure)$/.exec(action);
    const entry = match && pending.get(match[1]);
    if (!entry) return;
    if (match[2] === "ack") entry.acked();
    else if (match[2] === "success") entry.settle(null, event.data);
    else entry.settle(toError(event.data.error));
  });

  async function send(message, replyTimeout) {
    const { action } = message;
    if (pending.has(action)) {
      throw new EidlinkError(ErrorCode.ERR_WEBEID_ACTION_PENDING, `${action} is already in progress`);
    }
    if (!win.isSecureContext) {
      throw new EidlinkError(ErrorCode.ERR_WEBEID_CONTEXT_INSECURE, "Secure context required");
    }
    let entry;
    const result = new Promise((resolve, reject) => {
      let ackTimer;
      let replyTimer;
      entry = {
        settle(error, reply) {
          clearTimeout(ackTimer);
          clearTimeout(replyTimer);
          pending.delete(action);
          if (error) reject(error);
          else resolve(reply);
        },
        acked() {
          clearTimeout(ackTimer);
        },
        start() {
          ackTimer = setTimeout(
            () =>
              entry.settle(
                new EidlinkError(
                  ErrorCode.ERR_WEBEID_EXTENSION_UNAVAILABLE,
                  "the eidlink (or Web eID) browser extension is not available",
                ),
              ),
            config.EXTENSION_HANDSHAKE_TIMEOUT,
          );
          replyTimer = setTimeout(
            () => entry.settle(new EidlinkError(ErrorCode.ERR_WEBEID_ACTION_TIMEOUT, `${action} timed out`)),
            replyTimeout,
          );
        },
      };
    });
    // Registered before the readiness wait, so that a second call meanwhile is refused as pending.
    pending.set(action, entry);
    await extensionReady();
    entry.start();
    win.postMessage(message, "*");
    return result;
  }

  const baseTimeout = config.EXTENSION_HANDSHAKE_TIMEOUT + config.NATIVE_APP_HANDSHAKE_TIMEOUT + config.REPLY_MARGIN;
  const missing = (what) => Promise.reject(new EidlinkError(ErrorCode.ERR_WEBEID_MISSING_PARAMETER, `${what} is required`));

  return {
    /** Versions of the library, the extension and the native application. */
    async status() {
      try {
        const reply = await send({ action: "web-eid:status", libraryVersion: LIBRARY_VERSION }, baseTimeout);
        return pick(reply, ["library", "extension", "nativeApp"]);
      } catch (error) {
        error.library = LIBRARY_VERSION;
        throw error;
      }
    },

    /** A Web eID authentication token for the server's challenge nonce. */
    async authenticate(challengeNonce, options) {
      if (!challengeNonce) return missing("challengeNonce");
      const message = { action: "web-eid:authenticate", libraryVersion: LIBRARY_VERSION, challengeNonce };
      const opts = protocolOptions(options);
      if (opts) message.options = opts;
      const reply = await send(message, baseTimeout + interactionTimeout(options));
      return pick(reply, ["unverifiedCertificate", "algorithm", "signature", "format", "appVersion"]);
    },

    /** The signing certificate and the signature algorithms its key supports. */
    async getSigningCertificate(options) {
      const message = { action: "web-eid:get-signing-certificate", libraryVersion: LIBRARY_VERSION };
      const opts = protocolOptions(options);
      if (opts) message.options = opts;
      const reply = await send(message, baseTimeout + interactionTimeout(options));
      return pick(reply, ["certificate", "supportedSignatureAlgorithms"]);
    },

    /** Signs a document hash (standard base64) with the key of `certificate` (base64 DER). */
    async sign(certificate, hash, hashFunction, options) {
      if (!certificate) return missing("certificate");
      if (!hash) return missing("hash");
      if (!hashFunction) return missing("hashFunction");
      const message = { action: "web-eid:sign", libraryVersion: LIBRARY_VERSION, certificate, hash, hashFunction };
      const opts = protocolOptions(options);
      if (opts) message.options = opts;
      const reply = await send(message, baseTimeout + interactionTimeout(options));
      return pick(reply, ["signature", "signatureAlgorithm"]);
    },
  };
}

// The module's client, created at load time so that "1 s after load" counts from here.
const defaultClient = typeof window === "object" && window !== null ? createClient(window) : null;

function client() {
  if (!defaultClient) throw new Error("eidlink.js needs a browser window");
  return defaultClient;
}

// Async, so that "no window" is a rejection like every other failure.
export async function status() {
  return client().status();
}
export async function authenticate(challengeNonce, options) {
  return client().authenticate(challengeNonce, options);
}
export async function getSigningCertificate(options) {
  return client().getSigningCertificate(options);
}
export async function sign(certificate, hash, hashFunction, options) {
  return client().sign(certificate, hash, hashFunction, options);
}
