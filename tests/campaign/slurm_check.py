#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A campaign through a real Slurm on this host (docs/campaign.md): munge,
slurmctld and two slurmd (nodes n1 and n2, one CPU each) started from a
scratch directory with their own configuration (the host's /etc is not
touched), the campaign's job array submitted, one task requeued on
purpose while it runs (as when its node is lost), and the gathered
results compared with a local --jobs 2 run of the same spec. Needs
slurmctld, slurmd, slurm-client and munge (scripts/bootstrap installs
them) and root (slurmd runs jobs as their user). Not in CI: it takes a few
minutes (one Linux run among the litmus tasks, so that there is a task
long enough to requeue while it runs).

    slurm_check.py [--keep DIR]   (TAP; exit 0 when every check passed)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from ptwlib.campaign import titles_by_task as titles  # noqa: E402
from ptwlib.tap import Tap  # noqa: E402

TAP = Tap()
ok = TAP.ok
PTWATCH = os.path.join(ROOT, "scripts", "ptwatch")
SPEC = {"name": "slurm-check", "runs": 1, "timeout": 600,
        "matrix": {"arch": ["arm64", "x86_64"], "kernel": ["litmus"],
                   "tests": ["window_read", "partial_unit_unmap"]}}
LINUX = {"name": "slurm-check-linux", "runs": 1, "timeout": 600,
         "matrix": {"arch": ["x86_64"], "kernel": ["bookworm"],
                    "tests": ["mremap_move"]}}

CONF = """ClusterName=ptwatch
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={d}/munge.sock
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool-%n
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd-%n.pid
SlurmctldPort=16817
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobRequeue=1
NodeName=n1 NodeHostname=localhost NodeAddr=127.0.0.1 Port=16818 CPUs=1
NodeName=n2 NodeHostname=localhost NodeAddr=127.0.0.1 Port=16819 CPUs=1
PartitionName=main Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
"""


def sh(*cmd, env=None, check=False):
    return subprocess.run(list(cmd), capture_output=True, text=True,
                          env=env, check=check)


def wait(pred, secs, step=1.0):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def main():
    for tool in ("munged", "slurmctld", "slurmd", "sbatch", "squeue",
                 "sinfo", "scontrol"):
        if not shutil.which(tool):
            print(f"1..0 # SKIP {tool} is not installed "
                  "(scripts/bootstrap installs slurm and munge)")
            return 0
    if os.geteuid() != 0:
        print("1..0 # SKIP slurmd must run as root to run jobs")
        return 0
    keep = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--keep" \
        else None
    d = keep or tempfile.mkdtemp(prefix="ptwatch-slurm.")
    os.makedirs(d, exist_ok=True)
    for sub in ("state", "spool-n1", "spool-n2"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, "slurm.conf"), "w") as f:
        f.write(CONF.format(d=d))
    with open(os.path.join(d, "munge.key"), "wb") as f:
        f.write(os.urandom(1024))
    os.chmod(os.path.join(d, "munge.key"), 0o400)
    env = dict(os.environ, SLURM_CONF=os.path.join(d, "slurm.conf"))
    procs = []
    try:
        r = sh("munged", "--force", "--socket", f"{d}/munge.sock",
               "--key-file", f"{d}/munge.key", "--pid-file",
               f"{d}/munged.pid", "--log-file", f"{d}/munged.log",
               "--seed-file", f"{d}/munged.seed")
        ok(r.returncode == 0, f"munged starts ({r.stderr.strip()[:120]})")
        for cmd in (["slurmctld", "-D", "-i"], ["slurmd", "-D", "-N", "n1"],
                    ["slurmd", "-D", "-N", "n2"]):
            procs.append(subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(d, cmd[0] + cmd[-1] + ".err"),
                            "w")))
            time.sleep(1)
        idle = wait(lambda: sh("sinfo", "-h", "-o", "%T %D", env=env)
                    .stdout.split() == ["idle", "2"], 60)
        ok(idle, "slurmctld and two slurmd: nodes n1 and n2 idle "
           f"({sh('sinfo', '-h', env=env).stdout.strip()})")
        if not idle:
            return TAP.done()
        specs = []
        for s in (SPEC, LINUX):
            p = os.path.join(d, s["name"] + ".json")
            with open(p, "w") as f:
                json.dump(s, f)
            specs.append(p)
        def submit(spec, out):
            """(exit status, job id) of the campaign's array submitted"""
            r = sh(sys.executable, PTWATCH, "campaign", spec, "--out", out,
                   "--slurm", "--slurm-cpus", "1", "--submit", env=env)
            return r.returncode, r.stdout.strip().rsplit(" ", 1)[-1]

        # the long task first: requeued while it runs
        out_l = os.path.join(d, "out-linux")
        rc, job = submit(specs[1], out_l)
        ok(rc == 0 and job.isdigit(),
           f"the Linux campaign's array submitted (job {job})")
        running = wait(lambda: "R" in sh("squeue", "-h", "-j", job, "-o",
                                         "%t", env=env).stdout, 120)
        time.sleep(10)  # well into its boot
        r = sh("scontrol", "requeue", f"{job}_0", env=env)
        ok(running and r.returncode == 0,
           f"its task requeued while it ran (scontrol requeue: "
           f"{r.stderr.strip() or 'done'})")
        out_a = os.path.join(d, "out-litmus")
        rc, job2 = submit(specs[0], out_a)
        ok(rc == 0 and job2.isdigit(),
           f"the litmus campaign's array of 4 submitted (job {job2})")
        drained = wait(lambda: not sh("squeue", "-h", env=env).stdout.strip(),
                       900, 3)
        ok(drained, "every array task ended")
        rec = {}
        try:
            with open(os.path.join(out_l, "runs", os.listdir(
                    os.path.join(out_l, "runs"))[0], "task.json")) as f:
                rec = json.load(f)
        except (OSError, IndexError, ValueError):
            pass
        restarts = sh("scontrol", "show", "job", f"{job}_0", env=env).stdout
        ok(rec.get("ran") is True and rec.get("rc") in (0, 1, 2),
           f"the requeued task ran to its end the second time (rc "
           f"{rec.get('rc')}; {'Restarts=1' in restarts and 'restarted once' or 'job record gone'})")
        st = sh(sys.executable, PTWATCH, "campaign", specs[0], "--out", out_a,
                "--status", env=env)
        ok(st.returncode == 0 and "4 done, 0 failed to run, 0 pending" in
           st.stdout, "the litmus campaign: 4 done through Slurm")
        out_b = os.path.join(d, "out-local")
        r = sh(sys.executable, PTWATCH, "campaign", specs[0], "--out", out_b,
               "--jobs", "2", env=env)
        ok(r.returncode == 0 and titles(out_b) == titles(out_a) and
           all(titles(out_a).values()),
           "the same spec here with --jobs 2: the same findings per task "
           f"({sum(len(v) for v in titles(out_a).values())} findings)")
        print(f"# logs in {d}")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        pid = os.path.join(d, "munged.pid")
        if os.path.isfile(pid):
            try:
                os.kill(int(open(pid).read().strip()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        if not keep:
            shutil.rmtree(d, ignore_errors=True)
    return TAP.done()


if __name__ == "__main__":
    sys.exit(main())
