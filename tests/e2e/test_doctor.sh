#!/bin/bash
# athttp doctor against the emulator: each family identified with -m auto
# (exit 0, its name), an explicit -m of the wrong family (FAIL naming it
# and the right one), a missing device, a pty nobody answers (silence at
# every rate, within a bound), the wrong baud (the emulator's
# --strict-baud: the doctor finds the rate), a port another process holds
# by flock (its pid and program named), a device the user cannot open (as
# nobody: the group and the fix named), SIM / registration / signal where
# the emulator has them, a URL fetched (sha256 of the body) with --record,
# and the command line (usage: exit 2; --help lists the subcommand).
E2E_NAME=doctor
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }
gen_files
start_origin || { e2e_done; exit 1; }

# A doctor run is bounded by its own waits; this is the outer bound.
DOCTOR_TIMEOUT=40

# doc CASE ARG...: athttp doctor ARG... (stdout $OUT, stderr $ERR, $RC,
# $SECS the whole run's seconds).
doc() {
	local t0
	CASE=$1
	shift
	t0=$(date +%s%N)
	CLIENT_TIMEOUT=$DOCTOR_TIMEOUT ath_raw "$CASE" "$ATHTTP" doctor "$@"
	SECS=$((($(date +%s%N) - t0) / 1000000000))
}

# has PATTERN: a line of the doctor's output matches the ERE.
has() { grep -Eq -- "$1" "$OUT"; }
first_fail() { grep -m1 '^FAIL' "$OUT"; }

