// page/eidlink.js against a fake window (the test plays the content script), with mock timers.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";

import * as eidlink from "../page/eidlink.js";
import { ERROR_NAMES } from "../src/protocol.js";
import { FakeWindow, flush } from "./support/fakes.mjs";

const { createClient, ErrorCode, EidlinkError, LIBRARY_VERSION } = eidlink;
const NONCE = "n".repeat(44);

function announcedWindow(options) {
  const win = new FakeWindow(options);
  win.document.documentElement.setAttribute("data-eidlink-extension", "ready");
  return win;
}

/** The requests the page posted (not the replies the test dispatched). */
const requests = (win) => win.posted.map((p) => p.data);

/** The promise's value or error once queued work has run, or "pending". */
async function peek(promise) {
  const marker = Symbol("pending");
  const settled = promise.then(
    (value) => value,
    (error) => error,
  );
  await flush();
  return Promise.race([settled, Promise.resolve(marker)]).then((v) => (v === marker ? "pending" : v));
}

/** Starts a call whose outcome the test does not look at. */
const ignore = (promise) => promise.catch(() => {});

beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 }));
afterEach(() => mock.timers.reset());

describe("eidlink.js", () => {
  it("exports the 13 error codes and the library version", async () => {
    assert.deepEqual(Object.keys(ErrorCode).sort(), Object.keys(ERROR_NAMES).sort());
    for (const [k, v] of Object.entries(ErrorCode)) assert.equal(k, v);
    // The page module cannot import the extension's modules (sites serve it alone), so its copy of
    // the code → class-name table is held equal to protocol.js's here.
    for (const [code, name] of Object.entries(ERROR_NAMES)) {
      const error = new EidlinkError(code, "m");
      assert.equal(error.name, name, code);
      assert.equal(error.code, code);
    }
    assert.equal(LIBRARY_VERSION, "2.0.0");
    await assert.rejects(eidlink.status(), /browser window/);
  });

  it("posts at once when the content script has announced itself", async () => {
    const win = announcedWindow();
    const client = createClient(win);
    ignore(client.status());
    await flush();
    assert.deepEqual(win.posted, [{ data: { action: "web-eid:status", libraryVersion: "2.0.0" }, targetOrigin: "*" }]);
  });

  it("without the announcement, waits until 1 s after load, then posts anyway", async () => {
    const win = new FakeWindow();
    const client = createClient(win);
    ignore(client.getSigningCertificate({ lang: "nl" }));
    await flush();
    mock.timers.tick(999);
    await flush();
    assert.deepEqual(win.posted, []);
    mock.timers.tick(1);
    await flush();
    assert.deepEqual(requests(win), [
      { action: "web-eid:get-signing-certificate", libraryVersion: "2.0.0", options: { lang: "nl" } },
    ]);
  });

  it("starts as soon as the announcement appears", async () => {
    const win = new FakeWindow();
    const client = createClient(win);
    ignore(client.status());
    mock.timers.tick(200);
    await flush();
    assert.deepEqual(win.posted, []);
    win.document.documentElement.setAttribute("data-eidlink-extension", "ready");
    mock.timers.tick(20);
    await flush();
    assert.equal(win.posted.length, 1);
  });

  it("no ack within 1 s: ERR_WEBEID_EXTENSION_UNAVAILABLE, and the action is free again", async () => {
    const win = announcedWindow();
    const client = createClient(win);
    const first = client.authenticate(NONCE);
    await flush();
    mock.timers.tick(999);
    assert.equal(await peek(first), "pending");
    mock.timers.tick(1);
    const error = await peek(first);
    assert.ok(error instanceof EidlinkError);
    assert.equal(error.code, ErrorCode.ERR_WEBEID_EXTENSION_UNAVAILABLE);
    assert.equal(error.name, "ExtensionUnavailableError");
    ignore(client.authenticate(NONCE));
    await flush();
    assert.equal(win.posted.length, 2);
  });

  it("one pending call per action", async () => {
    const win = announcedWindow();
    const client = createClient(win);
    ignore(client.sign("MIIC", "AA==", "SHA-256"));
    const second = await peek(client.sign("MIIC", "AA==", "SHA-256"));
    assert.equal(second.code, ErrorCode.ERR_WEBEID_ACTION_PENDING);
    ignore(client.status()); // another action is fine
    await flush();
    assert.deepEqual(requests(win).map((m) => m.action), ["web-eid:sign", "web-eid:status"]);
  });

  it("also refuses a second call while the first waits for the extension", async () => {
    const client = createClient(new FakeWindow());
    ignore(client.status());
    assert.equal((await peek(client.status())).code, ErrorCode.ERR_WEBEID_ACTION_PENDING);
  });

  it("resolves with the success fields", async () => {
    const win = announcedWindow();
    const client = createClient(win);
    const result = client.authenticate(NONCE, { userInteractionTimeout: 5000, lang: "fr", other: () => 1 });
    await flush();
    assert.deepEqual(requests(win)[0], {
      action: "web-eid:authenticate",
      libraryVersion: "2.0.0",
      challengeNonce: NONCE,
      options: { userInteractionTimeout: 5000, lang: "fr" },
    });
    win.dispatch({ action: "web-eid:authenticate-ack" });
    await flush();
    mock.timers.tick(2000); // the ack stopped the 1-s timer
    win.dispatch({
      action: "web-eid:authenticate-success",
      unverifiedCertificate: "MIIC",
      algorithm: "ES384",
      signature: "c2ln",
      format: "web-eid:1.0",
      appVersion: "eidlink",
      extra: "dropped",
    });
    assert.deepEqual(await result, {
      unverifiedCertificate: "MIIC",
      algorithm: "ES384",
      signature: "c2ln",
      format: "web-eid:1.0",
      appVersion: "eidlink",
    });
  });

  it("rejects with an Error carrying code, message, reason and requiresUpdate", async () => {
    const win = announcedWindow();
    const client = createClient(win);
    const result = client.status();
    await flush();
    win.dispatch({ action: "web-eid:status-ack" });
    win.dispatch({
      action: "web-eid:status-failure",
      error: {
        name: "VersionMismatchError",
        code: "ERR_WEBEID_VERSION_MISMATCH",
        message: "Update required for eidlink native app",
        requiresUpdate: { extension: false, nativeApp: true },
        nativeApp: "1.0.0",
        reason: "SOME_REASON",
        stack: "not ours",
      },
    });
    const error = await peek(result);
    assert.ok(error instanceof Error);
    assert.equal(error.name, "VersionMismatchError");
    assert.equal(error.code, "ERR_WEBEID_VERSION_MISMATCH");
    assert.equal(error.message, "Update required for eidlink native app");
    assert.deepEqual(error.requiresUpdate, { extension: false, nativeApp: true });
    assert.equal(error.reason, "SOME_REASON");
    assert.equal(error.nativeApp, "1.0.0");
    assert.equal(error.library, "2.0.0", "status errors carry the library version");
    assert.notEqual(error.stack, "not ours");
  });

  it("maps unknown codes to ERR_WEBEID_UNKNOWN_ERROR", async () => {
    const win = announcedWindow();
    const client = createClient(win);
    const result = client.getSigningCertificate();
    await flush();
    win.dispatch({ action: "web-eid:get-signing-certificate-failure", error: { code: "ERR_OTHER", message: "m" } });
    const error = await peek(result);
    assert.equal(error.code, ErrorCode.ERR_WEBEID_UNKNOWN_ERROR);
    assert.equal(error.message, "m");
  });

  it("no reply: ERR_WEBEID_ACTION_TIMEOUT after 1 s + 5 s + userInteractionTimeout + 1 s", async () => {
    const win = announcedWindow();
    const client = createClient(win);
    const result = client.authenticate(NONCE, { userInteractionTimeout: 3000 });
    await flush();
    win.dispatch({ action: "web-eid:authenticate-ack" });
    await flush();
    mock.timers.tick(9999);
    assert.equal(await peek(result), "pending");
    mock.timers.tick(1);
    assert.equal((await peek(result)).code, ErrorCode.ERR_WEBEID_ACTION_TIMEOUT);
  });

  it("ignores replies from other windows or origins", async () => {
    const win = announcedWindow({ origin: "https://site.example" });
    const client = createClient(win);
    const result = client.status();
    await flush();
    const reply = { action: "web-eid:status-success", library: "x", extension: "y", nativeApp: "z" };
    win.dispatch(reply, { source: new FakeWindow() });
    win.dispatch(reply, { origin: "https://evil.example" });
    assert.equal(await peek(result), "pending");
    win.dispatch(reply);
    assert.deepEqual(await result, { library: "x", extension: "y", nativeApp: "z" });
  });

  it("refuses in a non-secure context without posting", async () => {
    const win = announcedWindow({ origin: "http://site.example", secure: false });
    const error = await peek(createClient(win).status());
    assert.equal(error.code, ErrorCode.ERR_WEBEID_CONTEXT_INSECURE);
    assert.deepEqual(win.posted, []);
  });

  it("refuses missing parameters without posting", async () => {
    const win = announcedWindow();
    const client = createClient(win);
    for (const call of [
      () => client.authenticate(""),
      () => client.sign(undefined, "AA==", "SHA-256"),
      () => client.sign("MIIC", "", "SHA-256"),
      () => client.sign("MIIC", "AA==", null),
    ]) {
      assert.equal((await peek(call())).code, ErrorCode.ERR_WEBEID_MISSING_PARAMETER);
    }
    assert.deepEqual(win.posted, []);
  });
});
