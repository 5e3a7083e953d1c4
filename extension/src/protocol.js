// The Web eID protocol logic of the background, as pure functions: request validation, the origin,
// native command building and the size cap, version checks, host reply checks and error mapping.
// No browser globals here (only URL and TextEncoder, which node has too): unit-tested in node.
// Section numbers (§) refer to docs/protocol.md.

import {
  DEFAULT_USER_INTERACTION_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  NATIVE_MESSAGE_MAX_BYTES,
} from "./config.js";

/** Page actions (§1). The response kinds append -ack, -success and -failure. */
export const Action = Object.freeze({
  STATUS: "web-eid:status",
  AUTHENTICATE: "web-eid:authenticate",
  GET_SIGNING_CERTIFICATE: "web-eid:get-signing-certificate",
  SIGN: "web-eid:sign",
});

const ACTIONS = new Set(Object.values(Action));

/** True for the four request actions (not their responses, not `web-eid:warning`). */
export function isRequestAction(action) {
  return ACTIONS.has(action);
}

/**
 * The only codes the page library knows (§1). Each maps to the error class name web-eid.js gives
 * it, which goes into `error.name` (web-eid.js rebuilds its error from `code`; `name` is for people
 * and other libraries).
 */
export const ERROR_NAMES = Object.freeze({
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
});

/** `ErrorCode.X === "X"` for every code of §1. */
export const ErrorCode = Object.freeze(
  Object.fromEntries(Object.keys(ERROR_NAMES).map((code) => [code, code])),
);

/** A serialized page error `{name, message, code, ...extra}` (§1 failure payload). */
export function webEidError(code, message, extra = {}) {
  if (!(code in ERROR_NAMES)) throw new TypeError(`not a Web eID error code: ${code}`);
  return { ...extra, name: ERROR_NAMES[code], message, code };
}

/** `{action: "web-eid:X-failure", error}` (§1). */
export function failure(action, error) {
  return { action: `${action}-failure`, error };
}

/** `{action: "web-eid:X-success", ...payload}`: the payload cannot override `action` (§1). */
export function success(action, payload) {
  return { ...payload, action: `${action}-success` };
}

// --- requests --------------------------------------------------------------------------------------

/** Parameters each action requires besides `libraryVersion` (web-eid.js's own checks, §1). */
const REQUIRED = Object.freeze({
  [Action.STATUS]: [],
  [Action.AUTHENTICATE]: ["challengeNonce"],
  [Action.GET_SIGNING_CERTIFICATE]: [],
  [Action.SIGN]: ["certificate", "hash", "hashFunction"],
});

/**
 * Checks a page request before any host is started: an unknown action is ERR_WEBEID_UNKNOWN_ERROR,
 * an absent or empty parameter ERR_WEBEID_MISSING_PARAMETER, a library version that is not semver
 * ERR_WEBEID_VERSION_INVALID. Returns the error, or null. Values are otherwise the host's business
 * (§2.1 argument rules are enforced there, once).
 */
export function checkRequest(request) {
  if (!request || !isRequestAction(request.action)) {
    return webEidError(ErrorCode.ERR_WEBEID_UNKNOWN_ERROR, "unknown action");
  }
  for (const key of ["libraryVersion", ...REQUIRED[request.action]]) {
    const value = request[key];
    if (value === undefined || value === null || value === "") {
      return webEidError(ErrorCode.ERR_WEBEID_MISSING_PARAMETER, `${key} is required`);
    }
  }
  if (parseSemver(request.libraryVersion) === null) {
    return webEidError(
      ErrorCode.ERR_WEBEID_VERSION_INVALID,
      `the library version '${request.libraryVersion}' is not a semantic version`,
    );
  }
  return null;
}

/**
 * `options.userInteractionTimeout` in ms: a positive number, else the default (as Web eID's
 * extension, which uses `|| default`); clamped so that setTimeout does not fire at once.
 */
export function userInteractionTimeout(options) {
  const value = options?.userInteractionTimeout;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    return DEFAULT_USER_INTERACTION_TIMEOUT_MS;
  }
  return Math.min(value, MAX_TIMEOUT_MS);
}

/**
 * The host takes an ISO 639-1 `lang` only and rejects anything else (§2.1). Pages written for Web
 * eID may pass a BCP 47 tag ("en-GB"): keep its primary language subtag; drop anything else so that
 * the host falls back to English instead of failing the request.
 */
export function hostLang(lang) {
  if (typeof lang !== "string") return undefined;
  const match = /^([a-z]{2})(?:[-_][a-z0-9-_]*)?$/i.exec(lang);
  return match ? match[1].toLowerCase() : undefined;
}

/**
 * The origin passed to the host (§1): that of the frame that sent the message. `sender.origin`
 * (Chromium and Firefox ≥ 80) is what the browser computed for the frame and, when present, is the
 * answer: an opaque origin ("null": a sandboxed frame, `CSP: sandbox` content, a data: URL) has no
 * origin, even though its URL has one (that is the hosting site's, whose name the frame must not
 * use). Only without `sender.origin`, `new URL(sender.url).origin`. Returns null for an opaque
 * origin or no URL.
 */
