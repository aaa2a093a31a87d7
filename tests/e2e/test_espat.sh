#!/bin/bash
# The Foundation matrix and the family's own cases for ESP-AT-style WiFi firmware
# (-m espat: AT+HTTPCLIENT for HEAD/GET/DELETE and inline POST bodies,
# AT+HTTPCPOST with a `>` data phase for other POST bodies up to 2048
# bytes, request headers as quoted parameters with ESP-AT's escapes, at
# most 256 bytes a command; the response is +HTTPCLIENT:<n>,<data> pieces
# with no status line or headers), against athttp-emu -m espat (Espressif's
# behaviour by default, Beken's with --variant beken).  The cases are
# matrix.sh's, read through espat's record, plus espat's own below.
#
# Until both the driver and the emulator are in the build (athttp -m espat
# answers exit 2 "unknown modem"; athttp-emu -m espat exit 2 "not
# implemented yet"), this script checks only those refusals, says so on a
# skip line, and exits 0.
#
# The espat cases, besides the matrix read through the record
# (every 200 synthesized with X-Athttp-Synthesized and the body's
# Content-Length; 404 -> 502 naming ERROR; redirects followed by the module;
# PUT with a body, PATCH, OPTIONS -> exact 501; 2049-byte POST -> 413
# naming AT+HTTPCPOST):
#   post-binary-cpost       NUL, CRLF, quotes: AT+HTTPCPOST and its data
#                           phase, byte for byte, sha256 at /echo
#   post-2048-at-limit      the largest body
#   post-inline-escaped     a quote, comma, backslash inline, escaped
#   post-inline-256/257     inline while the command fits, else AT+HTTPCPOST
#   header-comma            "X-Comma: a, b,c \"d\"" intact at /headers
#   command-256/257-bytes   the 256-byte command line: sent / 431, nothing sent
#   post-cpost-431, url-414 refusals with nothing sent
#   head-origin-headers, head-response-header-300, put-no-body, get-empty,
#   get-query, response-header-3000, origin-cut-mid-body (502, none of it),
#   get-output-lookalike
#   beken: text GET exact, a NUL in the body -> 502, CRLF and lookalike
#   bodies exact or 502 (never mangled, module in step after), POSTs.
#
# Client choice: as httpcfg_family.sh — every core case and the raw-packet
# extras with all four clients, the 5 MB GET with curl and python only;
# espat's own cases with curl (python under ASan), the binary body with
# every client that can send a NUL.
E2E_NAME=espat
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/matrix.sh"
MODEM=espat

# espat's record (see matrix.sh): parameterized commands carrying every
# header as an escaped quoted parameter; no status line or headers come
# back (a synthesized 200, the module follows redirects, an origin's error
# status is the module's ERROR); no PATCH/OPTIONS; PUT only without a body;
# POST bodies up to AT+HTTPCPOST's 2048 bytes.
D_RAW=
D_HEADERS_ALL=1
D_EXTRAS=1
D_REFUSED_METHODS="PATCH OPTIONS"      # AT+HTTPCLIENT opt 1-5: HEAD GET POST PUT DELETE
D_NOBODY_METHODS=PUT                   # <data> only for POST
D_SYNTH_HEAD=1
D_STATUS_ERROR_PAT=ERROR               # Espressif: a status >= 400 ends with ERROR
D_URL_PAT='^CMD AT+HTTPCLIENT=2,[0-3],"@URL@",'
D_SEND_PAT='AT+HTTPC\(LIENT\|POST\)='
D_BODY_PAT='AT+HTTPC\(LIENT=3,\|POST=\)'
D_TRACE_PAT='AT+HTTPCLIENT='
D_VERIFY_MODEM='^CMD AT+HTTPCLIENT='
D_VERBOSE_PAT='AT+HTTPCLIENT=2,[0-3],"http://origin\.test/small\.txt"'
D_DNS_CODE=ERROR                       # the module says ERROR, nothing more
D_OOM_CODE=ERROR                       # likewise for a body it cannot hold
D_OVER_NAME=2049b                      # one byte over AT+HTTPCPOST's 2048
D_OVER_FILE=body2049
D_MAX_BODY=2048
D_LIMIT_TEXT=AT+HTTPCPOST
D_METHOD_BODY=body1k
BIG_CLIENTS="curl python"
# https: an https:// URL with <transport_type> 2; the --module-ca roots go
# into the module's RAM by AT+HTTPCERT=1,<length> at bring-up, and a module
# holding a CA verifies with it.  A rejected certificate is a bare ERROR.
D_TLS=1
D_TLS_VERIFIES=1
D_TLS_ERROR_PAT='AT\+HTTPCLIENT: module answered ERROR \(over TLS: the handshake failed or the server.s certificate was rejected'

