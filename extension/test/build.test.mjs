// Manifests, version consistency with the host, and the reproducible build.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { TARGETS, build, buildFiles } from "../build.mjs";
import { EIDLINK_VERSION, EXTENSION_VERSION, PROTOCOL_VERSION } from "../src/config.js";
import { parseSemver } from "../src/protocol.js";
import { CHROMIUM_ID, CHROMIUM_KEY, EXTENSION_PAGES_CSP, FILES, GECKO_ID, LOCALES, manifest } from "../tools/manifest.mjs";
import { unzip, zip } from "../tools/zip.mjs";
import { EXTENSION_DIR } from "./support/fakes.mjs";

const REPO = path.resolve(EXTENSION_DIR, "..");

describe("manifests", () => {
  it("the key gives the fixed Chromium id", () => {
    const hex = crypto.createHash("sha256").update(Buffer.from(CHROMIUM_KEY, "base64")).digest("hex");
    const id = [...hex.slice(0, 32)].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join("");
    assert.equal(id, CHROMIUM_ID);
    assert.equal(CHROMIUM_ID, "ccnigmgcdcaomdokminffignfkmonapb");
  });

  it("share one base; differ only where the browsers do", () => {
    const chromium = manifest("chromium");
    const firefox = manifest("firefox");
    for (const m of [chromium, firefox]) {
      assert.equal(m.manifest_version, 3);
      assert.deepEqual(m.permissions, ["nativeMessaging"]);
      assert.equal(m.host_permissions, undefined);
      assert.deepEqual(m.content_scripts, [
        {
          matches: ["https://*/*", "http://*/*"],
          js: ["content.js"],
          run_at: "document_start",
          all_frames: true,
        },
      ]);
      assert.equal(m.version, "2.0.0");
      assert.equal(m.default_locale, "en");
      assert.deepEqual(m.options_ui, { page: "options.html", open_in_tab: false });
      assert.deepEqual(m.content_security_policy, { extension_pages: EXTENSION_PAGES_CSP });
    }
    assert.equal(chromium.key, CHROMIUM_KEY);
    assert.deepEqual(chromium.background, { service_worker: "background.js", type: "module" });
    assert.equal(chromium.browser_specific_settings, undefined);
    assert.equal(firefox.key, undefined);
    assert.deepEqual(firefox.background, { scripts: ["background.js"], type: "module" });
    assert.equal(firefox.browser_specific_settings.gecko.id, GECKO_ID);
    assert.equal(GECKO_ID, "eidlink@eidlink.org");
    assert.throws(() => manifest("safari"));
  });

  it("Firefox offers pkcs11 as an optional permission only; Chromium does not know it at all", () => {
    const firefox = manifest("firefox");
    assert.deepEqual(firefox.optional_permissions, ["pkcs11"]);
    assert.ok(!firefox.permissions.includes("pkcs11"), "never asked at install");
    const chromium = manifest("chromium");
    assert.equal(chromium.optional_permissions, undefined);
    assert.doesNotMatch(JSON.stringify(chromium), /pkcs11/);
  });

  it("the extension pages run only the extension's own files", () => {
    const directives = new Map(
      EXTENSION_PAGES_CSP.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]),
    );
    assert.deepEqual(directives.get("default-src"), ["'none'"]);
    assert.deepEqual(directives.get("script-src"), ["'self'"]);
    assert.deepEqual(directives.get("style-src"), ["'self'"]);
    assert.doesNotMatch(EXTENSION_PAGES_CSP, /unsafe|https?:|\*/);
  });

  it("ship every file the options page loads, and a messages.json per language", () => {
    const html = fs.readFileSync(path.join(EXTENSION_DIR, "src/options.html"), "utf8");
    for (const [, file] of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.ok(FILES.includes(file), file);
    const imported = new Set(["options.js"]);
    for (const file of imported) {
      const source = fs.readFileSync(path.join(EXTENSION_DIR, "src", file), "utf8");
      for (const [, name] of source.matchAll(/from "\.\/([\w.-]+)"/g)) imported.add(name);
    }
    for (const file of imported) assert.ok(FILES.includes(file), file);
    for (const language of LOCALES) assert.ok(FILES.includes(`_locales/${language}/messages.json`), language);
    for (const file of FILES) assert.ok(fs.existsSync(path.join(EXTENSION_DIR, "src", file)), file);
  });

  it("ship every module background.js imports", () => {
    const imported = new Set(["background.js"]);
    for (const file of imported) {
      const source = fs.readFileSync(path.join(EXTENSION_DIR, "src", file), "utf8");
      for (const [, name] of source.matchAll(/from "\.\/([\w.-]+)"/g)) imported.add(name);
    }
    for (const file of imported) assert.ok(FILES.includes(file), file);
    assert.ok(FILES.includes("content.js"));
  });
});