export function senderOrigin(sender) {
  if (typeof sender?.origin === "string") {
    return sender.origin === "" || isOpaqueOrigin(sender.origin) ? null : sender.origin;
  }
  if (typeof sender?.url !== "string") return null;
  try {
    const origin = new URL(sender.url).origin;
    return isOpaqueOrigin(origin) ? null : origin;
  } catch {
    return null;
  }
}

/**
 * True for a `sender.origin` that is not a site's origin: "null" (an opaque origin's serialization,
 * HTML §7.1.1), or anything else that is not the scheme://host[:port] of a URL. Firefox may name a
 * sandboxed frame's origin after its null principal ("moz-nullprincipal:{...}"), which is no site
 * either.
 */
export function isOpaqueOrigin(origin) {
  if (origin === "null") return true;
  try {
    return new URL(origin).origin !== origin;
  } catch {
    return true;
  }
}

/**
 * The refusal of a frame with an opaque origin (a sandboxed frame). web-eid.js v2 has no origin
 * error code; ERR_WEBEID_CONTEXT_INSECURE is its code for "this page may not use eID", which is
 * what it is here (reason ORIGIN_REJECTED, as the host's refusal of an origin).
 */
export function opaqueOriginError() {
  return webEidError(
    ErrorCode.ERR_WEBEID_CONTEXT_INSECURE,
    "a sandboxed frame (opaque origin) cannot use eID",
    { reason: "ORIGIN_REJECTED" },
  );
}

/** `{"command":"quit","arguments":{}}` (§2.1). */
export const QUIT_COMMAND = Object.freeze({ command: "quit", arguments: Object.freeze({}) });

/**
 * The native command for a page request (§2.1): exactly the required arguments plus `lang` when the
 * page gave a usable one (the host rejects unknown keys). Not for `status`, which sends none.
 */
export function nativeCommand(request, origin) {
  const lang = hostLang(request.options?.lang);
  const withLang = (args) => (lang === undefined ? args : { ...args, lang });
  switch (request.action) {
    case Action.AUTHENTICATE:
      return {
        command: "authenticate",
        arguments: withLang({ challengeNonce: request.challengeNonce, origin }),
      };
    case Action.GET_SIGNING_CERTIFICATE:
      return { command: "get-signing-certificate", arguments: withLang({ origin }) };
    case Action.SIGN:
      return {
        command: "sign",
        arguments: withLang({
          hash: request.hash,
          hashFunction: request.hashFunction,
          certificate: request.certificate,
          origin,
        }),
      };
    default:
      throw new TypeError(`no native command for ${request.action}`);
  }
}

/**
 * The host capability (listed in its first message's `capabilities`) that says it takes the
 * optional `topOrigin` argument. A host refuses arguments it does not know, so it is sent to no
 * other host (host/app/src/host/request.rs).
 */
export const TOP_ORIGIN_CAPABILITY = "topOrigin";

/**
 * The origin of the tab's top-level page, for a request from a frame in it (`sender.frameId`
 * other than 0): the PIN dialog says the site is embedded in that one. `sender.tab.url` is the
 * tab's URL (present when the extension may read that tab, as its content scripts can). Null for
 * the top-level page itself, an unknown frame or tab, or a page with an opaque origin.
 */
export function topLevelOrigin(sender) {
  if (typeof sender?.frameId !== "number" || sender.frameId === 0) return null;
  if (typeof sender.tab?.url !== "string") return null;
  try {
    const origin = new URL(sender.tab.url).origin;
    return isOpaqueOrigin(origin) ? null : origin;
  } catch {
    return null;
  }
}

/**
 * `command` with `topOrigin` when the host lists the capability and the frame has a top-level page
 * (`top`, from topLevelOrigin); else `command` as it is.
 */
export function withTopOrigin(command, top, capabilities) {
  if (top === null || !capabilities.includes(TOP_ORIGIN_CAPABILITY)) return command;
  return { ...command, arguments: { ...command.arguments, topOrigin: top } };
}

/** UTF-8 length of the JSON the browser writes to the host. */
export function nativeMessageSize(message) {
  return new TextEncoder().encode(JSON.stringify(message)).length;
}

/**
 * Browser → host messages are capped at 8192 bytes (§2), checked before sending: the host would
 * reject a larger frame anyway, but without starting it the user sees no flicker. Returns the
 * error (with the host's own reason, §2.5) or null.
 */
export function checkMessageSize(message) {
  const size = nativeMessageSize(message);
  if (size <= NATIVE_MESSAGE_MAX_BYTES) return null;
  return webEidError(
    ErrorCode.ERR_WEBEID_NATIVE_INVALID_ARGUMENT,
    `the request is ${size} bytes, more than the ${NATIVE_MESSAGE_MAX_BYTES} bytes allowed`,
    { reason: "MESSAGE_TOO_LARGE" },
  );
}

// --- versions (§1 "Version check") -----------------------------------------------------------------

