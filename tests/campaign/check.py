#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Campaigns (docs/campaign.md), end to end on litmus guests under real
QEMU: a spec of 8 tasks (two scenarios on both arches, two runs each) run
with --jobs 2; run again: nothing redone; a task cut short (its task.json
gone) is the only one run again; the same spec with --jobs 1, and task by
task with --task as Slurm's array tasks run it, give the same findings per
task; --slurm writes one job array of all tasks, requeued on failure;
--status and `ptwatch report` summarize it; tasks run round by round;
matrix.qemu gives a task per QEMU; bad specs exit 64.

    check.py   (TAP)
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from ptwlib.campaign import titles_by_task as titles  # noqa: E402
from ptwlib.tap import Tap  # noqa: E402

TAP = Tap()
ok = TAP.ok
PTWATCH = os.path.join(ROOT, "scripts", "ptwatch")
SPEC = {"name": "litmus-check", "runs": 2,
        "matrix": {"arch": ["arm64", "x86_64"], "kernel": ["litmus"],
                   "tests": ["window_read", "partial_unit_unmap"]}}


def campaign(*args):
    return subprocess.run([sys.executable, PTWATCH, "campaign", *args],
                          capture_output=True, text=True)


def counts(text):
    m = re.search(r"(\d+) run now, (\d+) already done, (\d+) failed", text)
    return tuple(int(x) for x in m.groups()) if m else None


