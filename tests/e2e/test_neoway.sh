#!/bin/bash
# The Foundation matrix and the raw-packet cases for the Neoway N58
# (-m neoway: AT+HTTPPARA, AT+HTTPSETUP, AT+HTTPACTION=99 custom packets of
# at most 2048 bytes, +HTTPRECV/+HTTPCLOSED), against athttp-emu -m neoway.
# The cases are matrix.sh's; this file is neoway's record and its sections.
#
# Client choice (make check's run time): as httpcfg_family.sh — every core
# case and raw-packet extra with all four clients, the 5 MB GET with curl
# and python only.
E2E_NAME=neoway
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/matrix.sh"
MODEM=neoway

# neoway's record (see matrix.sh): raw packets up to 2048 bytes.
D_RAW=1
D_REFUSED_METHODS=
D_URL_PAT='^DATA [0-9]* [A-Z]* @PATH@ HTTP/1\.1\\x0D\\x0A'  # the packet's request line
D_SEND_PAT='AT+HTTPS\?ACTION='          # http or https (BRE: + literal)
D_BODY_PAT='AT+HTTPACTION=\(99\|2\),'
D_TRACE_PAT='AT+HTTPACTION=99,'
D_VERIFY_MODEM='AT+HTTPSETUP'
D_VERBOSE_PAT='AT+HTTPACTION=99,'
D_DNS_CODE='HTTPSETUP'                  # ERROR after AT+HTTPSETUP: no code
D_OVER_NAME=3k                          # over 2048 bytes, any mode
D_OVER_FILE=body3k
D_MAX_BODY=2048                         # custom packet and POST content
D_LIMIT_TEXT=2048
D_METHOD_BODY=body1k                    # PUT/PATCH bodies that fit a packet
BIG_CLIENTS="curl python"
# https: the S-twins (AT+HTTPSPARA, AT+HTTPSSETUP, AT+HTTPSACTION=99).  The
# N58 manual has no command to load a CA certificate (AT+HTTPSCFG="cacert"
# names a file nothing can write), so the module cannot verify: https
# without --insecure-upstream is a 502 "cannot verify", and with it runs
# with authmode 0, marked unverified.  A failed handshake is a bare ERROR to
# AT+HTTPSSETUP (which the driver names), though unverified runs never
# reject a certificate.
D_TLS=1
D_TLS_VERIFIES=
D_TLS_ERROR_PAT='neoway AT\+HTTPSSETUP answered ERROR: TLS connection'
D_TLS_EMU_ARGS=

body3k() {
	local f=$TMP/body3k.bin
	[ -f "$f" ] || tr -d '\000' </dev/urandom | head -c 3000 >"$f"
	echo "$f"
}
body1k() {
	local f=$TMP/body1k.bin
	[ -f "$f" ] || tr -d '\000' </dev/urandom | head -c 1000 >"$f"
	echo "$f"
}

matrix_setup || exit 1

P=neoway
for c in $CLIENTS; do
	matrix_client "$c"
done
# ($CORE_CLIENT: curl, or python under ASan)
# A request of 2049+ bytes falls back or is refused (413
# naming the limit), never truncated.  A GET with a 3 KB cosmetic
# header (fallback: AT+HTTPACTION=0 without it, or 413), one with a
# 3 KB Cookie (which no fallback may drop), and POSTs whose packet is
# 2047..2050 bytes.
t_big_header_get get-3k-header X-Pad 3000
t_big_header_get get-3k-cookie Cookie 3000
t_packet_boundary 2048 'AT+HTTPACTION=99,@LEN@'
matrix_tail

# Firmware that spells its answers without the blank ("+HTTPRECV:",
# "+HTTPACTION:SOCKET ID OPEN FAILED").
P=neoway-compact
if start_emu --variant compact; then
	for c in $BIG_CLIENTS; do
		in_list "$c" "$CLIENTS" || continue
		t_get_small "$c"
		t_get_chunked "$c"
		t_get_trailers "$c"
		t_post_form "$c"
	done
	t_head $CORE_CLIENT
	t_unknown_host $CORE_CLIENT
	t_emu_alive
