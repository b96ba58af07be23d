#!/bin/bash
# Source lines for findings (scripts/ptw_lines.py), on a real QEMU run: the
# litmus guest stale_access under the plugin, its ELF (built with -g) as the
# "vmlinux". TAP output.
#
#   tests/tools/source-lines.sh BUILD_DIR
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:-$ROOT/build}
OUT="$BUILD/source-lines-out"
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

for arch in arm64 x86_64; do
	elf="$BUILD/guest-tests/litmus/$arch/litmus-$arch-stale_access.elf"
	rm -rf "${OUT:?}/$arch"
	"$ROOT/scripts/ptwatch" litmus --arch "$arch" --only stale_access \
		--out "$OUT/$arch" >/dev/null 2>&1
	dir="$OUT/$arch/$arch/stale_access"
	if [ ! -s "$dir/findings.jsonl" ]; then
		notok "$arch: the litmus run left no findings.jsonl"
		continue
	fi
	if python3 "$ROOT/scripts/ptw_lines.py" "$dir" "$elf" "$arch" 2>"$OUT/$arch.err" &&
		grep -q '"pc_line":"[^"]*stale_access.c:[0-9]' "$dir/findings.jsonl" &&
		grep -q '^#1 STALE_TLB_ACCESS error: .*stale_access.c:[0-9]' "$dir/ptwatch.log"; then
		ok "$arch: the stale read is traced to stale_access.c:$(sed -n 's/.*stale_access\.c:\([0-9]*\).*/\1/p' "$dir/ptwatch.log" | head -1)"
	else
		notok "$arch: no stale_access.c line in findings.jsonl or ptwatch.log"
		sed 's/^/# /' "$OUT/$arch.err"
	fi
done
# a missing ELF and an unknown arch are refused with a reason
if python3 "$ROOT/scripts/ptw_lines.py" "$OUT" /nonexistent/vmlinux arm64 2>"$OUT/bad.err"; then
	notok "a missing ELF was accepted"
elif grep -q "no such file" "$OUT/bad.err"; then
	ok "a missing ELF: exit 1, $(cat "$OUT/bad.err")"
else
	notok "a missing ELF: no reason given"
fi
if python3 "$ROOT/scripts/ptw_lines.py" "$OUT" /nonexistent/vmlinux mips 2>/dev/null; then
	notok "an unknown arch was accepted"
else
	ok "an unknown arch: exit 1"
fi
# a test program's side, on a kernel without a vmlinux ("-"): its PC and
# a frame of its stack from the program's own static binary
prog="$BUILD/guest-tests/linux/mremap_move-x86_64"
main=$(nm "$prog" 2>/dev/null | awk '$3 == "main" { print $1 }')
dir="$OUT/program"
mkdir -p "$dir"
printf '{"kind":"DATA_MISMATCH","severity":"error","pc":"0x%s","pc_sym":"[mremap_move]","stack":[{"pc":"0x%x","sym":"[mremap_move] 0x%x"}]}\n' \
	"$main" $((0x$main + 9)) $((0x$main + 9)) >"$dir/findings.jsonl"
: >"$dir/ptwatch.log"
if [ -n "$main" ] && python3 "$ROOT/scripts/ptw_lines.py" "$dir" - x86_64 \
	"$BUILD/guest-tests/linux" 2>"$OUT/program.err" &&
	grep -q '"pc_line":"guest-tests/linux/mremap_move.c:[0-9]*' "$dir/findings.jsonl" &&
	grep -q '"line":"[^"]*mremap_move.c:[0-9]' "$dir/findings.jsonl"; then
	ok "a test program's PC and stack frame: guest-tests/linux/mremap_move.c, without a vmlinux"
else
	notok "a test program's side: no mremap_move.c line"
	sed 's/^/# /' "$OUT/program.err"
fi
echo "1..$n"
[ "$failed" = 0 ]
