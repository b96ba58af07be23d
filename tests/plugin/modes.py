#!/usr/bin/env python3
"""Stock and patched QEMU give the same findings: builds the patched QEMU
(scripts/build-qemu: a no-op when the series is built; the first build
takes about 17 minutes), runs the litmus catalogue in it, and compares each
scenario's findings with the stock run's in STOCK_OUT field by field
(icount aside: it moves with the harness's wait loops). Each patched run
must also say in ptwatch.log that the plugin found the patched API.
Prints TAP.

  tests/plugin/modes.py BUILD_DIR STOCK_OUT PATCHED_OUT
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


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
                        "--qemu", "patched", "--arch", "all", "--out",
                        patched], capture_output=True, text=True,
                       env=dict(os.environ, PTWATCH_BUILD=build))
    # the scenarios the patched run ran (the stock directory may hold
    # other runs: hostile.py's memory runs)
    runs = sorted(os.path.join(a, n) for a in ("arm64", "x86_64")
                  for n in (os.listdir(os.path.join(patched, a))
                            if os.path.isdir(os.path.join(patched, a))
                            else [])
                  if os.path.isfile(os.path.join(patched, a, n,
                                                 "findings.jsonl")))
    print(f"1..{len(runs) + 1}")
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
            same = (findings(os.path.join(stock, run, "findings.jsonl")) ==
                    findings(os.path.join(p, "findings.jsonl")))
        except (OSError, ValueError) as e:
            said, same = False, False
            print(f"# {run}: {e}")
        if said and same:
            print(f"ok {i} - {run}: the same findings in both QEMUs")
        else:
            bad += 1
            why = [] if said else ["the plugin did not find the patched API"]
            if not same:
                why.append("findings differ")
            print(f"not ok {i} - {run}: {'; '.join(why)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
