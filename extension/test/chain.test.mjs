// The whole chain in node: eidlink.js → content.js (vm) → background logic (handleRequest) → a
// scripted host on a fake native port, and back. Real timers; the host answers at once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createClient } from "../page/eidlink.js";
import { handleRequest } from "../src/actions.js";
import { EXTENSION_VERSION } from "../src/config.js";
import { FakeRuntime, FakeWindow, loadContentScript, NONCE, TOKEN } from "./support/fakes.mjs";


/**
 * A page at `origin` with the content script, whose messages go to handleRequest the way
 * background.js sends them; `host(command)` answers each command on its own port.
 */
function browser(origin, host) {
  const runtime = new FakeRuntime();
  const seen = [];
  runtime.onConnect = (port) => {
    if (host === null) {
      setImmediate(() => port.hostExits(runtime, "Specified native messaging host not found."));
      return;
    }
    setImmediate(() => port.hostSends({ version: "2.0.0+eidlink-0.1.0" }));
    const post = port.postMessage.bind(port);
    port.postMessage = (message) => {
      post(message);
      seen.push(message);
      setImmediate(() => port.hostSends(host(message)));
    };
  };
  const win = new FakeWindow({ origin });
  loadContentScript(win, (message, callback) => {
    const sender = { id: runtime.id, origin, url: `${origin}/page` };
    handleRequest(message, sender, runtime.env()).then(callback);
  });
  return { win, seen, client: createClient(win) };
}

describe("page → content script → background → host", () => {
  it("authenticate resolves with the host's token; the host saw the page's origin", async () => {
    const { client, seen } = browser("https://site.example", () => TOKEN);
    assert.deepEqual(await client.authenticate(NONCE, { lang: "fr" }), TOKEN);
    assert.deepEqual(seen, [
      { command: "authenticate", arguments: { challengeNonce: NONCE, origin: "https://site.example", lang: "fr" } },
    ]);
  });

  it("status resolves with the three versions", async () => {
    const { client } = browser("https://site.example", () => ({}));
    assert.deepEqual(await client.status(), {
      library: "2.0.0",
      extension: EXTENSION_VERSION,
      nativeApp: "2.0.0+eidlink-0.1.0",
    });
  });

  it("a host error reaches the page with its reason", async () => {
    const { client } = browser("https://site.example", () => ({
      error: { code: "ERR_WEBEID_USER_CANCELLED", message: "Cancelled by the user", reason: "USER_CANCELLED" },
    }));
    await assert.rejects(client.sign("MIIC", "A".repeat(44), "SHA-256"), {
      name: "UserCancelledError",
      code: "ERR_WEBEID_USER_CANCELLED",
      message: "Cancelled by the user",
      reason: "USER_CANCELLED",
    });
  });

  it("no host installed: ERR_WEBEID_NATIVE_UNAVAILABLE", async () => {
    const { client } = browser("https://site.example", null);
    await assert.rejects(client.getSigningCertificate(), { code: "ERR_WEBEID_NATIVE_UNAVAILABLE" });
  });

  it("two pages at once each get their own answer", async () => {
    const a = browser("https://a.example", (m) => ({ ...TOKEN, signature: m.arguments.origin }));
    const b = browser("https://b.example", (m) => ({ ...TOKEN, signature: m.arguments.origin }));
    const [ra, rb] = await Promise.all([a.client.authenticate(NONCE), b.client.authenticate(NONCE)]);
    assert.equal(ra.signature, "https://a.example");
    assert.equal(rb.signature, "https://b.example");
  });
});
