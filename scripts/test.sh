#!/usr/bin/env bash
# Runs every eidlink test on this machine: installs system packages, starts a private pcscd with
# the vpcd virtual reader (its own socket and ports; another pcscd is never touched, see
# scripts/lib.sh), runs format and lint checks, unit tests, transcript replays and the tests
# through the real PC/SC stack with the virtual card (including OpenSC's cross-check), the
# extension's tests, Chromium and Firefox ESR end to end, the installers (the Windows programs
# built here and run, installed and removed under Wine among them); then stops that pcscd.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
EIDLINK_TMP=$(mktemp -d /tmp/eidlink-test.XXXXXX)
# On the way out, also the background Windows build if it still runs (its own process group).
trap 'stop_pcscd; [ -z "${windows_build:-}" ] || kill -- "-$windows_build" 2>/dev/null || true' EXIT

ensure_rust
install_packages
ensure_node
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "building"
cargo build --workspace --all-targets --locked
# The Windows programs build meanwhile at the lowest priority (its own target dir, its own
# toolchain: scripts/build-windows.sh), so that the tests below keep the CPU and the build fills
# their idle time; installer/test.sh runs them under Wine.
log "building the Windows programs in the background (log: $EIDLINK_TMP/windows-build.log)"
setsid nice -n 19 bash scripts/build-windows.sh >"$EIDLINK_TMP/windows-bin" 2>"$EIDLINK_TMP/windows-build.log" &
windows_build=$!
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
t=$(date +%s)
if ! wait "$windows_build"; then
    cat "$EIDLINK_TMP/windows-build.log" >&2
    echo "scripts/build-windows.sh failed" >&2
    exit 1
fi
grep '^#' "$EIDLINK_TMP/windows-build.log" >&2 || true
log "the Windows build was waited for $(($(date +%s) - t)) s"
export EIDLINK_WINDOWS_BIN
EIDLINK_WINDOWS_BIN=$(cat "$EIDLINK_TMP/windows-bin")
log "installers: the .deb installed, used in Chromium and Firefox ESR, removed; the .msi's tables; the Windows programs and the .msi under Wine"
bash installer/test.sh
