# tests/e2e/daemon_lib.sh — athttpd for e2e tests (bash; sourced after
# lib.sh and e2e_init).  Needs SOCK (the socket path) and ATHTTPD; the daemon
# reads $TMP/athttpd.conf and runs on $TMP/tty with -m $MODEM (or
# $DAEMON_MODEM).
DAEMON_PID=
DAEMON_N=0

# The daemon's protocol, spoken directly: prints the answer line, then
# what followed it (up to 64 KB).
cat >"$TMP/dproto.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("CONNECT-FAILED %s" % e)
    sys.exit(0)
s.sendall(sys.argv[2].encode() + b"\n")
data = b""
try:
    while len(data) < 65536:
        b = s.recv(65536)
        if not b:
            break
        data += b
        if len(sys.argv) > 3 and b"\n" in data:
            break
except OSError as e:
    data += b"\nRECV-FAILED %s" % str(e).encode()
sys.stdout.write(data.decode("latin-1"))
PY
dproto() { timeout -k 2 15 "$PY" "$TMP/dproto.py" "$@"; }

# start_daemon [ARGS...]: athttpd -f on $TMP/tty and $SOCK; waits (bounded)
# until its socket answers STATUS.
start_daemon() {
	local i
	DAEMON_N=$((DAEMON_N + 1))
	DAEMON_LOG=$TMP/athttpd.$DAEMON_N.log
	"$ATHTTPD" -f -d "$TMP/tty" -m "${DAEMON_MODEM:-$MODEM}" -c "$TMP/athttpd.conf" --socket "$SOCK" "$@" \
		</dev/null >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	E2E_PIDS+=("$DAEMON_PID")
	for ((i = 0; i < 150; i++)); do
		if [ -S "$SOCK" ] && dproto "$SOCK" "ATHTTP/1 STATUS" | head -n 1 | grep -q '^ATHTTP/1 200'; then
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "fail daemon/setup: athttpd did not answer on $SOCK within 15 s"
	sed 's/^/#   /' "$DAEMON_LOG" | tail -n 20
	FAIL=$((FAIL + 1))
	return 1
}

# stop_daemon: SIGTERM and a bounded wait (stop_pid: 5 s, then KILL);
# DAEMON_RC its exit status.
stop_daemon() {
	local i
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -KILL "$DAEMON_PID" 2>/dev/null
		DAEMON_RC=timeout
	fi
	wait "$DAEMON_PID" 2>/dev/null
	local rc=$?
	[ "${DAEMON_RC:-}" = timeout ] || DAEMON_RC=$rc
	DAEMON_PID=
}

