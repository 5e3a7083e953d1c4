#!/usr/bin/env bash
# PKCS#11 figures (bench/pkcs11.py): calls per flow through pkcs11-spy, and eidlink-host time through
# OpenSC's module next to our native driver. Not part of the test command. Builds the release
# binaries, runs with a private pcscd; EIDLINK_BENCH_RUNS (default 20) runs per timing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
install_packages
cargo build --release --locked -p eidlink-app -p eidlink-tests --bins
exec bash scripts/with-pcscd.sh python3 bench/pkcs11.py
