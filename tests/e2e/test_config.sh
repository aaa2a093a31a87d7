#!/bin/bash
# The wrapper's configuration against the emulator: a config file (-c)
# naming device and modem makes `athttp -- curl` (python under ASan) fetch a body (sha256); the
# default files (ATHTTP_SYSCONFDIR, XDG_CONFIG_HOME) in order, the user's
# over the system's, the environment over both and a flag over all; a bad
# line stops the run with FILE:LINE and exit 2 before COMMAND starts (and a
# bad ATHTTP_ twin likewise, naming the variable); -m auto finds each of
# the six emulated families; a module no family fits (a fake on a pty that
# answers OK to AT and ERROR to everything else) is refused, exit 2,
# COMMAND never started.
E2E_NAME=config
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }
gen_files
start_origin || { e2e_done; exit 1; }

# No file of the machine or of the user running the tests may leak in.
export ATHTTP_SYSCONFDIR=$TMP/etc
export XDG_CONFIG_HOME=$TMP/xdg
mkdir -p "$ATHTTP_SYSCONFDIR" "$XDG_CONFIG_HOME/athttp"
unset ATHTTP_DEVICE ATHTTP_MODEM ATHTTP_BAUD

# curl hangs under a preloaded libasan (see matrix.sh): python there.
if [ "$E2E_SAN" = address ]; then
	CLIENT_GET=("$PY" "$E2E_ROOT/tests/e2e/httpc.py" -o)
else
	CLIENT_GET=(curl -sS -o)
fi

