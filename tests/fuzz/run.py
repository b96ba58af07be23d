#!/usr/bin/env python3
"""Fuzz the engine with libFuzzer (Debian's clang, -fsanitize=fuzzer,
address,undefined): fuzz_events (event streams into the engine) and
fuzz_trace (whole trace files through the reader and the engine), each for
SECONDS, seeded with the litmus traces found under TRACE_DIR (recorded by
`ptwatch litmus --trace`). Sets up and builds its own build directory
(meson -Dfuzz=true, CC=clang). Prints TAP; a crash, a sanitizer report, a
leak or a timeout is a failure, with the reproducer kept in
FUZZ_BUILD/artifacts/.

  tests/fuzz/run.py FUZZ_BUILD TRACE_DIR SECONDS [HARNESS...]
"""
import os
import struct
import subprocess
import sys
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HARNESSES = ("fuzz_events", "fuzz_trace")


def setup(build):
    if not os.path.isfile(os.path.join(build, "build.ninja")):
        env = dict(os.environ, CC="clang")
        r = subprocess.run(["meson", "setup", build, ROOT, "-Dfuzz=true",
                            "-Db_sanitize=address,undefined",
                            "-Db_lundef=false"], env=env,
                           capture_output=True, text=True)
        if r.returncode:
            return f"meson setup failed: {r.stdout[-800:]}{r.stderr[-800:]}"
    r = subprocess.run(["ninja", "-C", build], capture_output=True, text=True)
    if r.returncode:
        return f"build failed: {r.stdout[-1500:]}"
    return None


def records(trace):
    """(arch, ncpus, the raw records) of a trace file."""
    with open(trace, "rb") as f:
        data = f.read()
    ver, arch, ncpus, _mp, _w, alen = struct.unpack_from("<IIIIQI", data, 8)
    off = 36 + alen
    raw = b""
    while off + 16 <= len(data):
        _m, rlen, clen, _crc = struct.unpack_from("<IIII", data, off)
        raw += zlib.decompress(data[off + 16:off + 16 + clen])
        off += 16 + clen
    return arch, ncpus, raw


def seeds(trace_dir, build):
    """Corpus directories for both harnesses, from the litmus traces."""
    ev = os.path.join(build, "corpus", "fuzz_events")
    tr = os.path.join(build, "corpus", "fuzz_trace")
    os.makedirs(ev, exist_ok=True)
    os.makedirs(tr, exist_ok=True)
    n = 0
    for root, dirs, files in os.walk(trace_dir):
        dirs[:] = [d for d in dirs if d != "replay"]
        if "trace.ptw" not in files:
            continue
        t = os.path.join(root, "trace.ptw")
        name = os.path.relpath(root, trace_dir).replace(os.sep, "-")
        with open(t, "rb") as f:
            data = f.read()
        if len(data) > 64 << 10:  # keep the seeds small
            continue
        arch, ncpus, raw = records(t)
        with open(os.path.join(tr, name), "wb") as f:
            f.write(data)
        with open(os.path.join(ev, name), "wb") as f:
            f.write(bytes([1 if arch == 1 else 0, ncpus - 1]) + raw)
        n += 1
    return n, {"fuzz_events": ev, "fuzz_trace": tr}


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 64
    build, trace_dir, secs = argv[1], argv[2], int(argv[3])
    which = argv[4:] or list(HARNESSES)
    print(f"1..{len(which) + 1}")
    why = setup(build)
    if why:
        print(f"not ok 1 - fuzz build: {why}")
        return 1
    n, corp = seeds(trace_dir, build)
    if not n:
        print(f"not ok 1 - no litmus traces under {trace_dir} to seed from")
        return 1
    print(f"ok 1 - fuzz build (clang, ASan+UBSan) and {n} seeds from "
          "litmus traces")
    bad = 0
    art = os.path.join(build, "artifacts")
    os.makedirs(art, exist_ok=True)
    for i, h in enumerate(which, 2):
        cmd = [os.path.join(build, h), corp[h], f"-max_total_time={secs}",
               "-timeout=20", "-rss_limit_mb=2048", "-max_len=65536",
               f"-artifact_prefix={art}/{h}-", "-print_final_stats=1"]
        env = dict(os.environ,
                   UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
                   ASAN_OPTIONS="detect_leaks=1")
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        log = r.stderr
        with open(os.path.join(build, f"{h}.log"), "w") as f:
            f.write(log)
        runs = [l.split(":")[-1].strip() for l in log.splitlines()
                if l.startswith("stat::number_of_executed_units")]
        cov = [l for l in log.splitlines() if " cov: " in l]
        covs = cov[-1].split(" cov: ")[1].split()[0] if cov else "?"
        if r.returncode != 0:
            bad += 1
            crash = [l for l in log.splitlines()
                     if "ERROR:" in l or "runtime error" in l
                     or "Test unit written" in l]
            print(f"not ok {i} - {h} {secs}s: exit {r.returncode}; "
                  f"{'; '.join(crash[:3])} (log {build}/{h}.log)")
        else:
            print(f"ok {i} - {h} {secs}s: {runs[0] if runs else '?'} "
                  f"inputs, coverage {covs} edges, no crash, sanitizer "
                  "report or leak")
        sys.stdout.flush()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
