// src/protocol.js: the pure protocol logic (protocol.md §1, §2).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { NATIVE_MESSAGE_MAX_BYTES } from "../src/config.js";
import {
  Action,
  ERROR_NAMES,
  ErrorCode,
  checkMessageSize,
  checkRequest,
  checkVersions,
  hostError,
  hostLang,
  isOpaqueOrigin,
  isRequestAction,
  nativeCommand,
  nativeMessageSize,
  opaqueOriginError,
  parseHandshake,
  parseSemver,
  replyToPage,
  senderOrigin,
  topLevelOrigin,
  userInteractionTimeout,
  webEidError,
  withTopOrigin,
} from "../src/protocol.js";

const NONCE = "A".repeat(44);

describe("actions and errors", () => {
  it("knows exactly the four request actions", () => {
    for (const a of ["status", "authenticate", "get-signing-certificate", "sign"]) {
      assert.equal(isRequestAction(`web-eid:${a}`), true, a);
    }
    for (const a of ["web-eid:status-ack", "web-eid:sign-success", "web-eid:warning", "web-eid:x", "status", undefined]) {
      assert.equal(isRequestAction(a), false, String(a));
    }
  });

  it("has the 13 codes of protocol.md §1 and web-eid.js's names", () => {
    assert.equal(Object.keys(ERROR_NAMES).length, 13);
    assert.equal(ErrorCode.ERR_WEBEID_USER_TIMEOUT, "ERR_WEBEID_USER_TIMEOUT");
    assert.deepEqual(webEidError("ERR_WEBEID_NATIVE_FATAL", "boom", { reason: "CARD_ERROR" }), {
      name: "NativeFatalError",
      message: "boom",
      code: "ERR_WEBEID_NATIVE_FATAL",
      reason: "CARD_ERROR",
    });
    assert.throws(() => webEidError("ERR_SOMETHING_ELSE", "x"), TypeError);
  });
});

describe("checkRequest", () => {
  const base = { libraryVersion: "2.1.0" };

  it("accepts complete requests", () => {
    assert.equal(checkRequest({ ...base, action: Action.STATUS }), null);
    assert.equal(checkRequest({ ...base, action: Action.AUTHENTICATE, challengeNonce: NONCE }), null);
    assert.equal(checkRequest({ ...base, action: Action.GET_SIGNING_CERTIFICATE }), null);
    assert.equal(
      checkRequest({ ...base, action: Action.SIGN, certificate: "MII=", hash: "AA==", hashFunction: "SHA-256" }),
      null,
    );
  });

  it("reports each missing parameter", () => {
    const cases = [
      [{ action: Action.STATUS }, "libraryVersion"],
      [{ ...base, action: Action.AUTHENTICATE }, "challengeNonce"],
      [{ ...base, action: Action.AUTHENTICATE, challengeNonce: "" }, "challengeNonce"],
      [{ ...base, action: Action.SIGN, hash: "AA==", hashFunction: "SHA-256" }, "certificate"],
      [{ ...base, action: Action.SIGN, certificate: "MII=", hashFunction: "SHA-256" }, "hash"],
      [{ ...base, action: Action.SIGN, certificate: "MII=", hash: "AA==", hashFunction: null }, "hashFunction"],
    ];
    for (const [request, key] of cases) {
      const error = checkRequest(request);
      assert.equal(error?.code, "ERR_WEBEID_MISSING_PARAMETER", key);
      assert.match(error.message, new RegExp(key));
    }
  });

  it("rejects a library version that is not semver, and unknown actions", () => {
    assert.equal(checkRequest({ action: Action.STATUS, libraryVersion: "v2.0.0" }).code, "ERR_WEBEID_VERSION_INVALID");
    assert.equal(checkRequest({ action: "web-eid:nope", libraryVersion: "2.0.0" }).code, "ERR_WEBEID_UNKNOWN_ERROR");
    assert.equal(checkRequest(undefined).code, "ERR_WEBEID_UNKNOWN_ERROR");
  });
});

