#!/usr/bin/env python3
"""The engine's layers, checked on what the compiler made of them.

Dependencies point one way: adapter -> events -> core -> {arch, guest OS},
and core -> detector interface <- det_*.c (docs/design.md). From the
engine's object files (nm), each rule is one TAP line:

  1. no detector (det_*.o) refers to a symbol another detector defines;
  2. nothing outside the detectors and their table (detectors.o) refers to
     a symbol a detector defines, but for the lock-free questions the
     adapter asks through ptw.h (PUBLIC below);
  3. from the sources: no engine file but arch_*.c names an architecture
     register (PTW_REG_ARM_*, PTW_REG_X86_*) or a register field of a
     vCPU (ttbr, tcr, sctlr, mair, cr0, cr3, cr4, efer).

usage: layering.py OBJDIR SRCDIR   (OBJDIR: build/libptwengine.a.p)
"""
import os
import re
import subprocess
import sys

# what detectors define for the adapter and the tests (ptw.h): not a
# dependency of the core
PUBLIC = {"ptw_tracked_bounds", "ptw_has_pending", "ptw_pending_may_hit",
          "ptw_pending_may_matter"}
REG_RE = re.compile(r"\bPTW_REG_(ARM|X86)_\w+|(->|\.)(ttbr|tcr|sctlr|mair|"
                    r"cr0|cr3|cr4|efer)\b")


def syms(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRGS":
            defined.add(parts[2])
    return defined, undefined


def unit_name(obj):
    # meson names objects plugin_engine_NAME.c.o
    base = os.path.basename(obj)
    m = re.match(r"(?:plugin_engine_)?(\w+)\.c\.o$", base)
    return m.group(1) if m else base


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    objdir, srcdir = sys.argv[1], sys.argv[2]
    objs = sorted(os.path.join(objdir, f) for f in os.listdir(objdir)
                  if f.endswith(".c.o"))
    if not objs:
        print(f"layering: no object files in {objdir}", file=sys.stderr)
        return 2
    units = {unit_name(o): syms(o) for o in objs}
    det = {u for u in units if u.startswith("det_")}
    det_defs = {u: units[u][0] for u in det}

    print("TAP version 13\n1..3")
    bad = []
    for u in sorted(det):
        for v in sorted(det - {u}):
            for s in sorted(units[u][1] & det_defs[v]):
                bad.append(f"{u} uses {s} of {v}")
    ok = not bad
    print(f"{'ok' if ok else 'not ok'} 1 - no detector refers to another's "
          f"symbols ({len(det)} detectors)")
    for b in bad[:20]:
        print(f"#   {b}")

    bad = []
    for u in sorted(set(units) - det - {"detectors"}):
        for v in sorted(det):
            for s in sorted((units[u][1] & det_defs[v]) - PUBLIC):
                bad.append(f"{u} uses {s} of {v}")
    print(f"{'ok' if not bad else 'not ok'} 2 - the core, the architecture, "
          f"the guest OS and the reports refer to no detector's symbols")
    for b in bad[:20]:
        print(f"#   {b}")

    bad = []
    for f in sorted(os.listdir(srcdir)):
        if not f.endswith((".c", ".h")) or f.startswith("arch_"):
            continue
        # the event boundary declares the register ids the adapter passes
        if f in ("ptw.h", "ptw_event.h", "ptw_trace.h", "trace.c"):
            continue
        with open(os.path.join(srcdir, f)) as fh:
            for n, line in enumerate(fh, 1):
                m = REG_RE.search(line)
                if m:
                    bad.append(f"{f}:{n}: {m.group(0)}")
    print(f"{'ok' if not bad else 'not ok'} 3 - architecture registers are "
          f"named only in arch_*.c")
    for b in bad[:20]:
        print(f"#   {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
