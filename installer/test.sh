#!/usr/bin/env bash
# The installers' tests (scripts/test.sh runs this last; run as root, with what scripts/test.sh
# set up: the workspace built in target/debug, the extension built; it uses the private pcscd
# scripts/test.sh exported, or starts and stops its own, see scripts/lib.sh).
#
# 1. Debian package: build it from target/debug, take a listing of the file system, `dpkg -i`,
#    check what postinst registered, log in with the virtual card in Chromium and Firefox ESR
#    through the *installed* host and extension (tests/browser with EIDLINK_INSTALLED=1), then
#    `dpkg -r` and `dpkg -P`, comparing the listing with the one taken before each time.
# 2. Windows .msi: build installer/windows/eidlink.wxs with wixl and check its tables.
# 3. Windows under Wine (installer/windows/wine-test.sh): the programs scripts/build-windows.sh
#    built (EIDLINK_WINDOWS_BIN, or built here), and the .msi of them installed, upgraded, removed.
#
# The machine is left as it was: a failure purges the package on the way out.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib.sh

[ "$(id -u)" -eq 0 ] || { echo "installer/test.sh installs a package: run it as root" >&2; exit 1; }
if dpkg-query -W -f '${Status}' eidlink 2>/dev/null | grep -cv 'not-installed' >/dev/null; then
    echo "installer/test.sh: an eidlink package is already on this machine; remove it first (dpkg -P eidlink)" >&2
    exit 1
fi
WORK=$(mktemp -d /tmp/eidlink-installer.XXXXXX)
installed=no
cleanup() {
    if [ "$installed" = yes ]; then
        log "restoring the machine: dpkg -P eidlink"
        dpkg -P eidlink >/dev/null 2>&1 || true
    fi
    stop_pcscd
    rm -rf "$WORK"
}
trap cleanup EXIT
EIDLINK_TMP=$WORK
ensure_pcscd
started=$(date +%s)
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "FAILED - $*" >&2; }

# The listing: every path under the trees a package and its maintainer scripts may touch, with
# type, mode, owner and size (directories' sizes are left out: a directory keeps the size it
# grew to after its entries are gone), and a checksum of every file under /etc and of dpkg's
# database. Left out, and why:
#  - /var/lib/dpkg/status-old, available-old, lock*, triggers/Lock, triggers/Unincorp, updates/:
#    dpkg's journal and backups, rewritten by every dpkg run whatever the package;
#  - /var/lib/apt, /var/lib/systemd, /var/lib/dhcp: other services' state, which changes on its
#    own while the test runs (apt is not run here);
#  - /var/lib/dpkg/status is compared without the checksum of status-old's previous content: it
#    is in the listing and its checksum is compared, so a leftover eidlink entry fails the test.
snapshot() {
    find /usr /etc /opt /var/lib \
        \( -path /var/lib/apt -o -path /var/lib/systemd -o -path /var/lib/dhcp \
        -o -path /var/lib/dpkg/updates -o -path '/var/lib/dpkg/lock*' -o -path /var/lib/dpkg/status-old \
        -o -path /var/lib/dpkg/available-old -o -path /var/lib/dpkg/triggers/Lock \
        -o -path /var/lib/dpkg/triggers/Unincorp \) -prune -o \
        \( -type d -printf '%p\t%y\t%m\t%u:%g\n' \) -o -printf '%p\t%y\t%m\t%u:%g\t%s\t%l\n' | LC_ALL=C sort
    find /etc /var/lib/dpkg -type f \
        \( -path /var/lib/dpkg/status-old -o -path /var/lib/dpkg/available-old -o -path '/var/lib/dpkg/lock*' \
        -o -path '/var/lib/dpkg/triggers/*' -o -path '/var/lib/dpkg/updates/*' \) -prune -o \
        -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
}
# Caches that dpkg's file triggers rebuild from the directories the package installs into (the
# hicolor theme's icon-theme.cache, man-db's index, ...) are not the package's: dpkg -i and dpkg -r
# each rebuild them from what is there. A fresh machine's cache can be stale (left as an earlier
# package or image build wrote it; on one, icon-theme.cache went 656 -> 688 bytes across install
# and purge, with the same icons as before), so the listing after the purge would differ from the
# one before for a reason that is not ours. So before the baseline, the very triggers the package's
# paths activate are run once: the baseline then holds the rebuilt caches, and the comparison
# stays strict for every path, the package's files and anything its scripts write included (no
# path is left out of the listing for this).
run_triggers_for() {
    local deb=$1 paths dir fired=()
    paths=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||')
    while read -r dir _; do
        if awk -v d="$dir" 'index($0, d "/") == 1 || $0 == d { found = 1 } END { exit !found }' <<<"$paths"; then
            dpkg-trigger --no-await "$dir"
            fired+=("$dir")
        fi
    done </var/lib/dpkg/triggers/File
    # Also whatever another package left pending: dpkg -i would run it at its end anyway.
    dpkg --triggers-only --pending >"$WORK/triggers.log" 2>&1 || { cat "$WORK/triggers.log" >&2; exit 1; }
    echo "# triggers run before the baseline: ${fired[*]:-none}"
}