describe("options", () => {
  it("userInteractionTimeout: positive numbers, else 120 s; clamped to setTimeout's range", () => {
    assert.equal(userInteractionTimeout(undefined), 120000);
    assert.equal(userInteractionTimeout({}), 120000);
    assert.equal(userInteractionTimeout({ userInteractionTimeout: 3000 }), 3000);
    assert.equal(userInteractionTimeout({ userInteractionTimeout: 0 }), 120000);
    assert.equal(userInteractionTimeout({ userInteractionTimeout: -5 }), 120000);
    assert.equal(userInteractionTimeout({ userInteractionTimeout: "3000" }), 120000);
    assert.equal(userInteractionTimeout({ userInteractionTimeout: Infinity }), 120000);
    assert.equal(userInteractionTimeout({ userInteractionTimeout: 1e12 }), 2 ** 31 - 1);
  });

  it("lang: ISO 639-1 for the host, BCP 47 reduced to its language, anything else dropped", () => {
    assert.equal(hostLang("fr"), "fr");
    assert.equal(hostLang("NL"), "nl");
    assert.equal(hostLang("en-GB"), "en");
    assert.equal(hostLang("de_BE"), "de");
    assert.equal(hostLang("est"), undefined);
    assert.equal(hostLang(""), undefined);
    assert.equal(hostLang(42), undefined);
    assert.equal(hostLang(undefined), undefined);
  });
});

describe("senderOrigin", () => {
  it("prefers sender.origin, the frame's origin as the browser computed it", () => {
    assert.equal(senderOrigin({ origin: "https://a.example", url: "https://b.example/x" }), "https://a.example");
  });

  it("falls back to new URL(sender.url).origin", () => {
    assert.equal(senderOrigin({ url: "https://Site.Example:443/login?x=1#f" }), "https://site.example");
    assert.equal(senderOrigin({ url: "https://site.example:8443/a" }), "https://site.example:8443");
    assert.equal(senderOrigin({ url: "http://localhost:8080/" }), "http://localhost:8080");
  });

  it("an opaque sender.origin is no origin, though its URL has one (sandboxed frame, CSP: sandbox)", () => {
    // The URL's origin is the hosting site's: falling back to it would lend the site's name.
    assert.equal(senderOrigin({ origin: "null", url: "https://site.example/user-content/1" }), null);
    assert.equal(senderOrigin({ origin: "moz-nullprincipal:{0b7c}", url: "https://site.example/u" }), null);
  });

  it("has no origin for opaque or missing URLs", () => {
    assert.equal(senderOrigin({ origin: "null", url: "about:blank" }), null);
    assert.equal(senderOrigin({ url: "data:text/html,hi" }), null);
    assert.equal(senderOrigin({ url: "not a url" }), null);
    assert.equal(senderOrigin({}), null);
    assert.equal(senderOrigin(undefined), null);
  });
});

describe("isOpaqueOrigin", () => {
  it("is true for anything that is not a scheme://host[:port] origin", () => {
    for (const origin of ["null", "moz-nullprincipal:{0b7c}", "https://site.example/", "", "site.example"]) {
      assert.equal(isOpaqueOrigin(origin), true, origin);
    }
    for (const origin of ["https://site.example", "https://site.example:8443", "http://localhost:8080"]) {
      assert.equal(isOpaqueOrigin(origin), false, origin);
    }
  });

  it("opaqueOriginError: ERR_WEBEID_CONTEXT_INSECURE, reason ORIGIN_REJECTED", () => {
    assert.deepEqual(opaqueOriginError(), {
      name: "ContextInsecureError",
      code: "ERR_WEBEID_CONTEXT_INSECURE",
      message: "a sandboxed frame (opaque origin) cannot use eID",
      reason: "ORIGIN_REJECTED",
    });
  });
});

