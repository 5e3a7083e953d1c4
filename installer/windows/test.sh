#!/usr/bin/env bash
# The .msi test (installer/test.sh runs it): builds eidlink.wxs with wixl, checks its tables with
# check-msi.sh, and then shows that the check can fail: each mutation below is a mistake the check
# must catch (a misspelt browser key, a manifest the key does not name, a wrong folder, a new
# upgrade code, a 32-bit host key; the same for the PKCS#11 module's Firefox key); a mutated .wxs whose .msi passes fails this test.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d /tmp/eidlink-msi-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

msi=$(bash "$HERE/build-wixl.sh" "$ROOT/target/windows/eidlink.msi")
echo "# $(basename "$msi"): $(du -k "$msi" | cut -f1) KiB (stand-in programs)"
bash "$HERE/check-msi.sh" "$msi"

mutations=(
    's/Google\\Chrome\\NativeMessagingHosts/Google\\Chrome\\NativeMessagingHost/'
    's/Microsoft\\Edge\\NativeMessagingHosts/Microsoft\\Edge\\NativeMessaging/'
    's/Mozilla\\NativeMessagingHosts\\org.eidlink.host"/Mozilla\\NativeMessagingHosts\\org.eidlink.hosts"/'
    's/Value="\[#FirefoxManifestJson\]"/Value="[#ChromiumManifestJson]"/'
    's/Id="INSTALLDIR" Name="eidlink"/Id="INSTALLDIR" Name="eid link"/'
    's/UpgradeCode="[^"]*"/UpgradeCode="11111111-2222-3333-4444-555555555555"/'
    '/Id="EdgeHost"/s/ Win64="yes"//'
    's/<DirectoryRef Id="ProgramMenuFolder">/<DirectoryRef Id="INSTALLDIR">/'
    's/Mozilla\\PKCS11Modules\\eidlink_pkcs11/Mozilla\\PKCS11Module\\eidlink_pkcs11/'
    's/Value="\[#FirefoxPkcs11ManifestJson\]"/Value="[#FirefoxManifestJson]"/'
    '/Id="FirefoxPkcs11"/s/ Win64="yes"//'
)
caught=0
for m in "${mutations[@]}"; do
    sed "$m" "$HERE/eidlink.wxs" >"$WORK/mutant.wxs"
    if cmp -s "$HERE/eidlink.wxs" "$WORK/mutant.wxs"; then
        echo "msi test: mutation '$m' changed nothing in eidlink.wxs: update the test" >&2
        exit 1
    fi
    # A mutant wixl refuses to build is caught too, but these all build.
    bash "$HERE/build-wixl.sh" "$WORK/mutant.msi" "$WORK/mutant.wxs" >/dev/null
    if bash "$HERE/check-msi.sh" "$WORK/mutant.msi" >/dev/null 2>&1; then
        echo "msi test: the check passed an .msi built with '$m'" >&2
        exit 1
    fi
    caught=$((caught + 1))
done
echo "msi test: the check failed on each of the $caught broken .wxs variants, as it must"