body2049() { body_n 2049 "$1"; }
body1k() { body_n 1000 "$1"; }

# ------------------------------------------------------------ espat's cases

# t_cpost CLIENT NAME SIZE: a binary POST (NUL, CRLF and all) of SIZE bytes
# goes by AT+HTTPCPOST="<url>",SIZE and its data phase, byte for byte (the
# emulator's log), and arrives byte for byte at the origin's /echo.
t_cpost() {
	local c=$1 name=$2 n=$3 f data=$TMP/out/cpost.data lens
	f=$(body_n "$n" "$c")
	CTYPE=$OCTET req "$c" "$P/$c/$name" POST "$U/echo" "@$f"
	chk_status 200 && chk_echo POST "$n" "$(sha "$f")" "$OCTET" && chk_synth_head || return
	origin_since | grep -q "^REQ POST /echo HTTP/1.1 len=$n sha256=$(sha "$f")\$" ||
		{ fail "the origin's log lacks 'REQ POST /echo' with the whole body: $(origin_since | grep -m1 '^REQ')"; return; }
	emu_cmds '^AT\+HTTPC' | grep -q "^AT+HTTPCPOST=\"http://origin\.test/echo\",$n\(,\|\$\)" ||
		{ fail "no AT+HTTPCPOST=\"http://origin.test/echo\",$n: $(emu_cmds '^AT\+HTTPC' | head -n 2 | cut -c1-120 | tr '\n' '|')"; return; }
	chk_emu_no '^CMD AT+HTTPCLIENT=' "an AT+HTTPCLIENT for a body AT+HTTPCPOST must carry" || return
	lens=$(emu_data_after '^AT\+HTTPCPOST=' "$data" | tr '\n' ' ')
	[ "${lens% }" = "$n" ] || { fail "data phases after AT+HTTPCPOST: '${lens% }' bytes, expected one of $n"; return; }
	cmp -s "$data" "$f" || { fail "the data phase differs from the body: $(cmp "$data" "$f" 2>&1 | head -c 100)"; return; }
	pass "AT+HTTPCPOST, sha256 $(sha "$f" | head -c 16)…"
}

# espat_escape STRING: STRING as an ESP-AT quoted parameter's content.
espat_escape() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '%s' "${s//,/\\,}"
}

# t_inline_escapes: a text POST body holding a quote, a comma and a
# backslash is sent inline (AT+HTTPCLIENT=3) with ESP-AT's escapes, and
# arrives byte for byte.
t_inline_escapes() {
	local b='{"k":"a,b","p":"c\d"}' want
	CTYPE=application/json req $CORE_CLIENT "$P/$CORE_CLIENT/post-inline-escaped" POST "$U/echo" "$b"
	chk_status 200 && chk_echo POST "${#b}" "$(sha_str "$b")" application/json && chk_synth_head || return
	want="\"$(espat_escape "$b")\""
	emu_cmds '^AT\+HTTPCLIENT=3,' | grep -qF ",$want" ||
		{ fail "no AT+HTTPCLIENT=3 with the escaped data $want: $(emu_cmds '^AT\+HTTPC' | head -n 1 | cut -c1-200)"; return; }
	chk_emu_no '^CMD AT+HTTPCPOST=' "AT+HTTPCPOST for a body that is safe inline" || return
	pass "$want"
}

