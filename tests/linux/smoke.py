#!/usr/bin/env python3
"""Linux smoke test: boot the stock Debian 6.12 kernel of each architecture
under the plugin (to its /init, zram swap on, power off) with the seed
scenarios of guest-tests/linux (PTWATCH_SMOKE_TESTS overrides: one name, or
empty to boot only), and once more on arm64 with --widen 100us; the x86-64
run records a trace (tests/replay/compare.py replays it). Requires
that the guest's own checks pass, that the run completes (no timeout, panic
or QEMU error), that the verdict is clean (no finding of severity error
once the known upstream issues of docs/known-issues.txt are set aside:
`ptwatch run` exits 0), and that none of the kinds a correct kernel must
never produce appears at any severity (ptwlib.NEVER_ON_CORRECT). Warnings
and notes do appear on the stock kernels, racily; each class is explained
in docs/linux-findings.md and printed here for the record. With
PTWATCH_QEMU=patched the runs are in the patched QEMU (scripts/build-qemu)
and each must say in ptwatch.log that the plugin ran with its page watch.
Prints TAP.

  tests/linux/smoke.py [OUT_DIR]
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
from ptwlib import NEVER_ON_CORRECT, ROOT, SEED_TESTS  # noqa: E402
from ptwlib import logs  # noqa: E402


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(ROOT, "ptwatch-out",
                                                     "smoke")
    tests = os.environ.get("PTWATCH_SMOKE_TESTS", ",".join(SEED_TESTS))
    patched = os.environ.get("PTWATCH_QEMU") == "patched"
    n = failed = 0
    # each run: arch, widen, traced; the widened run must really have
    # stalled vCPUs; the traced one is replayed by tests/replay/compare.py
    for arch, widen, trace in (("arm64", None, False),
                               ("x86_64", None, True),
                               ("arm64", "100us", False)):
        n += 1
        d = os.path.join(out, arch + ("-widen" if widen else ""))
        cmd = [os.path.join(ROOT, "scripts", "ptwatch"), "run", "--arch",
               arch, "--out", d, "--timeout", "900"]
        if tests:
            cmd += ["--tests", tests]
        if widen:
            cmd += ["--widen", widen]
        if trace:
            cmd += ["--trace"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        lines = r.stdout.strip().splitlines()
        line = lines[-1] if lines else ""
        short = line.removeprefix("ptwatch: ")
        why = []
        s = logs.load_summary(os.path.join(d, "summary.json"))
        if r.returncode == 1:
            why.append(f"errors on a correct kernel: {short}")
        elif r.returncode != 0:
            why.append(f"ptwatch run exited {r.returncode}: {line}")
        elif s is None:
            why.append("no summary.json")
        else:
            for k in NEVER_ON_CORRECT:
                c = s.get("findings", {}).get(k, 0)
                if c:
                    why.append(f"{k} x{c}")
            if s.get("complete") is not True:
                why.append("summary.json incomplete")
            stalls = s.get("stats", {}).get("widen_stalls", 0)
            if widen and not stalls:
                why.append(f"--widen {widen} stalled no vCPU")
            if patched:
                try:
                    with open(os.path.join(d, "ptwatch.log")) as f:
                        log = f.read()
                except OSError:
                    log = ""
                if "qemu: patched" not in log or "(the page watch)" not in log:
                    why.append("ptwatch.log does not say the patched QEMU's "
                               "page watch ran")
        what = (f"linux {arch} {tests or 'boot'}"
                + (" --qemu patched" if patched else "")
                + (f" --widen {widen}" if widen else "")
                + (" --trace" if trace else ""))
        if not why:
            extra = (f" ({s['stats']['widen_stalls']} stalls)" if widen
                     else "")
            print(f"ok {n} - {what}{extra}: guest checks passed; {short}")
        else:
            failed += 1
            print(f"not ok {n} - {what}: {'; '.join(why)}")
            con = logs.read_console(os.path.join(d, "console.log"))
            for l in con.splitlines()[-5:]:
                print(f"# {l}")
        for f in logs.load_findings(os.path.join(d, "findings.jsonl"))[:20]:
            print(f"#   {f.get('kind')} ({f.get('severity')}) at "
                  f"{f.get('pc_sym', '?')}")
        sys.stdout.flush()
    print(f"1..{n}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
