#!/bin/bash
# athttpd: one module, many programs.  Through one daemon and one emulated
# SIMCom module: 16 programs at once (curl, wget, python; small and 1 MB
# bodies), every body sha256-exact, none hanging, none starved; a one-shot
# curl through the running daemon sends only its request's commands; the
# socket's mode and peer check (a user outside allow_users refused at
# connect, let in after SIGHUP rereads the config); STATUS and CA; the idle
# health probe; a module reset mid-body (a cut, never wrong bytes; the next
# request served); a daemon restart while clients run (clean errors, the
# next ones served); SIGTERM puts the module back (teardown) and removes
# the socket; a bad command line exits 2.
#
# Fair share (the starvation bound): program j makes k_j requests, each
# taking s_j when it runs alone through the daemon (measured here first).
# The module serves one request at a time, round-robin by request across
# programs, so by the time program i's k_i-th request is done every program
# j has had at most min(k_j, k_i) requests served: i's fair share is
# F_i = sum_j min(k_j, k_i) * s_j, and each program must finish within 2 F_i
# of the common start.
E2E_NAME=daemon
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }
ATHTTPD=${E2E_ATHTTPD:-$E2E_BUILD/bin/athttpd}
if [ ! -x "$ATHTTPD" ]; then
	echo "fail daemon/setup: not built: ${ATHTTPD#"$E2E_ROOT"/} (run make)"
	exit 1
fi
gen_files
head -c $((1024 * 1024)) "$WWW/big.bin" >"$WWW/mb1.bin"
MB1_SHA=$(sha "$WWW/mb1.bin")
start_origin || { e2e_done; exit 1; }
MODEM=simcom
start_emu || { e2e_done; exit 1; }

export ATHTTP_SYSCONFDIR=$TMP/etc XDG_CONFIG_HOME=$TMP/xdg ATHTTP_CA_DIR=$TMP/ca
mkdir -p "$TMP/etc" "$TMP/xdg" "$TMP/run"
SOCK=$TMP/run/athttpd.sock
. "$(dirname "$0")/daemon_lib.sh"

# write_conf [KEY=VALUE...]: the daemon's config file.
write_conf() {
	local kv
	{
		echo "# athttpd test config"
		echo "trace = $TMP/daemon.trace"
		# The emulator's network accepts this APN; a module that resets
		# loses its context, and the daemon defines it again.
		echo "apn = internet"
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >"$TMP/athttpd.conf"
}

# client KIND URL OUT: one program through the daemon (the wrapper, the
# preload library, ATHTTP_SOCKET), its body in OUT; exit status returned.
client() {
	local kind=$1 url=$2 out=$3
	local -a cmd
	# curl and wget hang under a preloaded libasan (see matrix.sh): python
	# stands in for them there.
	[ "$E2E_SAN" = address ] && kind=python
	case $kind in
	curl) cmd=(curl -sS -o "$out" "$url") ;;
	wget) cmd=(wget -q --tries=1 --timeout=50 --no-config -O "$out" "$url") ;;
	python) cmd=("$PY" "$E2E_ROOT/tests/e2e/httpc.py" -o "$out" "$url") ;;
	esac
	(cd "$TMP/cwd" && exec env "${E2E_SAN_ENV[@]}" ATHTTP_SOCKET="$SOCK" \
		timeout -k 5 "$CLIENT_TIMEOUT" "$ATHTTP" -d "$TMP/tty" -m simcom -- "${cmd[@]}") \
		>"$out.stdout" 2>"$out.stderr" </dev/null
}

now() { date +%s.%N; }

# ------------------------------------------------------------ the daemon
write_conf
CASE=daemon/bad-command-line
"$ATHTTPD" --no-such-flag >"$TMP/bad.out" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q '^usage: athttpd' "$TMP/bad.out"; then
	pass "exit 2 with the usage"
else
	fail "exit $rc: $(head -c 200 "$TMP/bad.out")"
fi

# The man page (tests/e2e/test_man.sh covers section 1): it lints clean,
# and its option items are exactly the options --help prints.
PAGE8=$E2E_ROOT/man/athttpd.8
CASE=daemon/man/lint
if ! command -v mandoc >/dev/null; then
	fail "mandoc is not installed (apt-get install mandoc)"
