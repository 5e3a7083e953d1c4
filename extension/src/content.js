// Content script: the page side of the Web eID protocol (protocol.md §1). It runs in every frame of
// https pages (and http://localhost, http://127.0.0.1) at document_start. It is a classic script
// (MV3 content scripts cannot be ES modules), so it is self-contained; test/content.test.mjs runs
// it in a fake window with node's vm module.
//
// For each page request `{action: "web-eid:X", ...}` it posts `web-eid:X-ack` at once, then exactly
// one `web-eid:X-success` or `web-eid:X-failure`, always to `event.origin` on this window.
// Each request goes to the background on a runtime port of its own, which carries the request and
// its one reply, so a reply can only reach the frame and the request that asked for it; and when
// the frame navigates or its tab closes, the browser closes the port, which stops the request's
// host and frees the tab's one request slot (background.js).
//
// Announcement: it sets the attribute `data-eidlink-extension="ready"` on the document element, so
// that eidlink.js can start without Web eID's fixed 1-second wait (page/eidlink.js). web-eid.js
// ignores it.
(() => {
  "use strict";

  const PREFIX = "web-eid:";
  const ACTIONS = ["status", "authenticate", "get-signing-certificate", "sign"].map((a) => PREFIX + a);
  // Error names as in web-eid.js (the same table as src/protocol.js ERROR_NAMES; a test checks it).
  const ERRORS = {
    ERR_WEBEID_CONTEXT_INSECURE: "ContextInsecureError",
    ERR_WEBEID_EXTENSION_UNAVAILABLE: "ExtensionUnavailableError",
    ERR_WEBEID_UNKNOWN_ERROR: "UnknownError",
  };

  const runtime = globalThis.chrome?.runtime;
  // The same name as REQUEST_PORT_NAME in src/config.js (a test checks it).
  const REQUEST_PORT_NAME = "web-eid-request";

  const failure = (action, code, message, extra = {}) => ({
    action: `${action}-failure`,
    error: { ...extra, name: ERRORS[code], message, code },
  });

  // Only what the background uses, with primitive values: the page's object is not forwarded as is.
  function copyRequest(data) {
    const primitive = (v) => (["string", "number", "boolean"].includes(typeof v) ? v : undefined);
    const request = { action: data.action };
    for (const key of ["libraryVersion", "challengeNonce", "certificate", "hash", "hashFunction"]) {
      const value = primitive(data[key]);
      if (value !== undefined) request[key] = value;
    }
    const options = data.options;
    if (options !== null && typeof options === "object") {
      request.options = {};
      for (const key of ["userInteractionTimeout", "lang"]) {
        const value = primitive(options[key]);
        if (value !== undefined) request.options[key] = value;
      }
    }
    return request;
  }

  // The background's answer must be this action's success or failure; anything else is a bug.
  function checkedReply(action, response) {
    const kind = response?.action;
    if (kind === `${action}-success` || kind === `${action}-failure`) return response;
    return failure(action, "ERR_WEBEID_UNKNOWN_ERROR", "the extension gave no valid answer");
  }

  window.addEventListener("message", (event) => {
    // §1: only this window's own messages, only request actions. Our own -ack/-success/-failure
    // posts, web-eid:warning and unknown actions come through here too and are ignored.
    if (event.source !== window) return;
    const data = event.data;
    const action = data !== null && typeof data === "object" ? data.action : undefined;
    if (!ACTIONS.includes(action)) return;

    const origin = event.origin;
    // A sandboxed frame (`sandbox` attribute or `CSP: sandbox`) has an opaque origin, "null": it
    // has no name of its own to use eID in (its URL's origin is the hosting site's), so it is
    // refused before anything reaches the background. "null" cannot be targeted; its refusal (no
    // secret in it) goes to "*" on this same window, so that the page learns why.
    const opaque = origin === "null" || window.origin === "null";
    const reply = (message) => {
      try {
        window.postMessage(message, opaque ? "*" : origin);
      } catch {
        // not deliverable: nobody can be answered
      }
    };

    // The ack first, always (the library gives up after 1 s without one).
    reply({ action: `${action}-ack` });

    if (opaque) {
      // The same error as the background's (protocol.js opaqueOriginError).
      reply(
        failure(action, "ERR_WEBEID_CONTEXT_INSECURE", "a sandboxed frame (opaque origin) cannot use eID", {
          reason: "ORIGIN_REJECTED",
        }),
      );
      return;
    }
    if (!window.isSecureContext) {
      reply(failure(action, "ERR_WEBEID_CONTEXT_INSECURE", "Secure context required"));
      return;
    }

    let answered = false;
    try {
      const port = runtime.connect({ name: REQUEST_PORT_NAME });
      port.onMessage.addListener((response) => {
        if (answered) return;
        answered = true;
        reply(checkedReply(action, response));
        port.disconnect();
      });
      port.onDisconnect.addListener((p) => {
        // Closed without a reply: the background failed (or was stopped) mid-request. Chromium
        // says why in runtime.lastError (only set here), Firefox in port.error.
        const why = runtime.lastError?.message ?? p?.error?.message;
        if (answered) return;
        answered = true;
        reply(failure(action, "ERR_WEBEID_UNKNOWN_ERROR", `the extension did not answer${why ? `: ${why}` : ""}`));
      });
      port.postMessage(copyRequest(data));
    } catch (e) {
      if (answered) return;
      answered = true;
      // "Extension context invalidated": the extension was updated or reloaded under this page.
      reply(
        failure(
          action,
          "ERR_WEBEID_EXTENSION_UNAVAILABLE",
          `the extension is not available (reload the page): ${e?.message ?? e}`,
        ),
      );
    }
  });

  // The announcement for eidlink.js (see the header). document_start runs after the document
  // element exists in Chromium and Firefox; the check covers documents without one.
  document.documentElement?.setAttribute("data-eidlink-extension", "ready");
})();
