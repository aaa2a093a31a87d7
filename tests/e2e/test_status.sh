#!/bin/bash
# athttp status straight from the emulated module (no daemon): text and
# --json for each family (-m auto identifies it; the JSON must load and
# name the family), the SIMCom emulator's identity, SIM, registration,
# operator, signal and address, the ESP-AT emulator's firmware, access point
# and signal (and no SIM), a SIM asking for its PIN and a module with no
# network shown as they are, only read commands sent (nothing that changes
# the module's state, no PIN entered), and the
# exit codes: 1 for a device that is not there or a pty nobody answers,
# 2 for a bad command line.
E2E_NAME=status
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }
start_origin || { e2e_done; exit 1; }

STATUS_TIMEOUT=40

# st CASE ARG...: athttp status ARG... (stdout $OUT, stderr $ERR, $RC).
st() {
	CASE=$1
	shift
	CLIENT_TIMEOUT=$STATUS_TIMEOUT ath_raw "$CASE" "$ATHTTP" status "$@"
}

# jget KEY: the value of KEY in the JSON object in $OUT ("<none>" when
# absent, "null" for null); fails the case when it does not load.
jget() {
	"$PY" -c 'import json, sys
o = json.load(open(sys.argv[1]))
assert isinstance(o, dict)
v = o.get(sys.argv[2], "<none>")
print("null" if v is None else v)' "$OUT" "$1"
}

# ------------------------------------------------------------ every family, -m auto
for fam in simcom neoway httpcfg quectel onemo espat; do
	MODEM=$fam start_emu || continue
	st "status/auto/$fam" -d "$TMP/tty"
	if [ "$RC" != 0 ]; then
		fail "exit $RC, expected 0"
	elif ! grep -qx "dialect: $fam" "$OUT"; then
		fail "no 'dialect: $fam' line: $(head -c 300 "$OUT" | tr '\n' '|')"
	else
		pass
	fi
	st "status/json/$fam" --json -d "$TMP/tty" -m "$fam"
	if [ "$RC" != 0 ]; then
		fail "exit $RC, expected 0"
	elif ! d=$(jget dialect 2>"$TMP/out/json.err"); then
		fail "the output is not one JSON object: $(head -c 300 "$OUT"); $(tail -n 1 "$TMP/out/json.err")"
	elif [ "$d" != "$fam" ] || [ "$(jget from_daemon)" != False ]; then
		fail "dialect '$d', from_daemon '$(jget from_daemon)'"
	else
		pass
	fi
done

# ------------------------------------------------------------ SIMCom: the emulator's answers
MODEM=simcom start_emu
st status/simcom/text -d "$TMP/tty" -m simcom
if [ "$RC" != 0 ]; then
	fail "exit $RC"
elif ! grep -qx 'model: SIMCOM_SIM7600E-H' "$OUT" || ! grep -qx 'firmware: athttp-emu' "$OUT" ||
	! grep -qx 'sim: READY' "$OUT" || ! grep -qx 'reg_stat: 1' "$OUT" ||
	! grep -qx 'registration: registered (home)' "$OUT" || ! grep -qx 'operator: athttp-emu' "$OUT" ||
	! grep -qx 'signal: -73 dBm (rssi 20)' "$OUT" || ! grep -qx 'address: 10.64.0.2' "$OUT"; then
	fail "identity/sim/registration/operator/signal/address lines: $(tr '\n' '|' <"$OUT")"
else
	pass
fi
# Only read commands (27.007's queries, the identity) and the sync.
bad=$(emu_cmds | grep -Ev '^AT$|^AT\+(CGMM|CGMR|COPS\?|CSQ|CPIN\?|CEREG\?|CGREG\?|CREG\?|CGPADDR=1)$|^ATI$' | head -n 3)
CASE=status/simcom/read-only
if [ -z "$(emu_cmds | head -n 1)" ]; then
	fail "the emulator log shows no command at all"
elif [ -n "$bad" ]; then
	fail "commands other than read commands: $(echo $bad)"
else
	pass
fi
st status/simcom/json --json -d "$TMP/tty" -m simcom
if [ "$RC" != 0 ] || ! jget model >/dev/null 2>&1; then
	fail "exit $RC or not JSON: $(head -c 300 "$OUT")"
elif [ "$(jget model)" != SIMCOM_SIM7600E-H ] || [ "$(jget sim)" != READY ] ||
	[ "$(jget reg_stat)" != 1 ] || [ "$(jget rssi)" != 20 ] || [ "$(jget signal_dbm)" != -73 ] ||
	[ "$(jget wifi_ssid)" != "" ] || [ "$(jget address)" != 10.64.0.2 ]; then
	fail "fields: $(head -c 400 "$OUT")"
