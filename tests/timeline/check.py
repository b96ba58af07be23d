#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The timeline (docs/timeline.md): ptwatch-replay --timeline on a litmus
trace (window_read, arm64: vCPU 1 loads an entry inside vCPU 0's break
window), checked against the Chrome trace-event rules written down below
and against a golden story a human can read (window_read.arm64.expected:
the events in the file's order, with the flows); then bad input.

    check.py BUILD   (TAP)
"""
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from ptwlib.tap import Tap  # noqa: E402

TAP = Tap()
ok = TAP.ok


# The rules (Chrome trace-event format, as Perfetto imports it):
# every event has ph and pid; per phase these keys, of these types
REQUIRED = {
    "M": {"name": str, "args": dict},
    "X": {"name": str, "cat": str, "tid": int, "ts": int, "dur": int,
          "args": dict},
    "i": {"name": str, "cat": str, "tid": int, "ts": int, "s": str},
    "s": {"id": int, "name": str, "cat": str, "tid": int, "ts": int},
    "f": {"id": int, "name": str, "cat": str, "tid": int, "ts": int,
          "bp": str},
}
METADATA = {"process_name", "thread_name", "thread_sort_index"}


def rule_errors(doc):
    """Every broken rule, as text (empty: the file keeps them all)."""
    errs = []
    if doc.get("displayTimeUnit") != "ns":
        errs.append("displayTimeUnit is not ns")
    if "ts_unit" not in doc.get("otherData", {}):
        errs.append("otherData does not say the ts unit")
    evs = doc.get("traceEvents")
    if not isinstance(evs, list):
        return errs + ["no traceEvents list"]
    named, last_ts, stacks, flows = set(), {}, {}, {}
    for k, e in enumerate(evs):
        ph = e.get("ph")
        if ph not in REQUIRED or not isinstance(e.get("pid"), int):
            errs.append(f"event {k}: phase {ph!r} or pid")
            continue
        for key, typ in REQUIRED[ph].items():
            if not isinstance(e.get(key), typ):
                errs.append(f"event {k} ({ph}): {key} missing or not "
                            f"{typ.__name__}")
        if ph == "M":
            if e["name"] not in METADATA:
                errs.append(f"event {k}: metadata {e['name']}")
            if e["name"] == "thread_name":
                named.add(e["tid"])
            continue
        tid, ts = e.get("tid"), e.get("ts", -1)
        if tid not in named:
            errs.append(f"event {k}: tid {tid} has no thread_name before")
        # ts never goes back on a thread (the file is in time order)
        if ts < last_ts.get(tid, 0):
            errs.append(f"event {k}: ts {ts} before {last_ts[tid]} on "
                        f"tid {tid}")
        last_ts[tid] = ts
        st = stacks.setdefault(tid, [])
        if ph in "Xi":
            # closed on the left, open on the right, as Perfetto pops
            # them; instants at one ts stack (flows pop nothing)
            dur = e.get("dur", 0) if ph == "X" else 0
            while st and (st[-1][1] < ts or (
                    st[-1][1] == ts and not (st[-1][0] == ts and dur == 0))):
                st.pop()
        if ph == "X":
            if e["dur"] < 0:
                errs.append(f"event {k}: negative dur")
            if st and ts + e["dur"] > st[-1][1]:
                errs.append(f"event {k}: slice [{ts}, {ts + e['dur']}] "
                            f"overlaps [{st[-1][0]}, {st[-1][1]}] on tid "
                            f"{tid} without nesting")
            st.append((ts, ts + e["dur"]))
        elif ph == "i":
            if e["s"] not in ("t", "p", "g"):
                errs.append(f"event {k}: instant scope {e['s']}")
            st.append((ts, ts))
        elif ph in "sf":
            # a flow end binds to the slice or instant open on its thread
            # at its ts: the one just before it in the file
            if not st or not st[-1][0] <= ts <= st[-1][1]:
                errs.append(f"event {k}: flow {ph} {e.get('id')} binds to "
                            f"no slice on tid {tid} at {ts}")
            if ph == "f" and e.get("bp") != "e":
                errs.append(f"event {k}: flow end without bp e")
            flows.setdefault(e.get("id"), []).append(e)
    for fid, ends in flows.items():
        phs = sorted(x["ph"] for x in ends)
        if phs != ["f", "s"]:
            errs.append(f"flow {fid}: ends {phs}, not one s and one f")
            continue
        s, f = sorted(ends, key=lambda x: x["ph"] != "s")
        if (s["name"], s["cat"]) != (f["name"], f["cat"]):
            errs.append(f"flow {fid}: s and f differ in name or cat")
        if s["ts"] > f["ts"]:
            errs.append(f"flow {fid}: ends before it starts")
    return errs


def story(doc):
    """The file's events, one line each, in its order: what the golden
    file holds."""
    names = {e["tid"]: e["args"]["name"] for e in doc["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}
    lines = []
    for e in doc["traceEvents"]:
        if e["ph"] == "M":
            continue
        where = f"{names.get(e['tid'], e['tid'])} @{e['ts']}"
        if e["ph"] == "X":
            lines.append(f"X {where} +{e['dur']} [{e['cat']}] {e['name']}"
                         f" ({e['args'].get('end', '')})")
        elif e["ph"] == "i":
            num = e.get("args", {}).get("number")
            lines.append(f"i {where} [{e['cat']}] {e['name']}"
                         + (f" #{num}" if num else ""))
        else:
            lines.append(f"{e['ph']} {where} flow {e['id']} {e['name']}")
    return lines


def svg_checks(doc, tmp):
    """The timeline drawn by the project (timeline --svg): well-formed
    SVG, a row per vCPU, the break window as a bar, the finding by its
    title, the flow as an arrow; --around on a finding that is not
    there: a clear error."""
    from ptwlib import timeline_svg
    text, drawn = timeline_svg.render(doc["traceEvents"], "window_read")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as ex:
        ok(False, f"the SVG is well-formed XML: {ex}")
        return
    ns = "{http://www.w3.org/2000/svg}"
    tracks = [t.text for t in root.iter(ns + "text")
              if t.get("class") == "track"]
    findings = [t.text for t in root.iter(ns + "text")
                if t.get("class") == "finding"]
    bars = [r for r in root.iter(ns + "rect") if r.get("class") == "slice"]
    flows = [l for l in root.iter(ns + "line") if l.get("class") == "flow"]
    ok(tracks == ["vCPU 0", "vCPU 1"] and len(bars) >= 1 and
       len(flows) == 1 and
       findings == ["BBM_WINDOW_READ in 0x4020276c / 0x40201a30"],
       f"the SVG: rows {tracks}, {len(bars)} bars, {len(flows)} flow "
       f"arrow(s), findings {findings}")
    # the arrow goes from the break (vCPU 0's row) down to the reader
    f = flows[0] if flows else None
    ok(f is not None and float(f.get("y1")) < float(f.get("y2")),
       "the flow arrow runs from the breaker's row to the reader's")
    _, n2 = timeline_svg.render(doc["traceEvents"], "w", around="error")
    ok(n2 >= 2, f"--around error draws the span of the first error ({n2})")
    try:
        timeline_svg.render(doc["traceEvents"], "w", around=3)
        ok(False, "--around 3 of one finding: an error")
    except ValueError as ex:
        ok("1 finding" in str(ex), f"--around 3 of one finding: {ex}")


def main():
    replay = os.path.join(sys.argv[1], "ptwatch-replay")
    trace = os.path.join(HERE, "window_read.arm64.ptw")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "timeline.json")
        r = subprocess.run([replay, trace, "--out", os.path.join(tmp, "logs"),
                            "--timeline", out], capture_output=True,
                           text=True)
        ok(r.returncode == 0, f"replay --timeline exits 0 ({r.returncode})")
        try:
            doc = json.load(open(out))
        except (OSError, ValueError) as ex:
            ok(False, f"timeline.json is JSON: {ex}")
            return
        ok(True, "timeline.json is JSON")
        errs = rule_errors(doc)
        ok(not errs, "the trace-event rules hold: "
           + ("; ".join(errs[:5]) or "keys per phase, names, ts order, "
              "nesting, flows paired and bound"))
        got = story(doc)
        want = open(os.path.join(HERE, "window_read.arm64.expected")
                    ).read().splitlines()
        ok(got == want, "the events, their order and the flows are the "
           "golden story (window_read.arm64.expected)")
        if got != want:
            for line in got:
                print(f"# got: {line}")
        # the validator itself catches what it is there for
        bad = json.loads(json.dumps(doc))
        evs = bad["traceEvents"]
        evs[:] = [e for e in evs if e["ph"] != "f"]
        ok(any("not one s and one f" in x for x in rule_errors(bad)),
           "the rules catch a flow without its end")
        bad = json.loads(json.dumps(doc))
        evs = bad["traceEvents"]
        k = next(k for k, e in enumerate(evs) if e["ph"] == "X")
        evs.insert(k + 1, dict(evs[k], ts=evs[k]["ts"] + 1))
        ok(any("without nesting" in e for e in rule_errors(bad)),
           "the rules catch slices that overlap without nesting")
        # x86-64's window_read (recorded with stacks=off, so that no
        # change to where stacks are taken changes its replay): its vCPUs'
        # instruction counts drift apart
        # (the reader's is lower than the breaker's), so on per-vCPU
        # clocks its arrow ran backwards; on the shared clock it runs
        # forward, from inside the break window
        x86 = os.path.join(tmp, "x86.json")
        r = subprocess.run([replay, os.path.join(HERE,
                                                 "window_read.x86_64.ptw"),
                            "--out", os.path.join(tmp, "logs86"),
                            "--timeline", x86], capture_output=True,
                           text=True)
        d86 = json.load(open(x86)) if r.returncode == 0 else {}
        evs = d86.get("traceEvents", [])
        s = [e for e in evs if e["ph"] == "s"]
        f = [e for e in evs if e["ph"] == "f"]
        win = [e for e in evs if e["ph"] == "X" and
               e["name"] == "break window"]
        read = [e for e in evs if e["ph"] == "i" and
                e.get("cat") == "finding"]
        fwd = (len(s) == 1 and len(f) == 1 and len(win) == 1 and
               len(read) == 1 and
               win[0]["ts"] <= s[0]["ts"] < f[0]["ts"] <=
               win[0]["ts"] + win[0]["dur"] and
               read[0]["args"]["icount"] < win[0]["args"]["icount"])
        ok(fwd and not rule_errors(d86),
           "x86-64 window_read on the shared clock: the read lies inside "
           "the window and the arrow runs forward, though the reader's "
           f"icount is below the breaker's ({[(e['ph'], e['ts']) for e in s + f + win]})")

        svg_checks(doc, tmp)

        # bad input: a missing trace, a damaged one
        r = subprocess.run([replay, os.path.join(tmp, "none.ptw"), "--out",
                            os.path.join(tmp, "l2"), "--timeline",
                            os.path.join(tmp, "t2.json")],
                           capture_output=True, text=True)
        ok(r.returncode == 64 and "none.ptw" in r.stderr,
           f"a missing trace: exit 64 and its name ({r.returncode})")
        data = open(trace, "rb").read()
        cut = os.path.join(tmp, "cut.ptw")
        open(cut, "wb").write(data[:len(data) - 40])
        t3 = os.path.join(tmp, "t3.json")
        r = subprocess.run([replay, cut, "--out", os.path.join(tmp, "l3"),
                            "--timeline", t3], capture_output=True,
                           text=True)
        part = json.load(open(t3)) if os.path.isfile(t3) else {}
        ok(r.returncode == 1 and "offset" in r.stderr
           and part.get("otherData", {}).get("complete") is False,
           "a cut trace: exit 1, the offset named, the timeline up to "
           f"there marked incomplete ({r.returncode})")


if __name__ == "__main__":
    main()
    sys.exit(TAP.done())