elif out=$(mandoc -Tlint -W warning "$PAGE8" 2>&1) && [ -z "$out" ]; then
	pass
else
	fail "mandoc -Tlint: $(echo "$out" | head -n 3 | tr '\n' ' ')"
fi
CASE=daemon/man/options
"$ATHTTPD" --help >"$TMP/athttpd.help" 2>&1
grep -oE '(^|[][ ,|(])--?[a-zA-Z][a-zA-Z0-9-]*' "$TMP/athttpd.help" | sed -E 's/^[][ ,|(]//' |
	grep -v '^-$' | sort -u >"$TMP/help.opts"
awk '/^\.Sh / { sec = substr($0, 5) } sec == "OPTIONS" && /^\.It / {
	for (i = 2; i <= NF; i++) if ($(i - 1) == "Fl" || ($(i - 1) == ".It" && $i == "Fl")) if ($i != "Fl") print "-" $i }' \
	"$PAGE8" | sort -u >"$TMP/page.opts"
if [ -s "$TMP/help.opts" ] && cmp -s "$TMP/help.opts" "$TMP/page.opts"; then
	pass "$(wc -l <"$TMP/help.opts") options"
else
	fail "--help and the page differ (< help, > page): $(diff "$TMP/help.opts" "$TMP/page.opts" | grep '^[<>]' | tr '\n' ' ')"
fi

start_daemon --probe-ms 600000 || { e2e_done; exit 1; }

CASE=daemon/socket-mode
mode=$(stat -c %a "$SOCK")
if [ "$mode" = 660 ]; then pass "socket mode 0660"; else fail "socket mode $mode"; fi

# One alone first: the module is brought up by the daemon, not by it.
mkdir -p "$TMP/conc"
CASE=daemon/first-request
client curl "$U/small.txt" "$TMP/conc/first"
rc=$?
if [ "$rc" = 0 ] && [ "$(sha "$TMP/conc/first")" = "$SMALL_SHA" ]; then
	pass
else
	fail "exit $rc, $(head -c 300 "$TMP/conc/first.stderr")"
fi

# ---------------------------------------------------- one-shot: minimal
# The module is up: a one-shot curl must cost only its request's commands.
CASE=daemon/one-shot-minimal
mark_logs
client curl "$U/small.txt" "$TMP/conc/oneshot"
rc=$?
cmds=$(emu_cmds)
bad=$(printf '%s\n' "$cmds" | grep -E '^(AT|ATE0|ATE1|AT\+HTTPINIT|AT\+HTTPTERM|AT\+CPIN\?|AT\+C[EG]?REG\?)$' | head -n 3)
if [ "$rc" != 0 ] || [ "$(sha "$TMP/conc/oneshot")" != "$SMALL_SHA" ]; then
	fail "exit $rc, body $(fsize "$TMP/conc/oneshot" 2>/dev/null) bytes: $(head -c 200 "$TMP/conc/oneshot.stderr")"
elif [ -n "$bad" ]; then
	fail "bring-up commands sent for a one-shot request: $(echo $bad)"
elif ! printf '%s\n' "$cmds" | grep -q '^AT+HTTPACTION=0$'; then
	fail "no AT+HTTPACTION=0 in the emulator log: $(echo $cmds)"
else
	ONESHOT_CMDS=$cmds
	pass "$(printf '%s\n' "$cmds" | grep -c .) commands: $(echo $cmds | cut -c1-160)"
fi
# The same request again costs exactly the same commands (nothing left
# over from the first, nothing set up again).
CASE=daemon/one-shot-stable
mark_logs
client curl "$U/small.txt" "$TMP/conc/oneshot2"
if [ -n "${ONESHOT_CMDS:-}" ] && [ "$(emu_cmds)" = "$ONESHOT_CMDS" ]; then
	pass
else
	fail "second one-shot sent: $(emu_cmds | tr '\n' ' ' | cut -c1-300)"
fi

# ---------------------------------------------------- 16 programs at once
# Alone times first (s_j of the fair share), one per kind and size.
declare -A ALONE
for kind in curl wget python; do
	for size in small mb1; do
		case $size in small) url=$U/small.txt ;; mb1) url=$U/mb1.bin ;; esac
		t0=$(now)
		client "$kind" "$url" "$TMP/conc/alone-$kind-$size"
		t1=$(now)
		ALONE[$kind-$size]=$(echo "$t1 - $t0" | bc -l)
	done