# get CASE ATHTTP-ARG...: curl of small.txt through athttp ARG...; the
# body's sha256 in $GOT (empty: no body).
get() {
	local case=$1 body
	shift
	body=$TMP/out/${case//\//_}.small
	rm -f "$body"
	ath_raw "$case" "$ATHTTP" "$@" -- "${CLIENT_GET[@]}" "$body" "$U/small.txt"
	GOT=
	[ -f "$body" ] && GOT=$(sha "$body")
}
got_small() {
	if [ "$RC" != 0 ]; then
		fail "exit $RC, expected 0"
	elif [ "$GOT" != "$SMALL_SHA" ]; then
		fail "body sha256 ${GOT:-(no body)}, expected $SMALL_SHA"
	else
		return 0
	fi
	return 1
}

MODEM=simcom start_emu || { e2e_done; exit 1; }

# ------------------------------------------------------------ -c FILE
CONF=$TMP/athttp.conf
cat >"$CONF" <<EOF
# the emulated module
device = "$TMP/tty"    # quoted: a path may have blanks
modem  = simcom
baud = 115200
timeout_ms = 30000
verbose = no
EOF
get config/file -c "$CONF"
got_small && pass

# Without -c the same file is not read: no device, a usage error.
get config/no-file
if [ "$RC" != 2 ] || ! grep -q 'no device given' "$ERR"; then
	fail "exit $RC, expected 2 with 'no device given': $(head -c 200 "$ERR")"
else
	pass
fi

# -c names a file that must exist.
get config/missing -c "$TMP/no-such.conf"
if [ "$RC" != 2 ] || ! grep -q "^athttp: $TMP/no-such.conf: No such file or directory" "$ERR"; then
	fail "exit $RC, expected 2 naming the file: $(head -c 200 "$ERR")"
else
	pass
fi

# A secret in a file every user can read: warned about (with the fix),
# the run goes on; the same file 0640 is quiet.
cat "$CONF" >"$TMP/secret.conf"
echo 'pin = 4321' >>"$TMP/secret.conf"
chmod 0644 "$TMP/secret.conf"
get config/secret-readable -c "$TMP/secret.conf"
if ! grep -q "^athttp: warning: $TMP/secret.conf holds pin and every user can read it: chmod o-r $TMP/secret.conf\$" "$ERR"; then
	fail "no warning: $(head -c 300 "$ERR")"
elif grep -q 4321 "$ERR"; then
	fail "the PIN itself is on stderr"
elif got_small; then
	pass
fi
chmod 0640 "$TMP/secret.conf"
get config/secret-group -c "$TMP/secret.conf"
if grep -q 'warning' "$ERR"; then
	fail "warned about a 0640 file: $(head -c 300 "$ERR")"
elif got_small; then
	pass
fi

# ------------------------------------------------------------ default files, precedence
# The system file names a family the module does not speak; the user's
# file, read later, corrects it.
printf 'device = %s\nmodem = neoway\n' "$TMP/tty" >"$ATHTTP_SYSCONFDIR/athttp.conf"
printf 'modem = simcom\n' >"$XDG_CONFIG_HOME/athttp/athttp.conf"
get config/user-over-system
got_small && pass

# Only the system file: its wrong family shows (the engine speaks neoway
# to a SIMCom module: the trace says which dialect it opened with).
rm "$XDG_CONFIG_HOME/athttp/athttp.conf"
get config/system-only
if ! grep -q "# opened $TMP/tty (.*dialect neoway)" "$TRACE"; then
	fail "the engine did not open with the system file's neoway: $(grep -m1 opened "$TRACE")"
elif [ "$GOT" = "$SMALL_SHA" ]; then
	fail "a SIMCom module served neoway commands: the emulator is not strict"
else
	pass
fi

# The environment over the files.
ATHTTP_MODEM=simcom get config/env-over-file
got_small && pass

# A flag over the environment and the files.
ATHTTP_MODEM=neoway get config/flag-over-env -m simcom
got_small && pass

# -c replaces the default files: its modem wins, theirs are not read.
printf 'device = %s\nmodem = simcom\n' "$TMP/tty" >"$TMP/only.conf"
printf 'bogus = 1\n' >"$XDG_CONFIG_HOME/athttp/athttp.conf"
get config/explicit-only -c "$TMP/only.conf"
got_small && pass

# ------------------------------------------------------------ bad lines
# Every reader of the file stops at a bad line, exit 2, before COMMAND.
bad_line() { # CASE LINE-TEXT EXPECTED-REASON-ERE
	local case=$1 text=$2 want=$3
	printf '# fine\ndevice = %s\n%s\n' "$TMP/tty" "$text" >"$TMP/bad.conf"
	rm -f "$TMP/ran"
	ath_raw "$case" "$ATHTTP" -c "$TMP/bad.conf" -- touch "$TMP/ran"
	if [ "$RC" != 2 ]; then
		fail "exit $RC, expected 2"
	elif [ -e "$TMP/ran" ]; then
		fail "COMMAND ran despite the bad line"
	elif ! grep -Eq "^athttp: $TMP/bad.conf:3: $want" "$ERR"; then
		fail "stderr: $(head -c 300 "$ERR"), expected $TMP/bad.conf:3: $want"
	else
		pass "$(head -n1 "$ERR" | sed "s|$TMP/||")"
	fi
}
bad_line config/bad/baud 'baud = 12345' 'baud: "12345" is not a standard baud rate'
bad_line config/bad/unknown-key 'colour = blue' 'unknown key "colour"'
bad_line config/bad/no-equals 'modem simcom' "modem: missing '='"
bad_line config/bad/modem 'modem = nokia' 'modem: unknown modem "nokia"; one of: simcom \| .* \| auto$'
bad_line config/bad/duplicate "device = $TMP/tty" 'device: set again \(first on line 2\)'
bad_line config/bad/quote 'apn = "internet' 'apn: unterminated quote'
rm -f "$XDG_CONFIG_HOME/athttp/athttp.conf"

# The same check for an environment twin, naming the variable.
rm -f "$TMP/ran"
ATHTTP_RTSCTS=maybe ath_raw config/bad/env "$ATHTTP" -c "$CONF" -- touch "$TMP/ran"
if [ "$RC" != 2 ] || [ -e "$TMP/ran" ] ||
	! grep -q '^athttp: ATHTTP_RTSCTS: "maybe" is not a boolean' "$ERR"; then
	fail "exit $RC: $(head -c 300 "$ERR")"
else
	pass
fi
rm -f "$ATHTTP_SYSCONFDIR/athttp.conf"

# ------------------------------------------------------------ -m auto
for fam in simcom neoway httpcfg quectel onemo espat; do
	MODEM=$fam start_emu || continue
	get "config/auto/$fam" -d "$TMP/tty" -m auto
	if ! grep -q "^athttp: found $fam (" "$ERR"; then
		fail "no 'athttp: found $fam (' on stderr: $(grep found "$ERR" | head -c 200)"
	elif got_small; then
		pass "$(sed -n 's/^athttp: found //p' "$ERR" | head -c 120)"
	fi
done

# modem = auto in a file, the same.
MODEM=onemo start_emu
printf 'device = %s\nmodem = auto\n' "$TMP/tty" >"$TMP/auto.conf"
get config/auto/file -c "$TMP/auto.conf"
if ! grep -q '^athttp: found onemo (' "$ERR"; then
	fail "no 'athttp: found onemo (': $(head -c 200 "$ERR")"
elif got_small; then
	pass
fi
stop_emu

# ------------------------------------------------------------ an unknown module
# Answers OK to AT and ERROR to everything else: no family's probe fits.
cat >"$TMP/fake.py" <<'EOF'
import os, pty, sys, tty
master, slave = pty.openpty()
tty.setraw(slave)
link = sys.argv[1]
if os.path.lexists(link):
    os.unlink(link)
os.symlink(os.ttyname(slave), link)
print("READY", os.ttyname(slave), flush=True)
buf = b""
while True:
    try:
        data = os.read(master, 4096)
    except OSError:
        continue
    if not data:
        break
    buf += data
    while b"\r" in buf:
        line, buf = buf.split(b"\r", 1)
        line = line.strip(b"\n").strip()
        if not line:
            continue
        os.write(master, b"\r\nOK\r\n" if line.upper() == b"AT" else b"\r\nERROR\r\n")
EOF
if bg_start READY "$TMP/fake.out" "$PY" "$TMP/fake.py" "$TMP/fake-tty"; then
	FAKE_PID=$BG_PID
	rm -f "$TMP/ran"
	ath_raw config/auto/unknown "$ATHTTP" -d "$TMP/fake-tty" -m auto -- touch "$TMP/ran"
	if [ "$RC" != 2 ]; then
		fail "exit $RC, expected 2"
	elif [ -e "$TMP/ran" ]; then
		fail "COMMAND ran with an unknown module"
	elif ! grep -q "^athttp: -m auto: $TMP/fake-tty: unknown module: no family's probe answered OK (simcom (AT+HTTPACTION=? ERROR), " "$ERR"; then
		fail "stderr: $(head -c 400 "$ERR")"
	elif ! grep -q 'ATI says nothing' "$ERR" || ! grep -q '^athttp: not starting COMMAND; give -m MODEM' "$ERR"; then
		fail "stderr does not say what ATI said or what to do: $(head -c 400 "$ERR")"
	elif grep -q 'found' "$ERR"; then
		fail "claims to have found something: $(head -c 300 "$ERR")"
	else
		pass
	fi
	stop_pid "$FAKE_PID"
else
	CASE=config/auto/unknown
	fail "the fake module printed no READY line: $(head -c 300 "$TMP/fake.out.err")"
fi

chk_sanitizer_reports
e2e_done
