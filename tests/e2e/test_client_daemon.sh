#!/bin/bash
# Programs served by athttpd instead of an engine of their own: the
# wrapper with --socket, and with the device's default socket (no -m), and
# the preload library alone with ATHTTP_SOCKET (no device named at all)
# get sha256-exact bodies; https trusts the daemon's CA (the wrapper made
# no per-run CA: the program's bundle holds the daemon's certificate); the
# module saw the requests (the emulator's log) while the program never
# opened the port; athttp status from the daemon (text and JSON, counters
# that grew); a socket nobody serves: the preload library's connect()
# fails at once (curl exit 7) with one stderr line naming the socket, the
# wrapper exits 1; a user the daemon's socket refuses gets a clean error; a
# daemon that goes away between two connections of one program gives the
# second a clean ECONNREFUSED, and a new daemon serves the next program;
# a stale default socket file leaves the engine in the process; and with
# no daemon, ATHTTP_PIN makes the engine in the program enter the PIN of a
# cold module.
E2E_NAME=client_daemon
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }
ATHTTPD=$E2E_BUILD/bin/athttpd
if [ ! -x "$ATHTTPD" ]; then
	echo "fail client_daemon/setup: $ATHTTPD not built"
	exit 1
fi
gen_files
start_origin || { e2e_done; exit 1; }
MODEM=simcom start_emu || { e2e_done; exit 1; }

RUN=$TMP/run
SOCK=$RUN/tty.sock		# the default socket of $TMP/tty under ATHTTP_RUN_DIR=$RUN
mkdir -p "$RUN" "$TMP/dca"
chmod 0755 "$TMP" "$RUN"
DAEMON_PID=
DAEMON_N=0

# start_daemon: athttpd on the emulator, in the foreground, its CA in
# $TMP/dca, serving $SOCK; waits for its "serving" line.
start_daemon() {
	DAEMON_N=$((DAEMON_N + 1))
	if ! ATHTTP_CA_DIR=$TMP/dca ATHTTP_MODULE_CA=$PKI_ROOT ATHTTP_RUN_DIR=$RUN \
		bg_start "athttpd: serving" "$TMP/daemon.$DAEMON_N.out" \
		sh -c 'exec "$@" 2>&1' sh "$ATHTTPD" -f -d "$TMP/tty" -m simcom; then
		FAIL=$((FAIL + 1))
		echo "fail client_daemon/setup: athttpd said no 'serving' line within ${START_TIMEOUT}s"
		sed 's/^/#   /' "$TMP/daemon.$DAEMON_N.out" "$TMP/daemon.$DAEMON_N.out.err" 2>/dev/null | tail -n 20
		DAEMON_PID=
		return 1
	fi
	DAEMON_PID=$BG_PID
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	stop_pid "$DAEMON_PID"
	DAEMON_PID=
}

# got_small CASE: the body in $BODY is small.txt's (sha256).
got_small() {
	if [ "$RC" != 0 ]; then
		fail "exit $RC: $(tail -n 2 "$ERR" | tr '\n' '|')"
	elif [ "$(sha "$BODY")" != "$(sha "$WWW/small.txt")" ]; then
		fail "body sha256 $(sha "$BODY"), expected small.txt's"
	elif ! emu_since | grep -q '^CMD AT+HTTPACTION=0'; then
		fail "the module made no request (no AT+HTTPACTION in the emulator's log)"
	else
		pass "${1:-}"
	fi
}

start_daemon || { e2e_done; exit 1; }