# After `dpkg -r` dpkg's database still has the package (state config-files, its postrm kept for
# the purge): that part of the listing is compared after the purge only.
compare() {
    local name=$1 filter=(cat)
    [ "$name" = remove ] && filter=(grep -v -e '^/var/lib/dpkg/' -e '  /var/lib/dpkg/')
    snapshot >"$WORK/after-$name.txt"
    if diff -u <("${filter[@]}" "$WORK/before.txt") <("${filter[@]}" "$WORK/after-$name.txt") >"$WORK/diff-$name.txt"; then
        pass "after dpkg $name the file system listing is the one taken before dpkg -i"
    else
        fail "after dpkg $name the file system differs from before dpkg -i:"
        head -40 "$WORK/diff-$name.txt" >&2
    fi
}

log "installer: building the .deb from target/debug"
t=$(date +%s)
deb=$(bash installer/deb/build.sh --profile debug --out "$WORK/deb")
echo "# $(basename "$deb"): $(du -h "$deb" | cut -f1), built in $(($(date +%s) - t)) s"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/eidlink ./usr/bin/eidlink-host ./usr/bin/eidlink-pin ./usr/bin/eidlink-tray \
    ./usr/share/man/man1/eidlink.1.gz ./usr/share/applications/org.eidlink.Tray.desktop \
    "./usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/eidlink@eidlink.org.xpi"; do
    if grep -qF " $f" <<<"$contents"; then pass "the package has $f"; else fail "the package lacks $f"; fi
done
if awk '{print $6}' <<<"$contents" | grep -c '^\./etc' >/dev/null; then
    fail "the package ships files under /etc (they would be conffiles)"
else
    pass "the package ships nothing under /etc"
fi
# eidlink's PKCS#11 module (host/pkcs11-module; build.sh ships it whenever the workspace has that
# crate, and refuses to build the package without the built module) and its two package-file
# registrations.
MODULE=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/pkcs11/libeidlink_pkcs11.so
FF_PKCS11=/usr/lib/mozilla/pkcs11-modules/eidlink_pkcs11.json
P11KIT=/usr/share/p11-kit/modules/eidlink.module
POLICIES=/etc/firefox/policies/policies.json
with_module=no
[ -f host/pkcs11-module/Cargo.toml ] && with_module=yes
if [ "$with_module" = yes ]; then
    for f in "$MODULE" "$FF_PKCS11" "$P11KIT"; do
        if grep -qF " .$f" <<<"$contents"; then pass "the package has $f"; else fail "the package lacks $f"; fi
    done
    if [ -e "$POLICIES" ]; then
        echo "installer/test.sh: $POLICIES exists before the test: the policy checks need a machine without one" >&2
        exit 1
    fi
else
    echo "# no host/pkcs11-module in this tree: the package has no PKCS#11 module to check"
