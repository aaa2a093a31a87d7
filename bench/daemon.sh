#!/bin/bash
# bench/daemon.sh — athttpd's benchmarks (the last sections of bench/run.sh;
# also alone: BUILD=... bash bench/daemon.sh).
#
#  (h) one-shot curl runs of a small file, each a new program, with the
#      engine in the program (every run brings the module up again) and
#      through a running athttpd (the module brought up once): AT commands
#      per run (counted from the emulator's --log) and in total, wall time
#      per run and in total; at --baud 115200 with a real module's latency
#      (50 ms per answer, and the family's slow command: SIMCom's HTTPINIT,
#      OneMO's MHTTPCREATE, Neoway's HTTPSETUP, 1 s each);
#  (i) goodput of 4 concurrent GETs of BENCH_MB MB through the daemon
#      against one alone (target: their sum within 2 % of the one), at
#      --baud 921600 like (a), every body's sha256 checked;
#  (j) the daemon's memory (VmRSS, VmHWM of /proc/PID/status): idle once
#      the module is up, and with 16 concurrent clients (8 small GETs,
#      8 of 1 MB), sampled while they run.
#
# Environment: BUILD, BENCH_MB (default 4), BENCH_ONESHOTS (runs per mode
# in (h), default 100), BENCH_DAEMON_FAMILIES (families in (h), default
# "simcom onemo"), BENCH_DAEMON_SECTIONS (default "h i j").
# Nothing sleeps and hopes: the daemon is waited for by its "module up"
# line with a deadline, every client runs under `timeout`.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

E2E_NAME=bench-daemon
E2E_ROUNDTRIP=0 # timing runs: no record-and-replay pass
. "$(cd "$(dirname "$0")" && pwd)/../tests/e2e/lib.sh"
BENCH_MB=${BENCH_MB:-4}
BENCH_ONESHOTS=${BENCH_ONESHOTS:-100}
BENCH_DAEMON_FAMILIES=${BENCH_DAEMON_FAMILIES-simcom onemo}
BENCH_DAEMON_SECTIONS=${BENCH_DAEMON_SECTIONS-h i j}
section() { case " $BENCH_DAEMON_SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
ATHTTPD=${E2E_ATHTTPD:-$E2E_BUILD/bin/athttpd}
FAST_BAUD=921600
FAST_RATE=$((FAST_BAUD / 10))
# the 4 GETs of (i) are served one after the other: the last one waits
# for three, then takes its own 46 s (4 MB at line rate)
CLIENT_TIMEOUT=$((BENCH_MB * 1024 * 1024 / FAST_RATE * 4 * 3 + 60))
DAEMON_UP_TIMEOUT=60

# The module's slow command per family, the one a program of its own
# pays again every run (the service start or the instance it needs).
declare -A SLOW_CMD=(
	[simcom]=+HTTPINIT
	[onemo]=+MHTTPCREATE
	[neoway]=+HTTPSETUP
)
SLOW_MS=1000
LATENCY_MS=50
SLOW_BAUD=115200

e2e_init
e2e_need_binaries || exit 1
[ -x "$ATHTTPD" ] || { echo "bench: $ATHTTPD is not built (make builds it)"; exit 1; }
# Nothing of the user's may take part: no config files, no default socket.
export ATHTTP_SYSCONFDIR=$TMP/etc XDG_CONFIG_HOME=$TMP/xdg ATHTTP_RUN_DIR=$TMP/run \
	ATHTTP_CA_DIR=$TMP/ca
mkdir -p "$TMP/etc" "$TMP/xdg" "$TMP/run" "$TMP/ca"
printf '# athttpd bench: defaults only\n' >"$TMP/athttpd.conf"
SOCK=$TMP/run/bench.sock

printf 'a small file\n' >"$WWW/a.txt"
head -c $((BENCH_MB * 1024 * 1024)) /dev/urandom >"$WWW/big.bin"
head -c $((1024 * 1024)) /dev/urandom >"$WWW/mb1.bin"
SMALL_SHA=$(sha "$WWW/a.txt")
BIG_SHA=$(sha "$WWW/big.bin")
MB1_SHA=$(sha "$WWW/mb1.bin")
start_origin || exit 1
status=0
row() { printf "$@"; }
now() { date +%s.%N; }
# words LINES: the lines on one line (no word splitting, no globbing:
# commands like AT+CPIN? are patterns)
words() { printf '%s' "$1" | tr '\n' ' '; }

# start_daemon: athttpd -f on the running emulator and $SOCK; waits (at
# most DAEMON_UP_TIMEOUT s) for its "module up" line.  DAEMON_PID, and the
# emulator's commands of the bring-up in BRINGUP_CMDS, its time in
# BRINGUP_SECS.
start_daemon() {
	local t0 t1
	DAEMON_LOG=$TMP/athttpd.$EMU_N.log
	rm -f "$SOCK"
	mark_logs
	t0=$(now)
	if ! START_TIMEOUT=$DAEMON_UP_TIMEOUT bg_start "athttpd: module up" "$DAEMON_LOG" \
		bash -c 'exec "$0" "$@" 2>&1' "$ATHTTPD" -f -d "$TMP/tty" -m "$MODEM" \
		-c "$TMP/athttpd.conf" --socket "$SOCK" --probe-ms 600000; then
		row '  athttpd -m %s: no "module up" within %d s:\n' "$MODEM" "$DAEMON_UP_TIMEOUT"
		tail -n 5 "$DAEMON_LOG" | sed 's/^/    /'
		[ -n "${BG_PID:-}" ] && stop_pid "$BG_PID"
		DAEMON_PID=
		status=1
		return 1
	fi
	t1=$(now)
	DAEMON_PID=$BG_PID
	BRINGUP_CMDS=$(emu_cmds)
	BRINGUP_SECS=$(echo "$t1 - $t0" | bc -l)
}

stop_daemon() {
	[ -n "${DAEMON_PID:-}" ] || return 0
	stop_pid "$DAEMON_PID"
	DAEMON_PID=
}

# daemon_requests: the request counter of the daemon's STATUS json (asks
# the module for its status: only after a measurement).
daemon_requests() {
	timeout -k 2 15 "$PY" - "$SOCK" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"ATHTTP/1 STATUS json\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\n")
print(json.loads(body).get("requests", "?") if head.startswith(b"ATHTTP/1 200") else "?")
PY
}

