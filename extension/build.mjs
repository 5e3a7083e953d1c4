#!/usr/bin/env node
// Builds the extension: dist/chromium/ and dist/firefox/ (unpacked, loadable as they are) and the
// reproducible archives dist/eidlink-chromium.zip and dist/eidlink-firefox.xpi (sorted entries, fixed
// timestamps and modes: two builds give the same bytes). No npm dependencies.
//
//   node build.mjs [outDir]        (default: dist/ next to this file)

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { FILES, manifest } from "./tools/manifest.mjs";
import { zip } from "./tools/zip.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const TARGETS = [
  { browser: "chromium", archive: "eidlink-chromium.zip" },
  { browser: "firefox", archive: "eidlink-firefox.xpi" },
];

/** The files of one browser's build, sorted by name: `[{name, data}]`. */
export function buildFiles(browser) {
  const files = FILES.map((name) => ({ name, data: fs.readFileSync(path.join(HERE, "src", name)) }));
  files.push({ name: "manifest.json", data: Buffer.from(`${JSON.stringify(manifest(browser), null, 2)}\n`) });
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Writes both builds and archives under `outDir`; returns the archive paths. */
export function build(outDir = path.join(HERE, "dist")) {
  const archives = [];
  for (const { browser, archive } of TARGETS) {
    const files = buildFiles(browser);
    const dir = path.join(outDir, browser);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const { name, data } of files) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), data);
    }
    const archivePath = path.join(outDir, archive);
    fs.writeFileSync(archivePath, zip(files));
    archives.push(archivePath);
  }
  return archives;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const archive of build(process.argv[2] ? path.resolve(process.argv[2]) : undefined)) {
    console.log(path.relative(process.cwd(), archive));
  }
}
