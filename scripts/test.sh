#!/usr/bin/env bash
# Runs every eidlink test on this machine: installs system packages, starts a private pcscd with
# the vpcd virtual reader (its own socket and ports; another pcscd is never touched, see
# scripts/lib.sh), runs format and lint checks, unit tests, transcript replays and the tests
# through the real PC/SC stack with the virtual card (including OpenSC's cross-check), the
# extension's tests, and Chromium and Firefox ESR end to end; then stops that pcscd.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
EIDLINK_TMP=$(mktemp -d /tmp/eidlink-test.XXXXXX)
trap 'stop_pcscd' EXIT

ensure_rust
install_packages
ensure_node
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "building"
cargo build --workspace --all-targets --locked
start_pcscd
export EIDLINK_PCSCD_LOG="$EIDLINK_TMP/pcscd.log"
vectors="${EIDLINK_VECTORS:-$PWD/../shared/vectors/apdu}"
if [ -d "$vectors" ]; then
    log "transcript replays use the recorded vectors in $vectors"
else
    log "SKIP: no APDU vectors at $vectors: the 8 transcript replay tests will pass without replaying"
fi
log "cargo test"
cargo test --workspace --locked
log "extension: lint, unit tests, reproducible build"
bash extension/test.sh
log "browsers: Chromium and Firefox ESR end to end (extension, host, pcscd, virtual card, demo service)"
bash tests/browser/run.sh
log "installers: the .deb installed, used in Chromium and Firefox ESR, removed; the .msi's tables"
bash installer/test.sh
