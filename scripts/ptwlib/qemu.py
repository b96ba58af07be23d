"""The one place QEMU command lines are built, and guests are run.

Every run gets a shared RAM backend in /dev/shm (the plugin maps it to read
guest memory); the plugin, when given, is loaded with ram=, out= and the
caller's arguments."""
import contextlib
import os
import signal
import subprocess
import tempfile

from . import BUILD, ROOT


# The QEMU to run: None for Debian's (on PATH), or a build directory holding
# qemu-system-* (scripts/build-qemu: the patched QEMU); `ptwatch --qemu`
# sets it, as does $PTWATCH_QEMU_DIR.
QEMU_DIR = os.environ.get("PTWATCH_QEMU_DIR") or None
# firmware for a QEMU built from Debian's +ds source, which has none of its
# own (SeaBIOS, option ROMs such as virt's efi-virtio.rom): where Debian's
# QEMU finds them (qemu-system-data, seabios, ipxe-qemu)
FIRMWARE_DIRS = ("/usr/share/qemu", "/usr/share/seabios",
                 "/usr/lib/ipxe/qemu")


def patched_dir(baseline=False):
    """The build directory of the patched QEMU (or of the baseline) for
    the current series, None when it is not built."""
    r = subprocess.run([os.path.join(ROOT, "scripts", "build-qemu"),
                        "--check"] + (["--baseline"] if baseline else []),
                       capture_output=True, text=True)
    return r.stdout.strip().splitlines()[-1] if r.returncode == 0 else None


def use_qemu(which):
    """--qemu auto|stock|patched|PATH: which QEMU the runs of this process
    (and its children) use; auto is patched when it is built, else stock
    (bench/overhead also asks for "baseline": the same source built
    without the new API). Returns an error message, or None."""
    global QEMU_DIR
    if which in (None, "stock"):
        d = None
    elif which == "auto":
        d = patched_dir()
    elif which in ("patched", "baseline"):
        d = patched_dir(which == "baseline")
        if not d:
            return (f"no {which} QEMU built for this series: run "
                    f"scripts/build-qemu"
                    f"{' --baseline' if which == 'baseline' else ''} (the "
                    f"first build takes about 17 minutes on 2 cores)")
    else:
        d = os.path.abspath(which)
        if not os.access(os.path.join(d, "qemu-system-aarch64"), os.X_OK):
            return f"{d} holds no qemu-system-aarch64"
    QEMU_DIR = d
    if d:
        os.environ["PTWATCH_QEMU_DIR"] = d
    else:
        os.environ.pop("PTWATCH_QEMU_DIR", None)
    return None


def binary(arch):
    name = "qemu-system-aarch64" if arch == "arm64" else "qemu-system-x86_64"
    return os.path.join(QEMU_DIR, name) if QEMU_DIR else name


def machine(arch, linux):
    """The emulator and machine options: a Linux guest, or a bare-metal
    litmus guest (-cpu max; x86 exits through isa-debug-exit)."""
    fw = [a for d in FIRMWARE_DIRS for a in ("-L", d)] if QEMU_DIR else []
    if arch == "arm64":
        return [binary(arch)] + fw + ["-M", "virt"] + (
            [] if linux else ["-cpu", "max"])
    if arch == "x86_64":
        return [binary(arch)] + fw + ["-M", "pc"] + ([] if linux else [
            "-cpu", "max", "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04"])
    raise ValueError(f"unknown arch '{arch}'")


def console(arch):
    return "ttyAMA0" if arch == "arm64" else "ttyS0"


def kernel_append(arch, tests=(), extra="", oops_panic=True):
    """Linux's command line: our console, no KASLR (symbols), a panic (and
    an oops, unless oops_panic is False) ends the run; ptwatch.tests names
    the tests /init runs; arguments without a dot (PTW_ONLY=...) reach the
    tests as environment variables. With tests, writes through
    /proc/PID/mem are let through as the mm selftests expect
    (proc_mem.force_override=always, Linux 6.12 and later: mkdirty's and
    ksm_functional_tests' FOLL_FORCE writes, which Debian's 7.2 kernels
    refuse otherwise, "write() failed")."""
    a = f"console={console(arch)} nokaslr panic=-1"
    if oops_panic:
        a += " oops=panic"
    if tests:
        a += " ptwatch.tests=" + ",".join(tests)
        a += " proc_mem.force_override=always"
    if extra:
        a += " " + extra
    return a


def plugin_arg(ram, out, args=None, plugin=None):
    """-plugin's value: the library, ram=, out= and args (a dict, in order;
    None values left out)."""
    s = plugin or os.environ.get("PTWATCH_PLUGIN",
                                 os.path.join(BUILD, "libptwatch.so"))
    s += f",ram={ram},out={out}"
    for k, v in (args or {}).items():
        if v is not None and v != "":
            s += f",{k}={v}"
    # more plugin arguments for every run, e.g. page_watch=off
    if os.environ.get("PTWATCH_PLUGIN_ARGS"):
        s += "," + os.environ["PTWATCH_PLUGIN_ARGS"]
    return s


def command(arch, kernel, *, linux, smp=2, mem="1G", ram, plugin=None,
            cpu=None, initrd=None, append=None, disk=None, serial="stdio",
            extra=()):
    """The QEMU command line. plugin: the -plugin value (plugin_arg()) or
    None for a run without the plugin (the same command otherwise)."""
    if str(mem)[-1:].isdigit():
        mem = f"{mem}M"
    cmd = machine(arch, linux)
    if cpu:
        cmd += ["-cpu", cpu]
    cmd += ["-smp", str(smp), "-m", str(mem), "-display", "none",
            "-monitor", "none", "-serial", serial, "-no-reboot",
            "-object",
            f"memory-backend-file,id=ram,size={mem},mem-path={ram},share=on",
            "-machine", "memory-backend=ram"]
    if plugin:
        cmd += ["-plugin", plugin]
    cmd += ["-kernel", kernel]
    if initrd:
        cmd += ["-initrd", initrd]
    if append:
        cmd += ["-append", append]
    if disk:
        cmd += ["-drive", f"file={disk},if=virtio,format=raw,readonly=on"]
    return cmd + list(extra)


@contextlib.contextmanager
def shared_ram(prefix="ptwatch-ram."):
    """A path in /dev/shm for the RAM backend (QEMU creates the file with
    the right size); removed afterwards."""
    fd, path = tempfile.mkstemp(prefix=prefix, dir="/dev/shm")
    os.close(fd)
    os.unlink(path)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def stop(p):
    """SIGTERM (QEMU writes its logs), then SIGKILL 10 s later."""
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def run(cmd, timeout, stdout, stderr):
    """Run QEMU (stdin closed) with its output in the files stdout and
    stderr; on timeout SIGTERM, then SIGKILL 10 s later. Returns QEMU's exit
    status: 124 on timeout (as timeout(1)), 128+N when killed by signal N."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=err)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(p)
            return 124
        except BaseException:
            stop(p)  # we are being stopped (SIGTERM, ^C): QEMU too
            raise
    return 128 - rc if rc < 0 else rc
