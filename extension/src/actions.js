// One page request, start to finish: check it, start the host, check versions, send the command,
// map the reply (protocol.md §1 and §2). Each call owns its port and its timers and keeps nothing
// after it returns, so the Chromium service worker may be stopped between requests and two tabs
// never share anything. The one thing calls share is env.limits (limits.js): one request per tab,
// a few hosts in all, each slot held exactly while its port is open. No browser globals:
// background.js passes the chrome.runtime functions.

import {
  EXTENSION_VERSION,
  NATIVE_HANDSHAKE_TIMEOUT_MS,
  NATIVE_HOST_NAME,
  QUIT_GRACE_MS,
} from "./config.js";
import { tabKey } from "./limits.js";
import { NativeSession } from "./native.js";
import {
  Action,
  ErrorCode,
  QUIT_COMMAND,
  checkMessageSize,
  checkRequest,
  checkVersions,
  failure,
  isOpaqueOrigin,
  nativeCommand,
  opaqueOriginError,
  parseHandshake,
  replyToPage,
  senderOrigin,
  success,
  topLevelOrigin,
  userInteractionTimeout,
  webEidError,
  withTopOrigin,
} from "./protocol.js";

/**
 * @typedef {object} Env
 * @property {(name: string) => object} connectNative  chrome.runtime.connectNative
 * @property {() => (string | undefined)} lastError    chrome.runtime.lastError?.message
 * @property {string} [extensionVersion]               defaults to EXTENSION_VERSION
 * @property {import("./limits.js").RequestLimits} [limits]  the shared limits (none: no limits)
 */

/**
 * Answers one page request (already filtered by the content script) with the page message to post:
 * `{action: "web-eid:X-success", ...}` or `{action: "web-eid:X-failure", error}`. Never rejects.
 * @param {object} request the page's message
 * @param {{origin?: string, url?: string, frameId?: number, tab?: {id: number, url?: string}}} sender
 *   runtime.MessageSender of the content script
 * @param {Env} env
 * @param {{signal?: AbortSignal}} [options] `signal`: the page went away (its port closed); the
 *   host is stopped and the request ends with a failure nobody reads
 */
export async function handleRequest(request, sender, env, { signal } = {}) {
  const action = request?.action;
  const extension = env.extensionVersion ?? EXTENSION_VERSION;
  const fail = (error) =>
    failure(
      action,
      // status failures carry the extension version, as Web eID's (web-eid.js adds the library's).
      action === Action.STATUS ? { extension, ...error } : error,
    );

  const invalid = checkRequest(request);
  if (invalid) return fail(invalid);

  // A sandboxed frame: refused whatever it asks (even status starts a host). Its URL's origin is
  // the hosting site's, which senderOrigin must not fall back to.
  if (typeof sender?.origin === "string" && sender.origin !== "" && isOpaqueOrigin(sender.origin)) {
    return fail(opaqueOriginError());
  }

  let command = null;
  if (action !== Action.STATUS) {
    const origin = senderOrigin(sender);
    if (origin === null) {
      return fail(
        webEidError(
          ErrorCode.ERR_WEBEID_NATIVE_INVALID_ARGUMENT,
          "the page has no origin that can be passed to the native application",
          { reason: "ORIGIN_REJECTED" },
        ),
      );
    }
    command = nativeCommand(request, origin);
    const tooLarge = checkMessageSize(command);
    if (tooLarge) return fail(tooLarge);
  }

  if (signal?.aborted) return fail(pageGone());
  // Checked last, just before the host starts: a request refused above never held a slot.
  const ticket = env.limits ? env.limits.take(tabKey(sender)) : { answered() {}, closed() {} };
  if (ticket.error) return fail(ticket.error);

  let session;
  try {
    session = new NativeSession(env.connectNative, NATIVE_HOST_NAME, env.lastError);
  } catch (e) {
    ticket.closed();
    return fail(webEidError(ErrorCode.ERR_WEBEID_NATIVE_UNAVAILABLE, String(e?.message ?? e)));
  }
  const onAbort = () => session.abort();
  signal?.addEventListener("abort", onAbort, { once: true });

  let quitting = false;
  try {
    // §2: the host speaks first, with its version, within the handshake timeout.
    const hello = await session.next(NATIVE_HANDSHAKE_TIMEOUT_MS);
    if (hello.type === "aborted") return fail(pageGone());
    if (hello.type === "disconnect") {
      return fail(webEidError(ErrorCode.ERR_WEBEID_NATIVE_UNAVAILABLE, hello.error));
    }
    if (hello.type === "timeout") {
      return fail(
        webEidError(
          ErrorCode.ERR_WEBEID_NATIVE_UNAVAILABLE,
          `the native application did not answer within ${NATIVE_HANDSHAKE_TIMEOUT_MS} ms`,
        ),
      );
    }
    const handshake = parseHandshake(hello.message);
    if (handshake.error) return fail(handshake.error);

    const versions = { library: request.libraryVersion, extension, nativeApp: handshake.version };
    const mismatch = checkVersions(versions);
    if (mismatch) return fail(mismatch);

    if (action === Action.STATUS) {
      // The host waits for one command: ask it to quit, but do not keep the page waiting for `{}`.
      // The tab is free at once (a page often asks status, then authenticate); the host's slot
      // only when its port is closed.
      quitting = true;
      quit(session, ticket);
      return success(action, versions);
    }

    // A frame tells its top-level page, for the dialog's "embedded in", to a host that takes it.
    const full = withTopOrigin(command, topLevelOrigin(sender), handshake.capabilities);
    const fullTooLarge = full === command ? null : checkMessageSize(full);
    if (fullTooLarge) return fail(fullTooLarge);

    try {
      session.post(full);
    } catch (e) {
      return fail(webEidError(ErrorCode.ERR_WEBEID_NATIVE_FATAL, String(e?.message ?? e)));
    }
    // The user's time starts when the host has the command (as Web eID's extension).
    const timeout = userInteractionTimeout(request.options);
    const reply = await session.next(timeout);
    if (reply.type === "aborted") return fail(pageGone());
    if (reply.type === "timeout") {
      // Closing the port closes the host's stdin: it closes its dialog and exits (§2).
      return fail(
        webEidError(ErrorCode.ERR_WEBEID_USER_TIMEOUT, `no user action within ${timeout} ms`),
      );
    }
    if (reply.type === "disconnect") {
      return fail(
        webEidError(
          ErrorCode.ERR_WEBEID_NATIVE_FATAL,
          `the native application exited without a reply: ${reply.error}`,
        ),
      );
    }
    return replyToPage(action, reply.message);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    ticket.answered();
    if (!quitting) {
      session.close();
      ticket.closed();
    }
  }
}

/** The failure of a request whose page went away: nobody reads it, it only ends the call. */
function pageGone() {
  return webEidError(ErrorCode.ERR_WEBEID_UNKNOWN_ERROR, "the page closed or navigated away");
}

/** Sends `quit`, then closes the port on `{}`, on the host's exit or after a grace period. */
function quit(session, ticket) {
  const close = () => {
    session.close();
    ticket.closed();
  };
  try {
    session.post(QUIT_COMMAND);
  } catch {
    close();
    return;
  }
  session.next(QUIT_GRACE_MS).then(close);
}
