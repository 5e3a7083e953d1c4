#!/usr/bin/env python3
"""PKCS#11 figures, rerunnable (not part of the test command; run through bench/pkcs11.sh):

- the PKCS#11 calls of each host flow (authenticate, get-signing-certificate, sign), counted by
  OpenSC's pkcs11-spy between eidlink-host and the module: SoftHSM2 (P-256/P-384 token) and OpenSC's
  module over the virtual Belgian 1.7 card;
  A module file's first use in a user account adds one check in a child process (5 calls), not
  counted here;
- eidlink-host start -> reply for `authenticate` on the same virtual 1.7 card, through OpenSC's module
  and through our native driver, side by side in one run: min/median/max over N runs and the ratio.
  The scripted PIN program answers at once, so PIN entry is excluded.

Writes target/bench/pkcs11.md and target/bench/pkcs11.csv.
"""
import base64
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / os.environ.get("EIDLINK_BENCH_PROFILE", "release")
RUNS = int(os.environ.get("EIDLINK_BENCH_RUNS", "20"))
SPY = next(p for p in ["/usr/lib/x86_64-linux-gnu/pkcs11-spy.so", "/usr/lib/aarch64-linux-gnu/pkcs11-spy.so"] if Path(p).exists())
OPENSC = next(p for p in ["/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so"] if Path(p).exists())
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
ORIGIN = "https://service.example.be"
NONCE = base64.b64encode(b"a 32-byte benchmark nonce!!!!!!!").decode()
READER = "Virtual PCD 00 00"


def frame(obj):
    body = json.dumps(obj).encode()
    return struct.pack("=I", len(body)) + body