# t_header_comma: a header value with commas (and a quote) arrives intact
# at the origin's /headers; the command escapes them.
t_header_comma() {
	local v='a, b,c "d"' want
	REQ_OPTS=(-H "X-Comma: $v")
	req $CORE_CLIENT "$P/$CORE_CLIENT/header-comma" GET "$U/headers"
	REQ_OPTS=()
	chk_status 200 && chk_synth_head || return
	grep -qxF "X-Comma: $v" "$BODY" ||
		{ fail "/headers does not echo 'X-Comma: $v': '$(grep -a '^X-Comma' "$BODY" | head -c 100)'"; return; }
	want="\"$(espat_escape "X-Comma: $v")\""
	emu_cmds '^AT\+HTTPCLIENT=2,' | grep -qF ",$want" ||
		{ fail "the command lacks the escaped parameter $want: $(emu_cmds '^AT\+HTTPC' | head -n 1 | cut -c1-250)"; return; }
	pass "$want"
}

# t_head_headers: HEAD's header-line pieces become the answer's headers
# (under a synthesized status): the origin's Content-Type and Server.
t_head_headers() {
	req $CORE_CLIENT "$P/$CORE_CLIENT/head-origin-headers" HEAD "$U/small.txt"
	chk_status 200 && chk_synth_head "$(fsize "$WWW/small.txt")" || return
	chk_header Content-Type text/plain && chk_header Server athttp-test-origin/1 || return
	[ ! -s "$BODY" ] || { fail "HEAD delivered $(fsize "$BODY") body bytes"; return; }
	chk_emu_has '^CMD AT+HTTPCLIENT=1,' "AT+HTTPCLIENT=1 (HEAD)" || return
	pass
}

# t_put_nobody: PUT without a body is AT+HTTPCLIENT=4.
t_put_nobody() {
	req $CORE_CLIENT "$P/$CORE_CLIENT/put-no-body" PUT "$U/echo"
	chk_status 200 && chk_synth_head || return
	grep -q "^method=PUT len=0 sha256=$EMPTY_SHA " "$BODY" ||
		{ fail "body: expected 'method=PUT len=0 …', got '$(head -c 150 "$BODY")'"; return; }
	chk_emu_has '^CMD AT+HTTPCLIENT=4,' "AT+HTTPCLIENT=4 (PUT)" || return
	pass
}

# chk_nothing_sent: no AT+HTTPCLIENT/AT+HTTPCPOST since the mark, nothing
# at the origin.
chk_nothing_sent() {
	chk_emu_no "$D_SEND_PAT" "a request command for a refused request" || return 1
	if origin_since | grep -q '^REQ'; then
		fail "the origin received: $(origin_since | grep -m1 '^REQ')"
		return 1
	fi
}

# t_command_limit: GETs whose AT+HTTPCLIENT line is 256 bytes (ESP-AT's
# limit) and 257: the first is sent (the emulator's log has it, exactly
# 256 bytes) and answered; the second is 431 naming the limit, nothing
# sent.  The line's length comes from a probe with a short X-Pad.
t_command_limit() {
	local probe len pad n e
	REQ_OPTS=(-H "X-Pad: pppppppppp")
	req $CORE_CLIENT "$P/$CORE_CLIENT/command-probe" GET "$U/small.txt"
	REQ_OPTS=()
	chk_status 200 && chk_body_file "$WWW/small.txt" || return
	len=$(emu_cmds '^AT\+HTTPCLIENT=' | tail -n 1 | wc -c)
	len=$((len - 1))
	[ "$len" -gt 50 ] && [ "$len" -lt 246 ] || { fail "probe: AT+HTTPCLIENT line of $len bytes"; return; }
	pass "$len bytes with a 10-byte X-Pad"
	for n in 256 257; do
		pad=$(head -c $((10 + n - len)) /dev/zero | tr '\0' p)
		REQ_OPTS=(-H "X-Pad: $pad")
		req $CORE_CLIENT "$P/$CORE_CLIENT/command-$n-bytes" GET "$U/small.txt"
		REQ_OPTS=()
		if [ "$n" = 256 ]; then
			chk_status 200 && chk_body_file "$WWW/small.txt" || continue
			emu_cmds '^AT\+HTTPCLIENT=' | tail -n 1 | grep -qF "X-Pad: $pad" ||
				{ fail "the command lacks the whole X-Pad"; continue; }
			[ "$(emu_cmds '^AT\+HTTPCLIENT=' | tail -n 1 | wc -c)" = 257 ] ||
				{ fail "the command is $(($(emu_cmds '^AT\+HTTPCLIENT=' | tail -n 1 | wc -c) - 1)) bytes, expected 256"; continue; }
			pass "a 256-byte command, answered"
		else
			chk_status 431 && chk_nothing_sent || continue
			e=$(hdr X-Athttp-Error)
			case $e in *256*) ;; *) fail "431, but X-Athttp-Error does not name the 256-byte limit: '${e:-<absent>}'"; continue ;; esac
			pass "431: $e"
		fi
	done
}