describe("nativeCommand (protocol.md §2.1: exact argument sets)", () => {
  const origin = "https://site.example";

  it("authenticate", () => {
    const request = { action: Action.AUTHENTICATE, libraryVersion: "2.0.0", challengeNonce: NONCE, options: { lang: "fr", userInteractionTimeout: 5 } };
    assert.deepEqual(nativeCommand(request, origin), {
      command: "authenticate",
      arguments: { challengeNonce: NONCE, origin, lang: "fr" },
    });
    delete request.options;
    assert.deepEqual(nativeCommand(request, origin), {
      command: "authenticate",
      arguments: { challengeNonce: NONCE, origin },
    });
  });

  it("get-signing-certificate", () => {
    assert.deepEqual(nativeCommand({ action: Action.GET_SIGNING_CERTIFICATE, options: { lang: "nl-BE" } }, origin), {
      command: "get-signing-certificate",
      arguments: { origin, lang: "nl" },
    });
    assert.deepEqual(nativeCommand({ action: Action.GET_SIGNING_CERTIFICATE, options: { lang: "xyz" } }, origin), {
      command: "get-signing-certificate",
      arguments: { origin },
    });
  });

  it("sign", () => {
    const request = {
      action: Action.SIGN,
      libraryVersion: "2.0.0",
      certificate: "MIIB",
      hash: "q83vEjRWeJA=",
      hashFunction: "SHA-256",
      extra: "ignored",
    };
    assert.deepEqual(nativeCommand(request, origin), {
      command: "sign",
      arguments: { hash: "q83vEjRWeJA=", hashFunction: "SHA-256", certificate: "MIIB", origin },
    });
  });

  it("has none for status", () => {
    assert.throws(() => nativeCommand({ action: Action.STATUS }, origin), TypeError);
  });
});

describe("topOrigin: the tab's top-level page of a frame", () => {
  const frame = (url, frameId = 3) => ({ origin: "https://sign.example", frameId, tab: { id: 1, url } });

  it("is the tab URL's origin, for a frame only", () => {
    assert.equal(topLevelOrigin(frame("https://www.mybank.be/account?x=1#y")), "https://www.mybank.be");
    assert.equal(topLevelOrigin(frame("http://localhost:3000/dev")), "http://localhost:3000");
    assert.equal(topLevelOrigin(frame("https://www.mybank.be/", 0)), null, "the top-level page itself");
    assert.equal(topLevelOrigin({ origin: "https://sign.example", tab: { url: "https://a.be/" } }), null, "no frameId");
    assert.equal(topLevelOrigin({ frameId: 2, tab: { id: 1 } }), null, "the tab's URL not readable");
    assert.equal(topLevelOrigin(frame("data:text/html,hi")), null, "opaque");
    assert.equal(topLevelOrigin(frame("not a url")), null);
    assert.equal(topLevelOrigin(undefined), null);
  });

  it("is added only for a host that lists the capability", () => {
    const command = { command: "get-signing-certificate", arguments: { origin: "https://sign.example" } };
    assert.deepEqual(withTopOrigin(command, "https://www.mybank.be", ["topOrigin"]), {
      command: "get-signing-certificate",
      arguments: { origin: "https://sign.example", topOrigin: "https://www.mybank.be" },
    });
    assert.equal(withTopOrigin(command, "https://www.mybank.be", []), command, "an older host refuses unknown keys");
    assert.equal(withTopOrigin(command, null, ["topOrigin"]), command, "the top-level page itself");
    assert.deepEqual(command.arguments, { origin: "https://sign.example" }, "the command is not changed");
  });
});

describe("8192-byte cap (protocol.md §2)", () => {
  // A sign command whose certificate is sized so that the JSON is exactly `total` bytes.
  function signOf(total, filler = "A") {
    const skeleton = { command: "sign", arguments: { hash: "AA==", hashFunction: "SHA-256", certificate: "", origin: "https://s.example" } };
    const room = total - nativeMessageSize(skeleton);
    const unit = Buffer.byteLength(filler);
    assert.equal(room % unit, 0);
    skeleton.arguments.certificate = filler.repeat(room / unit);
    assert.equal(nativeMessageSize(skeleton), total);
    return skeleton;
  }

  it("allows exactly 8192 bytes and refuses 8193", () => {
    assert.equal(NATIVE_MESSAGE_MAX_BYTES, 8192);
    assert.equal(checkMessageSize(signOf(8192)), null);
    const error = checkMessageSize(signOf(8193));
    assert.equal(error.code, "ERR_WEBEID_NATIVE_INVALID_ARGUMENT");
    assert.equal(error.reason, "MESSAGE_TOO_LARGE");
  });

  it("counts UTF-8 bytes, not characters", () => {
    const message = { command: "x", arguments: { v: "é".repeat(5000) } }; // 5000 chars, 10000 bytes
    assert.ok(JSON.stringify(message).length < 8192);
    assert.equal(checkMessageSize(message)?.code, "ERR_WEBEID_NATIVE_INVALID_ARGUMENT");
  });
});

