#!/usr/bin/env python3
"""Read a ptwatch run's summary.json (and findings.jsonl) for the CLI.

  ptw_summary.py verdict SUMMARY FAIL_ON
      Prints one line "STATUS<TAB>TEXT": STATUS 1 when the run has a finding
      of severity FAIL_ON (error, warning or note) or worse, else 0; TEXT
      says the counts by severity, by kind and severity, and what was set
      aside (known upstream issues, suppressions).
"""
import json
import sys

SEVERITIES = ["error", "warning", "note"]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def verdict(summary_path, fail_on):
    if fail_on not in SEVERITIES:
        raise SystemExit(f"ptw_summary: unknown severity '{fail_on}'")
    s = load(summary_path)
    by_sev = s.get("by_severity", {})
    fail_levels = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
    failing = sum(by_sev.get(k, 0) for k in fail_levels)
    kinds = s.get("findings_by_severity", {})
    text = "findings [%s]" % (
        " ".join(f"{k}:{v}" for k, v in kinds.items() if v) or "none")
    text += "; " + ", ".join(f"{by_sev.get(k, 0)} {k}(s)" for k in SEVERITIES)
    known = sum(s.get("known", {}).values())
    supp = sum(s.get("suppressed", {}).values())
    if known or supp:
        aside = []
        if known:
            aside.append(f"{known} finding(s) of known upstream issues (docs/known-issues.txt; --no-known shows them)")
        if supp:
            aside.append(f"{supp} suppressed (--suppress)")
        text += "; set aside: " + ", ".join(aside)
    if not s.get("complete", False):
        text += "; summary incomplete (QEMU did not finish)"
    print(f"{1 if failing else 0}\t{text}")


def main(argv):
    if len(argv) == 4 and argv[1] == "verdict":
        try:
            verdict(argv[2], argv[3])
        except (OSError, ValueError) as e:
            print(f"ptw_summary: cannot read {argv[2]}: {e}", file=sys.stderr)
            return 3
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
