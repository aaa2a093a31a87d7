#!/bin/bash
# Programs that end put the module back; programs that die leave it to the
# next one's bring-up; a device the program may not open says why, once.
#
#   exit/MODEM/first-teardown   a program makes one request and exits: its
#                               last commands (emulator --log) are the
#                               teardown (simcom AT+HTTPTERM, onemo
#                               AT+MHTTPDEL of the instance it made), after
#                               its last request; the trace says "teardown
#                               done"
#   exit/MODEM/second-clean     the next program's bring-up meets a fresh
#                               module: simcom one AT+HTTPINIT and no
#                               AT+HTTPTERM before its request (no ERROR and
#                               retry), onemo no AT+MHTTPDEL before its
#                               AT+MHTTPCREATE
#   exit/MODEM/silent-teardown  the module does not answer the teardown
#                               (--cmd-latency 8 s): the program still ends
#                               within 3.5 s of its last answer
#   exit/simcom/idle-then-exit  the port's lock went idle (2 s) before the
#                               program ended: taken back, teardown done
#   exit/simcom/held-at-exit    another process (flock) holds the port when
#                               the program ends: nothing sent, the trace
#                               says why
#   exit/simcom/fork-child-exits a forked child that never used the module
#                               ends normally: it sends nothing; the parent
#                               goes on without a new bring-up, ends with
#                               one teardown
#   exit/MODEM/killed-mid-body  a program SIGKILLed while the body streams
#                               (emulator --baud) sends no teardown; the next
#                               program's bring-up puts the module back
#                               itself and its body comes byte-exact
#   exit/MODEM/exit-mid-body    a program that ends while its download still
#                               runs on another thread: no teardown under
#                               the exchange (the trace says so), the exit
#                               within 3.5 s, the next program byte-exact
#   exit/denied/two-connections as user nobody, a pty of mode 000: two
#                               connections in one process both answer 502
#                               with X-Athttp-Error naming the device, the
#                               user and the fixes; stderr has the line once,
#                               the trace has it
#   exit/missing/two-connections a device that does not exist: the same,
#                               naming where to look
# Every client is python (the same under ASan).
E2E_NAME=exit
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }
gen_files
start_origin || { e2e_done; exit 1; }
head -c $((192 * 1024)) /dev/urandom >"$WWW/slow.bin"
SLOW_SIZE=$(fsize "$WWW/slow.bin")

# The client: GETs each URL in turn in one process, one line each on
# stdout, "STATUS SHA256 X-Athttp-Error".  --pidfile F: its pid there
# first; --body F: each body written to F as it comes; --exit-after N: the
# downloads run on a daemon thread and the program ends once N bytes of
# body are in F; --wait-file F: at the end, waits (at most 20 s) for F
# to exist; --stamp F: the time (epoch seconds) it ends, into F.
cat >"$TMP/fetch.py" <<'PYEOF'
import hashlib, os, sys, threading, time, urllib.error, urllib.request
args = sys.argv[1:]
opt = {}
while args and args[0] in ("--pidfile", "--body", "--stamp", "--exit-after", "--wait-file"):
    opt[args[0]], args = args[1], args[2:]
if "--pidfile" in opt:
    with open(opt["--pidfile"], "w") as f:
        f.write("%d\n" % os.getpid())
body_path = opt.get("--body")

def get_all():
    for url in args:
        try:
            r = urllib.request.urlopen(url, timeout=50)
        except urllib.error.HTTPError as e:
            r = e
        h = hashlib.sha256()
        out = open(body_path, "wb") if body_path else None
        while True:
            piece = r.read(4096)
            if not piece:
                break
            h.update(piece)
            if out:
                out.write(piece)
                out.flush()
        if out:
            out.close()
        print(r.status, h.hexdigest(), r.headers.get("X-Athttp-Error", "-"), flush=True)

if "--exit-after" in opt:
    threading.Thread(target=get_all, daemon=True).start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if os.path.exists(body_path) and os.path.getsize(body_path) >= int(opt["--exit-after"]):
            break
        time.sleep(0.02)