describe("versions (protocol.md §1 version check)", () => {
  it("parses strict semver only", () => {
    assert.deepEqual(parseSemver("2.0.0+eidlink-0.1.0"), { major: 2, minor: 0, patch: 0 });
    assert.deepEqual(parseSemver("10.20.30-rc.1+build.5"), { major: 10, minor: 20, patch: 30 });
    for (const bad of ["v2.0.0", "2.0", "2", "02.0.0", "2.0.0.1", "2.0.0+", "2.0.0-", " 2.0.0", "", null, 2]) {
      assert.equal(parseSemver(bad), null, String(bad));
    }
  });

  it("accepts compatible versions", () => {
    assert.equal(checkVersions({ library: "2.1.0", extension: "2.0.0+eidlink-0.1.0", nativeApp: "2.0.0+eidlink-0.1.0" }), null);
    assert.equal(checkVersions({ library: "1.0.0", extension: "2.0.0", nativeApp: "3.0.0" }), null);
  });

  it("reports a mismatch with requiresUpdate and the versions", () => {
    const old = checkVersions({ library: "2.0.0", extension: "2.0.0", nativeApp: "1.9.9" });
    assert.equal(old.code, "ERR_WEBEID_VERSION_MISMATCH");
    assert.equal(old.name, "VersionMismatchError");
    assert.deepEqual(old.requiresUpdate, { extension: false, nativeApp: true });
    assert.deepEqual([old.library, old.extension, old.nativeApp], ["2.0.0", "2.0.0", "1.9.9"]);

    const newLibrary = checkVersions({ library: "3.0.0", extension: "2.0.0", nativeApp: "2.5.0" });
    assert.deepEqual(newLibrary.requiresUpdate, { extension: true, nativeApp: true });
    assert.match(newLibrary.message, /extension and native app/);

    const newerExtension = checkVersions({ library: "2.0.0", extension: "3.0.0", nativeApp: "2.0.0" });
    assert.deepEqual(newerExtension.requiresUpdate, { extension: false, nativeApp: true });

    const oldExtension = checkVersions({ library: "3.0.0", extension: "2.0.0", nativeApp: "3.0.0" });
    assert.deepEqual(oldExtension.requiresUpdate, { extension: true, nativeApp: false });
  });

  it("reports invalid versions", () => {
    for (const versions of [
      { library: "2.0", extension: "2.0.0", nativeApp: "2.0.0" },
      { library: "2.0.0", extension: "x", nativeApp: "2.0.0" },
      { library: "2.0.0", extension: "2.0.0", nativeApp: "v2.0.0" },
      { library: "2.0.0", extension: "2.0.0", nativeApp: undefined },
    ]) {
      assert.equal(checkVersions(versions).code, "ERR_WEBEID_VERSION_INVALID", JSON.stringify(versions));
    }
  });
});

