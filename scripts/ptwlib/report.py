"""One page per campaign: `ptwatch report DIR...` (docs/report.md).

Reads run directories (each with the summary.json and findings.jsonl a
run writes, and the run.json `ptwatch run` adds) anywhere under the
directories given, and a `regress` output's regress.json where there is
one, and writes one self-contained HTML file: the distinct findings by
title (the engine's deduplication key) with severity, how many, in how
many runs, on which arches and kernels, first and last seen, both sides
with their source lines, and links to each run's logs and timeline; for
a regress campaign its detection table and two charts (detection rate per
bug and mode, seconds to detect), drawn as inline SVG. No script, no
external file: the page opens anywhere, offline.
"""
import html
import os
import time

from . import logs

SEV_ORDER = {"error": 0, "warning": 1, "note": 2}
MODES = ("injected", "widened", "baseline")
MODE_COLOURS = {"injected": "#c0392b", "widened": "#e67e22",
                "baseline": "#2c7fb8"}


class Run:
    """One run directory: its summary, findings and launch facts."""

    def __init__(self, path, summary, findings, meta):
        self.path = path
        self.summary = summary
        self.findings = findings
        self.meta = meta
        self.arch = meta.get("arch") or summary.get("arch") or "?"
        self.kernel = kernel_name(meta) or regress_kernel(path) or \
            "unknown kernel"
        st = os.path.join(path, "summary.json")
        self.when = meta.get("started") or os.path.getmtime(st)


# kernel file names that say nothing: our builds' Image and bzImage,
# unstable's vmlinuz
GENERIC = ("Image", "Image.gz", "bzImage", "vmlinuz", "vmlinux")


def kernel_label(path):
    """How a run names its kernel: the file name, or for one that says
    nothing the directory it is in (our builds' names carry version,
    config and bugs; unstable's carry the version)."""
    name = os.path.basename(path)
    if name in GENERIC:
        name = os.path.basename(os.path.dirname(os.path.realpath(path)))
    return name


def kernel_name(meta):
    """run.json's kernel (runs written before kernel_label() named a
    generic file name: from its path)."""
    k = meta.get("kernel")
    if k in GENERIC and meta.get("kernel_path"):
        k = kernel_label(meta["kernel_path"])
    return k


def regress_kernel(path):
    """A run of a regress output (BUG/ARCH/MODE/runN) without run.json:
    its kernel is the bug's, or the one without it (the baseline)."""
    parts = os.path.normpath(path).split(os.sep)
    if len(parts) >= 4 and parts[-2] in MODES and parts[-1].startswith("run"):
        return f"{parts[-4]} (without it)" if parts[-2] == "baseline" \
            else parts[-4]
    return None


def find_runs(roots):
    """Every run directory under roots (sorted), and the regress.json
    files found on the way."""
    runs, regress = [], []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            if "regress.json" in filenames:
                d = logs.load_json(os.path.join(dirpath, "regress.json"))
                if isinstance(d, dict) and "records" in d:
                    regress.append((dirpath, d))
            if "summary.json" not in filenames:
                continue
            s = logs.load_json(os.path.join(dirpath, "summary.json"))
            if not isinstance(s, dict) or s.get("tool") != "ptwatch":
                continue
            meta = logs.load_json(os.path.join(dirpath, "run.json")) or {}
            runs.append(Run(dirpath, s,
                            logs.load_findings(os.path.join(dirpath,
                                                    "findings.jsonl")),
                            meta))
    return runs, regress


def frames(line):
    """A source-line chain (innermost first, ' <- ' between the functions
    it is inlined in) as a list of frames."""
    return [f.strip() for f in (line or "").split(" <- ") if f.strip()]


def calls(side):
    """A side's call stack (findings.jsonl "stack"), innermost first:
    [(symbol, source line or "")]"""
    stack = side.get("stack")
    if not isinstance(stack, list):
        return []
    return [(fr.get("sym") or fr.get("pc", "?"), fr.get("line", ""))
            for fr in stack if isinstance(fr, dict)]


def sides(f):
    """The finding's sides: (role, vcpu, symbol, frames, calls)."""
    out = [(f.get("role") or "observer", f.get("vcpu"),
            f.get("pc_sym") or f.get("pc", "?"), frames(f.get("pc_line")),
            calls(f))]
    o = f.get("other")
    if isinstance(o, dict):
        out.append((o.get("role") or "other side", o.get("vcpu"),
                    o.get("pc_sym") or o.get("pc", "?"),
                    frames(o.get("pc_line")), calls(o)))
    return out