# get_cmd OUT URL: GET_CMD, a client writing URL's body to OUT: curl, or
# under ASan (where curl hangs with libasan preloaded, see matrix.sh)
# python.
get_cmd() {
	if [ "$E2E_SAN" = address ]; then
		GET_CMD=("$PY" -c 'import sys, urllib.request
open(sys.argv[1], "wb").write(urllib.request.urlopen(sys.argv[2], timeout=30).read())' "$1" "$2")
	else
		GET_CMD=(curl -sS -o "$1" "$2")
	fi
}
# code_cmd OUT URL: CODE_CMD, the same client printing the HTTP status
# (curl's -w '%{http_code}') on stdout.
code_cmd() {
	if [ "$E2E_SAN" = address ]; then
		CODE_CMD=("$PY" -c 'import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[2], timeout=30)
except urllib.error.HTTPError as e:
    r = e
open(sys.argv[1], "wb").write(r.read())
print(r.status if hasattr(r, "status") else r.code, end="")' "$1" "$2")
	else
		CODE_CMD=(curl -sS -o "$1" -w '%{http_code}' "$2")
	fi
}
# The library preloaded by hand (no wrapper): under ASan its runtime must
# come first in LD_PRELOAD.
PRELOAD_ENV=(LD_PRELOAD="$PRELOAD_SO")
if [ "$E2E_SAN" = address ]; then
	PRELOAD_ENV=("${E2E_SAN_ENV[@]}")
	PRELOAD_ENV[0]="${E2E_SAN_ENV[0]} $PRELOAD_SO"
fi

# ------------------------------------------------------------ the wrapper, --socket
# No -d: the daemon owns the device.  The port is flock'ed by the daemon,
# so an engine in the program could not have served this.
get_cmd "$TMP/out/daemon_wrapper_socket.body" "$U/small.txt"
ath_raw daemon/wrapper/socket "$ATHTTP" --socket "$SOCK" -- "${GET_CMD[@]}"
got_small "through $SOCK"

# ------------------------------------------------------------ the default socket
get_cmd "$TMP/out/daemon_wrapper_default-socket.body" "$U/small.txt"
ATHTTP_RUN_DIR=$RUN ath_raw daemon/wrapper/default-socket "$ATHTTP" -d "$TMP/tty" -- "${GET_CMD[@]}"
got_small

# ------------------------------------------------------------ the library alone
ath_raw daemon/preload/socket env ATHTTP_SOCKET="$SOCK" LD_PRELOAD="$PRELOAD_SO" \
	curl -sS -o "$TMP/out/daemon_preload_socket.body" "$U/big.bin"
if [ "$RC" != 0 ]; then
	fail "exit $RC: $(tail -n 2 "$ERR" | tr '\n' '|')"
elif [ "$(sha "$BODY")" != "$(sha "$WWW/big.bin")" ]; then
	fail "big.bin: sha256 $(sha "$BODY") size $(fsize "$BODY"), expected $(fsize "$WWW/big.bin") bytes"
else
	pass "big.bin, $(fsize "$BODY") bytes"
fi

# ------------------------------------------------------------ https: the daemon's CA
get_cmd "$TMP/out/daemon_https_curl.body" https://origin.test/small.txt
ath_raw daemon/https/curl "$ATHTTP" --socket "$SOCK" -- \
	sh -c 'out=$1; shift; "$@" && cat "$SSL_CERT_FILE" >"$out"' sh "$TMP/out/bundle.pem" "${GET_CMD[@]}"
if [ "$RC" != 0 ]; then
	fail "exit $RC: $(tail -n 2 "$ERR" | tr '\n' '|')"
elif [ "$(sha "$BODY")" != "$(sha "$WWW/small.txt")" ]; then
	fail "body sha256 differs from small.txt's"
elif ! "$PY" - "$TMP/dca/ca.pem" "$TMP/out/bundle.pem" <<'EOF'
import sys
ca = open(sys.argv[1]).read().strip()
bundle = open(sys.argv[2]).read()
sys.exit(0 if ca and ca in bundle else 1)
EOF
then
	fail "the program's bundle does not hold the daemon's CA ($TMP/dca/ca.pem)"
else
	pass
fi

# ------------------------------------------------------------ status from the daemon
CASE=daemon/status/text
ath_raw "$CASE" "$ATHTTP" status --socket "$SOCK"
if [ "$RC" != 0 ] || ! grep -qx 'dialect: simcom' "$OUT" || ! grep -q '^requests: [1-9]' "$OUT"; then
	fail "exit $RC: $(tr '\n' '|' <"$OUT" | head -c 400)"
else
	pass "$(grep '^requests:' "$OUT")"
fi
ATHTTP_RUN_DIR=$RUN ath_raw daemon/status/json "$ATHTTP" status --json -d "$TMP/tty"
if [ "$RC" != 0 ] || ! "$PY" -c 'import json, sys
o = json.load(open(sys.argv[1]))
assert o["from_daemon"] is True and o["dialect"] == "simcom" and o["requests"] >= 4, o
assert o["sim"] == "READY" and o["reg_stat"] == 1, o' "$OUT" 2>"$TMP/out/json.err"; then
	fail "exit $RC: $(head -c 400 "$OUT"); $(tail -n 1 "$TMP/out/json.err")"
else
	pass
fi

# ------------------------------------------------------------ refused: another user
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	ath_raw daemon/refused/other-user setpriv --reuid=nobody --regid="$(id -g nobody)" \
		--clear-groups env ATHTTP_SOCKET="$SOCK" LD_PRELOAD="$PRELOAD_SO" \
		curl -sS -o /dev/null "$U/small.txt"
	if [ "$RC" != 7 ]; then
		fail "curl exit $RC, expected 7 (could not connect)"
	elif ! grep -q 'Permission denied\|403' "$ERR"; then
		fail "the reason names neither the socket's permission nor the daemon's 403: $(tr '\n' '|' <"$ERR")"
	elif [ "$(grep -c "^athttp: daemon $SOCK: " "$ERR")" != 1 ]; then
		fail "expected one 'athttp: daemon $SOCK: ...' line: $(tr '\n' '|' <"$ERR")"
	else
		pass "$(grep "^athttp: daemon" "$ERR")"
	fi
else
	skip daemon/refused/other-user "not root, or no setpriv / nobody"
fi

# ------------------------------------------------------------ gone between two connections
# One python program: a request, then (once told) a second one after the
# daemon stopped, then a third after a new daemon started.
CTL=$TMP/ctl
mkfifo "$CTL"
cat >"$TMP/twice.py" <<'EOF'
import sys, urllib.request
url = sys.argv[1]
ctl = open(sys.argv[2])
def get(tag):
    try:
        body = urllib.request.urlopen(url, timeout=30).read()
        print(tag, "ok", len(body), flush=True)
    except Exception as e:
        reason = getattr(e, "reason", e)
        print(tag, "error", type(reason).__name__, getattr(reason, "errno", None), flush=True)
get("first")
ctl.readline()
get("second")
ctl.readline()
get("third")
EOF
(env "${PRELOAD_ENV[@]}" ATHTTP_SOCKET="$SOCK" timeout 60 "$PY" "$TMP/twice.py" "$U/small.txt" "$CTL" \
	>"$TMP/twice.out" 2>"$TMP/twice.err") &
TWICE_PID=$!
# read-write: opening a fifo so never blocks, even if the reader died
exec {ctl_fd}<>"$CTL"
wait_line() { # PATTERN: bounded wait for a line in twice.out
	local deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		grep -q "$1" "$TMP/twice.out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
CASE=daemon/gone/first
if wait_line '^first ' && grep -q "^first ok $(fsize "$WWW/small.txt")$" "$TMP/twice.out"; then
	pass
else
	fail "$(tr '\n' '|' <"$TMP/twice.out") $(tail -n 2 "$TMP/twice.err" | tr '\n' '|')"
fi
stop_daemon
echo go >&"$ctl_fd"
CASE=daemon/gone/second
if wait_line '^second ' && grep -q '^second error ConnectionRefusedError 111$' "$TMP/twice.out" &&
	grep -q "^athttp: daemon $SOCK: " "$TMP/twice.err"; then
	pass "$(grep '^athttp: daemon' "$TMP/twice.err" | head -n 1)"
else
	fail "$(tr '\n' '|' <"$TMP/twice.out") stderr: $(tail -n 2 "$TMP/twice.err" | tr '\n' '|')"
fi
start_daemon
echo go >&"$ctl_fd"
CASE=daemon/gone/third
if wait_line '^third ' && grep -q "^third ok $(fsize "$WWW/small.txt")$" "$TMP/twice.out"; then
	pass "a new daemon serves the same program"
else
	fail "$(tr '\n' '|' <"$TMP/twice.out") stderr: $(tail -n 2 "$TMP/twice.err" | tr '\n' '|')"
fi
exec {ctl_fd}>&-
wait "$TWICE_PID" 2>/dev/null
stop_daemon

# ------------------------------------------------------------ nobody serves
DEAD=$TMP/dead.sock
"$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$DEAD"
ath_raw daemon/dead/preload env ATHTTP_SOCKET="$DEAD" LD_PRELOAD="$PRELOAD_SO" \
	curl -sS -o /dev/null "$U/small.txt"
if [ "$RC" != 7 ]; then
	fail "curl exit $RC, expected 7"
elif [ "$(grep -c "^athttp: daemon $DEAD: " "$ERR")" != 1 ]; then
	fail "expected one 'athttp: daemon $DEAD: ...' line: $(tr '\n' '|' <"$ERR")"
elif emu_since | grep -q 'HTTPACTION'; then
	fail "the request reached the module anyway"
else
	pass "$(grep "^athttp: daemon" "$ERR")"
fi
ath_raw daemon/dead/wrapper "$ATHTTP" --socket "$DEAD" -- true
if [ "$RC" != 1 ] || ! grep -q "^athttp: daemon $DEAD: " "$ERR"; then
	fail "exit $RC, expected 1 with a reason: $(tr '\n' '|' <"$ERR")"
else
	pass
fi

# ------------------------------------------------------------ a stale default socket
# The daemon is gone; its socket file (or one like it) stays: the engine
# runs in the program, as without a daemon.
STALE=$TMP/stale
mkdir -p "$STALE"
"$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$STALE/tty.sock"
get_cmd "$TMP/out/daemon_stale_in-process.body" "$U/small.txt"
ATHTTP_RUN_DIR=$STALE ath_raw daemon/stale/in-process "$ATHTTP" -d "$TMP/tty" -m simcom -- \
	"${GET_CMD[@]}"
got_small "in process"
ATHTTP_RUN_DIR=$STALE ath_raw daemon/stale/preload env ATHTTP_DEVICE="$TMP/tty" ATHTTP_MODEM=simcom \
	LD_PRELOAD="$PRELOAD_SO" curl -sS -o "$TMP/out/daemon_stale_preload.body" "$U/small.txt"
got_small "in process"

# ------------------------------------------------------------ in process: a cold module brought up
# No daemon: the engine in the program enters the SIM PIN itself when
# ATHTTP_PIN is set (without it the module refuses HTTP: the PIN is what
# made the difference).
MODEM=simcom start_emu --sim-pin 1234 || { e2e_done; exit 1; }
code_cmd "$TMP/out/daemon_in-process_no-pin.body" "$U/small.txt"
ath_raw daemon/in-process/no-pin "$ATHTTP" -d "$TMP/tty" -m simcom -- "${CODE_CMD[@]}"
if [ "$RC" = 0 ] && [ "$(cat "$OUT")" != 200 ] && ! emu_cmds | grep -q '^AT+CPIN='; then
	pass "HTTP $(cat "$OUT") without a PIN"
else
	fail "exit $RC, HTTP '$(cat "$OUT")': a SIM that wants a PIN served without one?"
fi
get_cmd "$TMP/out/daemon_in-process_pin.body" "$U/small.txt"
ATHTTP_PIN=1234 ath_raw daemon/in-process/pin "$ATHTTP" -d "$TMP/tty" -m simcom -- "${GET_CMD[@]}"
if ! emu_cmds | grep -q '^AT+CPIN="1234"$'; then
	fail "no AT+CPIN=\"1234\" in the emulator's log"
else
	got_small "PIN entered in process"
fi

e2e_done