done
# 8 programs make two 1 MB requests each, 8 make one small request.
PROGS=()
for kind in curl curl curl wget wget wget python python; do PROGS+=("$kind mb1 2"); done
for kind in curl curl curl wget wget wget python python; do PROGS+=("$kind small 1"); done
program() { # INDEX KIND SIZE K
	local i=$1 kind=$2 size=$3 k=$4 r rc=0 url
	case $size in small) url=$U/small.txt ;; mb1) url=$U/mb1.bin ;; esac
	for ((r = 1; r <= k; r++)); do
		client "$kind" "$url" "$TMP/conc/p$i.$r" || rc=$?
	done
	echo "$rc $(now)" >"$TMP/conc/p$i.done"
}
mark_logs
T0=$(now)
pids=()
for i in "${!PROGS[@]}"; do
	program "$i" ${PROGS[$i]} &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
T1=$(now)
for i in "${!PROGS[@]}"; do
	read -r kind size k <<<"${PROGS[$i]}"
	CASE=daemon/concurrent/p$i-$kind-$size-x$k
	want=$SMALL_SHA
	[ "$size" = mb1 ] && want=$MB1_SHA
	if [ ! -s "$TMP/conc/p$i.done" ]; then
		fail "never finished"
		continue
	fi
	read -r rc tend <"$TMP/conc/p$i.done"
	bad=
	for ((r = 1; r <= k; r++)); do
		[ "$(sha "$TMP/conc/p$i.$r" 2>/dev/null)" = "$want" ] || bad="$bad request $r ($(fsize "$TMP/conc/p$i.$r" 2>/dev/null || echo no) bytes: $(head -c 150 "$TMP/conc/p$i.$r.stderr"))"
	done
	# F_i = sum_j min(k_j, k_i) * s_j
	share=0
	for j in "${!PROGS[@]}"; do
		read -r jk js jn <<<"${PROGS[$j]}"
		m=$((jn < k ? jn : k))
		share=$(echo "$share + $m * ${ALONE[$jk-$js]}" | bc -l)
	done
	took=$(echo "$tend - $T0" | bc -l)
	if [ "$rc" != 0 ] || [ -n "$bad" ]; then
		fail "exit $rc;$bad"
	elif [ "$(echo "$took > 2 * $share" | bc -l)" = 1 ]; then
		fail "starved: finished after $(printf %.2f "$took") s, fair share $(printf %.2f "$share") s"
	else
		pass "$(printf %.2f "$took") s, fair share $(printf %.2f "$share") s"
	fi
done
CASE=daemon/concurrent/one-exchange-at-a-time
# The emulator answers a command sent before the previous one's final
# result with ERROR: none may have been refused for that.
if emu_since | grep -q 'previous command\|busy'; then
	fail "the emulator saw overlapping commands: $(emu_since | grep -m1 'previous command\|busy' | cut -c1-120)"
else
	pass "16 programs in $(printf %.2f "$(echo "$T1 - $T0" | bc -l)") s"
fi

# ---------------------------------------------------- STATUS and CA
CASE=daemon/status-json
out=$(dproto "$SOCK" "ATHTTP/1 STATUS json")
if printf '%s\n' "$out" | head -n 1 | grep -q '^ATHTTP/1 200' &&
	printf '%s\n' "$out" | sed 1d | "$PY" -c '
import json, sys
st = json.load(sys.stdin)
n = st.get("requests")
sys.exit(0 if isinstance(n, int) and n >= 24 else 1)'; then
	pass
else
	fail "answer: $(printf '%s' "$out" | head -c 300)"
fi
CASE=daemon/ca
out=$(dproto "$SOCK" "ATHTTP/1 CA")
if printf '%s\n' "$out" | head -n 1 | grep -q '^ATHTTP/1 200' &&
	printf '%s\n' "$out" | sed 1d | cmp -s - "$TMP/ca/ca.pem"; then
	pass "the PEM of $TMP/ca/ca.pem"
