#!/bin/bash
# The Foundation acceptance matrix, simcom dialect: real clients (curl, wget,
# busybox wget, python3 urllib) run unmodified through build/bin/athttp
# against athttp-emu -m simcom, which forwards to tests/origin.py.
# The cases are matrix.sh's; this file is simcom's record and its sections.
# One "ok"/"fail" line per case (see lib.sh).  E2E_KEEP=1 keeps the temp dir.

E2E_NAME=simcom
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/matrix.sh"
MODEM=simcom

# simcom's record (see matrix.sh): parameterized commands, not raw packets.
D_RAW=
D_REFUSED_METHODS="PUT PATCH OPTIONS"  # AT+HTTPACTION: GET, POST, HEAD, DELETE only
D_URL_PAT='HTTPPARA="URL","@URL@"'
D_SEND_PAT='HTTPACTION'
D_BODY_PAT='HTTPDATA'
D_TRACE_PAT='AT+HTTPACTION'
D_VERBOSE_PAT='AT+HTTPPARA="URL","http://origin.test/small.txt"'
D_DNS_CODE=713                         # Get DNS failed
D_OOM_CODE=706                         # the module's memory
D_OVER_NAME=200k                       # over AT+HTTPDATA's 153600 bytes
D_OVER_FILE=body200k
# https: the module verifies with the --module-ca roots (AT+CCERTDOWN, then
# AT+CSSLCFG "cacert" and "authmode" 1); SIMCom reports a certificate it
# rejects (chain, name or dates) as 715, "Handshake failed".
D_TLS=1
D_TLS_VERIFIES=1
D_TLS_ERROR_PAT='simcom 715 '
D_TLS_EMU_ARGS=

matrix_setup || exit 1

# The full client matrix, 5 MB GET included, for every client: simcom is
# the reference dialect (and its 5 MB goes through 64 KB HTTPREAD ranges).
P=simcom
for c in $CLIENTS; do
	matrix_client "$c"
done
matrix_tail

# The A76xx variant ("+HTTPREAD: <n>" without DATA,): core cases, curl.
P=simcom-a76xx
if start_emu --variant a76xx; then
	t_get_small $CORE_CLIENT
	t_get_big $CORE_CLIENT
	t_get_chunked $CORE_CLIENT
	t_head $CORE_CLIENT
	t_post_100k $CORE_CLIENT
	t_emu_alive
fi

# paced line, slow module, failing module (matrix.sh)
section_paced
section_slow
section_failures

# Firmware that reports datalen 0 for a chunked origin response.
P=simcom-chunked-zero-len
if start_emu --chunked-zero-len; then
	t_get_chunked $CORE_CLIENT
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

# The module names the server it verifies (AT+CSSLCFG "enableSNI" 1).
P=simcom-https
if start_emu; then
	ATH_OPTS=(--module-ca "$PKI_ROOT")
	HTTPS_UNVERIFIED=
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/sni" GET "$HU/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark &&
		chk_origin_sni origin origin.test &&
		chk_emu_has 'CMD AT+CSSLCFG="enableSNI",1,1' "the SNI switch" && pass "SNI origin.test"
fi

# Old firmware without the SNI switch ("enableSNI" answers ERROR): still
# verified (chain and name), the module sends no SNI.
P=simcom-nosni-https
if start_emu --variant nosni; then
	ATH_OPTS=(--module-ca "$PKI_ROOT")
	HTTPS_UNVERIFIED=
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/get-small" GET "$HU/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark &&
		chk_origin_sni origin - && pass "verified, no SNI sent"
	t_https_rejected untrusted "a certificate of a root the module was not given"
	ATH_OPTS=()
	t_emu_alive
fi

# Firmware without AT+CCERTDOWN: the roots cannot be loaded, so https is
# refused naming why, and runs marked unverified with --insecure-upstream.
P=simcom-nocertdown-https
if start_emu --variant nocertdown; then
	ATH_OPTS=(--module-ca "$PKI_ROOT")
	HTTPS_UNVERIFIED=
	t_https_cannot_verify "$P/$CORE_CLIENT/cannot-verify" "$HU/small.txt"
	ATH_OPTS=(--module-ca "$PKI_ROOT" --insecure-upstream)
	HTTPS_UNVERIFIED=1
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/insecure-upstream" GET "$HU/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark &&
		chk_origin_tls origin &&
		chk_emu_has 'CMD AT+CSSLCFG="authmode",1,0' "verification turned off" &&
		pass "unverified, and marked so"
	t_https_unverified_untrusted
	ATH_OPTS=()
	HTTPS_UNVERIFIED=
	t_emu_alive
fi
stop_emu
chk_sanitizer_reports

e2e_done