fi

# paced line, slow module (matrix.sh)
section_paced
# 400 ms, not simcom's 700: a late answer is late at either, and
# make check saves 5 s a dialect.
SLOW_MS=400 section_slow

# An origin slower than the timeout (the emulator has no memory limit for
# neoway: no out-of-memory case).
P=neoway-failures
if start_emu; then
	t_timeout_then_recover
	t_get_small $CORE_CLIENT
	t_emu_alive
fi

section_https

# chk_origin_sni NAME SNI: the origin's NAME listener had a handshake with
# server_name SNI ("-": none) in this case.
chk_origin_sni() {
	origin_since | grep -q "^TLS $1 sni=$2\$" ||
		{ fail "no handshake at $1 with sni=$2: $(origin_since | grep -m1 '^TLS')"; return 1; }
}

# The n58 firmware sends SNI (the manual has no switch for it); tls_setup
# turned verification off (authmode 0) and asked for TLS 1.2.
P=neoway-https
if start_emu; then
	ATH_OPTS=(--module-ca "$PKI_ROOT" --insecure-upstream)
	HTTPS_UNVERIFIED=1
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/sni" GET "$HU/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark &&
		chk_origin_sni origin origin.test &&
		chk_emu_has 'CMD AT+HTTPSCFG="authmode",0' "verification turned off" &&
		chk_emu_has 'CMD AT+HTTPSCFG="sslversion",3' "TLS 1.2 asked for" &&
		chk_emu_has 'CMD AT+HTTPSACTION=99,' "the custom packet over TLS" && pass "SNI origin.test, unverified and marked"
	# A server that speaks no TLS (the plain origin on port 80): the
	# handshake fails, HTTPSSETUP answers a bare ERROR, 502 naming it.
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/handshake-failed" GET "https://origin.test:80/small.txt"
	if chk_status 502 && chk_no_file_body; then
		e=$(hdr X-Athttp-Error)
		if printf '%s\n' "$e" | grep -qE "$D_TLS_ERROR_PAT"; then
			pass "$e"
		else
			fail "X-Athttp-Error does not match '$D_TLS_ERROR_PAT': '${e:-<absent>}'"
		fi
	fi
	ATH_OPTS=()
	HTTPS_UNVERIFIED=
fi

# Firmware without SNI: the same, the origin sees no server_name.
P=neoway-nosni-https
if start_emu --variant nosni; then
	ATH_OPTS=(--module-ca "$PKI_ROOT" --insecure-upstream)
	HTTPS_UNVERIFIED=1
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/get-small" GET "$HU/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark &&
		chk_origin_sni origin - && pass "no SNI sent, marked unverified"
	ATH_OPTS=()
	HTTPS_UNVERIFIED=
	t_emu_alive
fi

# Firmware without the S-twins (every AT+HTTPS* is ERROR): https is a 502
# naming that, with or without --insecure-upstream; no request command,
# nothing reaches the origin, and http is unaffected.
P=neoway-nohttps
if start_emu --variant nohttps; then
	for insecure in "" --insecure-upstream; do
		ATH_OPTS=(--module-ca "$PKI_ROOT" $insecure)
		req "$CORE_CLIENT" "$P/$CORE_CLIENT/get${insecure:+-insecure}" GET "$HU/small.txt"
		chk_status 502 && chk_no_file_body && chk_origin_untouched &&
			chk_emu_no "$D_SEND_PAT" "a request command on firmware without https" || continue
		e=$(hdr X-Athttp-Error)
		case $e in
		*"lacks the HTTPS commands"*) pass "$e" ;;
		*) fail "502, but X-Athttp-Error does not say the firmware lacks https: '${e:-<absent>}'" ;;
		esac
	done
	ATH_OPTS=()
	t_get_small $CORE_CLIENT
	t_emu_alive
fi
stop_emu
chk_sanitizer_reports

e2e_done