def read_frame(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack("=I", head)
    return json.loads(stream.read(n))


class Home:
    def __init__(self, root, extra, env):
        self.dir = Path(tempfile.mkdtemp(dir=root))
        (self.dir / "config/eidlink").mkdir(parents=True)
        program = [str(BIN / "eidlink-pin-script"), "--pin", "1234"]
        (self.dir / "config/eidlink/config.toml").write_text(
            f"pin-program = {json.dumps(program)}\ntimeout-seconds = 30\n{extra}"
        )
        self.env = {**os.environ, **env, "XDG_CONFIG_HOME": str(self.dir / "config"), "XDG_DATA_HOME": str(self.dir / "data")}

    def call(self, msg, allow_error=False):
        """Runs the host for one command; returns (reply, seconds from start to reply)."""
        started = time.perf_counter()
        p = subprocess.Popen([str(BIN / "eidlink-host"), "chrome-extension://bench/"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env)
        read_frame(p.stdout)
        p.stdin.write(frame(msg))
        p.stdin.flush()
        reply = read_frame(p.stdout)
        elapsed = time.perf_counter() - started
        p.stdin.close()
        p.wait()
        if reply is None or ("error" in reply and not allow_error):
            sys.exit(f"the host failed: {reply}")
        return reply, elapsed


def flows(sign_cert_b64):
    digest = base64.b64encode(b"\x11" * 32).decode()
    return [
        ("authenticate", {"command": "authenticate", "arguments": {"challengeNonce": NONCE, "origin": ORIGIN}}),
        ("get-signing-certificate", {"command": "get-signing-certificate", "arguments": {"origin": ORIGIN}}),
        ("sign", {"command": "sign", "arguments": {"origin": ORIGIN, "hashFunction": "SHA-256", "hash": digest,
                                                     "certificate": sign_cert_b64}}),
    ]


def spy_counts(root, extra_for, env, label):
    """PKCS#11 calls per flow through pkcs11-spy; `extra_for(module)` is the config naming it."""
    out = {}
    sign_cert = None
    # Once first, unlogged: a program checks a module file it has not seen in a child process
    # (src/probe.rs), once per file version; that is not part of a flow.
    Home(root, extra_for(SPY), {**env, "PKCS11SPY_OUTPUT": "/dev/null"}).call(flows("")[1][1])
    for name, msg in flows(""):
        log = Path(root) / f"spy-{label}-{name}.log"
        home = Home(root, extra_for(SPY), {**env, "PKCS11SPY_OUTPUT": str(log)})
        if name == "sign":
            if sign_cert is None:
                continue
            msg["arguments"]["certificate"] = sign_cert
        reply, _ = home.call(msg, allow_error=(name == "sign"))
        if name == "get-signing-certificate":
            sign_cert = reply["certificate"]
        calls = re.findall(r"^\d+: (C_\w+)", log.read_text(errors="replace"), re.M)
        failed = reply.get("error", {}).get("message", "")
        out[name] = (calls, failed)
    return out


def note(calls, failed):
    seq = " ".join(c[2:] for c in calls)
    return f"fails: {failed}; calls: {seq}" if failed else seq


def timing(home, msg):
    times = []
    for _ in range(RUNS):
        _, t = home.call(msg)
        times.append(t * 1000)
    return min(times), statistics.median(times), max(times)


def main():
    bench = ROOT / "target/bench"
    bench.mkdir(parents=True, exist_ok=True)
    root = tempfile.mkdtemp(prefix="eidlink-bench-")
    rows, lines = [], []

    # SoftHSM2: a token made for the run, the host without PC/SC.
    hsm_dir = Path(root) / "softhsm"
    conf = subprocess.run([str(BIN / "eidlink-softhsm"), "--dir", str(hsm_dir)], check=True, capture_output=True,
                          text=True).stdout.strip()
    no_pcsc = {"PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm", "SOFTHSM2_CONF": conf, "PKCS11SPY": SOFTHSM}
    modules = lambda m: f'pkcs11-modules = ["{m}"]\nwell-known-pkcs11-modules = false\n'
    counts = spy_counts(root, modules, no_pcsc, "softhsm")
    for flow, (calls, failed) in counts.items():
        rows.append(("SoftHSM2 2.6 (P-256 auth, P-384 sign)", flow, len(calls), note(calls, failed)))

    # The virtual Belgian 1.7 card, through OpenSC's module and through our driver.
    card = subprocess.Popen([str(BIN / "eidlink-vcard"), "--profile", "belpic17"], stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    try:
        osc_conf = Path(root) / "opensc.conf"
        osc_conf.write_text("app default {\n framework pkcs15 {\n  private_certificate = declassify;\n }\n}\n")
        osc_env = {"OPENSC_CONF": str(osc_conf), "PKCS11SPY": OPENSC}
        prefer = lambda m: f'well-known-pkcs11-modules = false\n[prefer-module]\n"{READER}" = "{m}"\n'
        counts = spy_counts(root, prefer, osc_env, "opensc")
        for flow, (calls, failed) in counts.items():
            rows.append(("OpenSC 0.23 over the virtual Belgian 1.7 card", flow, len(calls), note(calls, failed)))
        auth = flows("")[0][1]
        via_opensc = timing(Home(root, prefer(OPENSC), {"OPENSC_CONF": str(osc_conf)}), auth)
        native = timing(Home(root, "well-known-pkcs11-modules = false\n", {}), auth)
    finally:
        card.terminate()
        card.wait()

    md = ["# PKCS#11: calls per flow and host time", "",
          f"eidlink-host ({BIN.name} build), {RUNS} runs per timing, {time.strftime('%Y-%m-%d')}.", "",
          "| module | flow | PKCS#11 calls | the calls, in order (C_ left out) |", "|---|---|---:|---|"]
    md += [f"| {m} | {f} | {n} | {fns} |" for (m, f, n, fns) in rows]
    md += ["", "`authenticate`, eidlink-host start -> reply, virtual Belgian 1.7 card (RSA-2048), ms:", "",
           "| path | min | median | max |", "|---|---:|---:|---:|",
           f"| OpenSC's module (prefer-module) | {via_opensc[0]:.1f} | {via_opensc[1]:.1f} | {via_opensc[2]:.1f} |",
           f"| our native Belgian 1.7 driver | {native[0]:.1f} | {native[1]:.1f} | {native[2]:.1f} |",
           "", f"Median ratio OpenSC / native: {via_opensc[1] / native[1]:.1f}x", ""]
    (bench / "pkcs11.md").write_text("\n".join(md))
    with open(bench / "pkcs11.csv", "w") as f:
        f.write("module,flow,calls\n")
        for (m, fl, n, _) in rows:
            f.write(f'"{m}",{fl},{n}\n')
        f.write(f'"authenticate ms opensc min/median/max",,{via_opensc[0]:.1f}/{via_opensc[1]:.1f}/{via_opensc[2]:.1f}\n')
        f.write(f'"authenticate ms native min/median/max",,{native[0]:.1f}/{native[1]:.1f}/{native[2]:.1f}\n')
    print("\n".join(md))


if __name__ == "__main__":
    main()
