"""Campaigns (docs/campaign.md): a matrix of runs (arches x kernels x tests
x widen settings x N runs) described in one JSON file, expanded into tasks
with stable ids, each task one `ptwatch run` (or one litmus scenario) into
its own directory, run here with --jobs N or as one Slurm job array; the
campaign is resumable (a task whose task.json exists is done and not run
again) and its results are plain files (`ptwatch report DIR` summarizes
them).

A spec:

    {"name": "hunt-7.2",
     "runs": 20,
     "timeout": 900,
     "matrix": {"arch": ["arm64", "x86_64"],
                "kernel": ["bookworm", "unstable", "build:none"],
                "tests": ["mthp_swap", "cow"],
                "widen": [null, "200us"],
                "cmdline": [null],
                "qemu": ["patched"]}}

kernel: a Debian kernel (`--stock NAME`: bookworm, unstable, unstable-16k),
`build:BUGS` (our build, `--kernel-build BUGS`; build:none without bugs),
`build-unstable:BUGS` (our build of Debian unstable's source, 7.x: with
`--stock unstable`),
or `litmus` (tests are then litmus scenarios). tests: one entry per task
(a comma-separated entry runs those tests in one boot). qemu: which
QEMU runs the task (`--qemu`: stock, patched, auto or a build directory);
without it, the default of `ptwatch run` ($PTWATCH_QEMU, else auto).
Here (--jobs) the tasks run round by round: every configuration's run 1,
then every run 2, so a campaign stopped early has an even spread.
"""
import itertools
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from . import ARCHES, ROOT
from .checkout import checkout_commit

KEYS = ("arch", "kernel", "tests", "widen", "cmdline", "qemu")
STOCK = ("bookworm", "unstable", "unstable-16k")
QEMUS = ("auto", "stock", "patched")
# what a task's exit status means: the command ran (findings and failed
# guest tests are results), or the run itself failed (a timeout, a panic,
# a QEMU error: a task a cluster would requeue)
RAN = {"run": (0, 1, 2), "litmus": (0, 1)}


class SpecError(Exception):
    pass