# t_inline_boundary: a text POST body goes inline (AT+HTTPCLIENT=3) while
# the command fits in 256 bytes: at 256 inline, at 257 by AT+HTTPCPOST;
# both arrive whole.  The command's length without the body comes from a
# probe.
t_inline_boundary() {
	local c=$CORE_CLIENT probe=$TMP/inline-probe.txt len n f
	printf 'probe' >"$probe"
	CTYPE=text/plain req "$c" "$P/$c/inline-probe" POST "$U/echo" "@$probe"
	chk_status 200 && chk_echo POST 5 "$(sha "$probe")" text/plain || return
	len=$(emu_cmds '^AT\+HTTPCLIENT=3,' | tail -n 1 | wc -c)
	len=$((len - 1 - 5))
	[ "$len" -gt 50 ] && [ "$len" -lt 240 ] || { fail "probe: AT+HTTPCLIENT=3 line of $((len + 5)) bytes"; return; }
	pass "$len bytes without the body"
	for n in 256 257; do
		f=$TMP/inline-$n.txt
		head -c $((n - len)) /dev/zero | tr '\0' t >"$f"
		CTYPE=text/plain req "$c" "$P/$c/post-inline-$n" POST "$U/echo" "@$f"
		chk_status 200 && chk_echo POST "$(fsize "$f")" "$(sha "$f")" text/plain || continue
		if [ "$n" = 256 ]; then
			[ "$(emu_cmds '^AT\+HTTPC' | tail -n 1 | wc -c)" = 257 ] && emu_cmds '^AT\+HTTPC' | grep -q '^AT+HTTPCLIENT=3,' ||
				{ fail "expected one 256-byte AT+HTTPCLIENT=3 line: $(emu_cmds '^AT\+HTTPC' | cut -c1-60)…"; continue; }
			chk_emu_no '^CMD AT+HTTPCPOST=' "AT+HTTPCPOST for a body that fits inline" || continue
			pass "inline, a 256-byte command"
		else
			emu_cmds '^AT\+HTTPC' | grep -q "^AT+HTTPCPOST=\"http://origin\.test/echo\",$(fsize "$f")," ||
				{ fail "expected AT+HTTPCPOST for a body one byte too long for inline: $(emu_cmds '^AT\+HTTPC' | cut -c1-60)…"; continue; }
			chk_emu_no '^CMD AT+HTTPCLIENT=' "a 257-byte AT+HTTPCLIENT" || continue
			pass "by AT+HTTPCPOST"
		fi
	done
}

# t_head_big_header: HEAD of a response with a 300-byte field: the header
# piece becomes a header of the answer, whole.
t_head_big_header() {
	local c=$CORE_CLIENT got
	req "$c" "$P/$c/head-response-header-300" HEAD "$U/bighead/300"
	chk_status 200 && chk_synth_head 8 || return
	got=$(hdr X-Big)
	[ "$got" = "$(head -c 300 /dev/zero | tr '\0' b)" ] || { fail "X-Big arrived with ${#got} of 300 bytes"; return; }
	pass
}