def group(runs):
    """Distinct findings by (title, severity), most severe and most
    frequent first."""
    groups = {}
    for r in runs:
        repeats = {}
        for site in r.summary.get("repeats_by_site") or []:
            key = (site.get("title"), site.get("severity"))
            repeats[key] = repeats.get(key, 0) + int(site.get("repeats", 0))
        seen_here = set()
        for f in r.findings:
            title = f.get("title") or f.get("kind", "?")
            key = (title, f.get("severity", "error"))
            g = groups.setdefault(key, {
                "title": title, "severity": key[1],
                "kind": f.get("kind", "?"), "count": 0, "runs": [],
                "arches": set(), "kernels": set(), "first": None,
                "last": None, "example": f})
            g["count"] += 1
            if key not in seen_here:
                seen_here.add(key)
                g["count"] += repeats.get(key, 0)
                g["runs"].append(r)
                g["arches"].add(r.arch)
                g["kernels"].add(r.kernel)
                g["first"] = min(g["first"] or r.when, r.when)
                g["last"] = max(g["last"] or r.when, r.when)
    return sorted(groups.values(),
                  key=lambda g: (SEV_ORDER.get(g["severity"], 3),
                                 -len(g["runs"]), -g["count"], g["title"]))


def esc(s):
    return html.escape(str(s), quote=True)


def stamp(t):
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t)) if t else "-"


def rel(path, out_dir):
    return os.path.relpath(path, out_dir).replace(os.sep, "/")


def run_links(r, out_dir):
    """Links to a run's logs and its timeline (or how to make one)."""
    parts = [f'<a class="run" href="{esc(rel(os.path.join(r.path, "ptwatch.log"), out_dir))}">'
             f'{esc(rel(r.path, out_dir))}</a>']
    tl = os.path.join(r.path, "timeline.json")
    if os.path.isfile(tl):
        parts.append(f'<a class="timeline" href="{esc(rel(tl, out_dir))}">'
                     "timeline</a>")
    elif os.path.isfile(os.path.join(r.path, "trace.ptw")):
        parts.append('<span class="hint">trace recorded: <code>ptwatch '
                     f'timeline {esc(r.path)}</code></span>')
    return " ".join(parts)


def finding_section(i, g, out_dir):
    ex = g["example"]
    rows = []
    for role, vcpu, sym, fr, cs in sides(ex):
        stack = "".join(f"<li>{esc(x)}</li>" for x in fr) or \
            '<li class="hint">no source lines (no vmlinux with line ' \
            "tables beside the kernel)</li>"
        called = "".join(
            f"<li><code>{esc(s)}</code> {esc(line)}</li>" for s, line in cs)
        called = (f'<p class="hint">called from</p>'
                  f'<ol class="calls">{called}</ol>' if called else
                  '<p class="hint">no call stack (user code, a side taken '
                  'before its stack could be, or a kernel without frame '
                  'pointers or ORC tables)</p>')
        rows.append(f'<div class="side"><h4>{esc(role)}: vCPU {esc(vcpu)} '
                    f'at <code>{esc(sym)}</code></h4>'
                    f'<ol class="stack">{stack}</ol>{called}</div>')
    runs = "".join(f"<li>{run_links(r, out_dir)}</li>" for r in g["runs"])
    return (f'<section class="finding" id="f{i}">'
            f'<h3><span class="sev {esc(g["severity"])}">'
            f'{esc(g["severity"])}</span> {esc(g["title"])}</h3>'
            f'<p class="detail">{esc(ex.get("detail", ""))}</p>'
            f'{"".join(rows)}'
            f'<details><summary>{len(g["runs"])} run(s)</summary>'
            f'<ul class="runs">{runs}</ul></details></section>')


def findings_table(groups):
    rows = []
    for i, g in enumerate(groups):
        rows.append(
            f'<tr><td><a href="#f{i}">{esc(g["title"])}</a></td>'
            f'<td class="sev {esc(g["severity"])}">{esc(g["severity"])}</td>'
            f'<td>{g["count"]}</td><td>{len(g["runs"])}</td>'
            f'<td>{esc(", ".join(sorted(g["arches"])))}</td>'
            f'<td>{esc(", ".join(sorted(g["kernels"])))}</td>'
            f'<td>{stamp(g["first"])}</td><td>{stamp(g["last"])}</td></tr>')
    if not rows:
        return '<p class="none">No findings in these runs.</p>'
    return ('<table class="findings"><thead><tr><th>title</th>'
            "<th>severity</th><th>findings</th><th>runs</th><th>arches</th>"
            "<th>kernels</th><th>first seen</th><th>last seen</th></tr>"
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def bar_chart(title, labels, series, unit, vmax=None):
    """A grouped horizontal bar chart in SVG: labels down the side, one bar
    per series (name, colour, values: None for no value)."""
    bar, gap, left, width = 12, 10, 300, 360
    vals = [v for _, _, vs in series for v in vs if v is not None]
    top = vmax or max(vals + [1])
    h = 30 + len(labels) * (len(series) * bar + gap) + 24
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" '
           f'width="{left + width + 80}" height="{h}" role="img" '
           f'aria-label="{esc(title)}"><title>{esc(title)}</title>']
    y = 30
    for li, lab in enumerate(labels):
        out.append(f'<text x="{left - 6}" y="{y + bar * len(series) / 2 + 4}"'
                   f' text-anchor="end" class="label">{esc(lab)}</text>')
        for name, colour, vs in series:
            v = vs[li]
            if v is not None:
                w = max(1, width * v / top) if v else 0
                out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" '
                           f'height="{bar - 2}" fill="{colour}">'
                           f'<title>{esc(lab)} {esc(name)}: {v:g}{unit}'
                           '</title></rect>')
                out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 3}" '
                           f'class="value">{v:g}{unit}</text>')
            y += bar
        y += gap
    x = left
    for name, colour, _ in series:
        out.append(f'<rect x="{x}" y="8" width="10" height="10" '
                   f'fill="{colour}"/><text x="{x + 14}" y="17" '
                   f'class="legend">{esc(name)}</text>')
        x += 110
    out.append("</svg>")
    return "".join(out)