else
	pass
fi

# ------------------------------------------------------------ ESP-AT: WiFi, no SIM
MODEM=espat start_emu
st status/espat/json --json -d "$TMP/tty" -m espat
if [ "$RC" != 0 ] || ! jget wifi_ssid >/dev/null 2>&1; then
	fail "exit $RC or not JSON: $(head -c 300 "$OUT")"
elif [ "$(jget wifi_ssid)" != athttp-emu ] || [ "$(jget rssi)" != -50 ] ||
	[ "$(jget sim)" != "" ] || [ "$(jget reg_stat)" != null ] || [ "$(jget firmware)" != athttp-emu ]; then
	fail "fields: $(head -c 400 "$OUT")"
else
	pass
fi
CASE=status/espat/no-sim-asked
if emu_cmds | grep -q 'CPIN\|CREG\|CEREG'; then
	fail "a SIM or registration query went to a WiFi module: $(emu_cmds | grep 'CPIN\|REG' | head -n 2)"
else
	pass
fi
st status/espat/text -d "$TMP/tty" -m espat
if [ "$RC" != 0 ] || ! grep -qx 'wifi_ssid: athttp-emu' "$OUT" || ! grep -qx 'signal: -50 dBm' "$OUT" ||
	grep -q '^sim:' "$OUT"; then
	fail "exit $RC: $(tr '\n' '|' <"$OUT")"
else
	pass
fi

# ------------------------------------------------------------ a module not on the network
MODEM=simcom start_emu --sim-pin 1234
st status/simcom/sim-pin --json -d "$TMP/tty" -m simcom
if [ "$RC" != 0 ] || ! jget sim >/dev/null 2>&1; then
	fail "exit $RC or not JSON: $(head -c 300 "$OUT")"
elif [ "$(jget sim)" != "SIM PIN" ]; then
	fail "sim '$(jget sim)', expected 'SIM PIN': $(head -c 400 "$OUT")"
else
	pass
fi
CASE=status/simcom/sim-pin-untouched
if emu_cmds | grep -q '^AT+CPIN='; then
	fail "status entered a PIN: $(emu_cmds | grep CPIN= | head -n 1)"
else
	pass
fi
MODEM=simcom start_emu --no-network
st status/simcom/no-network --json -d "$TMP/tty" -m simcom
if [ "$RC" != 0 ] || ! jget reg_stat >/dev/null 2>&1; then
	fail "exit $RC or not JSON: $(head -c 300 "$OUT")"
else
	r=$(jget reg_stat)
	case $r in
	1 | 5 | null | '<none>') fail "reg_stat '$r' for a module with no network: $(head -c 400 "$OUT")" ;;
	*) [ -n "$(jget registration)" ] && pass "reg_stat $r: $(jget registration)" ||
		fail "reg_stat $r without its name" ;;
	esac
fi
stop_emu

# ------------------------------------------------------------ exit codes
st status/exit/no-device -d "$TMP/not-there" -m simcom
if [ "$RC" != 1 ] || ! [ -s "$ERR" ] || [ -s "$OUT" ]; then
	fail "exit $RC (expected 1, a reason on stderr, nothing on stdout)"
else
	pass
fi
# A pty whose far end never answers: unreachable, within the bound.
SILENT_LINK=$TMP/silent
if bg_start READY "$TMP/silent.out" "$PY" -c 'import os, pty, sys, time
m, s = pty.openpty()
os.symlink(os.ttyname(s), sys.argv[1])
print("READY", flush=True)
time.sleep(120)' "$SILENT_LINK"; then
	SILENT_PID=$BG_PID
else
	SILENT_PID=
fi
st status/exit/silent -d "$SILENT_LINK" -m simcom
if [ "$RC" != 1 ] || [ -s "$OUT" ]; then
	fail "exit $RC (expected 1 and nothing on stdout)"
else
	pass
fi
[ -z "$SILENT_PID" ] || stop_pid "$SILENT_PID"
st status/exit/usage --bogus
[ "$RC" = 2 ] && pass || fail "exit $RC for an unknown option, expected 2"
st status/exit/argument -d "$TMP/tty" extra
[ "$RC" = 2 ] && pass || fail "exit $RC for an extra argument, expected 2"
ATHTTP_DEVICE= st status/exit/no-device-given
[ "$RC" = 2 ] && pass || fail "exit $RC with no device, expected 2"
st status/exit/bad-modem -d "$TMP/tty" -m nosuch
[ "$RC" = 2 ] && pass || fail "exit $RC for an unknown modem, expected 2"

e2e_done