# ------------------------------------------------------------ each family, -m auto
for fam in simcom neoway httpcfg quectel onemo espat; do
	MODEM=$fam start_emu || continue
	doc "doctor/auto/$fam" -d "$TMP/tty"
	if [ "$RC" != 0 ]; then
		fail "exit $RC, expected 0: $(first_fail)"
	elif ! has "^ok family: $fam \\("; then
		fail "no 'ok family: $fam' line: $(grep family "$OUT")"
	elif ! has '^ok service: '; then
		fail "no 'ok service' line"
	else
		pass "$(sed -n "s/^ok family: $fam (\([^;]*\);.*/\1/p" "$OUT")"
	fi
done

# ------------------------------------------------------------ network checks
MODEM=simcom start_emu
doc doctor/network/simcom -d "$TMP/tty"
if [ "$RC" != 0 ]; then
	fail "exit $RC: $(first_fail)"
elif ! has '^ok sim: SIM ready$' || ! has '^ok registration: registered \(home network\)' ||
	! has '^ok signal: -73 dBm \(\+CSQ: 20,99\)$' || ! has '^skip wifi: the module does not answer AT\+CWJAP\?'; then
	fail "sim/registration/signal/wifi lines: $(grep -E '^[a-zA-Z]+ (sim|registration|signal|wifi):' "$OUT" | tr '\n' '|')"
else
	pass
fi

# ------------------------------------------------------------ the wrong family
doc doctor/wrong-modem -d "$TMP/tty" -m neoway
if [ "$RC" != 1 ]; then
	fail "exit $RC, expected 1"
elif ! has '^FAIL family: the module does not speak neoway: AT\+HTTPSCFG=\? answered ERROR'; then
	fail "no FAIL naming neoway: $(grep family "$OUT")"
elif ! grep -A1 '^FAIL family' "$OUT" | grep -q 'it answers as simcom'; then
	fail "the fix does not name simcom: $(grep -A1 '^FAIL family' "$OUT" | tail -n1)"
elif has '^(ok|FAIL) service'; then
	fail "went on to the bring-up after the family failed"
else
	pass
fi

doc doctor/right-modem -d "$TMP/tty" -m simcom
if [ "$RC" != 0 ] || ! has '^ok family: the module speaks simcom'; then
	fail "exit $RC: $(grep family "$OUT")"
else
	pass
fi

# ------------------------------------------------------------ a URL, recorded
REC=$TMP/out/doctor.rec
doc doctor/url -d "$TMP/tty" --record "$REC" "$U/small.txt"
want="^ok request: GET $U/small.txt: 200 OK, $(fsize "$WWW/small.txt") bytes, sha256 $SMALL_SHA\$"
if [ "$RC" != 0 ]; then
	fail "exit $RC: $(first_fail)"
elif ! has "$want"; then
	fail "request line: $(grep request "$OUT")"
elif [ ! -s "$REC" ]; then
	fail "no transcript in $REC"
elif ! grep -q '^# athttp doctor: the port at 115200 baud' "$REC" ||
	! grep -q 'AT+HTTPACTION=?' "$REC" || ! grep -q '^# athttp doctor: athttp.s bring-up and request as simcom' "$REC" ||
	! grep -q 'AT+HTTPINIT' "$REC" || ! grep -q 'small.txt' "$REC"; then
	fail "the transcript lacks a part: $(grep '^# athttp doctor' "$REC" | tr '\n' '|')"
elif ls "$REC".part* >/dev/null 2>&1; then
	fail "parts left behind: $(ls "$REC".part*)"
else
	pass "sha256 matches, transcript $(grep -c '^+' "$REC") events"
fi

# ------------------------------------------------------------ the port locked
LOCK_PID=
if command -v flock >/dev/null; then
	# -o: the lock stays with flock itself, not with its sleep.
	flock -o "$TMP/tty" sleep 30 </dev/null >/dev/null 2>&1 &
	LOCK_PID=$!
	E2E_PIDS+=("$LOCK_PID")
	# Wait (bounded) until the lock shows in /proc/locks.
	for ((i = 0; i < 50; i++)); do
		grep -q " FLOCK .* $LOCK_PID " /proc/locks && break
		sleep 0.1
	done
	doc doctor/locked -d "$TMP/tty"
	if [ "$RC" != 1 ]; then
		fail "exit $RC, expected 1"
	elif ! has "^FAIL lock: .* is held by pid $LOCK_PID \\(flock: flock -o "; then
		fail "pid $LOCK_PID and flock not named: $(grep lock "$OUT")"
	elif has '^(ok|FAIL) baud'; then
		fail "went on to the baud check with the port locked"
	else
		pass
	fi
	for p in $(ps -o pid= --ppid "$LOCK_PID"); do kill "$p" 2>/dev/null; done
	stop_pid "$LOCK_PID"
else
	skip doctor/locked "no flock(1)"
fi

# ------------------------------------------------------------ the user cannot open it
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && getent group dialout >/dev/null &&
	id nobody >/dev/null 2>&1; then
	# The pty itself: $TMP is private to root.
	chgrp dialout "$EMU_PTY" && chmod 0660 "$EMU_PTY"
	# As nobody, who is not in dialout.
	CLIENT_TIMEOUT=$DOCTOR_TIMEOUT ath_raw doctor/denied setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$ATHTTP" doctor -d "$EMU_PTY"
	if [ "$RC" != 1 ]; then
		fail "exit $RC, expected 1: $(head -c 300 "$OUT")"
	elif ! has "^FAIL permissions: nobody cannot open $EMU_PTY read-write \\(crw-rw----, owner root, group dialout\\): the user is not in that group"; then
		fail "verdict: $(grep permissions "$OUT")"
	elif ! grep -A1 '^FAIL permissions' "$OUT" | grep -q 'sudo usermod -aG dialout nobody, then log in again'; then
		fail "fix: $(grep -A1 '^FAIL permissions' "$OUT" | tail -n1)"
	else
		pass
	fi
else
	skip doctor/denied "needs root, setpriv, a dialout group and a nobody user"
fi

# ------------------------------------------------------------ the wrong baud
MODEM=simcom start_emu --baud 9600 --strict-baud
doc doctor/wrong-baud -d "$TMP/tty" -b 115200
if [ "$RC" != 1 ]; then
	fail "exit $RC, expected 1"
elif ! has '^FAIL baud: the module answers AT at 9600 baud, not at 115200$'; then
	fail "baud line: $(grep baud "$OUT")"
elif ! grep -A1 '^FAIL baud' "$OUT" | grep -q 'give athttp -b 9600'; then
	fail "fix: $(grep -A1 '^FAIL baud' "$OUT" | tail -n1)"
elif ! has '^ok family: simcom ' || ! has '^ok service: '; then
	fail "did not go on at 9600: $(grep -E 'family|service' "$OUT" | tr '\n' '|')"
else
	pass
fi

doc doctor/right-baud -d "$TMP/tty" -b 9600
if [ "$RC" != 0 ] || ! has '^ok baud: the module answers AT at 9600 baud$'; then
	fail "exit $RC: $(grep baud "$OUT")"
else
	pass
fi
stop_emu

# ------------------------------------------------------------ a missing device
doc doctor/missing -d "$TMP/no-such-tty"
if [ "$RC" != 1 ]; then
	fail "exit $RC, expected 1"
elif ! has "^FAIL device: $TMP/no-such-tty: No such file or directory$"; then
	fail "device line: $(head -n1 "$OUT")"
elif [ "$(grep -c '^[a-zA-Z]* [a-z]*:' "$OUT")" != 1 ]; then
	fail "went on after the device check: $(tr '\n' '|' <"$OUT")"
else
	pass
fi

# ------------------------------------------------------------ a pty nobody answers
if bg_start PTY "$TMP/silent.out" "$PY" -c '
import os, sys, time
master, slave = os.openpty()
print("PTY " + os.ttyname(slave), flush=True)
time.sleep(120)'; then
	SILENT=${BG_LINE#PTY }
	SILENT_PID=$BG_PID
	doc doctor/silent -d "$SILENT"
	if [ "$RC" != 1 ]; then
		fail "exit $RC, expected 1"
	elif ! has '^FAIL baud: silence: no answer to AT at any rate \(115200 9600 19200 38400 57600 230400 460800 921600; 300 ms each\)$'; then
		fail "baud line: $(grep baud "$OUT")"
	elif ! grep -A1 '^FAIL baud' "$OUT" | grep -q 'try the others'; then
		fail "fix: $(grep -A1 '^FAIL baud' "$OUT" | tail -n1)"
	elif [ "$SECS" -gt 8 ]; then
		fail "took ${SECS}s (8 rates at 300 ms should be about 3 s)"
	else
		pass "${SECS}s"
	fi
	stop_pid "$SILENT_PID"
else
	CASE=doctor/silent
	fail "no pty from python"
fi

# ------------------------------------------------------------ the command line
doc doctor/usage/baud -d "$TMP/tty" -b 12345
[ "$RC" = 2 ] && grep -q 'baud rate must be one of' "$ERR" && pass || fail "exit $RC: $(head -n1 "$ERR")"
doc doctor/usage/modem -d "$TMP/tty" -m nosuch
[ "$RC" = 2 ] && grep -q 'unknown modem' "$ERR" && pass || fail "exit $RC: $(head -n1 "$ERR")"
doc doctor/usage/two-urls -d "$TMP/tty" http://a/ http://b/
[ "$RC" = 2 ] && pass || fail "exit $RC, expected 2"
doc doctor/usage/url -d "$TMP/tty" ftp://a/
[ "$RC" = 2 ] && grep -q 'http:// or https://' "$ERR" && pass || fail "exit $RC: $(head -n1 "$ERR")"
ath_raw doctor/help "$ATHTTP" --help
[ "$RC" = 0 ] && grep -q '^       athttp doctor \[-d DEVICE\] \[-m MODEM|auto\] \[-b BAUD\] \[--record FILE\]' "$OUT" &&
	grep -q '^athttp doctor ' "$OUT" && pass || fail "--help does not list doctor"

chk_sanitizer_reports
e2e_done