describe("versions", () => {
  it("the extension reports strict semver with major 2, matching the manifest", () => {
    assert.equal(EXTENSION_VERSION, `${PROTOCOL_VERSION}+eidlink-${EIDLINK_VERSION}`);
    assert.equal(parseSemver(EXTENSION_VERSION).major, 2);
    assert.equal(manifest("chromium").version, PROTOCOL_VERSION);
    assert.equal(manifest("chromium").version_name, EXTENSION_VERSION);
  });

  it("match the host's (workspace Cargo.toml and host.rs), when the repository is there", (t) => {
    const cargo = path.join(REPO, "Cargo.toml");
    const hostRs = path.join(REPO, "host/app/src/host.rs");
    if (!fs.existsSync(cargo) || !fs.existsSync(hostRs)) {
      t.skip("not inside the eidlink repository");
      return;
    }
    const workspace = /\[workspace\.package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(fs.readFileSync(cargo, "utf8"));
    assert.equal(workspace?.[1], EIDLINK_VERSION);
    const protocol = /PROTOCOL_VERSION: &str = "([^"]+)"/.exec(fs.readFileSync(hostRs, "utf8"));
    assert.equal(protocol?.[1], PROTOCOL_VERSION);
  });
});

describe("build", () => {
  it("is byte-identical on two runs, and the archives hold exactly the unpacked files", () => {
    const one = fs.mkdtempSync(path.join(os.tmpdir(), "eidlink-build-"));
    const two = fs.mkdtempSync(path.join(os.tmpdir(), "eidlink-build-"));
    try {
      const first = build(one);
      const second = build(two);
      assert.deepEqual(first.map((p) => path.basename(p)), ["eidlink-chromium.zip", "eidlink-firefox.xpi"]);
      for (let i = 0; i < first.length; i++) {
        assert.ok(fs.readFileSync(first[i]).equals(fs.readFileSync(second[i])), path.basename(first[i]));
      }
      for (const { browser, archive } of TARGETS) {
        const entries = unzip(fs.readFileSync(path.join(one, archive)));
        const names = entries.map((e) => e.name);
        assert.deepEqual(names, [...names].sort());
        const unpacked = fs
          .readdirSync(path.join(one, browser), { recursive: true })
          .filter((name) => fs.statSync(path.join(one, browser, name)).isFile());
        assert.deepEqual(names, unpacked.sort());
        for (const e of entries) {
          assert.ok(e.data.equals(fs.readFileSync(path.join(one, browser, e.name))), e.name);
          assert.deepEqual([e.date, e.time, e.mode], [0x21, 0, 0o100644], e.name);
        }
        const packed = JSON.parse(entries.find((e) => e.name === "manifest.json").data);
        assert.deepEqual(packed, manifest(browser));
      }
    } finally {
      fs.rmSync(one, { recursive: true, force: true });
      fs.rmSync(two, { recursive: true, force: true });
    }
  });

  it("copies the sources unchanged", () => {
    for (const { name, data } of buildFiles("firefox")) {
      if (name === "manifest.json") continue;
      assert.ok(data.equals(fs.readFileSync(path.join(EXTENSION_DIR, "src", name))), name);
    }
  });

  it("zip round-trips stored and deflated entries", () => {
    const entries = [
      { name: "a.txt", data: Buffer.from("x") }, // stored: deflate would not shrink it
      { name: "b.txt", data: Buffer.from("y".repeat(1000)) },
    ];
    const back = unzip(zip(entries));
    assert.deepEqual(back.map((e) => [e.name, e.method, e.data.toString()]), [
      ["a.txt", 0, "x"],
      ["b.txt", 8, "y".repeat(1000)],
    ]);
  });
});
