#!/usr/bin/env bash
# The real Windows programs and the real .msi under Wine (installer/test.sh runs it, after
# scripts/test.sh built the workspace's tests; needs wine, mingw-w64 and Xvfb, which
# scripts/lib.sh installs). Each part runs in a fresh WINEPREFIX under /tmp, removed at the end.
#
# 1. The programs from scripts/build-windows.sh: the host's card-free tests (host/app/tests/host.rs
#    with EIDLINK_TEST_HOST=eidlink-host.exe under wine); `eidlink readers` without a smart-card
#    service; `eidlink install --user` / `diagnose` / `uninstall --user` read back with `reg query`;
#    the PIN dialog's screenshot tests (gui/tests/screenshots.rs with EIDLINK_TEST_PIN); the tray
#    app telling that the service is not running.
# 2. The .msi wixl builds from those programs: `msiexec /i` into a fresh prefix, the files, the
#    browsers' HKLM keys, the Start-menu shortcut and the Run key; the installed host started the
#    way Chrome starts it (registry -> manifest -> host path, through cmd.exe) answers the
#    handshake; an upgrade to N+1 leaves one installation; `msiexec /x` leaves the registry and
#    the drive as they were before the install.
#
# What Wine cannot show: a card. Its winscard is a stub (no PC/SC context can be established), so
# every card path ends at "the smart card service is not running"; the card paths are tested on
# Linux with the real pcscd. Test-only: Wine 8.0 lacks bcryptprimitives.dll, which Rust's std
# imports (ProcessPrng); wine/bcryptprimitives.c stands in for it in the test prefix's system32
# and is never packaged.
#
#   bash installer/windows/wine-test.sh [BINDIR]     (default: built by scripts/build-windows.sh)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh

bin=${1:-$(bash scripts/build-windows.sh)}
bin=$(cd "$bin" && pwd)
WORK=$(mktemp -d /tmp/eidlink-wine.XXXXXX)
# No Wine debug chatter; no offer to download Mono or Gecko (no network in CI, none needed); no
# winemenubuilder, which would mirror the Start-menu shortcut into this machine's ~/.local.
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
xvfb=
cleanup() {
    local p
    for p in "$WORK"/prefix-*; do
        [ -d "$p" ] && WINEPREFIX=$p wineserver -k >/dev/null 2>&1 || true
    done
    [ -z "$xvfb" ] || kill "$xvfb" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
started=$(date +%s)
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "FAILED - $*" >&2; }

# A private X server for the windows (and for Wine's desktop process).
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$WORK/display" >/dev/null 2>&1 &
xvfb=$!
for _ in $(seq 100); do [ -s "$WORK/display" ] && break; sleep 0.1; done
export DISPLAY=:$(head -1 "$WORK/display")

shim=$WORK/bcryptprimitives.dll
x86_64-w64-mingw32-gcc -shared -O2 -o "$shim" "$HERE/wine/bcryptprimitives.c" -ladvapi32 -Wl,--kill-at