describe("host messages", () => {
  it("parses the handshake", () => {
    // An older host, or Web eID's own: no capabilities.
    assert.deepEqual(parseHandshake({ version: "2.0.0+eidlink-0.1.0" }), {
      version: "2.0.0+eidlink-0.1.0",
      capabilities: [],
    });
    assert.deepEqual(parseHandshake({ version: "2.0.0", capabilities: ["topOrigin", 7, "later"] }), {
      version: "2.0.0",
      capabilities: ["topOrigin", "later"],
    });
    assert.deepEqual(parseHandshake({ version: "2.0.0", capabilities: "topOrigin" }).capabilities, []);
    assert.equal(parseHandshake({ versio: "2.0.0" }).error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    assert.equal(parseHandshake({ version: 2 }).error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    assert.equal(parseHandshake("2.0.0").error.code, "ERR_WEBEID_NATIVE_UNAVAILABLE");
    const error = parseHandshake({ error: { code: "ERR_WEBEID_NATIVE_FATAL", message: "no config", reason: "INTERNAL" } }).error;
    assert.deepEqual([error.code, error.message, error.reason], ["ERR_WEBEID_NATIVE_FATAL", "no config", "INTERNAL"]);
  });

  it("maps host errors: known codes, message and reason pass; unknown codes become NATIVE_FATAL", () => {
    assert.deepEqual(hostError({ code: "ERR_WEBEID_USER_CANCELLED", message: "Cancelled", reason: "USER_CANCELLED" }), {
      name: "UserCancelledError",
      code: "ERR_WEBEID_USER_CANCELLED",
      message: "Cancelled",
      reason: "USER_CANCELLED",
    });
    assert.deepEqual(hostError({ code: "ERR_NEW_THING", message: "m", reason: "NO_CARD" }), {
      name: "NativeFatalError",
      code: "ERR_WEBEID_NATIVE_FATAL",
      message: "m",
      reason: "NO_CARD",
    });
    const bare = hostError({ code: "ERR_WEBEID_NATIVE_INVALID_ARGUMENT" });
    assert.equal(bare.code, "ERR_WEBEID_NATIVE_INVALID_ARGUMENT");
    assert.equal(typeof bare.message, "string");
    assert.equal("reason" in bare, false);
    assert.equal(hostError("nope").code, "ERR_WEBEID_NATIVE_FATAL");
    assert.equal(hostError(null).code, "ERR_WEBEID_NATIVE_FATAL");
  });
});

describe("replyToPage (reply shapes, protocol.md §2.1)", () => {
  const alg = { cryptoAlgorithm: "ECC", hashFunction: "SHA-384", paddingScheme: "NONE" };
  const good = {
    [Action.AUTHENTICATE]: {
      unverifiedCertificate: "MIIC",
      algorithm: "ES384",
      signature: "c2ln",
      format: "web-eid:1.0",
      appVersion: "eidlink/0.1.0",
    },
    [Action.GET_SIGNING_CERTIFICATE]: { certificate: "MIIC", supportedSignatureAlgorithms: [alg] },
    [Action.SIGN]: { signature: "c2ln", signatureAlgorithm: alg },
  };

  it("spreads a well-formed reply into the success message", () => {
    for (const [action, reply] of Object.entries(good)) {
      const message = replyToPage(action, { ...reply, action: "web-eid:evil" });
      assert.deepEqual(message, { ...reply, action: `${action}-success` });
    }
  });

  it("refuses replies with a missing or mistyped field", () => {
    for (const [action, reply] of Object.entries(good)) {
      for (const key of Object.keys(reply)) {
        const missing = { ...reply };
        delete missing[key];
        const wrongType = { ...reply, [key]: 7 };
        for (const bad of [missing, wrongType]) {
          const message = replyToPage(action, bad);
          assert.equal(message.action, `${action}-failure`, `${action} ${key}`);
          assert.equal(message.error.code, "ERR_WEBEID_NATIVE_FATAL");
          assert.match(message.error.message, new RegExp(key));
        }
      }
    }
    const gsc = Action.GET_SIGNING_CERTIFICATE;
    assert.equal(replyToPage(gsc, { certificate: "MIIC", supportedSignatureAlgorithms: [] }).error.code, "ERR_WEBEID_NATIVE_FATAL");
    assert.equal(
      replyToPage(gsc, { certificate: "MIIC", supportedSignatureAlgorithms: [{ ...alg, paddingScheme: undefined }] }).error.code,
      "ERR_WEBEID_NATIVE_FATAL",
    );
    assert.equal(replyToPage(Action.SIGN, { signature: "", signatureAlgorithm: alg }).error.code, "ERR_WEBEID_NATIVE_FATAL");
    assert.equal(replyToPage(Action.SIGN, null).error.code, "ERR_WEBEID_NATIVE_FATAL");
    assert.equal(replyToPage(Action.SIGN, [1]).error.code, "ERR_WEBEID_NATIVE_FATAL");
  });

  it("turns a host error into a failure with code, message and reason", () => {
    const message = replyToPage(Action.SIGN, {
      error: { code: "ERR_WEBEID_NATIVE_FATAL", message: "No card in the reader", reason: "NO_CARD" },
    });
    assert.deepEqual(message, {
      action: "web-eid:sign-failure",
      error: { name: "NativeFatalError", code: "ERR_WEBEID_NATIVE_FATAL", message: "No card in the reader", reason: "NO_CARD" },
    });
  });
});