// semver.org 2.0.0: MAJOR.MINOR.PATCH, optional -prerelease and +build, no leading zeros, no "v".
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** `{major, minor, patch}` of a strict semver string, or null. */
export function parseSemver(version) {
  if (typeof version !== "string") return null;
  const m = SEMVER.exec(version);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/**
 * Checks `{library, extension, nativeApp}` (§1): all strict semver, else ERR_WEBEID_VERSION_INVALID;
 * the extension's major ≥ the library's and the native app's major ≥ both, else
 * ERR_WEBEID_VERSION_MISMATCH with `requiresUpdate: {extension, nativeApp}` and the three versions.
 * Returns the error or null.
 */
export function checkVersions(versions) {
  const parsed = {};
  for (const part of ["library", "extension", "nativeApp"]) {
    parsed[part] = parseSemver(versions[part]);
    if (parsed[part] === null) {
      return webEidError(
        ErrorCode.ERR_WEBEID_VERSION_INVALID,
        `the ${part} version '${versions[part]}' is not a semantic version`,
        { ...versions },
      );
    }
  }
  const { library, extension, nativeApp } = parsed;
  const requiresUpdate = {
    extension: extension.major < library.major,
    nativeApp: nativeApp.major < library.major || nativeApp.major < extension.major,
  };
  if (!requiresUpdate.extension && !requiresUpdate.nativeApp) return null;
  const what = [requiresUpdate.extension && "extension", requiresUpdate.nativeApp && "native app"]
    .filter(Boolean)
    .join(" and ");
  return webEidError(ErrorCode.ERR_WEBEID_VERSION_MISMATCH, `Update required for eidlink ${what}`, {
    ...versions,
    requiresUpdate,
  });
}

// --- host replies (§2, §2.1, §2.5) -----------------------------------------------------------------

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isText = (v) => typeof v === "string" && v !== "";

/**
 * The host's first message, `{"version": "...", "capabilities": [...]}` (§2; `capabilities` is
 * eidlink's, optional). Returns `{version, capabilities}` or `{error}`: an
 * `{"error"}` message is mapped like any host error, anything else is ERR_WEBEID_NATIVE_UNAVAILABLE
 * (it is not our host speaking).
 */
export function parseHandshake(message) {
  if (isObject(message) && "error" in message) return { error: hostError(message.error) };
  if (isObject(message) && typeof message.version === "string") {
    // eidlink's host lists the optional arguments it takes; an older host or another one, none.
    const listed = Array.isArray(message.capabilities) ? message.capabilities : [];
    return { version: message.version, capabilities: listed.filter((c) => typeof c === "string") };
  }
  return {
    error: webEidError(
      ErrorCode.ERR_WEBEID_NATIVE_UNAVAILABLE,
      "the native application did not start with its version",
    ),
  };
}

const algorithmShape = (v) =>
  isObject(v) && isText(v.cryptoAlgorithm) && isText(v.hashFunction) && isText(v.paddingScheme);

/** Required fields of each command's success reply and their checks (§2.1). */
const REPLY_FIELDS = Object.freeze({
  [Action.AUTHENTICATE]: {
    unverifiedCertificate: isText,
    algorithm: isText,
    signature: isText,
    format: isText,
    appVersion: isText,
  },
  [Action.GET_SIGNING_CERTIFICATE]: {
    certificate: isText,
    supportedSignatureAlgorithms: (v) => Array.isArray(v) && v.length > 0 && v.every(algorithmShape),
  },
  [Action.SIGN]: { signature: isText, signatureAlgorithm: algorithmShape },
});

/**
 * Maps the host's reply to a command to the page message: `{"error"}` → failure with the host's
 * code, message and reason; a success with every required field → success with the host's fields
 * spread in; anything else → ERR_WEBEID_NATIVE_FATAL (Web eID's extension checks the same fields).
 */
export function replyToPage(action, reply) {
  if (isObject(reply) && "error" in reply) return failure(action, hostError(reply.error));
  const fields = REPLY_FIELDS[action];
  const bad = isObject(reply)
    ? Object.keys(fields).find((key) => !fields[key](reply[key]))
    : "(not an object)";
  if (bad !== undefined) {
    return failure(
      action,
      webEidError(
        ErrorCode.ERR_WEBEID_NATIVE_FATAL,
        `unexpected reply from the native application: ${bad} missing or malformed`,
      ),
    );
  }
  return success(action, reply);
}

/**
 * The host's `{"code","message","reason"}` (§2.5) as a page error: a code outside §1's list becomes
 * ERR_WEBEID_NATIVE_FATAL (web-eid.js would turn it into an unknown error); eidlink's `reason` is
 * passed through so that pages can tell NO_CARD from PIN_BLOCKED.
 */
export function hostError(error) {
  const known = isObject(error) && typeof error.code === "string" && error.code in ERROR_NAMES;
  const code = known ? error.code : ErrorCode.ERR_WEBEID_NATIVE_FATAL;
  const message =
    isObject(error) && isText(error.message) ? error.message : "the native application failed";
  const extra = isObject(error) && isText(error.reason) ? { reason: error.reason } : {};
  return webEidError(code, message, extra);
}
