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
#   exit/MODEM/killed-mid-body  a program SIGKILLed while the body streams
#                               (emulator --baud) sends no teardown; the next
#                               program gets its body byte-exact, its
#                               bring-up having put the module back itself
#   exit/denied/...             as user nobody, a pty of mode 000: two
#                               connections in one process both answer 502
#                               with X-Athttp-Error naming the device, the
#                               user and the fixes; stderr has the line once,
#                               the trace has it
# Every client is python (the same under ASan).
E2E_NAME=exit
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }
gen_files
start_origin || { e2e_done; exit 1; }
head -c $((192 * 1024)) /dev/urandom >"$WWW/slow.bin"
SLOW_SHA=$(sha "$WWW/slow.bin")

# The client: GETs each URL in turn in one process, one line each on
# stdout, "STATUS SHA256 X-Athttp-Error"; with --pidfile F it writes its
# pid there first; with --body F each body is written to F as it comes.
cat >"$TMP/fetch.py" <<'EOF'
import hashlib, os, sys, urllib.error, urllib.request
args = sys.argv[1:]
body_path = None
if args[:1] == ["--pidfile"]:
    with open(args[1], "w") as f:
        f.write("%d\n" % os.getpid())
    args = args[2:]
if args[:1] == ["--body"]:
    body_path, args = args[1], args[2:]
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
EOF

# fetch CASE URL...: one program through athttp (the emulator at $TMP/tty).
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

# The teardown each dialect has, as the emulator logs it, and what the
# next program's bring-up must not send before its first request.
declare -A TEARDOWN=([simcom]='^AT\+HTTPTERM$' [onemo]='^AT\+MHTTPDEL=[0-9]+$')
declare -A REQUEST_CMD=([simcom]='^AT\+HTTPACTION=' [onemo]='^AT\+MHTTPREQUEST=')
declare -A LAST_OF_REQUEST=([simcom]='^AT\+HTTPREAD=' [onemo]='^AT\+MHTTPREQUEST=')

# cmds_before ERE: the commands since the mark up to (not with) the first
# one matching ERE.
cmds_before() { emu_cmds | awk -v re="$1" '$0 ~ re { exit } { print }'; }

# ------------------------------------------------------------ a clean exit
for MODEM in simcom onemo; do
	start_emu || continue
	P=exit/$MODEM

	fetch "$P/first-teardown" "$U/small.txt"
	if chk_one_ok "$SMALL_SHA"; then
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
	fi

	fetch "$P/second-clean" "$U/small.txt"
	if chk_one_ok "$SMALL_SHA"; then
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
	fi

	# ---------------------------------------------------- killed mid-body
	start_emu --baud 460800 || continue
	CASE=$P/killed-mid-body
	rm -f "$TMP/killed.pid" "$TMP/killed.body"
	mark_logs
	LAST_CMD="athttp -- fetch.py --pidfile ... $U/slow.bin, SIGKILL after 16 KiB"
	(cd "$TMP/cwd" && exec env "${E2E_SAN_ENV[@]}" ATHTTP_TRACE="$TMP/trace/killed.$MODEM.trace" \
		timeout -k 5 "$CLIENT_TIMEOUT" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- \
		"$PY" "$TMP/fetch.py" --pidfile "$TMP/killed.pid" --body "$TMP/killed.body" "$U/slow.bin") \
		>"$TMP/out/killed.$MODEM.out" 2>"$TMP/out/killed.$MODEM.err" </dev/null &
	wrapper=$!
	got=0
	for ((i = 0; i < 400; i++)); do   # at most 20 s for 16 KiB of the body
		got=$(stat -c %s "$TMP/killed.body" 2>/dev/null || echo 0)
		[ "$got" -ge 16384 ] && break
		kill -0 "$wrapper" 2>/dev/null || break
		sleep 0.05
	done
	victim=$(cat "$TMP/killed.pid" 2>/dev/null)
	if [ "$got" -lt 16384 ] || [ -z "$victim" ]; then
		kill -KILL "$victim" 2>/dev/null
		wait "$wrapper" 2>/dev/null
		RC= ERR=$TMP/out/killed.$MODEM.err TRACE=$TMP/trace/killed.$MODEM.trace
		fail "the body never reached 16 KiB (got $got bytes) before the client ended"
	else
		kill -KILL "$victim"
		wait "$wrapper" 2>/dev/null
		killed_cmds=$(emu_cmds)
		fetch "$P/killed-mid-body-next" "$U/small.txt"
		CASE=$P/killed-mid-body
		if [ "$got" -ge "$(fsize "$WWW/slow.bin")" ]; then
			fail "the whole body had come before the kill: not mid-body"
		elif printf '%s\n' "$killed_cmds" | grep -q -E "${TEARDOWN[$MODEM]}"; then
			fail "a killed program sent its teardown: '$(echo $killed_cmds | cut -c1-200)'"
		elif chk_one_ok "$SMALL_SHA"; then
			pass "killed after $got of $(fsize "$WWW/slow.bin") bytes; the next program: 200, byte-exact"
		fi
	fi