# A fresh prefix. Wine's own processes (services.exe, winedevice, ...) are started here with no
# terminal and kept (wineserver -p): started by a test's program they would inherit its pipes and
# hold them open after it exits, and a reader waiting for end of file would wait for ever.
new_prefix() {
    export WINEPREFIX=$WORK/prefix-$1
    wineboot -i </dev/null >/dev/null 2>&1
    cp "$shim" "$WINEPREFIX/drive_c/windows/system32/"
    wineserver -w
    wineserver -p
    wine cmd /c exit </dev/null >/dev/null 2>&1
}
winpath() { winepath -w "$1" 2>/dev/null; }
# The prefix user's %APPDATA%, as a Unix path.
appdata() { winepath -u "$(wine cmd /c echo %APPDATA% 2>/dev/null | tr -d '\r')" 2>/dev/null; }
unixpath() { winepath -u "$1" 2>/dev/null; }
# The default value of a registry key, or nothing (and status 1) when there is no key.
reg_default() {
    wine reg query "$1" /ve 2>/dev/null | tr -d '\r' | sed -n 's/^ *(Default) *REG_SZ *//p' | grep .
}
# The host program a native-messaging registration names: key -> manifest -> "path", a relative
# path read from the manifest's folder (as Chrome and Firefox do on Windows). Prints the manifest
# and the host, as Unix paths.
registered_host() {
    local manifest host
    manifest=$(reg_default "$1") || { echo "no key $1" >&2; return 1; }
    manifest=$(unixpath "$manifest")
    [ -f "$manifest" ] || { echo "$1 names $manifest, which does not exist" >&2; return 1; }
    host=$(sed -n 's/^ *"path": *"\(.*\)",*$/\1/p' "$manifest" | sed 's/\\\\/\\/g')
    case "$host" in
        [A-Za-z]:\\*) host=$(unixpath "$host") ;;
        *) host=$(dirname "$manifest")/$host ;;
    esac
    [ -f "$host" ] || { echo "$manifest names the host $host, which does not exist" >&2; return 1; }
    printf '%s\n%s\n' "$manifest" "$host"
}
KEYS=(Google\\Chrome Microsoft\\Edge Mozilla)
# Whether HIVE's keys for Chrome, Edge and Firefox name manifests of the host HOST (a file); says
# what is wrong otherwise.
keys_name_host() {
    local hive=$1 want=$2 k key found ok=0
    for k in "${KEYS[@]}"; do
        key="$hive\\Software\\$k\\NativeMessagingHosts\\org.eidlink.host"
        if found=$(registered_host "$key"); then
            cmp -s "$(tail -1 <<<"$found")" "$want" || { ok=1; echo "$key: not the host $want" >&2; }
        else
            ok=1
        fi
    done
    return $ok
}

# ---------------------------------------------------------------------------------- 1. programs
log "Wine: the Windows programs in a fresh prefix"
new_prefix programs
appdata=$(appdata)
# The host reads its config where Windows keeps it; a short wait for a card (there is none).
mkdir -p "$appdata/eidlink/eidlink/config"
printf 'timeout-seconds = 3\n' >"$appdata/eidlink/eidlink/config/config.toml"

if EIDLINK_TEST_HOST=$bin/eidlink-host.exe EIDLINK_TEST_HOST_RUNNER=wine \
    cargo test -q --locked -p eidlink-app --test host -- \
    handshake_and_quit every_bad_message frame_lengths no_smart_card_service; then
    pass "eidlink-host.exe: handshake, quit, every bad frame and argument, 0x0A/0x0D/0x1A lengths, no service"
else
    fail "eidlink-host.exe under Wine (host/app/tests/host.rs)"
fi

set +e
out=$(wine "$bin/eidlink.exe" readers 2>&1 </dev/null)
rc=$?
set -e
if [ "$rc" = 3 ] && grep -q "smart card service is not running" <<<"$out"; then
    pass "eidlink.exe readers: exit 3, '$out'"
else
    fail "eidlink.exe readers: exit $rc, '$out' (want 3 and the service not running)"
fi

ok=yes
wine "$bin/eidlink.exe" install --user </dev/null >"$WORK/install.out" 2>&1 || { ok=no; cat "$WORK/install.out" >&2; }
keys_name_host HKCU "$bin/eidlink-host.exe" || ok=no
wine "$bin/eidlink.exe" diagnose </dev/null >"$WORK/diagnose.out" 2>&1 || true
for b in "Google Chrome" "Microsoft Edge" "Firefox"; do
    grep -q "^  $b (user): ok: " "$WORK/diagnose.out" || { ok=no; echo "diagnose: $b (user) not ok" >&2; }
done
# eidlink's PKCS#11 module beside eidlink.exe (built when the tree has host/pkcs11-module):
# HKCU's Firefox PKCS11Modules key names a manifest that names it.
PKCS11_KEY='Software\Mozilla\PKCS11Modules\eidlink_pkcs11'
module_checked=""
if [ -f "$bin/eidlink_pkcs11.dll" ]; then
    module_checked="; the PKCS#11 module's HKCU key, manifest and diagnose line too"
    if found=$(registered_host "HKCU\\$PKCS11_KEY"); then
        cmp -s "$(tail -1 <<<"$found")" "$bin/eidlink_pkcs11.dll" || { ok=no; echo "HKCU\\$PKCS11_KEY: not $bin/eidlink_pkcs11.dll" >&2; }
    else
        ok=no
    fi
    grep -q "^  Firefox PKCS#11 manifest (user): ok: " "$WORK/diagnose.out" || { ok=no; echo "diagnose: the PKCS#11 manifest (user) not ok" >&2; }
