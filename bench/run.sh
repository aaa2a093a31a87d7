#!/bin/sh
# bench/run.sh — athttp's benchmarks (run by `make bench`, after the build).
#
#  (a) goodput: a 4 MB GET with curl through athttp and athttp-emu at
#      --baud 921600, as a fraction of the line rate (921600/10 bytes/s),
#      for each simcom variant;
#  (b) AT commands per GET once the session is up: the commands that a
#      second GET on one curl connection adds, listed;
#  (c) the preload library's cost on traffic it does not take: build/bench/
#      loopback (1000 loopback connect/write/read/close rounds) with and
#      without LD_PRELOAD, median of several runs;
#  (e) https: the same 4 MB GET over https (local TLS terminated by the
#      engine, the module's TLS to the origin, --module-ca), as a fraction
#      of the http GET's goodput in (a), per dialect (neoway, which cannot
#      verify, with --insecure-upstream);
#  (f) AT commands per small https GET once up, against the manual's minimum;
#  (g) the local handshake's cost: build/bench/tls_handshake (leaf minted,
#      then cached);
#  (h)-(j) athttpd, last (bench/daemon.sh, also runnable alone): AT commands
#      and wall time of one-shot curl runs with and without the daemon at a
#      real module's latency; 4 concurrent GETs' goodput through it against
#      one alone; its RSS idle and with 16 clients;
#  (k) every emulated fault, per dialect (bench/faults.sh, also runnable
#      alone): the time to the faulted request's outcome and to the next
#      byte-exact answer.
#
# Environment: BUILD, BENCH_MB (size of the GET, default 4), BENCH_REPS
# (loopback repetitions, default 21), BENCH_DIALECTS (default "simcom neoway
# httpcfg quectel onemo espat"), BENCH_VARIANTS (simcom's, default "sim7600
# a76xx"); bench/daemon.sh's BENCH_ONESHOTS, BENCH_DAEMON_FAMILIES and
# BENCH_DAEMON_SECTIONS.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

E2E_NAME=bench
E2E_ROUNDTRIP=0 # timing runs: no record-and-replay pass
. "$(cd "$(dirname "$0")" && pwd)/../tests/e2e/lib.sh"
MODEM=simcom
BENCH_MB=${BENCH_MB:-4}
BENCH_REPS=${BENCH_REPS:-21}
BENCH_VARIANTS=${BENCH_VARIANTS-sim7600 a76xx}
BENCH_DIALECTS=${BENCH_DIALECTS-simcom neoway httpcfg quectel onemo espat}
BAUD=921600
LINE_RATE=$((BAUD / 10))
LOOPBACK=$E2E_BUILD/bench/loopback
HANDSHAKE=$E2E_BUILD/bench/tls_handshake
HU=https://origin.test
# a 4 MB transfer at line rate takes 46 s: give it room
CLIENT_TIMEOUT=$((BENCH_MB * 1024 * 1024 / LINE_RATE * 3 + 60))

e2e_init
e2e_need_binaries || exit 1
[ -x "$LOOPBACK" ] || { echo "bench: $LOOPBACK is not built (make bench builds it)"; exit 1; }

head -c $((BENCH_MB * 1024 * 1024)) /dev/urandom >"$WWW/big.bin"
printf 'a small file\n' >"$WWW/a.txt"
printf 'another small file\n' >"$WWW/b.txt"
BIG_SHA=$(sha "$WWW/big.bin")
start_origin || exit 1
status=0
results=$TMP/results
: >"$results"
row() { printf "$@" | tee -a "$results"; }

echo "athttp benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs)"
echo

declare -A HTTP_BPS=()
# ATH_OPTS for a scheme: none for http; for https the family's roots, or,
# where the module cannot verify (neoway), the user's explicit consent.
scheme_opts() {
	ATH_OPTS=()
	[ "$1" = https ] || return 0
	ATH_OPTS=(--module-ca "$PKI_ROOT")
	[ "$MODEM" = neoway ] && ATH_OPTS+=(--insecure-upstream)
	return 0
}

