#!/usr/bin/env bash
# The extension's checks: install the pinned dev tools, lint, unit tests, then two builds whose
# archives must be byte-identical. Needs node ≥ 20.19 and npm; no browser.
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund --loglevel=error
npx --no-install eslint --max-warnings 0 .
# The mock-timer API is still marked experimental in node 20; its warning is noise here.
NODE_NO_WARNINGS=1 node --test test/

node build.mjs >/dev/null
saved="$(mktemp -d)"
trap 'rm -rf "$saved"' EXIT
cp dist/eidlink-chromium.zip dist/eidlink-firefox.xpi "$saved/"
node build.mjs
for archive in eidlink-chromium.zip eidlink-firefox.xpi; do
  if ! cmp -s "$saved/$archive" "dist/$archive"; then
    echo "FAIL: dist/$archive differs between two builds" >&2
    exit 1
  fi
done
echo "extension: lint, tests and a reproducible build passed"
