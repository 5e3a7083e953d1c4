# Shared helpers for eidlink's scripts: system packages and a private pcscd with the vpcd driver.
# Sourced, not run.

EIDLINK_PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev pkg-config opensc opensc-pkcs11 pcsc-tools iproute2 procps
    # the PIN dialog (egui over X11 + GL) and its tests under Xvfb
    libwayland-dev libxkbcommon-dev xvfb xdotool libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0
    libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri
    # the tray app's icon test runs a private D-Bus session bus
    dbus-daemon
    # the browser end-to-end tests and the demo (Debian's browsers; never a browser download)
    chromium firefox-esr
    # installer/test.sh: the .deb (dpkg-shlibdeps, strip, man pages) and the .msi (wixl, msiinfo)
    dpkg-dev binutils help2man man-db wixl msitools gcab)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the system packages the tests and the demo need (CI runs as root on a fresh machine).
install_packages() {
    local missing=()
    for p in "${EIDLINK_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "system packages present"
        return
    fi
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

vpcd_listening() { ss -ltn 'sport = :35963' 2>/dev/null | grep -q LISTEN; }

# Starts our own pcscd in the foreground (logs in $EIDLINK_TMP/pcscd.log) so the vpcd driver is
# loaded; an already running pcscd is stopped first, because pcscd must be restarted after the vpcd
# driver is installed. Never connect to 35963 to probe it: vpcd takes any connection as a card.
start_pcscd() {
    if pgrep -x pcscd >/dev/null; then
        log "stopping the running pcscd (it is restarted with the vpcd driver)"
        pkill -x pcscd || true
        for _ in $(seq 1 50); do pgrep -x pcscd >/dev/null || break; sleep 0.1; done
    fi
    log "starting pcscd"
    pcscd --foreground --apdu --debug >"$EIDLINK_TMP/pcscd.log" 2>&1 &
    PCSCD_PID=$!
    for _ in $(seq 1 100); do vpcd_listening && return 0; sleep 0.05; done
    echo "pcscd did not start the vpcd reader; log:" >&2
    tail -20 "$EIDLINK_TMP/pcscd.log" >&2
    return 1
}

stop_pcscd() {
    if [ -n "${PCSCD_PID:-}" ]; then
        kill "$PCSCD_PID" 2>/dev/null || true
        wait "$PCSCD_PID" 2>/dev/null || true
        PCSCD_PID=""
    fi
}

# Node.js runs the extension's tests and drives the browsers (puppeteer-core, no browser download).
ensure_node() {
    if ! command -v npm >/dev/null; then
        EIDLINK_PACKAGES=(nodejs npm)
        install_packages
    fi
}

ensure_rust() {
    command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
}
