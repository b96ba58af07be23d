"""Debian's stress-ng for a guest: the binary of Debian's own package for
the guest's architecture (bookworm's stress-ng:arm64 or :amd64), with the
shared libraries it loads, from Debian's packages of the same release, and
their dynamic loader, as one directory the initramfs carries
(/tests/stress-ng.d) and guest-tests/linux/stress_ng.c runs.

Why not a static build from Debian's source, as issue 26 asks: the package
archive this project can reach serves binary packages, not source
tarballs (apt-get source stress-ng: 404 for the .orig.tar.xz of bookworm,
trixie and unstable alike), so the binary package it is. It is the same
program Debian users run; the bundle needs nothing from the guest but a
kernel.

Fetched with apt-get download (never installed), unpacked with dpkg-deb
-x, cached under ~/.cache/ptwatch/stress-ng/VERSION-ARCH."""
import os
import re
import shutil
import subprocess

DEBARCH = {"arm64": "arm64", "x86_64": "amd64"}
TRIPLET = {"arm64": "aarch64-linux-gnu", "x86_64": "x86_64-linux-gnu"}


class Failed(Exception):
    """The bundle could not be made; the message says why."""


def _cache():
    return os.path.join(os.environ.get("PTWATCH_CACHE") or
                        os.path.join(os.path.expanduser("~"), ".cache",
                                     "ptwatch"), "stress-ng")


def _run(cmd, cwd=None):
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise Failed(f"{' '.join(cmd)}: exit {r.returncode}: "
                     f"{r.stderr.strip().splitlines()[-1:] or ''}")
    return r.stdout


def _native():
    return _run(["dpkg", "--print-architecture"]).strip()


def _pkg(name, debarch):
    return name if debarch == _native() else f"{name}:{debarch}"


def candidate(debarch):
    """The version of stress-ng apt would fetch for debarch, or None."""
    out = _run(["apt-cache", "policy", _pkg("stress-ng", debarch)])
    m = re.search(r"Candidate:\s*(\S+)", out)
    return m.group(1) if m and m.group(1) != "(none)" else None


def packages(debarch):
    """stress-ng and every package it depends on, recursively (Depends and
    PreDepends only)."""
    out = _run(["apt-cache", "depends", "--recurse", "--no-recommends",
                "--no-suggests", "--no-conflicts", "--no-breaks",
                "--no-replaces", "--no-enhances",
                _pkg("stress-ng", debarch)])
    names = set()
    for line in out.splitlines():
        if not line or line[0] in " <\t" or "<" in line:
            continue  # a dependency line, or a virtual package
        name = line.strip()
        arch = name.split(":", 1)[1] if ":" in name else _native()
        if arch == debarch:
            names.add(name)
    return sorted(names)


def elf_needed(path):
    """(interpreter or None, [NEEDED sonames]) of an ELF file."""
    out = _run(["readelf", "-d", "-l", "-W", path])
    interp = re.search(r"Requesting program interpreter: ([^\]]+)\]", out)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    return (interp.group(1) if interp else None), needed


def resolve(root, path):
    """path (inside root) with its symbolic links followed inside root:
    an absolute link target is taken from root, not from the host."""
    for _ in range(40):
        if not os.path.islink(path):
            return path
        target = os.readlink(path)
        path = (os.path.join(root, target.lstrip("/"))
                if target.startswith("/")
                else os.path.normpath(os.path.join(os.path.dirname(path),
                                                   target)))
    raise Failed(f"{path}: too many levels of symbolic links")


def closure(root, binary, arch):
    """{soname: path in root} of every library binary loads, and the path
    of its dynamic loader in root."""
    dirs = [os.path.join(root, d) for d in
            (f"lib/{TRIPLET[arch]}", f"usr/lib/{TRIPLET[arch]}", "lib",
             "usr/lib")]
    interp, todo = elf_needed(binary)
    if not interp:
        raise Failed(f"{binary} has no program interpreter")
    loader = resolve(root, os.path.join(root, interp.lstrip("/")))
    if not os.path.isfile(loader):
        raise Failed(f"the loader {interp} is not in the packages")
    libs = {}
    while todo:
        so = todo.pop()
        if so in libs:
            continue
        path = next((os.path.join(d, so) for d in dirs
                     if os.path.exists(os.path.join(d, so))), None)
        if not path:
            raise Failed(f"{so} (needed by stress-ng) is in none of its "
                         "packages")
        libs[so] = resolve(root, path)
        todo += elf_needed(libs[so])[1]
    return libs, loader


def bundle(arch):
    """The directory with stress-ng, lib/ and ld.so for arch (made once,
    then cached). Raises Failed."""
    debarch = DEBARCH[arch]
    ver = candidate(debarch)
    if not ver:
        raise Failed(f"apt knows no stress-ng for {debarch} (dpkg "
                     f"--add-architecture {debarch}; apt-get update)")
    top = os.path.join(_cache(), f"{ver}-{arch}")
    out = os.path.join(top, "stress-ng.d")
    if os.path.exists(os.path.join(top, ".done")):
        return out
    debs, root = os.path.join(top, "debs"), os.path.join(top, "root")
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(debs)
    pkgs = packages(debarch)
    if not any(p.split(":")[0] == "stress-ng" for p in pkgs):
        raise Failed(f"apt-cache depends lists no stress-ng for {debarch}")
    _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root"]
         + pkgs, cwd=debs)
    for deb in sorted(os.listdir(debs)):
        _run(["dpkg-deb", "-x", os.path.join(debs, deb), root])
    binary = os.path.join(root, "usr", "bin", "stress-ng")
    if not os.path.isfile(binary):
        raise Failed("the stress-ng package has no /usr/bin/stress-ng")
    libs, loader = closure(root, binary, arch)
    tmp = out + ".tmp"
    os.makedirs(os.path.join(tmp, "lib"))
    shutil.copy(binary, os.path.join(tmp, "stress-ng"))
    shutil.copy(loader, os.path.join(tmp, "ld.so"))
    for so, path in libs.items():
        shutil.copy(path, os.path.join(tmp, "lib", so))
    with open(os.path.join(tmp, "VERSION"), "w") as f:
        f.write(f"stress-ng {ver} ({debarch}, Debian's package), "
                f"{len(libs)} libraries\n")
    os.rename(tmp, out)
    shutil.rmtree(debs, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    open(os.path.join(top, ".done"), "w").close()
    return out
