# tests/e2e/httpcfg_family.sh — the matrix for the AT+HTTPCFG set and its
# Q-prefixed twin (bash; sourced by test_httpcfg.sh and test_quectel.sh,
# which set MODEM and STEM first: HTTP or QHTTP).  One driver with the
# prefix as data, one emulator likewise, so one test plan.
#
# Client choice (make check's run time): all four clients run every core
# case and every raw-packet extra (PUT/PATCH with a body,
# OPTIONS, X-Trace and a cookie, chunked with trailers, the client's own
# headers verbatim); the 5 MB GET only with curl and python
# (BIG_CLIENTS): 5 MB through a pty, recorded and replayed, is the
# costliest case (~2 s each), and what it proves — a long stream through
# HTTPREAD's CONNECT phase, byte-exact — does not depend on the client once
# one non-blocking (curl: poll) and one blocking (python: read) reader have
# shown it; simcom runs it for all four.  python also runs under ASan,
# where curl and wget cannot.

E2E_NAME=$MODEM
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/matrix.sh"

# The record (see matrix.sh): raw packets, every method and header carried.
D_RAW=1
D_REFUSED_METHODS=
D_URL_PAT='^DATA [0-9]* @URL@$'         # the URL in AT+HTTPURL's data phase
D_SEND_PAT="AT+$STEM\\(GET\\|POST\\)="
D_BODY_PAT="AT+${STEM}POST="
D_TRACE_PAT="AT+${STEM}GET="
D_VERIFY_MODEM="AT+${STEM}GET="
D_VERBOSE_PAT='\[data [0-9]* bytes\] "http://origin\.test/small\.txt"'
D_DNS_CODE=714                          # HTTP(S) DNS error
D_OOM_CODE=729                          # alloc memory fail
D_OVER_NAME=1100k                       # over AT+HTTPPOST's 1024000 bytes
D_OVER_FILE=body1100k
BIG_CLIENTS="curl python"
# https (section_https, matrix.sh): the roots by AT+[Q]FUPL, verified with
# [Q]SSLCFG "seclevel" 1; a rejected server certificate, like any failed
# handshake, is the SSL socket's connect failing: 716.
D_TLS=1
D_TLS_VERIFIES=1
D_TLS_ERROR_PAT="^$MODEM 716 "
D_TLS_EMU_ARGS=
FILE_STEM=${STEM%HTTP}F                 # F or QF: AT+FUPL, AT+QFUPL

body1100k() {
	local f=$TMP/body1100k.bin
	[ "$1" = busybox ] && f=$TMP/body1100k-nonul.bin
	if [ ! -f "$f" ]; then
		if [ "$1" = busybox ]; then
			tr -d '\000' </dev/urandom | head -c $((1100 * 1024)) >"$f"
		else
			head -c $((1100 * 1024)) /dev/urandom >"$f"
		fi
	fi
	echo "$f"
}

matrix_setup || exit 1

P=$MODEM
for c in $CLIENTS; do
	matrix_client "$c"
done
# ($CORE_CLIENT: curl, or python under ASan)
# Over AT+HTTPGET's 2048-byte packet: a GET goes by AT+HTTPPOST, whole.
t_big_header_get get-3k-header X-Pad 3000 "AT+${STEM}POST="
# A body under the body limit whose request (head + body) is over
# AT+HTTPPOST's 1024000 bytes: 413 naming the limit, never truncated.
t_post_at_limit post-packet-over-limit 1023950 1024000
matrix_tail

# Firmware whose AT+HTTPREAD keeps a chunked body's framing (the manual
# does not say): the chunked cases again, trailers included.
P=$MODEM-raw-chunked
if start_emu --variant raw-chunked; then
	for c in $BIG_CLIENTS; do
		in_list "$c" "$CLIENTS" || continue
		t_get_chunked "$c"
		t_get_trailers "$c"
	done
	[ "$CORE_CLIENT" = curl ] && t_keepalive
	t_get_small $CORE_CLIENT
	t_emu_alive
fi