# vm FIELD: the daemon's VmRSS or VmHWM in kB.
vm() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null; }

# dclient URL OUT: curl through the wrapper and the daemon's socket (no
# fallback to the engine in process: an explicit socket that does not
# answer is an error); the body in OUT, "SIZE TIME_TOTAL" in OUT.w;
# exit status returned.
dclient() {
	local url=$1 out=$2
	(cd "$TMP/cwd" && exec env "${E2E_SAN_ENV[@]}" ATHTTP_SOCKET="$SOCK" \
		timeout -k 5 "$CLIENT_TIMEOUT" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- \
		curl -sS -o "$out" -w '%{size_download} %{time_total}\n' "$url") \
		>"$out.w" 2>"$out.err" </dev/null
}

# ------------------------------------------------------------ (h) one-shots
# oneshots MODE: BENCH_ONESHOTS runs, each its own curl through the wrapper;
# MODE inprocess (the engine in the program) or daemon.  Sets N_OK,
# CMDS_TOTAL, WALL_TOTAL, PER_RUN (counts, one a line), FIRST_CMDS,
# LAST_CMDS.
oneshots() {
	local mode=$1 i t0 t1 n out=$TMP/out/oneshot
	local -a envs=()
	[ "$mode" = daemon ] && envs=(ATHTTP_SOCKET="$SOCK")
	N_OK=0 CMDS_TOTAL=0 WALL_TOTAL=0 PER_RUN= FIRST_CMDS= LAST_CMDS=
	for ((i = 1; i <= BENCH_ONESHOTS; i++)); do
		rm -f "$out"
		t0=$(now)
		ATH_NO_TRACE=1 ath_raw "bench/oneshot-$mode" env "${envs[@]}" \
			"$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- curl -sS -o "$out" "$U/a.txt"
		t1=$(now)
		WALL_TOTAL=$(echo "$WALL_TOTAL + $t1 - $t0" | bc -l)
		cmds=$(emu_cmds)
		n=$(printf '%s' "$cmds" | grep -c '')
		CMDS_TOTAL=$((CMDS_TOTAL + n))
		PER_RUN+="$n"$'\n'
		[ "$i" = 1 ] && FIRST_CMDS=$cmds
		LAST_CMDS=$cmds
		if [ "$RC" = 0 ] && [ -f "$out" ] && [ "$(sha "$out")" = "$SMALL_SHA" ]; then
			N_OK=$((N_OK + 1))
		elif [ -z "${ONESHOT_FAIL_SHOWN:-}" ]; then
			row '    run %d failed: exit %s, %s\n' "$i" "$RC" "$(tail -n 1 "$ERR" | cut -c1-150)"
			ONESHOT_FAIL_SHOWN=1
		fi
	done
	[ "$N_OK" = "$BENCH_ONESHOTS" ] || status=1
}

# histogram: "7 commands x99, 9 commands x1" from PER_RUN.
histogram() {
	printf '%s' "$PER_RUN" | sort -n | uniq -c | awk '{ printf "%s%d x%d", sep, $2, $1; sep = ", " }'
}

