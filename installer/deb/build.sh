#!/usr/bin/env bash
# Builds eidlink_<version>_amd64.deb with dpkg-deb from binaries cargo already built.
#
#   bash installer/deb/build.sh                    # target/debug (what scripts/test.sh built)
#   bash installer/deb/build.sh --profile release  # cargo build --release first (real releases)
#   options: --bin-dir DIR (binaries from elsewhere), --out DIR (default target/debian)
#
# Why dpkg-deb and not cargo-deb: the package is mostly not Rust (maintainer scripts, the
# extension, desktop entries, man pages), cargo-deb would make every /etc file a conffile (which
# we must avoid, test-infra.md §6), and it would cost a 1.5 min install plus its own release build
# in CI. dpkg-deb and dpkg-shlibdeps are Debian's own tools.
#
# The layout (installer/README.md explains each part):
#   /usr/bin/eidlink, eidlink-host, eidlink-pin, eidlink-tray        (stripped)
#   /usr/share/man/man1/*.1.gz                                        (help2man, from --help)
#   /usr/share/applications/org.eidlink.Tray.desktop, icons/hicolor/scalable/apps/eidlink.svg
#   /usr/share/eidlink/extension/{chromium/,eidlink-firefox.xpi,eidlink-chromium.zip}
#   /usr/share/eidlink/xdg-autostart/eidlink-{tray,nssdb}.desktop (postinst copies them to /etc/xdg/autostart)
#   /usr/share/chromium/extensions/eidlink -> the unpacked extension (Debian's Chromium loads it)
#   /usr/share/google-chrome/extensions/<id>.json                     (Chrome: Web Store offer)
#   /usr/share/mozilla/extensions/{ec8030f7-…}/eidlink@eidlink.org.xpi (Firefox: system add-on)
#   /usr/lib/<multiarch>/pkcs11/libeidlink_pkcs11.so                  (eidlink's PKCS#11 module, stripped)
#   /usr/lib/mozilla/pkcs11-modules/eidlink_pkcs11.json               (Firefox: the module's manifest)
#   /usr/share/p11-kit/modules/eidlink.module                         (p11-kit: the module)
#   native-messaging manifests, Firefox's SecurityDevices policy: written by postinst
#   (`eidlink install --system`), not shipped
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/installer/deb"
LINUX="$ROOT/installer/linux"

profile=debug
bin_dir=""
out="$ROOT/target/debian"
while [ $# -gt 0 ]; do
    case "$1" in
    --profile) profile=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$profile" in debug | release) ;; *) echo "build.sh: --profile is debug or release" >&2; exit 2 ;; esac

BINS=(eidlink eidlink-host eidlink-pin eidlink-tray)
if [ -z "$bin_dir" ]; then
    bin_dir="$ROOT/target/$profile"
    if [ "$profile" = release ]; then
        module=()
        [ -f "$ROOT/host/pkcs11-module/Cargo.toml" ] && module=(-p eidlink-pkcs11-module)
        (cd "$ROOT" && cargo build --release --locked -p eidlink-app -p eidlink-pin-dialog -p eidlink-tray --bins "${module[@]}")
    fi
fi
for b in "${BINS[@]}"; do
    [ -x "$bin_dir/$b" ] || { echo "build.sh: $bin_dir/$b is missing: run cargo build --workspace (or --profile release)" >&2; exit 1; }
done
# eidlink's PKCS#11 module (host/pkcs11-module), once the workspace has it: then it must be built.
MODULE_LIB=libeidlink_pkcs11.so
with_module=no
if [ -f "$ROOT/host/pkcs11-module/Cargo.toml" ]; then
    with_module=yes
    [ -f "$bin_dir/$MODULE_LIB" ] || { echo "build.sh: $bin_dir/$MODULE_LIB is missing: run cargo build -p eidlink-pkcs11-module" >&2; exit 1; }
fi
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
MODULE_PATH=/usr/lib/$MULTIARCH/pkcs11/$MODULE_LIB
# The shipped manifest and p11-kit file name the module's path (a register/pkcs11.rs test keeps
# them equal to what `eidlink install --system` writes).
for f in "$LINUX/eidlink_pkcs11.json" "$LINUX/eidlink.module"; do
    grep -qF "$MODULE_PATH" "$f" || { echo "build.sh: $f does not name $MODULE_PATH" >&2; exit 1; }
