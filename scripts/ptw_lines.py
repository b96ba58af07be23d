#!/usr/bin/env python3
"""Source lines for a run's findings, from the kernel's vmlinux and the
test programs' own ELF files.

  scripts/ptw_lines.py OUTDIR VMLINUX|- ARCH [PROGRAMS]

Reads OUTDIR/findings.jsonl, asks addr2line (the cross one for a foreign
ARCH) for the file:line of each finding's PC and of its other side (the
writer, breaker or first reader), with the chain of inlined functions, and
of each frame of their call stacks (a return address is looked up one byte
back, inside its call): kernel addresses in VMLINUX ("-": none, such as a
stock kernel's), a test program's (a side named "[prog]") in
PROGRAMS/prog-ARCH when that static binary is there. It
  - rewrites findings.jsonl with "pc_line" (and "other"."pc_line"), and
    "line" in each frame of a side's "stack",
  - appends a "source lines" section to OUTDIR/ptwatch.log.
Addresses no ELF file covers are left alone.
Exit 0 when done (also with nothing to resolve), 1 with a reason on stderr.
"""
import json
import os
import platform
import re
import shutil
import subprocess
import sys

TOOLS = {"arm64": ("aarch64", "aarch64-linux-gnu-addr2line"),
         "x86_64": ("x86_64", "x86_64-linux-gnu-addr2line")}


def addr2line_for(arch):
    host, cross = TOOLS[arch]
    for tool in ((["addr2line"] if platform.machine() == host else []) +
                 [cross]):
        if shutil.which(tool):
            return tool
    return None


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def short(path):
    """A source path relative to the kernel tree or to this project, when
    it is in one."""
    path = os.path.normpath(path)
    m = re.search(r"/work-[^/]+/(.*)$", path)
    if m:
        return m.group(1)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) \
        else path


def resolve(tool, elf, pcs):
    """pc -> [(func, file:line), ...], innermost first; unresolved left out"""
    if not pcs:
        return {}
    r = subprocess.run([tool, "-e", elf, "-f", "-p", "-i"] +
                       [hex(p) for p in pcs],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{tool}: {r.stderr.strip()[:200]}")
    out, cur = [], None
    for line in r.stdout.splitlines():
        inl = line.startswith(" (inlined by) ")
        body = line[len(" (inlined by) "):] if inl else line
        func, _, where = body.partition(" at ")
        frame = (func.strip(), short(where.strip()))
        if inl and cur is not None:
            cur.append(frame)
        else:
            cur = [frame]
            out.append(cur)
    if len(out) != len(pcs):
        raise RuntimeError(f"{tool} gave {len(out)} answers for "
                           f"{len(pcs)} addresses")
    return {pc: frames for pc, frames in zip(pcs, out)
            if not frames[0][1].startswith("??")}


def text(frames):
    func, where = frames[0]
    s = f"{where} ({func})"
    for f, w in frames[1:]:
        s += f" <- {f} {w}"
    return s


def program_of(side):
    """The test program a user-space side ran ("[prog]..."), or None."""
    m = re.match(r"^\[([A-Za-z0-9_.-]+)\]", side.get("pc_sym") or "")
    return m.group(1) if m else None


def main(argv):
    if len(argv) not in (4, 5) or argv[3] not in TOOLS:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 1
    out, vmlinux, arch = argv[1:4]
    programs = argv[4] if len(argv) == 5 else None
    path = os.path.join(out, "findings.jsonl")
    tool = addr2line_for(arch)
    if not tool:
        print(f"ptw_lines: no addr2line for {arch} (binutils, or "
              f"{TOOLS[arch][1]})", file=sys.stderr)
        return 1
    if vmlinux != "-" and not os.path.isfile(vmlinux):
        print(f"ptw_lines: no such file {vmlinux}", file=sys.stderr)
        return 1
    try:
        with open(path, encoding="utf-8") as f:
            findings = [json.loads(l) for l in f if l.strip()]
    except (OSError, ValueError) as e:
        print(f"ptw_lines: {path}: {e}", file=sys.stderr)
        return 1

    def elf_of(side, addr):
        """the ELF that covers addr as this side saw it, or None: a test
        program's own for a side named "[prog]" in the lower half, else
        the kernel's (a bare-metal guest, whose code is low, is its own
        "kernel")"""
        if not addr >> 63:
            prog = program_of(side)
            f = os.path.join(programs, f"{prog}-{arch}") if prog and \
                programs else None
            if prog:
                return f if f and os.path.isfile(f) else None
        return None if vmlinux == "-" else vmlinux

    want = {}  # ELF -> addresses
    for fd in findings:
        for side in (fd, fd.get("other") or {}):
            if "pc" in side:
                pc = int(side["pc"], 16)
                e = elf_of(side, pc)
                if e:
                    want.setdefault(e, set()).add(pc)
            for fr in side.get("stack", []):
                a = int(fr["pc"], 16)
                e = elf_of(side, a)
                if e:
                    want.setdefault(e, set()).add(a - 1)
    lines = {}
    try:
        for e, pcs in want.items():
            lines[e] = resolve(tool, e, sorted(pcs))
    except (RuntimeError, OSError) as e:
        print(f"ptw_lines: {e}", file=sys.stderr)
        return 1

    def line_of(side, addr):
        e = elf_of(side, addr)
        return lines.get(e, {}).get(addr) if e else None

    report = []
    for i, fd in enumerate(findings, 1):
        got = []
        for name, side in (("", fd), ("other ", fd.get("other") or {})):
            frames = line_of(side, int(side["pc"], 16)) \
                if "pc" in side else None
            if frames:
                side["pc_line"] = text(frames)
                got.append(f"{name}{side.get('role', '')}: "
                           f"{side['pc_line']}")
        calls = []
        for side in (fd, fd.get("other") or {}):
            stack = side.get("stack", [])
            for fr in stack:
                frames = line_of(side, int(fr["pc"], 16) - 1)
                if frames:
                    fr["line"] = text(frames)
            if stack:
                calls.append(f"  {side.get('role', '')}, called from:")
                calls += [f"    {fr.get('sym', fr['pc'])} "
                          f"{fr.get('line', '')}".rstrip() for fr in stack]
        if got or calls:
            report.append(f"#{i} {fd.get('kind', '?')} "
                          f"{fd.get('severity', '')}: " + "; ".join(got))
            report += calls
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for fd in findings:
            f.write(json.dumps(fd, separators=(",", ":")) + "\n")
    os.replace(tmp, path)
    if report:
        with open(os.path.join(out, "ptwatch.log"), "a",
                  encoding="utf-8") as f:
            f.write(f"\nsource lines ({tool} on "
                    f"{', '.join(sorted(want)) or 'nothing'}; innermost "
                    "first, '<-' the functions it is inlined in):\n")
            for r in report:
                f.write(r + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