# measure_get NAME BASE: the 4 MB GET through athttp on the running
# emulator (the first, small transfer brings the session up; the second is
# measured); sets G_BYTES, G_SECS, G_SHA (equal or DIFFERS), or prints the
# failure's row and returns 1.
measure_get() {
	local name=$1 base=$2 out=$TMP/out/big.${1//\//-}
	ath "bench/goodput-${name//\//-}" curl -sS -o /dev/null -o "$out" \
		-w '%{size_download} %{time_total}\n' "$base/a.txt" "$base/big.bin"
	set -- $(sed -n 2p "$OUT")
	if [ "$RC" != 0 ] || [ -z "${2:-}" ]; then
		row '  %-18s failed: curl exit %s %s\n' "$name" "$RC" "$(tail -n1 "$ERR")"
		status=1
		return 1
	fi
	G_BYTES=$1 G_SECS=$2 G_SHA=equal
	[ "$(sha "$out")" = "$BIG_SHA" ] || { G_SHA=DIFFERS; status=1; }
}

# commands_per_get BASE TARGETS: for each dialect, the commands that a
# second GET of a small file on one curl connection adds, against the
# manual's minimum in the associative array named TARGETS.
commands_per_get() {
	local base=$1 rc1 rc2 log1 log2
	local -n targets=$2
	for MODEM in $BENCH_DIALECTS; do
		echo "  $MODEM:"
		scheme_opts "${base%%:*}"
		start_emu || { status=1; continue; }
		ath "bench/one-${base%%:*}-$MODEM" curl -sS -o /dev/null "$base/a.txt"
		rc1=$RC log1=$EMU_LOG
		start_emu
		ath "bench/two-${base%%:*}-$MODEM" curl -sS -o /dev/null -o /dev/null "$base/a.txt" "$base/b.txt"
		rc2=$RC log2=$EMU_LOG
		if [ "$rc1" != 0 ] || [ "$rc2" != 0 ]; then
			row '    failed: curl exit %s / %s\n' "$rc1" "$rc2"
			status=1
			continue
		fi
		"$PY" "$E2E_ROOT/bench/commands_per_get.py" "$log1" "$log2" "${targets[$MODEM]:-}" | tee -a "$results"
	done
	ATH_OPTS=()
}

# ------------------------------------------------------------ (a) goodput
echo "(a) goodput: ${BENCH_MB} MB GET, curl, --baud $BAUD (line rate $LINE_RATE B/s)"
row '  %-18s %10s %9s %10s %9s %9s\n' dialect/variant bytes seconds 'B/s' 'of line' 'sha256'
for MODEM in $BENCH_DIALECTS; do
	variants=default
	[ "$MODEM" = simcom ] && variants=$BENCH_VARIANTS
	for v in $variants; do
		if [ "$v" = default ] || [ "$v" = sim7600 ]; then vargs=(); else vargs=(--variant "$v"); fi
		name=$MODEM
		[ "$v" = default ] || name=$MODEM/$v
		if ! start_emu --baud "$BAUD" "${vargs[@]}"; then
			row '  %-18s emulator did not start\n' "$name"
			status=1
			continue
		fi
		measure_get "$name" "$U" || continue
		awk -v v="$name" -v b="$G_BYTES" -v t="$G_SECS" -v lr="$LINE_RATE" -v ok="$G_SHA" 'BEGIN {
			printf "  %-18s %10d %9.2f %10.0f %8.1f%% %9s\n", v, b, t, b / t, 100 * b / t / lr, ok }' | tee -a "$results"
		[ "$v" = default ] || [ "$v" = sim7600 ] && HTTP_BPS[$MODEM]=$(awk -v b="$G_BYTES" -v t="$G_SECS" 'BEGIN { print b / t }')
	done
done
echo

# ------------------------------------------------------------ (b) commands per GET
# One curl, one GET; then one curl, two GETs on one connection.  The CMD
# lines the second log has beyond the first are the second GET's cost.
echo "(b) AT commands per GET of a small file, session up (curl url1 url2, keep-alive)"
# The manual's minimum per request once set up, per dialect.
declare -A TARGET=(
	[simcom]="HTTPPARA HTTPACTION HTTPHEAD HTTPREAD"
	[neoway]="HTTPSETUP HTTPACTION"
	[httpcfg]="HTTPURL HTTPGET HTTPREAD"
	[quectel]="QHTTPURL QHTTPGET QHTTPREAD"
	# one AT+MHTTPHEADER per header curl sends (User-Agent, Accept; the
	# module writes Host itself), on the instance the first GET created
	[onemo]="MHTTPHEADER MHTTPHEADER MHTTPREQUEST"
	[espat]="HTTPCLIENT"
)
# https once the module's TLS is set up: the same commands, the TLS ones
# only where the family has twins (neoway's S-commands).
declare -A HTTPS_TARGET=(
	[simcom]="HTTPPARA HTTPACTION HTTPHEAD HTTPREAD"
	[neoway]="HTTPSSETUP HTTPSACTION"
	[httpcfg]="HTTPURL HTTPGET HTTPREAD"
	[quectel]="QHTTPURL QHTTPGET QHTTPREAD"
	[onemo]="MHTTPHEADER MHTTPHEADER MHTTPREQUEST"
	[espat]="HTTPCLIENT"
)
commands_per_get "$U" TARGET
echo

