#!/bin/bash
# The Foundation acceptance matrix, simcom dialect: real clients (curl, wget,
# busybox wget, python3 urllib) run unmodified through build/bin/athttp
# against athttp-emu -m simcom, which forwards to tests/origin.py.
# One "ok"/"fail" line per case (see lib.sh).  E2E_KEEP=1 keeps the temp dir.

E2E_NAME=simcom
. "$(dirname "$0")/lib.sh"
MODEM=simcom

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }
gen_files
start_origin || { e2e_done; exit 1; }
start_emu || { e2e_done; exit 1; }

FORM='a=1&b=hello+world&c=%22quoted%22&d=caf%C3%A9'
FORM_CT=application/x-www-form-urlencoded
OCTET=application/octet-stream
EMPTY_SHA=$(sha_str "")

# Bodies a client can send: busybox wget stops --post-file at the first NUL.
body100k() { if [ "$1" = busybox ]; then echo "$TMP/body100k-nonul.bin"; else echo "$TMP/body100k.bin"; fi; }
body200k() { if [ "$1" = busybox ]; then echo "$TMP/body200k-nonul.bin"; else echo "$TMP/body200k.bin"; fi; }

# ------------------------------------------------------------ cases
# Each takes the client name; $P is the case prefix (dialect/variant).

t_get_small() {
	req "$1" "$P/$1/get-small" GET "$U/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" || return
	# the origin's own header came back, and the URL went over the AT line
	chk_header Server athttp-test-origin/1 || return
	chk_emu_has 'HTTPPARA="URL","http://origin.test/small.txt"' "AT+HTTPPARA=\"URL\" with the request's URL" || return
	pass
}

t_get_big() {
	req "$1" "$P/$1/get-5mb" GET "$U/big.bin"
	chk_status 200 && chk_body_file "$WWW/big.bin" && pass
}

t_get_chunked() {
	req "$1" "$P/$1/get-chunked" GET "$U/chunked"
	chk_status 200 && chk_body_sha "$CHUNKED_SHA" && pass
}

t_head() {
	local te
	if [ "$1" = busybox ]; then
		skip "$P/$1/head" "busybox wget cannot send HEAD (its --spider sends GET; see $P/busybox/spider)"
		return
	fi
	req "$1" "$P/$1/head" HEAD "$U/big.bin"
	chk_status 200 && chk_header Content-Length "$BIG_SIZE" || return
	te=$(hdr Transfer-Encoding)
	[ -z "$te" ] || { fail "HEAD answer carries Transfer-Encoding: $te"; return; }
	[ ! -s "$BODY" ] || { fail "HEAD answer delivered $(fsize "$BODY") body bytes"; return; }
	pass
}

t_spider() { # busybox: --spider is a GET that stops after the header
	REQ_OPTS=(--spider)
	req busybox "$P/busybox/spider" GET "$U/big.bin"
	REQ_OPTS=()
	chk_status 200 && chk_header Content-Length "$BIG_SIZE" && chk_rc0 && pass "a GET abandoned after the header"
}

t_post_form() {
	req "$1" "$P/$1/post-form" POST "$U/echo" "$FORM"
	chk_status 200 && chk_echo POST "${#FORM}" "$(sha_str "$FORM")" "$FORM_CT" && pass
}

t_post_100k() {
	local f t note=
	f=$(body100k "$1")
	if [ "$1" = curl ]; then
		# curl 7.88 adds Expect: 100-continue only above 1 MB: ask for it, so
		# a missing local "100 Continue" shows as curl's 1 s wait.
		REQ_OPTS=(-v -H "Expect: 100-continue" -w "time_total=%{time_total}\n")
	fi
	CTYPE=$OCTET req "$1" "$P/$1/post-100k" POST "$U/echo" "@$f"
	REQ_OPTS=()
	chk_status 200 && chk_echo POST "$(fsize "$f")" "$(sha "$f")" "$OCTET" || return
	chk_emu_has 'HTTPDATA' "an AT+HTTPDATA for the body" || return
	if [ "$1" = curl ]; then
		t=$(sed -n 's/^time_total=//p' "$OUT")
		# athttp answers Expect locally: the interim response must come,
		# and with it no 1-second wait.
		grep -q '^< HTTP/1.1 100 Continue' "$ERR" ||
			{ fail "no local 'HTTP/1.1 100 Continue' for Expect: 100-continue (time_total ${t:-?}s)"; return; }
		awk -v t="${t:-9}" 'BEGIN { exit !(t < 0.9) }' ||
			{ fail "POST with Expect took ${t}s: a stall"; return; }
		note="100 Continue answered, ${t}s"
	fi
	pass "$note"
}

