#!/usr/bin/env python3
"""Hostile guests (the hostile_* litmus scenarios, both architectures where
they apply): what the catalogue's verdict does not show. Reads the logs the
litmus run left in LITMUS_OUT and, for the floods, runs the guest again
with and without the plugin to measure the plugin's memory. Prints TAP.

  tests/plugin/hostile.py BUILD_DIR LITMUS_OUT

Checked:
  - a table that points to itself: not followed, said ("table-alias");
  - a root outside RAM: not read, said ("table-not-ram");
  - the MMU toggled 200 times: said ("mmu-off"), checking goes on (the
    scenario's own expected finding);
  - a table page freed and reused as data: dropped (tables_dropped);
  - 10 million rewrites of one entry: all seen (page_table_stores), the
    pending history capped and the cap said (x86-64, where the rewrites
    leave 256 stale translations in turn), the plugin's memory (peak RSS
    with it minus without) under MEM_LIMIT_MB;
  - a CPU spinning 100 million iterations inside a break window: quiet,
    memory bounded likewise;
  - a million identical findings: one in findings.jsonl, the rest counted
    under its title (repeats_by_site, titles), the log saying so and
    staying small.
"""
import json
import os
import resource
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
from ptwlib import qemu  # noqa: E402

MEM_LIMIT_MB = 64
LOG_LIMIT = 64 << 10


def load(d):
    with open(os.path.join(d, "summary.json")) as f:
        s = json.load(f)
    with open(os.path.join(d, "ptwatch.log")) as f:
        log = f.read()
    with open(os.path.join(d, "findings.jsonl")) as f:
        found = [json.loads(l) for l in f if l.strip()]
    return s, log, found


def peak_rss_kb(cmd):
    """Peak RSS of one QEMU run, in a child of its own (RUSAGE_CHILDREN is
    the maximum over all children waited for)."""
    code = ("import resource, subprocess, sys; "
            "subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, "
            "timeout=300); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    r = subprocess.run([sys.executable, "-c", code] + cmd,
                       capture_output=True, text=True)
    return int(r.stdout.strip() or 0)


