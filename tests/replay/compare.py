#!/usr/bin/env python3
"""Replay every trace.ptw under the given directories and compare with the
live run beside it: findings.jsonl must be identical (same findings, same
order, every field), and so must ptwatch.log and summary.json (its stats included), apart
from the fields named in VOLATILE. TAP output, one line per trace.

usage: compare.py [--since-old] BUILD DIR...   (exit 1 if any differs)

--since-old: the live runs were made by an older ptwatch (a baseline
recorded before a refactoring): the fields added since (NEW_FIELDS, the
findings' titles) are left out of both sides, and what remains must still be
identical."""
import json
import os
import subprocess
import sys

# the stall count depends on when vCPUs asked for widening stalls the live
# adapter took (ptw_take_stall), which is not an engine event; lingering
# watched pages let go count reports the adapter dropped
# (ptw_watch_unwanted): a replay has no page watch; the interest cache
# counts the adapter's questions to the lock-free filters
# (ptw_access_interest), which a replay of the accesses they passed does
# not ask (its generations, raised by the engine's events, must match)
VOLATILE = {("stats", "widen_stalls"), ("stats", "watch_pages_unlingered"),
            ("stats", "interest_cache_hits"),
            ("stats", "interest_cache_misses")}
# added since the baseline of issue 22 (commit fdc1175): each finding's
# title (findings.jsonl "title", the "  title:" lines of ptwatch.log),
# summary.json's "titles" and the titles in "repeats_by_site", and the
# kind PT_PAGE_MAPPED (its 0 counts in summary.json); the stats of session
# 14 (linux_pages_read, linux_pages_unknown, contig_transitional)
NEW_FIELDS = False
NEW_KEYS = ("title", "titles", "PT_PAGE_MAPPED", "linux_pages_read",
            "linux_pages_unknown", "contig_transitional")


def drop_new(obj):
    if isinstance(obj, dict):
        return {k: drop_new(v) for k, v in obj.items()
                if k not in NEW_KEYS}
    if isinstance(obj, list):
        return [drop_new(v) for v in obj]
    return obj


def drop_new_lines(lines):
    # the title of each finding; whether the Linux mm facts are on (said
    # once, at the first question a detector asks of them)
    return [x for x in lines
            if not x.startswith(("  title: ", "linux mm: "))]


# what scripts/ptw_lines.py adds to a live run afterwards (source lines from
# the kernel's vmlinux, when it has one): not the engine's, not replayed
LINES_KEYS = ("pc_line", "line")


def drop_lines(obj):
    if isinstance(obj, dict):
        return {k: drop_lines(v) for k, v in obj.items()
                if k not in LINES_KEYS}
    if isinstance(obj, list):
        return [drop_lines(v) for v in obj]
    return obj


def engine_log(lines):
    """ptwatch.log up to the source-lines section ptw_lines.py appends"""
    for i, x in enumerate(lines):
        if x.startswith("source lines ("):
            lines = lines[:i]
            break
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def load_jsonl(path):
    with open(path) as f:
        rows = drop_lines([json.loads(line) for line in f if line.strip()])
    return drop_new(rows) if NEW_FIELDS else rows


def strip(summary):
    for sec, key in VOLATILE:
        summary.get(sec, {}).pop(key, None)
    return drop_new(summary) if NEW_FIELDS else summary


def compare(build, trace):
    live = os.path.dirname(trace)
    out = os.path.join(live, "replay")
    p = subprocess.run([os.path.join(build, "ptwatch-replay"), trace,
                        "--out", out], capture_output=True, text=True)
    if p.returncode != 0:
        return f"replay exit {p.returncode}: {p.stderr.strip()}", ""
    a = load_jsonl(os.path.join(live, "findings.jsonl"))
    b = load_jsonl(os.path.join(out, "findings.jsonl"))
    if a != b:
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return f"finding {i} differs: live {x} replay {y}", ""
        return f"live has {len(a)} findings, replay {len(b)}", ""
    with open(os.path.join(live, "ptwatch.log")) as f:
        la = engine_log(f.read().splitlines())
    with open(os.path.join(out, "ptwatch.log")) as f:
        lb = engine_log(f.read().splitlines())
    if NEW_FIELDS:
        la, lb = drop_new_lines(la), drop_new_lines(lb)
    if la != lb:
        i = next((i for i, (x, y) in enumerate(zip(la, lb)) if x != y),
                 min(len(la), len(lb)))
        return f"ptwatch.log differs at line {i + 1}", ""
    with open(os.path.join(live, "summary.json")) as f:
        sa = strip(json.load(f))
    with open(os.path.join(out, "summary.json")) as f:
        sb = strip(json.load(f))
    if sa != sb:
        keys = sorted(k for k in set(sa) | set(sb) if sa.get(k) != sb.get(k))
        return f"summary.json differs in {keys}", ""
    return None, f"{len(a)} findings; {p.stderr.strip().splitlines()[-1]}"


def main():
    global NEW_FIELDS
    if len(sys.argv) > 1 and sys.argv[1] == "--since-old":
        NEW_FIELDS = True
        del sys.argv[1]
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 64
    build = sys.argv[1]
    traces = []
    for d in sys.argv[2:]:
        for root, dirs, files in os.walk(d):
            dirs[:] = [x for x in dirs if x != "replay"]
            if "trace.ptw" in files:
                traces.append(os.path.join(root, "trace.ptw"))
    traces.sort()
    if not traces:
        print("not ok 1 - no trace.ptw found under " + " ".join(sys.argv[2:]))
        return 1
    print(f"1..{len(traces)}")
    bad = 0
    for i, t in enumerate(traces, 1):
        why, info = compare(build, t)
        name = os.path.relpath(os.path.dirname(t), os.path.commonpath(
            sys.argv[2:]) if len(sys.argv) > 3 else sys.argv[2])
        if why:
            bad += 1
            print(f"not ok {i} - replay of {name}: {why}")
        else:
            print(f"ok {i} - replay of {name} matches the live run ({info})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
