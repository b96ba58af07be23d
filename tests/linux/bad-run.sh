#!/bin/bash
# Bad input for Linux runs (`scripts/ptwatch run`): each case must end with
# the documented exit status (3 the run failed, 2 guest tests failed) and a
# one-line reason naming the cause, and keep the partial logs
# (console.log, summary.json). arm64 only: the launcher logic is the same on
# both arches and an arm64 boot under the plugin is the cheaper one.
#   1. a kernel of the wrong architecture      -> 3, at once
#   2. a kernel that does not boot (truncated)  -> 3, timeout, no console
#   3. an initramfs missing the zram module     -> 3, guest setup failed
#   4. a test binary that crashes (SIGSEGV)     -> 2, which test and signal
#   5. a guest kernel that panics (sysrq c)     -> 3, the panic line
#   6. a guest test that hangs                  -> 3, timeout in that test
#   7. --vmlinux FILE that is not there          -> 64, at once
#   8. --kernel-build with --stock unstable-16k   -> 64, at once
#   9. --kernel NAME of a Debian kernel (a file that is not there)
#                                               -> 3, at once, naming --stock
# Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/ptwatch-out/bad-run}
PTW="$ROOT/scripts/ptwatch"
rm -rf "$OUT"
mkdir -p "$OUT"
"$PTW" build || exit 1
kernel=$("$ROOT/scripts/guest-image" kernel arm64) || exit 1
x86kernel=$("$ROOT/scripts/guest-image" kernel x86_64) || exit 1
syms=$("$ROOT/scripts/guest-image" kallsyms arm64) || exit 1
initrd=$("$ROOT/scripts/guest-image" initrd arm64) || exit 1

n=0 failed=0
# check NAME WANT_RC PATTERN [run args...]: run, compare the exit status and
# the last line (the reason) with PATTERN, require the logs to be kept
check() {
	local name=$1 want=$2 pat=$3 rc=0 line dir="$OUT/$1" why=""
	shift 3
	n=$((n + 1))
	line=$("$PTW" run --arch arm64 --out "$dir" "$@" 2>&1 | tail -n1) || rc=$?
	[ "$rc" = "$want" ] || why="exit $rc, want $want"
	grep -Eq "$pat" <<<"$line" || why="${why:+$why; }reason does not match /$pat/"
	# the cases refused before the boot have no console to keep
	if [ "$want" = 3 ] && [ "$name" != wrong-arch ] && [ "$name" != kernel-by-name ]; then
		[ -f "$dir/console.log" ] || why="${why:+$why; }console.log not kept"
		python3 -c 'import json, sys
sys.exit(json.load(open(sys.argv[1])).get("complete") is not True)' "$dir/summary.json" 2>/dev/null ||
			why="${why:+$why; }summary.json missing or incomplete"
	fi
	if [ -z "$why" ]; then
		echo "ok $n - $name: exit $rc: ${line#ptwatch: }"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: $why"
		echo "# $line"
	fi
}

# initrd_variant NAME: unpack the stock initramfs into OUT/NAME.d for editing
initrd_variant() {
	local d="$OUT/$1.d"
	mkdir -p "$d"
	(cd "$d" && gzip -dc "$initrd" | cpio -idm --quiet) || exit 1
	echo "$d"
}
initrd_pack() { # DIR -> DIR.cpio.gz
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$1.cpio.gz" || exit 1
	echo "$1.cpio.gz"
}

check wrong-arch 3 "not an arm64 kernel" --kernel "$x86kernel" --symbols "$syms"
# a Debian kernel's name given to --kernel (which takes a file): the reason
# names the option that takes names
check kernel-by-name 3 "kernel 'unstable' not readable \(a Debian kernel by name is --stock unstable\)" \
	--kernel unstable --symbols "$syms" --tests cow
# a vmlinux for the source lines that is not there: refused before the boot
check no-vmlinux 64 "run: --vmlinux /nonexistent/vmlinux: not readable" \
	--vmlinux /nonexistent/vmlinux --tests cow
# our kernel builds have 4K pages: a 16K one asked for is refused at once
check kernel-build-16k 64 "run: --kernel-build builds 4K-page kernels" \
	--kernel-build --stock unstable-16k --tests cow

head -c 65536 "$kernel" >"$OUT/truncated-Image"
check no-boot 3 "timeout after 20s, no console output" \
	--kernel "$OUT/truncated-Image" --symbols "$syms" --initrd "$initrd" --timeout 20

d=$(initrd_variant no-zram)
find "$d/lib/modules" -name 'zram.ko*' -delete
check missing-module 3 "setup failed: no zram device" --initrd "$(initrd_pack "$d")" --timeout 300

d=$(initrd_variant crash)
printf '#!/bin/sh\necho "crash: about to fault"\nkill -SEGV $$\n' >"$d/tests/crash"
printf '#!/bin/sh\nexit 0\n' >"$d/tests/fine"
chmod 0755 "$d/tests/crash" "$d/tests/fine"
check crashing-test 2 "2 tests, 1 failed \(crash killed by signal 11\)" --initrd "$(initrd_pack "$d")" --timeout 300

d=$(initrd_variant panic)
printf '#!/bin/sh\necho "panic: crashing the kernel"\necho c >/proc/sysrq-trigger\n' >"$d/tests/panic"
chmod 0755 "$d/tests/panic"
check guest-panic 3 "guest kernel panic" --initrd "$(initrd_pack "$d")" --timeout 300

d=$(initrd_variant hang)
printf '#!/bin/sh\necho "hang: sleeping for ever"\nwhile :; do sleep 1000; done\n' >"$d/tests/hang"
chmod 0755 "$d/tests/hang"
check hanging-test 3 "timeout after 90s, in test hang" --initrd "$(initrd_pack "$d")" --timeout 90

echo "1..$n"
[ "$failed" = 0 ]
