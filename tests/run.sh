#!/bin/sh
# tests/run.sh — runs athttp's tests and ends with one line "N passed, N failed".
#
#   sh tests/run.sh [--unit-only | --e2e-only] [UNIT-TEST-BINARY...]
#
# Unit tests: each binary given is a cmocka program; its stderr summary lines
# "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:" are
# added up.  A binary that exits nonzero without reporting a failed test (a
# crash, an abort, a timeout) counts as one failed test; so does one that
# reports nothing at all.
# End-to-end tests: every tests/e2e/test_*.sh, run with bash; each prints
# "ok <case>" and "fail <case>: <reason>" lines (details follow a fail on
# lines starting with "#").  A script that exits nonzero without a fail line,
# or prints no result at all, counts as one failure.
# Exit status: 1 if anything failed or nothing ran, else 0.
#
# Environment: BUILD (build dir, default build), UNIT_TIMEOUT (s, default 300),
# E2E_TIMEOUT (s per script, default 1800), E2E_ONLY_SCRIPTS (space-separated
# script paths to run instead of all).

mode=all
case ${1-} in
--unit-only) mode=unit; shift ;;
--e2e-only) mode=e2e; shift ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:=build}"
export BUILD
: "${UNIT_TIMEOUT:=300}"
: "${E2E_TIMEOUT:=1800}"

work=$(mktemp -d "${TMPDIR:-/tmp}/athttp-run.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
details=$work/details
: >"$details"

passed=0
failed=0

# ------------------------------------------------------------ unit tests
run_unit() {
	bin=$1
	name=${bin##*/}
	log=$work/unit.log
	if [ ! -x "$bin" ]; then
		echo "fail unit/$name: not an executable file: $bin"
		echo "fail unit/$name: not an executable file: $bin" >>"$details"
		failed=$((failed + 1))
		return
	fi
	unset CMOCKA_MESSAGE_OUTPUT CMOCKA_XML_FILE
	timeout -k 5 "$UNIT_TIMEOUT" "$bin" >"$log" 2>&1 </dev/null
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	seen=$(grep -c '^\[  \(PASSED\|FAILED\)  \] [0-9][0-9]* test' "$log")
	why=
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		case $rc in
		124 | 137) why="timed out after ${UNIT_TIMEOUT}s" ;;
		*) if [ "$rc" -gt 128 ]; then why="killed by signal $((rc - 128))"; else why="exit status $rc"; fi ;;
		esac
		[ "$seen" -eq 0 ] && why="$why, no cmocka summary" || why="$why after its summary"
	elif [ "$seen" -eq 0 ]; then
		f=1
		why="printed no cmocka summary (exit status $rc)"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -eq 0 ]; then
		echo "ok unit/$name ($p tests)"
	else
		echo "fail unit/$name: $p passed, $f failed${why:+ — $why}"
		{
			echo "fail unit/$name: $p passed, $f failed${why:+ — $why}"
			# the failing tests and cmocka's reasons, or the last lines
			grep -aE '^\[ +(FAILED|ERROR|LINE) +\]' "$log" | head -n 40 | sed 's/^/  /'
			echo "  last lines of output:"
			tail -n 15 "$log" | cut -c1-200 | sed 's/^/    /'
		} >>"$details"
	fi
}

if [ "$mode" != e2e ]; then
	for bin in "$@"; do
		run_unit "$bin"
	done
fi

# ------------------------------------------------------------ e2e tests
run_e2e() {
	script=$1
	name=${script##*/}
	name=${name%.sh}
	log=$work/e2e.log
	rcf=$work/e2e.rc
	echo "# $name"
	{
		timeout -k 10 "$E2E_TIMEOUT" bash "$script" </dev/null 2>&1
		echo $? >"$rcf"
	} | tee "$log"
	rc=$(cat "$rcf")
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^fail ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	# fail lines and their "#" detail lines
	awk '/^fail / { on = 1; print; next } on && /^#/ { print; next } { on = 0 }' "$log" >>"$details"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
		msg="fail e2e/$name: script exited with status $rc without a fail line"
		[ "$rc" -eq 124 ] && msg="fail e2e/$name: timed out after ${E2E_TIMEOUT}s"
		echo "$msg"
		{ echo "$msg"; tail -n 15 "$log" | sed 's/^/#   /'; } >>"$details"
	elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
		echo "fail e2e/$name: no results"
		{ echo "fail e2e/$name: no results"; tail -n 15 "$log" | sed 's/^/#   /'; } >>"$details"
	fi
}

if [ "$mode" != unit ]; then
	if [ -n "${E2E_ONLY_SCRIPTS:-}" ]; then
		scripts=$E2E_ONLY_SCRIPTS
	else
		scripts=$(ls "$here"/e2e/test_*.sh 2>/dev/null)
	fi
	for s in $scripts; do
		run_e2e "$s"
	done
fi

if [ -s "$details" ]; then
	echo
	echo "==== failures ===="
	cat "$details"
	echo
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
