#!/usr/bin/env python3
"""Bad input to the plugin must make QEMU exit non-zero with a message
naming the problem, never crash. Prints TAP; exits 1 on any failure.

  tests/plugin/bad_input.py BUILD_DIR
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
from ptwlib import qemu  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    build = argv[1]
    plugin = os.path.join(build, "libptwatch.so")
    elf = os.path.join(build, "guest-tests", "litmus", "arm64",
                       "litmus-arm64-bbm_ok.elf")
    tmp = tempfile.mkdtemp(prefix="ptwatch-bad-input.")
    os.close(os.open(os.path.join(tmp, "file"), os.O_CREAT | os.O_WRONLY))
    n = failed = 0
    with qemu.shared_ram("ptwatch-bad-ram.") as ram:
        cases = [
            ("unknown argument", "unknown argument 'bogus'",
             f"ram={ram},out={tmp}/o1,bogus=1"),
            ("out-of-range number", "bad max_pending",
             f"ram={ram},out={tmp}/o2,max_pending=0"),
            ("bad boolean", "bad boolean for echo",
             f"ram={ram},out={tmp}/o3,echo=maybe"),
            ("bad boolean for tlbi_cb", "bad boolean for tlbi_cb",
             f"ram={ram},out={tmp}/o3b,tlbi_cb=maybe"),
            ("bad boolean for vpage_watch", "bad boolean for vpage_watch",
             f"ram={ram},out={tmp}/o3c,vpage_watch=maybe"),
            ("bad boolean for linux_mm", "bad boolean for linux_mm",
             f"ram={ram},out={tmp}/o3d,linux_mm=maybe"),
            ("bad boolean for stacks", "bad boolean for stacks",
             f"ram={ram},out={tmp}/o3e,stacks=maybe"),
            ("missing RAM backend argument", "missing ram=PATH",
             f"out={tmp}/o4"),
            ("RAM backend file missing", "cannot open RAM backend",
             f"ram={tmp}/nonexistent,out={tmp}/o5"),
            ("unwritable output directory", "cannot create output directory",
             f"ram={ram},out={tmp}/file/sub"),
            ("unwritable trace file", "cannot write trace",
             f"ram={ram},out={tmp}/o7,trace={tmp}/file/t.ptw"),
            ("bad number", "bad ram_base",
             f"ram={ram},out={tmp}/o6,ram_base=xyz"),
        ]
        for name, want, args in cases:
            n += 1
            cmd = qemu.command("arm64", elf, linux=False, smp=2, mem="256M",
                               ram=ram, plugin=f"{plugin},{args}",
                               serial="none")
            out = os.path.join(tmp, "out")
            rc = qemu.run(cmd, 30, out, out + ".err")
            text = open(out, errors="replace").read() + \
                open(out + ".err", errors="replace").read()
            hit = next((l for l in text.splitlines() if want in l), None)
            if rc not in (0, 124) and rc < 128 and hit:
                print(f"ok {n} - {name} (exit {rc}: {hit})")
            else:
                failed += 1
                print(f"not ok {n} - {name}: exit {rc}, output:")
                for l in text.splitlines()[:5]:
                    print(f"# {l}")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"1..{n}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