# Firmware whose AT+HTTPREAD ends as the manual's table 12 prints it:
# "+HTTPREAD: 0" straight after the response, no OK (a driver that waited
# for the OK would time out and cut these).
P=$MODEM-table12
if start_emu --variant table12; then
	t_get_small $CORE_CLIENT
	t_get_chunked $CORE_CLIENT
	t_post_form $CORE_CLIENT
	t_head $CORE_CLIENT
	t_emu_alive
fi

# paced line and slow module (matrix.sh): timing is the same code for the
# twins (one driver, one emulator, the prefix as data), so quectel skips
# these two sections (~15 s of make check); the failing module (the
# manual's timeout is a bare TIMEOUT line) runs for both.
if [ "$MODEM" = httpcfg ]; then
	section_paced
	# 400 ms, not simcom's 700: a late answer is late at either, and
	# make check saves 5 s a dialect.
	SLOW_MS=400 section_slow
fi
D_TIMEOUT_PAT='TIMEOUT'
section_failures

section_https

# Firmware that cannot verify: without the upload command (AT+[Q]FUPL
# answers ERROR: the roots cannot go in), or refusing "seclevel" 1.  With
# --module-ca, https answers 502 naming the refused command, and no request
# reaches the module; with --insecure-upstream it runs, with seclevel 0,
# marked unverified.
SSLCFG="AT+${STEM%HTTP}SSLCFG"
t_https_unverifiable() { # REFUSED (what X-Athttp-Error must name)
	local e
	local -a ATH_OPTS=(--module-ca "$PKI_ROOT")
	NO_ROUNDTRIP=1 req "$CORE_CLIENT" "$P/$CORE_CLIENT/https-refused" GET "https://origin.test/small.txt"
	chk_status 502 || return
	e=$(hdr X-Athttp-Error)
	case $e in
	*"refused $1"*) ;;
	*) fail "X-Athttp-Error does not name the refused $1: '$e'"; return ;;
	esac
	chk_emu_no "^CMD AT+${STEM}URL=" "a request for an upstream nobody verifies" || return
	pass
	ATH_OPTS=(--module-ca "$PKI_ROOT" --insecure-upstream)
	NO_ROUNDTRIP=1 req "$CORE_CLIENT" "$P/$CORE_CLIENT/https-insecure" GET "https://origin.test/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" || return
	chk_header X-Athttp-Upstream-TLS unverified || return
	pass
}
P=$MODEM-no-upload
if start_emu --variant no-upload; then
	t_https_unverifiable "AT+${FILE_STEM}UPL="
	CASE=$P/seclevel-0
	chk_emu_no "^CMD $SSLCFG=\"seclevel\",[12],1$" "seclevel 1 without the roots" &&
		chk_emu_has "^CMD $SSLCFG=\"seclevel\",[12],0$" "seclevel 0 said out loud" && pass
	t_emu_alive
fi
P=$MODEM-no-seclevel
if start_emu --variant no-seclevel; then
	t_https_unverifiable "$SSLCFG=\"seclevel\","
	t_emu_alive
fi
# Firmware that sends no SNI until told: the driver's switch makes it.
P=$MODEM-sni-off
if start_emu --variant sni-off; then
	ATH_OPTS=(--module-ca "$PKI_ROOT")
	NO_ROUNDTRIP=1 req "$CORE_CLIENT" "$P/$CORE_CLIENT/https-sni" GET "https://origin.test/small.txt"
	ATH_OPTS=()
	if chk_status 200 && chk_body_file "$WWW/small.txt"; then
		if origin_since | grep -q '^TLS origin sni=origin\.test$'; then
			pass
		else
			fail "the module sent no SNI: $(origin_since | grep -m1 '^TLS')"
		fi
	fi
	t_emu_alive
fi

# Firmware that reports a passed <rsptime> as +HTTPGET: 702, not TIMEOUT.
P=$MODEM-timeout-code
D_TIMEOUT_PAT='702'
if start_emu --variant timeout-code; then
	t_timeout_then_recover
	t_get_small $CORE_CLIENT
	t_emu_alive
fi
D_TIMEOUT_PAT=
stop_emu
chk_sanitizer_reports

e2e_done
