#!/usr/bin/env bash
# Builds eidlink-<version>.pkg on macOS (pkgbuild + productbuild, both part of Xcode's command
# line tools). Not run by CI: no macOS machine here (installer/macos/README.md).
#
#   bash installer/macos/build-pkg.sh        # after: cargo build --release; node extension/build.mjs
#
# Payload: /Library/Application Support/eidlink/{eidlink,eidlink-host,eidlink-pin,eidlink-tray}
# and the Firefox .xpi; scripts/postinstall registers the host with every browser by running
# `eidlink install --system`, and the tray at login (a LaunchAgent).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -1)
BIN="${BIN_DIR:-$ROOT/target/release}"

stage=$(mktemp -d /tmp/eidlink-pkg.XXXXXX)
trap 'rm -rf "$stage"' EXIT
app="$stage/root/Library/Application Support/eidlink"
mkdir -p "$app" "$stage/root/Library/LaunchAgents"
for b in eidlink eidlink-host eidlink-pin eidlink-tray; do
    install -m 0755 "$BIN/$b" "$app/$b"
done
install -m 0644 "$ROOT/extension/dist/eidlink-firefox.xpi" "$app/"
install -m 0755 "$HERE/uninstall.sh" "$app/uninstall.sh"
install -m 0644 "$HERE/org.eidlink.tray.plist" "$stage/root/Library/LaunchAgents/"

mkdir -p "$ROOT/target/macos"
pkgbuild --root "$stage/root" --identifier org.eidlink.pkg --version "$VERSION" \
    --scripts "$HERE/scripts" --install-location / "$stage/eidlink-component.pkg"
productbuild --package "$stage/eidlink-component.pkg" "$ROOT/target/macos/eidlink-$VERSION.pkg"
echo "$ROOT/target/macos/eidlink-$VERSION.pkg"