done

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -1)
[ -n "$VERSION" ] || { echo "build.sh: no workspace version in Cargo.toml" >&2; exit 1; }
CHROMIUM_ID=ccnigmgcdcaomdokminffignfkmonapb
FIREFOX_ID=eidlink@eidlink.org
FIREFOX_APP_ID='{ec8030f7-c20a-464f-9b0e-13a3a9e97384}'

EXT="$ROOT/extension/dist"
if [ ! -f "$EXT/chromium/manifest.json" ] || [ ! -f "$EXT/eidlink-firefox.xpi" ]; then
    (cd "$ROOT/extension" && node build.mjs >/dev/null)
fi
grep -q "\"$FIREFOX_ID\"" "$EXT/firefox/manifest.json" || { echo "build.sh: the Firefox add-on id is not $FIREFOX_ID" >&2; exit 1; }

WORK=$(mktemp -d /tmp/eidlink-deb.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# dpkg-shlibdeps wants the files inside debian/<package>/ next to a debian/control.
PKG="$WORK/debian/eidlink"
mkdir -p "$PKG/DEBIAN" "$PKG/usr/bin"

for b in "${BINS[@]}"; do
    strip --strip-unneeded -o "$PKG/usr/bin/$b" "$bin_dir/$b"
    chmod 0755 "$PKG/usr/bin/$b"
done

elf=("${BINS[@]/#/debian/eidlink/usr/bin/}")
if [ "$with_module" = yes ]; then
    install -d "$PKG/usr/lib/$MULTIARCH/pkcs11"
    strip --strip-unneeded -o "$PKG$MODULE_PATH" "$bin_dir/$MODULE_LIB"
    chmod 0644 "$PKG$MODULE_PATH"
    elf+=("debian/eidlink$MODULE_PATH")
    # Its registrations that are the same on every machine are package files: Firefox's manifest
    # (the extension's pkcs11 API, and what diagnose checks) and p11-kit's module file. Firefox's
    # SecurityDevices policy goes into a file under /etc that the administrator may own: postinst.
    install -D -m 0644 "$LINUX/eidlink_pkcs11.json" "$PKG/usr/lib/mozilla/pkcs11-modules/eidlink_pkcs11.json"
    install -D -m 0644 "$LINUX/eidlink.module" "$PKG/usr/share/p11-kit/modules/eidlink.module"
fi

# Man pages from each program's --help (help2man), plus every eidlink subcommand's own --help.
man="$PKG/usr/share/man/man1"
mkdir -p "$man"
roff_escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
{
    echo "[COMMANDS]"
    for sub in $("$PKG/usr/bin/eidlink" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && $1 != "help" {print $1}'); do
        echo ".SS \"eidlink $sub\""
        echo ".nf"
        "$PKG/usr/bin/eidlink" "$sub" --help | roff_escape
        echo ".fi"
    done
    echo "[EXIT STATUS]"
    echo "0 success, 1 other error, 2 usage, 3 no PC/SC service or no reader, 4 no (supported) card,"
    echo "5 PIN wrong, blocked or invalid, 6 card error, 7 signature does not verify."
    echo "[SEE ALSO]"
    echo ".BR eidlink-host (1), eidlink-pin (1), eidlink-tray (1)"
} >"$WORK/eidlink.h2m"
declare -A DESC=(
    [eidlink]="use your eID card from the command line: readers, certificates, signatures, diagnostics, browser registration"
    [eidlink-host]="the eidlink native-messaging host browsers start for Web eID requests"
    [eidlink-pin]="the eidlink PIN dialog"
    [eidlink-tray]="the eidlink tray app: reader and card status, history, settings"
)
# help2man dates each page; with SOURCE_DATE_EPOCH it is the last commit's date, not today's.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}"
for b in "${BINS[@]}"; do
    include=()
    [ "$b" = eidlink ] && include=(--include "$WORK/eidlink.h2m")
    help2man --no-info --no-discard-stderr --version-string="$VERSION" --name="${DESC[$b]}" \
        --section=1 --source="eidlink $VERSION" --manual="eidlink" "${include[@]}" \
        --output="$man/$b.1" "$PKG/usr/bin/$b"
    gzip -9n "$man/$b.1"
done

# Desktop entry, icon, the autostart entry postinst installs.
install -D -m 0644 "$LINUX/org.eidlink.Tray.desktop" "$PKG/usr/share/applications/org.eidlink.Tray.desktop"
install -D -m 0644 "$LINUX/eidlink.svg" "$PKG/usr/share/icons/hicolor/scalable/apps/eidlink.svg"
install -D -m 0644 "$LINUX/eidlink-tray.autostart.desktop" "$PKG/usr/share/eidlink/xdg-autostart/eidlink-tray.desktop"
install -D -m 0644 "$LINUX/eidlink-nssdb.autostart.desktop" "$PKG/usr/share/eidlink/xdg-autostart/eidlink-nssdb.desktop"

# The extension, and the places each browser family looks for one (installer/README.md).
share="$PKG/usr/share/eidlink/extension"
mkdir -p "$share"
cp -r "$EXT/chromium" "$share/chromium"
install -m 0644 "$EXT/eidlink-firefox.xpi" "$EXT/eidlink-chromium.zip" "$share/"
mkdir -p "$PKG/usr/share/chromium/extensions"
ln -s ../../eidlink/extension/chromium "$PKG/usr/share/chromium/extensions/eidlink"
install -d "$PKG/usr/share/google-chrome/extensions"
printf '{\n  "external_update_url": "https://clients2.google.com/service/update2/crx"\n}\n' \
    >"$PKG/usr/share/google-chrome/extensions/$CHROMIUM_ID.json"
install -D -m 0644 "$EXT/eidlink-firefox.xpi" "$PKG/usr/share/mozilla/extensions/$FIREFOX_APP_ID/$FIREFOX_ID.xpi"

install -D -m 0644 "$HERE/copyright" "$PKG/usr/share/doc/eidlink/copyright"
find "$PKG/usr" -type d -exec chmod 0755 {} +
find "$PKG/usr/share" -type f -exec chmod 0644 {} +

# Depends: what the binaries link (dpkg-shlibdeps), pcscd (the PC/SC service itself), and the
# libraries the PIN dialog and tray open at run time with dlopen (X11, xkbcommon, GL/EGL), which
# no ELF header names.
mkdir -p "$WORK/debian"
printf 'Source: eidlink\n\nPackage: eidlink\nArchitecture: any\n' >"$WORK/debian/control"
shlibs=$(cd "$WORK" && dpkg-shlibdeps -O "${elf[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "build.sh: dpkg-shlibdeps found nothing" >&2; exit 1; }
rm "$WORK/debian/control"
size=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)

cat >"$PKG/DEBIAN/control" <<EOF
Package: eidlink
Version: $VERSION
Architecture: amd64
Maintainer: eidlink developers <eidlink@eidlink.org>
Installed-Size: $size
Depends: $shlibs, pcscd, libx11-6, libx11-xcb1, libxcursor1, libxrandr2, libxi6, libxkbcommon-x11-0, libegl1, libgl1
Recommends: libccid, libgl1-mesa-dri, libnss3-tools
Section: utils
Priority: optional
Homepage: https://example.invalid/eidlink
Description: use your eID card on websites (Web eID compatible)
 eidlink lets you log in to public services and sign documents with your
 national eID card (Belgian eID, and other Web eID cards) in Chromium, Google
 Chrome, Microsoft Edge, Brave and Firefox, through any PC/SC card reader.
 .
 This package holds the eidlink command-line tool, the native-messaging host
 browsers start (eidlink-host), the PIN dialog (eidlink-pin), the tray app
 (eidlink-tray), the browser extension for Chromium and Firefox, eidlink's
 PKCS#11 module (TLS client-certificate login with the card, registered for
 Firefox and p11-kit), and registers the host with every browser for all users.
 "eidlink install --user" adds the module to a user's NSS database for
 Chromium and Chrome (modutil, in libnss3-tools).
EOF
install -m 0755 "$HERE/postinst" "$HERE/prerm" "$HERE/postrm" "$PKG/DEBIAN/"
(cd "$PKG" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$PKG/DEBIAN/md5sums"
chmod 0644 "$PKG/DEBIAN/control" "$PKG/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/eidlink_${VERSION}_amd64.deb"
# Releases get Debian's usual xz; the CI package is rebuilt on every run and gzip -1 is much faster.
comp=(-Zxz)
[ "$profile" = debug ] && comp=(-Zgzip -z1)
dpkg-deb --root-owner-group "${comp[@]}" --build "$PKG" "$deb" >/dev/null
echo "$deb"