def load(path):
    """The spec, checked; SpecError says what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except OSError as e:
        raise SpecError(f"{path}: {e.strerror}")
    except ValueError as e:
        raise SpecError(f"{path}: not JSON: {e}")
    if not isinstance(spec, dict) or not isinstance(spec.get("matrix"),
                                                    dict):
        raise SpecError(f"{path}: no \"matrix\" object")
    m = spec["matrix"]
    unknown = set(m) - set(KEYS)
    if unknown:
        raise SpecError(f"{path}: unknown matrix keys {sorted(unknown)} "
                        f"(known: {', '.join(KEYS)})")
    for k in ("arch", "kernel", "tests"):
        if not isinstance(m.get(k), list) or not m[k]:
            raise SpecError(f"{path}: matrix.{k} must be a non-empty list")
    for a in m["arch"]:
        if a not in ARCHES:
            raise SpecError(f"{path}: unknown arch {a!r}")
    for k in m["kernel"]:
        if k not in STOCK and k != "litmus" and \
                not (isinstance(k, str) and
                     k.startswith(("build:", "build-unstable:"))):
            raise SpecError(f"{path}: unknown kernel {k!r} ({', '.join(STOCK)}"
                            ", build:BUGS, build-unstable:BUGS or litmus)")
    for q in m.get("qemu") or []:
        if q is not None and (not isinstance(q, str) or not q or
                              (q not in QEMUS and not os.path.isdir(q))):
            raise SpecError(f"{path}: unknown qemu {q!r} "
                            f"({', '.join(QEMUS)} or a build directory)")
    runs = spec.get("runs", 1)
    if not isinstance(runs, int) or runs < 1:
        raise SpecError(f"{path}: runs must be a positive integer")
    return spec


def slug(v):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(v)) if v else "none"


# Debian kernels built for one architecture only: the matrix leaves out
# their other arches (a spec over both arches and both arm64 page sizes is
# then one spec)
KERNEL_ARCHES = {"unstable-16k": ("arm64",)}


def expand(spec):
    """The tasks, in a fixed order: a list of dicts with a stable id.
    Combinations of a kernel with an arch it does not exist for
    (KERNEL_ARCHES) are left out."""
    m = spec["matrix"]
    tasks = []
    for arch, kernel, tests, widen, cmdline, qemu in itertools.product(
            m["arch"], m["kernel"], m["tests"], m.get("widen") or [None],
            m.get("cmdline") or [None], m.get("qemu") or [None]):
        if arch not in KERNEL_ARCHES.get(kernel, (arch,)):
            continue
        for run in range(1, spec.get("runs", 1) + 1):
            tid = "-".join([arch, slug(kernel), slug(tests), slug(widen)] +
                           ([slug(cmdline)] if cmdline else []) +
                           ([slug(os.path.basename(qemu.rstrip("/")))]
                            if qemu else []) + [f"run{run}"])
            tasks.append({"id": tid, "arch": arch, "kernel": kernel,
                          "tests": tests, "widen": widen, "cmdline": cmdline,
                          "qemu": qemu, "run": run})
    return tasks


def check_litmus(tasks, build):
    """SpecError when a litmus task names a scenario not built for its
    arch (the catalogues differ: arm64 has the BBM and contiguous ones)."""
    for t in tasks:
        if t["kernel"] != "litmus":
            continue
        elf = os.path.join(build, "guest-tests", "litmus", t["arch"],
                           f"litmus-{t['arch']}-{t['tests']}.elf")
        if not os.path.isfile(elf):
            raise SpecError(f"no litmus scenario {t['tests']!r} for "
                            f"{t['arch']} (guest-tests/litmus)")


def task_dir(out, task):
    return os.path.join(out, "runs", task["id"])


def command(task, out, timeout):
    """The ptwatch command line of a task."""
    prog = [sys.executable, os.path.join(ROOT, "scripts", "ptwatch")]
    d = task_dir(out, task)
    qemu = ["--qemu", task["qemu"]] if task.get("qemu") else []
    if task["kernel"] == "litmus":
        return prog + ["litmus", "--arch", task["arch"], "--only",
                       task["tests"], "--out", d] + qemu
    cmd = prog + ["run", "--arch", task["arch"], "--tests", task["tests"],
                  "--out", d, "--timeout", str(timeout)]
    if task["kernel"].startswith("build:"):
        cmd += ["--kernel-build", task["kernel"][len("build:"):]]
    elif task["kernel"].startswith("build-unstable:"):
        cmd += ["--kernel-build", task["kernel"][len("build-unstable:"):],
                "--stock", "unstable"]
    else:
        cmd += ["--stock", task["kernel"]]
    if task["widen"]:
        cmd += ["--widen", task["widen"]]
    if task["cmdline"]:
        cmd += ["--cmdline", task["cmdline"]]
    return cmd + qemu


def done(out, task):
    """The task's record when it ran to an end (task.json), else None."""
    try:
        with open(os.path.join(task_dir(out, task), "task.json")) as f:
            rec = json.load(f)
    except (OSError, ValueError):
        return None
    return rec if rec.get("ran") else None


def run_task(out, task, timeout):
    """Run one task (again from scratch if it had started); its record."""
    d = task_dir(out, task)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cmd = command(task, out, timeout)
    commit = checkout_commit()
    t0 = time.time()
    with open(os.path.join(d, "ptwatch.out"), "w") as log:
        rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT).returncode
    kind = "litmus" if task["kernel"] == "litmus" else "run"
    rec = dict(task, cmd=" ".join(shlex.quote(c) for c in cmd), rc=rc,
               ran=rc in RAN[kind], started=round(t0, 1),
               seconds=round(time.time() - t0, 1), host=socket.gethostname(),
               ptwatch=commit)
    tmp = os.path.join(d, "task.json.tmp")
    with open(tmp, "w") as f:
        json.dump(rec, f, indent=1)
    os.replace(tmp, os.path.join(d, "task.json"))
    return rec


def write_plan(spec, spec_path, out, tasks):
    os.makedirs(out, exist_ok=True)
    plan = {"spec": spec, "spec_path": os.path.abspath(spec_path),
            "tasks": [t["id"] for t in tasks]}
    with open(os.path.join(out, "campaign.json"), "w") as f:
        json.dump(plan, f, indent=1)


