"""A timeline drawn by the project itself: `ptwatch timeline RUN --svg
FILE` renders the Chrome trace-event file that `ptwatch timeline` writes
(docs/timeline.md) as one SVG picture: a row per vCPU, its slices (break
windows, unit passes, pending flushes) as bars, the findings and phases as
marks with their names, and the flows (breaker to observer) as arrows. For
a README, a mail or a page with no Perfetto at hand; Perfetto stays the
place to explore a long trace.
"""
import html

COLOURS = {"break": "#d62728", "stale": "#ff7f0e", "pass": "#1f77b4",
           "unit": "#1f77b4", "task": "#999999"}
ROW, TOP, LEFT, WIDTH = 70, 40, 90, 900


def esc(s):
    return html.escape(str(s), quote=True)


def _tracks(events):
    names, order = {}, {}
    for e in events:
        if e.get("ph") != "M":
            continue
        if e.get("name") == "thread_name":
            names[e.get("tid")] = e.get("args", {}).get("name", "")
        if e.get("name") == "thread_sort_index":
            order[e.get("tid")] = e.get("args", {}).get("sort_index", 0)
    tids = {e.get("tid") for e in events if e.get("ph") in "XisfB"}
    tids |= set(names)
    tids.discard(None)
    return sorted(tids, key=lambda t: (order.get(t, 1 << 30), t)), names


def window_of(events, around=None, margin=0.15):
    """The span to draw: all of it, or around the n-th finding ("error":
    the first error) and its flows' starts, with a margin."""
    timed = [e for e in events if "ts" in e and e.get("ph") != "M"]
    if not timed:
        return 0, 1
    if around is not None:
        finds = [e for e in timed if e.get("ph") == "i" and
                 e.get("cat") == "finding"]
        if around == "error":
            finds = [e for e in finds
                     if (e.get("args") or {}).get("severity") == "error"]
            around = 0
        if not finds:
            raise ValueError("the timeline has no such finding")
        if around >= len(finds):
            raise ValueError(f"the timeline has {len(finds)} finding(s)")
        f = finds[around]
        lo = hi = f["ts"]
        ids = {e.get("id") for e in timed if e.get("ph") == "f" and
               e.get("ts") == f["ts"] and e.get("tid") == f.get("tid")}
        for e in timed:
            if e.get("ph") == "s" and e.get("id") in ids:
                # (a later start is another vCPU's clock running ahead)
                lo, hi = min(lo, e["ts"]), max(hi, e["ts"])
    else:
        lo = min(e["ts"] for e in timed)
        hi = max(e["ts"] + e.get("dur", 0) for e in timed)
    span = max(hi - lo, 1)
    return max(0, lo - span * margin), hi + span * margin


def _shown(events, lo, hi, around):
    """The events drawn: those in [lo, hi]; around a finding, no slice
    that began before the span (a long-open window or pending record
    would cover every lane), and each flow whole or not at all."""
    out = []
    for e in events:
        ts = e.get("ts")
        if e.get("ph") == "M" or ts is None:
            continue
        if ts + e.get("dur", 0) < lo or ts > hi:
            continue
        if around is not None and e.get("ph") == "X" and ts < lo:
            continue
        out.append(e)
    ids = {}
    for e in out:
        if e.get("ph") in ("s", "f"):
            ids.setdefault(e.get("id"), set()).add(e.get("ph"))
    return [e for e in out if e.get("ph") not in ("s", "f") or
            ids.get(e.get("id")) == {"s", "f"}]


def render(events, title, around=None):
    """The SVG text of events (a trace-event list)."""
    tracks, names = _tracks(events)
    lo, hi = window_of(events, around)
    events = _shown(events, lo, hi, around)
    used = {e.get("tid") for e in events}
    tracks = [t for t in tracks if t in used] or tracks[:1]
    row_of = {t: i for i, t in enumerate(tracks)}

    def x(ts):
        return LEFT + (min(max(ts, lo), hi) - lo) * WIDTH / (hi - lo)

    def y(tid):
        return TOP + row_of.get(tid, 0) * ROW

    height = TOP + len(tracks) * ROW + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{LEFT + WIDTH + 20}"'
           f' height="{height}" font-family="sans-serif" font-size="11">',
           f'<title>{esc(title)}</title>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{LEFT}" y="16" font-size="13">{esc(title)}</text>']
    for t in tracks:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + WIDTH}" y1="{y(t) + 30}" '
                   f'y2="{y(t) + 30}" stroke="#ddd"/>')
        out.append(f'<text class="track" x="6" y="{y(t) + 24}">'
                   f'{esc(names.get(t, t))}</text>')
    flows = {}
    n = 0
    label_end = {}  # (track, line) -> x where its last label ends
    for e in events:
        ph, ts = e.get("ph"), e.get("ts")
        if ts is None or ph == "M":
            continue
        end = ts + e.get("dur", 0)
        if end < lo or ts > hi:
            continue
        if ph == "X":
            w = max(x(end) - x(ts), 2)
            col = COLOURS.get(e.get("cat"), "#2ca02c")
            out.append(f'<rect class="slice" x="{x(ts):.1f}" y="{y(e.get("tid")) + 14}" '
                       f'width="{w:.1f}" height="14" fill="{col}" '
                       f'fill-opacity="0.75"><title>{esc(e.get("name"))} '
                       f'({esc(e.get("cat"))}) @{ts} +{e.get("dur", 0)}'
                       '</title></rect>')
            n += 1
        elif ph == "i":
            finding = e.get("cat") == "finding"
            col = "#b00" if finding else "#888"
            yy = y(e.get("tid"))
            out.append(f'<line x1="{x(ts):.1f}" x2="{x(ts):.1f}" y1="{yy + 6}" '
                       f'y2="{yy + 30}" stroke="{col}" '
                       f'stroke-width="{2 if finding else 1}"/>')
            cls = "finding" if finding else "mark"
            bold = ' font-weight="bold"' if finding else ""
            name = str(e.get("name"))
            # a label on the first of three lines where it does not run
            # into the last one; none fits: only its tooltip
            base = yy + 6 if finding else yy + 40
            ty = None
            for k in range(3):
                key = (e.get("tid"), finding, k)
                if label_end.get(key, -1) < x(ts):
                    ty = base + (-11 if finding else 11) * k
                    label_end[key] = x(ts) + 6.2 * len(name) + 6
                    break
            out.append(f'<g><title>{esc(name)} @{ts}</title>')
            if ty is not None:
                out.append(f'<text class="{cls}" x="{x(ts) + 3:.1f}" '
                           f'y="{ty}" fill="{col}"{bold}>{esc(name)}'
                           '</text>')
            out.append('</g>')
            n += 1
        elif ph in ("s", "f"):
            flows.setdefault(e.get("id"), {})[ph] = e
    for fid, pair in flows.items():
        s, f = pair.get("s"), pair.get("f")
        if not s or not f:
            continue
        out.append(f'<line class="flow" x1="{x(s["ts"]):.1f}" y1="{y(s.get("tid")) + 21}" '
                   f'x2="{x(f["ts"]):.1f}" y2="{y(f.get("tid")) + 21}" '
                   'stroke="#444" stroke-width="1.5" marker-end="url(#arrow)">'
                   f'<title>{esc(s.get("name"))}</title></line>')
    out.append(f'<text x="{LEFT}" y="{height - 10}" fill="#555">'
               f'{lo:.0f}</text><text x="{LEFT + WIDTH}" y="{height - 10}" '
               f'text-anchor="end" fill="#555">{hi:.0f} (trace events: '
               'one clock for every vCPU)</text>')
    out.append("</svg>\n")
    return "".join(out), n
