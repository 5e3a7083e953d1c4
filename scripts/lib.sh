# Shared helpers for eidlink's scripts: system packages and a private pcscd with the vpcd driver.
# Sourced, not run.

EIDLINK_PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev pkg-config opensc opensc-pkcs11 pcsc-tools iproute2 procps
    # PKCS#11 tokens for the module tests (host/app/tests/host.rs)
    softhsm2
    # registering eidlink's PKCS#11 module with p11-kit (host/app/tests/pkcs11_registration.rs;
    # its modutil and certutil are libnss3-tools, below)
    p11-kit
    # the OCSP responder of the revocation tests (openssl ocsp) and the browser tests' second site
    openssl
    # TLS client-certificate login tests: the browsers' NSS databases (certutil, modutil, pk12util)
    libnss3-tools
    # the PIN dialog (egui over X11 + GL) and its tests under Xvfb
    libwayland-dev libxkbcommon-dev xvfb xdotool libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0
    libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri
    # the tray app's icon test runs a private D-Bus session bus
    dbus-daemon
    # the browser end-to-end tests and the demo (Debian's browsers; never a browser download)
    chromium firefox-esr
    # installer/test.sh: the .deb (dpkg-shlibdeps, strip, man pages) and the .msi (wixl, msiinfo)
    dpkg-dev binutils help2man man-db wixl msitools gcab
    # the Windows programs built here (scripts/build-windows.sh: Debian's Rust with its std source,
    # mingw-w64) and run, installed and removed under Wine (installer/windows/wine-test.sh)
    rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64 wine)

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

# The tests' pcscd is private: it never stops, replaces or talks to a pcscd somebody else runs (the
# system one, a user's, another test run's), and a test never reaches any pcscd but it.
#  - Its client socket is $EIDLINK_TMP/pcscd/pcscd.comm, exported as PCSCLITE_CSOCK_NAME, which
#    libpcsclite reads in every client the scripts start (cargo test, the browsers and the host
#    they spawn, OpenSC, the installed host, the demo). pcscd 1.9.9 itself ignores that variable
#    (only libpcsclite has the string), so pcscd runs in a private mount namespace where a tmpfs
#    covers /run and $EIDLINK_TMP/pcscd is bind-mounted on /run/pcscd: the socket it creates there
#    is the file clients outside open by path.
#  - Its vpcd readers listen on a free port pair P, P+1 (the driver's default 35963 is left to
#    whoever else uses vpcd), written to a private reader configuration (--config) and exported as
#    EIDLINK_VPCD_PORT, which the virtual card (tests/src/vpcd.rs) connects to.
#  - In the namespace an empty tmpfs covers /usr/lib/pcsc/drivers (the vpcd driver is loaded from
#    a copy), so this pcscd never claims a real USB reader that the user's pcscd is using.
#  - It is stopped by the PID started here (unshare, sh and pcscd are one process: each execs the
#    next), never by name.
# Root is needed for the mount namespace (CI runs as root); otherwise an unprivileged user
# namespace maps the user to root inside it, where the kernel allows it.
# Never connect to a vpcd port to probe it: vpcd takes any connection as a card.

# `true` if something LISTENs on TCP $1, and, given $2, if that is process $2.
port_listening() {
    local out
    out=$(ss -ltnpH "sport = :$1" 2>/dev/null) || return 1
    [ -n "$out" ] || return 1
    [ -z "${2:-}" ] || grep -q "pid=$2," <<<"$out"
}

start_pcscd() {
    command -v unshare >/dev/null || { echo "start_pcscd: unshare (util-linux) is missing" >&2; return 1; }
    local dir="$EIDLINK_TMP/pcscd" ns=(unshare --mount --propagation private) port="" p
    [ "$(id -u)" -eq 0 ] || ns=(unshare --user --map-root-user --mount --propagation private)
    mkdir -p "$dir/run" "$dir/reader.conf.d"
    # A free pair of ports for the two vpcd readers, away from the default 35963/35964.
    for _ in $(seq 1 50); do
        p=$((36000 + 2 * (RANDOM % 4000)))
        if ! port_listening "$p" && ! port_listening $((p + 1)); then port=$p; break; fi
    done
    [ -n "$port" ] || { echo "start_pcscd: no free TCP port pair for vpcd in 36000-43999" >&2; return 1; }
    cp /usr/lib/pcsc/drivers/serial/libifdvpcd.so "$dir/libifdvpcd.so"
    printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:%d\nLIBPATH      %s\nCHANNELID    %d\n' \
        "$port" "$dir/libifdvpcd.so" "$port" >"$dir/reader.conf.d/vpcd"
    log "starting a private pcscd (socket $dir/run/pcscd.comm, vpcd ports $port and $((port + 1)))"
    # shellcheck disable=SC2016 # expanded by the inner shell
    "${ns[@]}" sh -c 'mount -t tmpfs eidlink-run /run && mkdir /run/pcscd &&
        mount --bind "$1" /run/pcscd && mount -t tmpfs eidlink-no-usb /usr/lib/pcsc/drivers || exit 90
        exec pcscd --foreground --apdu --debug --config "$2"' sh "$dir/run" "$dir/reader.conf.d" \
        </dev/null >"$EIDLINK_TMP/pcscd.log" 2>&1 &
    PCSCD_PID=$!
    export PCSCLITE_CSOCK_NAME="$dir/run/pcscd.comm" EIDLINK_VPCD_PORT=$port
    for _ in $(seq 1 100); do
        if [ -S "$PCSCLITE_CSOCK_NAME" ] && port_listening "$port" "$PCSCD_PID" &&
            port_listening $((port + 1)) "$PCSCD_PID"; then
            return 0
        fi
        kill -0 "$PCSCD_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "the private pcscd did not start the vpcd readers on $port and $((port + 1)); log:" >&2
    tail -20 "$EIDLINK_TMP/pcscd.log" >&2
    stop_pcscd
    return 1
}

# Stops the pcscd start_pcscd started (by its PID; pcscd has no child processes).
stop_pcscd() {
    if [ -n "${PCSCD_PID:-}" ]; then
        kill "$PCSCD_PID" 2>/dev/null || true
        wait "$PCSCD_PID" 2>/dev/null || true
        PCSCD_PID=""
    fi
}

# Starts a private pcscd unless the caller (scripts/test.sh) exported one: for the scripts that
# also run on their own (installer/test.sh, tests/browser/run.sh). The caller stops it.
ensure_pcscd() {
    if [ -n "${PCSCLITE_CSOCK_NAME:-}" ] && [ -n "${EIDLINK_VPCD_PORT:-}" ] && [ -S "$PCSCLITE_CSOCK_NAME" ]; then
        return 0
    fi
    start_pcscd
    export EIDLINK_PCSCD_LOG="$EIDLINK_TMP/pcscd.log"
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