done
stop_emu

# ------------------------------------------------------------ a device nobody may open
MODEM=simcom
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	start_emu
	CASE=exit/denied/two-connections
	# The pty itself (the link is in $TMP, private to root); nobody gets a
	# directory of its own to trace into.
	chmod 000 "$EMU_PTY"
	NB=$TMP/nobody
	chmod 711 "$TMP"
	mkdir -p "$NB/tmp" && chown -R nobody "$NB"
	ath_raw "$CASE" env ATHTTP_TRACE="$NB/trace" TMPDIR="$NB/tmp" HOME="$NB" XDG_CONFIG_HOME="$NB" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$ATHTTP" -d "$EMU_PTY" -m simcom -- "$PY" "$TMP/fetch.py" "$U/small.txt" "$U/small.txt"
	TRACE=$NB/trace
	msg="cannot open $EMU_PTY: Permission denied (user nobody): add nobody to group dialout (sudo usermod -aG dialout nobody, then log in again), or give the port a udev rule (athttp doctor -d $EMU_PTY prints one), or run athttpd (it owns the port) and point programs at it with ATHTTP_SOCKET"
	lines=$(grep -c -F "athttp: $msg" "$ERR")
	if [ "$RC" != 0 ]; then
		fail "client exit status $RC: $(head -c 300 "$OUT")"
	elif [ "$(sed -n 1p "$OUT" | cut -d' ' -f1,3-)" != "502 simcom $msg" ] ||
		[ "$(sed -n 2p "$OUT" | cut -d' ' -f1,3-)" != "502 simcom $msg" ]; then
		fail "expected two 502s with X-Athttp-Error 'simcom $msg'; got '$(cut -d' ' -f1,3- "$OUT" | tr '\n' '|' | head -c 600)'"
	elif [ "$lines" != 1 ]; then
		fail "stderr has the message $lines times, expected once: $(head -c 600 "$ERR")"
	elif [ "$(grep -c -v -F "athttp: $msg" "$ERR")" != 0 ] && [ -z "$E2E_SAN" ]; then
		fail "stderr has more than the message: $(head -c 600 "$ERR")"
	elif ! grep -q -F "$msg" "$TRACE"; then
		fail "the trace lacks the message: $(tail -n 5 "$TRACE" 2>/dev/null | head -c 400)"
	else
		pass "two 502s, one line on stderr, in the trace"
	fi
	chmod 600 "$EMU_PTY"
	chmod 700 "$TMP"
	stop_emu
else
	CASE=exit/denied/two-connections RC= ERR= TRACE= LAST_CMD=
	fail "needs root, setpriv and a nobody user to run a client that may not open the device"
fi

chk_sanitizer_reports
e2e_done
