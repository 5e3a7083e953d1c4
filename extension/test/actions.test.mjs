// src/actions.js + src/native.js: one request against a scripted host (FakePort), with mock timers
// for the handshake and user-interaction timeouts.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";

import { handleRequest } from "../src/actions.js";
import { EXTENSION_VERSION, MAX_CONCURRENT_HOSTS } from "../src/config.js";
import { RequestLimits } from "../src/limits.js";
import { FakeRuntime, flush } from "./support/fakes.mjs";

const NONCE = "n".repeat(44);
const ORIGIN = "https://site.example";
const SENDER = { id: "ccnigmgcdcaomdokminffignfkmonapb", origin: ORIGIN, url: `${ORIGIN}/login` };
const HOST_VERSION = "2.0.0+eidlink-0.1.0";
const ALG = { cryptoAlgorithm: "ECC", hashFunction: "SHA-384", paddingScheme: "NONE" };
const TOKEN = {
  unverifiedCertificate: "MIIC",
  algorithm: "ES384",
  signature: "c2ln",
  format: "web-eid:1.0",
  appVersion: "eidlink/0.1.0 (Web eID 2.0.0)",
};

const authenticate = (options) => ({
  action: "web-eid:authenticate",
  libraryVersion: "2.1.0",
  challengeNonce: NONCE,
  ...(options ? { options } : {}),
});

/** Settles the promise's state without awaiting it forever: "pending" or the value. */
async function peek(promise) {
  const marker = Symbol("pending");
  await flush();
  return Promise.race([promise, Promise.resolve(marker)]).then((v) => (v === marker ? "pending" : v));
}

let runtime;
beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout"] });
  runtime = new FakeRuntime();
});
afterEach(() => mock.timers.reset());

describe("authenticate, get-signing-certificate, sign", () => {
  it("authenticate: handshake, exact command, reply spread into the success", async () => {
    const result = handleRequest(authenticate({ lang: "fr" }), SENDER, runtime.env());
    await flush();
    const [port] = runtime.ports;
    assert.equal(port.name, "org.eidlink.host");
    assert.deepEqual(port.sent, [], "nothing is sent before the host's version");
    port.hostSends({ version: HOST_VERSION });
    await flush();
    assert.deepEqual(port.sent, [
      { command: "authenticate", arguments: { challengeNonce: NONCE, origin: ORIGIN, lang: "fr" } },
    ]);
    port.hostSends(TOKEN);
    assert.deepEqual(await result, { action: "web-eid:authenticate-success", ...TOKEN });
    assert.equal(port.disconnected, true, "the port is closed after the reply");
    assert.equal(runtime.ports.length, 1);
  });

  it("get-signing-certificate and sign send their own commands", async () => {
    const certificate = { certificate: "MIIC", supportedSignatureAlgorithms: [ALG] };
    const gsc = handleRequest(
      { action: "web-eid:get-signing-certificate", libraryVersion: "2.0.0" },
      SENDER,
      runtime.env(),
    );
    await flush();
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    await flush();
    assert.deepEqual(runtime.ports[0].sent, [{ command: "get-signing-certificate", arguments: { origin: ORIGIN } }]);
    runtime.ports[0].hostSends(certificate);
    assert.deepEqual(await gsc, { action: "web-eid:get-signing-certificate-success", ...certificate });

    const signed = { signature: "c2ln", signatureAlgorithm: ALG };
    const sign = handleRequest(
      {
        action: "web-eid:sign",
        libraryVersion: "2.0.0",
        certificate: "MIIC",
        hash: "A".repeat(64),
        hashFunction: "SHA-384",
        options: { lang: "de" },
      },
      SENDER,
      runtime.env(),
    );
    await flush();
    runtime.ports[1].hostSends({ version: HOST_VERSION });
    await flush();
    assert.deepEqual(runtime.ports[1].sent, [
      {
        command: "sign",
        arguments: { hash: "A".repeat(64), hashFunction: "SHA-384", certificate: "MIIC", origin: ORIGIN, lang: "de" },
      },
    ]);
    runtime.ports[1].hostSends(signed);
    assert.deepEqual(await sign, { action: "web-eid:sign-success", ...signed });
  });

  it("uses new URL(sender.url).origin when sender.origin is absent", async () => {
    const result = handleRequest(authenticate(), { url: "https://frame.example:8443/a/b?c#d" }, runtime.env());
    await flush();
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    await flush();
    assert.equal(runtime.ports[0].sent[0].arguments.origin, "https://frame.example:8443");
    runtime.ports[0].hostSends(TOKEN);
    assert.equal((await result).action, "web-eid:authenticate-success");
  });

  it("passes the host's error code, message and reason", async () => {
    const result = handleRequest(authenticate(), SENDER, runtime.env());
    await flush();
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    await flush();
    runtime.ports[0].hostSends({
      error: { code: "ERR_WEBEID_NATIVE_FATAL", message: "The PIN is blocked", reason: "PIN_BLOCKED" },
    });
    assert.deepEqual(await result, {
      action: "web-eid:authenticate-failure",
      error: {
        name: "NativeFatalError",
        code: "ERR_WEBEID_NATIVE_FATAL",
        message: "The PIN is blocked",
        reason: "PIN_BLOCKED",
      },
    });
  });

  it("turns a malformed reply into ERR_WEBEID_NATIVE_FATAL", async () => {
    const result = handleRequest(authenticate(), SENDER, runtime.env());
    await flush();
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    await flush();
    runtime.ports[0].hostSends({ ...TOKEN, signature: undefined });
    const reply = await result;
    assert.equal(reply.action, "web-eid:authenticate-failure");
    assert.equal(reply.error.code, "ERR_WEBEID_NATIVE_FATAL");
  });
});