t_post_413() {
	local f
	f=$(body200k "$1")
	CTYPE=$OCTET req "$1" "$P/$1/post-200k-413" POST "$U/echo" "@$f"
	chk_status 413 || return
	chk_emu_no 'HTTPDATA' "an AT+HTTPDATA for a body the module cannot hold" || return
	if origin_since | grep -q '^REQ'; then
		fail "the origin received a request: $(origin_since | grep -m1 '^REQ')"
		return
	fi
	pass
}

t_delete() {
	if [ "$1" = busybox ]; then
		skip "$P/$1/delete" "busybox wget can only send GET and POST"
		return
	fi
	req "$1" "$P/$1/delete" DELETE "$U/echo"
	chk_status 200 || return
	grep -q "^method=DELETE len=0 sha256=$EMPTY_SHA " "$BODY" ||
		{ fail "body: expected 'method=DELETE len=0 …', got '$(head -c 150 "$BODY")'"; return; }
	pass
}

t_404() {
	req "$1" "$P/$1/404" GET "$U/nosuchfile.txt"
	chk_status 404 || return
	if [ "$1" = busybox ]; then
		pass "status only: busybox wget discards error bodies"
		return
	fi
	chk_body_text "not found" && pass
}

t_redirect() {
	req "$1" "$P/$1/redirect" GET "$U/redirect"
	chk_status 200 && chk_body_file "$WWW/small.txt" || return
	origin_since | grep -Eq "^REQ GET (http://[^/]*)?/redirect " || { fail "origin never saw GET /redirect"; return; }
	origin_since | grep -Eq "^REQ GET (http://[^/]*)?/small.txt " || { fail "origin never saw GET /small.txt"; return; }
	pass
}

t_unknown_host() {
	local e lines
	req "$1" "$P/$1/unknown-host" GET "http://nosuch.invalid/"
	chk_status 502 || return
	if [ "$1" = busybox ]; then
		pass "status only: busybox wget shows neither headers nor body of an error"
		return
	fi
	e=$(hdr X-Athttp-Error)
	case $e in
	*713*) ;;
	*) fail "X-Athttp-Error: expected the module's code 713, got '${e:-<absent>}'"; return ;;
	esac
	lines=$(grep -c '' "$BODY")
	[ "$lines" = 1 ] && [ "$(fsize "$BODY")" -lt 300 ] ||
		{ fail "body: expected one short line, got $lines lines, $(fsize "$BODY") bytes"; return; }
	pass "X-Athttp-Error: $e"
}

t_keepalive() { # curl only: two URLs, one connection
	local b1=$TMP/out/ka1 b2=$TMP/out/ka2
	rm -f "$b1" "$b2"
	ath "$P/curl/keep-alive" curl -sS -v -o "$b1" -o "$b2" "$U/small.txt" "$U/chunked"
	[ "$RC" = 0 ] || { fail "curl exit status $RC"; return; }
	cmp -s "$b1" "$WWW/small.txt" || { fail "first body differs from small.txt"; return; }
	[ "$(sha "$b2")" = "$CHUNKED_SHA" ] || { fail "second body (chunked) sha256 differs"; return; }
	grep -q 'Re-using existing connection' "$ERR" ||
		{ fail "curl did not reuse the connection (no 'Re-using existing connection' in -v)"; return; }
	pass
}

