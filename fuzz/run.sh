#!/bin/sh
# fuzz/run.sh — runs libFuzzer targets (built by `make fuzz-build`) and
# prints one line per target from libFuzzer's final stats:
#
#   fuzz_x: execs N, cov N, ft N, corpus N (+new), crashes N
#
#   sh fuzz/run.sh BINARY...
#
# Each starts from its seeds, fuzz/corpus/<target>/ and
# fuzz/regressions/<target>/, and the corpus of
# earlier runs, $BUILD/fuzz/corpus/<target>/, where new inputs go (the
# seeds are never written).  A crash, a leak, a timeout or a broken
# promise stops that target; its reproducer is left in
# $BUILD/fuzz/crashes/ and the exit status is 1.
#
# Environment: BUILD (default build); FUZZ_SECONDS (per target, default
# 60); FUZZ_RUNS (also: at most that many executions); FUZZ_FLAGS (more
# libFuzzer flags); FUZZ_CORPUS (where new inputs go instead of
# $BUILD/fuzz/corpus).

here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:=build}"
: "${FUZZ_SECONDS:=60}"
crashes=$BUILD/fuzz/crashes
mkdir -p "$crashes" || exit 1
bound="-max_total_time=$FUZZ_SECONDS${FUZZ_RUNS:+ -runs=$FUZZ_RUNS}"

status=0
for bin in "$@"; do
	name=${bin##*/}
	seeds=$here/corpus/$name
	corpus=${FUZZ_CORPUS:-$BUILD/fuzz/corpus}/$name
	log=$BUILD/fuzz/$name.log
	mkdir -p "$corpus" || exit 1
	if [ ! -d "$seeds" ]; then
		echo "$name: no seed corpus $seeds" >&2
		status=1
		continue
	fi
	before=$(ls "$crashes" | wc -l)
	# the inputs that once crashed it go along as seeds
	extra=
	[ -d "$here/regressions/$name" ] && extra=$here/regressions/$name
	dict=
	[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
	# -timeout: one input over 10 s is a hang; -rss_limit_mb: a leak
	# of the kind ASan cannot see.
	"$bin" $bound -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 $dict \
		-artifact_prefix="$crashes/$name-" ${FUZZ_FLAGS:-} "$corpus" "$seeds" $extra >"$log" 2>&1
	rc=$?
	after=$(ls "$crashes" | wc -l)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	newu=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)
	last=$(grep -a '^#[0-9]' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	echo "$name: execs ${execs:-?}, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} (+${newu:-?}), crashes $((after - before))"
	if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ]; then
		status=1
		echo "$name: FAILED (exit status $rc); reproducer(s) in $crashes, log $log:"
		grep -a -m 1 -A 30 -E '^==[0-9]+==ERROR|broken promise|runtime error|^==[0-9]+== ERROR' "$log" | sed 's/^/  /'
	fi
done
exit $status