describe("a frame in another site's page (topOrigin)", () => {
  const FRAME = { ...SENDER, frameId: 5, tab: { id: 7, url: "https://www.mybank.be/account" } };
  const sentFor = async (sender, hello) => {
    const result = handleRequest(authenticate(), sender, runtime.env());
    await flush();
    const port = runtime.ports.at(-1);
    port.hostSends(hello);
    await flush();
    port.hostSends(TOKEN);
    assert.equal((await result).action, "web-eid:authenticate-success");
    return port.sent;
  };

  it("tells a host that lists the capability the tab's top-level origin", async () => {
    assert.deepEqual(await sentFor(FRAME, { version: HOST_VERSION, capabilities: ["topOrigin"] }), [
      {
        command: "authenticate",
        arguments: { challengeNonce: NONCE, origin: ORIGIN, topOrigin: "https://www.mybank.be" },
      },
    ]);
  });

  it("sends an older host exactly the arguments it knows", async () => {
    assert.deepEqual(await sentFor(FRAME, { version: HOST_VERSION }), [
      { command: "authenticate", arguments: { challengeNonce: NONCE, origin: ORIGIN } },
    ]);
  });

  it("says nothing for the top-level page itself", async () => {
    const top = { ...FRAME, frameId: 0, tab: { id: 7, url: `${ORIGIN}/login` } };
    assert.deepEqual(await sentFor(top, { version: HOST_VERSION, capabilities: ["topOrigin"] }), [
      { command: "authenticate", arguments: { challengeNonce: NONCE, origin: ORIGIN } },
    ]);
  });
});

