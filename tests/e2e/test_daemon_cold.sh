#!/bin/bash
# athttpd brings a cold module onto the network, for each emulated family:
# the emulator powered on just now (--cold: no context defined or active,
# ESP-AT's WiFi off and not joined), its SIM asking for a PIN and
# registration taking 1.5 s after it; the daemon, told pin and apn (or the
# WiFi credentials), unlocks the SIM once, waits for registration, defines
# and activates the context the family's way, and then serves a request
# byte-exact.  And a module with no network: the daemon keeps running and
# answers 503 naming the registration state (or the failed join) within the
# register_timeout_ms bound.
E2E_NAME=daemon-cold
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }
ATHTTPD=${E2E_ATHTTPD:-$E2E_BUILD/bin/athttpd}
if [ ! -x "$ATHTTPD" ]; then
	echo "fail daemon-cold/setup: not built: ${ATHTTPD#"$E2E_ROOT"/} (run make)"
	exit 1
fi
gen_files
start_origin || { e2e_done; exit 1; }
export ATHTTP_SYSCONFDIR=$TMP/etc XDG_CONFIG_HOME=$TMP/xdg ATHTTP_CA_DIR=$TMP/ca
mkdir -p "$TMP/etc" "$TMP/xdg" "$TMP/run"
SOCK=$TMP/run/athttpd.sock
. "$(dirname "$0")/daemon_lib.sh"
SMALL_SHA=$(sha "$WWW/small.txt")
REGISTER_MS=1500

# The commands each family's bring-up must have sent to the cold module
# (the context's definition and activation, the family's own way).
declare -A CTX_CMDS=(
	[simcom]='^AT\+CGSOCKCONT=1,"IP","apn\.test"$'
	[neoway]='^AT\+CGDCONT=1,"IP","apn\.test"$ ^AT\+XIIC=1$'
	[httpcfg]='^AT\+CGDCONT=1,"IP","apn\.test"$ ^AT\+CGACT=1,1$'
	[quectel]='^AT\+QICSGP=1,1,"apn\.test" ^AT\+QIACT=1$'
	[onemo]='^AT\+CGDCONT=1,"IP","apn\.test"$ ^AT\+CGACT=1,1$'
	[espat]='^AT\+CWMODE=1$ ^AT\+CWJAP="coldnet","s3cret-pw"$'
)

# wait_log PATTERN SECONDS: until the daemon's log has PATTERN (bounded).
wait_log() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		grep -q "$1" "$DAEMON_LOG" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# fetch URL OUT: one program through the daemon's socket.
fetch() {
	# under a sanitizer, its runtime preloaded first (lib.sh)
	env "${E2E_SAN_ENV[@]}" timeout -k 2 "$CLIENT_TIMEOUT" "$ATHTTP" --socket "$SOCK" -- "$PY" -c '
import sys, urllib.request
sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=30).read())' "$1" >"$2" 2>"$2.err"
}

for MODEM in simcom neoway httpcfg quectel onemo espat; do
	# ------------------------------------------------ cold start
	if [ "$MODEM" = espat ]; then
		start_emu --cold --wifi coldnet:s3cret-pw || continue
		printf 'wifi_ssid = coldnet\nwifi_password = s3cret-pw\n' >"$TMP/athttpd.conf"
	else
		start_emu --cold --sim-pin 1234 --register-ms "$REGISTER_MS" --apn apn.test || continue
		printf 'pin = 1234\napn = apn.test\nregister_timeout_ms = 20000\n' >"$TMP/athttpd.conf"
	fi
	chmod 600 "$TMP/athttpd.conf"
	CASE=daemon-cold/$MODEM/up
	start_daemon --probe-ms 600000 || continue
	if wait_log 'module up' 30; then
		pass
	else
		fail "no 'module up' within 30 s: $(tail -n 3 "$DAEMON_LOG" | tr '\n' ' ')"
	fi
	CASE=daemon-cold/$MODEM/get
	if fetch "$U/small.txt" "$TMP/out/cold-$MODEM" && [ "$(sha "$TMP/out/cold-$MODEM")" = "$SMALL_SHA" ]; then
		pass
	else
		fail "exit $?: $(head -c 300 "$TMP/out/cold-$MODEM.err")"
	fi
	CASE=daemon-cold/$MODEM/bring-up
	missing=
	pats=${CTX_CMDS[$MODEM]}
	[ "$MODEM" = espat ] || pats="^AT\\+CPIN=\"1234\"\$ $pats"
	for p in $pats; do
		[ "$(emu_cmds "$p" | wc -l)" -ge 1 ] || missing+=" $p"
	done
	if [ -n "$missing" ]; then
		fail "not sent:$missing; sent: $(emu_cmds . | tr '\n' ' ' | cut -c1-400)"
	elif [ "$MODEM" != espat ] && [ "$(emu_cmds '^AT\+CPIN="1234"$' | wc -l)" != 1 ]; then
		fail "the PIN was sent $(emu_cmds '^AT\+CPIN="1234"$' | wc -l) times"
	elif [ "$MODEM" != espat ] && [ "$(emu_cmds '^AT\+C(E|G|)REG\?$' | wc -l)" -lt 2 ]; then
		fail "registration was not waited for (queried once)"
	else
		pass "$(emu_cmds '^AT\+C(E|G|)REG\?$' | wc -l) registration queries"
	fi
	stop_daemon

	# ------------------------------------------------ no network
	if [ "$MODEM" = espat ]; then
		start_emu --cold --no-network || continue
		printf 'wifi_ssid = athttp-emu\nwifi_password = athttp-emu\nregister_timeout_ms = 1500\n' >"$TMP/athttpd.conf"
		want='join\|CWJAP\|WiFi\|access point'
	else
		start_emu --no-network || continue
		printf 'register_timeout_ms = 1500\n' >"$TMP/athttpd.conf"
		want='not registered: searching'
	fi
	CASE=daemon-cold/$MODEM/no-network
	t0=$SECONDS
	start_daemon --probe-ms 600000 || continue
	if ! wait_log 'module down' 30; then
		fail "no 'module down' within 30 s: $(tail -n 3 "$DAEMON_LOG" | tr '\n' ' ')"
	else
		took=$((SECONDS - t0))
		out=$(dproto "$SOCK" "ATHTTP/1 CONNECT origin.test 80" line | head -n 1)
		if ! printf '%s' "$out" | grep -q "^ATHTTP/1 503 .*\($want\)"; then
			fail "answer: $(printf '%s' "$out" | head -c 200)"
		elif [ "$took" -gt 15 ]; then
			fail "the bring-up took ${took} s to give up (bound 1.5 s)"
		elif ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			fail "athttpd exited"
		else
			pass "$(printf '%s' "$out" | cut -c1-120)"
		fi
	fi
	stop_daemon
done

CASE=daemon-cold/logs-clean
bad=$(grep -l 'Sanitizer\|runtime error:\|Segmentation' "$TMP"/athttpd.*.log 2>/dev/null | head -n 3)
if [ -z "$bad" ]; then pass "$DAEMON_N daemons"; else fail "reports in $bad"; fi
chk_sanitizer_reports
e2e_done