# ------------------------------------------------------------ (d) recording
# --record must not change timing noticeably: the same GET at the same line
# rate, with and without a transcript being written.
echo "(d) recording's cost: 1 MB GET, curl, --baud $BAUD, with and without --record"
head -c $((1024 * 1024)) /dev/urandom >"$WWW/rec.bin"
MODEM=simcom
if start_emu --baud "$BAUD"; then
	for mode in plain record; do
		extra=()
		[ "$mode" = record ] && extra=(--record "$TMP/bench.at")
		ath_raw "bench/record-$mode" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" "${extra[@]}" -- \
			curl -sS -o /dev/null -o "$TMP/out/rec.$mode" -w '%{time_total}\n' "$U/a.txt" "$U/rec.bin"
		t=$(sed -n 2p "$OUT")
		if [ "$RC" != 0 ] || ! cmp -s "$TMP/out/rec.$mode" "$WWW/rec.bin"; then
			row '  %-8s failed (exit %s)\n' "$mode" "$RC"
			status=1
			continue
		fi
		eval "t_$mode=$t"
		row '  %-8s %8.2f s\n' "$mode" "$t"
	done
	[ -n "${t_plain:-}" ] && [ -n "${t_record:-}" ] && awk -v a="$t_plain" -v b="$t_record" -v l="$(grep -c '' "$TMP/bench.at")" 'BEGIN {
		printf "  recording adds %+.1f %% (transcript: %d lines)\n", (b - a) / a * 100, l }' | tee -a "$results"
fi
echo

# ------------------------------------------------------------ (e) https goodput
echo "(e) https goodput: ${BENCH_MB} MB GET, curl, --baud $BAUD, as a fraction of the http GET in (a) (target: 0.99)"
row '  %-18s %10s %9s %10s %9s %9s\n' dialect bytes seconds 'B/s' 'of http' 'sha256'
for MODEM in $BENCH_DIALECTS; do
	if ! start_emu --baud "$BAUD"; then
		row '  %-18s emulator did not start\n' "$MODEM"
		status=1
		continue
	fi
	scheme_opts https
	measure_get "https/$MODEM" "$HU" || continue
	awk -v v="$MODEM" -v b="$G_BYTES" -v t="$G_SECS" -v h="${HTTP_BPS[$MODEM]:-0}" -v ok="$G_SHA" 'BEGIN {
		frac = "n/a"
		if (h > 0) frac = sprintf("%.3f", b / t / h)
		printf "  %-18s %10d %9.2f %10.0f %9s %9s\n", v, b, t, b / t, frac, ok }' | tee -a "$results"
done
ATH_OPTS=()
echo

# ------------------------------------------------------------ (f) commands per https GET
echo "(f) AT commands per https GET of a small file, session and module TLS up (curl url1 url2, keep-alive)"
commands_per_get "$HU" HTTPS_TARGET
echo

# ------------------------------------------------------------ (g) local handshake
echo "(g) the local TLS handshake (engine's server, a verifying mbedTLS client, socketpair)"
if [ -x "$HANDSHAKE" ]; then
	"$HANDSHAKE" 50 | sed 's/^/  /' | tee -a "$results"
	[ "${PIPESTATUS[0]}" = 0 ] || status=1
else
	row '  %s is not built (make bench builds it)\n' "$HANDSHAKE"
	status=1
fi
echo

# ------------------------------------------------------------ (c) preload cost
echo "(c) preload cost on loopback traffic: $BENCH_REPS runs of 1000 connect/write/read/close"
with=()
without=()
for ((i = 0; i < BENCH_REPS; i++)); do
	t=$("$LOOPBACK" 1000 | sed -n 's/.* in \([0-9.]*\) ms.*/\1/p')
	without+=("${t:-nan}")
	t=$(ATHTTP_DEVICE=$TMP/no-such-tty ATHTTP_MODEM=simcom LD_PRELOAD=$PRELOAD_SO \
		"$LOOPBACK" 1000 | sed -n 's/.* in \([0-9.]*\) ms.*/\1/p')
	with+=("${t:-nan}")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# The fastest run is the one least disturbed by the rest of the machine:
# its difference is the closest to the library's own cost.
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
m0=$(median "${without[@]}")
m1=$(median "${with[@]}")
n0=$(minimum "${without[@]}")
n1=$(minimum "${with[@]}")
row '  %-16s %s\n' "without (ms):" "${without[*]}"
row '  %-16s %s\n' "with (ms):" "${with[*]}"
awk -v a="$m0" -v b="$m1" 'BEGIN {
	printf "  median without %.2f ms, with %.2f ms: overhead %+.1f %%\n", a, b, (b - a) / a * 100 }' | tee -a "$results"
awk -v a="$n0" -v b="$n1" 'BEGIN {
	printf "  fastest without %.2f ms, with %.2f ms: overhead %+.1f %% (target: under 3 %%)\n", a, b, (b - a) / a * 100 }' | tee -a "$results"
case "${with[*]} ${without[*]}" in *nan*) status=1 ;; esac
echo
stop_emu

# ------------------------------------------------------------ (h)-(j) athttpd
# Its own origin, emulators and daemons; the same build and sizes.
BUILD=$E2E_BUILD BENCH_MB=$BENCH_MB bash "$E2E_ROOT/bench/daemon.sh" || status=1

# ------------------------------------------------------------ (k) faults
echo
BUILD=$E2E_BUILD bash "$E2E_ROOT/bench/faults.sh" || status=1

# ------------------------------------------------------------ the soak
echo
BUILD=$E2E_BUILD bash "$E2E_ROOT/bench/soak.sh" || status=1
exit $status