describe("checks before starting the host", () => {
  it("missing parameters: ERR_WEBEID_MISSING_PARAMETER, no host started", async () => {
    const reply = await handleRequest({ action: "web-eid:authenticate", libraryVersion: "2.0.0" }, SENDER, runtime.env());
    assert.equal(reply.action, "web-eid:authenticate-failure");
    assert.equal(reply.error.code, "ERR_WEBEID_MISSING_PARAMETER");
    assert.equal(runtime.ports.length, 0);
  });

  it("more than 8192 bytes: ERR_WEBEID_NATIVE_INVALID_ARGUMENT, no host started", async () => {
    const request = {
      action: "web-eid:sign",
      libraryVersion: "2.0.0",
      certificate: "A".repeat(9000),
      hash: "AA==",
      hashFunction: "SHA-256",
    };
    const reply = await handleRequest(request, SENDER, runtime.env());
    assert.equal(reply.error.code, "ERR_WEBEID_NATIVE_INVALID_ARGUMENT");
    assert.equal(reply.error.reason, "MESSAGE_TOO_LARGE");
    assert.equal(runtime.ports.length, 0);
  });

  it("no usable origin: refused, no host started", async () => {
    const reply = await handleRequest(authenticate(), { url: "about:blank" }, runtime.env());
    assert.equal(reply.error.code, "ERR_WEBEID_NATIVE_INVALID_ARGUMENT");
    assert.equal(reply.error.reason, "ORIGIN_REJECTED");
    assert.equal(runtime.ports.length, 0);
  });

  it("a sandboxed frame (opaque origin, the hosting site's URL): refused for every action, no host", async () => {
    const sandboxed = [
      { origin: "null", url: `${ORIGIN}/user-content/1` },
      { origin: "moz-nullprincipal:{5f3e}", url: `${ORIGIN}/user-content/1` },
    ];
    const requests = [
      authenticate(),
      { action: "web-eid:status", libraryVersion: "2.0.0" },
      { action: "web-eid:get-signing-certificate", libraryVersion: "2.0.0" },
      { action: "web-eid:sign", libraryVersion: "2.0.0", certificate: "MIIC", hash: "AA==", hashFunction: "SHA-256" },
    ];
    for (const sender of sandboxed) {
      for (const request of requests) {
        const reply = await handleRequest(request, sender, runtime.env());
        assert.equal(reply.action, `${request.action}-failure`);
        assert.equal(reply.error.code, "ERR_WEBEID_CONTEXT_INSECURE", `${sender.origin} ${request.action}`);
        assert.equal(reply.error.reason, "ORIGIN_REJECTED");
      }
    }
    assert.equal(runtime.ports.length, 0, "no host was started");
  });
});

