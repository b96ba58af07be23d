#!/usr/bin/env python3
"""Ending badly: whatever stops a run, the logs written so far are valid
and say how complete they are, and a damaged trace gives a clear error.
Uses the x86-64 hostile_finding_flood litmus guest (its first finding
comes at once, then it runs for seconds). Prints TAP.

  tests/plugin/ending_badly.py BUILD_DIR OUT_DIR

  1. QEMU killed by SIGKILL after the first finding: every line of
     findings.jsonl is JSON, summary.json is JSON, says "complete": false
     and counts the findings written; replaying the cut trace says the
     trace ends before the run did (exit 1) and keeps those findings.
  2. QEMU sent SIGTERM after the first finding: QEMU ends cleanly, the
     logs are complete, and the trace replays to the same findings.
  3. a trace cut in the middle of a block: replay names the byte offset.
  4. a trace with a byte flipped inside a block: replay names the offset.
  5. a full disk (a 1 MiB tmpfs; root only): `ptwatch litmus --trace` of
     hostile_entry_flood (a 4 MB trace) fails (exit 1) and says the file
     system is full; the JSON files there stay valid.
A guest kernel that panics is covered by tests/linux/bad-run.sh.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
from ptwlib import ROOT, qemu  # noqa: E402

GUEST = "hostile_finding_flood"
# the full-disk case: a guest whose trace is several MB (4 MB on x86-64)
FULL_GUEST = "hostile_entry_flood"


def jsonl_ok(path):
    """(lines, error): every line of a JSONL file parses."""
    n = 0
    with open(path) as f:
        for i, line in enumerate(f, 1):
            try:
                json.loads(line)
            except ValueError:
                return n, f"{os.path.basename(path)} line {i} is not JSON"
            n += 1
    return n, None


def start(build, out, trace):
    elf = os.path.join(build, "guest-tests", "litmus", "x86_64",
                       f"litmus-x86_64-{GUEST}.elf")
    os.makedirs(out, exist_ok=True)
    ram = os.path.join("/dev/shm", f"ptwatch-ending.{os.getpid()}")
    cmd = qemu.command("x86_64", elf, linux=False, smp=2, mem="256M",
                       ram=ram, plugin=qemu.plugin_arg(
                           ram, out, {"trace": trace}))
    err = open(os.path.join(out, "qemu.stderr"), "wb")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=err)
    return p, ram, err


def after_first_finding(p, out, sig):
    """Wait for the first line of findings.jsonl, then send sig."""
    path = os.path.join(out, "findings.jsonl")
    t0 = time.time()
    while time.time() - t0 < 60 and p.poll() is None:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            time.sleep(1.2)  # past the once-a-second summary refresh
            p.send_signal(sig)
            break
        time.sleep(0.01)
    try:
        return p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def replay(build, trace, out):
    r = subprocess.run([os.path.join(build, "ptwatch-replay"), trace,
                        "--out", out], capture_output=True, text=True)
    return r.returncode, r.stderr.strip()


def case_kill(build, base):
    out = os.path.join(base, "sigkill")
    trace = os.path.join(out, "trace.ptw")
    p, ram, err = start(build, out, trace)
    try:
        rc = after_first_finding(p, out, signal.SIGKILL)
    finally:
        err.close()
        if os.path.exists(ram):
            os.unlink(ram)
    if rc != -signal.SIGKILL:
        return f"QEMU ended by itself (exit {rc}) before the kill", ""
    n, why = jsonl_ok(os.path.join(out, "findings.jsonl"))
    if why:
        return why, ""
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    if s.get("complete") is not False:
        return "summary.json does not say it is incomplete", ""
    if s.get("findings_total") != n or n < 1:
        return (f"summary.json counts {s.get('findings_total')} findings, "
                f"findings.jsonl has {n}"), ""
    rrc, msg = replay(build, trace, os.path.join(out, "replay"))
    if rrc != 1 or "ends before" not in msg:
        return f"replay of the cut trace: exit {rrc}: {msg[-200:]}", ""
    with open(os.path.join(out, "replay", "summary.json")) as f:
        rs = json.load(f)
    if rs.get("complete") is not False:
        return "the replay's summary.json does not say incomplete", ""
    return None, (f"{n} finding(s) kept, summary.json incomplete and "
                  f"counting them; replay: {msg.splitlines()[0][:120]}")


def case_term(build, base):
    out = os.path.join(base, "sigterm")
    trace = os.path.join(out, "trace.ptw")
    p, ram, err = start(build, out, trace)
    try:
        rc = after_first_finding(p, out, signal.SIGTERM)
    finally:
        err.close()
        if os.path.exists(ram):
            os.unlink(ram)
    n, why = jsonl_ok(os.path.join(out, "findings.jsonl"))
    if why:
        return why, ""
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    if s.get("complete") is not True or n < 1:
        return f"exit {rc}: complete {s.get('complete')}, {n} findings", ""
    r = subprocess.run([os.path.join(ROOT, "tests", "replay", "compare.py"),
                        build, out], capture_output=True, text=True)
    if r.returncode:
        return "replay differs: " + r.stdout.strip()[-200:], ""
    return None, f"QEMU exit {rc}, logs complete, the trace replays the same"


def damaged(build, base, how):
    """A litmus trace of the flood, cut or with a byte flipped in a block."""
    src = os.path.join(base, "sigterm", "trace.ptw")
    out = os.path.join(base, how)
    os.makedirs(out, exist_ok=True)
    with open(src, "rb") as f:
        data = bytearray(f.read())
    alen = int.from_bytes(data[32:36], "little")
    first = 36 + alen  # the first block
    clen = int.from_bytes(data[first + 8:first + 12], "little")
    if how == "cut":
        data = data[:first + 16 + clen // 2]
    else:
        data[first + 16 + clen // 2] ^= 0x40
    t = os.path.join(out, "trace.ptw")
    with open(t, "wb") as f:
        f.write(data)
    rc, msg = replay(build, t, os.path.join(out, "replay"))
    want = f"byte offset {first}"
    if rc != 1 or want not in msg:
        return f"exit {rc}, want 1 and '{want}': {msg[-200:]}", ""
    with open(os.path.join(out, "replay", "summary.json")) as f:
        if json.load(f).get("complete") is not False:
            return "summary.json does not say incomplete", ""
    return None, msg.splitlines()[0][:160]


def case_full_disk(build, base):
    if os.geteuid() != 0:
        return None, "SKIP mounting a tmpfs needs root"
    mnt = os.path.join(base, "full")
    os.makedirs(mnt, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs",
                        mnt], capture_output=True, text=True)
    if r.returncode:
        return None, f"SKIP cannot mount a tmpfs: {r.stderr.strip()}"
    try:
        r = subprocess.run([os.path.join(ROOT, "scripts", "ptwatch"),
                            "litmus", "--arch", "x86_64", "--only",
                            FULL_GUEST, "--trace", "--out", mnt],
                           capture_output=True, text=True,
                           env=dict(os.environ, PTWATCH_BUILD=build))
        line = next((l for l in r.stdout.splitlines()
                     if FULL_GUEST in l), r.stdout.strip()[-200:])
        d = os.path.join(mnt, "x86_64", FULL_GUEST)
        if r.returncode != 1 or "is full" not in line:
            return f"exit {r.returncode}: {line}", ""
        sp = os.path.join(d, "summary.json")
        if os.path.exists(sp):
            with open(sp) as f:
                json.load(f)
        fp = os.path.join(d, "findings.jsonl")
        if os.path.exists(fp):
            _, why = jsonl_ok(fp)
            if why:
                return why, ""
        return None, f"exit 1: {line.strip()[:200]}"
    except ValueError as e:
        return f"summary.json is not JSON: {e}", ""
    finally:
        subprocess.run(["umount", mnt])


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 64
    build, base = argv[1], argv[2]
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    cases = [("QEMU killed by SIGKILL", case_kill),
             ("QEMU sent SIGTERM", case_term),
             ("a trace cut inside a block", lambda b, o: damaged(b, o, "cut")),
             ("a trace with a corrupt block",
              lambda b, o: damaged(b, o, "flipped")),
             ("a full disk", case_full_disk)]
    print(f"1..{len(cases)}")
    bad = 0
    for i, (name, fn) in enumerate(cases, 1):
        try:
            why, info = fn(build, base)
        except (OSError, ValueError) as e:
            why, info = f"{type(e).__name__}: {e}", ""
        if why:
            bad += 1
            print(f"not ok {i} - {name}: {why}")
        elif info.startswith("SKIP"):
            print(f"ok {i} - {name} # {info}")
        else:
            print(f"ok {i} - {name}: {info}")
        sys.stdout.flush()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