fi
wine "$bin/eidlink.exe" uninstall --user </dev/null >/dev/null 2>&1 || ok=no
for k in "${KEYS[@]}"; do
    key="HKCU\\Software\\$k\\NativeMessagingHosts\\org.eidlink.host"
    if wine reg query "$key" >/dev/null 2>&1; then ok=no; echo "uninstall left $key" >&2; fi
done
if wine reg query "HKCU\\$PKCS11_KEY" >/dev/null 2>&1; then ok=no; echo "uninstall left HKCU\\$PKCS11_KEY" >&2; fi
wine "$bin/eidlink.exe" diagnose </dev/null >"$WORK/diagnose-after.out" 2>&1 || true
grep -q "(user): ok:" "$WORK/diagnose-after.out" && { ok=no; echo "diagnose still sees a registration" >&2; }
if [ "$ok" = yes ]; then
    pass "eidlink.exe install --user: HKCU keys for Chrome, Edge, Firefox naming manifests of this host; diagnose ok; uninstall removes them$module_checked"
else
    fail "eidlink.exe install/diagnose/uninstall --user"
    cat "$WORK/diagnose.out" >&2
fi

if EIDLINK_TEST_PIN=$bin/eidlink-pin.exe EIDLINK_TEST_PIN_RUNNER=wine \
    cargo test -q --locked -p eidlink-pin-dialog --test screenshots -- authenticate sign; then
    pass "eidlink-pin.exe: the dialog's screenshots (authenticate, sign; 4 languages) in target/screenshots/windows"
else
    fail "eidlink-pin.exe screenshots under Wine"
fi

shots=$ROOT/target/screenshots/windows/tray
rm -rf "$shots" && mkdir -p "$shots"
wine "$bin/eidlink-tray.exe" --no-tray --state-file "$(winpath "$WORK/tray.json")" \
    --screenshot-dir "$(winpath "$shots")" </dev/null >"$WORK/tray.out" 2>&1 &
tray=$!
for _ in $(seq 300); do
    grep -q '"overall": "no-service"' "$WORK/tray.json" 2>/dev/null && break
    sleep 0.1
done
if grep -q '"overall": "no-service"' "$WORK/tray.json" 2>/dev/null &&
    grep -q '"action": "start-service"' "$WORK/tray.json" && kill -0 "$tray" 2>/dev/null; then
    pass "eidlink-tray.exe starts and says the smart-card service is not running (window in $shots)"
else
    fail "eidlink-tray.exe: $(cat "$WORK/tray.json" 2>/dev/null) $(cat "$WORK/tray.out")"
fi
kill "$tray" 2>/dev/null || true
wait "$tray" 2>/dev/null || true
wineserver -k || true

