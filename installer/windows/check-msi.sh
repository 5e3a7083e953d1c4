#!/usr/bin/env bash
# Checks an eidlink .msi's tables with msiinfo (msitools) against what Windows and the browsers
# expect: fails on a wrong or missing browser key, a host manifest the key does not name, a wrong
# install path, shortcut or upgrade code. The expected values are written here, independently of
# eidlink.wxs, from the browsers' documentation of their registry locations.
#
#   bash installer/windows/check-msi.sh eidlink.msi
set -euo pipefail
msi=$1
[ -f "$msi" ] || { echo "check-msi.sh: no $msi" >&2; exit 2; }

# The one UpgradeCode eidlink.msi has had and must keep: a different one would install a second
# eidlink beside the first instead of upgrading it.
UPGRADE_CODE='{F6010316-A8AF-4BC8-8E63-D8A6C45B9274}'
HOST=org.eidlink.host
CHROMIUM_ID=ccnigmgcdcaomdokminffignfkmonapb
FIREFOX_ID=eidlink@eidlink.org
CWS_UPDATE=https://clients2.google.com/service/update2/crx
HKCU=1
HKLM=2
# Component attributes: 4 = registry key path; +256 = 64-bit (Win64, the 64-bit registry view).
REG64=260
REG32=4

errors=0
bad() { echo "msi check: $*" >&2; errors=$((errors + 1)); }
# msiinfo writes the IDT format: CRLF lines, three header lines.
table() { msiinfo export "$msi" "$1" | tr -d '\r' | tail -n +4; }

registry=$(table Registry | cut -f2-6)
component=$(table Component)
file=$(table File)
directory=$(table Directory)

# row TABLE_TEXT WHAT FIELDS...: one row has exactly these fields (tab-separated, in order).
has_row() {
    local text=$1 what=$2
    shift 2
    local want
    want=$(printf '%s\t' "$@")
    want=${want%$'\t'}
    grep -qxF -- "$want" <<<"$text" || bad "$what: no row '$(tr '\t' '|' <<<"$want")'"
}
# component_of ID -> "Directory Attributes" of the component ID.
component_is() {
    local id=$1 dir=$2 attrs=$3 row
    row=$(awk -F'\t' -v id="$id" '$1 == id {print $3 "\t" $4}' <<<"$component")
    [ "$row" = "$dir"$'\t'"$attrs" ] || bad "component $id: directory/attributes '$(tr '\t' '|' <<<"$row")', want '$dir|$attrs'"
}
# file_in FILE_ID NAME COMPONENT: the file row, and its component installs under INSTALLDIR.
file_is() {
    local id=$1 name=$2 comp=$3 row
    row=$(awk -F'\t' -v id="$id" '$1 == id {print $2 "\t" $3}' <<<"$file")
    [ "$row" = "$comp"$'\t'"$name" ] || bad "file $id: '$(tr '\t' '|' <<<"$row")', want '$comp|$name'"
    component_is "$comp" INSTALLDIR 256
}

# Where everything goes: Program Files (64-bit)\eidlink.
has_row "$directory" "Directory" INSTALLDIR ProgramFiles64Folder eidlink
has_row "$directory" "Directory" ProgramFiles64Folder TARGETDIR .
has_row "$directory" "Directory" ProgramMenuFolder TARGETDIR .

# The programs and the manifests.
file_is CliExe eidlink.exe Cli
file_is HostExe eidlink-host.exe Host
file_is PinExe eidlink-pin.exe PinDialog
file_is TrayExe eidlink-tray.exe Tray
file_is ChromiumManifestJson "$HOST.chromium.json" ChromiumManifest
file_is FirefoxManifestJson "$HOST.firefox.json" FirefoxManifest
file_is FirefoxXpiFile eidlink-firefox.xpi FirefoxXpi
file_is Pkcs11Dll eidlink_pkcs11.dll Pkcs11Module
file_is FirefoxPkcs11ManifestJson eidlink_pkcs11.json FirefoxPkcs11Manifest

# The host, per browser: HKLM, 64-bit view, default value = the manifest's installed path.
declare -A HOST_KEYS=(
    [ChromeHost]="Software\\Google\\Chrome\\NativeMessagingHosts\\$HOST|[#ChromiumManifestJson]"
    [EdgeHost]="Software\\Microsoft\\Edge\\NativeMessagingHosts\\$HOST|[#ChromiumManifestJson]"
    [ChromiumHost]="Software\\Chromium\\NativeMessagingHosts\\$HOST|[#ChromiumManifestJson]"
    [BraveHost]="Software\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts\\$HOST|[#ChromiumManifestJson]"
    [FirefoxHost]="Software\\Mozilla\\NativeMessagingHosts\\$HOST|[#FirefoxManifestJson]"
)
for comp in "${!HOST_KEYS[@]}"; do
    IFS='|' read -r key value <<<"${HOST_KEYS[$comp]}"
    has_row "$registry" "host registration $comp" "$HKLM" "$key" "" "$value" "$comp"
    component_is "$comp" INSTALLDIR "$REG64"
done
# ... and no other NativeMessagingHosts key (a misspelt browser key would be one).
n=$(grep -c 'NativeMessagingHosts' <<<"$registry" || true)
[ "$n" -eq "${#HOST_KEYS[@]}" ] || bad "$n NativeMessagingHosts registry rows, want ${#HOST_KEYS[@]}"