def main():
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "spec.json")
        with open(spec, "w") as f:
            json.dump(SPEC, f)
        a, b, c = (os.path.join(tmp, x) for x in "abc")
        r = campaign(spec, "--out", a, "--jobs", "2")
        ok(r.returncode == 0 and counts(r.stdout) == (8, 0, 0),
           f"8 tasks run, 2 at once (exit {r.returncode}, "
           f"{counts(r.stdout)})")
        recs = []
        for tid in os.listdir(os.path.join(a, "runs")):
            with open(os.path.join(a, "runs", tid, "task.json")) as f:
                recs.append(json.load(f))
        ok(len(recs) == 8 and all(x["ran"] and x["cmd"] for x in recs),
           "each task has its task.json: ran, its command, its exit")
        want = titles(a)
        ok(all(len(v) == 1 for v in want.values()) and
           len({t for v in want.values() for t in v}) == 4,
           "each task found its scenario's one finding; 4 titles in all "
           f"({sorted({t for v in want.values() for t in v})})")
        r = campaign(spec, "--out", a, "--jobs", "2")
        ok(counts(r.stdout) == (0, 8, 0),
           f"run again: nothing redone ({counts(r.stdout)})")
        cut = sorted(want)[3]
        os.unlink(os.path.join(a, "runs", cut, "task.json"))
        r = campaign(spec, "--out", a, "--jobs", "2")
        ok(counts(r.stdout) == (1, 7, 0) and cut in r.stdout,
           f"a task cut short is the only one run again ({counts(r.stdout)})")
        r = campaign(spec, "--out", b, "--jobs", "1")
        ok(r.returncode == 0 and titles(b) == want,
           "the same spec with --jobs 1 gives the same findings per task")
        order = re.findall(r"-run(\d+) ", r.stdout)
        ok(order == sorted(order) and len(order) == 8,
           f"round by round: every run 1 before any run 2 ({order})")
        for i in range(8):
            r = campaign(spec, "--out", c, "--task", str(i))
            if r.returncode != 0 or counts(r.stdout) != (1, 0, 0):
                break
        ok(titles(c) == want,
           "task by task (--task I, as Slurm's array tasks run): the same")
        r = campaign(spec, "--out", c, "--slurm")
        try:
            with open(os.path.join(c, "campaign.sbatch")) as f:
                sb = f.read()
        except OSError:
            sb = ""
        ok(r.returncode == 0 and "#SBATCH --array=0-7" in sb and
           "#SBATCH --requeue" in sb and '--task "$SLURM_ARRAY_TASK_ID"'
           in sb, "--slurm writes one array of the 8 tasks, requeued on "
           "failure, each running --task")
        r = campaign(spec, "--out", a, "--status")
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12",
                               "HEAD"], capture_output=True, text=True)
        ran_by = re.search(r"ptwatch (\w+)(-dirty)? \(8 tasks\)", r.stdout)
        ok(r.returncode == 0 and "8 done, 0 failed to run, 0 pending" in
           r.stdout and r.stdout.count("2 findings in    2 tasks") == 4 and
           re.search(r"task time [\d,]+ s", r.stdout) and ran_by and
           (head.returncode != 0 or ran_by.group(1) == head.stdout.strip()),
           "--status: all done, each title in 2 tasks, the task time, and "
           "the commit that ran them")
        page = os.path.join(tmp, "page.html")
        r = subprocess.run([sys.executable, PTWATCH, "report", a, "--out",
                            page], capture_output=True, text=True)
        html = open(page).read() if os.path.isfile(page) else ""
        ok(r.returncode == 0 and all(t in html for v in want.values()
                                     for t in v),
           "ptwatch report over the campaign lists its titles")
        qspec = os.path.join(tmp, "qspec.json")
        with open(qspec, "w") as f:
            json.dump({"name": "qemu-check", "matrix": {
                "arch": ["x86_64"], "kernel": ["litmus"],
                "tests": ["window_read"], "qemu": ["stock", "auto"]}}, f)
        q = os.path.join(tmp, "q")
        r = campaign(qspec, "--out", q, "--jobs", "1")
        recs = {}
        for tid in (os.listdir(os.path.join(q, "runs"))
                    if os.path.isdir(os.path.join(q, "runs")) else []):
            with open(os.path.join(q, "runs", tid, "task.json")) as f:
                recs[tid] = json.load(f)
        log = ""
        for root, _, files in os.walk(os.path.join(q, "runs")):
            if "ptwatch.log" in files and "-stock-" in root:
                log = open(os.path.join(root, "ptwatch.log")).read()
        ok(r.returncode == 0 and len(recs) == 2 and
           all(f"--qemu {v['qemu']}" in v["cmd"] and f"-{v['qemu']}-" in k
               for k, v in recs.items()) and "qemu: stock" in log,
           "matrix.qemu: a task per QEMU, named by it, run with --qemu "
           f"({sorted(recs)})")
        from ptwlib import campaign as cmod
        cmd = cmod.command({"id": "t", "arch": "arm64", "tests": "cow",
                            "kernel": "build-unstable:none", "widen": None,
                            "cmdline": None}, tmp, 60)
        ok(cmd[cmd.index("--kernel-build") + 1] == "none" and
           cmd[cmd.index("--stock") + 1] == "unstable",
           "kernel build-unstable:none: our build of unstable's source "
           "(--kernel-build none --stock unstable)")
        both = cmod.expand({"runs": 1, "matrix": {
            "arch": ["arm64", "x86_64"],
            "kernel": ["unstable", "unstable-16k"], "tests": ["cow"]}})
        ok(sorted(t["id"] for t in both) ==
           ["arm64-unstable-16k-cow-none-run1",
            "arm64-unstable-cow-none-run1", "x86_64-unstable-cow-none-run1"],
           "unstable-16k (arm64 only) is left out on x86-64: 3 tasks "
           f"({sorted(t['id'] for t in both)})")
        bad = os.path.join(tmp, "bad.json")
        for body, why in ((json.dumps({"matrix": {"arch": ["arm64"],
                                                  "kernel": ["litmus"],
                                                  "tests": ["nope"]}}),
                           "no litmus scenario"),
                          ('{"matrix": {"arch": ["sparc"], "kernel": '
                           '["litmus"], "tests": ["x"]}}', "unknown arch"),
                          ('{"matrix": {"arch": ["arm64"], "kernel": '
                           '["litmus"], "tests": ["window_read"], '
                           '"qemu": ["nope"]}}', "unknown qemu"),
                          ("{not json", "not JSON")):
            with open(bad, "w") as f:
                f.write(body)
            r = campaign(bad, "--out", os.path.join(tmp, "bad"))
            ok(r.returncode == 64 and why in r.stderr,
               f"a bad spec ({why}): exit 64 and why ({r.returncode})")
    return TAP.done()


if __name__ == "__main__":
    sys.exit(main())