fi
if grep -q 'libnss3-tools' <<<"$(dpkg-deb -f "$deb" Recommends)"; then pass "Recommends libnss3-tools (modutil for eidlink install --user)"; else fail "Recommends lacks libnss3-tools"; fi
depends=$(dpkg-deb -f "$deb" Depends)
if grep -q 'pcscd' <<<"$depends" && grep -q 'libpcsclite1' <<<"$depends"; then pass "Depends: $depends"; else fail "Depends lacks pcscd or libpcsclite1: $depends"; fi

log "installer: the package's dpkg triggers, a listing of the file system, then dpkg -i"
run_triggers_for "$deb"
snapshot >"$WORK/before.txt"
echo "# listing: $(wc -l <"$WORK/before.txt") entries"
installed=yes
dpkg -i "$deb" >"$WORK/dpkg-i.log" 2>&1 || { cat "$WORK/dpkg-i.log" >&2; exit 1; }

# What postinst registered: one manifest per browser, each pointing at the installed host, none
# of them owned by the package (dpkg -S) nor a conffile.
for m in /etc/chromium/native-messaging-hosts /etc/opt/chrome/native-messaging-hosts \
    /etc/opt/edge/native-messaging-hosts /etc/opt/brave.com/brave/native-messaging-hosts \
    /usr/lib/mozilla/native-messaging-hosts; do
    f="$m/org.eidlink.host.json"
    if [ -f "$f" ] && grep -q '"path": "/usr/bin/eidlink-host"' "$f"; then
        pass "postinst wrote $f"
    else
        fail "no manifest for /usr/bin/eidlink-host at $f"
    fi
    if dpkg -S "$f" >/dev/null 2>&1; then fail "$f belongs to the package"; fi
done
[ -z "$(dpkg-query -W -f '${Conffiles}' eidlink)" ] && pass "no conffiles" || fail "the package has conffiles"
[ -f /etc/xdg/autostart/eidlink-tray.desktop ] && pass "the tray's autostart entry is in /etc/xdg/autostart" ||
    fail "no /etc/xdg/autostart/eidlink-tray.desktop"
diag=$(HOME="$WORK/home" /usr/bin/eidlink diagnose 2>&1 || true)
if [ "$(grep -c '(system): ok: .* -> /usr/bin/eidlink-host$' <<<"$diag")" -eq 5 ]; then
    pass "eidlink diagnose finds the five system registrations working"
else
    fail "eidlink diagnose does not report the system registrations: $diag"
fi
if [ "$with_module" = yes ]; then
    # The module's registrations: the shipped manifest and p11-kit file, and the SecurityDevices
    # policy postinst added (eidlink created policies.json: there was none), all naming the
    # installed module; none of them a conffile, the policy file not the package's.
    for want in "Firefox PKCS#11 manifest (system): ok: $FF_PKCS11 -> $MODULE" \
        "Firefox policy SecurityDevices (system): ok: $POLICIES -> $MODULE" \
        "p11-kit (system): ok: $P11KIT -> $MODULE"; do
        if grep -qxF "  $want" <<<"$diag"; then pass "diagnose: $want"; else fail "diagnose does not say '$want': $diag"; fi
    done
    if [ -f "$POLICIES" ] && [ "$(tr -d ' \n' <"$POLICIES")" = "{\"policies\":{\"SecurityDevices\":{\"Add\":{\"eidlink\":\"$MODULE\"}}}}" ]; then
        pass "postinst wrote $POLICIES with SecurityDevices.Add.eidlink = $MODULE"
    else
        fail "no SecurityDevices policy for $MODULE in $POLICIES: $(cat "$POLICIES" 2>&1)"
    fi
    if dpkg -S "$POLICIES" >/dev/null 2>&1; then fail "$POLICIES belongs to the package"; fi
    # The login-time entry registers the module in a user's NSS database (Chromium reads only
    # that one), and a second login changes nothing: run its Exec line as a fresh user would.
    NSS_AUTOSTART=/etc/xdg/autostart/eidlink-nssdb.desktop
    exec_line=$(sed -n 's/^Exec=//p' "$NSS_AUTOSTART" 2>/dev/null || true)
    if [ -n "$exec_line" ]; then
        mkdir -p "$WORK/nss-user"
        # shellcheck disable=SC2086 # the Exec line's words, as the desktop splits them
        (cd /tmp && HOME="$WORK/nss-user" XDG_DATA_HOME= $exec_line >"$WORK/nss-autostart.log" 2>&1) &&
            (cd /tmp && HOME="$WORK/nss-user" XDG_DATA_HOME= $exec_line >>"$WORK/nss-autostart.log" 2>&1) || true
        if modutil -list -dbdir "sql:$WORK/nss-user/.pki/nssdb" 2>/dev/null | grep -q "library name: $MODULE"; then
            pass "the login-time entry ($exec_line) registers $MODULE in the user's NSS database"
        else
            fail "the login-time entry did not register the module: $(cat "$WORK/nss-autostart.log")"
        fi
        [ "$(modutil -list -dbdir "sql:$WORK/nss-user/.pki/nssdb" 2>/dev/null | grep -c "library name: $MODULE")" -eq 1 ] &&
            pass "a second login leaves one registration" || fail "a second login registered the module twice"
    else
        fail "no $NSS_AUTOSTART with an Exec line"
    fi