# t_beken_exact_or_502 CLIENT NAME FILE: Beken pieces end at a line end,
# and FILE (in $WWW) holds CRLFs, or lines that look like the module's own
# output: reassembled exactly, or 502; never a mangled body.  Then the
# module must be back in step: small.txt, exact.
t_beken_exact_or_502() {
	local c=$1 name=$2 f=$WWW/$3
	req "$c" "$P/$c/$name" GET "$U/$3"
	chk_response || return
	case $STATUS in
	200) chk_body_file "$f" && chk_synth_head && pass "reassembled exactly" ;;
	502) [ ! -s "$BODY" ] || ! grep -aqF "$(head -c 40 "$f" | tr -d '\r\n')" "$BODY" ||
			{ fail "502, but part of the body reached the client"; return; }
		pass "502: $(hdr X-Athttp-Error | cut -c1-120)" ;;
	*) fail "expected 200 with the exact body or 502, got $STATUS" ;;
	esac
	req "$c" "$P/$c/$name-then-get" GET "$U/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && pass "in step after it"
}

# t_beken_cpost: Beken's AT+HTTPCPOST prints no response pieces: the body
# reaches the origin byte for byte, and the answer is a synthesized 200
# with nothing in it (what the module tells; never made-up content).
t_beken_cpost() {
	local c=$CORE_CLIENT f
	f=$(body_n 1500 "$c")
	CTYPE=$OCTET req "$c" "$P/$c/post-binary-cpost" POST "$U/echo" "@$f"
	chk_status 200 && chk_synth_head 0 || return
	origin_since | grep -q "^REQ POST /echo HTTP/1.1 len=1500 sha256=$(sha "$f")\$" ||
		{ fail "the origin's log lacks 'REQ POST /echo' with the whole body: $(origin_since | grep -m1 '^REQ')"; return; }
	pass "the origin got it whole; the module prints no answer"
}

# t_cpost_431: a binary POST whose AT+HTTPCPOST line, headers and all,
# would be over 256 bytes: 431 naming the limit, nothing sent.
t_cpost_431() {
	local c=$CORE_CLIENT f e pad
	f=$(body_n 1500 "$c")
	pad=$(head -c 250 /dev/zero | tr '\0' p)
	REQ_OPTS=(-H "X-Pad: $pad")
	CTYPE=$OCTET req "$c" "$P/$c/post-cpost-431" POST "$U/echo" "@$f"
	REQ_OPTS=()
	chk_status 431 && chk_nothing_sent || return
	e=$(hdr X-Athttp-Error)
	case $e in *256*) ;; *) fail "431, but X-Athttp-Error does not name the 256-byte limit: '${e:-<absent>}'"; return ;; esac
	pass "$e"
}

# t_url_414: a URL the command cannot hold on its own: 414, nothing sent.
t_url_414() {
	local p
	p=$(head -c 300 /dev/zero | tr '\0' x)
	req $CORE_CLIENT "$P/$CORE_CLIENT/url-414" GET "$U/$p"
	chk_status 414 && chk_nothing_sent || return
	[ -n "$(hdr X-Athttp-Error)" ] || { fail "414 without X-Athttp-Error"; return; }
	pass "$(hdr X-Athttp-Error)"
}

# t_nul_body_refused CLIENT: Beken cuts every piece at its first NUL: a
# body with a NUL is a 502, never a short or mangled body.
t_nul_body_refused() {
	req "$1" "$P/$1/get-nul-502" GET "$U/nul.txt"
	chk_status 502 || return
	if [ "$1" != busybox ]; then
		[ -n "$(hdr X-Athttp-Error)" ] || { fail "502 without X-Athttp-Error"; return; }
		! grep -aq 'before the NUL' "$BODY" || { fail "the body before the NUL reached the client"; return; }
	fi
	pass "$(hdr X-Athttp-Error)"
}

# ------------------------------------------------------------ the run

matrix_setup || exit 1
{
	for i in $(seq 1 20); do printf 'line %02d before the NUL: the quick brown fox\n' "$i"; done
	printf 'the NUL:\000:after it\n'
	for i in $(seq 1 20); do printf 'line %02d after the NUL: jumps over the lazy dog\n' "$i"; done
} >"$WWW/nul.txt"
for i in $(seq 1 30); do printf 'crlf line %02d: the quick brown fox\r\n' "$i"; done >"$WWW/crlf.txt"
lookalike_file

