#!/usr/bin/env bash
# Browser end-to-end tests (Chromium and Firefox ESR). Expects what scripts/test.sh sets up: the
# system packages and a built workspace (target/debug); it uses the private pcscd scripts/test.sh
# exported (PCSCLITE_CSOCK_NAME, EIDLINK_VPCD_PORT), or starts and stops its own.
# Arguments go to node --test (installer/test.sh passes --test-name-pattern); EIDLINK_INSTALLED=1
# tests the installed package instead of the development registration (see lib.mjs).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
. "$ROOT/scripts/lib.sh"
EIDLINK_TMP=$(mktemp -d /tmp/eidlink-browser.XXXXXX)
trap 'stop_pcscd; rm -rf "$EIDLINK_TMP"' EXIT
ensure_pcscd
bash "$ROOT/extension/build.sh" >/dev/null
npm ci --no-audit --no-fund --loglevel=error
files=(e2e.test.mjs)
# TLS client-certificate login through this build's PKCS#11 module (not the package's: skipped
# with EIDLINK_INSTALLED=1), after the extension's tests: its browser policies exist only meanwhile.
[ "${EIDLINK_INSTALLED:-}" = 1 ] || files+=(tls.test.mjs)
node --test --test-concurrency=1 --test-timeout=300000 "$@" "${files[@]}"
