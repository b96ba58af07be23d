#!/usr/bin/env python3
"""Stock and patched QEMU give the same findings, plus what only the
patched QEMU's walk and fault events show: builds the patched QEMU
(scripts/build-qemu: a no-op when the series is built; the first build
takes about 17 minutes), runs the litmus catalogue in it (each scenario's
declared expectations must hold there: window_walk's BBM_WINDOW_WALK and
dirty_lost's DIRTY_LOST are declared for the patched QEMU only), and
compares each scenario's findings with the stock run's in STOCK_OUT field
by field (icount aside: it moves with the harness's wait loops), the
kinds only the patched QEMU can see aside; the stock run must have none
of those. Each patched run must also
say in ptwatch.log that the plugin found the patched API. Prints TAP.

  tests/plugin/modes.py BUILD_DIR STOCK_OUT PATCHED_OUT
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# kinds only a QEMU that reports its walker's faults and access/dirty
# updates can find
PATCHED_ONLY = {"BBM_WINDOW_WALK", "DIRTY_LOST"}


def findings(path):
    out = []
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            d.pop("icount", None)
            if "other" in d:
                d["other"].pop("icount", None)
            d["detail"] = re.sub(r"icount [0-9]+", "icount N", d["detail"])
            d["detail"] = re.sub(r"[0-9]+ instructions", "N instructions",
                                 d["detail"])
            out.append(d)
    return out


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 64
    build, stock, patched = argv[1:4]
    r = subprocess.run([os.path.join(ROOT, "scripts", "build-qemu")],
                       capture_output=True, text=True)
    if r.returncode:
        print("1..1")
        print(f"not ok 1 - scripts/build-qemu failed: "
              f"{r.stderr.strip()[-300:]}")
        return 1
    r = subprocess.run([os.path.join(ROOT, "scripts", "ptwatch"), "litmus",
                        "--qemu", "patched", "--arch", "all", "--trace",
                        "--out", patched], capture_output=True, text=True,
                       env=dict(os.environ, PTWATCH_BUILD=build))
    # the scenarios the patched run ran (the stock directory may hold
    # other runs: hostile.py's memory runs)
    runs = sorted(os.path.join(a, n) for a in ("arm64", "x86_64")
                  for n in (os.listdir(os.path.join(patched, a))
                            if os.path.isdir(os.path.join(patched, a))
                            else [])
                  if os.path.isfile(os.path.join(patched, a, n,
                                                 "findings.jsonl")))
    print(f"1..{len(runs) + 2}")
    tail = r.stdout.strip().splitlines()[-1:] or ["no output"]
    if r.returncode:
        print(f"not ok 1 - the catalogue in the patched QEMU: {tail[0]}")
    else:
        print(f"ok 1 - the catalogue in the patched QEMU: {tail[0]}")
    bad = 1 if r.returncode else 0
    for i, run in enumerate(runs, 2):
        p = os.path.join(patched, run)
        try:
            with open(os.path.join(p, "ptwatch.log")) as f:
                said = "qemu: patched" in f.read()
            s = findings(os.path.join(stock, run, "findings.jsonl"))
            pf = findings(os.path.join(p, "findings.jsonl"))
            extra = [f for f in pf if f["kind"] in PATCHED_ONLY]
            same = (s == [f for f in pf if f["kind"] not in PATCHED_ONLY]
                    and not any(f["kind"] in PATCHED_ONLY for f in s))
        except (OSError, ValueError) as e:
            said, same, extra = False, False, []
            print(f"# {run}: {e}")
        if said and same:
            more = (f", and {len(extra)} only the patched QEMU sees "
                    f"({', '.join(sorted({f['kind'] for f in extra}))})"
                    if extra else "")
            print(f"ok {i} - {run}: the same findings in both QEMUs{more}")
        else:
            bad += 1
            why = [] if said else ["the plugin did not find the patched API"]
            if not same:
                why.append("findings differ")
            print(f"not ok {i} - {run}: {'; '.join(why)}")
    # the walk and fault events are in the traces: replays find the same
    c = subprocess.run([os.path.join(ROOT, "tests", "replay", "compare.py"),
                        build, patched], capture_output=True, text=True)
    n = len(runs) + 2
    if c.returncode:
        bad += 1
        print(f"not ok {n} - the patched runs' traces replay differently: "
              f"{c.stdout.strip()[-300:]}")
    else:
        print(f"ok {n} - the patched runs' traces replay to the same "
              f"findings ({len(runs)} runs)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