def plugin_memory_mb(build, arch, name, out):
    elf = os.path.join(build, "guest-tests", "litmus", arch,
                       f"litmus-{arch}-{name}.elf")
    kb = {}
    for mode in ("plain", "plugin"):
        with qemu.shared_ram() as ram:
            plugin = (qemu.plugin_arg(ram, os.path.join(out, "mem-" + name))
                      if mode == "plugin" else None)
            kb[mode] = peak_rss_kb(qemu.command(
                arch, elf, linux=False, smp=2, mem="256M", ram=ram,
                plugin=plugin))
    return (kb["plugin"] - kb["plain"]) / 1024, kb


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 64
    build, lit = argv[1], argv[2]
    checks = []

    def check(name, fn):
        try:
            why, info = fn()
        except (OSError, ValueError, KeyError, IndexError) as e:
            why, info = f"{type(e).__name__}: {e}", ""
        checks.append((name, why, info))

    def said(arch, name, key):
        def fn():
            s, log, _ = load(os.path.join(lit, arch, name))
            if f"warning[{key}]" not in log:
                return f"no '{key}' warning in ptwatch.log", ""
            if s.get("verdict") != "pass":
                return f"verdict {s.get('verdict')}", ""
            return None, f"'{key}' said, verdict pass"
        return fn

    def dropped(arch):
        def fn():
            s, _, found = load(os.path.join(lit, arch, "hostile_table_reuse"))
            n = s["stats"]["tables_dropped"]
            if found or not n:
                return f"{len(found)} findings, {n} tables dropped", ""
            return None, f"{n} table(s) dropped, no finding"
        return fn

    def flood(arch):
        def fn():
            d = os.path.join(lit, arch, "hostile_entry_flood")
            s, log, found = load(d)
            st = s["stats"]
            if st["page_table_stores"] < 10_000_000 or found:
                return (f"{st['page_table_stores']} stores seen, "
                        f"{len(found)} findings"), ""
            # x86: 256 translations left stale in turn, capped per VA
            if arch == "x86_64" and (
                    "warning[pending-va-evicted]" not in log
                    or st["pending_records_peak"] > 64):
                return (f"history not capped or not said: peak "
                        f"{st['pending_records_peak']}"), ""
            mb, kb = plugin_memory_mb(build, arch, "hostile_entry_flood",
                                      d + "-mem")
            if mb > MEM_LIMIT_MB:
                return f"plugin memory {mb:.1f} MB > {MEM_LIMIT_MB}", ""
            return None, (f"{st['page_table_stores']} stores seen, pending "
                          f"peak {st['pending_records_peak']}, merged "
                          f"{st['pending_records_merged']}; plugin memory "
                          f"{mb:.1f} MB (peak RSS {kb['plugin'] // 1024} MB "
                          f"vs {kb['plain'] // 1024} MB without)")
        return fn

    def spin():
        d = os.path.join(lit, "arm64", "hostile_break_spin")
        s, _, found = load(d)
        if found or s.get("verdict") != "pass":
            return f"{len(found)} findings, verdict {s.get('verdict')}", ""
        mb, kb = plugin_memory_mb(build, "arm64", "hostile_break_spin",
                                  d + "-mem")
        if mb > MEM_LIMIT_MB:
            return f"plugin memory {mb:.1f} MB > {MEM_LIMIT_MB}", ""
        return None, f"quiet; plugin memory {mb:.1f} MB"

    def findings_flood(arch, kind):
        def fn():
            d = os.path.join(lit, arch, "hostile_finding_flood")
            s, log, found = load(d)
            sites = s.get("repeats_by_site", [])
            size = os.path.getsize(os.path.join(d, "ptwatch.log"))
            if len(found) != 1 or not sites or sites[0]["kind"] != kind:
                return f"{len(found)} findings, sites {sites[:1]}", ""
            if sites[0]["repeats"] != 999_999:
                return f"{sites[0]['repeats']} repeats, want 999999", ""
            title = found[0].get("title")
            titles = s.get("titles", [])
            if sites[0].get("title") != title or not titles or \
                    titles[0].get("title") != title:
                return (f"title {title!r} in findings.jsonl, "
                        f"{sites[0].get('title')!r} in repeats_by_site, "
                        f"{titles[:1]} in titles"), ""
            if titles[0].get("count") != 1_000_000:
                return f"titles counts {titles[0].get('count')}, want " \
                    "1000000", ""
            if "further findings at this site are counted" not in log:
                return "the log does not say repeats are counted", ""
            if size > LOG_LIMIT:
                return f"ptwatch.log {size} bytes", ""
            return None, (f"1 {kind} in findings.jsonl ({title}), 999999 "
                          f"repeats counted, ptwatch.log {size} bytes")
        return fn

    for arch in ("arm64", "x86_64"):
        check(f"{arch} table pointing to itself",
              said(arch, "hostile_table_loop", "table-alias"))
    check("arm64 root outside RAM",
          said("arm64", "hostile_root_outside_ram", "table-not-ram"))
    check("arm64 MMU toggled 200 times",
          said("arm64", "hostile_mmu_toggle", "mmu-off"))
    for arch in ("arm64", "x86_64"):
        check(f"{arch} table page reused as data", dropped(arch))
    for arch in ("arm64", "x86_64"):
        check(f"{arch} 10 million rewrites of one entry", flood(arch))
    check("arm64 100 million iterations inside a break window", spin)
    check("arm64 a million identical findings",
          findings_flood("arm64", "BBM_VALID_TO_VALID"))
    check("x86_64 a million identical findings",
          findings_flood("x86_64", "STALE_TLB_ACCESS"))

    print(f"1..{len(checks)}")
    bad = 0
    for i, (name, why, info) in enumerate(checks, 1):
        if why:
            bad += 1
            print(f"not ok {i} - {name}: {why}")
        else:
            print(f"ok {i} - {name}: {info}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