else
	fail "answer: $(printf '%s' "$out" | head -c 200); ca dir: $(ls "$TMP/ca" 2>&1 | tr '\n' ' ')"
fi
CASE=daemon/bad-verb
out=$(dproto "$SOCK" "ATHTTP/1 FROB" line)
case $out in "ATHTTP/1 400"*) pass ;; *) fail "answer: $(printf '%s' "$out" | head -c 200)" ;; esac

# ---------------------------------------------------- who may connect
# The filesystem lets nobody reach the socket; the peer check must not.
chmod 711 "$TMP" "$TMP/run"
chmod 666 "$SOCK"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
CASE=daemon/allow/refused-at-connect
out=$(as_nobody timeout -k 2 15 "$PY" "$TMP/dproto.py" "$SOCK" "ATHTTP/1 CONNECT origin.test 80" line)
if printf '%s' "$out" | head -n 1 | grep -q '^ATHTTP/1 403'; then
	if grep -q 'refused uid 65534' "$DAEMON_LOG"; then
		pass "$(printf '%s' "$out" | head -n 1)"
	else
		fail "403 but the daemon did not log the refusal"
	fi
else
	fail "nobody got: $(printf '%s' "$out" | head -c 200)"
fi
CASE=daemon/allow/root-connects
out=$(dproto "$SOCK" "ATHTTP/1 CA" line)
case $out in "ATHTTP/1 200"*) pass ;; *) fail "root got: $(printf '%s' "$out" | head -c 200)" ;; esac
CASE=daemon/allow/sighup-lets-in
write_conf allow_users=nobody
kill -HUP "$DAEMON_PID"
for ((i = 0; i < 100; i++)); do
	grep -q 'config reloaded' "$DAEMON_LOG" && break
	sleep 0.05
done
out=$(as_nobody timeout -k 2 15 "$PY" "$TMP/dproto.py" "$SOCK" "ATHTTP/1 CA" line)
case $out in
"ATHTTP/1 200"*) pass "after SIGHUP with allow_users = nobody" ;;
*) fail "nobody after SIGHUP got: $(printf '%s' "$out" | head -c 200)" ;;
esac
write_conf
kill -HUP "$DAEMON_PID"
chmod 700 "$TMP"

# ---------------------------------------------------- SIGTERM
CASE=daemon/sigterm
mark_logs
stop_daemon
if [ "$DAEMON_RC" != 0 ]; then
	fail "athttpd exit $DAEMON_RC on SIGTERM: $(tail -n 3 "$DAEMON_LOG" | tr '\n' ' ')"
elif [ -e "$SOCK" ]; then
	fail "the socket is still there"
elif [ "$(emu_cmds '^AT\+HTTPTERM$' | wc -l)" -gt 0 ]; then
	pass "exit 0, socket removed, AT+HTTPTERM sent"
else
	fail "no AT+HTTPTERM at shutdown: $(emu_cmds | tr '\n' ' ' | cut -c1-200)"
fi

# ---------------------------------------------------- daemon restart
# A slower module (every answer 20 ms late) so that the restart comes while
# one transfer is on the line and others wait in the queue.
start_emu --latency-ms 20 || { e2e_done; exit 1; }
start_daemon --probe-ms 600000 || { e2e_done; exit 1; }
mkdir -p "$TMP/restart"
mark_logs
pids=()
for i in 0 1 2 3; do
	kind=curl
	[ "$i" = 1 ] && kind=wget
	[ "$i" = 2 ] && kind=python
	(client "$kind" "$U/mb1.bin" "$TMP/restart/r$i"; echo $? >"$TMP/restart/r$i.rc") &
	pids+=($!)
done
# Wait (bounded) until the module is sending a body, then restart.
for ((i = 0; i < 200; i++)); do
	[ "$(emu_cmds HTTPREAD | wc -l)" -gt 2 ] && break
	sleep 0.05
