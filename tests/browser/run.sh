#!/usr/bin/env bash
# Browser end-to-end tests (Chromium and Firefox ESR). Expects what scripts/test.sh sets up: the
# system packages, a built workspace (target/debug) and pcscd running with the vpcd driver.
# Arguments go to node --test (installer/test.sh passes --test-name-pattern); EIDLINK_INSTALLED=1
# tests the installed package instead of the development registration (see lib.mjs).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
bash "$ROOT/extension/build.sh" >/dev/null
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 --test-timeout=300000 "$@" e2e.test.mjs
