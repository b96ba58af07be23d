#!/bin/bash
# Bad input to the plugin must make QEMU exit non-zero with a message naming
# the problem, never crash. Prints TAP; exits 1 on any failure.
set -uo pipefail
BUILD=${1:?usage: bad-input.sh BUILD_DIR}
PLUGIN=$BUILD/libptwatch.so
ELF=$BUILD/guest-tests/litmus/arm64/litmus-arm64-bbm_ok.elf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" /dev/shm/ptwatch-bad-ram.$$' EXIT
RAM=/dev/shm/ptwatch-bad-ram.$$
n=0 failed=0

# case NAME EXPECTED_MESSAGE PLUGIN_ARGS [QEMU_MEMORY_ARGS...]
case_() {
	local name=$1 want=$2 args=$3
	shift 3
	n=$((n + 1))
	local rc=0
	timeout 30 qemu-system-aarch64 -M virt -cpu max -smp 2 -m 256M -display none \
		-monitor none -serial none -no-reboot "$@" \
		-plugin "$PLUGIN${args:+,$args}" -kernel "$ELF" </dev/null >"$tmp/out" 2>&1 || rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" -lt 128 ] && grep -q -- "$want" "$tmp/out"; then
		echo "ok $n - $name (exit $rc: $(grep -m1 -- "$want" "$tmp/out"))"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: exit $rc, output:"
		sed 's/^/# /' "$tmp/out" | head -5
	fi
}
MEM=(-object "memory-backend-file,id=ram,size=256M,mem-path=$RAM,share=on" -machine memory-backend=ram)

case_ "unknown argument" "unknown argument 'bogus'" "ram=$RAM,out=$tmp/o1,bogus=1" "${MEM[@]}"
case_ "out-of-range number" "bad max_pending" "ram=$RAM,out=$tmp/o2,max_pending=0" "${MEM[@]}"
case_ "bad boolean" "bad boolean for echo" "ram=$RAM,out=$tmp/o3,echo=maybe" "${MEM[@]}"
case_ "missing RAM backend argument" "missing ram=PATH" "out=$tmp/o4"
case_ "RAM backend file missing" "cannot open RAM backend" "ram=$tmp/nonexistent,out=$tmp/o5"
touch "$tmp/file"
case_ "unwritable output directory" "cannot create output directory" "ram=$RAM,out=$tmp/file/sub" "${MEM[@]}"
case_ "bad number" "bad ram_base" "ram=$RAM,out=$tmp/o6,ram_base=xyz" "${MEM[@]}"

echo "1..$n"
[ "$failed" = 0 ]
