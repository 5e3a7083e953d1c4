#!/usr/bin/env bash
# The main job, end to end on this machine: pcscd with the vpcd virtual reader, the virtual Belgian
# eID card (applet 1.8) inserted in it; the eidlink CLI reads the card, exports the certificates and
# signs with both keys; then the real native-messaging host (eidlink-host) serves a Web eID login
# and a contract signature, each checked by eidlink's verifier against the card's CA. The PIN is
# given by a scripted PIN program configured in a throw-away config directory. Last, the whole
# story in a browser: the demo public service over HTTPS, Chromium with the eidlink extension and
# the host registered for a throwaway profile, login and contract signing, verified by the service.
# Headless with a scripted PIN; run from a terminal with a display, a real browser window opens for
# a person to click through, with the real PIN dialog.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
EIDLINK_TMP=$(mktemp -d /tmp/eidlink-demo.XXXXXX)
PROFILE=${1:-belpic18}
# The virtual card's PINs: one PIN on Belgian cards; PIN1 and PIN2 on Estonian ones.
AUTH_PIN=1234
SIGN_PIN=1234
[ "$PROFILE" = esteid ] && SIGN_PIN=12345
cleanup() {
    local rc=$?
    if [ -n "${CARD_PID:-}" ]; then
        kill "$CARD_PID" 2>/dev/null || true
        wait "$CARD_PID" 2>/dev/null || true
    fi
    stop_pcscd
    exit "$rc"
}
trap cleanup EXIT

ensure_rust
install_packages
ensure_node
log "building eidlink"
cargo build --release --locked --bin eidlink --bin eidlink-host --bin eidlink-vcard --bin eidlink-pin-script \
    --bin eidlink-nm-demo --bin eidlink-pin --bin eidlink-demo-service
BIN=target/release
start_pcscd
log "inserting the virtual card ($PROFILE)"
"$BIN/eidlink-vcard" --profile "$PROFILE" --apdu-log "$EIDLINK_TMP/apdu.log" &
CARD_PID=$!
for _ in $(seq 1 40); do "$BIN/eidlink" readers 2>/dev/null | grep -q "eID" && break; sleep 0.1; done

log "eidlink readers"
"$BIN/eidlink" readers
log "eidlink info"
"$BIN/eidlink" info
log "eidlink cert --auth --pem"
"$BIN/eidlink" cert --auth --pem -o "$EIDLINK_TMP/auth.pem"
"$BIN/eidlink" cert --sign --der -o "$EIDLINK_TMP/sign.der"
openssl x509 -in "$EIDLINK_TMP/auth.pem" -noout -subject -issuer -dates 2>/dev/null || head -3 "$EIDLINK_TMP/auth.pem"

log "sign a login challenge with the authentication key"
head -c 32 /dev/urandom > "$EIDLINK_TMP/challenge"
"$BIN/eidlink" sign --auth --hash SHA-384 --file "$EIDLINK_TMP/challenge" --pin-fd 3 3<<<"$AUTH_PIN"
log "sign a contract with the signing key"
printf 'Enrollment contract between the citizen and the public service.\n' > "$EIDLINK_TMP/contract.txt"
"$BIN/eidlink" sign --sign --hash SHA-256 --file "$EIDLINK_TMP/contract.txt" --pin-fd 3 3<<<"$SIGN_PIN"
log "Web eID through the native-messaging host"
"$BIN/eidlink-vcard" --profile "$PROFILE" --export-pki "$EIDLINK_TMP/pki" >/dev/null
mkdir -p "$EIDLINK_TMP/config/eidlink"
cat > "$EIDLINK_TMP/config/eidlink/config.toml" <<EOF
pin-program = ["$PWD/$BIN/eidlink-pin-script", "--pin", "$AUTH_PIN", "--sign-pin", "$SIGN_PIN"]
timeout-seconds = 30
EOF
XDG_CONFIG_HOME="$EIDLINK_TMP/config" XDG_DATA_HOME="$EIDLINK_TMP/data" "$BIN/eidlink-nm-demo" \
    --host "$BIN/eidlink-host" --root "$EIDLINK_TMP/pki/root.pem" --intermediate "$EIDLINK_TMP/pki/ca.pem"
log "history kept by the host: $(wc -l < "$EIDLINK_TMP/data/eidlink/history.jsonl") requests"
log "the card saw $(grep -c ' > ' "$EIDLINK_TMP/apdu.log") APDUs in all (PINs masked in the log: $EIDLINK_TMP/apdu.log)"
kill "$CARD_PID" && wait "$CARD_PID" 2>/dev/null || true
CARD_PID=""

log "the citizen's story in a browser: extension, host, virtual card, demo service"
bash extension/build.sh >/dev/null
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
MODE=()
# A person at a display: a real browser window and the real PIN dialog (EIDLINK_DEMO_HEADLESS=1 to skip).
if [ -n "${DISPLAY:-}" ] && [ -t 0 ] && [ "${EIDLINK_DEMO_HEADLESS:-0}" != 1 ]; then MODE=(--interactive); fi
EIDLINK_BIN_DIR="$PWD/$BIN" node tests/browser/demo.mjs "${MODE[@]}"
log "demo done"