t_cosmetic_header() { # curl only: a header the module cannot carry is dropped
	REQ_OPTS=(-H "X-Athttp-Test: hello" -A "athttp-e2e/1")
	req curl "$P/curl/cosmetic-header" GET "$U/headers"
	REQ_OPTS=()
	chk_status 200 || return
	grep -q '^Host: origin.test' "$BODY" ||
		{ fail "the origin's /headers answer lacks 'Host: origin.test': $(tr '\n' '|' <"$BODY" | head -c 200)"; return; }
	if grep -q '^X-Athttp-Test: hello$' "$BODY"; then
		pass "the module carried it"
	else
		# Dropped: then the answer must say so.
		case $(hdr X-Athttp-Dropped) in
		*X-Athttp-Test*) pass "dropped and listed in X-Athttp-Dropped" ;;
		*) fail "X-Athttp-Test neither reached the origin nor was listed in X-Athttp-Dropped" ;;
		esac
	fi
}

# t_refused_header CASE OPTION...: a header whose loss would change the
# request's meaning: 501 naming it, nothing sent to the module.
t_refused_header() {
	local name=$1 header=$2
	shift 2
	REQ_OPTS=("$@")
	req curl "$P/curl/refuse-$name" GET "$U/small.txt"
	REQ_OPTS=()
	chk_status 501 || return
	if ! grep -qi "$header" "$BODY" "$HDRS"; then
		fail "the 501 answer does not name $header: $(head -c 150 "$BODY")"
		return
	fi
	chk_emu_no 'HTTPACTION' "an AT+HTTPACTION for a refused request" || return
	pass
}

t_inject_quote() { # curl only
	ath "$P/curl/inject-quote" curl -sS -o "$TMP/out/iq.body" -w '%{http_code}' \
		"$U/a\"b%0d%0aAT+CMGS"
	STATUS=$(cat "$OUT")
	[ "$STATUS" = 400 ] || { fail "status: expected 400 for a '\"' in the URL, got '${STATUS:-none}'"; return; }
	chk_emu_no 'CMGS' "text of the hostile URL reaching the module" || return
	chk_emu_no 'a"b' "the raw quote reaching the module" || return
	if origin_since | grep -q '^REQ'; then
		fail "the origin received: $(origin_since | grep -m1 '^REQ')"
		return
	fi
	pass
}

t_inject_crlf() { # curl only: %0d%0a must stay literal text
	ath "$P/curl/inject-crlf" curl -sS -o "$TMP/out/ic.body" -w '%{http_code}' \
		"$U/a%0d%0aAT+CMGS"
	STATUS=$(cat "$OUT")
	case $STATUS in
	[1-5][0-9][0-9]) ;;
	*) fail "no HTTP status (curl printed '${STATUS}', exit $RC)"; return ;;
	esac
	chk_emu_no '^CMD[[:space:]]*AT+CMGS' "an AT+CMGS command line" || return
	chk_emu_no '^CMD.*\\x0[dDaA]' "a CR/LF byte inside a command line" || return
	if [ "$STATUS" != 400 ]; then
		emu_since | grep -qi '%0d%0aAT+CMGS' ||
			{ fail "status $STATUS, but the emulator log lacks the literal text %0d%0aAT+CMGS"; return; }
	fi
	pass "status $STATUS"
}

# The wrapper's user interface (DESIGN.md, "User interface (contract)").
t_wrapper() {
	local c=$1 f=$TMP/out/wrapper.body
	# ATHTTP_TRACE=FILE writes the AT conversation
	req "$c" "$P/wrapper/trace-file" GET "$U/small.txt"
	chk_status 200 || return
	if ! grep -q 'AT+HTTPACTION' "$TRACE" 2>/dev/null; then
		fail "ATHTTP_TRACE=$TRACE: no AT+HTTPACTION in it ($(wc -c <"$TRACE" 2>/dev/null || echo no file) bytes)"
	else
		pass
	fi
	# the environment twins of -d and -m
	rm -f "$f"
	ATH_NO_TRACE=1 ath_raw "$P/wrapper/env-twins" env ATHTTP_DEVICE="$TMP/tty" ATHTTP_MODEM="$MODEM" \
		"$ATHTTP" -- "${CLIENT_GET[@]}" "$f" "$U/small.txt"
	if [ "$RC" != 0 ] || ! cmp -s "$f" "$WWW/small.txt"; then
		fail "GET via ATHTTP_DEVICE/ATHTTP_MODEM: exit $RC, body $(cmp -s "$f" "$WWW/small.txt" && echo equal || echo differs)"
	else
		pass
	fi
	# -v traces to stderr
	rm -f "$f"
	ATH_NO_TRACE=1 ath_raw "$P/wrapper/verbose" "$ATHTTP" -v -d "$TMP/tty" -m "$MODEM" -- \
		"${CLIENT_GET[@]}" "$f" "$U/small.txt"
	if [ "$RC" != 0 ] || ! cmp -s "$f" "$WWW/small.txt"; then
		fail "GET with -v: exit $RC, body $(cmp -s "$f" "$WWW/small.txt" && echo equal || echo differs)"
	elif ! grep -q 'AT+HTTPPARA="URL","http://origin.test/small.txt"' "$ERR"; then
		fail "-v: stderr lacks the AT+HTTPPARA command"
	else
		pass
	fi
}

