#!/usr/bin/env python3
"""TLS client-certificate login figures, rerunnable (not part of the test command; run through
bench/tls.sh, which starts a private pcscd):

The same virtual Belgian 1.7 card (RSA-2048) in the vpcd reader, the same `openssl s_server`
(TLS 1.2, then TLS 1.3; client certificate required, no session cache, no tickets: every handshake is a full one
with a fresh client signature), the same client (eidlink-tls-client, rustls), through two PKCS#11
modules: eidlink's libeidlink_pkcs11 (our card driver; the PIN through the scripted PIN program, as
a user's dialog would ask it) and OpenSC's opensc-pkcs11 (OpenSC's driver; the PIN given with
C_Login once). For each:

- handshake time: N handshakes one after the other in one client process (the module loaded and
  the token found once, as in a browser): min/median/max, from TCP connect to the handshake's end
  (the C_Sign on the card included);
- APDUs per handshake, from the virtual card's APDU log: (APDUs of a run with N+1 handshakes minus
  those of a run with 1) / N; and the APDUs of one whole client process with one handshake (module
  load, token discovery, certificate read, the handshake);
- the wall time of that whole process.

Writes target/bench/tls.md and target/bench/tls.csv.
"""
import json
import os
import socket
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / os.environ.get("EIDLINK_BENCH_PROFILE", "release")
RUNS = int(os.environ.get("EIDLINK_BENCH_RUNS", "20"))
COLD_RUNS = int(os.environ.get("EIDLINK_BENCH_COLD_RUNS", "5"))
OURS = Path(os.environ.get("EIDLINK_PKCS11_MODULE", str(BIN / "libeidlink_pkcs11.so")))
OPENSC = next(p for p in ["/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so"]
              if Path(p).exists())
INS = {"20": "VERIFY", "22": "MSE SET", "2A": "PSO", "88": "INTERNAL AUTHENTICATE", "84": "GET CHALLENGE",
       "A4": "SELECT", "B0": "READ BINARY", "C0": "GET RESPONSE", "CA": "GET DATA", "E4": "GET CARD DATA"}
APDU_LINE = re.compile(r"^\d+\.\d+ #\d+ > ", re.M)
HANDSHAKE = re.compile(r"^handshake \d+: ([\d.]+) ms (\S+) (\S+)$", re.M)


def openssl(args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class Server:
    """openssl s_server -www, TLS 1.2 or 1.3 only, demanding a certificate of the card's CA."""

    def __init__(self, root, client_ca, version):
        self.dir = Path(tempfile.mkdtemp(dir=root, prefix=f"server{version}-"))
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        openssl(["req", "-x509", *ec, "-days", "2", "-subj", "/CN=eidlink TEST TLS server CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", "ca.key", "-out", "ca.pem"], self.dir)
        openssl(["req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr"], self.dir)
        (self.dir / "server.ext").write_text("extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n")
        openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "1",
                 "-days", "2", "-extfile", "server.ext", "-out", "server.pem"], self.dir)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}", "-tls1_2" if version == "1.2" else "-tls1_3",
             "-cert", "server.pem", "-key", "server.key", "-CAfile", str(client_ca), "-Verify", "2",
             "-verify_return_error", "-www", "-no_cache", "-num_tickets", "0", "-no_ticket"],
            cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        # It prints ACCEPT once it listens (stdout ends at its exit: then it failed).
        for line in self.proc.stdout:
            if line.startswith("ACCEPT"):
                break
        else:
            sys.exit("openssl s_server did not start")
        # Keep draining its stdout (one line per verified client), or it blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        self.url = f"https://127.0.0.1:{self.port}/"
        self.version = version
        self.ca = self.dir / "ca.pem"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def command_name(apdu):
    """INS's name; a VERIFY without data asks the tries left (ISO 7816-4 §11.5.6)."""
    name = INS.get(apdu[1], apdu[1])
    if apdu[1] == "20":
        name += " (PIN)" if len(apdu) > 5 else " (tries left)"
    return name