def run_local(spec, out, jobs, only=None, say=print):
    """Run the tasks not done yet (only: those indices), jobs at once;
    returns (ran now, already done, failed to run)."""
    tasks = expand(spec)
    timeout = int(spec.get("timeout", 900))
    todo, skipped = [], 0
    for i, t in enumerate(tasks):
        if only is not None and i not in only:
            continue
        if done(out, t):
            skipped += 1
        else:
            todo.append(t)
    # round by round: every configuration's run 1 before any run 2
    todo.sort(key=lambda t: t["run"])
    failed = []

    def one(t):
        rec = run_task(out, t, timeout)
        say(f"  {t['id']:<60} exit {rec['rc']:<3} {rec['seconds']:7.1f}s"
            f"{'' if rec['ran'] else '  FAILED TO RUN'}")
        if not rec["ran"]:
            failed.append(t["id"])
        return rec

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, todo))
    return len(todo), skipped, failed


SBATCH = """#!/bin/bash
# {name}: one Slurm array task per campaign task (ptwatch campaign --task);
# a task already done is not run again; one lost with its node is requeued
# (--requeue), one that failed to run requeues itself, twice at most;
# written by `ptwatch campaign --slurm`
#SBATCH --job-name=ptwatch-{name}
#SBATCH --array=0-{last}
#SBATCH --requeue
#SBATCH --cpus-per-task={cpus}
#SBATCH --output={out}/slurm/%A_%a.out
{python} {ptwatch} campaign {spec} --out {out} --task "$SLURM_ARRAY_TASK_ID" && exit 0
if [ "${{SLURM_RESTART_COUNT:-0}}" -lt 2 ]; then
	scontrol requeue "${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"
fi
exit 1
"""


def write_sbatch(spec, spec_path, out, cpus=2):
    tasks = expand(spec)
    os.makedirs(os.path.join(out, "slurm"), exist_ok=True)
    path = os.path.join(out, "campaign.sbatch")
    with open(path, "w") as f:
        f.write(SBATCH.format(
            name=slug(spec.get("name", "campaign")), last=len(tasks) - 1,
            cpus=cpus, out=shlex.quote(os.path.abspath(out)),
            python=shlex.quote(sys.executable),
            ptwatch=shlex.quote(os.path.join(ROOT, "scripts", "ptwatch")),
            spec=shlex.quote(os.path.abspath(spec_path))))
    os.chmod(path, 0o755)
    return path


def task_findings(d):
    """The findings of a task's runs (its directory d, searched down)."""
    from . import logs
    found = []
    for root, _, files in os.walk(d):
        if "findings.jsonl" in files:
            found += logs.load_findings(os.path.join(root, "findings.jsonl"))
    return found


def titles_by_task(out):
    """task id -> the sorted titles of its findings, for the tasks that
    have a directory under out"""
    runs = os.path.join(out, "runs")
    ids = sorted(os.listdir(runs)) if os.path.isdir(runs) else []
    return {tid: sorted(f.get("title") for f in
                        task_findings(os.path.join(runs, tid)))
            for tid in ids}


def status(spec, out):
    """(done, failed, pending) task ids; findings by title over the done
    tasks: {title: [severity, findings, tasks]}; and the done tasks'
    machine time: (their summed run time in seconds, {commit: tasks}, the
    ptwatch that ran them, "unrecorded" before task.json said)"""
    ok, bad, pending, titles = [], [], [], {}
    seconds, commits = 0.0, {}
    for t in expand(spec):
        d = task_dir(out, t)
        try:
            with open(os.path.join(d, "task.json")) as f:
                rec = json.load(f)
        except (OSError, ValueError):
            pending.append(t["id"])
            continue
        (ok if rec.get("ran") else bad).append(t["id"])
        if rec.get("ran"):
            seconds += rec.get("seconds", 0)
            c = rec.get("ptwatch") or "unrecorded"
            commits[c] = commits.get(c, 0) + 1
        seen = set()
        for fd in task_findings(d):
            key = fd.get("title") or fd.get("kind", "?")
            e = titles.setdefault(key, [fd.get("severity", "?"), 0, 0])
            e[1] += 1
            if key not in seen:
                seen.add(key)
                e[2] += 1
    return ok, bad, pending, titles, (seconds, commits)
