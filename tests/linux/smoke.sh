#!/bin/bash
# Linux smoke test: boot the stock Debian 6.12 kernel of each architecture
# under the plugin with one seed scenario, and require that the guest test
# passes and that every finding is a known, explained one
# (tests/linux/known-findings.txt, docs/linux-findings.md). Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TESTS=${PTWATCH_SMOKE_TESTS:-mthp_swap}
OUT=${1:-$ROOT/ptwatch-out/smoke}
known="$ROOT/tests/linux/known-findings.txt"
n=0 failed=0
for arch in arm64 x86_64; do
	n=$((n + 1))
	dir="$OUT/$arch"
	rc=0
	line=$("$ROOT/scripts/ptwatch" run --arch "$arch" --tests "$TESTS" --out "$dir" --timeout 900 2>&1 | tail -n1) || rc=$?
	why=""
	case "$rc" in
	0) ;;
	1)
		while IFS=$'\t' read -r kind fn; do
			grep -qxF "$arch $kind $fn" <(grep -v '^#' "$known") ||
				why="${why:+$why; }unexplained $kind in ${fn:-?}"
		done < <(sed -n 's/.*"kind":"\([A-Z_]*\)".*"pc_sym":"\([^"+ ]*\).*/\1\t\2/p' "$dir/findings.jsonl")
		;;
	*) why="ptwatch run exited $rc: $line" ;;
	esac
	if [ -z "$why" ]; then
		echo "ok $n - linux $arch $TESTS: guest tests passed, findings known ($line)"
	else
		failed=$((failed + 1))
		echo "not ok $n - linux $arch $TESTS: $why"
		tail -n 5 "$dir/console.log" 2>/dev/null | sed 's/^/# /'
	fi
done
echo "1..$n"
[ "$failed" = 0 ]
