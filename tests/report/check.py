#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The campaign page (docs/report.md): `ptwatch report` over a small
fixture campaign written here (a regress output with two bugs' runs, and
two plain runs: one with a timeline, one with a trace only), checked
twice: its HTML parsed here (the titles and counts of the findings table,
both sides' source lines, every link resolving to a file), and opened in
a real headless browser (Debian's chromium through chromedriver and
python3-selenium): no script errors in its console, the same titles,
stacks and links as the browser sees them, the charts drawn. Then bad
input.

    check.py OUTDIR   (TAP)
"""
import html.parser
import json
import os
import shutil
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PTWATCH = os.path.join(ROOT, "scripts", "ptwatch")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from ptwlib.tap import Tap  # noqa: E402

TAP = Tap()
ok = TAP.ok


LEAK = "SWAP_ENTRY_LEAKED in free_pgd_range / unmap_page_range"
PIN = "PINNED_PAGE_DIVERGED in do_wp_page / copy_present_ptes"
NOTE = "BBM_WINDOW_READ in handle_pte_fault / try_to_unmap_one"


def finding(title, sev, line_a, line_b):
    kind = title.split(" ")[0]
    return {"kind": kind, "severity": sev, "title": title, "arch": "arm64",
            "vcpu": 1, "pc": "0xffff800080001000",
            "pc_sym": title.split(" in ")[1].split(" / ")[0] + "+0x10",
            "role": "observer", "pc_line": line_a,
            "detail": f"the story of {kind} <b>escaped</b>",
            "stack": [{"pc": "0xffff800080003000",
                       "sym": "caller_of_" + kind.lower() + "+0x48",
                       "line": "mm/caller.c:12 (caller_of)"}],
            "other": {"role": "other side", "vcpu": 0,
                      "pc": "0xffff800080002000",
                      "pc_sym": title.split(" / ")[1] + "+0x20",
                      "pc_line": line_b,
                      "stack": [{"pc": "0xffff800080004000",
                                 "sym": "do_syscall+0x10"}]}}


def write_run(d, arch, kernel, started, findings, repeats=(),
              timeline=False, trace=False):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump({"tool": "ptwatch", "arch": arch, "complete": True,
                   "repeats_by_site": [
                       {"title": t, "severity": s, "repeats": k}
                       for t, s, k in repeats]}, f)
    with open(os.path.join(d, "findings.jsonl"), "w") as f:
        for x in findings:
            f.write(json.dumps(x) + "\n")
    with open(os.path.join(d, "run.json"), "w") as f:
        json.dump({"arch": arch, "kernel": kernel, "started": started}, f)
    with open(os.path.join(d, "ptwatch.log"), "w") as f:
        f.write("ptwatch: the run's log\n")
    if timeline:
        with open(os.path.join(d, "timeline.json"), "w") as f:
            f.write('{"traceEvents": []}\n')
    if trace:
        with open(os.path.join(d, "trace.ptw"), "wb") as f:
            f.write(b"PTWTRACE")


def fixture(top):
    """A regress output (seed004 twice detected on arm64, seed003 once on
    x86-64, quiet baselines) and two plain runs. Returns what the page
    must show."""
    camp = os.path.join(top, "campaign")
    leak = finding(LEAK, "error",
                   "mm/memory.c:194 (free_pte_range) <- free_pgd_range "
                   "mm/memory.c:361",
                   "include/linux/pgtable.h:319 (ptep_get) <- zap_pte_range "
                   "mm/memory.c:1605 <- unmap_page_range mm/memory.c:1808")
    pin = finding(PIN, "error", "mm/memory.c:3512 (do_wp_page)",
                  "mm/memory.c:1001 (copy_present_ptes)")
    note = finding(NOTE, "note", "mm/memory.c:5890 (handle_pte_fault)",
                   "mm/rmap.c:1780 (try_to_unmap_one)")
    t0 = 1796500000.0
    runs = []
    for i in (1, 2):
        d = os.path.join(camp, "seed004_zap_skip_swap", "arm64", "injected",
                         f"run{i}")
        write_run(d, "arm64", "6.12-seed004", t0 + i * 60, [leak],
                  repeats=[(LEAK, "error", 3)])
        runs.append(d)
    d = os.path.join(camp, "seed004_zap_skip_swap", "arm64", "baseline",
                     "run1")
    write_run(d, "arm64", "6.12-none", t0 + 200, [note])
    d = os.path.join(camp, "seed003_fork_pinned_share", "x86_64", "injected",
                     "run1")
    write_run(d, "x86_64", "6.12-seed003", t0 + 300, [pin])
    recs = [
        {"bug": "seed004_zap_skip_swap", "arch": "arm64", "runs": 2,
         "expected": ["SWAP_ENTRY_LEAKED"], "detected": 2,
         "detected_widened": 2, "baseline_runs": 1, "baseline_detected": 0,
         "baseline_errors": 0, "detected_guest_passed": 0,
         "median_seconds_to_detect": 4.9, "target_met": True},
        {"bug": "seed003_fork_pinned_share", "arch": "x86_64", "runs": 2,
         "expected": ["PINNED_PAGE_DIVERGED"], "detected": 1,
         "detected_widened": 0, "baseline_runs": 1, "baseline_detected": 0,
         "baseline_errors": 0, "detected_guest_passed": 0,
         "median_seconds_to_detect": None, "target_met": False}]
    with open(os.path.join(camp, "regress.json"), "w") as f:
        json.dump({"tool": "ptwatch regress", "runs": 2, "widen": "200us",
                   "qemu": "patched", "seconds": 99, "records": recs}, f)
    plain = os.path.join(top, "runs")
    write_run(os.path.join(plain, "a"), "arm64", "vmlinuz-6.12-arm64",
              t0 + 400, [leak, note], timeline=True)
    write_run(os.path.join(plain, "b"), "x86_64", "vmlinuz-6.12-amd64",
              t0 + 500, [note], trace=True)
    return {"titles": {LEAK, PIN, NOTE},
            "frames": ["free_pgd_range mm/memory.c:361",
                       "zap_pte_range mm/memory.c:1605",
                       "mm/rmap.c:1780 (try_to_unmap_one)",
                       "caller_of_swap_entry_leaked+0x48 mm/caller.c:12",
                       "do_syscall+0x10"],
            "bugs": ["seed004_zap_skip_swap", "seed003_fork_pinned_share"],
            "dirs": [camp, plain]}


class Page(html.parser.HTMLParser):
    """The findings table's rows, stack frames, links, and whether the
    tags nest."""

    def __init__(self):
        super().__init__()
        self.stack, self.bad = [], []
        self.rows, self.row, self.cell = [], None, None
        self.frames, self.links, self.rects = [], [], 0
        self.in_frame = None
        self.table = None

    VOID = {"meta", "br", "img", "rect", "input", "hr", "link"}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "table":
            self.table = a.get("class")
        if tag == "tr" and self.table == "findings":
            self.row = []
        if tag == "td" and self.row is not None:
            self.cell = ""
        if tag == "li" and self.stack[-2:-1] == ["ol"]:
            self.in_frame = ""
        if tag == "a" and a.get("href") and not a["href"].startswith("#"):
            self.links.append(a["href"])
        if tag == "rect":
            self.rects += 1

    def handle_startendtag(self, tag, attrs):
        if tag == "rect":
            self.rects += 1

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.bad.append(tag)
        else:
            self.stack.pop()
        if tag == "td" and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        if tag == "tr" and self.row:
            self.rows.append(self.row)
            self.row = None
        if tag == "tr":
            self.row = None
        if tag == "table":
            self.table = None
        if tag == "li" and self.in_frame is not None:
            self.frames.append(self.in_frame)
            self.in_frame = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.in_frame is not None:
            self.in_frame += data


def parsed_checks(want, page_path):
    with open(page_path, encoding="utf-8") as f:
        text = f.read()
    p = Page()
    p.feed(text)
    ok(not p.bad and not p.stack,
       f"the page's tags nest (unbalanced: {p.bad[:3]}, open: "
       f"{p.stack[:3]})")
    rows = {r[0]: r for r in p.rows}
    ok(set(rows) == set(want["titles"]),
       f"the findings table lists the fixture's three titles "
       f"(got {sorted(rows)})")
    # findings counted with their repeats (LEAK: 2 runs x (1 + 3) in the
    # campaign, 1 in run a), runs counted once each
    ok(rows.get(LEAK, [None] * 4)[2:4] == ["9", "3"],
       f"{LEAK}: 9 findings (with repeats) in 3 runs "
       f"(got {rows.get(LEAK, [None] * 4)[2:4]})")
    ok(rows.get(NOTE, [None] * 4)[2:4] == ["3", "3"],
       f"the note: 3 findings in 3 runs (got {rows.get(NOTE)})")
    ok(rows.get(LEAK, [None] * 6)[1] == "error" and
       rows.get(LEAK, [None] * 6)[4] == "arm64" and
       "6.12-seed004" in rows.get(LEAK, [""] * 6)[5],
       "severity, arch and kernel of the leak")
    ok(p.rows and p.rows[0][0] in (LEAK, PIN) and p.rows[-1][0] == NOTE,
       "errors first, the note last")
    ok(all(any(fr in x for x in p.frames) for fr in want["frames"]),
       f"both sides' source lines and call stacks are listed "
       f"({len(p.frames)} frames)")
    base = os.path.dirname(page_path)
    missing = [h for h in p.links
               if not os.path.isfile(os.path.join(base, h))]
    ok(p.links and not missing,
       f"{len(p.links)} links, each to a file that exists "
       f"(missing: {missing[:3]})")
    ok(any(h.endswith("timeline.json") for h in p.links),
       "the run with a timeline links it")
    ok("ptwatch timeline" in text, "the run with a trace only says how to "
       "make its timeline")
    ok("<b>escaped</b>" not in text and "&lt;b&gt;escaped" in text,
       "the details are escaped")
    ok(all(b in text for b in want["bugs"]) and p.rects >= 6,
       f"the regress table and its charts ({p.rects} bars and keys)")


def browser_checks(want, page_path):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
    except ImportError as e:
        ok(False, f"python3-selenium: {e} (scripts/bootstrap installs it)")
        return
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = None
    try:
        driver = webdriver.Chrome(
            service=Service(shutil.which("chromedriver") or
                            "/usr/bin/chromedriver"), options=opts)
        driver.get("file://" + os.path.abspath(page_path))
        ok(driver.title == "ptwatch report",
           f"chromium opens the page (title '{driver.title}')")
        errors = [e for e in driver.get_log("browser")
                  if e.get("level") == "SEVERE"]
        ok(not errors, f"no errors in the browser's console ({errors[:2]})")
        cells = [c.text for c in driver.find_elements(
            By.CSS_SELECTOR, "table.findings tbody tr td:first-child")]
        ok(set(cells) == set(want["titles"]),
           f"the browser shows the three titles in the table ({cells})")
        frames = [li.text for li in driver.find_elements(
            By.CSS_SELECTOR, "ol.stack li, ol.calls li")]
        ok(all(any(fr in x for x in frames) for fr in want["frames"]),
           "the browser shows both sides' frames and callers (in <details> "
           "and sections render)")
        links = [a.get_attribute("href") for a in driver.find_elements(
            By.CSS_SELECTOR, "a.run, a.timeline")]
        gone = [h for h in links if not h.startswith("file://") or
                not os.path.isfile(urllib.parse.unquote(h[len("file://"):]))]
        ok(len(links) >= 6 and not gone,
           f"{len(links)} run and timeline links, as the browser resolves "
           f"them, name files that exist (not: {gone[:2]})")
        charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
        ok(len(charts) == 2 and all(c.size["width"] > 100 for c in charts),
           f"two charts drawn ({[c.size for c in charts]})")
    except Exception as e:  # noqa: BLE001 -- the browser's own failures
        ok(False, f"headless chromium: {type(e).__name__}: {e}")
    finally:
        if driver:
            driver.quit()


def bad_input(top):
    r = subprocess.run([sys.executable, PTWATCH, "report",
                        os.path.join(top, "no-such-dir")],
                       capture_output=True, text=True)
    ok(r.returncode == 64 and "not a directory" in r.stderr,
       f"a directory that does not exist: exit 64 ({r.returncode}, "
       f"{r.stderr.strip()[:80]})")
    empty = os.path.join(top, "empty")
    os.makedirs(empty, exist_ok=True)
    r = subprocess.run([sys.executable, PTWATCH, "report", empty],
                       capture_output=True, text=True)
    ok(r.returncode == 64 and "no run directories" in r.stderr,
       f"a directory without runs: exit 64 ({r.returncode})")


def debian_python():
    """Debian's packaged modules (python3-selenium) are for Debian's own
    interpreter: run there when another python3 (a pyenv shim) comes
    first on PATH."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        deb = "/usr/bin/python3"
        if os.path.realpath(sys.executable) != os.path.realpath(deb) and \
                os.access(deb, os.X_OK) and not os.environ.get("PTW_REEXEC"):
            os.environ["PTW_REEXEC"] = "1"
            os.execv(deb, [deb, os.path.abspath(__file__), *sys.argv[1:]])


def main():
    debian_python()
    if len(sys.argv) != 2:
        print("usage: check.py OUTDIR", file=sys.stderr)
        return 64
    top = sys.argv[1]
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)
    print("TAP version 13")
    want = fixture(top)
    page = os.path.join(top, "report.html")
    r = subprocess.run([sys.executable, PTWATCH, "report", *want["dirs"],
                        "--out", page], capture_output=True, text=True)
    if ok(r.returncode == 0 and os.path.isfile(page),
          f"ptwatch report writes the page (exit {r.returncode} "
          f"{r.stderr.strip()[:120]})"):
        parsed_checks(want, page)
        browser_checks(want, page)
    bad_input(top)
    return TAP.done()


if __name__ == "__main__":
    sys.exit(main())
