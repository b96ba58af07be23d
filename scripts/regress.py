#!/usr/bin/env python3
"""ptwatch regress: does ptwatch catch real kernel bugs put back?

  scripts/ptwatch regress [--bugs LIST] [--arch arm64|x86_64|all] [--runs N]
                          [--widen DUR] [--out DIR] [--timeout S]
                          [--qemu auto|stock|patched]

For each bug of guest-tests/kernel-bugs/ (default: all) and each of its
architectures, builds the kernel with the bug put back and the same kernel
without it (scripts/build-kernel), then boots, each run a fresh boot running
the bug's guest test under the plugin:
  - N runs on the injected kernel,
  - N runs on the injected kernel with --widen DUR,
  - N runs on the kernel without the injection, with --widen DUR (the
    baseline: the mode most likely to open the race, so the fairest test
    that ptwatch stays quiet on a correct kernel).
A run *detects* the bug when it has a finding of severity error, of a kind
the patch header names under Expect:, with either side of the finding (the
PC that triggered it, or the writer, breaker or first reader) in a function
the header names under Symbols: (the code the bug changes and the code its
effect passes through). A DATA_MISMATCH has the test program's own load
and store as its sides, which no kernel symbol names: it counts as it is
(the baseline shows whether the test's data stays intact without the bug). Cmdline: in the header adds kernel arguments (such
as PTW_ONLY=scenario PTW_BUDGET=ms, which reach the guest test);
Cmdline-ARCH: replaces it on one architecture. A run that did not run
(exit status other than 0, 1 or 2: the launcher failed, the guest did not
boot) is tried once more, and if it fails again it is counted under
run_failed, not as a quiet run; so is a run whose test ran no scenario
(all skipped: a Cmdline naming a scenario that does not exist). Prints a table and writes DIR/regress.json
(rewritten after every bug, so an interrupted table keeps what it has).
Exit 0 when every bug met its target (detected in at least 9 of 10 widened
runs, scaled to N, no baseline detection and no baseline error of any
kind: a correct kernel must stay quiet), 1 otherwise, 64 bad usage.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

from ptwlib import guest, logs, qemu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUGS = os.path.join(ROOT, "guest-tests", "kernel-bugs")
ARCHES = ("arm64", "x86_64")


def parse_header(path):
    """Key: value lines before the diff; indented lines continue a value."""
    hdr, key = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("--- ") or line.startswith("diff "):
                break
            m = re.match(r"^([A-Za-z][A-Za-z0-9_-]*):\s*(.*)$", line)
            if m:
                key = m.group(1).lower()
                hdr[key] = m.group(2).strip()
            elif key and line.startswith("  ") and line.strip():
                hdr[key] += " " + line.strip()
    need = ("ptwatch-bug", "test", "expect", "symbols", "arches")
    missing = [k for k in need if not hdr.get(k)]
    if missing:
        raise ValueError(f"{path}: header lacks {', '.join(missing)}")
    # a parenthesis is a comment; lists are comma-separated
    bare = lambda v: re.sub(r"\s*\([^)]*\)", "", v).strip()
    split = lambda v: [x.strip() for x in bare(v).split(",") if x.strip()]
    return {
        "name": hdr["ptwatch-bug"],
        "test": hdr["test"],
        "expect": split(hdr["expect"]),
        "symbols": split(hdr["symbols"]),
        "arches": split(hdr["arches"]),
        "reintroduces": hdr.get("reintroduces", ""),
        "cmdline": {a: bare(hdr.get("cmdline-" + a.lower(),
                                    hdr.get("cmdline", "")))
                    for a in ARCHES},
    }


def all_bugs():
    return sorted(f[:-6] for f in os.listdir(BUGS) if f.endswith(".patch"))


def sym_name(s):
    s = s.strip("[]")
    return re.split(r"[+\]]", s, maxsplit=1)[0]


def matches(finding, bug):
    if finding.get("severity", "error") != "error":
        return False
    if finding.get("kind") not in bug["expect"]:
        return False
    if finding.get("kind") == "DATA_MISMATCH":
        return True  # the test's own load and store: no kernel symbol
    sides = [finding.get("pc_sym", "")]
    if "other" in finding:
        sides.append(finding["other"].get("pc_sym", ""))
    names = {sym_name(s) for s in sides if s}
    return any(n == want or n.startswith(want + ".") for n in names
               for want in bug["symbols"])


def build_kernel(arch, inject, checks=False):
    cmd = [os.path.join(ROOT, "scripts", "build-kernel"), arch]
    if inject:
        cmd += ["--inject", inject]
    if checks:
        cmd += ["--checks"]
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"build-kernel {arch} {inject or ''} failed")
    return r.stdout.strip().splitlines()[-1], time.time() - t0


def one_run(arch, kdir, test, cmdline, widen, out, timeout, trace=False):
    image = os.path.join(kdir, "Image" if arch == "arm64" else "bzImage")
    cmd = [os.path.join(ROOT, "scripts", "ptwatch"), "run", "--arch", arch,
           "--kernel", image, "--symbols", os.path.join(kdir, "System.map"),
           "--tests", test, "--out", out, "--timeout", str(timeout)]
    if widen:
        cmd += ["--widen", widen]
    if trace:
        cmd += ["--trace"]
    if cmdline:
        cmd += ["--cmdline", cmdline]
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    secs = time.time() - t0
    findings = logs.load_findings(os.path.join(out, "findings.jsonl"))
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    # scenarios that ran (a Cmdline naming no scenario skips them all: a
    # quiet run that tested nothing)
    ran, skip = 0, ""
    try:
        with open(os.path.join(out, "ktap.log"), encoding="utf-8",
                  errors="replace") as f:
            for line in f:
                if not re.match(r"(not )?ok [0-9]+ ", line):
                    continue
                if "# SKIP" in line:
                    skip = skip or line.split("# SKIP", 1)[1].strip()
                else:
                    ran += 1
    except OSError:
        pass
    return {"rc": r.returncode, "seconds": round(secs, 1),
            "findings": findings, "line": last, "ran": ran, "skip": skip}


# The kernel's own checkers firing, in the console of a run without
# ptwatch: page_table_check's BUG_ON()s, VM_BUG_ON*() and VM_WARN*() of
# DEBUG_VM (their page or folio dumped), the page allocator's bad-page and
# the exit-time RSS counter checks, and any other BUG or WARNING in mm/.
CHECK_FIRED = re.compile(
    r"kernel BUG at |page_table_check|page dumped because|"
    r"BUG: Bad page|BUG: Bad rss-counter|"
    r"WARNING: CPU: \d+ PID: \d+ at (?:mm|arch/\w+/mm)/")


def checks_run(arch, kdir, test, cmdline, out, timeout):
    """One boot of kdir without ptwatch running test: (ran, guest failed,
    the first line of the kernel's checker or None)."""
    os.makedirs(out, exist_ok=True)
    image = os.path.join(kdir, "Image" if arch == "arm64" else "bzImage")
    bins = guest.test_binaries(arch, [test])
    con = os.path.join(out, "console.log")
    with qemu.shared_ram("ptwatch-checks.") as ram:
        cmd = qemu.command(
            arch, image, linux=True, smp=2, mem="1G", ram=ram, cpu="max",
            initrd=guest.initrd(arch, bins),
            append=qemu.kernel_append(arch, [os.path.basename(bins[0])],
                                      extra=cmdline, oops_panic=False),
            disk=guest.test_disk())
        rc = qemu.run(cmd, timeout, con, os.path.join(out, "qemu.stderr"))
    c = logs.read_console(con)
    fired = next((l.strip() for l in c.splitlines()
                  if CHECK_FIRED.search(l)), None)
    ran = "ptwatch-init: done" in c or fired is not None
    failed = rc != 0 or any(l.startswith("not ok") for l in logs.ktap(c))
    return ran, failed, fired


def kernel_checks(a, bugs, arches):
    """--kernel-checks: each bug's kernel built with PAGE_TABLE_CHECK and
    DEBUG_VM (build-kernel --checks), booted without ptwatch, a.runs times,
    and the same kernel without the bug as the baseline: does the kernel's
    own checker fire?"""
    os.makedirs(a.out, exist_ok=True)
    t_start, records = time.time(), []
    for bug in bugs:
        for arch in arches:
            if arch not in bug["arches"]:
                continue
            try:
                kin, _ = build_kernel(arch, bug["name"], checks=True)
                kbase, _ = build_kernel(arch, None, checks=True)
            except RuntimeError as e:
                print(f"ptwatch regress: {e}", file=sys.stderr)
                return 3
            rec = {"bug": bug["name"], "arch": arch, "runs": a.runs,
                   "fired": 0, "guest_failed": 0, "not_run": 0,
                   "baseline_fired": 0, "baseline_guest_failed": 0,
                   "first": ""}
            for mode, kdir in (("injected", kin), ("baseline", kbase)):
                for i in range(1, a.runs + 1):
                    out = os.path.join(a.out, bug["name"], arch,
                                       "checks-" + mode, f"run{i}")
                    ran, failed, fired = checks_run(
                        arch, kdir, bug["test"], bug["cmdline"][arch], out,
                        a.timeout)
                    pre = "" if mode == "injected" else "baseline_"
                    if not ran:
                        rec["not_run"] += 1
                    rec[pre + "fired"] += fired is not None
                    rec[pre + "guest_failed"] += failed
                    if fired and mode == "injected" and not rec["first"]:
                        rec["first"] = fired
                    print(f"  {bug['name']:<28} {arch:<7} {mode:<9} run {i}: "
                          f"{'FIRED   ' if fired else 'quiet   '}"
                          f"{'guest failed ' if failed else ''}"
                          f"{fired or ''}", flush=True)
            records.append(rec)
            doc = {"tool": "ptwatch regress --kernel-checks",
                   "config": "guest-tests/kernel-config/checks.config",
                   "runs": a.runs, "qemu": a.qemu,
                   "seconds": round(time.time() - t_start),
                   "records": records}
            with open(os.path.join(a.out, "kernel-checks.json"), "w",
                      encoding="utf-8") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
    print()
    print(f"{'bug':<28} {'arch':<7} {'runs':>4} {'fired':>5} "
          f"{'guestfail':>9} {'base fired':>10} {'not run':>7}")
    for r in records:
        print(f"{r['bug']:<28} {r['arch']:<7} {r['runs']:>4} {r['fired']:>5} "
              f"{r['guest_failed']:>9} {r['baseline_fired']:>10} "
              f"{r['not_run']:>7}  {r['first'][:80]}")
    print(f"\nmachine time {round(time.time() - t_start)} s; logs in {a.out}")
    return 0


def markdown(doc):
    """The table of regress.json as Markdown (for docs/regress.md)."""
    out = [f"{doc['runs']} runs per mode, widened runs and the baseline with "
           f"--widen {doc['widen']}; {doc.get('qemu', 'stock')} QEMU; "
           f"{doc['machine']}; machine time {doc['seconds']} s.", "",
           "| bug | arch | expected | runs | detected | detected widened | "
           "guest failed | detected, guest checks passed | baseline runs | "
           "baseline detected | baseline runs with any error | "
           "runs that did not run | median s to detect | target |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in doc["records"]:
        med = r["median_seconds_to_detect"]
        out.append(
            f"| `{r['bug']}` | {r['arch']} | {', '.join(r['expected'])} | "
            f"{r['runs']} | {r['detected']} | {r['detected_widened']} | "
            f"{r['guest_failed']} | {r['detected_guest_passed']} | "
            f"{r['baseline_runs']} | {r['baseline_detected']} | "
            f"{r['baseline_errors']} | {r['run_failed']} | "
            f"{med if med is not None else '-'} | "
            f"{'met' if r['target_met'] else 'missed'} |")
    return "\n".join(out) + "\n"


def write_doc(a, records, builds, total):
    doc = {"tool": "ptwatch regress", "runs": a.runs, "widen": a.widen,
           "qemu": a.qemu,
           "machine": f"{os.cpu_count()} cores", "seconds": round(total),
           "kernel_build_seconds": builds, "records": records}
    with open(os.path.join(a.out, "regress.json"), "w",
              encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    with open(os.path.join(a.out, "regress.md"), "w", encoding="utf-8") as f:
        f.write(markdown(doc))


def main():
    ap = argparse.ArgumentParser(prog="ptwatch regress",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--bugs", default="")
    ap.add_argument("--arch", default="all",
                    choices=["arm64", "x86_64", "all"])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--widen", default="200us")
    ap.add_argument("--out", default=os.path.join(ROOT, "ptwatch-out",
                                                  "regress"))
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--trace", action="store_true",
                    help="record trace.ptw beside each run's findings "
                    "(ptwatch replay)")
    ap.add_argument("--kernel-checks", action="store_true",
                    help="instead of ptwatch: each bug's kernel with "
                    "PAGE_TABLE_CHECK and DEBUG_VM, booted without the "
                    "plugin: does the kernel's own checker fire? "
                    "(kernel-checks.json)")
    ap.add_argument("--qemu", choices=["auto", "stock", "patched"],
                    default=os.environ.get("PTWATCH_QEMU") or "auto",
                    help="the QEMU of every run (as ptwatch run --qemu; "
                    "auto: patched when scripts/build-qemu built it)")
    try:
        a = ap.parse_args()
    except SystemExit as e:
        return 64 if e.code else 0
    if a.qemu == "auto":
        a.qemu = "patched" if qemu.patched_dir() else "stock"
    # every run of the table in the same QEMU, named in regress.json
    os.environ["PTWATCH_QEMU"] = a.qemu
    if a.runs < 1:
        print("ptwatch regress: --runs must be at least 1", file=sys.stderr)
        return 64
    names = [b for b in a.bugs.split(",") if b] or all_bugs()
    bugs = []
    for n in names:
        p = os.path.join(BUGS, n + ".patch")
        if not os.path.isfile(p):
            print(f"ptwatch regress: no bug '{n}' (known: "
                  f"{', '.join(all_bugs())})", file=sys.stderr)
            return 64
        try:
            bugs.append(parse_header(p))
        except ValueError as e:
            print(f"ptwatch regress: {e}", file=sys.stderr)
            return 64
    arches = ARCHES if a.arch == "all" else (a.arch,)
    if a.kernel_checks:
        qemu.use_qemu(a.qemu)
        try:
            guest.ensure_built()
        except guest.Failed as e:
            print(f"ptwatch regress: {e}", file=sys.stderr)
            return 3
        return kernel_checks(a, bugs, arches)
    os.makedirs(a.out, exist_ok=True)
    t_start = time.time()
    records, builds = [], {}
    for bug in bugs:
        for arch in arches:
            if arch not in bug["arches"]:
                continue
            try:
                kin, s_in = build_kernel(arch, bug["name"])
                kbase, s_base = build_kernel(arch, None)
            except RuntimeError as e:
                print(f"ptwatch regress: {e}", file=sys.stderr)
                return 3
            builds[f"{arch}/{bug['name']}"] = round(s_in, 1)
            builds[f"{arch}/baseline"] = round(s_base, 1)
            rec = {"bug": bug["name"], "arch": arch,
                   "expected": bug["expect"], "symbols": bug["symbols"],
                   "test": bug["test"], "runs": a.runs, "widen": a.widen,
                   "detected": 0, "detected_widened": 0, "guest_failed": 0,
                   "run_failed": 0, "detected_guest_passed": 0,
                   "baseline_runs": a.runs, "baseline_detected": 0,
                   "baseline_errors": 0, "median_seconds_to_detect": None,
                   "runs_detail": []}
            detect_secs = []
            modes = (("injected", kin, ""), ("widened", kin, a.widen),
                     ("baseline", kbase, a.widen))
            for mode, kdir, widen in modes:
                for i in range(1, a.runs + 1):
                    out = os.path.join(a.out, bug["name"], arch, mode,
                                       f"run{i}")
                    r = one_run(arch, kdir, bug["test"],
                                bug["cmdline"][arch], widen, out, a.timeout,
                                a.trace)
                    if r["rc"] not in (0, 1, 2):
                        print(f"  {bug['name']} {arch} {mode} run {i}: "
                              f"did not run (exit {r['rc']}: {r['line']}); "
                              "once more", flush=True)
                        # keep the failed attempt's logs
                        failed_dir = out + ".failed"
                        shutil.rmtree(failed_dir, ignore_errors=True)
                        if os.path.isdir(out):
                            os.rename(out, failed_dir)
                        r = one_run(arch, kdir, bug["test"],
                                    bug["cmdline"][arch], widen, out,
                                    a.timeout)
                    valid = r["rc"] in (0, 1, 2) and r["ran"] > 0
                    if r["rc"] in (0, 1, 2) and not r["ran"]:
                        print(f"  {bug['name']} {arch} {mode} run {i}: no "
                              f"scenario ran ({r['skip'] or 'no KTAP'}): "
                              "counted as not run", flush=True)
                    hits = [f for f in r["findings"] if matches(f, bug)]
                    errors = [f for f in r["findings"]
                              if f.get("severity") == "error"]
                    det = bool(hits)
                    rec["runs_detail"].append({
                        "mode": mode, "run": i, "exit": r["rc"],
                        "seconds": r["seconds"], "detected": det,
                        "kinds": sorted({f["kind"] + "/" + f["severity"]
                                         for f in r["findings"]}),
                        "hit": (hits[0]["kind"] + " at " +
                                hits[0].get("pc_sym", "")) if hits else "",
                        "ran": valid})
                    if not valid:
                        rec["run_failed"] += 1
                        if mode == "baseline":
                            rec["baseline_runs"] -= 1
                    elif mode == "baseline":
                        rec["baseline_detected"] += det
                        rec["baseline_errors"] += bool(errors)
                    else:
                        rec["detected" if mode == "injected"
                            else "detected_widened"] += det
                        if r["rc"] == 2:
                            rec["guest_failed"] += 1
                        elif det:
                            rec["detected_guest_passed"] += 1
                        if det:
                            detect_secs.append(r["seconds"])
                    word = ("DETECTED" if det else "quiet   ") if valid \
                        else "NOT RUN "
                    print(f"  {bug['name']:<28} {arch:<7} {mode:<9} run {i}: "
                          f"{word} exit {r['rc']} "
                          f"{r['seconds']:6.1f}s {rec['runs_detail'][-1]['hit']}",
                          flush=True)
            if detect_secs:
                rec["median_seconds_to_detect"] = round(
                    statistics.median(detect_secs), 1)
            need = -(-9 * a.runs // 10)  # 9 of 10, rounded up
            rec["target_met"] = (rec["detected_widened"] >= need and
                                 rec["baseline_detected"] == 0 and
                                 rec["baseline_errors"] == 0 and
                                 rec["baseline_runs"] == a.runs)
            records.append(rec)
            write_doc(a, records, builds, time.time() - t_start)
    total = time.time() - t_start
    hdr = (f"{'bug':<28} {'arch':<7} {'runs':>4} {'det':>4} {'det+w':>5} "
           f"{'guestfail':>9} {'det,guest ok':>12} {'base det':>8} "
           f"{'base err':>8} {'median s':>8} target")
    print()
    print(hdr)
    for r in records:
        med = r["median_seconds_to_detect"]
        print(f"{r['bug']:<28} {r['arch']:<7} {r['runs']:>4} "
              f"{r['detected']:>4} {r['detected_widened']:>5} "
              f"{r['guest_failed']:>9} {r['detected_guest_passed']:>12} "
              f"{r['baseline_detected']:>8} {r['baseline_errors']:>8} "
              f"{med if med is not None else '-':>8} "
              f"{'met' if r['target_met'] else 'MISSED'}")
    print(f"\nmachine time {total:.0f} s; logs in {a.out}")
    write_doc(a, records, builds, total)
    return 0 if records and all(r["target_met"] for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
