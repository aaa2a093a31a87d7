#!/bin/bash
# Wait bounds and recovery (README "When the module misbehaves"), for every
# dialect against athttp-emu: the module resets (--fault reset:1:B, RDY;
# ESP-AT: ready) B bytes into its answer to the first request, a 256 KiB
# GET.  One python client under the wrapper, ATHTTP_TIMEOUT_MS=3000, makes
# that request and then the same again:
#   <dialect>/reset/first-cut     the first ends (a cut, or 502 naming the
#                                 restart) at once, ESP-AT's within the
#                                 timeout, and what body it got is the
#                                 file's start;
#   <dialect>/reset/next-served   the second is 200 with the file, sha256
#                                 checked, after a full bring-up (the
#                                 echo turned off again: ATE0 after the
#                                 reset in the emulator's log).
# Silence and an origin closing early are the unit tests' (test_bounds,
# test_modem): the emulator has no such faults yet.

E2E_NAME=bounds
. "$(dirname "$0")/lib.sh"

T_MS=3000
LATE_S=1.5                      # slack past the timeout on a busy machine
RESET_AFTER=20000               # module output bytes into the first request
DIALECTS=${BOUNDS_DIALECTS:-"simcom neoway httpcfg quectel onemo espat"}

e2e_init
start_origin || { e2e_done; exit 1; }
head -c $((256 * 1024)) /dev/urandom >"$WWW/b256k.bin"
B_SHA=$(sha "$WWW/b256k.bin")

# Two GETs of argv[1], one process: per request one line
#   "<n> <status|cut> <seconds> <bytes> <sha256 of what came>"
CLIENT='
import hashlib, sys, time, urllib.request, urllib.error, http.client
for n in (1, 2):
    t0 = time.monotonic()
    got, status = b"", "cut"
    try:
        r = urllib.request.urlopen(sys.argv[1], timeout=30)
        status = str(r.status)
        try:
            while True:
                b = r.read(65536)
                if not b:
                    break
                got += b
            if len(got) != int(r.headers.get("Content-Length", -1)):
                status = "cut"
        except http.client.IncompleteRead as e:
            got += e.partial
            status = "cut"
        except (OSError, http.client.HTTPException):
            status = "cut"
    except urllib.error.HTTPError as e:
        status = "%d %s" % (e.code, (e.headers.get("X-Athttp-Error") or "").replace(" ", "_"))
    except (OSError, http.client.HTTPException):
        status = "cut"
    print(n, status.replace(" ", ":"), "%.3f" % (time.monotonic() - t0), len(got),
          hashlib.sha256(got).hexdigest(), flush=True)
'

for MODEM in $DIALECTS; do
	start_emu --fault "reset:1:$RESET_AFTER" || continue
	# After a reset the module has lost its network: the bring-up
	# restores it from these settings (the emulator's defaults).
	case $MODEM in
	espat) net=(ATHTTP_WIFI_SSID=athttp-emu ATHTTP_WIFI_PASSWORD=athttp-emu) ;;
	*) net=(ATHTTP_APN=internet) ;;
	esac
	ath_raw "$MODEM/reset/first-cut" env ATHTTP_TIMEOUT_MS=$T_MS "${net[@]}" \
		"$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- "$PY" -c "$CLIENT" "$U/b256k.bin"
	read -r _ st1 s1 n1 sha1 < <(sed -n 1p "$OUT")
	read -r _ st2 s2 n2 sha2 < <(sed -n 2p "$OUT")
	if [ -z "$st1" ]; then
		fail "no answer line from the client (exit $RC): $(head -c 300 "$ERR")"
	elif [ "$st1" = 200 ]; then
		fail "the first request came through whole ($n1 bytes): the reset was not seen"
	elif [ "$(echo "$s1 > $T_MS / 1000 + $LATE_S" | bc -l)" = 1 ]; then
		fail "the first request ended after $s1 s ($st1), over the $T_MS ms timeout"
	elif [ "$MODEM" != espat ] && [ "$(echo "$s1 > $T_MS / 2000" | bc -l)" = 1 ]; then
		# RDY is seen at once; ESP-AT's body is read raw, where its
		# "ready" is not looked for: the timeout bounds that one.
		fail "the first request ended after $s1 s ($st1): the restart line was not seen, only the silence after it"
	elif [ "$sha1" != "$(head -c "$n1" "$WWW/b256k.bin" | sha256sum | cut -d' ' -f1)" ]; then
		fail "the first request's $n1 body bytes are not the file's start"
	else
		pass "$st1 after $s1 s, $n1 body bytes"
	fi
	CASE=$MODEM/reset/next-served
	after_reset=$(grep -n -m1 '^CMD AT+HTTPREAD\|^CMD AT+QHTTPREAD\|^CMD AT+HTTPACTION\|^CMD AT+MHTTPREQUEST\|^CMD AT+HTTPCLIENT\|^CMD AT+HTTPSETUP' "$EMU_LOG" | cut -d: -f1)
	if [ "$st2" != 200 ] || [ "$sha2" != "$B_SHA" ]; then
		fail "the request after the reset: ${st2:-nothing}, $n2 bytes, sha ${sha2:0:12} (want 200, ${B_SHA:0:12}), after $s2 s"
	elif ! tail -n +"${after_reset:-1}" "$EMU_LOG" | grep -q '^CMD ATE0$'; then
		fail "200 with the file, but no ATE0 after the reset: the module was not brought up again"
	else
		pass "200, $n2 bytes, sha256 right, after $s2 s"
	fi
	CASE=$MODEM/emulator-alive
	if kill -0 "$EMU_PID" 2>/dev/null; then pass; else fail "athttp-emu exited"; fi
done
stop_emu
chk_sanitizer_reports

e2e_done