oneshot_row() { # MODE
	row '  %-11s %4d/%-4d %10d %8.2f  %9.2f %8.3f  per run: %s\n' "$1" "$N_OK" "$BENCH_ONESHOTS" \
		"$CMDS_TOTAL" "$(echo "$CMDS_TOTAL / $BENCH_ONESHOTS" | bc -l)" "$WALL_TOTAL" \
		"$(echo "$WALL_TOTAL / $BENCH_ONESHOTS" | bc -l)" "$(histogram)"
}

section h && {
echo "(h) $BENCH_ONESHOTS one-shot curl runs of a small file, --baud $SLOW_BAUD, --latency-ms $LATENCY_MS,"
echo "    in process (each run brings the module up) and through athttpd (brought up once)"
for MODEM in $BENCH_DAEMON_FAMILIES; do
	slow=${SLOW_CMD[$MODEM]:-}
	if [ -z "$slow" ]; then
		row '  %s: no slow command known for this family (known: %s)\n' "$MODEM" "${!SLOW_CMD[*]}"
		status=1
		continue
	fi
	emu_opts=(--baud "$SLOW_BAUD" --latency-ms "$LATENCY_MS" --cmd-latency "$slow=$SLOW_MS")
	echo "  $MODEM, athttp-emu ${emu_opts[*]}:"
	row '  %-11s %9s %10s %8s  %9s %8s\n' mode 'ok/runs' 'AT cmds' 'cmds/run' 'wall s' 's/run'
	start_emu "${emu_opts[@]}" || { status=1; continue; }
	ONESHOT_FAIL_SHOWN=
	oneshots inprocess
	oneshot_row "in process"
	ip_cmds=$CMDS_TOTAL ip_wall=$WALL_TOTAL ip_first=$FIRST_CMDS ip_last=$LAST_CMDS
	# The daemon on a module in the same state as the first in-process
	# run found (a new emulator).
	start_emu "${emu_opts[@]}" || { status=1; continue; }
	start_daemon || continue
	ONESHOT_FAIL_SHOWN=
	oneshots daemon
	oneshot_row "athttpd"
	d_cmds=$CMDS_TOTAL d_wall=$WALL_TOTAL d_first=$FIRST_CMDS d_last=$LAST_CMDS
	served=$(daemon_requests)
	stop_daemon
	served=${served:-?}
	if [ "$served" != ? ] && [ "$served" -lt "$BENCH_ONESHOTS" ]; then
		row '  the daemon served only %s requests: the runs did not all go through it\n' "$served"
		status=1
	fi
	row '  athttpd bring-up, once: %d commands, %.2f s (%s)\n' "$(printf '%s' "$BRINGUP_CMDS" | grep -c '')" \
		"$BRINGUP_SECS" "$(words "$BRINGUP_CMDS" | cut -c1-200)"
	row '  in process, first run: %s\n' "$(words "$ip_first" | cut -c1-400)"
	row '  in process, last run:  %s\n' "$(words "$ip_last" | cut -c1-400)"
	row '  athttpd, first run:    %s\n' "$(words "$d_first" | cut -c1-400)"
	row '  athttpd, last run:     %s\n' "$(words "$d_last" | cut -c1-400)"
	awk -v a="$ip_cmds" -v b="$d_cmds" -v ta="$ip_wall" -v tb="$d_wall" -v n="$BENCH_ONESHOTS" 'BEGIN {
		printf "  athttpd saves %d commands (%.1f a run) and %.2f s (%.3f s a run, %.1fx faster)\n",
			a - b, (a - b) / n, ta - tb, (ta - tb) / n, (tb > 0 ? ta / tb : 0) }'
done
stop_emu
echo
}