# t_other_method METHOD: a method the module may not have.  Either the
# request goes through unchanged (the /echo answer names METHOD), or it is
# refused with 501 and nothing reaches the module; never another method.
t_other_method() {
	local m=$1 f=$TMP/body100k.bin e
	CTYPE=$OCTET req curl "$P/curl/${m,,}" "$m" "$U/echo" "@$f"
	chk_response || return
	case $STATUS in
	200)
		chk_echo "$m" "$(fsize "$f")" "$(sha "$f")" "$OCTET" && pass "carried"
		;;
	501)
		chk_emu_no 'HTTPACTION' "an AT+HTTPACTION for a refused $m" || return
		chk_emu_no 'HTTPDATA' "an AT+HTTPDATA for a refused $m" || return
		pass "refused with 501, nothing sent"
		;;
	*)
		e=$(hdr X-Athttp-Error)
		fail "status: expected 200 (carried) or 501 (refused), got $STATUS${e:+ (X-Athttp-Error: $e)}; body: $(head -c 100 "$BODY")"
		;;
	esac
}

t_inject_body() { # curl only: AT text inside a body stays data
	local b
	b=$(printf 'x\r\nAT+CMGS="+15551234"\r\nhello\x1a\r\n+++\r\nATH\r\n')
	CTYPE=text/plain req curl "$P/curl/inject-body" POST "$U/echo" "$b"
	chk_status 200 && chk_echo POST "${#b}" "$(sha_str "$b")" text/plain || return
	chk_emu_no '^CMD[[:space:]]*AT+CMGS' "an AT+CMGS command line" || return
	chk_emu_no '^CMD[[:space:]]*ATH' "an ATH command line" || return
	pass
}

t_fork_child() { # a forked child (no exec) uses the module while its parent lives
	NO_ROUNDTRIP=1 ath "$P/python/fork-child" "$PY" -c '
import hashlib, os, sys, urllib.request
u = sys.argv[1]
get = lambda: hashlib.sha256(urllib.request.urlopen(u).read()).hexdigest()
print("parent", get(), flush=True)
pid = os.fork()
if pid == 0:
    print("child", get(), flush=True)
    os._exit(0)
_, st = os.waitpid(pid, 0)
print("parent", get(), "child-exit", st, flush=True)
' "$U/small.txt"
	local want
	want=$(sha "$WWW/small.txt")
	[ "$RC" = 0 ] || { fail "exit status $RC"; return; }
	[ "$(sed -n 2p "$OUT")" = "child $want" ] || { fail "the child did not get the file: $(tr '\n' '|' <"$OUT")"; return; }
	[ "$(sed -n 3p "$OUT")" = "parent $want child-exit 0" ] ||
		{ fail "the parent's request after the child's failed: $(tr '\n' '|' <"$OUT")"; return; }
	pass
}

t_module_oom() { # the module cannot hold the body (706): 502 naming the code
	local e
	req "$1" "$P/$1/module-out-of-memory" GET "$U/big.bin"
	chk_status 502 || return
	e=$(hdr X-Athttp-Error)
	case $e in
	*706*) pass "X-Athttp-Error: $e" ;;
	*) fail "X-Athttp-Error: expected the module's code 706, got '${e:-<absent>}'" ;;
	esac
}