P=espat
for c in $CLIENTS; do
	matrix_client "$c"
	# a binary body (NUL and CRLF) by AT+HTTPCPOST, byte for byte
	[ "$c" != busybox ] && t_cpost "$c" post-binary-cpost 1500
done
t_cpost $CORE_CLIENT post-2048-at-limit 2048
t_inline_escapes
t_header_comma
t_head_headers
t_put_nobody
t_command_limit
t_cpost_431
t_url_414
t_inline_boundary
t_head_big_header
t_get_empty $CORE_CLIENT
t_get_lookalike $CORE_CLIENT
t_get_query $CORE_CLIENT
t_big_response_header $CORE_CLIENT 3000
t_origin_cut
matrix_tail

# Beken BK72xx firmware: +HTTPCLIENT:<T>,<data> with the total length in
# every piece and the data cut at its first NUL.
P=espat-beken
if start_emu --variant beken; then
	for c in $BIG_CLIENTS; do
		in_list "$c" "$CLIENTS" || continue
		t_get_small "$c"
		t_nul_body_refused "$c"
		t_beken_exact_or_502 "$c" get-crlf-text crlf.txt
		t_beken_exact_or_502 "$c" get-output-lookalike lookalike.bin
	done
	t_post_form $CORE_CLIENT
	t_beken_cpost
	t_emu_alive
fi

# https (matrix.sh): verified with the test root the emulator is given by
# AT+HTTPCERT.  A missing section is a failure, not a skip.
declare -F section_https >/dev/null ||
	{ FAIL=$((FAIL + 1)); echo "fail espat-https/setup: matrix.sh has no section_https"; }
section_https

# t_https_espat_spelling: firmware that spells the CA command as the
# manual's examples (AT+HTTPSCERT): AT+HTTPCERT is refused, AT+HTTPSCERT
# takes the roots, and the module verifies: origin.test answers unmarked,
# untrusted.test is rejected.
t_https_espat_spelling() {
	ATH_OPTS=(--module-ca "$PKI_ROOT")
	HTTPS_UNVERIFIED=
	req curl "$P/curl/get-small-verified" GET "$HU/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark && chk_origin_tls origin &&
		chk_emu_has '^CMD AT+HTTPSCERT=1,' "the roots by AT+HTTPSCERT" && pass
	t_https_rejected untrusted "a certificate of a root the module was not given"
	ATH_OPTS=()
}

# t_https_beken_unverified: Beken firmware has no certificate command:
# without --insecure-upstream https is a 502 naming why (nothing sent for
# it); with it the request runs, marked unverified, even to a server of an
# unknown root.
t_https_beken_unverified() {
	ATH_OPTS=(--module-ca "$PKI_ROOT")
	t_https_cannot_verify "$P/curl/cannot-verify" "$HU/small.txt"
	ATH_OPTS=(--module-ca "$PKI_ROOT" --insecure-upstream)
	HTTPS_UNVERIFIED=1
	req curl "$P/curl/insecure-get-small" GET "$HU/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark && chk_origin_tls origin && pass
	t_https_unverified_untrusted
	HTTPS_UNVERIFIED=
	ATH_OPTS=()
}

if in_list curl "$CLIENTS"; then
	P=espat-httpscert-https
	if start_emu --variant httpscert; then
		t_https_espat_spelling
		t_emu_alive
	fi
	P=espat-beken-https
	if start_emu --variant beken; then
		t_https_beken_unverified
		t_emu_alive
	fi
else
	skip "espat-*-https/..." "the https variant cases are curl's, and curl does not run in this build"
fi

# paced line, slow module (matrix.sh)
section_paced
SLOW_MS=400 section_slow
# A module that cannot hold the body (it ends with ERROR after some
# pieces: a 502, never a cut body under a 200), an origin slower than the
# timeout.
section_failures
stop_emu
chk_sanitizer_reports

e2e_done
