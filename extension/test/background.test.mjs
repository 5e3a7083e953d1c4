// src/background.js with a fake chrome.runtime: requests come on runtime ports (one per request, as
// content.js opens them), native ports are FakePorts the test plays the host on. The module is
// loaded once (it registers its listener at import), so its request limits are shared by all the
// tests here, as by all tabs in a browser: each test ends its requests.
import assert from "node:assert/strict";
import { afterEach, before, beforeEach, describe, it, mock } from "node:test";

import { REQUEST_PORT_NAME } from "../src/config.js";
import { FakeRuntime, flush, NONCE, TOKEN } from "./support/fakes.mjs";

const HOST_VERSION = "2.0.0+eidlink-0.1.0";
const AUTHENTICATE = { action: "web-eid:authenticate", libraryVersion: "2.0.0", challengeNonce: NONCE };

/** The background's end of a runtime port a content script opened. */
class PagePort {
  constructor(name, sender) {
    this.name = name;
    this.sender = sender;
    this.replies = [];
    this.disconnected = false;
    this.messageListeners = [];
    this.disconnectListeners = [];
    this.onMessage = { addListener: (l) => this.messageListeners.push(l) };
    this.onDisconnect = { addListener: (l) => this.disconnectListeners.push(l) };
  }

  postMessage(message) {
    if (this.disconnected) throw new Error("Attempting to use a disconnected port object");
    this.replies.push(JSON.parse(JSON.stringify(message)));
  }

  /** The background closes it (no onDisconnect for its own disconnect, as in browsers). */
  disconnect() {
    this.disconnected = true;
  }

  pageSends(message) {
    for (const l of this.messageListeners) l(JSON.parse(JSON.stringify(message)));
  }

  /** The frame navigated or its tab closed: the browser closes the port. */
  pageGone() {
    this.disconnected = true;
    for (const l of this.disconnectListeners) l(this);
  }
}

const runtime = new FakeRuntime();
const connectListeners = [];

/** A content script of tab `tabId` opens a request port and sends `request` on it. */
function request(tabId, message = AUTHENTICATE, { name = REQUEST_PORT_NAME, id = runtime.id } = {}) {
  const origin = "https://site.example";
  const port = new PagePort(name, { id, origin, url: `${origin}/`, tab: { id: tabId }, frameId: 0 });
  for (const l of connectListeners) l(port);
  port.pageSends(message);
  return port;
}

before(async () => {
  globalThis.chrome = {
    runtime: {
      id: runtime.id,
      get lastError() {
        return runtime.lastError;
      },
      connectNative: (name) => runtime.connectNative(name),
      onConnect: { addListener: (l) => connectListeners.push(l) },
    },
  };
  await import("../src/background.js");
});

beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout"] });
  runtime.ports.length = 0;
});
afterEach(() => mock.timers.reset());

describe("background.js", () => {
  it("answers a request on its port, then closes the port", async () => {
    const page = request(1);
    await flush();
    const [host] = runtime.ports;
    host.hostSends({ version: HOST_VERSION });
    await flush();
    assert.equal(host.sent[0].arguments.origin, "https://site.example");
    host.hostSends(TOKEN);
    await flush();
    assert.deepEqual(page.replies, [{ action: "web-eid:authenticate-success", ...TOKEN }]);
    assert.equal(page.disconnected, true);
  });

  it("50 requests from one tab in a loop: one host; 49 ERR_WEBEID_ACTION_PENDING", async () => {
    const pages = Array.from({ length: 50 }, () => request(2));
    await flush();
    assert.equal(runtime.ports.length, 1, "one host");
    const refused = pages.slice(1).map((p) => p.replies[0]?.error?.code);
    assert.deepEqual(refused, Array(49).fill("ERR_WEBEID_ACTION_PENDING"));
    assert.deepEqual(pages[0].replies, [], "the first one is still running");
    runtime.ports[0].hostExits(runtime, "Native host has exited.");
    await flush();
    assert.equal(pages[0].replies.length, 1);
  });

  it("the tab closes mid-request: the host is stopped and the tab may ask again", async () => {
    const page = request(3);
    await flush();
    const [host] = runtime.ports;
    host.hostSends({ version: HOST_VERSION });
    await flush();
    assert.equal(host.sent.length, 1, "the dialog is open");
    page.pageGone();
    await flush();
    assert.equal(host.disconnected, true, "closing the native port ends the host and its dialog");
    const again = request(3);
    await flush();
    assert.equal(runtime.ports.length, 2, "the tab's slot was freed");
    again.pageGone();
    await flush();
    assert.equal(runtime.ports[1].disconnected, true);
  });

  it("ignores ports of other names or senders and messages that are not requests", async () => {
    const stranger = request(4, AUTHENTICATE, { id: "another-extension" });
    const other = request(4, AUTHENTICATE, { name: "something-else" });
    const junk = request(4, { action: "web-eid:authenticate-success" });
    await flush();
    assert.equal(runtime.ports.length, 0);
    for (const port of [stranger, other, junk]) {
      assert.deepEqual(port.replies, []);
      assert.equal(port.disconnected, true);
    }
  });
});