def regress_section(path, d, out_dir):
    recs = d.get("records") or []
    rows, labels = [], []
    rate = {m: [] for m in MODES}
    secs = []
    for r in recs:
        n = r.get("runs") or 0
        nb = r.get("baseline_runs") or 0
        labels.append(f'{r.get("bug")} ({r.get("arch")})')
        for m, k, den in (("injected", "detected", n),
                          ("widened", "detected_widened", n),
                          ("baseline", "baseline_detected", nb)):
            rate[m].append(round(100.0 * r.get(k, 0) / den) if den else None)
        secs.append(r.get("median_seconds_to_detect"))
        met = r.get("target_met")
        rows.append(
            f'<tr><td>{esc(r.get("bug"))}</td><td>{esc(r.get("arch"))}</td>'
            f'<td>{esc(", ".join(r.get("expected") or []))}</td>'
            f'<td>{r.get("detected", 0)}/{n}</td>'
            f'<td>{r.get("detected_widened", 0)}/{n}</td>'
            f'<td>{r.get("baseline_detected", 0)}/{nb}</td>'
            f'<td>{r.get("baseline_errors", 0)}</td>'
            f'<td>{r.get("detected_guest_passed", 0)}</td>'
            f'<td>{esc(r.get("median_seconds_to_detect") or "-")}</td>'
            f'<td class="{"met" if met else "missed"}">'
            f'{"met" if met else "missed"}</td></tr>')
    charts = ""
    if labels:
        charts = bar_chart(
            "detection rate per bug and mode", labels,
            [(m, MODE_COLOURS[m], rate[m]) for m in MODES], "%", 100)
        if any(s is not None for s in secs):
            charts += bar_chart("median seconds to detect", labels,
                                [("seconds", "#555", secs)], " s")
    return (f'<section class="regress"><h2>regress: '
            f'{esc(rel(path, out_dir) or ".")}</h2>'
            f'<p>{esc(d.get("runs"))} runs per mode, widen '
            f'{esc(d.get("widen"))}, {esc(d.get("qemu"))} QEMU, machine '
            f'time {esc(d.get("seconds"))} s</p>'
            '<table class="detection"><thead><tr><th>bug</th><th>arch</th>'
            "<th>expected</th><th>detected</th><th>detected widened</th>"
            "<th>baseline detected</th><th>baseline errors</th>"
            "<th>detected, guest checks passed</th>"
            "<th>median s to detect</th><th>target</th></tr></thead>"
            f'<tbody>{"".join(rows)}</tbody></table>{charts}</section>')


CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#eee}
.sev.error{color:#b00;font-weight:bold}.sev.warning{color:#a60}
.sev.note{color:#666}.met{color:#070}.missed{color:#b00}
.finding{border-top:1px solid #ccc;margin-top:1.5em}
.side{display:inline-block;vertical-align:top;width:48%;margin-right:1%}
.stack{font:12px monospace;padding-left:2em}.hint{color:#777}
.detail{color:#333}.chart text{font:11px sans-serif}
"""


def render(runs, regress, out_dir, roots):
    groups = group(runs)
    arches = sorted({r.arch for r in runs})
    kernels = sorted({r.kernel for r in runs})
    nerr = sum(1 for g in groups if g["severity"] == "error")
    body = [f"<h1>ptwatch report</h1><p>{len(runs)} run(s) under "
            f'{esc(", ".join(roots))}; arches {esc(", ".join(arches) or "-")}'
            f'; kernels {esc(", ".join(kernels) or "-")}; '
            f'{len(groups)} distinct finding(s), {nerr} of them errors. '
            f"Made {stamp(time.time())} UTC.</p>"]
    for path, d in regress:
        body.append(regress_section(path, d, out_dir))
    body.append("<h2>Distinct findings</h2>")
    body.append(findings_table(groups))
    body.extend(finding_section(i, g, out_dir) for i, g in enumerate(groups))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>ptwatch report</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}"
            "</body></html>\n")


def write(roots, out):
    """Write the page for the runs under roots to out. Returns the number
    of runs, or raises ValueError when there is none."""
    runs, regress = find_runs(roots)
    if not runs and not regress:
        raise ValueError("no run directories (summary.json) or regress "
                         "output (regress.json) under "
                         + ", ".join(roots))
    out_dir = os.path.dirname(os.path.abspath(out))
    page = render(runs, regress, out_dir, roots)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, out)
    return len(runs)
