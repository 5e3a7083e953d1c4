#!/usr/bin/env bash
# Builds the release Windows programs (eidlink, eidlink-host, eidlink-pin, eidlink-tray) and, once
# the workspace has host/pkcs11-module, eidlink's PKCS#11 module (eidlink_pkcs11.dll) here on
# Linux: Debian's rustc-web/cargo-web 1.96 with rust-web-src (the standard library is built for
# the target, -Zbuild-std, as Debian ships no prebuilt Windows std) and mingw-w64's linker. Named
# explicitly, /usr/bin/cargo and /usr/bin/rustc: rustup's toolchain may come first in PATH and is
# left alone. Its own target dir (target/windows), so it never waits on the Linux build's lock.
# Prints the folder with the stripped .exe (and .dll) files on stdout.
#
#   bash scripts/build-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=$PWD/target/windows
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
started=$(date +%s)
build() { /usr/bin/cargo build -Zbuild-std --target x86_64-pc-windows-gnu --release --locked "$@" >&2; }
build -p eidlink-app -p eidlink-pin-dialog -p eidlink-tray --bins
files=(eidlink.exe eidlink-host.exe eidlink-pin.exe eidlink-tray.exe)
# The module is a cdylib (--bins would skip it): its own invocation, same target dir and std.
if [ -f host/pkcs11-module/Cargo.toml ]; then
    build -p eidlink-pkcs11-module --lib
    files+=(eidlink_pkcs11.dll)
fi
out=$CARGO_TARGET_DIR/x86_64-pc-windows-gnu/release
dist=$CARGO_TARGET_DIR/dist
mkdir -p "$dist"
for f in "${files[@]}"; do
    # The symbol table only (the release profile has no debug info): what a package ships. A
    # DLL's exports (C_GetFunctionList) are its export table, which strip keeps.
    x86_64-w64-mingw32-strip -o "$dist/$f" "$out/$f"
    echo "# $f: $(du -k "$dist/$f" | cut -f1) KiB" >&2
done
echo "# Windows build: $(($(date +%s) - started)) s" >&2
echo "$dist"