describe("host not there, slow or gone", () => {
  it("host not found (Chromium): ERR_WEBEID_NATIVE_UNAVAILABLE with the browser's message", async () => {
    runtime.onConnect = (port) =>
      queueMicrotask(() => port.hostExits(runtime, "Specified native messaging host not found."));
    const reply = await handleRequest(authenticate(), SENDER, runtime.env());
    assert.equal(reply.action, "web-eid:authenticate-failure");
    assert.equal(reply.error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    assert.equal(reply.error.message, "Specified native messaging host not found.");
  });

  it("host not found (Firefox, port.error): ERR_WEBEID_NATIVE_UNAVAILABLE", async () => {
    runtime.onConnect = (port) => queueMicrotask(() => port.hostExitsFirefox("No such native application org.eidlink.host"));
    const reply = await handleRequest({ action: "web-eid:status", libraryVersion: "2.0.0" }, SENDER, runtime.env());
    assert.equal(reply.action, "web-eid:status-failure");
    assert.equal(reply.error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    assert.equal(reply.error.message, "No such native application org.eidlink.host");
    assert.equal(reply.error.extension, EXTENSION_VERSION, "status failures name the extension version");
  });

  it("connectNative throwing: ERR_WEBEID_NATIVE_UNAVAILABLE", async () => {
    const env = runtime.env({
      connectNative: () => {
        throw new Error("Access to the specified native messaging host is forbidden.");
      },
    });
    const reply = await handleRequest(authenticate(), SENDER, env);
    assert.equal(reply.error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    assert.match(reply.error.message, /forbidden/);
  });

  it("no version within 5 s: ERR_WEBEID_NATIVE_UNAVAILABLE and the port is closed", async () => {
    const result = handleRequest(authenticate(), SENDER, runtime.env());
    await flush();
    mock.timers.tick(4999);
    assert.equal(await peek(result), "pending");
    mock.timers.tick(1);
    const reply = await result;
    assert.equal(reply.error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    assert.equal(runtime.ports[0].disconnected, true);
    assert.deepEqual(runtime.ports[0].sent, []);
  });

  it("host exits after the handshake without replying: ERR_WEBEID_NATIVE_FATAL", async () => {
    const result = handleRequest(authenticate(), SENDER, runtime.env());
    await flush();
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    await flush();
    runtime.ports[0].hostExits(runtime, "Native host has exited.");
    const reply = await result;
    assert.equal(reply.error.code, "ERR_WEBEID_NATIVE_FATAL");
    assert.match(reply.error.message, /Native host has exited/);
  });

  it("userInteractionTimeout: ERR_WEBEID_USER_TIMEOUT at the given time, and the port is closed", async () => {
    const result = handleRequest(authenticate({ userInteractionTimeout: 3000 }), SENDER, runtime.env());
    await flush();
    mock.timers.tick(4000); // the handshake's time does not count
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    await flush();
    mock.timers.tick(2999);
    assert.equal(await peek(result), "pending");
    mock.timers.tick(1);
    const reply = await result;
    assert.equal(reply.error.code, "ERR_WEBEID_USER_TIMEOUT");
    assert.equal(runtime.ports[0].disconnected, true, "closing the port makes the host exit");
  });

  it("default user timeout is 120 s", async () => {
    const result = handleRequest(authenticate(), SENDER, runtime.env());
    await flush();
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    await flush();
    mock.timers.tick(119999);
    assert.equal(await peek(result), "pending");
    mock.timers.tick(1);
    assert.equal((await result).error.code, "ERR_WEBEID_USER_TIMEOUT");
  });
});

describe("versions", () => {
  it("host major below the library's: ERR_WEBEID_VERSION_MISMATCH, no command sent", async () => {
    const result = handleRequest(authenticate(), SENDER, runtime.env());
    await flush();
    runtime.ports[0].hostSends({ version: "1.4.0" });
    const reply = await result;
    assert.equal(reply.error.code, "ERR_WEBEID_VERSION_MISMATCH");
    assert.deepEqual(reply.error.requiresUpdate, { extension: false, nativeApp: true });
    assert.equal(reply.error.nativeApp, "1.4.0");
    assert.deepEqual(runtime.ports[0].sent, []);
    assert.equal(runtime.ports[0].disconnected, true);
  });

  it("a newer library: both need updating", async () => {
    const result = handleRequest({ action: "web-eid:status", libraryVersion: "3.0.0" }, SENDER, runtime.env());
    await flush();
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    const reply = await result;
    assert.equal(reply.action, "web-eid:status-failure");
    assert.deepEqual(reply.error.requiresUpdate, { extension: true, nativeApp: true });
  });

  it("a host version that is not semver: ERR_WEBEID_VERSION_INVALID", async () => {
    const result = handleRequest(authenticate(), SENDER, runtime.env());
    await flush();
    runtime.ports[0].hostSends({ version: "2.0" });
    assert.equal((await result).error.code, "ERR_WEBEID_VERSION_INVALID");
  });
});

describe("status", () => {
  it("answers the three versions after the handshake, then asks the host to quit", async () => {
    const result = handleRequest({ action: "web-eid:status", libraryVersion: "2.1.0" }, SENDER, runtime.env());
    await flush();
    const [port] = runtime.ports;
    port.hostSends({ version: HOST_VERSION });
    assert.deepEqual(await result, {
      action: "web-eid:status-success",
      library: "2.1.0",
      extension: EXTENSION_VERSION,
      nativeApp: HOST_VERSION,
    });
    assert.deepEqual(port.sent, [{ command: "quit", arguments: {} }]);
    assert.equal(port.disconnected, false, "waits for the host's {}");
    port.hostSends({});
    await flush();
    assert.equal(port.disconnected, true);
  });

  it("closes the port after a grace period if the host does not answer quit", async () => {
    const result = handleRequest({ action: "web-eid:status", libraryVersion: "2.1.0" }, SENDER, runtime.env());
    await flush();
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    await result;
    await flush();
    mock.timers.tick(1000);
    await flush();
    assert.equal(runtime.ports[0].disconnected, true);
  });
});

describe("isolation", () => {
  it("two concurrent requests (two tabs) each get their own host and their own reply", async () => {
    const tabA = { origin: "https://a.example", url: "https://a.example/" };
    const tabB = { origin: "https://b.example", url: "https://b.example/" };
    const a = handleRequest(authenticate(), tabA, runtime.env());
    const b = handleRequest(authenticate(), tabB, runtime.env());
    await flush();
    assert.equal(runtime.ports.length, 2);
    const [portA, portB] = runtime.ports;
    portB.hostSends({ version: HOST_VERSION });
    portA.hostSends({ version: HOST_VERSION });
    await flush();
    assert.equal(portA.sent[0].arguments.origin, "https://a.example");
    assert.equal(portB.sent[0].arguments.origin, "https://b.example");
    portB.hostSends({ ...TOKEN, signature: "Yg==" });
    portA.hostSends({ ...TOKEN, signature: "YQ==" });
    assert.equal((await a).signature, "YQ==");
    assert.equal((await b).signature, "Yg==");
  });
});

describe("one request per tab, a few hosts in all (env.limits)", () => {
  const tab = (id, origin = ORIGIN) => ({ ...SENDER, origin, url: `${origin}/`, tab: { id } });
  let env;
  beforeEach(() => {
    env = runtime.env({ limits: new RequestLimits() });
  });

  it("50 requests from one tab: one host; the other 49 get ERR_WEBEID_ACTION_PENDING at once", async () => {
    const results = Array.from({ length: 50 }, () => handleRequest(authenticate(), tab(7), env));
    await flush();
    assert.equal(runtime.ports.length, 1, "one host");
    const refused = await Promise.all(results.slice(1));
    for (const reply of refused) {
      assert.equal(reply.action, "web-eid:authenticate-failure");
      assert.equal(reply.error.code, "ERR_WEBEID_ACTION_PENDING");
      assert.equal(reply.error.name, "ActionPendingError");
    }
    assert.equal(await peek(results[0]), "pending");
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    await flush();
    runtime.ports[0].hostSends(TOKEN);
    assert.equal((await results[0]).action, "web-eid:authenticate-success");
  });

  it("the tab may ask again once it has its reply, whatever the reply was", async () => {
    const first = handleRequest(authenticate(), tab(7), env);
    await flush();
    runtime.ports[0].hostExits(runtime, "Native host has exited.");
    assert.equal((await first).error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    const second = handleRequest(authenticate(), tab(7), env);
    await flush();
    assert.equal(runtime.ports.length, 2, "a second host for the second request");
    mock.timers.tick(5000);
    assert.equal((await second).error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    const third = handleRequest(authenticate(), tab(7), env);
    await flush();
    assert.equal(runtime.ports.length, 3, "a timed-out request frees the tab too");
    runtime.ports[2].hostSends({ version: HOST_VERSION });
    await flush();
    mock.timers.tick(120000);
    assert.equal((await third).error.code, "ERR_WEBEID_USER_TIMEOUT");
    assert.equal(await peek(handleRequest(authenticate(), tab(7), env)), "pending");
  });

  it("frames of one tab share its slot; other tabs are not held up", async () => {
    const top = handleRequest(authenticate(), tab(1), env);
    const frame = await handleRequest(authenticate(), tab(1, "https://frame.example"), env);
    assert.equal(frame.error.code, "ERR_WEBEID_ACTION_PENDING");
    const other = handleRequest(authenticate(), tab(2), env);
    await flush();
    assert.equal(runtime.ports.length, 2);
    assert.equal(await peek(top), "pending");
    assert.equal(await peek(other), "pending");
  });

  it("status frees the tab with its reply, its host slot when the host has quit", async () => {
    const limits = new RequestLimits(1);
    env = runtime.env({ limits });
    const status = handleRequest({ action: "web-eid:status", libraryVersion: "2.0.0" }, tab(1), env);
    await flush();
    runtime.ports[0].hostSends({ version: HOST_VERSION });
    assert.equal((await status).action, "web-eid:status-success");
    assert.equal(limits.tabs.size, 0, "the tab may ask again");
    // The quitting host still counts: with a limit of 1, another tab must wait.
    const busy = await handleRequest(authenticate(), tab(2), env);
    assert.equal(busy.error.reason, "TOO_MANY_REQUESTS");
    runtime.ports[0].hostSends({});
    await flush();
    assert.equal(limits.hosts, 0);
    handleRequest(authenticate(), tab(2), env);
    await flush();
    assert.equal(runtime.ports.length, 2);
  });

  it(`at most ${MAX_CONCURRENT_HOSTS} hosts: the next tab gets ERR_WEBEID_ACTION_PENDING, TOO_MANY_REQUESTS`, async () => {
    const running = [];
    for (let id = 1; id <= MAX_CONCURRENT_HOSTS; id++) running.push(handleRequest(authenticate(), tab(id), env));
    await flush();
    assert.equal(runtime.ports.length, MAX_CONCURRENT_HOSTS);
    const refused = await handleRequest(authenticate(), tab(99), env);
    assert.equal(refused.error.code, "ERR_WEBEID_ACTION_PENDING");
    assert.equal(refused.error.reason, "TOO_MANY_REQUESTS");
    assert.match(refused.error.message, /other tabs/);
    assert.equal(runtime.ports.length, MAX_CONCURRENT_HOSTS, "no host for it");
    // One ends: the next tab gets a host.
    runtime.ports[0].hostExits(runtime, "Native host has exited.");
    await running[0];
    handleRequest(authenticate(), tab(99), env);
    await flush();
    assert.equal(runtime.ports.length, MAX_CONCURRENT_HOSTS + 1);
  });

  it("checks that need no host come first: a bad request of a busy tab gets its own error", async () => {
    handleRequest(authenticate(), tab(1), env);
    await flush();
    const bad = await handleRequest({ action: "web-eid:authenticate", libraryVersion: "2.0.0" }, tab(1), env);
    assert.equal(bad.error.code, "ERR_WEBEID_MISSING_PARAMETER");
  });

  it("connectNative throwing frees the slots", async () => {
    const limits = new RequestLimits();
    const failing = runtime.env({
      limits,
      connectNative: () => {
        throw new Error("Access to the specified native messaging host is forbidden.");
      },
    });
    assert.equal((await handleRequest(authenticate(), tab(1), failing)).error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    assert.deepEqual([limits.tabs.size, limits.hosts], [0, 0]);
  });
});

describe("the page goes away (options.signal)", () => {
  const sender = { ...SENDER, tab: { id: 3 } };

  for (const when of ["before the handshake", "while the dialog is open"]) {
    it(`${when}: the host's port is closed and the tab is free`, async () => {
      const limits = new RequestLimits();
      const env = runtime.env({ limits });
      const gone = new AbortController();
      const result = handleRequest(authenticate(), sender, env, { signal: gone.signal });
      await flush();
      const [port] = runtime.ports;
      if (when === "while the dialog is open") {
        port.hostSends({ version: HOST_VERSION });
        await flush();
        assert.equal(port.sent.length, 1, "the command was sent");
      }
      gone.abort();
      const reply = await result;
      assert.equal(reply.action, "web-eid:authenticate-failure");
      assert.equal(port.disconnected, true, "closing the port ends the host and its dialog");
      assert.deepEqual([limits.tabs.size, limits.hosts], [0, 0]);
    });
  }

  it("already gone: no host is started", async () => {
    const gone = new AbortController();
    gone.abort();
    await handleRequest(authenticate(), sender, runtime.env(), { signal: gone.signal });
    assert.equal(runtime.ports.length, 0);
  });
});