# eidlink's PKCS#11 module for Firefox: HKLM\Software\Mozilla\PKCS11Modules\<manifest name>, 64-bit
# view, default value = the manifest's installed path (Firefox's NativeManifests.sys.mjs reads
# HKCU, then HKLM's 32-bit and 64-bit views), and no other PKCS11Modules key.
has_row "$registry" "Firefox PKCS#11 module" "$HKLM" 'Software\Mozilla\PKCS11Modules\eidlink_pkcs11' "" '[#FirefoxPkcs11ManifestJson]' FirefoxPkcs11
component_is FirefoxPkcs11 INSTALLDIR "$REG64"
n=$(grep -c 'PKCS11Modules' <<<"$registry" || true)
[ "$n" -eq 1 ] || bad "$n PKCS11Modules registry rows, want 1"

# The tray: at every login, and in the Start menu.
has_row "$registry" "tray at login" "$HKLM" 'Software\Microsoft\Windows\CurrentVersion\Run' eidlink '"[#TrayExe]" --hidden' TrayAtLogin
component_is TrayAtLogin INSTALLDIR "$REG64"
shortcut=$(table Shortcut | cut -f1-5)
has_row "$shortcut" "Start-menu shortcut" TrayStartMenu ProgramMenuFolder eidlink TrayShortcut '[#TrayExe]'

# The extension offers: Chrome and Edge read the 32-bit view, Firefox its own.
has_row "$registry" "Chrome extension offer" "$HKLM" "Software\\Google\\Chrome\\Extensions\\$CHROMIUM_ID" update_url "$CWS_UPDATE" ChromeExtensionOffer
component_is ChromeExtensionOffer INSTALLDIR "$REG32"
has_row "$registry" "Edge extension offer" "$HKLM" "Software\\Microsoft\\Edge\\Extensions\\$CHROMIUM_ID" update_url "$CWS_UPDATE" EdgeExtensionOffer
component_is EdgeExtensionOffer INSTALLDIR "$REG32"
has_row "$registry" "Firefox extension offer" "$HKLM" 'Software\Mozilla\Firefox\Extensions' "$FIREFOX_ID" '[#FirefoxXpiFile]' FirefoxExtensionOffer
component_is FirefoxExtensionOffer INSTALLDIR "$REG64"
# Per-machine: the only per-user value is the shortcut's key path.
has_row "$registry" "shortcut key path" "$HKCU" 'Software\eidlink' StartMenuShortcut '#1' TrayShortcut
n=$(grep -c "^$HKCU"$'\t' <<<"$registry" || true)
[ "$n" -eq 1 ] || bad "$n per-user (HKCU) registry values, want only the shortcut's key path"

# Upgrades: the fixed UpgradeCode, older versions removed, newer ones refuse a downgrade.
upgrade=$(table Upgrade | cut -f1,5,7)
has_row "$upgrade" "Upgrade" "$UPGRADE_CODE" 1 WIX_UPGRADE_DETECTED
has_row "$upgrade" "Upgrade" "$UPGRADE_CODE" 2 WIX_DOWNGRADE_DETECTED
n=$(wc -l <<<"$upgrade")
[ "$n" -eq 2 ] || bad "$n Upgrade rows, want 2"
table InstallExecuteSequence | grep -c '^RemoveExistingProducts' >/dev/null || bad "no RemoveExistingProducts (MajorUpgrade)"

# A 64-bit, per-machine package.
suminfo=$(msiinfo suminfo "$msi")
grep -q '^Template: x64;' <<<"$suminfo" || bad "not an x64 package: $(grep Template <<<"$suminfo")"
# Word count 2: compressed, and without the "no elevation" bit (8) that marks per-user packages.
grep -qx 'Source: 2 (2)' <<<"$suminfo" || bad "not a compressed per-machine package: $(grep Source <<<"$suminfo")"

# The manifests inside: what each browser will read (the host path is relative to the manifest).
cab=$(mktemp -d /tmp/eidlink-msi-cab.XXXXXX)
trap 'rm -rf "$cab"' EXIT
stream=$(msiinfo streams "$msi" | grep -m1 '\.cab$')
msiinfo extract "$msi" "$stream" >"$cab/media.cab"
(cd "$cab" && gcab -x media.cab)
manifest_has() {
    local id=$1 text
    text=$(tr -d ' \n' <"$cab/$id")
    shift
    for want in "$@"; do
        grep -qF -- "$want" <<<"$text" || bad "$id does not contain $want: $text"
    done
}
manifest_has ChromiumManifestJson "\"name\":\"$HOST\"" '"path":"eidlink-host.exe"' '"type":"stdio"' \
    "\"allowed_origins\":[\"chrome-extension://$CHROMIUM_ID/\"]"
manifest_has FirefoxManifestJson "\"name\":\"$HOST\"" '"path":"eidlink-host.exe"' '"type":"stdio"' \
    "\"allowed_extensions\":[\"$FIREFOX_ID\"]"
# Firefox installs the module under its description (which must not be empty): eidlink, the name
# the NSS registrations use.
manifest_has FirefoxPkcs11ManifestJson '"name":"eidlink_pkcs11"' '"description":"eidlink"' \
    '"path":"eidlink_pkcs11.dll"' '"type":"pkcs11"' "\"allowed_extensions\":[\"$FIREFOX_ID\"]"

if [ "$errors" -gt 0 ]; then
    echo "msi check: $msi: $errors problem(s)" >&2
    exit 1
fi
echo "msi check: $msi: Directory, File, Component, Registry, Shortcut, Upgrade and the manifests (the PKCS#11 module's too) are right"