fi
for b in eidlink eidlink-host eidlink-pin eidlink-tray; do
    if "/usr/bin/$b" --help 2>&1 | grep -ci 'usage' >/dev/null; then pass "$b --help"; else fail "$b --help prints no usage"; fi
    if man -l "/usr/share/man/man1/$b.1.gz" 2>/dev/null | grep -c "$b" >/dev/null; then pass "man page $b(1)"; else fail "man page $b(1) does not render"; fi
done

# The comparison is not blind: while installed, the listing must show the package and a manifest.
snapshot >"$WORK/installed.txt"
# (diff exits 1 when the files differ, which is the point here: its output goes to a file first.)
diff "$WORK/before.txt" "$WORK/installed.txt" >"$WORK/installed.diff" || true
if grep -q '^> /usr/bin/eidlink-host' "$WORK/installed.diff" &&
    grep -q '^> /etc/chromium/native-messaging-hosts/org.eidlink.host.json' "$WORK/installed.diff"; then
    pass "the listing taken while installed shows the host and its manifests"
else
    fail "the listing does not see the installed package"
fi

log "installer: Chromium and Firefox ESR log in through the installed host and extension"
if EIDLINK_INSTALLED=1 bash tests/browser/run.sh --test-name-pattern='^log in with the card'; then
    pass "browser login through the installed package"
else
    fail "browser login through the installed package"
fi

log "installer: dpkg -r"
dpkg -r eidlink >"$WORK/dpkg-r.log" 2>&1 || { cat "$WORK/dpkg-r.log" >&2; exit 1; }
[ ! -e /usr/bin/eidlink-host ] && [ ! -e /etc/chromium/native-messaging-hosts/org.eidlink.host.json ] &&
    pass "dpkg -r removed the host and its manifests" || fail "dpkg -r left the host or a manifest"
if [ "$with_module" = yes ]; then
    [ ! -e "$MODULE" ] && [ ! -e "$FF_PKCS11" ] && [ ! -e "$P11KIT" ] && [ ! -e "$POLICIES" ] && [ ! -e "$(dirname "$POLICIES")" ] &&
        pass "dpkg -r removed the module, its manifest, its p11-kit file and the policies.json eidlink created" ||
        fail "dpkg -r left the module or one of its registrations: $(ls -la "$MODULE" "$FF_PKCS11" "$P11KIT" "$(dirname "$POLICIES")" 2>&1)"
fi
compare remove
dpkg -P eidlink >"$WORK/dpkg-p.log" 2>&1 || { cat "$WORK/dpkg-p.log" >&2; exit 1; }
installed=no
compare purge

log "installer: Windows .msi (wixl) and its tables"
if bash installer/windows/test.sh; then pass "the .msi tables"; else fail "the .msi tables"; fi
log "installer: the Windows programs and the real .msi under Wine"
if bash installer/windows/wine-test.sh ${EIDLINK_WINDOWS_BIN:+"$EIDLINK_WINDOWS_BIN"}; then
    pass "the Windows programs and the .msi under Wine"
else
    fail "the Windows programs and the .msi under Wine"
fi

echo "# installer tests took $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