t_timeout_then_recover() { # an origin slower than ATHTTP_TIMEOUT_MS: 504, then the module is back in step
	local l1 l2
	ath_raw "$P/python/timeout-504-then-recover" env ATHTTP_TIMEOUT_MS=1500 \
		"$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- "$PY" -c '
import hashlib, sys, urllib.request, urllib.error
for u in sys.argv[1:]:
    try:
        r = urllib.request.urlopen(u)
        print(r.status, hashlib.sha256(r.read()).hexdigest(), flush=True)
    except urllib.error.HTTPError as e:
        print(e.code, e.headers.get("X-Athttp-Error"), flush=True)
' "$U/slow/4000" "$U/small.txt"
	l1=$(sed -n 1p "$OUT")
	l2=$(sed -n 2p "$OUT")
	case $l1 in
	"504 simcom "*) ;;
	*) fail "origin slower than the timeout: expected 504 with X-Athttp-Error, got '${l1:-nothing}' (exit $RC)"; return ;;
	esac
	[ "$l2" = "200 $(sha "$WWW/small.txt")" ] ||
		{ fail "the request after the timeout: expected 200 and small.txt, got '${l2:-nothing}'"; return; }
	pass "$l1"
}

t_emu_alive() {
	CASE="$P/emulator-alive"
	if kill -0 "$EMU_PID" 2>/dev/null; then
		pass
	else
		wait "$EMU_PID"
		fail "athttp-emu exited (status $?) during the matrix; stderr: $(tail -n 3 "$TMP/emu.$EMU_N.out.err" | tr '\n' ' ')"
	fi
}

# ------------------------------------------------------------ the matrix
if [ "$E2E_SAN" = address ]; then
	# Debian 12: curl and wget deadlock in glibc's setlocale() at start-up
	# whenever libasan is preloaded (even without athttp), so an ASan build
	# is driven by the clients that run under it.
	echo "# ASan build: clients limited to busybox wget and python (curl and wget hang under a preloaded libasan)"
	CLIENTS=${E2E_CLIENTS:-busybox python}
	CORE_CLIENT=python
	CLIENT_GET=("$PY" "$E2E_ROOT/tests/e2e/httpc.py" -o)
else
	CLIENTS=${E2E_CLIENTS:-curl wget busybox python}
	CORE_CLIENT=curl
	CLIENT_GET=(curl -sS -o)
fi
P=simcom
for c in $CLIENTS; do
	t_get_small "$c"
	t_get_big "$c"
	t_get_chunked "$c"
	t_head "$c"
	[ "$c" = busybox ] && t_spider
	t_post_form "$c"
	t_post_100k "$c"
	t_post_413 "$c"
	t_delete "$c"
	t_404 "$c"
	t_redirect "$c"
	t_unknown_host "$c"
	if [ "$c" = curl ]; then
		t_keepalive
		t_cosmetic_header
		t_refused_header authorization Authorization -H "Authorization: Bearer secret"
		t_refused_header range Range -r 0-9
		t_inject_quote
		t_inject_body
		t_other_method PUT
		t_other_method PATCH
		t_inject_crlf
	fi
done
t_wrapper "$CORE_CLIENT"
t_fork_child
t_emu_alive

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

# A paced line (921600 baud, 20 ms before every answer): the engine must let
# each answer finish before its next command, as a strict module demands.
P=simcom-paced
if start_emu --baud 921600 --latency-ms 20; then
	t_get_chunked $CORE_CLIENT
	t_post_form $CORE_CLIENT
	t_emu_alive
fi

# A module slow to answer (700 ms before every answer): late answers must
# never be paired with the wrong command.
P=simcom-slow
if start_emu --latency-ms 700; then
	t_get_small $CORE_CLIENT
	t_emu_alive
fi

# A module that fails: out of memory for a big body, an origin too slow.
P=simcom-failures
if start_emu --max-body 100000; then
	t_module_oom $CORE_CLIENT
	t_timeout_then_recover
	t_get_small $CORE_CLIENT
	t_emu_alive
fi

# Firmware that reports datalen 0 for a chunked origin response.
P=simcom-chunked-zero-len
if start_emu --chunked-zero-len; then
	t_get_chunked $CORE_CLIENT
	t_get_small $CORE_CLIENT
	t_emu_alive
fi
stop_emu
chk_sanitizer_reports

e2e_done