else:
    get_all()
if "--wait-file" in opt:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not os.path.exists(opt["--wait-file"]):
        time.sleep(0.02)
if "--stamp" in opt:
    with open(opt["--stamp"], "w") as f:
        f.write("%.3f\n" % time.time())
PYEOF

# fetch CASE [fetch.py options] URL...: one program through athttp (the
# emulator at $TMP/tty).
fetch() {
	local case=$1
	shift
	ath_raw "$case" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- "$PY" "$TMP/fetch.py" "$@"
}

# chk_one_ok SHA: the program exited 0 with one 200 of that body.
chk_one_ok() {
	local want="200 $1 -"
	[ "$RC" = 0 ] && [ "$(cat "$OUT")" = "$want" ] ||
		fail "expected '$want' and exit 0, got '$(head -c 300 "$OUT")' (exit $RC)"
}

# chk_quick_exit STAMP ENDED: the program's process (athttp's child) ended
# within 3.5 s of the time in STAMP (its last Python statement); ENDED is
# when the wrapper had exited (epoch seconds).  The teardown's budget is
# 2 s; the rest is slack for a loaded machine.
chk_quick_exit() {
	local t0
	t0=$(cat "$1" 2>/dev/null)
	[ -n "$t0" ] || { fail "the program never reached its end (no stamp)"; return 1; }
	EXIT_S=$(awk -v a="$t0" -v b="$2" 'BEGIN { printf "%.2f", b - a }')
	awk -v d="$EXIT_S" 'BEGIN { exit !(d < 3.5) }' ||
		fail "the program took ${EXIT_S} s to end after its last statement (at most 3.5 s)"
}

# The teardown each dialect has, as the emulator logs it; the command a
# request begins with; the last command of a finished request; what a
# bring-up sends to put back what a killed program left.
declare -A TEARDOWN=([simcom]='^AT\+HTTPTERM$' [onemo]='^AT\+MHTTPDEL=[0-9]+$')
declare -A REQUEST_CMD=([simcom]='^AT\+HTTPACTION=' [onemo]='^AT\+MHTTPREQUEST=')
declare -A LAST_OF_REQUEST=([simcom]='^AT\+HTTPREAD=' [onemo]='^AT\+MHTTPREQUEST=')
declare -A RECOVERY=([simcom]='^AT\+HTTPTERM$' [onemo]='^AT\+MHTTPDEL=[0-9]+$')
declare -A SILENT=([simcom]='+HTTPTERM=8000' [onemo]='+MHTTPDEL=8000')

# cmds_before ERE: the commands since the mark up to (not with) the first
# one matching ERE.
cmds_before() { emu_cmds | awk -v re="$1" '$0 ~ re { exit } { print }'; }
# cmds_from ERE: those from the first one matching ERE on.
cmds_from() { emu_cmds | awk -v re="$1" '$0 ~ re { on = 1 } on { print }'; }

t_first_teardown() {
	local cmds last_req tail_cmds
	fetch "$P/first-teardown" "$U/small.txt"
	chk_one_ok "$SMALL_SHA" || return
	cmds=$(emu_cmds)
	last_req=$(printf '%s\n' "$cmds" | grep -n -E "${LAST_OF_REQUEST[$MODEM]}" | tail -n 1 | cut -d: -f1)
	tail_cmds=$(printf '%s\n' "$cmds" | tail -n +"$((${last_req:-0} + 1))")
	if [ -z "$last_req" ]; then
		fail "no request command in the emulator's log: $(echo $cmds | cut -c1-200)"
	elif ! printf '%s\n' "$tail_cmds" | grep -q -E "${TEARDOWN[$MODEM]}"; then
		fail "no teardown after the last request; the commands after it: '$(echo $tail_cmds)'"
	elif [ "$MODEM" = onemo ] && [ "$(printf '%s\n' "$tail_cmds" | grep -c -E '^AT\+MHTTPDEL=')" != 1 ]; then
		fail "expected one AT+MHTTPDEL (the one instance made), got: '$(echo $tail_cmds)'"
	elif ! grep -q 'teardown done' "$TRACE"; then
		fail "the trace does not say 'teardown done'"
	else
		pass "after the request: $(echo $tail_cmds)"
	fi
}

