#!/usr/bin/env bash
# TLS client-certificate login figures (bench/tls.py): handshake time and APDUs per handshake through
# eidlink's PKCS#11 module next to OpenSC's, on the same virtual Belgian 1.7 card with the same
# openssl s_server. Not part of the test command. Builds the release binaries, runs with a private
# pcscd; EIDLINK_BENCH_RUNS (default 20) handshakes per module.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
install_packages
cargo build --release --locked -p eidlink-tests --bins
cargo build --release --locked -p eidlink-pkcs11-module
exec bash scripts/with-pcscd.sh python3 bench/tls.py