done
T_STOP=$(now)
stop_daemon
RESTART_RC=$DAEMON_RC
STOP_TOOK=$(echo "$(now) - $T_STOP" | bc -l)
start_daemon --probe-ms 600000
for p in "${pids[@]}"; do wait "$p"; done
cuts=0
for i in 0 1 2 3; do
	CASE=daemon/restart/in-flight-$i
	rc=$(cat "$TMP/restart/r$i.rc" 2>/dev/null)
	if [ "$rc" = 124 ] || [ -z "$rc" ]; then
		fail "hung (exit ${rc:-none})"
	elif [ "$(sha "$TMP/restart/r$i")" = "$MB1_SHA" ]; then
		[ "$rc" = 0 ] && pass "served in full (it was on the line)" || fail "the whole body, but exit $rc"
	elif [ "$(fsize "$TMP/restart/r$i")" -lt 200 ] && grep -q '^athttp: simcom the module is shutting down$' "$TMP/restart/r$i"; then
		# Queued behind the one on the line: an HTTP 503 naming the
		# shutdown (curl and python exit 0 on an HTTP error, wget 8).
		cuts=$((cuts + 1))
		pass "clean error: HTTP 503 \"$(cat "$TMP/restart/r$i")\", exit $rc"
	elif [ "$rc" = 0 ]; then
		fail "exit 0 with a wrong body ($(fsize "$TMP/restart/r$i") bytes)"
	else
		# A clean error: whatever arrived is the start of the right body.
		n=$(fsize "$TMP/restart/r$i" 2>/dev/null || echo 0)
		if [ "$n" = 0 ] || { [ "$n" -lt "$(fsize "$WWW/mb1.bin")" ] && cmp -s -n "$n" "$TMP/restart/r$i" "$WWW/mb1.bin"; }; then
			cuts=$((cuts + 1))
			pass "clean error: exit $rc after $n bytes"
		else
			fail "exit $rc with $n bytes that are not the body's start"
		fi
	fi
done
CASE=daemon/restart/someone-was-cut
# Else the restart came after everything and tested nothing.
[ "$cuts" -gt 0 ] && pass "$cuts of 4 cut" || fail "the restart cut no client"
CASE=daemon/restart/exit-0
if [ "$RESTART_RC" = 0 ]; then pass "exit 0 after $(printf %.2f "$STOP_TOOK") s"
else fail "athttpd exit $RESTART_RC on SIGTERM with clients running"; fi
CASE=daemon/restart/next-served
client python "$U/mb1.bin" "$TMP/restart/next"
rc=$?
if [ "$rc" = 0 ] && [ "$(sha "$TMP/restart/next")" = "$MB1_SHA" ]; then pass
else fail "exit $rc: $(head -c 200 "$TMP/restart/next.stderr")"; fi
stop_daemon
start_emu || { e2e_done; exit 1; }

# ---------------------------------------------------- health probe
start_daemon --probe-ms 300 || { e2e_done; exit 1; }
CASE=daemon/idle-probe
mark_logs
# Every 300 ms while idle: three within 5 s.
for ((i = 0; i < 100; i++)); do
	[ "$(emu_cmds '^AT$' | wc -l)" -ge 3 ] && break
	sleep 0.05
done
n=$(emu_cmds '^AT$' | wc -l)
if [ "$n" -ge 3 ]; then pass "$n AT probes while idle"; else fail "$n AT probes within 5 s"; fi
stop_daemon

# ---------------------------------------------------- -m auto, a stalled reader
start_daemon -m auto --probe-ms 600000 --send-timeout-ms 1000 || { e2e_done; exit 1; }
CASE=daemon/modem-auto
if grep -q 'found simcom' "$DAEMON_LOG"; then pass "$(grep -m1 'found simcom' "$DAEMON_LOG" | cut -c1-120)"
else fail "no 'found simcom' in the log: $(head -n 3 "$DAEMON_LOG" | tr '\n' ' ')"; fi
# A program that asks for 1 MB and never reads: the daemon's writes to it
# time out, the module is put back in step, and the next program is served.
cat >"$TMP/stall.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"ATHTTP/1 CONNECT origin.test 80\n")
line = b""
while not line.endswith(b"\n"):
    line += s.recv(1)
print(line.decode().strip(), flush=True)
s.sendall(b"GET /mb1.bin HTTP/1.1\r\nHost: origin.test\r\n\r\n")
time.sleep(float(sys.argv[2]))
PY
CASE=daemon/stalled-reader
timeout -k 2 20 "$PY" "$TMP/stall.py" "$SOCK" 12 >"$TMP/stall.out" 2>&1 &
stall=$!
for ((i = 0; i < 100; i++)); do
	[ "$(emu_cmds HTTPREAD | wc -l)" -gt 0 ] && break
	sleep 0.05
