"""Reading a run's logs: summary.json's verdict, the guest console's
progress, KTAP. JSON through json, never regexes."""
import json
import os
import re

SEVERITIES = ("error", "warning", "note")


def load_json(path):
    """A JSON file (summary.json, run.json, regress.json) as parsed, or
    None when missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


load_summary = load_json


def disk_full(path):
    """A note when the file system holding path has (almost) no space left
    (the logs there are then cut short), else ""."""
    try:
        st = os.statvfs(path)
    except OSError:
        return ""
    free = st.f_bavail * st.f_frsize
    if free >= 64 << 10:
        return ""
    return (f"the file system of {path} is full ({free} bytes free): "
            "ptwatch's logs there are cut short")


def load_findings(path):
    """findings.jsonl's records, up to the first line that does not parse
    (a run cut short), [] when missing."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    except (OSError, ValueError):
        pass
    return out


def verdict(s, fail_on):
    """(failing, text): failing when s has a finding of severity fail_on or
    worse; text: counts by severity and by kind, what was set aside."""
    by_sev = s.get("by_severity", {})
    levels = SEVERITIES[:SEVERITIES.index(fail_on) + 1]
    failing = sum(by_sev.get(k, 0) for k in levels) > 0
    kinds = s.get("findings_by_severity", {})
    text = "findings [%s]" % (
        " ".join(f"{k}:{v}" for k, v in kinds.items() if v) or "none")
    text += "; " + ", ".join(f"{by_sev.get(k, 0)} {k}(s)"
                             for k in SEVERITIES)
    known = sum(s.get("known", {}).values())
    supp = sum(s.get("suppressed", {}).values())
    aside = []
    if known:
        aside.append(f"{known} finding(s) of known upstream issues "
                     "(docs/known-issues.txt; --no-known shows them)")
    if supp:
        aside.append(f"{supp} suppressed (--suppress)")
    if aside:
        text += "; set aside: " + ", ".join(aside)
    if not s.get("complete", False):
        text += "; summary incomplete (QEMU did not finish)"
    return failing, text


def nothing_tracked(s, out):
    """Why a run checked nothing (no page table tracked: a granule or
    paging mode ptwatch does not follow), from ptwatch.log's warnings;
    None when it tracked tables."""
    if (s.get("stats") or {}).get("tables_registered", 1):
        return None
    why = []
    try:
        with open(os.path.join(out, "ptwatch.log"), encoding="utf-8",
                  errors="replace") as f:
            why = [l.strip() for l in f if "not tracked" in l]
    except OSError:
        pass
    return ("ptwatch tracked no page table, so it checked nothing"
            + (": " + why[0] if why else ""))


def counts(s, section):
    """{kind: n} of a summary section ("findings", "expected"), n > 0."""
    return {k: v for k, v in (s.get(section) or {}).items() if v}


def fmt_counts(c):
    return " ".join(f"{k}:{v}" for k, v in c.items()) or "none"


def read_console(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")
    except OSError:
        return ""


def guest_secs(console, what):
    """Boot time to /init ("boot"), or a guest test's time, as /init
    printed them; None when it did not."""
    if what == "boot":
        m = re.search(r"ptwatch-init: kernel .*, up ([0-9.]+) s", console)
    else:
        m = re.search(rf"ptwatch-init: {re.escape(what)} took ([0-9.]+) s",
                      console)
    return float(m.group(1)) if m else None


def guest_progress(console):
    """How far a Linux guest got, for a one-line reason."""
    if not console:
        return ("no console output (the kernel did not start: wrong image "
                "or architecture?)")
    if "ptwatch-init: kernel" not in console:
        last = console.rstrip("\n").splitlines()[-1][:120]
        # /init's lines reach the console through the UART's interrupts,
        # the kernel's own through polling: a guest whose interrupts stopped
        # can run its tests with no /init line printed
        return ("no line from /init on the console: the kernel never "
                f"reached it, or its output stalled (last line: {last})")
    running = re.findall(r"ptwatch-init: running (\S+)", console)
    return f"in test {running[-1]}" if running else \
        "in /init before the tests"


KTAP_LINE = re.compile(r"^(TAP version|KTAP version|1\.\.[0-9]|"
                       r"(not )?ok [0-9]|#)")


def ktap(console):
    return [l for l in console.splitlines() if KTAP_LINE.match(l)]