t_second_clean() {
	local before inits terms dels
	fetch "$P/second-clean" "$U/small.txt"
	chk_one_ok "$SMALL_SHA" || return
	before=$(cmds_before "${REQUEST_CMD[$MODEM]}")
	case $MODEM in
	simcom)
		inits=$(printf '%s\n' "$before" | grep -c -x 'AT+HTTPINIT')
		terms=$(printf '%s\n' "$before" | grep -c -x 'AT+HTTPTERM')
		if [ "$inits" != 1 ] || [ "$terms" != 0 ]; then
			fail "bring-up sent AT+HTTPINIT $inits times and AT+HTTPTERM $terms times (expected 1 and 0): '$(echo $before)'"
		else
			pass "bring-up: $(echo $before)"
		fi
		;;
	onemo)
		dels=$(printf '%s\n' "$before" | grep -E '^AT\+MHTTPDEL=' | tr '\n' ' ')
		if [ -n "$dels" ]; then
			fail "bring-up deleted instances the first program left: ${dels% }"
		else
			pass "bring-up: $(echo $before | cut -c1-160)"
		fi
		;;
	esac
}

t_silent_teardown() {
	start_emu --cmd-latency "${SILENT[$MODEM]}" || return
	rm -f "$TMP/silent.stamp"
	fetch "$P/silent-teardown" --stamp "$TMP/silent.stamp" "$U/small.txt"
	chk_one_ok "$SMALL_SHA" || return
	chk_quick_exit "$TMP/silent.stamp" "$(date +%s.%N)" || return
	if ! emu_cmds | grep -q -E "${TEARDOWN[$MODEM]}"; then
		fail "no teardown was sent: $(emu_cmds | tr '\n' ' ' | cut -c1-200)"
	elif ! grep -q 'teardown failed: no answer within the time allowed' "$TRACE"; then
		fail "the trace does not say the teardown ran out of time: $(grep -m1 teardown "$TRACE")"
	else
		pass "ended ${EXIT_S} s after its last statement; the module's answer was 8 s away"
	fi
}