# ---------------------------------------------------------------------------------------- 2. .msi
log "Wine: the .msi of these programs, installed, upgraded and removed in a fresh prefix"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
next=${version%.*}.$((${version##*.} + 1))
bash "$HERE/build-wixl.sh" "$WORK/eidlink.msi" "" "$bin" >/dev/null
EIDLINK_MSI_VERSION=$next bash "$HERE/build-wixl.sh" "$WORK/eidlink-next.msi" "" "$bin" >/dev/null
echo "# eidlink.msi: $(du -k "$WORK/eidlink.msi" | cut -f1) KiB (the real programs)"
new_prefix msi
# What the install may change: the registry (HKLM and HKCU software) and drive C:. Left out of
# the listing: the Temp folders' content (msiexec's scratch files, which come and go) and the
# registry hives' own files (the exports compare their content).
snapshot() {
    wine reg export 'HKLM\Software' "$(winpath "$1.hklm")" /y >/dev/null 2>&1
    wine reg export 'HKCU\Software' "$(winpath "$1.hkcu")" /y >/dev/null 2>&1
    (cd "$WINEPREFIX/drive_c" && find . \( -path './windows/temp/*' -o -path './users/*/Temp/*' \) -prune \
        -o \( -type d -printf '%p\t%y\n' \) -o -printf '%p\t%y\t%s\n' | LC_ALL=C sort) >"$1.files"
}
snapshot "$WORK/before"
ok=yes
wine msiexec /i "$(winpath "$WORK/eidlink.msi")" /qn </dev/null >/dev/null 2>&1 || { ok=no; echo "msiexec /i failed" >&2; }
dir="$WINEPREFIX/drive_c/Program Files/eidlink"
for f in eidlink.exe eidlink-host.exe eidlink-pin.exe eidlink-tray.exe; do
    cmp -s "$dir/$f" "$bin/$f" || { ok=no; echo "not installed: $dir/$f" >&2; }
done
for f in org.eidlink.host.chromium.json org.eidlink.host.firefox.json eidlink_pkcs11.json eidlink-firefox.xpi \
    eidlink_pkcs11.dll; do
    [ -f "$dir/$f" ] || { ok=no; echo "not installed: $dir/$f" >&2; }
done
keys_name_host HKLM "$bin/eidlink-host.exe" || ok=no
# Firefox: HKLM's PKCS11Modules key -> the installed manifest -> the installed module (the real
# one when scripts/build-windows.sh built it, build-wixl.sh's stand-in otherwise).
if found=$(registered_host "HKLM\\$PKCS11_KEY"); then
    [ "$(tail -1 <<<"$found")" -ef "$dir/eidlink_pkcs11.dll" ] || { ok=no; echo "HKLM\\$PKCS11_KEY names $(tail -1 <<<"$found")" >&2; }
    if [ -f "$bin/eidlink_pkcs11.dll" ]; then
        cmp -s "$dir/eidlink_pkcs11.dll" "$bin/eidlink_pkcs11.dll" || { ok=no; echo "not installed: $dir/eidlink_pkcs11.dll" >&2; }
    fi
else
    ok=no
fi
# Windows puts a per-machine (ALLUSERS=1) install's ProgramMenuFolder in ProgramData; Wine 8.0's
# msi resolves it to the installing user's Start menu whatever ALLUSERS says: either is the
# shortcut (its removal is checked with the rest of the drive below).
lnk=
for d in "$WINEPREFIX/drive_c/ProgramData" "$(appdata)"; do
    [ -f "$d/Microsoft/Windows/Start Menu/Programs/eidlink.lnk" ] && lnk="$d/Microsoft/Windows/Start Menu/Programs/eidlink.lnk"
done
[ -n "$lnk" ] || { ok=no; echo "no Start-menu shortcut eidlink.lnk" >&2; }
grep -aq 'eidlink-tray.exe' "$lnk" 2>/dev/null || { ok=no; echo "$lnk does not start eidlink-tray.exe" >&2; }
run=$(wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' /v eidlink 2>/dev/null | tr -d '\r' |
    sed -n 's/^ *eidlink *REG_SZ *//p')
[ "$run" = '"C:\Program Files\eidlink\eidlink-tray.exe" --hidden' ] || { ok=no; echo "Run key: '$run'" >&2; }
if [ "$ok" = yes ]; then
    pass "msiexec /i: the programs under Program Files, HKLM keys for Chrome, Edge, Firefox naming manifests whose host exists, Firefox's PKCS11Modules key naming the module's manifest, Start-menu shortcut, Run key"
else
    fail "msiexec /i eidlink.msi"
fi

# Chrome on Windows starts a host through cmd.exe, with the manifest's folder resolved and the
# extension's origin and --parent-window as arguments; the host test's handshake runs through it.
# (Chrome's own command line, cmd /d /s /c ""host" args", cannot pass through Wine's argv
# quoting; cmd /c "host" args keeps the quoted path with its space the same way.)
host=$(registered_host 'HKLM\Software\Google\Chrome\NativeMessagingHosts\org.eidlink.host' | tail -1)
cat >"$WORK/as-chrome" <<'SH'
#!/bin/sh
exec wine cmd /d /c "$1" chrome-extension://ccnigmgcdcaomdokminffignfkmonapb/ --parent-window=0
SH
chmod +x "$WORK/as-chrome"
if EIDLINK_TEST_HOST=$(winpath "$host") EIDLINK_TEST_HOST_RUNNER=$WORK/as-chrome \
    cargo test -q --locked -p eidlink-app --test host -- handshake_and_quit; then
    pass "the installed eidlink-host.exe, started as Chrome starts it, answers the handshake and quit"
else
    fail "the installed host through cmd.exe"
fi

ok=yes
wine msiexec /i "$(winpath "$WORK/eidlink-next.msi")" /qn </dev/null >/dev/null 2>&1 || { ok=no; echo "upgrade failed" >&2; }
products=$(wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null | tr -d '\r' |
    grep -c '^ *DisplayName *REG_SZ *eidlink$' || true)
versions=$(wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null | tr -d '\r' |
    grep -A30 '^ *DisplayName *REG_SZ *eidlink$' | sed -n 's/^ *DisplayVersion *REG_SZ *//p' | head -1)
[ "$products" = 1 ] || { ok=no; echo "after the upgrade: $products installations of eidlink" >&2; }
registered_host 'HKLM\Software\Google\Chrome\NativeMessagingHosts\org.eidlink.host' >/dev/null || ok=no
if [ "$ok" = yes ]; then
    pass "upgrade $version -> $next: one installation (DisplayVersion $versions), still registered"
else
    fail "upgrade $version -> $next"
fi

wine msiexec /x "$(winpath "$WORK/eidlink-next.msi")" /qn </dev/null >/dev/null 2>&1 || echo "msiexec /x failed" >&2
snapshot "$WORK/after"
ok=yes
# A registry export as one line per value, "key<TAB>value" ("key<TAB>(no values)" for a key
# without any). Windows Installer's own bookkeeping keys (Classes\Installer, CurrentVersion\
# Installer), which its first use on a machine creates and leaves empty, and an emptied Run key
# (Wine's msi deletes a key it emptied; Windows keeps Run) are left out when empty, and so is
# Wine's own HKCU\Software\Wine\Temporary System Parameters (the desktop's metrics, written
# when a window first shows); every value, and every other key, counts. Likewise the folder
# Windows Installer keeps its cache in.
flat_reg() {
    iconv -f UTF-16 -t UTF-8 "$1" | tr -d '\r' | awk '
        /^\[/ { if (key != "" && !n) print key "\t(no values)"; key = $0; n = 0; next }
        /^$/ || /^Windows Registry Editor/ { next }
        { print key "\t" $0; n++ }
        END { if (key != "" && !n) print key "\t(no values)" }' |
        awk -F'\t' -v ci='[HKEY_LOCAL_MACHINE\\Software\\Classes\\Installer' \
            -v wi='[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Installer' \
            -v run='[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run]' \
            -v tsp='[HKEY_CURRENT_USER\\Software\\Wine\\Temporary System Parameters' '
            $2 == "(no values)" && (index($1, ci) == 1 || index($1, wi) == 1 || $1 == run || index($1, tsp) == 1) { next }
            { print }'
}
flat_files() { grep -v '^\./windows/Installer	d$' "$1"; }
for part in hklm hkcu files; do
    case $part in files) flat=flat_files ;; *) flat=flat_reg ;; esac
    if ! diff <($flat "$WORK/before.$part") <($flat "$WORK/after.$part") >"$WORK/$part.diff"; then
        ok=no
        echo "msiexec /x left changes in $part:" >&2
        head -40 "$WORK/$part.diff" >&2
    fi
done
if [ "$ok" = yes ]; then
    pass "msiexec /x: HKLM and HKCU software and drive C: as before the install"
else
    fail "msiexec /x"
fi
wineserver -k || true

echo "# Wine tests: $passed passed, $failed failed, $(($(date +%s) - started)) s"
[ "$failed" = 0 ]
