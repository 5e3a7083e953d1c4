// src/content.js, run in a fake window with node's vm module (protocol.md §1 content-script rules).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { REQUEST_PORT_NAME } from "../src/config.js";
import { ERROR_NAMES } from "../src/protocol.js";
import { FakeWindow, flush, loadContentScript } from "./support/fakes.mjs";

const NONCE = "n".repeat(44);

/** A window with the content script; the test answers runtime.sendMessage through `calls`. */
function setup(windowOptions) {
  const win = new FakeWindow(windowOptions);
  const calls = [];
  const runtime = loadContentScript(win, (message, callback) => calls.push({ message, callback }));
  // Answers call i as the background would (or with runtime.lastError set).
  const answer = (i, response, lastError) => {
    runtime.lastError = lastError === undefined ? undefined : { message: lastError };
    calls[i].callback(response);
    runtime.lastError = undefined;
  };
  return { win, calls, answer, runtime };
}

describe("content script", () => {
  it("announces itself on the document element", () => {
    const { win } = setup();
    assert.equal(win.document.documentElement.getAttribute("data-eidlink-extension"), "ready");
  });

  it("acks at once, forwards, then posts exactly one reply, all to event.origin", async () => {
    const { win, calls, answer } = setup({ origin: "https://site.example" });
    win.dispatch({ action: "web-eid:authenticate", libraryVersion: "2.1.0", challengeNonce: NONCE });
    await flush();
    // The ack is out before the background has answered anything.
    assert.deepEqual(win.posted, [{ data: { action: "web-eid:authenticate-ack" }, targetOrigin: "https://site.example" }]);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0].message, { action: "web-eid:authenticate", libraryVersion: "2.1.0", challengeNonce: NONCE });

    answer(0, { action: "web-eid:authenticate-success", signature: "c2ln" });
    await flush();
    assert.deepEqual(win.posted.slice(1), [
      { data: { action: "web-eid:authenticate-success", signature: "c2ln" }, targetOrigin: "https://site.example" },
    ]);
    assert.equal(calls.length, 1, "its own ack and success are not taken as requests");
  });

  it("ignores messages from other windows, other prefixes and the response kinds", async () => {
    const { win, calls } = setup();
    const other = new FakeWindow({ origin: "https://evil.example" });
    win.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" }, { source: other, origin: "https://evil.example" });
    win.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" }, { source: null });
    for (const action of [
      "web-eid:status-ack",
      "web-eid:status-success",
      "web-eid:status-failure",
      "web-eid:warning",
      "web-eid:unknown-action",
      "webeid:status",
      "status",
    ]) {
      win.dispatch({ action, libraryVersion: "2.0.0" });
    }
    for (const data of [null, undefined, "web-eid:status", 42, { action: 7 }, { type: "web-eid:status" }]) {
      win.dispatch(data);
    }
    await flush();
    assert.deepEqual(win.posted, []);
    assert.deepEqual(calls, []);
  });

  it("refuses in a non-secure context: ack, then ERR_WEBEID_CONTEXT_INSECURE, nothing forwarded", async () => {
    const { win, calls } = setup({ origin: "http://127.0.0.1:8080", secure: false });
    win.dispatch({ action: "web-eid:sign", libraryVersion: "2.0.0" });
    await flush();
    assert.deepEqual(calls, []);
    assert.deepEqual(win.actions(), ["web-eid:sign-ack", "web-eid:sign-failure"]);
    assert.deepEqual(win.posted[1].data.error, {
      name: "ContextInsecureError",
      message: "Secure context required",
      code: "ERR_WEBEID_CONTEXT_INSECURE",
    });
    assert.ok(win.posted.every((p) => p.targetOrigin === "http://127.0.0.1:8080"));
  });

  it("forwards only the protocol's fields, with primitive values", async () => {
    const { win, calls } = setup();
    win.dispatch({
      action: "web-eid:sign",
      libraryVersion: "2.0.0",
      certificate: "MIIC",
      hash: "AA==",
      hashFunction: "SHA-256",
      options: { lang: "fr", userInteractionTimeout: 5000, evil: "x" },
      extra: { deep: true },
      challengeNonce: { not: "a string" },
    });
    await flush();
    assert.deepEqual(calls[0].message, {
      action: "web-eid:sign",
      libraryVersion: "2.0.0",
      certificate: "MIIC",
      hash: "AA==",
      hashFunction: "SHA-256",
      options: { userInteractionTimeout: 5000, lang: "fr" },
    });
  });

  it("fails with ERR_WEBEID_UNKNOWN_ERROR when the background does not answer properly", async () => {
    const { win, answer } = setup();
    win.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" });
    win.dispatch({ action: "web-eid:authenticate", libraryVersion: "2.0.0", challengeNonce: NONCE });
    await flush();
    answer(0, undefined, "The message port closed before a response was received.");
    answer(1, { action: "web-eid:status-success" }); // another action's answer
    await flush();
    const failures = win.posted.filter((p) => p.data.action.endsWith("-failure")).map((p) => p.data);
    assert.deepEqual(
      failures.map((f) => [f.action, f.error.code]),
      [
        ["web-eid:status-failure", "ERR_WEBEID_UNKNOWN_ERROR"],
        ["web-eid:authenticate-failure", "ERR_WEBEID_UNKNOWN_ERROR"],
      ],
    );
    assert.match(failures[0].error.message, /message port closed/);
  });

  it("reports ERR_WEBEID_EXTENSION_UNAVAILABLE when the extension context is gone", async () => {
    const win = new FakeWindow();
    loadContentScript(win, () => {
      throw new Error("Extension context invalidated.");
    });
    win.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" });
    await flush();
    assert.deepEqual(win.actions(), ["web-eid:status-ack", "web-eid:status-failure"]);
    assert.equal(win.posted[1].data.error.code, "ERR_WEBEID_EXTENSION_UNAVAILABLE");
  });

  it("routes concurrent replies to the request that asked", async () => {
    const { win, calls, answer } = setup();
    win.dispatch({ action: "web-eid:get-signing-certificate", libraryVersion: "2.0.0" });
    win.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" });
    await flush();
    answer(1, { action: "web-eid:status-success", library: "2.0.0", extension: "e", nativeApp: "n" });
    answer(0, { action: "web-eid:get-signing-certificate-failure", error: { code: "ERR_WEBEID_USER_CANCELLED" } });
    await flush();
    assert.equal(calls.length, 2);
    assert.deepEqual(win.actions(), [
      "web-eid:get-signing-certificate-ack",
      "web-eid:status-ack",
      "web-eid:status-success",
      "web-eid:get-signing-certificate-failure",
    ]);
  });

  it("refuses a sandboxed frame (opaque origin): ack, ERR_WEBEID_CONTEXT_INSECURE, nothing forwarded", async () => {
    // Served by the hosting site (its URL's origin) with `sandbox`: its own origin is "null".
    for (const action of ["web-eid:status", "web-eid:authenticate"]) {
      const { win, calls } = setup({ origin: "https://site.example", windowOrigin: "null" });
      win.dispatch({ action, libraryVersion: "2.0.0", challengeNonce: NONCE });
      await flush();
      assert.deepEqual(calls, [], "nothing reaches the background");
      assert.deepEqual(win.actions(), [`${action}-ack`, `${action}-failure`]);
      assert.deepEqual(win.posted[1].data.error, {
        name: "ContextInsecureError",
        message: "a sandboxed frame (opaque origin) cannot use eID",
        code: "ERR_WEBEID_CONTEXT_INSECURE",
        reason: "ORIGIN_REJECTED",
      });
      // "null" cannot be a target origin; "*" on the frame's own window reaches only the frame.
      assert.ok(win.posted.every((p) => p.targetOrigin === "*"));
    }
  });

  it("each request has its own port, named as background.js expects, closed after the reply", async () => {
    const { win, calls, answer, runtime } = setup();
    win.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" });
    win.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" });
    await flush();
    assert.equal(runtime.ports.length, 2);
    assert.ok(runtime.ports.every((p) => p.name === REQUEST_PORT_NAME));
    answer(0, { action: "web-eid:status-success" });
    await flush();
    assert.deepEqual(
      runtime.ports.map((p) => p.disconnected),
      [true, false],
    );
    assert.equal(calls.length, 2);
  });

  it("uses web-eid.js's error names, as protocol.js does", async () => {
    const insecure = setup({ secure: false });
    insecure.win.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" });
    const unknown = setup();
    unknown.win.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" });
    const gone = new FakeWindow();
    loadContentScript(gone, () => {
      throw new Error("Extension context invalidated.");
    });
    gone.dispatch({ action: "web-eid:status", libraryVersion: "2.0.0" });
    await flush();
    unknown.answer(0, null);
    await flush();
    const errors = [insecure.win, unknown.win, gone].map((w) => w.posted[1].data.error);
    assert.deepEqual(
      errors.map((e) => e.code),
      ["ERR_WEBEID_CONTEXT_INSECURE", "ERR_WEBEID_UNKNOWN_ERROR", "ERR_WEBEID_EXTENSION_UNAVAILABLE"],
    );
    for (const error of errors) assert.equal(error.name, ERROR_NAMES[error.code], error.code);
  });
});
