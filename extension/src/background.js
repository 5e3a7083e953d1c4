// Background: the Chromium service worker and the Firefox background script (the same file, an ES
// module in both). It only wires chrome.runtime to actions.js. Its one state is the request limits
// (limits.js: one request per tab, a few hosts in all), held in memory only while native ports are
// open: Chromium may stop the service worker whenever no request is running (an open native port
// keeps it alive while one is), and then nothing is running and nothing need be remembered.
//
// Each page request comes on its own runtime port (REQUEST_PORT_NAME) that content.js opens: the
// request is its one message, the reply the one message back. When the frame navigates or its tab
// closes, the browser closes the port, and the request is aborted: the host is stopped (its dialog
// closes) and the tab's slot is free again.
//
// The chrome.* namespace with callbacks is used because it behaves the same in both browsers
// (docs/test-infra.md §2: Firefox's browser.* signatures differ).

import { handleRequest } from "./actions.js";
import { REQUEST_PORT_NAME } from "./config.js";
import { RequestLimits } from "./limits.js";
import { ErrorCode, failure, isRequestAction, webEidError } from "./protocol.js";

const runtime = globalThis.chrome.runtime;

const env = {
  connectNative: (name) => runtime.connectNative(name),
  lastError: () => runtime.lastError?.message,
  limits: new RequestLimits(),
};

// Registered synchronously at the top level, so that a connection wakes a stopped service worker.
runtime.onConnect.addListener((port) => {
  // Only our own content scripts (onConnect never sees other extensions; onConnectExternal is not
  // used), only our request ports.
  if (port.sender?.id !== runtime.id || port.name !== REQUEST_PORT_NAME) {
    port.disconnect();
    return;
  }
  const gone = new AbortController();
  let started = false;
  let finished = false;
  port.onDisconnect.addListener(() => {
    void runtime.lastError; // read, so that Chromium does not log "Unchecked runtime.lastError"
    if (!finished) gone.abort();
  });
  port.onMessage.addListener((message) => {
    // One request per port: a second message is not a request.
    if (started) return;
    started = true;
    if (!isRequestAction(message?.action)) {
      finished = true;
      port.disconnect();
      return;
    }
    handleRequest(message, port.sender, env, { signal: gone.signal })
      .catch((e) =>
        failure(message.action, webEidError(ErrorCode.ERR_WEBEID_UNKNOWN_ERROR, String(e?.message ?? e))),
      )
      .then((reply) => {
        finished = true;
        if (gone.signal.aborted) return;
        try {
          port.postMessage(reply);
          port.disconnect();
        } catch {
          // the page went away just now: nobody to answer
        }
      });
  });
});
