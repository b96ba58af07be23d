"""A kernel's text symbols (and x86-64's per-CPU current task pointer, and
the data symbols guest_linux_mm.c needs),
read by booting it once without the plugin with our initramfs printing
/proc/kallsyms (ptwatch.kallsyms on the command line); cached by kernel
hash and this format's version.

  python3 scripts/ptwlib/kallsyms.py ARCH KERNEL   prints the cache file
"""
import fcntl
import gzip
import hashlib
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    __package__ = "ptwlib"  # noqa: A001
from ptwlib import CACHE, ROOT, qemu  # noqa: E402

# text symbols, x86-64's current task slot, what guest_linux_mm.c reads
# (the BTF's bounds, where the struct pages are, the swap devices) and the
# bounds of x86-64's ORC tables (guest_linux_orc.c: call stacks)
KEEP = re.compile(r"^[0-9a-f]+ ([tTwW] |[aAdDbBrR] (pcpu_hot|current_task|"
                  r"__start_BTF|__stop_BTF|vmemmap_base|page_offset_base|"
                  r"memstart_addr|swap_info|__start_orc_unwind_ip|"
                  r"__stop_orc_unwind_ip|__start_orc_unwind)$)")
# every line of /proc/kallsyms: address, type, name, [module]
LINE = re.compile(r"^[0-9a-f]{8,16} [a-zA-Z?] \S+( \[\S+\])?$")
PRINTK = re.compile(r"^\[ *[0-9]+\.[0-9]+\] ")


class Failed(Exception):
    pass


# the compressed vmlinux inside an x86-64 bzImage (scripts/extract-vmlinux's
# signatures), and how to inflate it
PAYLOADS = ((b"\x28\xb5\x2f\xfd", "zstd"), (b"\xfd7zXZ\x00", "xz"),
            (b"\x1f\x8b\x08", "gzip"))
ORC_SECTIONS = {".orc_unwind_ip": ("__start_orc_unwind_ip",
                                   "__stop_orc_unwind_ip"),
                ".orc_unwind": ("__start_orc_unwind", None)}


def _inflate(blob, how):
    if how == "zstd":
        if not shutil.which("zstd"):
            return None
        r = subprocess.run(["zstd", "-dcq"], input=blob,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return r.stdout  # trailing bytes past the frame make it exit 1
    try:
        if how == "xz":
            return lzma.LZMADecompressor().decompress(blob)
        return gzip.GzipFile(fileobj=__import__("io").BytesIO(blob)).read()
    except (lzma.LZMAError, OSError, EOFError):
        return None


def orc_bounds(kernel):
    """x86-64: the bounds of the ORC unwind tables (guest_linux_orc.c) as
    symbol lines, from the section headers of the vmlinux inside the
    bzImage; /proc/kallsyms does not list them, and Debian's System.map is
    a placeholder. [] when there are none (a kernel without ORC, or one
    that cannot be inflated here)."""
    with open(kernel, "rb") as f:
        image = f.read()
    for magic, how in PAYLOADS:
        at = image.find(magic)
        elf = _inflate(image[at:], how) if at >= 0 else None
        if not elf or elf[:4] != b"\x7fELF" or elf[4] != 2:
            continue
        shoff, = struct.unpack_from("<Q", elf, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)

        def sh(i):
            return struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
        names_off = sh(shstrndx)[4]
        out = []
        for i in range(shnum):
            name_at, _, _, addr, _, size = sh(i)
            end = elf.index(b"\0", names_off + name_at)
            name = elf[names_off + name_at:end].decode("ascii", "replace")
            if name in ORC_SECTIONS:
                start, stop = ORC_SECTIONS[name]
                out.append(f"{addr:016x} R {start}")
                if stop:
                    out.append(f"{addr + size:016x} R {stop}")
        return out if len(out) == 3 else []
    return []


def kallsyms(arch, kernel):
    """The path of the symbols file (built by one boot when not cached)."""
    with open(kernel, "rb") as f:
        h = hashlib.sha256(f.read()).hexdigest()[:16]
    # v3: v2 files could be cut by two boots writing one console file;
    # v4: with the data symbols guest_linux_mm.c reads; v5: with the ORC
    # tables' bounds
    out = os.path.join(CACHE, "guest", arch, f"kallsyms-v5-{h}.txt")
    if os.path.isfile(out) and os.path.getsize(out):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    # one boot at a time per kernel: a second run waits for the first's
    # file instead of booting too
    with open(out + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(out) and os.path.getsize(out):
            return out
        return _read(arch, kernel, out)


def _read(arch, kernel, out):
    initrd = subprocess.run(
        [os.path.join(ROOT, "scripts", "guest-image"), "initrd", arch],
        stdout=subprocess.PIPE, text=True).stdout.strip()
    if not initrd:
        raise Failed("no initramfs")
    print(f"guest-image: reading kernel symbols of "
          f"{os.path.basename(kernel)} (one boot, cached)", file=sys.stderr)
    con = f"{out}.{os.getpid()}.console"
    with qemu.shared_ram() as ram:
        cmd = qemu.command(arch, kernel, linux=True, smp=1, mem="1G",
                           ram=ram, cpu="max", initrd=initrd,
                           append=qemu.kernel_append(
                               arch, extra="quiet ptwatch.kallsyms",
                               oops_panic=False))
        qemu.run(cmd, 150, con, os.devnull)
    with open(con, "rb") as f:
        text = f.read().decode("utf-8", "replace").replace("\r", "")
    os.unlink(con)
    m = re.search(r"^ptwatch-kallsyms-begin$(.*?)^ptwatch-kallsyms-end$",
                  text, re.S | re.M)
    # whole kernel messages between the lines are harmless (quiet keeps
    # them few); anything else malformed is a damaged dump
    lines = [x for x in (m.group(1).splitlines() if m else [])
             if x and not PRINTK.match(x)]
    bad = [x for x in lines if not LINE.match(x)]
    if bad:
        # a line cut or mixed with other console output: the file would
        # miss symbols silently, and unsymbolized kernel PCs change how
        # findings are judged
        raise Failed(f"the guest's symbol dump is damaged ({len(bad)} of "
                     f"{len(lines)} lines malformed, first: {bad[0][:60]!r})")
    keep = [x for x in lines if KEEP.match(x)]
    if not keep:
        raise Failed("the guest printed no kernel symbols")
    if arch == "x86_64" and not any("_orc_unwind" in x for x in keep):
        # booted with nokaslr: the image's addresses are the running ones
        keep += orc_bounds(kernel)
    tmp = f"{out}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(keep) + "\n")
    os.replace(tmp, out)
    return out


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    try:
        print(kallsyms(argv[1], argv[2]))
    except (OSError, Failed) as e:
        print(f"guest-image: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