class Card:
    """eidlink-vcard --profile belpic17 in the vpcd reader, logging every APDU."""

    def __init__(self, root):
        self.log = Path(root) / "apdu.log"
        self.pki = Path(root) / "pki"
        subprocess.run([str(BIN / "eidlink-vcard"), "--profile", "belpic17", "--export-pki", str(self.pki)],
                       check=True, capture_output=True)
        self.proc = subprocess.Popen([str(BIN / "eidlink-vcard"), "--profile", "belpic17", "--apdu-log", str(self.log)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while time.time() < deadline:
            # The module reads the readers anew in each process (pcscd polls vpcd every 400 ms).
            r = subprocess.run(["pkcs11-tool", "--module", str(OURS), "-L"], capture_output=True, text=True)
            if "token label" in r.stdout:
                return
            time.sleep(0.1)
        sys.exit("our module does not see the virtual card")

    def apdus(self):
        return len(APDU_LINE.findall(self.log.read_text(errors="replace"))) if self.log.exists() else 0

    def last_commands(self, n):
        """The names of the last `n` commands the card got (by INS, ISO 7816-4 §5.1)."""
        lines = [l for l in self.log.read_text(errors="replace").splitlines() if APDU_LINE.match(l)]
        return [command_name(l.split(" > ", 1)[1].split(" < ", 1)[0].split()) for l in lines[-n:]] if n else []


    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Failed(Exception):
    """The client could not log in through a module (what it said last)."""


def client(module, server, env, repeat):
    """One eidlink-tls-client process; returns (handshake ms list, wall seconds, scheme)."""
    started = time.perf_counter()
    r = subprocess.run([str(BIN / "eidlink-tls-client"), "--module", str(module), "--url", server.url, "--ca",
                        str(server.ca), "--tls", server.version, "--repeat", str(repeat), *env.pop("_args", [])],
                       capture_output=True, text=True, env={**os.environ, **env}, timeout=60 + 10 * repeat)
    wall = time.perf_counter() - started
    if r.returncode != 0:
        raise Failed(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}")
    hs = HANDSHAKE.findall(r.stderr)
    if len(hs) != repeat or "Alice Specimen (Authentication)" not in r.stdout:
        sys.exit(f"unexpected client output through {module}: {r.stderr}")
    return [float(ms) for ms, _, _ in hs], wall, hs[0][2]


def measure(card, module, server, env_of):
    print(f"measuring {module} ...", file=sys.stderr, flush=True)
    before = card.apdus()
    one, one_wall, scheme = client(module, server, env_of(), 1)
    apdus_one = card.apdus() - before
    walls = [one_wall]
    for _ in range(COLD_RUNS - 1):
        walls.append(client(module, server, env_of(), 1)[1])
    before = card.apdus()
    many, _, _ = client(module, server, env_of(), RUNS + 1)
    apdus_many = card.apdus() - before
    per_handshake = (apdus_many - apdus_one) / RUNS
    return {"times": many, "scheme": scheme, "apdus_per_handshake": per_handshake, "apdus_process": apdus_one,
            "wall_ms": [w * 1000 for w in walls], "commands": card.last_commands(round(per_handshake))}


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    def version(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    osr = dict(l.split("=", 1) for l in Path("/etc/os-release").read_text().splitlines() if "=" in l)
    return (f"{os.cpu_count()} × {cpu}, {osr.get('PRETTY_NAME', '?').strip(chr(34))}, kernel {platform.release()}; "
            f"{version(['openssl', 'version'])}; OpenSC {version(['dpkg-query', '-W', '-f', '${Version}', 'opensc-pkcs11'])}; "
            f"pcscd {version(['dpkg-query', '-W', '-f', '${Version}', 'pcscd'])}")


def main():
    if not OURS.exists():
        sys.exit(f"{OURS} is missing: build eidlink-pkcs11-module first (bench/tls.sh does)")
    bench = ROOT / "target/bench"
    bench.mkdir(parents=True, exist_ok=True)
    root = tempfile.mkdtemp(prefix="eidlink-bench-tls-")
    card = Card(root)
    chain = Path(root) / "card-chain.pem"
    chain.write_text((card.pki / "ca.pem").read_text() + (card.pki / "root.pem").read_text())
    servers = {v: Server(root, chain, v) for v in ("1.2", "1.3")}
    home = Path(root) / "home"
    (home / "config/eidlink").mkdir(parents=True)
    (home / "config/eidlink/config.toml").write_text(
        f"pin-program = {json.dumps([str(BIN / 'eidlink-pin-script'), '--pin', '1234'])}\ntimeout-seconds = 30\n")
    osc_conf = Path(root) / "opensc.conf"
    osc_conf.write_text("app default {\n framework pkcs15 {\n  private_certificate = declassify;\n }\n}\n")
    ours_env = lambda: {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data")}
    opensc_env = lambda: {"OPENSC_CONF": str(osc_conf), "BENCH_PIN": "1234", "_args": ["--pin-env", "BENCH_PIN"]}
    results, failures = {}, {}
    try:
        for version, server in servers.items():
            for name, module, env in (("eidlink (libeidlink_pkcs11)", OURS, ours_env),
                                      ("OpenSC 0.23 (opensc-pkcs11)", OPENSC, opensc_env)):
                try:
                    results[(name, version)] = measure(card, module, server, env)
                except Failed as e:
                    failures[(name, version)] = str(e)
    finally:
        for server in servers.values():
            server.stop()
        card.stop()
        shutil.rmtree(root, ignore_errors=True)

    stats = lambda xs: (min(xs), statistics.median(xs), max(xs))
    md = ["# TLS client-certificate login: handshake time and APDUs", "",
          f"{time.strftime('%Y-%m-%d')}, {BIN.name} build; {RUNS + 1} handshakes per module in one client process, "
          f"{COLD_RUNS} whole processes. Machine: {machine()}.", "",
          "Virtual Belgian 1.7 card (RSA-2048) in pcscd's vpcd reader, `openssl s_server -tls1_2` or `-tls1_3`, "
          "`-Verify 2 -www` on loopback (no session cache, no tickets: every handshake is a full one), "
          "eidlink-tls-client (rustls) through each module. Our module asks the PIN through the scripted PIN "
          "program at each C_Sign (it answers at once, so PIN entry is excluded, the dialog program's start is "
          "not); OpenSC gets it once with C_Login.", "",
          "| TLS | module | scheme | handshake min | median | max (ms) | APDUs per handshake | APDUs, whole process | "
          "process wall median (ms) |", "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for (name, version), r in results.items():
        lo, med, hi = stats(r["times"])
        md.append(f"| {version} | {name} | {r['scheme']} | {lo:.1f} | {med:.1f} | {hi:.1f} | "
                  f"{r['apdus_per_handshake']:.1f} | {r['apdus_process']} | {statistics.median(r['wall_ms']):.0f} |")
    for (name, version), why in failures.items():
        # The client's last words name the missing mechanism when there is one.
        short = re.search(r"the module offers no \w+", why)
        md.append(f"| {version} | {name} | cannot log in ({short.group(0) if short else why[:120]}) | | | | | | |")
    md += ["", "One handshake's commands to the card (the last one of each run):", ""]
    md += [f"- TLS {version}, {name}: {', '.join(r['commands'])}" for (name, version), r in results.items()]
    ours, osc = results.get(("eidlink (libeidlink_pkcs11)", "1.2")), results.get(("OpenSC 0.23 (opensc-pkcs11)", "1.2"))
    if ours and osc:
        ratio = statistics.median(osc["times"]) / statistics.median(ours["times"])
        md += ["", f"TLS 1.2, median handshake ratio OpenSC / eidlink: {ratio:.2f}x; APDUs per handshake "
               f"{osc['apdus_per_handshake']:.1f} / {ours['apdus_per_handshake']:.1f}; whole process wall "
               f"{statistics.median(osc['wall_ms']) / statistics.median(ours['wall_ms']):.2f}x.", ""]
    (bench / "tls.md").write_text("\n".join(md))
    with open(bench / "tls.csv", "w") as f:
        f.write("tls,module,scheme,handshake_ms\n")
        for (name, version), r in results.items():
            for t in r["times"]:
                f.write(f'{version},"{name}",{r["scheme"]},{t:.3f}\n')
    print("\n".join(md))


if __name__ == "__main__":
    main()