done
t0=$(now)
client curl "$U/small.txt" "$TMP/conc/after-stall"
rc=$?
took=$(echo "$(now) - $t0" | bc -l)
kill "$stall" 2>/dev/null
wait "$stall" 2>/dev/null
if [ "$rc" = 0 ] && [ "$(sha "$TMP/conc/after-stall")" = "$SMALL_SHA" ] &&
	[ "$(echo "$took < 10" | bc -l)" = 1 ]; then
	pass "served after $(printf %.2f "$took") s while the other stopped reading"
else
	fail "exit $rc after $(printf %.2f "$took") s: $(head -c 200 "$TMP/conc/after-stall.stderr"); stalled client: $(head -c 100 "$TMP/stall.out")"
fi
stop_daemon

# ---------------------------------------------------- module reset
start_emu --fault reset:1:20000 || { e2e_done; exit 1; }
start_daemon --probe-ms 600000 || { e2e_done; exit 1; }
mkdir -p "$TMP/reset"
CASE=daemon/reset/cut-mid-body
mark_logs
client curl "$U/mb1.bin" "$TMP/reset/a"
rc=$?
n=$(fsize "$TMP/reset/a" 2>/dev/null || echo 0)
if [ "$rc" = 0 ]; then
	fail "exit 0 with $n bytes (sha $( [ "$(sha "$TMP/reset/a")" = "$MB1_SHA" ] && echo right || echo WRONG)): the reset was not seen"
elif [ "$n" != 0 ] && { [ "$n" -ge "$(fsize "$WWW/mb1.bin")" ] || ! cmp -s -n "$n" "$TMP/reset/a" "$WWW/mb1.bin"; }; then
	fail "exit $rc with $n bytes that are not the body's start"
else
	pass "exit $rc after $n bytes"
fi
CASE=daemon/reset/next-served
client curl "$U/mb1.bin" "$TMP/reset/b"
rc=$?
if [ "$rc" = 0 ] && [ "$(sha "$TMP/reset/b")" = "$MB1_SHA" ] && [ "$(emu_cmds '^AT\+HTTPINIT$' | wc -l)" -gt 0 ]; then
	pass "served after a full bring-up"
else
	fail "exit $rc, $(fsize "$TMP/reset/b" 2>/dev/null) bytes: $(head -c 200 "$TMP/reset/b.stderr")"
fi
stop_daemon

# ---------------------------------------------------- no network
# The bring-up fails (registration never completes within its bound): the
# daemon keeps running and answers 503 naming the state, retrying.
start_emu --no-network || { e2e_done; exit 1; }
write_conf register_timeout_ms=1500
start_daemon --probe-ms 600000 || { e2e_done; exit 1; }
CASE=daemon/no-network
for ((i = 0; i < 200; i++)); do
	grep -q 'module down' "$DAEMON_LOG" && break
	sleep 0.05
done
out=$(dproto "$SOCK" "ATHTTP/1 CONNECT origin.test 80" line)
if printf '%s' "$out" | head -n 1 | grep -q '^ATHTTP/1 503 .*regist'; then
	pass "$(printf '%s' "$out" | head -n 1 | cut -c1-140)"
else
	fail "answer: $(printf '%s' "$out" | head -c 200); log: $(grep -m1 'module down' "$DAEMON_LOG")"
fi
CASE=daemon/no-network-still-running
if kill -0 "$DAEMON_PID" 2>/dev/null; then pass; else fail "athttpd exited"; fi
stop_daemon
write_conf

# Every daemon's log: no sanitizer report (sanitizer builds), no crash.
CASE=daemon/logs-clean
bad=$(grep -l 'Sanitizer\|runtime error:\|Segmentation' "$TMP"/athttpd.*.log 2>/dev/null | head -n 3)
if [ -z "$bad" ]; then
	pass "$DAEMON_N daemons"
else
	fail "reports in $(echo $bad): $(grep -h -m2 'Sanitizer\|runtime error:' $bad | cut -c1-160 | tr '\n' ' ')"
fi

chk_sanitizer_reports
e2e_done
