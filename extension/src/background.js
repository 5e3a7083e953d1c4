// Background: the Chromium service worker and the Firefox background script (the same file, an ES
// module in both). It only wires chrome.runtime to actions.js. It keeps no state between requests:
// Chromium may stop the service worker whenever no request is running (an open native port keeps it
// alive while one is).
//
// The chrome.* namespace with callbacks is used because it behaves the same in both browsers
// (docs/test-infra.md §2: Firefox's browser.* signatures differ).

import { handleRequest } from "./actions.js";
import { ErrorCode, failure, isRequestAction, webEidError } from "./protocol.js";

const runtime = globalThis.chrome.runtime;

const env = {
  connectNative: (name) => runtime.connectNative(name),
  lastError: () => runtime.lastError?.message,
};

// Registered synchronously at the top level, so that a message wakes a stopped service worker.
runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Only our own content scripts (onMessage never sees other extensions; onMessageExternal is
  // not used), only page requests the content script forwarded.
  if (sender.id !== runtime.id || !isRequestAction(message?.action)) return false;
  handleRequest(message, sender, env).then(sendResponse, (e) =>
    sendResponse(
      failure(message.action, webEidError(ErrorCode.ERR_WEBEID_UNKNOWN_ERROR, String(e?.message ?? e))),
    ),
  );
  return true; // sendResponse is called asynchronously
});
