#!/bin/bash
# Hygiene gates, as TAP: the C tree follows .clang-format, the shell
# scripts pass shellcheck (warnings and errors), and the build treats
# warnings as errors (meson werror=true, the project default).
#   tests/tools/hygiene.sh BUILD_DIR
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:?usage: hygiene.sh BUILD_DIR}
cd "$ROOT" || exit 1
n=0 bad=0
result() { # result OK NAME [DETAIL]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		bad=$((bad + 1))
		echo "not ok $n $2"
		[ -z "${3:-}" ] || sed 's/^/# /' <<<"$3" | head -40
	fi
}
echo "TAP version 13"
echo "1..3"

mapfile -t cfiles < <(git ls-files '*.c' '*.h')
out=$(clang-format --dry-run --Werror "${cfiles[@]}" 2>&1)
result $? "clang-format: ${#cfiles[@]} C files follow .clang-format" "$out"

shells=(scripts/bootstrap scripts/guest-image scripts/kselftests scripts/test
	scripts/lib/apt-unstable.sh
	scripts/build-kernel .ci/run)
mapfile -t -O "${#shells[@]}" shells < <(git ls-files 'tests/*.sh')
out=$(shellcheck -S warning "${shells[@]}" 2>&1 &&
	shellcheck -S warning -s sh guest-tests/linux/init.sh 2>&1)
result $? "shellcheck -S warning: ${#shells[@]} bash scripts and the guest's init.sh" "$out"

werror=$(meson introspect --buildoptions "$BUILD" 2>/dev/null |
	python3 -c 'import json,sys
print(next((o["value"] for o in json.load(sys.stdin) if o["name"] == "werror"), "missing"))' 2>&1)
[ "$werror" = True ]
result $? "-Werror: the build in $BUILD has werror=true (meson says: $werror)"
[ "$bad" = 0 ]
