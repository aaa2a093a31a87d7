#!/bin/bash
# tests/e2e/test_fuzz.sh — the libFuzzer targets (fuzz/fuzz_*.c), briefly:
# built by `make fuzz-build` (clang, ASan+UBSan, their own objects under
# $BUILD/fuzz whatever SANITIZER the rest was built with), then each run
# from its seeds with a fixed seed for at most FUZZ_RUNS executions or
# FUZZ_SECONDS, whichever comes first.  A crash, a sanitizer report or a
# broken promise of the code under test fails its case; the reproducer
# stays in $BUILD/fuzz/crashes.  `make fuzz` is the long run.
#
# Output: "ok fuzz/<target> (execs, cov)" or "fail fuzz/<target>: why"
# with "#" detail lines, as tests/run.sh counts them.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$ROOT/$BUILD ;;
esac
: "${FUZZ_RUNS:=20000}"
: "${FUZZ_SECONDS:=8}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/athttp-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0

fail() {
	FAIL=$((FAIL + 1))
	echo "fail $1: $2"
	[ -n "${3:-}" ] && [ -s "$3" ] && tail -n 25 "$3" | cut -c1-200 | sed 's/^/#   /'
}

# The build: bounded like any wait here.
if ! timeout -k 10 600 make -C "$ROOT" --no-print-directory BUILD="$BUILD" fuzz-build >"$TMP/build.log" 2>&1; then
	fail fuzz/build "make fuzz-build failed" "$TMP/build.log"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
bins=$(ls "$BUILD"/fuzz/bin/fuzz_* 2>/dev/null)
if [ -z "$bins" ]; then
	fail fuzz/build "no fuzz targets in $BUILD/fuzz/bin"
	exit 1
fi
for bin in $bins; do
	name=${bin##*/}
	out=$TMP/$name.out
	BUILD=$BUILD FUZZ_RUNS=$FUZZ_RUNS FUZZ_SECONDS=$FUZZ_SECONDS FUZZ_CORPUS=$TMP/corpus FUZZ_FLAGS=-seed=1 \
		timeout -k 10 $((FUZZ_SECONDS + 60)) sh "$ROOT/fuzz/run.sh" "$bin" >"$out" 2>&1
	rc=$?
	summary=$(grep -m 1 "^$name: execs" "$out")
	execs=$(echo "$summary" | sed -n 's/.*execs \([0-9]*\).*/\1/p')
	if [ "$rc" -ne 0 ]; then
		fail "fuzz/$name" "exit status $rc: ${summary:-no summary}" "$out"
	elif [ -z "$execs" ] || [ "$execs" -lt 100 ]; then
		fail "fuzz/$name" "ran only ${execs:-no} inputs: ${summary:-no summary}" "$out"
	else
		PASS=$((PASS + 1))
		echo "ok fuzz/$name (${summary#"$name": })"
	fi
done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