# start_slow CASE [fetch.py options]: a program GETting slow.bin in the
# background (pid in $TMP/slow.pid, body in $TMP/slow.body), and waits (at
# most 20 s) for 16 KiB of its body.  Sets SLOW_WRAPPER, GOT.
start_slow() {
	local case=$1 i
	shift
	CASE=$case
	rm -f "$TMP/slow.pid" "$TMP/slow.body" "$TMP/slow.stamp"
	OUT=$TMP/out/${case//\//_}.out ERR=$TMP/out/${case//\//_}.err TRACE=$TMP/trace/${case//\//_}.trace RC=
	LAST_CMD="athttp -- fetch.py $* $U/slow.bin"
	mark_logs
	(cd "$TMP/cwd" && exec env "${E2E_SAN_ENV[@]}" ATHTTP_TRACE="$TRACE" \
		timeout -k 5 "$CLIENT_TIMEOUT" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- \
		"$PY" "$TMP/fetch.py" --pidfile "$TMP/slow.pid" --body "$TMP/slow.body" "$@" "$U/slow.bin") \
		>"$OUT" 2>"$ERR" </dev/null &
	SLOW_WRAPPER=$!
	GOT=0
	for ((i = 0; i < 400; i++)); do
		GOT=$(stat -c %s "$TMP/slow.body" 2>/dev/null || echo 0)
		[ "$GOT" -ge 16384 ] && return 0
		kill -0 "$SLOW_WRAPPER" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$(cat "$TMP/slow.pid" 2>/dev/null)" 2>/dev/null
	wait "$SLOW_WRAPPER" 2>/dev/null
	fail "the body never reached 16 KiB (got $GOT bytes) before the client ended"
}

# chk_next_copes: the next program, after one that left the module busy,
# gets small.txt byte-exact.  Its bring-up's repair is in $REPAIR.
chk_next_copes() {
	local case=$CASE
	fetch "$case-next" "$U/small.txt"
	chk_one_ok "$SMALL_SHA" || return
	CASE=$case
	REPAIR=$(cmds_before "${REQUEST_CMD[$MODEM]}" | grep -E "${RECOVERY[$MODEM]}" | tr '\n' ' ')
}

t_killed_mid_body() {
	local killed_cmds
	start_slow "$P/killed-mid-body" || return
	kill -KILL "$(cat "$TMP/slow.pid")"
	wait "$SLOW_WRAPPER" 2>/dev/null
	killed_cmds=$(cmds_from "${REQUEST_CMD[$MODEM]}")
	if [ "$GOT" -ge "$SLOW_SIZE" ]; then
		fail "the whole body had come before the kill: not mid-body"
	elif printf '%s\n' "$killed_cmds" | grep -q -E "${TEARDOWN[$MODEM]}"; then
		fail "a killed program sent its teardown: '$(echo $killed_cmds | cut -c1-200)'"
	else
		chk_next_copes || return
		if [ -z "$REPAIR" ]; then
			fail "the next program's bring-up put nothing back: was the module left busy at all?"
		else
			pass "killed after $GOT of $SLOW_SIZE bytes; the next program's bring-up sent ${REPAIR% }, then 200, byte-exact"
		fi
	fi
}

t_exit_mid_body() {
	local ended cmds
	start_slow "$P/exit-mid-body" --exit-after 16384 --stamp "$TMP/slow.stamp" || return
	wait "$SLOW_WRAPPER"
	RC=$?
	ended=$(date +%s.%N)
	cmds=$(cmds_from "${REQUEST_CMD[$MODEM]}")
	[ "$RC" = 0 ] || { fail "exit status $RC"; return; }
	chk_quick_exit "$TMP/slow.stamp" "$ended" || return
	if [ "$(fsize "$TMP/slow.body")" -ge "$SLOW_SIZE" ]; then
		fail "the whole body had come before the program ended: not mid-body"
	elif printf '%s\n' "$cmds" | grep -q -E "${TEARDOWN[$MODEM]}"; then
		fail "a teardown was sent under the running exchange: '$(echo $cmds | cut -c1-200)'"
	elif ! grep -q 'shutdown: an exchange is still running' "$TRACE"; then
		fail "the trace does not say the exchange was still running: $(grep -m1 -E 'shutdown|teardown' "$TRACE")"
	else
		chk_next_copes || return
		pass "ended ${EXIT_S} s after its last statement, no teardown under the exchange; the next program: 200, byte-exact"
	fi
}

# idle_program CASE: a program makes one request, then waits for
# $TMP/go before it ends; returns once its port's lock went idle (the
# trace's "port idle: lock released", at most 10 s).  IDLE_PID: the wrapper.
idle_program() {
	local case=$1 i
	CASE=$case
	rm -f "$TMP/go"
	OUT=$TMP/out/${case//\//_}.out ERR=$TMP/out/${case//\//_}.err TRACE=$TMP/trace/${case//\//_}.trace RC=
	LAST_CMD="athttp -- fetch.py --wait-file go $U/small.txt"
	mark_logs
	(cd "$TMP/cwd" && exec env "${E2E_SAN_ENV[@]}" ATHTTP_TRACE="$TRACE" \
		timeout -k 5 "$CLIENT_TIMEOUT" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- \
		"$PY" "$TMP/fetch.py" --wait-file "$TMP/go" "$U/small.txt") >"$OUT" 2>"$ERR" </dev/null &
	IDLE_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -q 'port idle: lock released' "$TRACE" 2>/dev/null && return 0
		kill -0 "$IDLE_PID" 2>/dev/null || break
		sleep 0.05
	done
	touch "$TMP/go"
	wait "$IDLE_PID"
	fail "the port's lock never went idle (no 'port idle: lock released' in the trace)"
}

# t_idle_exit: the lock went idle before the end: the teardown takes it
# back (nobody holds it) and runs.
t_idle_exit() {
	idle_program "$P/idle-then-exit" || return
	touch "$TMP/go"
	wait "$IDLE_PID"
	RC=$?
	chk_one_ok "$SMALL_SHA" || return
	if ! cmds_from "${LAST_OF_REQUEST[$MODEM]}" | grep -q -E "${TEARDOWN[$MODEM]}"; then
		fail "no teardown after the idle wait: $(cmds_from "${LAST_OF_REQUEST[$MODEM]}" | tr '\n' ' ')"
	elif ! grep -q 'teardown done' "$TRACE"; then
		fail "the trace does not say 'teardown done'"
	else
		pass "lock idle, taken back at exit, teardown done"
	fi
}

# t_held_at_exit: another process holds the port's lock when the program
# ends: nothing is sent (that one is using the module).
t_held_at_exit() {
	local holder i
	command -v flock >/dev/null || { fail "no flock(1) to hold the port"; return; }
	idle_program "$P/held-at-exit" || return
	rm -f "$TMP/held"
	# -o: the lock stays with flock itself, not with the shell.
	flock -o "$TMP/tty" sh -c "touch '$TMP/held'; sleep 30" </dev/null >/dev/null 2>&1 &
	holder=$!
	for ((i = 0; i < 100; i++)); do [ -e "$TMP/held" ] && break; sleep 0.05; done
	touch "$TMP/go"
	wait "$IDLE_PID"
	RC=$?
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	chk_one_ok "$SMALL_SHA" || return
	if [ ! -e "$TMP/held" ]; then
		fail "flock never took the port"
	elif cmds_from "${LAST_OF_REQUEST[$MODEM]}" | grep -q -E "${TEARDOWN[$MODEM]}"; then
		fail "a teardown was sent while another process held the port"
	elif ! grep -q 'is in use by another process; the module is left as it is' "$TRACE"; then
		fail "the trace does not say the port was held: $(grep -m1 -E 'shutdown|teardown' "$TRACE")"
	else
		pass "nothing sent; the trace says the port was held"
	fi
}

# t_fork_child_exit: a forked child that never used the module ends
# normally (its exit handlers run): it sends nothing; the parent's next
# request needs no new bring-up, and its own end tears down, once.
t_fork_child_exit() {
	local cmds between
	ath_raw "$P/fork-child-exits" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- "$PY" -c '
import hashlib, os, sys, urllib.request
def get():
    r = urllib.request.urlopen(sys.argv[1], timeout=50)
    print(r.status, hashlib.sha256(r.read()).hexdigest(), flush=True)
get()
pid = os.fork()
if pid == 0:
    sys.exit(0)    # a normal exit: the C library runs its exit handlers
_, status = os.waitpid(pid, 0)
print("child", status, flush=True)
get()
' "$U/small.txt"
	if [ "$RC" != 0 ] || [ "$(tr '\n' '|' <"$OUT")" != "200 $SMALL_SHA|child 0|200 $SMALL_SHA|" ]; then
		fail "expected 200, the child's exit 0, 200; got '$(tr '\n' '|' <"$OUT" | head -c 300)' (exit $RC)"
		return
	fi
	cmds=$(cmds_from "${REQUEST_CMD[$MODEM]}")
	# between the first request's last command and the second request
	between=$(printf '%s\n' "$cmds" | awk -v a="${LAST_OF_REQUEST[$MODEM]}" -v b="${REQUEST_CMD[$MODEM]}" '
		n == 0 && $0 ~ b { n = 1; next }
		n == 1 && $0 ~ a { n = 2; next }
		n == 2 && $0 ~ b { exit }
		n == 2 { print }')
	if printf '%s\n' "$between" | grep -q -E "${TEARDOWN[$MODEM]}|^AT\+HTTPINIT$"; then
		fail "between the parent's requests (the child's exit): '$(echo $between)'"
	elif [ "$(printf '%s\n' "$cmds" | grep -c -E "${TEARDOWN[$MODEM]}")" != 1 ]; then
		fail "expected one teardown (the parent's), got: $(printf '%s\n' "$cmds" | grep -E "${TEARDOWN[$MODEM]}" | tr '\n' ' ')"
	else
		pass "the child sent nothing; the parent's end: one teardown"
	fi
}

for MODEM in simcom onemo; do
	P=exit/$MODEM
	start_emu || continue
	t_first_teardown
	t_second_clean
	t_silent_teardown
	if [ "$MODEM" = simcom ]; then
		start_emu || continue
		t_idle_exit
		t_held_at_exit
		t_fork_child_exit
	fi
	start_emu --baud 460800 || continue
	t_killed_mid_body
	t_exit_mid_body
done
stop_emu

# ------------------------------------------------------------ a device it cannot open
# chk_denied DEVICE-MESSAGE: two connections answered 502 with the
# message as X-Athttp-Error, stderr has it once and nothing else, the
# trace has it.
chk_denied() {
	local msg=$1 lines
	lines=$(grep -c -F "athttp: $msg" "$ERR")
	if [ "$RC" != 0 ]; then
		fail "client exit status $RC: $(head -c 300 "$OUT")"
	elif [ "$(sed -n 1p "$OUT" | cut -d' ' -f1,3-)" != "502 simcom $msg" ] ||
		[ "$(sed -n 2p "$OUT" | cut -d' ' -f1,3-)" != "502 simcom $msg" ]; then
		fail "expected two 502s with X-Athttp-Error 'simcom $msg'; got '$(cut -d' ' -f1,3- "$OUT" | tr '\n' '|' | head -c 600)'"
	elif [ "$lines" != 1 ]; then
		fail "stderr has the message $lines times, expected once: $(head -c 600 "$ERR")"
	elif [ -z "$E2E_SAN" ] && [ "$(grep -c -v -F "athttp: $msg" "$ERR")" != 0 ]; then
		fail "stderr has more than the message: $(head -c 600 "$ERR")"
	elif ! grep -q -F "$msg" "$TRACE"; then
		fail "the trace lacks the message: $(tail -n 5 "$TRACE" 2>/dev/null | head -c 400)"
	else
		pass "two 502s, one line on stderr, in the trace"
	fi
}

MODEM=simcom
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	start_emu
	CASE=exit/denied/two-connections
	# The pty itself (the link is in $TMP, private to root); nobody gets a
	# directory of its own for the trace, the CA and a config-free home.
	chmod 000 "$EMU_PTY"
	NB=$TMP/nobody
	chmod 711 "$TMP"
	mkdir -p "$NB/tmp" && chown -R nobody "$NB"
	ath_raw "$CASE" env ATHTTP_TRACE="$NB/trace" TMPDIR="$NB/tmp" HOME="$NB" XDG_CONFIG_HOME="$NB" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$ATHTTP" -d "$EMU_PTY" -m simcom -- "$PY" "$TMP/fetch.py" "$U/small.txt" "$U/small.txt"
	TRACE=$NB/trace
	chk_denied "cannot open $EMU_PTY: Permission denied (user nobody): add nobody to group dialout (sudo usermod -aG dialout nobody, then log in again), or give the port a udev rule (athttp doctor -d $EMU_PTY prints one), or run athttpd (it owns the port) and point programs at it with ATHTTP_SOCKET"
	chmod 600 "$EMU_PTY"
	chmod 700 "$TMP"
	stop_emu
else
	CASE=exit/denied/two-connections RC= ERR= TRACE= LAST_CMD=
	fail "needs root, setpriv and a nobody user to run a client that may not open the device"
fi

ath_raw exit/missing/two-connections "$ATHTTP" -d "$TMP/no-such-tty" -m simcom -- \
	"$PY" "$TMP/fetch.py" "$U/small.txt" "$U/small.txt"
chk_denied "cannot open $TMP/no-such-tty: No such file or directory: plug the module in and see which name it got (ls -l /dev/ttyUSB* /dev/ttyACM* /dev/serial/by-id/), then give that device (athttp -d, ATHTTP_DEVICE)"

chk_sanitizer_reports
e2e_done
