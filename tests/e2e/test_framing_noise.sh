#!/bin/bash
# A burst of line noise inside a 1 MiB GET's response, on every family:
# tests/e2e/noise_pty.py sits between athttp and athttp-emu and inserts a
# few bytes into what the module sends, once, deep inside the body.  The
# module's counts then no longer match its data, and the client must see
# a failure (a cut connection after the head, or a 502/504), never a
# complete 200.  The same proxy without noise gives the byte-exact body, so
# the failure is the noise's.  One "ok"/"fail" line per case (see lib.sh).

E2E_NAME=framing-noise
. "$(dirname "$0")/lib.sh"

e2e_init
start_origin || exit 1
head -c $((1024 * 1024)) /dev/urandom >"$WWW/mb.bin"
MB_SHA=$(sha "$WWW/mb.bin")
MB_SIZE=$(fsize "$WWW/mb.bin")
NOISE_HEX=13fe7e5a6e2340
NOISE_PID=

# start_noise AFTER HEX: the proxy on $TMP/noisy in front of $TMP/tty.
start_noise() {
	[ -n "$NOISE_PID" ] && stop_pid "$NOISE_PID"
	NOISE_PID=
	if ! bg_start READY "$TMP/noise.out" "$PY" -B "$E2E_ROOT/tests/e2e/noise_pty.py" \
		--module "$TMP/tty" --link "$TMP/noisy" --after "$1" --noise "$2"; then
		CASE=$P/setup
		fail "noise_pty.py printed no READY line"
		return 1
	fi
	NOISE_PID=$BG_PID
}

# get CASE: curl GETs mb.bin through athttp on the noisy line (python's
# urllib in a sanitizer build, where curl hangs with libasan preloaded).
get() {
	local case=$1 stem=$TMP/out/${1//\//_}
	if [ -n "$E2E_SAN" ]; then
		ath_raw "$case" "$ATHTTP" -d "$TMP/noisy" -m "$MODEM" -- \
			"$PY" "$E2E_ROOT/tests/e2e/httpc.py" -o "$stem.body" "$U/mb.bin"
		STATUS=$(sed -n 's/^STATUS //p' "$OUT")
	else
		ath_raw "$case" "$ATHTTP" -d "$TMP/noisy" -m "$MODEM" -- \
			curl -sS -D "$stem.rawhdr" -o "$stem.body" "$U/mb.bin"
		STATUS=
		[ -f "$stem.rawhdr" ] && STATUS=$(last_block "$stem.rawhdr" | sed -n '1s/^STATUS //p')
	fi
	BODY=$stem.body
	[ -f "$BODY" ] || : >"$BODY"
}

for MODEM in simcom httpcfg neoway onemo espat; do
	P=$MODEM
	start_emu || continue

	# The proxy alone is transparent.
	if start_noise 400000 ""; then
		get "$P/clean"
		if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && [ "$(sha "$BODY")" = "$MB_SHA" ]; then
			pass
		else
			fail "rc $RC status '${STATUS}' size $(fsize "$BODY") (want a byte-exact 200)"
		fi
	fi

	# Noise inside the body: never a complete 200.
	for after in 400000 700001; do
		start_noise "$after" "$NOISE_HEX" || continue
		get "$P/noise-$after"
		if ! grep -q '^NOISE' "$TMP/noise.out.err"; then
			fail "the proxy never sent its noise"
		elif [ "$RC" = 0 ] && [ "$STATUS" = 200 ]; then
			if [ "$(sha "$BODY")" = "$MB_SHA" ]; then
				fail "a complete 200 in spite of the noise (was it dropped?)"
			else
				fail "a complete 200 with wrong bytes ($(fsize "$BODY") of $MB_SIZE)"
			fi
		elif [ "$(fsize "$BODY")" = "$MB_SIZE" ] && [ "$(sha "$BODY")" != "$MB_SHA" ]; then
			fail "all $MB_SIZE bytes delivered, wrong ones (rc $RC)"
		else
			why=$(grep -o 'framing error: .*' "$TRACE" 2>/dev/null | head -n 1 | cut -c1-80)
			pass "rc $RC status ${STATUS:-none}, ${why:-no framing note}"
		fi
		rm -f "$TMP/noise.out.err"
	done
	[ -n "$NOISE_PID" ] && stop_pid "$NOISE_PID"
	NOISE_PID=
done

chk_sanitizer_reports
e2e_done