# ------------------------------------------------------------ (i) concurrent goodput
MODEM=simcom
section i && {
echo "(i) goodput through athttpd: 4 concurrent ${BENCH_MB} MB GETs against one alone, curl, --baud $FAST_BAUD (line rate $FAST_RATE B/s)"
if start_emu --baud "$FAST_BAUD" && start_daemon; then
	out=$TMP/out/goodput
	dclient "$U/a.txt" "$out.warm" # the request path's own set-up, once
	t0=$(now)
	dclient "$U/big.bin" "$out.alone"
	rc=$?
	t1=$(now)
	read -r bytes _ <"$out.alone.w" 2>/dev/null
	if [ "$rc" != 0 ] || [ "$(sha "$out.alone")" != "$BIG_SHA" ]; then
		row '  alone: failed (exit %s, %s bytes): %s\n' "$rc" "${bytes:-no}" "$(tail -n 1 "$out.alone.err")"
		status=1
	else
		single=$(echo "$bytes / ($t1 - $t0)" | bc -l)
		row '  %-12s %10s %9s %10s %9s %9s\n' '' bytes seconds 'B/s' 'of line' sha256
		row '  %-12s %10d %9.2f %10.0f %8.1f%% %9s\n' alone "$bytes" "$(echo "$t1 - $t0" | bc -l)" \
			"$single" "$(echo "100 * $single / $FAST_RATE" | bc -l)" equal
		pids=()
		T0=$(now)
		for k in 1 2 3 4; do
			{ dclient "$U/big.bin" "$out.c$k"; echo "$? $(now)" >"$out.c$k.done"; } &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p"; done
		T1=$(now)
		total=0 bad=
		for k in 1 2 3 4; do
			read -r rc tend <"$out.c$k.done"
			read -r b tt <"$out.c$k.w" 2>/dev/null
			ok=equal
			if [ "$rc" != 0 ] || [ "$(sha "$out.c$k")" != "$BIG_SHA" ]; then
				ok=DIFFERS bad=1
				row '  client %d: exit %s, %s\n' "$k" "$rc" "$(tail -n 1 "$out.c$k.err" | cut -c1-150)"
			fi
			total=$((total + ${b:-0}))
			# each one's own goodput, and when it finished
			row '  %-12s %10d %9.2f %10.0f %9s %9s  (done at %.2f s)\n' "client $k" "${b:-0}" "${tt:-0}" \
				"$(echo "${b:-0} / ${tt:-1}" | bc -l)" '' "$ok" "$(echo "$tend - $T0" | bc -l)"
		done
		sum=$(echo "$total / ($T1 - $T0)" | bc -l)
		row '  %-12s %10d %9.2f %10.0f %8.1f%%\n' "4 together" "$total" "$(echo "$T1 - $T0" | bc -l)" \
			"$sum" "$(echo "100 * $sum / $FAST_RATE" | bc -l)"
		verdict=$(awk -v s="$sum" -v o="$single" 'BEGIN { r = s / o
			printf "%.4f %s", r, (r >= 0.98 ? "met" : "MISSED") }')
		row '  4 together / alone: %s (target: within 2 %%, at least 0.98)\n' "$verdict"
		case $verdict in *MISSED) status=1 ;; esac
		[ -z "$bad" ] || status=1
	fi
	stop_daemon
else
	status=1
fi
stop_emu
echo
}

# ------------------------------------------------------------ (j) memory
section j && {
echo "(j) athttpd's memory (/proc/PID/status): idle, then 16 concurrent clients (8 small GETs, 8 of 1 MB), --baud $FAST_BAUD"
if start_emu --baud "$FAST_BAUD" && start_daemon; then
	out=$TMP/out/rss
	idle_rss=$(vm VmRSS) idle_hwm=$(vm VmHWM)
	row '  %-34s VmRSS %6s kB  VmHWM %6s kB\n' "idle, module up" "$idle_rss" "$idle_hwm"
	pids=()
	for k in $(seq 1 16); do
		if [ "$k" -le 8 ]; then url=$U/a.txt; else url=$U/mb1.bin; fi
		{ dclient "$url" "$out.c$k"; echo $? >"$out.c$k.rc"; } &
		pids+=($!)
	done
	# Sample while any client runs (each is bounded by CLIENT_TIMEOUT).
	peak=0 samples=0 deadline=$((SECONDS + CLIENT_TIMEOUT + 10))
	while [ "$SECONDS" -lt "$deadline" ]; do
		alive=
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && { alive=1; break; }; done
		[ -n "$alive" ] || break
		r=$(vm VmRSS)
		[ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r
		samples=$((samples + 1))
		sleep 0.05
	done
	for p in "${pids[@]}"; do wait "$p"; done
	bad=0
	for k in $(seq 1 16); do
		want=$SMALL_SHA
		[ "$k" -le 8 ] || want=$MB1_SHA
		if [ "$(cat "$out.c$k.rc" 2>/dev/null)" != 0 ] || [ "$(sha "$out.c$k" 2>/dev/null)" != "$want" ]; then
			bad=$((bad + 1))
			[ "$bad" = 1 ] && row '  client %d failed: exit %s, %s\n' "$k" "$(cat "$out.c$k.rc" 2>/dev/null)" \
				"$(tail -n 1 "$out.c$k.err" | cut -c1-150)"
		fi
	done
	row '  %-34s VmRSS %6s kB  VmHWM %6s kB  (%d samples)\n' "16 clients: highest sampled" "$peak" "$(vm VmHWM)" "$samples"
	row '  %-34s VmRSS %6s kB\n' "idle again, after them" "$(vm VmRSS)"
	row '  16 bodies sha256-exact: %d of 16\n' $((16 - bad))
	[ "$bad" = 0 ] || status=1
	stop_daemon
else
	status=1
fi
stop_emu
echo
}
exit $status
