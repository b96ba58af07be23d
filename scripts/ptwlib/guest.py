"""Builds and guest images: the meson build, guest kernels and initramfs
(scripts/guest-image), kernel selftests (scripts/kselftests), our own
kernels (scripts/build-kernel). Each raises Failed with a one-line reason."""
import os
import subprocess
import sys

from . import BUILD, ROOT


class Failed(Exception):
    """A step the run needs failed (the CLI exits 3, or 64 for usage)."""


def _script(name, *args, quiet_stderr=False):
    r = subprocess.run([os.path.join(ROOT, "scripts", name), *args],
                       stdout=subprocess.PIPE, text=True,
                       stderr=subprocess.DEVNULL if quiet_stderr else None)
    if r.returncode != 0:
        raise Failed(f"scripts/{name} {' '.join(args)} failed "
                     f"(exit {r.returncode})")
    return r.stdout.strip()


def ensure_built():
    """scripts/bootstrap (a no-op when done), then meson + ninja into
    BUILD. Raises Failed with the build's last lines."""
    if subprocess.run([os.path.join(ROOT, "scripts", "bootstrap")]
                      ).returncode != 0:
        raise Failed("scripts/bootstrap failed")
    tmp = os.environ.get("TMPDIR", "/tmp")
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        log = os.path.join(tmp, "ptwatch-meson-setup.log")
        with open(log, "w") as f:
            r = subprocess.run(["meson", "setup", BUILD, ROOT], stdout=f,
                               stderr=subprocess.STDOUT)
        if r.returncode != 0:
            sys.stderr.write(open(log).read())
            raise Failed("meson setup failed")
    log = os.path.join(tmp, "ptwatch-ninja.log")
    with open(log, "w") as f:
        r = subprocess.run(["ninja", "-C", BUILD], stdout=f,
                           stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.stderr.write("".join(open(log).readlines()[-40:]))
        raise Failed("build failed")


# Debian's kernels scripts/guest-image fetches (--stock)
STOCK_KERNELS = ("bookworm", "unstable", "unstable-16k")


def stock_kernel(arch, stock="bookworm"):
    """Debian's kernel image for arch (fetched and cached): bookworm's
    6.12, or unstable's newest (docs/linux-7.md)."""
    return _script("guest-image", "--stock", stock, "kernel", arch)


def test_disk():
    """The read-only disk every Linux guest gets (/dev/vda: cow_gup's
    O_DIRECT reads), built by meson with the guest tests."""
    return os.path.join(BUILD, "guest-tests", "linux", "cow_gup-disk.img")


def initrd(arch, binaries=(), stock="bookworm"):
    """The initramfs with the tests and the zram modules of that stock
    kernel (ours have them built in)."""
    return _script("guest-image", "--stock", stock, "initrd", arch,
                   *binaries)


def kallsyms(arch, kernel):
    """The kernel's text symbols, read by one boot (cached); None when the
    guest printed none."""
    from . import kallsyms as ks
    try:
        return ks.kallsyms(arch, kernel)
    except (OSError, ks.Failed) as e:
        print(f"ptwatch: {e}", file=sys.stderr)
        return None


def own_kernel(arch, bugs, stock="bookworm"):
    """Our kernel build (scripts/build-kernel) with the bugs put back
    ("none": none), from 6.12's source or (stock "unstable") Debian
    unstable's; returns its directory."""
    args = [arch] + ([] if bugs == "none" else ["--inject", bugs])
    if stock == "unstable":
        args += ["--source", "unstable"]
    out = _script("build-kernel", *args)
    return out.splitlines()[-1] if out else ""


def test_binaries(arch, names, stock="bookworm"):
    """The static binaries of guest tests: guest-tests/linux, else the
    kernel's mm selftests (scripts/kselftests builds them: those of
    Debian unstable's linux-source for its kernels, stock unstable or
    unstable-16k; else 6.12's)."""
    source = ["--source", "unstable"] if stock.startswith("unstable") else []
    bins, selftests = [], None
    for t in names:
        b = os.path.join(BUILD, "guest-tests", "linux", f"{t}-{arch}")
        if not os.access(b, os.X_OK):
            if selftests is None:
                try:
                    selftests = _script("kselftests", "build", *source,
                                        arch, quiet_stderr=True
                                        ).splitlines()
                except Failed:
                    selftests = []
            b = next((p for p in selftests if p.endswith("/" + t)), "")
        if not b or not os.access(b, os.X_OK):
            raise Failed(f"unknown test '{t}' (guest-tests/linux or kernel "
                         "selftests)")
        bins.append(b)
    return bins


def test_support(arch, names):
    """What tests need in /tests beside their binaries: for stress_ng,
    the directory with Debian's stress-ng, its libraries and loader
    (scripts/ptwlib/stressng.py)."""
    extra = []
    if "stress_ng" in names:
        from . import stressng
        try:
            extra.append(stressng.bundle(arch))
        except stressng.Failed as e:
            raise Failed(f"stress-ng for {arch}: {e}") from e
    return extra


def kernel_format_ok(arch, path):
    """path looks like a kernel QEMU boots on arch: an ELF vmlinux, an
    arm64 Image ("ARMd" at 0x38) or gzip'ed Image, an x86 bzImage ("HdrS"
    at 0x202)."""
    with open(path, "rb") as f:
        head = f.read(0x210)
    if head[:4] == b"\x7fELF":
        return True
    if arch == "arm64":
        return head[:2] == b"\x1f\x8b" or head[56:60] == b"ARMd"
    return head[514:518] == b"HdrS"
