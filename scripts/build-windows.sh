#!/usr/bin/env bash
# Builds the release Windows programs (eidlink, eidlink-host, eidlink-pin, eidlink-tray) here on
# Linux: Debian's rustc-web/cargo-web 1.96 with rust-web-src (the standard library is built for
# the target, -Zbuild-std, as Debian ships no prebuilt Windows std) and mingw-w64's linker. Named
# explicitly, /usr/bin/cargo and /usr/bin/rustc: rustup's toolchain may come first in PATH and is
# left alone. Its own target dir (target/windows), so it never waits on the Linux build's lock.
# Prints the folder with the stripped .exe files on stdout.
#
#   bash scripts/build-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=$PWD/target/windows
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
started=$(date +%s)
/usr/bin/cargo build -Zbuild-std --target x86_64-pc-windows-gnu --release --locked \
    -p eidlink-app -p eidlink-pin-dialog -p eidlink-tray --bins >&2
out=$CARGO_TARGET_DIR/x86_64-pc-windows-gnu/release
dist=$CARGO_TARGET_DIR/dist
mkdir -p "$dist"
for exe in eidlink eidlink-host eidlink-pin eidlink-tray; do
    # The symbol table only (the release profile has no debug info): what a package ships.
    x86_64-w64-mingw32-strip -o "$dist/$exe.exe" "$out/$exe.exe"
    echo "# $exe.exe: $(du -k "$dist/$exe.exe" | cut -f1) KiB" >&2
done
echo "# Windows build: $(($(date +%s) - started)) s" >&2
echo "$dist"
