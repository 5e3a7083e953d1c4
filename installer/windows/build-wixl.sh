#!/usr/bin/env bash
# Builds eidlink.msi from eidlink.wxs with wixl (msitools), here on Linux. With BINDIR (the
# folder scripts/build-windows.sh prints) it packs the real Windows programs: the .msi that
# wine-test.sh installs. Without it the programs are stand-ins named as the real ones, enough to
# check the .wxs and its tables (test.sh and its mutations). WiX on a Windows runner builds the
# same .wxs (.github/workflows/windows.yml). wixl cannot build a UI nor run ICE validation.
# EIDLINK_MSI_VERSION overrides the version (wine-test.sh builds N+1 to test the upgrade).
#
#   bash installer/windows/build-wixl.sh [OUT.msi] [WXS] [BINDIR]   (default target/windows/eidlink.msi)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
out=${1:-$ROOT/target/windows/eidlink.msi}
wxs=${2:-$HERE/eidlink.wxs}
bindir=${3:-}
VERSION=${EIDLINK_MSI_VERSION:-$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -1)}

stand=$(mktemp -d /tmp/eidlink-wixl.XXXXXX)
trap 'rm -rf "$stand"' EXIT
for f in eidlink.exe eidlink-host.exe eidlink-pin.exe eidlink-tray.exe eidlink_pkcs11.dll; do
    if [ -n "$bindir" ] && [ -f "$bindir/$f" ]; then
        cp "$bindir/$f" "$stand/$f"
    elif [ -n "$bindir" ] && { [ "$f" != eidlink_pkcs11.dll ] || [ -f "$ROOT/host/pkcs11-module/Cargo.toml" ]; }; then
        echo "build-wixl.sh: $bindir/$f is missing (scripts/build-windows.sh builds it)" >&2
        exit 1
    else
        # Stand-ins; with BINDIR only for the PKCS#11 module of a tree that has none yet.
        [ -z "$bindir" ] || echo "# build-wixl.sh: no host/pkcs11-module in this tree: eidlink_pkcs11.dll is a stand-in" >&2
        printf 'stand-in for %s (wixl test build)\n' "$f" >"$stand/$f"
    fi
done
xpi="$ROOT/extension/dist/eidlink-firefox.xpi"
[ -f "$xpi" ] || (cd "$ROOT/extension" && node build.mjs >/dev/null)
cp "$xpi" "$stand/eidlink-firefox.xpi"

cp "$HERE"/org.eidlink.host.*.json "$HERE/eidlink_pkcs11.json" "$stand/"
cp "$wxs" "$stand/eidlink.wxs"

mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
# wixl wants relative Source paths: everything is staged beside the .wxs. -a x64 with
# Win64="yes" components, because wixl ignores Package/@Platform (test-infra.md §5); its GLib
# warning about that property is dropped.
(cd "$stand" && wixl -a x64 -D Version="$VERSION" -D SourceDir=. -D ManifestDir=. -o "$out" eidlink.wxs 2> >(grep -v "no property named 'Platform'" | grep -v '^$' >&2))
echo "$out"
