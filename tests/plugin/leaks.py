#!/usr/bin/env python3
"""The plugin frees what it allocates and makes no invalid access: one
litmus guest per architecture under valgrind (memcheck, leak check of every
kind), ended the way a Linux run ends (power-off or SIGTERM: the main
thread exits with the vCPUs stopped). A loss record or a memory error whose stack passes through
libptwatch.so fails; QEMU's own records are not ours. Prints TAP.

  tests/plugin/leaks.py BUILD_DIR
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
from ptwlib import qemu  # noqa: E402

ERRORS = re.compile(r"Invalid (read|write|free)|uninitialised|"
                    r"Mismatched free|overlap")
# a stack frame in our code: the library, or (QEMU unloads plugins before
# the leak check; --keep-debuginfo keeps their names) one of its sources
OURS = re.compile(r"libptwatch|\((ptwatch|engine|detectors|report|symbols|"
                  r"suppress|guest_linux|arch_arm64|arch_x86)\.c:[0-9]+\)")


def run_to_end(cmd, console, marker, timeout):
    """Run cmd until it exits, or until console shows marker (then SIGTERM
    and wait); 124 on timeout."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while p.poll() is None:
        try:
            with open(console, errors="replace") as f:
                seen = marker in f.read()
        except OSError:
            seen = False
        if seen:
            time.sleep(1)
            p.send_signal(signal.SIGTERM)
            try:
                return p.wait(timeout=300)
            except subprocess.TimeoutExpired:
                p.kill()
                return 124
        if time.time() - t0 > timeout:
            p.kill()
            p.wait()
            return 124
        time.sleep(0.5)
    return p.returncode


def owned(record):
    """A memory error with our code on its stack, or a loss record whose
    allocation our code made: its first frame outside the allocator
    (valgrind's malloc, glib) is ours. (QEMU's own structures built for us,
    such as registered callbacks, are allocated in QEMU: not ours.)"""
    if ERRORS.search(record):
        return bool(OURS.search(record))
    if "loss record" not in record:
        return False
    for line in record.splitlines():
        if not re.search(r"==[0-9]+==\s+(at|by) ", line):
            continue
        if "vgpreload" in line or "libglib" in line:
            continue
        return bool(OURS.search(line))
    return False


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    build = argv[1]
    n = failed = 0
    tmp = tempfile.mkdtemp(prefix="ptwatch-leaks.")
    for arch in ("arm64", "x86_64"):
        n += 1
        elf = os.path.join(build, "guest-tests", "litmus", arch,
                           f"litmus-{arch}-stale_access.elf")
        out = os.path.join(tmp, arch)
        log = os.path.join(tmp, f"{arch}.valgrind")
        con = os.path.join(tmp, f"{arch}.console")
        with qemu.shared_ram("ptwatch-leaks.") as ram:
            # the x86 litmus guests leave through isa-debug-exit, whose
            # exit() runs on a vCPU thread while the other vCPU may still
            # run (the plugin then frees nothing): here the guest halts at
            # its end instead and QEMU is stopped with SIGTERM, the way a
            # timeout ends a run (the main thread exits, vCPUs stopped)
            cmd = ["valgrind", "--leak-check=full", "--show-leak-kinds=all",
                   "--keep-debuginfo=yes", f"--log-file={log}"] + \
                qemu.command(
                    arch, elf, linux=arch == "x86_64", cpu="max"
                    if arch == "x86_64" else None, smp=2, mem="256M",
                    ram=ram, plugin=qemu.plugin_arg(
                        ram, out, plugin=os.path.join(build,
                                                      "libptwatch.so")),
                    serial=f"file:{con}")
            rc = run_to_end(cmd, con, f"litmus {arch}/stale_access: ", 600)
        text = open(log, errors="replace").read() if os.path.exists(log) \
            else ""
        records = re.split(r"\n==\d+== \n", text)
        ours = [r for r in records if owned(r)]
        summary = os.path.join(out, "summary.json")
        why = []
        if rc == 124:
            why.append("valgrind run timed out")
        if not os.path.exists(summary):
            why.append("the plugin wrote no summary.json")
        if "LEAK SUMMARY" not in text and "All heap blocks were freed" \
                not in text:
            why.append("valgrind printed no leak summary")
        if ours:
            why.append(f"{len(ours)} record(s) through libptwatch.so")
        if why:
            failed += 1
            print(f"not ok {n} - {arch} litmus under valgrind: "
                  f"{'; '.join(why)}")
            for r in ours[:3]:
                for l in r.splitlines()[:12]:
                    print(f"# {l}")
        else:
            lost = re.search(r"definitely lost: ([0-9,]+) bytes", text)
            print(f"ok {n} - {arch} litmus under valgrind: no leak or error "
                  f"in libptwatch.so (QEMU's own definitely lost: "
                  f"{lost.group(1) if lost else 0} bytes)")
        sys.stdout.flush()
    print(f"1..{n}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
