# tests/e2e/matrix.sh — the Foundation acceptance matrix for any dialect
# (bash; sourced by test_<dialect>.sh after lib.sh).
#
# A dialect's script sets what tells its module apart, then runs the cases:
#
#   E2E_NAME=httpcfg; . lib.sh; . matrix.sh; MODEM=httpcfg
#   D_...=...                 # the dialect's record (below)
#   matrix_setup || exit 1    # temp dir, files, origin, emulator, clients
#   P=httpcfg; for c in $CLIENTS; do matrix_client "$c"; done
#   ...variants...; e2e_done
#
# The dialect's record (every case reads it, none names a dialect):
#   D_RAW             1: the module sends the client's request as written
#                     (every header and method reaches the origin verbatim);
#                     empty: parameterized commands, headers dropped/refused
#   D_REFUSED_METHODS methods the dialect cannot express (exact 501 asserted)
#   D_URL_PAT         grep pattern of the emulator log line that carries the
#                     URL; "@URL@" stands for the request's URL, "@PATH@"
#                     for its path
#   D_SEND_PAT        emulator log pattern of a command that makes the module
#                     send a request (none may appear for a refused request)
#   D_BODY_PAT        emulator log pattern of the body's command
#   D_TRACE_PAT       fixed string that must be in an ATHTTP_TRACE file
#   D_VERBOSE_PAT     grep pattern that -v must print on stderr for GET
#                     $U/small.txt (the URL on the AT line)
#   D_DNS_CODE        the module's code for an unknown host
#   D_OOM_CODE        the module's code for a body it cannot hold (--max-body)
#   D_OVER_NAME       name of a body over the module's request limit (200k)
#   D_OVER_FILE       function CLIENT -> a file over that limit
#   D_MAX_BODY        (optional) the largest request body the dialect can
#                     send at all: a Foundation case whose body is larger
#                     asserts the exact refusal (413 naming the limit)
#   D_LIMIT_TEXT      what that 413's X-Athttp-Error must contain
#   D_METHOD_BODY     (optional) function CLIENT -> the body for PUT/PATCH
#                     (default: the 100 KB one)
#   D_VERIFY_MODEM    (optional) emulator log pattern proving that
#                     ATHTTP_MODEM chose this dialect
#   D_TIMEOUT_PAT     (optional) what a timeout's X-Athttp-Error must contain
#   D_HEADERS_ALL     1: every header the client writes reaches the origin
#                     without raw packets (a parameterized record whose
#                     carried headers are "*"): Authorization and Range are
#                     carried, not refused; cookies and the client's own
#                     User-Agent/Accept arrive verbatim (always so with D_RAW)
#   D_EXTRAS          1: the raw-packet extras run for every client (PUT and
#                     PATCH with a body, OPTIONS, a header and a cookie, chunked
#                     with trailers, the client's own headers), each asserting
#                     what the record says (carried, or the exact 501); they
#                     always run with D_RAW
#   D_NOBODY_METHODS  methods the dialect sends only without a body: with one,
#                     the exact 501 "the D dialect cannot send a request body
#                     with M", nothing sent
#   D_SYNTH_HEAD      1: the module hands back no status line or headers:
#                     every answer is a synthesized 200 carrying
#                     X-Athttp-Synthesized and a Content-Length equal to the
#                     body delivered (HEAD: the origin's figure); the module
#                     follows redirects itself; an origin's 4xx/5xx is the
#                     module's failure: 502 whose X-Athttp-Error contains
#                     D_STATUS_ERROR_PAT
#   D_STATUS_ERROR_PAT (with D_SYNTH_HEAD) see above
# and for section_https (the https cases; the module's side of TLS):
#   D_TLS             1: the dialect does https at all; empty: every https
#                     request answers 502 naming that the dialect has no
#                     https (section_https asserts that and stops)
#   D_TLS_VERIFIES    1: the module verifies servers with the --module-ca
#                     roots; empty: the family cannot verify, so https
#                     without --insecure-upstream answers 502 whose
#                     X-Athttp-Error contains "cannot verify" (nothing sent
#                     to the origin), and the cases run with
#                     --insecure-upstream and assert
#                     X-Athttp-Upstream-TLS: unverified on every answer
#   D_TLS_ERROR_PAT   grep -E pattern the X-Athttp-Error of a rejected server
#                     certificate must match (e.g. 'simcom 715 ')
#   D_TLS_EMU_ARGS    (optional) extra athttp-emu options for section_https
#   D_FOLLOWS_HTTPS_REDIRECT 1: an http request that the origin redirects to
#                     https is followed by the module itself (verified, with
#                     the context tls_setup made): curl sees one answer
# and the run's shape: BIG_CLIENTS (unset: all) run the 5 MB GET; SLOW_MS
# is section_slow's latency (default 700).
#
# Case functions take the client name; $P is the case prefix
# (dialect[-variant]).  Output protocol: see lib.sh.

FORM='a=1&b=hello+world&c=%22quoted%22&d=caf%C3%A9'
FORM_CT=application/x-www-form-urlencoded
OCTET=application/octet-stream
EMPTY_SHA=$(sha_str "")

# Bodies a client can send: busybox wget stops --post-file at the first NUL.
body100k() { if [ "$1" = busybox ]; then echo "$TMP/body100k-nonul.bin"; else echo "$TMP/body100k.bin"; fi; }
body200k() { if [ "$1" = busybox ]; then echo "$TMP/body200k-nonul.bin"; else echo "$TMP/body200k.bin"; fi; }
# body_n SIZE CLIENT: a binary body of SIZE bytes, made once, beginning with
# a NUL, a CRLF, a quote, a comma and AT text that must all stay data
# (NUL-free random bytes for busybox).
body_n() {
	local n=$1 f=$TMP/body$1.bin
	[ "$2" = busybox ] && f=$TMP/body$1-nonul.bin
	if [ ! -f "$f" ]; then
		if [ "$2" = busybox ]; then
			tr -d '\000' </dev/urandom | head -c "$n" >"$f"
		else
			{ printf 'a\000b\r\n"x",y\\\r\nAT+CMGS="1"\r\n\032\r\n'; head -c "$n" /dev/urandom; } | head -c "$n" >"$f"
		fi
	fi
	echo "$f"
}

# url_pat URL: D_URL_PAT for URL (its dots matched literally).
url_pat() {
	local u=${1//./\\.} p
	p=/${1#http://*/}
	p=${p//./\\.}
	u=${D_URL_PAT//@URL@/$u}
	printf '%s' "${u//@PATH@/$p}"
}

# matrix_setup: temp dir, files, origin, emulator (-m $MODEM), and the
# clients: $CLIENTS, $CORE_CLIENT (runs the single-client sections),
# $CLIENT_GET (a command that GETs a URL to a file: CMD... FILE URL).
matrix_setup() {
	e2e_init
	e2e_need_binaries || { e2e_done; return 1; }
	t_record_agrees
	gen_files
	start_origin || { e2e_done; return 1; }
	start_emu || { e2e_done; return 1; }
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
}

# The driver's capability record, printed by a test tool built with the
# engine (tests/tools/dialect_caps.c).
DIALECT_CAPS=${E2E_DIALECT_CAPS:-$E2E_BUILD/tests/tools/dialect_caps}
ALL_VERBS="GET HEAD POST PUT DELETE PATCH OPTIONS"

# t_record_agrees: the record above states what the module's manual allows;
# the driver's capability record (src/dialect_<family>.c) must claim the
# same, field for field, so that neither drifts unseen.  A dialect missing
# from the build fails here, loudly, before any other case.
t_record_agrees() {
	local caps got want m diffs=
	CASE=$MODEM/record LAST_CMD="$DIALECT_CAPS $MODEM" RC= ERR= TRACE=
	if ! caps=$("$DIALECT_CAPS" "$MODEM" 2>&1); then
		fail "the driver's capability record: $caps"
		return 1
	fi
	capv() { printf '%s\n' "$caps" | sed -n "s/^$1=//p"; }
	# same_set NAME RECORD DRIVER: one difference line when they differ
	same_set() {
		local a b
		a=$(printf '%s\n' $2 | sort -u | xargs)
		b=$(printf '%s\n' $3 | sort -u | xargs)
		[ "$a" = "$b" ] || diffs="$diffs; $1: record '$a', driver '$b'"
	}
	got=
	for m in $ALL_VERBS; do in_list "$m" "$(capv methods)" || got="$got $m"; done
	same_set "refused methods (D_REFUSED_METHODS)" "${D_REFUSED_METHODS:-}" "$got"
	# the verbs t_other_method sends with a body
	got=
	for m in PUT PATCH; do
		in_list "$m" "$(capv methods)" && ! in_list "$m" "$(capv body_methods)" && got="$got $m"
	done
	same_set "methods without a body (D_NOBODY_METHODS)" "${D_NOBODY_METHODS:-}" "$got"
	want=0; [ -n "${D_RAW:-}" ] && want=1
	[ "$want" = "$(capv raw)" ] || diffs="$diffs; raw request (D_RAW): record $want, driver $(capv raw)"
	if [ -z "${D_RAW:-}" ]; then
		want=0; [ -n "${D_HEADERS_ALL:-}" ] && want=1
		[ "$want" = "$(capv all_headers)" ] ||
			diffs="$diffs; every header carried (D_HEADERS_ALL): record $want, driver $(capv all_headers)"
	fi
	want=1; [ -n "${D_SYNTH_HEAD:-}" ] && want=0
	[ "$want" = "$(capv real_head)" ] ||
		diffs="$diffs; the origin's head (not D_SYNTH_HEAD): record $want, driver $(capv real_head)"
	want=0; [ -n "${D_TLS:-}" ] && want=1
	[ "$want" = "$(capv tls)" ] || diffs="$diffs; https (D_TLS): record $want, driver $(capv tls)"
	if [ -n "${D_MAX_BODY:-}" ] && [ "$D_MAX_BODY" -gt "$(capv max_body)" ]; then
		diffs="$diffs; largest body (D_MAX_BODY): record $D_MAX_BODY, over the driver's $(capv max_body)"
	fi
	if [ -n "$diffs" ]; then
		fail "the suite's record and the driver's disagree:${diffs#;}"
		return 1
	fi
	pass "$(printf '%s\n' "$caps" | xargs)"
}

# in_list WORD LIST...
in_list() {
	local w=$1 x
	shift
	for x in $*; do [ "$x" = "$w" ] && return 0; done
	return 1
}

# ------------------------------------------------------------ Foundation cases

t_get_small() {
	req "$1" "$P/$1/get-small" GET "$U/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" || return
	# the origin's own header came back (or, without a real head, the
	# synthesized one says so), and the URL went over the AT line
	if [ -n "${D_SYNTH_HEAD:-}" ]; then
		chk_synth_head || return
	else
		chk_header Server athttp-test-origin/1 || return
	fi
	chk_emu_has "$(url_pat http://origin.test/small.txt)" "the AT command (or data phase) carrying the request's URL" || return
	pass
}

# chk_synth_head [CONTENT-LENGTH]: with D_SYNTH_HEAD, the answer says its
# head is made up (X-Athttp-Synthesized) and its Content-Length is the
# body's length (CONTENT-LENGTH when given: HEAD gives the origin's figure).
# Without D_SYNTH_HEAD: nothing to check.
chk_synth_head() {
	local want=${1-} got
	[ -n "${D_SYNTH_HEAD:-}" ] || return 0
	[ -n "$(hdr X-Athttp-Synthesized)" ] ||
		{ fail "the module gives no status line, but the answer lacks X-Athttp-Synthesized"; return 1; }
	[ -n "$want" ] || want=$(fsize "$BODY")
	got=$(hdr Content-Length)
	[ "$got" = "$want" ] ||
		{ fail "synthesized head: Content-Length expected $want, got '${got:-<absent>}'"; return 1; }
}

t_get_big() {
	req "$1" "$P/$1/get-5mb" GET "$U/big.bin"
	chk_status 200 && chk_body_file "$WWW/big.bin" && chk_synth_head && pass
}

t_get_chunked() {
	req "$1" "$P/$1/get-chunked" GET "$U/chunked"
	chk_status 200 && chk_body_sha "$CHUNKED_SHA" && chk_synth_head && pass
}

t_head() {
	local te
	if [ "$1" = busybox ]; then
		skip "$P/$1/head" "busybox wget cannot send HEAD (its --spider sends GET; see $P/busybox/spider)"
		return
	fi
	req "$1" "$P/$1/head" HEAD "$U/big.bin"
	chk_status 200 && chk_header Content-Length "$BIG_SIZE" && chk_synth_head "$BIG_SIZE" || return
	te=$(hdr Transfer-Encoding)
	[ -z "$te" ] || { fail "HEAD answer carries Transfer-Encoding: $te"; return; }
	[ ! -s "$BODY" ] || { fail "HEAD answer delivered $(fsize "$BODY") body bytes"; return; }
	pass
}

t_spider() { # busybox: --spider is a GET that stops after the header
	REQ_OPTS=(--spider)
	req busybox "$P/busybox/spider" GET "$U/big.bin"
	REQ_OPTS=()
	chk_status 200 && chk_header Content-Length "$BIG_SIZE" && chk_rc0 && chk_synth_head "$BIG_SIZE" &&
		pass "a GET abandoned after the header"
}

t_post_form() {
	req "$1" "$P/$1/post-form" POST "$U/echo" "$FORM"
	chk_status 200 && chk_echo POST "${#FORM}" "$(sha_str "$FORM")" "$FORM_CT" && chk_synth_head && pass
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
	if [ -n "${D_MAX_BODY:-}" ] && [ "$(fsize "$f")" -gt "$D_MAX_BODY" ]; then
		chk_refused_413 "$1" && pass "refused: over the $D_MAX_BODY-byte limit"
		return
	fi
	chk_status 200 && chk_echo POST "$(fsize "$f")" "$(sha "$f")" "$OCTET" || return
	chk_emu_has "$D_BODY_PAT" "the command carrying the body ($D_BODY_PAT)" || return
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

# chk_refused_413 CLIENT: 413 (naming D_LIMIT_TEXT when set, and when the
# client shows an error's headers: busybox wget does not), the body's
# command never sent, the origin never reached.
chk_refused_413() {
	local e
	chk_status 413 || return
	if [ -n "${D_LIMIT_TEXT:-}" ] && [ "$1" != busybox ]; then
		e=$(hdr X-Athttp-Error)
		case $e in
		*"$D_LIMIT_TEXT"*) ;;
		*) fail "413, but X-Athttp-Error does not name the limit ($D_LIMIT_TEXT): '${e:-<absent>}'"; return 1 ;;
		esac
	fi
	chk_emu_no "$D_BODY_PAT" "the body's command for a body the module cannot hold" || return
	if origin_since | grep -q '^REQ'; then
		fail "the origin received a request: $(origin_since | grep -m1 '^REQ')"
		return 1
	fi
}

# A body over the module's limit: 413 naming the limit, before the module
# sees a byte of it; the origin never sees the request.
t_post_413() {
	local f
	f=$($D_OVER_FILE "$1")
	CTYPE=$OCTET req "$1" "$P/$1/post-$D_OVER_NAME-413" POST "$U/echo" "@$f"
	chk_refused_413 "$1" && pass
}

t_delete() {
	if [ "$1" = busybox ]; then
		skip "$P/$1/delete" "busybox wget can only send GET and POST"
		return
	fi
	req "$1" "$P/$1/delete" DELETE "$U/echo"
	chk_status 200 && chk_synth_head || return
	grep -q "^method=DELETE len=0 sha256=$EMPTY_SHA " "$BODY" ||
		{ fail "body: expected 'method=DELETE len=0 …', got '$(head -c 150 "$BODY")'"; return; }
	pass
}

t_404() {
	local e
	req "$1" "$P/$1/404" GET "$U/nosuchfile.txt"
	if [ -n "${D_SYNTH_HEAD:-}" ]; then
		# No status reaches the host: the module's failure, never a 200
		# carrying the origin's error page as if it were the file.
		chk_status 502 || return
		origin_since | grep -Eq '^REQ GET (http://[^/]*)?/nosuchfile.txt ' ||
			{ fail "502, but the origin never saw GET /nosuchfile.txt"; return; }
		if [ "$1" = busybox ]; then
			pass "status only: busybox wget shows neither headers nor body of an error"
			return
		fi
		e=$(hdr X-Athttp-Error)
		case $e in
		*"$D_STATUS_ERROR_PAT"*) ;;
		*) fail "X-Athttp-Error: expected the module's $D_STATUS_ERROR_PAT, got '${e:-<absent>}'"; return ;;
		esac
		! grep -q 'not found' "$BODY" || { fail "the origin's error body reached the client as the answer's body"; return; }
		pass "origin's 404 -> 502: $e"
		return
	fi
	chk_status 404 || return
	if [ "$1" = busybox ]; then
		pass "status only: busybox wget discards error bodies"
		return
	fi
	chk_body_text "not found" && pass
}

t_redirect() {
	req "$1" "$P/$1/redirect" GET "$U/redirect"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_synth_head || return
	if [ -n "${D_SYNTH_HEAD:-}" ] && [ "$1" = curl ]; then
		# the module followed it: curl (-L) saw one answer, no 302
		[ "$(grep -c '^HTTP/' "$TMP/out/${CASE//\//_}.rawhdr")" = 1 ] ||
			{ fail "the module follows redirects, yet curl saw $(grep '^HTTP/' "$TMP/out/${CASE//\//_}.rawhdr" | tr -d '\r' | tr '\n' '|')"; return; }
	fi
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
	*"$D_DNS_CODE"*) ;;
	*) fail "X-Athttp-Error: expected the module's code $D_DNS_CODE, got '${e:-<absent>}'"; return ;;
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
		if [ -n "$D_RAW$D_HEADERS_ALL" ] && ! grep -q '^User-Agent: athttp-e2e/1$' "$BODY"; then
			fail "every header is carried: X-Athttp-Test arrived but the User-Agent did not: $(grep -m1 '^User-Agent' "$BODY")"
			return
		fi
		pass "the module carried it"
	elif [ -n "$D_RAW$D_HEADERS_ALL" ]; then
		fail "every header is carried, but X-Athttp-Test did not reach the origin (X-Athttp-Dropped: $(hdr X-Athttp-Dropped))"
	else
		# Dropped: then the answer must say so.
		case $(hdr X-Athttp-Dropped) in
		*X-Athttp-Test*) pass "dropped and listed in X-Athttp-Dropped" ;;
		*) fail "X-Athttp-Test neither reached the origin nor was listed in X-Athttp-Dropped" ;;
		esac
	fi
}

# t_refused_header CASE HEADER OPTION...: a header whose loss would change
# the request's meaning.  A dialect that cannot carry it: 501 naming it,
# nothing sent to the module ($P/curl/refuse-CASE).  A raw dialect: the
# header reaches the origin verbatim ($P/curl/carry-CASE), HEADER: VALUE
# being the line the origin must log.
t_refused_header() {
	local name=$1 header=$2
	shift 2
	REQ_OPTS=("$@")
	if [ -n "$D_RAW$D_HEADERS_ALL" ]; then
		req curl "$P/curl/carry-$name" GET "$U/small.txt"
		REQ_OPTS=()
		chk_status 200 || return
		origin_since | grep -qFx "HDR $header" ||
			{ fail "the origin did not receive '$header': $(origin_since | grep '^HDR' | tr '\n' '|' | head -c 300)"; return; }
		pass "carried verbatim"
		return
	fi
	req curl "$P/curl/refuse-$name" GET "$U/small.txt"
	REQ_OPTS=()
	chk_status 501 || return
	header=${header%%:*}
	if ! grep -qi "$header" "$BODY" "$HDRS"; then
		fail "the 501 answer does not name $header: $(head -c 150 "$BODY")"
		return
	fi
	chk_emu_no "$D_SEND_PAT" "a request command for a refused request" || return
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
	if ! grep -qF "$D_TRACE_PAT" "$TRACE" 2>/dev/null; then
		fail "ATHTTP_TRACE=$TRACE: no $D_TRACE_PAT in it ($(wc -c <"$TRACE" 2>/dev/null || echo no file) bytes)"
	else
		pass
	fi
	# the environment twins of -d and -m
	rm -f "$f"
	ATH_NO_TRACE=1 ath_raw "$P/wrapper/env-twins" env ATHTTP_DEVICE="$TMP/tty" ATHTTP_MODEM="$MODEM" \
		"$ATHTTP" -- "${CLIENT_GET[@]}" "$f" "$U/small.txt"
	if [ "$RC" != 0 ] || ! cmp -s "$f" "$WWW/small.txt"; then
		fail "GET via ATHTTP_DEVICE/ATHTTP_MODEM: exit $RC, body $(cmp -s "$f" "$WWW/small.txt" && echo equal || echo differs)"
	elif [ -n "$D_VERIFY_MODEM" ] && ! emu_since | grep -q "$D_VERIFY_MODEM"; then
		fail "GET via ATHTTP_MODEM=$MODEM: the emulator log lacks $D_VERIFY_MODEM (another dialect spoken?)"
	else
		pass
	fi
	# -v traces to stderr
	rm -f "$f"
	ATH_NO_TRACE=1 ath_raw "$P/wrapper/verbose" "$ATHTTP" -v -d "$TMP/tty" -m "$MODEM" -- \
		"${CLIENT_GET[@]}" "$f" "$U/small.txt"
	if [ "$RC" != 0 ] || ! cmp -s "$f" "$WWW/small.txt"; then
		fail "GET with -v: exit $RC, body $(cmp -s "$f" "$WWW/small.txt" && echo equal || echo differs)"
	elif ! grep -q "$D_VERBOSE_PAT" "$ERR"; then
		fail "-v: stderr lacks the AT line with the URL ($D_VERBOSE_PAT)"
	else
		pass
	fi
}

# t_other_method CLIENT METHOD: PUT/PATCH with a 100 KB body to /echo.  A
# method the dialect can express (not in D_REFUSED_METHODS) must arrive
# unchanged: /echo names it and proves the body's length and sha256.  One
# it cannot: exactly 501 "method M is not supported by the D dialect",
# nothing sent to the module, nothing at the origin.
t_other_method() {
	local c=$1 m=$2 f e want
	f=$(${D_METHOD_BODY:-body100k} "$c")
	if [ "$c" = busybox ]; then
		skip "$P/$c/${m,,}" "busybox wget can only send GET and POST"
		return
	fi
	CTYPE=$OCTET req "$c" "$P/$c/${m,,}" "$m" "$U/echo" "@$f"
	chk_response || return
	if in_list "$m" "$D_REFUSED_METHODS"; then
		chk_refused_501 "$c" "$MODEM method $m is not supported by the $MODEM dialect" "$m" &&
			pass "refused with 501 naming $m, nothing sent"
		return
	fi
	if in_list "$m" "${D_NOBODY_METHODS:-}"; then
		chk_refused_501 "$c" "$MODEM the $MODEM dialect cannot send a request body with $m" "$m with a body" &&
			pass "refused with 501: no body with $m, nothing sent"
		return
	fi
	chk_status 200 && chk_echo "$m" "$(fsize "$f")" "$(sha "$f")" "$OCTET" || return
	origin_since | grep -q "^REQ $m /echo HTTP/1.1 len=$(fsize "$f") sha256=$(sha "$f")\$" ||
		{ fail "the origin's log lacks 'REQ $m /echo' with the full body: $(origin_since | grep -m1 '^REQ')"; return; }
	pass "carried"
}

# chk_refused_501 CLIENT X-ATHTTP-ERROR WHAT: exactly 501 with that
# X-Athttp-Error (busybox wget shows no error headers), nothing sent to the
# module, nothing at the origin.
chk_refused_501() {
	local e
	chk_status 501 || return
	if [ "$1" != busybox ]; then
		e=$(hdr X-Athttp-Error)
		[ "$e" = "$2" ] || { fail "X-Athttp-Error: expected '$2', got '${e:-<absent>}'"; return 1; }
	fi
	chk_emu_no "$D_SEND_PAT" "a request command for a refused $3" || return
	chk_emu_no "$D_BODY_PAT" "the body's command for a refused $3" || return
	if origin_since | grep -q '^REQ'; then
		fail "the origin received: $(origin_since | grep -m1 '^REQ')"
		return 1
	fi
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

t_module_oom() { # the module cannot hold the body: 502 naming the code
	local e
	req "$1" "$P/$1/module-out-of-memory" GET "$U/big.bin"
	chk_status 502 || return
	e=$(hdr X-Athttp-Error)
	case $e in
	*"$D_OOM_CODE"*) pass "X-Athttp-Error: $e" ;;
	*) fail "X-Athttp-Error: expected the module's code $D_OOM_CODE, got '${e:-<absent>}'" ;;
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
	"504 $MODEM "*) ;;
	*) fail "origin slower than the timeout: expected 504 with X-Athttp-Error, got '${l1:-nothing}' (exit $RC)"; return ;;
	esac
	if [ -n "${D_TIMEOUT_PAT:-}" ] && ! printf '%s\n' "$l1" | grep -q "$D_TIMEOUT_PAT"; then
		fail "504, but X-Athttp-Error does not name the module's timeout ($D_TIMEOUT_PAT): '$l1'"
		return
	fi
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

# ------------------------------------------------------------ more response shapes
# Not in matrix_client (the older dialects' suites do not call them).

# t_get_empty CLIENT: a file of 0 bytes (Content-Length: 0, no body at
# all): 200, nothing delivered, and no wait for a body that never comes.
t_get_empty() {
	[ -f "$WWW/empty.txt" ] || : >"$WWW/empty.txt"
	req "$1" "$P/$1/get-empty" GET "$U/empty.txt"
	chk_status 200 && chk_synth_head 0 || return
	[ ! -s "$BODY" ] || { fail "$(fsize "$BODY") body bytes for an empty file"; return; }
	[ "$(hdr Content-Length)" = 0 ] || { fail "Content-Length: expected 0, got '$(hdr Content-Length)'"; return; }
	pass
}

# lookalike_file: makes $WWW/lookalike.bin, lines that look like the
# modules' own output (URCs, final results, prompts), CRLF and all.
lookalike_file() {
	local f=$WWW/lookalike.bin i
	if [ ! -f "$f" ]; then
		for ((i = 0; i < 40; i++)); do
			printf '\r\n+MHTTPURC: "content",0,10,10,10,0123456789\r\n+MHTTPURC: "err",0,5\r\n'
			printf '+MHTTPURC:\r\n"header",0,200,17,HTTP/1.1 200 OK\r\n\r\nOK\r\nERROR\r\n+CME ERROR: 651\r\n'
			printf '+HTTPCLIENT:5,hello\r\n+HTTPCLIENT:<5>,<hello>\r\nSEND OK\r\n> \r\n+HTTPREAD: 0\r\n%03d' "$i"
		done >"$f"
	fi
}

# t_get_lookalike CLIENT: that body comes back byte for byte.
t_get_lookalike() {
	lookalike_file
	req "$1" "$P/$1/get-output-lookalike" GET "$U/lookalike.bin"
	chk_status 200 && chk_body_file "$WWW/lookalike.bin" && chk_synth_head && pass
}

# t_get_query CLIENT: the query string reaches the origin as written.
t_get_query() {
	req "$1" "$P/$1/get-query" GET "$U/echo?x=1&y=a%20b"
	chk_status 200 && chk_echo GET 0 "$EMPTY_SHA" "" && chk_synth_head || return
	origin_since | grep -q '^REQ GET /echo?x=1&y=a%20b HTTP/1.1 ' ||
		{ fail "the origin's log lacks 'REQ GET /echo?x=1&y=a%20b': $(origin_since | grep -m1 '^REQ')"; return; }
	pass
}

# t_origin_cut: curl; the origin announces 6000 bytes, sends 3000 and
# closes.  A real head may already be out: then the client's connection is
# cut (curl exit 18) after an exact prefix of what the origin sent.  With
# D_SYNTH_HEAD the body is spooled before any head: a 502, none of it.
t_origin_cut() {
	local want=$TMP/truncated.bin
	if [ "$CORE_CLIENT" != curl ]; then
		skip "$P/curl/origin-cut-mid-body" "curl does not run in this build"
		return
	fi
	"$PY" -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import origin; sys.stdout.buffer.write(origin.truncated_body(3000))' \
		"$E2E_ROOT/tests" >"$want"
	req curl "$P/curl/origin-cut-mid-body" GET "$U/truncated/3000"
	if [ -n "${D_SYNTH_HEAD:-}" ]; then
		chk_status 502 || return
		! grep -aq 'truncated body' "$BODY" || { fail "part of the cut body reached the client"; return; }
		pass "$(hdr X-Athttp-Error)"
		return
	fi
	[ "$RC" = 18 ] || { fail "curl exit status: expected 18 (transfer closed with bytes remaining), got $RC; status ${STATUS:-none}"; return; }
	[ "$STATUS" = 200 ] && [ "$(hdr Content-Length)" = 6000 ] ||
		{ fail "expected the origin's head (200, Content-Length 6000), got ${STATUS:-none}, Content-Length '$(hdr Content-Length)'"; return; }
	[ "$(fsize "$BODY")" -le 3000 ] && cmp -s "$BODY" <(head -c "$(fsize "$BODY")" "$want") ||
		{ fail "the $(fsize "$BODY") bytes delivered are not a prefix of what the origin sent"; return; }
	pass "cut after $(fsize "$BODY") exact bytes"
}

# t_big_response_header CLIENT N: a response with an N-byte header field
# (X-Big): body exact; with a real head, the field arrives whole.
t_big_response_header() {
	local n=$2 got
	req "$1" "$P/$1/response-header-$n" GET "$U/bighead/$n"
	chk_status 200 && chk_body_text bighead && chk_synth_head || return
	if [ -z "${D_SYNTH_HEAD:-}" ]; then
		got=$(hdr X-Big)
		[ "$got" = "$(head -c "$n" /dev/zero | tr '\0' b)" ] ||
			{ fail "X-Big arrived with ${#got} of $n bytes"; return; }
	fi
	pass
}

# ------------------------------------------------------------ raw-packet extras

# t_options CLIENT: OPTIONS reaches the origin as OPTIONS.
t_options() {
	if [ "$1" = busybox ]; then
		skip "$P/$1/options" "busybox wget can only send GET and POST"
		return
	fi
	req "$1" "$P/$1/options" OPTIONS "$U/echo"
	if in_list OPTIONS "$D_REFUSED_METHODS"; then
		chk_refused_501 "$1" "$MODEM method OPTIONS is not supported by the $MODEM dialect" OPTIONS &&
			pass "refused with 501 naming OPTIONS, nothing sent"
		return
	fi
	chk_status 200 && chk_echo OPTIONS 0 "$EMPTY_SHA" "" || return
	origin_since | grep -q '^REQ OPTIONS /echo HTTP/1.1 len=0 ' ||
		{ fail "the origin's log lacks 'REQ OPTIONS /echo': $(origin_since | grep -m1 '^REQ')"; return; }
	pass
}

# t_trace_cookie CLIENT: a custom header and a cookie, echoed back by
# /headers exactly as the client wrote them.
t_trace_cookie() {
	case $1 in
	curl) REQ_OPTS=(-H "X-Trace: 1" -b "k=v") ;;
	wget) REQ_OPTS=(--header="X-Trace: 1" --header="Cookie: k=v") ;;
	busybox) REQ_OPTS=(--header "X-Trace: 1" --header "Cookie: k=v") ;;
	python) REQ_OPTS=(-H "X-Trace: 1" -H "Cookie: k=v") ;;
	esac
	req "$1" "$P/$1/header-and-cookie" GET "$U/headers"
	REQ_OPTS=()
	chk_status 200 || return
	grep -qx 'X-Trace: 1' "$BODY" ||
		{ fail "/headers does not echo 'X-Trace: 1': $(tr '\n' '|' <"$BODY" | head -c 300)"; return; }
	grep -qx 'Cookie: k=v' "$BODY" ||
		{ fail "/headers does not echo 'Cookie: k=v': $(tr '\n' '|' <"$BODY" | head -c 300)"; return; }
	pass
}

# t_get_trailers CLIENT: a chunked response with trailer fields after the
# last chunk: the body exact, nothing of the trailers in it.
t_get_trailers() {
	req "$1" "$P/$1/get-chunked-trailers" GET "$U/chunked-trailers"
	chk_status 200 && chk_synth_head || return
	if grep -aq 'X-Checksum\|X-Trailer-Note' "$BODY"; then
		fail "the trailer fields leaked into the body ($(fsize "$BODY") bytes)"
		return
	fi
	chk_body_sha "$TRAILERS_SHA" && pass
}

# t_keepalive_trailers: curl, one connection: a chunked response with
# trailers, then another request; the trailers end the first message and
# nothing of them leaks into the second.
t_keepalive_trailers() {
	local b1=$TMP/out/kat1 b2=$TMP/out/kat2
	rm -f "$b1" "$b2"
	ath "$P/curl/keep-alive-trailers" curl -sS -v -o "$b1" -o "$b2" "$U/chunked-trailers" "$U/small.txt"
	[ "$RC" = 0 ] || { fail "curl exit status $RC"; return; }
	[ "$(sha "$b1")" = "$TRAILERS_SHA" ] || { fail "first body (chunked, trailers) sha256 differs ($(fsize "$b1") bytes)"; return; }
	cmp -s "$b2" "$WWW/small.txt" || { fail "second body differs from small.txt: $(head -c 80 "$b2" | tr '\r\n' '  ')"; return; }
	grep -q 'Re-using existing connection' "$ERR" ||
		{ fail "curl did not reuse the connection (no 'Re-using existing connection' in -v)"; return; }
	pass
}

# Each client's own request headers, learnt by running it once without
# athttp against the origin's /headers (loopback: never intercepted).
declare -A REF_UA REF_ACCEPT
learn_client_headers() {
	local c=$1 f=$TMP/out/ref-$1.headers u="http://127.0.0.1:$ORIGIN_PORT/headers"
	rm -f "$f"
	case $c in
	curl) timeout 20 curl -sS -o "$f" "$u" ;;
	wget) timeout 20 wget -q --no-config -O "$f" "$u" ;;
	busybox) timeout 20 busybox wget -q -O "$f" "$u" ;;
	python) timeout 20 "$PY" "$E2E_ROOT/tests/e2e/httpc.py" -o "$f" "$u" >/dev/null ;;
	esac 2>/dev/null </dev/null
	REF_UA[$c]=$(sed -n 's/^User-Agent: //p' "$f" 2>/dev/null)
	REF_ACCEPT[$c]=$(sed -n 's/^Accept: //p' "$f" 2>/dev/null)
}

# t_client_headers CLIENT: raw packets (or every header carried): the
# origin sees the client's own User-Agent and Accept, byte for byte, and
# nothing is listed as dropped.
t_client_headers() {
	local c=$1 got
	[ -n "${REF_UA[$c]+x}" ] || learn_client_headers "$c"
	req "$c" "$P/$c/client-headers-verbatim" GET "$U/headers"
	chk_status 200 || return
	if [ -z "${REF_UA[$c]}" ]; then
		fail "could not learn $c's own User-Agent (run without athttp against the origin)"
		return
	fi
	grep -qxF "User-Agent: ${REF_UA[$c]}" "$BODY" ||
		{ fail "User-Agent: expected '${REF_UA[$c]}' verbatim, the origin got '$(sed -n 's/^User-Agent: //p' "$BODY")'"; return; }
	if [ -n "${REF_ACCEPT[$c]}" ]; then
		grep -qxF "Accept: ${REF_ACCEPT[$c]}" "$BODY" ||
			{ fail "Accept: expected '${REF_ACCEPT[$c]}' verbatim, the origin got '$(sed -n 's/^Accept: //p' "$BODY")'"; return; }
	fi
	got=$(hdr X-Athttp-Dropped)
	[ -z "$got" ] || { fail "raw packets drop nothing, but X-Athttp-Dropped: $got"; return; }
	pass "User-Agent: ${REF_UA[$c]}"
}

# t_big_header_get NAME HEADER BYTES [EMU-PATTERN]: a GET whose HEADER
# (X-Pad, or Cookie) is BYTES long: carried whole (the origin logs all of
# it, and the method is still GET; EMU-PATTERN, when given, must be in the
# emulator's log then), or refused with 413/431/501 with nothing at the
# origin, or — a cosmetic X-Pad only — sent without it and named in
# X-Athttp-Dropped (a fallback to parameterized commands).  Never a
# truncated request, never a Cookie silently lost.
t_big_header_get() {
	local name=$1 h=$2 n=$3 want=${4-} pad got
	pad=$(head -c "$n" /dev/zero | tr '\0' p)
	[ "$h" = Cookie ] && pad="k=$(head -c $((n - 2)) /dev/zero | tr '\0' p)"
	REQ_OPTS=(-H "$h: $pad")
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/$name" GET "$U/headers"
	REQ_OPTS=()
	chk_response || return
	case $STATUS in
	200)
		origin_since | grep -q '^REQ GET /headers HTTP/1.1 ' ||
			{ fail "the origin's log lacks 'REQ GET /headers': $(origin_since | grep -m1 '^REQ')"; return; }
		got=$(origin_since | sed -n "s/^HDR $h: //p" | head -n 1)
		if [ -z "$got" ] && ! origin_since | grep -q "^HDR $h:"; then
			case $h:$(hdr X-Athttp-Dropped) in
			Cookie:*) fail "the request reached the origin without its Cookie: its meaning changed"; return ;;
			*:*"$h"*) pass "fallback: sent without $h, listed in X-Athttp-Dropped"; return ;;
			*) fail "$h neither reached the origin nor was listed in X-Athttp-Dropped"; return ;;
			esac
		fi
		[ "$got" = "$pad" ] || { fail "$h arrived with ${#got} bytes of ${#pad}: a truncated request"; return; }
		[ -z "$want" ] || chk_emu_has "$want" "$want (the command for a request this big)" || return
		pass "carried whole ($n-byte $h)"
		;;
	413 | 431 | 501)
		if origin_since | grep -q '^REQ'; then
			fail "status $STATUS, yet the origin received: $(origin_since | grep -m1 '^REQ')"
			return
		fi
		pass "refused with $STATUS: $(hdr X-Athttp-Error)"
		;;
	*)
		fail "expected 200 (carried whole) or 413 (refused), got $STATUS ($(hdr X-Athttp-Error))"
		;;
	esac
}

# t_post_at_limit NAME BYTES LIMIT [CTYPE [EMU-CHECK]]: a POST of a
# BYTES-long body near a limit of LIMIT bytes (of the body, or of the whole
# request): carried whole (/echo proves length and sha256), or 413 naming
# the limit with nothing at the origin.  Never a truncated request: every
# request the origin logs for it has the full body.  EMU-CHECK "has:PAT"
# or "no:PAT": PAT must (not) be in the emulator's log (a whole line's end).
t_post_at_limit() {
	local name=$1 n=$2 limit=$3 ct=${4:-$OCTET} emu=${5-} f=$TMP/body-$2.bin e
	[ -f "$f" ] || tr -d '\000' </dev/urandom | head -c "$n" >"$f"
	CTYPE=$ct req "$CORE_CLIENT" "$P/$CORE_CLIENT/$name" POST "$U/echo" "@$f"
	chk_response || return
	if origin_since | grep '^REQ ' | grep -qv " len=$n sha256=$(sha "$f")\$"; then
		fail "a truncated request reached the origin: $(origin_since | grep '^REQ ' | grep -v " len=$n " | head -n 1)"
		return
	fi
	case $emu in
	has:*) chk_emu_has "${emu#has:}\$" "${emu#has:} (the request as one packet)" || return ;;
	no:*) chk_emu_no "${emu#no:}\$" "${emu#no:}: a packet over the $limit-byte limit" || return ;;
	esac
	case $STATUS in
	200)
		chk_echo POST "$n" "$(sha "$f")" "$ct" && pass "carried whole"
		;;
	413)
		e=$(hdr X-Athttp-Error)
		case $e in *"$limit"*) ;; *) fail "413, but X-Athttp-Error does not name the limit $limit: '$e'"; return ;; esac
		if origin_since | grep -q '^REQ'; then
			fail "413, yet the origin received: $(origin_since | grep -m1 '^REQ')"
			return
		fi
		pass "413: $e"
		;;
	*) fail "expected 413 naming $limit, got $STATUS ($(hdr X-Athttp-Error))" ;;
	esac
}

# t_packet_boundary LIMIT RAW-PATTERN: requests whose raw packet is
# LIMIT-1, LIMIT, LIMIT+1 and LIMIT+2 bytes ($CORE_CLIENT POSTs of text/plain
# bodies sized from a probe's packet).  Up to LIMIT: the raw packet,
# RAW-PATTERN with "@LEN@" the packet's length, must be in the emulator's
# log.  Over it: never that packet; the request is carried whole another
# way or refused with 413 naming LIMIT; never truncated at the origin.
t_packet_boundary() {
	local limit=$1 pat=$2 probe=$TMP/body-probe.bin len head target n
	tr -d '\000' </dev/urandom | head -c 1500 >"$probe"
	CTYPE=text/plain req "$CORE_CLIENT" "$P/$CORE_CLIENT/packet-probe" POST "$U/echo" "@$probe"
	chk_status 200 && chk_echo POST 1500 "$(sha "$probe")" text/plain || return
	len=$(emu_since | sed -n "s/^CMD .*${pat%%@LEN@*}\([0-9]*\).*/\1/p" | tail -n 1)
	[ -n "$len" ] || { fail "no raw packet (${pat//@LEN@/<len>}) in the emulator's log for a 1500-byte POST"; return; }
	head=$((len - 1500))
	pass "head $head bytes: packet $len"
	for target in $((limit - 1)) "$limit" $((limit + 1)) $((limit + 2)); do
		n=$((target - head))
		if [ "$target" -le "$limit" ]; then
			t_post_at_limit "post-packet-$target" "$n" "$limit" text/plain "has:${pat//@LEN@/$target}"
		else
			t_post_at_limit "post-packet-$target" "$n" "$limit" text/plain "no:${pat//@LEN@/$target}"
		fi
	done
}

# ------------------------------------------------------------ drivers

# matrix_client CLIENT: the Foundation cases for one client, in their
# order; with D_RAW or D_EXTRAS, the raw-packet extras follow.  BIG_CLIENTS
# (unset: every client) names the clients that run the 5 MB GET.
matrix_client() {
	local c=$1
	t_get_small "$c"
	if [ -z "${BIG_CLIENTS+x}" ] || in_list "$c" "$BIG_CLIENTS"; then
		t_get_big "$c"
	fi
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
		t_refused_header authorization "Authorization: Bearer secret" -H "Authorization: Bearer secret"
		t_refused_header range "Range: bytes=0-9" -r 0-9
		t_inject_quote
		t_inject_body
		t_other_method curl PUT
		t_other_method curl PATCH
		t_inject_crlf
	fi
	if [ -n "$D_RAW$D_EXTRAS" ]; then
		if [ "$c" != curl ]; then
			t_other_method "$c" PUT
			t_other_method "$c" PATCH
		fi
		t_options "$c"
		[ -n "$D_RAW$D_HEADERS_ALL" ] && t_trace_cookie "$c"
		t_get_trailers "$c"
		[ "$c" = curl ] && t_keepalive_trailers
		[ -n "$D_RAW$D_HEADERS_ALL" ] && t_client_headers "$c"
	fi
}

# matrix_tail: the single-client Foundation cases after the client loop.
matrix_tail() {
	t_wrapper "$CORE_CLIENT"
	t_fork_child
	t_emu_alive
}

# ------------------------------------------------------------ sections
# The Foundation's emulator sections, any dialect; $MODEM-<section> names.

# A paced line (921600 baud, 20 ms before every answer): the engine must let
# each answer finish before its next command, as a strict module demands.
section_paced() {
	P=$MODEM-paced
	if start_emu --baud 921600 --latency-ms 20 "$@"; then
		t_get_chunked $CORE_CLIENT
		t_post_form $CORE_CLIENT
		t_emu_alive
	fi
}

# A module slow to answer (SLOW_MS, default 700 ms, before every answer):
# late answers must never be paired with the wrong command.  (One GET
# costs about 15 answers: 10 s at 700 ms.)
section_slow() {
	P=$MODEM-slow
	if start_emu --latency-ms "${SLOW_MS:-700}" "$@"; then
		t_get_small $CORE_CLIENT
		t_emu_alive
	fi
}

# A module that fails: out of memory for a big body, an origin too slow.
section_failures() {
	P=$MODEM-failures
	if start_emu --max-body 100000 "$@"; then
		t_module_oom $CORE_CLIENT
		t_timeout_then_recover
		t_get_small $CORE_CLIENT
		t_emu_alive
	fi
}

# ------------------------------------------------------------ https
# section_https: real clients speak TLS to athttp (which they trust through
# the wrapper's environment), athttp hands the plaintext to the module as an
# https request, and the emulator does real TLS to origin.py's TLS
# listeners, checking certificates as far as the module was told to
# (lib.sh: the test PKI, PKI_ROOT, the routes for origin.test,
# wrongname.test, expired.test and untrusted.test, port 443).
# $MODEM-https-<case> names.  The record: D_TLS, D_TLS_VERIFIES,
# D_TLS_ERROR_PAT, D_TLS_EMU_ARGS (top of this file).
HU=https://origin.test
NOT_SMALL='athttp end-to-end test file'	# small.txt's first line

section_https() {
	local c
	P=$MODEM-https
	# shellcheck disable=SC2086 # D_TLS_EMU_ARGS is a list of options
	start_emu ${D_TLS_EMU_ARGS:-} || return
	if [ -z "${D_TLS:-}" ]; then
		ATH_OPTS=(--module-ca "$PKI_ROOT")
		t_https_absent
		ATH_OPTS=()
		t_emu_alive
		return
	fi
	if [ -n "${D_TLS_VERIFIES:-}" ]; then
		ATH_OPTS=(--module-ca "$PKI_ROOT")
		HTTPS_UNVERIFIED=
	else
		ATH_OPTS=(--module-ca "$PKI_ROOT")
		t_https_cannot_verify "$P/curl/cannot-verify" "$HU/small.txt"
		ATH_OPTS=(--module-ca "$PKI_ROOT" --insecure-upstream)
		HTTPS_UNVERIFIED=1
	fi
	https_clients
	for c in $HTTPS_CLIENTS; do
		https_client "$c"
	done
	if [ "$CORE_CLIENT" = curl ]; then
		t_https_keepalive
		t_https_redirect
		t_https_client_distrust
		t_https_git
	else
		skip "$P/curl/..." "curl and git do not run in this build (keep-alive, redirect, distrust and git clone are curl's and git's cases)"
	fi
	if [ -n "${D_TLS_VERIFIES:-}" ]; then
		t_https_rejected wrongname "a certificate for other.test"
		t_https_rejected expired "a certificate whose validity is past"
		t_https_rejected untrusted "a certificate of a root the module was not given"
	else
		t_https_unverified_untrusted
	fi
	if [ -n "${D_TLS_VERIFIES:-}" ]; then
		t_https_insecure_flag
		ATH_OPTS=()
		t_https_cannot_verify "$P/$CORE_CLIENT/no-module-ca" "$HU/small.txt"
		ATH_OPTS=(--module-ca "$PKI_ROOT")
	fi
	t_https_record_replay
	t_https_library
	ATH_OPTS=()
	t_emu_alive
}

# t_https_library: the engine as a library (examples/athttp-fetch, no
# LD_PRELOAD and no local TLS): athttp_request with an https:// URL goes to
# the module as https, with the same trust rules, from the environment.
t_https_library() {
	local out=$TMP/out/https-library.body err=$TMP/out/https-library.err
	local -a envs=(ATHTTP_MODULE_CA="$PKI_ROOT")
	CASE="$P/library/get-small"
	[ -n "${HTTPS_UNVERIFIED:-}" ] && envs+=(ATHTTP_INSECURE_UPSTREAM=1)
	mark_logs
	LAST_CMD="athttp-fetch -d $TMP/tty -m $MODEM $HU/small.txt"
	env "${envs[@]}" timeout -k 5 60 "$E2E_BUILD/examples/athttp-fetch" -d "$TMP/tty" -m "$MODEM" \
		"$HU/small.txt" >"$out" 2>"$err"
	RC=$? ERR=$err
	[ "$RC" = 0 ] || { fail "athttp-fetch exited $RC: $(tail -n 1 "$err")"; return; }
	cmp -s "$out" "$WWW/small.txt" || { fail "the body differs from the file (sha256 $(sha "$out"))"; return; }
	chk_origin_tls origin || return
	if [ -n "${HTTPS_UNVERIFIED:-}" ]; then
		grep -qi '^X-Athttp-Upstream-TLS: unverified' "$err" ||
			{ fail "--insecure-upstream: the head lacks X-Athttp-Upstream-TLS: unverified"; return; }
	elif grep -qi '^X-Athttp-Upstream-TLS' "$err"; then
		fail "the module verified the server, yet the head says $(grep -i -m1 '^X-Athttp-Upstream-TLS' "$err")"
		return
	fi
	pass "athttp_request over https, body identical"
}

# https_clients: $HTTPS_CLIENTS, the matrix's clients and, when python has
# it, requests.
https_clients() {
	HTTPS_CLIENTS=$CLIENTS
	if in_list python "$CLIENTS" && "$PY" -c 'import requests' 2>/dev/null; then
		HTTPS_CLIENTS="$HTTPS_CLIENTS requests"
	fi
}

# https_req CLIENT CASE METHOD URL [BODY]: req for https, with the requests
# client too (same outputs: $STATUS, $HDRS, $BODY).
https_req() {
	if [ "$1" != requests ]; then
		req "$@"
		return
	fi
	local case=$2 method=$3 url=$4 body=${5-} ct=${CTYPE:-} s
	s=${case//\//_}
	ath "$case" "$PY" -c '
import sys, requests
method, url, out, body, ct = sys.argv[1:6]
kw = {}
if body.startswith("@"):
    kw["data"] = open(body[1:], "rb").read()
elif body:
    kw["data"] = body.encode()
    # a form, as the other clients send a string body (requests would
    # send bytes with no Content-Type at all)
    ct = ct or "application/x-www-form-urlencoded"
if ct:
    kw["headers"] = {"Content-Type": ct}
r = requests.request(method, url, timeout=50, **kw)
open(out, "wb").write(r.content)
print("STATUS", r.status_code)
for k, v in r.headers.items():
    print("H %s: %s" % (k, v))
' "$method" "$url" "$TMP/out/$s.body" "$body" "$ct"
	sed -n -e 's/^STATUS /HTTP\/1.1 /p' -e 's/^H //p' "$OUT" | last_block /dev/stdin >"$HDRS.tmp"
	STATUS=$(sed -n '1s/^STATUS //p' "$HDRS.tmp")
	sed 1d "$HDRS.tmp" >"$HDRS"
	rm -f "$HDRS.tmp"
	[ -f "$BODY" ] || : >"$BODY"
}

# chk_upstream_mark: with HTTPS_UNVERIFIED every answer says
# X-Athttp-Upstream-TLS: unverified; without it none may.
chk_upstream_mark() {
	local got
	got=$(hdr X-Athttp-Upstream-TLS)
	if [ -n "${HTTPS_UNVERIFIED:-}" ]; then
		[ "$got" = unverified ] ||
			{ fail "--insecure-upstream: expected X-Athttp-Upstream-TLS: unverified, got '${got:-<absent>}'"; return 1; }
	elif [ -n "$got" ]; then
		fail "the module verified the server, yet X-Athttp-Upstream-TLS: $got"
		return 1
	fi
}

# chk_origin_tls NAME: the origin's TLS listener NAME had a connection in
# this case (the module spoke TLS, not plain http, to it).
chk_origin_tls() {
	origin_since | grep -q "^TLS $1 " ||
		{ fail "the origin's $1 TLS listener saw no handshake: $(origin_since | grep -m1 -e '^TLSFAIL' -e '^REQ')"; return 1; }
}

# chk_origin_untouched: no request reached any origin in this case.
chk_origin_untouched() {
	if origin_since | grep -q '^REQ'; then
		fail "the origin received: $(origin_since | grep -m1 '^REQ')"
		return 1
	fi
}

# chk_no_file_body: none of small.txt's bytes reached the client.
chk_no_file_body() {
	if grep -qaF "$NOT_SMALL" "$BODY" "$OUT" 2>/dev/null; then
		fail "the origin's file reached the client"
		return 1
	fi
}

# t_https_absent: a dialect without https: 502 naming it, nothing sent.
t_https_absent() {
	local e
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/no-https" GET "$HU/small.txt"
	chk_status 502 || return
	e=$(hdr X-Athttp-Error)
	printf '%s\n' "$e" | grep -qi 'https' ||
		{ fail "502, but X-Athttp-Error does not say https is what the dialect lacks: '${e:-<absent>}'"; return; }
	chk_no_file_body && chk_origin_untouched && chk_emu_no "$D_SEND_PAT" "a request command for https the dialect lacks" || return
	pass "$e"
}

# t_https_cannot_verify CASE URL: https where the module will not verify
# and --insecure-upstream is not given: 502 "cannot verify", nothing sent.
t_https_cannot_verify() {
	local e
	req "$CORE_CLIENT" "$1" GET "$2"
	chk_status 502 || return
	e=$(hdr X-Athttp-Error)
	case $e in
	*"cannot verify"*) ;;
	*) fail "502, but X-Athttp-Error lacks 'cannot verify': '${e:-<absent>}'"; return ;;
	esac
	chk_no_file_body && chk_origin_untouched && chk_emu_no "$D_SEND_PAT" "a request command for a server nobody would verify" || return
	pass "$e"
}

# https_client CLIENT: the Foundation's core cases over https.
https_client() {
	local c=$1
	https_req "$c" "$P/$c/get-small" GET "$HU/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark && chk_origin_tls origin && pass

	if in_list "$c" curl python requests; then
		https_req "$c" "$P/$c/get-5mb" GET "$HU/big.bin"
		chk_status 200 && chk_body_file "$WWW/big.bin" && chk_upstream_mark && pass
	fi

	if [ "$c" = busybox ]; then
		skip "$P/$c/head" "busybox wget cannot send HEAD"
	else
		https_req "$c" "$P/$c/head" HEAD "$HU/big.bin"
		if chk_status 200 && chk_header Content-Length "$BIG_SIZE" && chk_upstream_mark; then
			if [ -s "$BODY" ]; then fail "HEAD answer delivered $(fsize "$BODY") body bytes"; else pass; fi
		fi
	fi

	https_req "$c" "$P/$c/post-form" POST "$HU/echo" "$FORM"
	if chk_status 200 && chk_echo POST "${#FORM}" "$(sha_str "$FORM")" "$FORM_CT" && chk_upstream_mark; then
		if origin_since | grep -q "^REQ POST /echo HTTP/1.1 len=${#FORM} sha256=$(sha_str "$FORM")\$"; then
			pass "the origin got the ${#FORM} bytes (sha256)"
		else
			fail "the origin's log lacks the POST with the form's sha256: $(origin_since | grep -m1 '^REQ')"
		fi
	fi

	https_req "$c" "$P/$c/get-chunked" GET "$HU/chunked"
	chk_status 200 && chk_body_sha "$CHUNKED_SHA" && chk_upstream_mark && pass
}

# t_https_keepalive: curl, two https URLs on one TLS connection to athttp.
t_https_keepalive() {
	local b1=$TMP/out/hka1 b2=$TMP/out/hka2
	rm -f "$b1" "$b2"
	ath "$P/curl/keep-alive" curl -sS -v -o "$b1" -o "$b2" "$HU/small.txt" "$HU/chunked"
	[ "$RC" = 0 ] || { fail "curl exit status $RC"; return; }
	cmp -s "$b1" "$WWW/small.txt" || { fail "first body differs from small.txt"; return; }
	[ "$(sha "$b2")" = "$CHUNKED_SHA" ] || { fail "second body (chunked) sha256 differs"; return; }
	grep -q 'Re-using existing connection' "$ERR" ||
		{ fail "curl did not reuse its TLS connection (no 'Re-using existing connection' in -v)"; return; }
	[ "$(grep -c '^\* SSL connection using' "$ERR")" = 1 ] ||
		{ fail "curl made $(grep -c '^\* SSL connection using' "$ERR") TLS handshakes for two URLs"; return; }
	pass "one TLS handshake, two answers"
}

# t_https_redirect: curl -L from http to https: the body of the https one.
t_https_redirect() {
	req curl "$P/curl/redirect-http-to-https" GET "$U/to-https/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark || return
	local answers
	answers=$(grep -c '^HTTP/' "$TMP/out/${CASE//\//_}.rawhdr")
	if [ -n "${D_SYNTH_HEAD:-}${D_FOLLOWS_HTTPS_REDIRECT:-}" ]; then
		# the module followed it (verified, as tls_setup set it up):
		# curl saw only the last answer
		[ "$answers" = 1 ] || { fail "the module follows redirects, yet curl saw $answers answers"; return; }
	else
		grep -q '^HTTP/1.1 302' "$TMP/out/${CASE//\//_}.rawhdr" ||
			{ fail "curl never saw the 302 to https"; return; }
	fi
	origin_since | grep -q '^REQ GET /to-https/small.txt ' || { fail "the origin never saw GET /to-https/small.txt"; return; }
	chk_origin_tls origin || return
	origin_since | grep -q '^REQ GET /small.txt ' || { fail "the origin never saw GET /small.txt after the redirect"; return; }
	pass
}

# t_https_client_distrust: a client not given athttp's local CA fails its
# own check (curl exit 60): nothing is trusted silently.
t_https_client_distrust() {
	local roots=/etc/ssl/certs/ca-certificates.crt
	[ -f "$roots" ] || { skip "$P/curl/client-distrusts" "no $roots"; return; }
	NO_ROUNDTRIP=1 ath "$P/curl/client-distrusts" curl -sS --cacert "$roots" -o "$TMP/out/distrust.body" "$HU/small.txt"
	BODY=$TMP/out/distrust.body
	[ "$RC" = 60 ] || { fail "curl with only the system roots: expected exit 60 (certificate problem), got $RC"; return; }
	chk_no_file_body && chk_origin_untouched || return
	pass "curl: $(grep -m1 -o 'SSL certificate problem.*' "$ERR" | head -c 80)"
}

# t_https_git: git clone over https of a small bare repository that origin.py
# serves as plain files (git's dumb http protocol).
t_https_git() {
	local src=$TMP/git-src repo=$WWW/repo.git dst=$TMP/cwd/repo-clone want got
	if ! command -v git >/dev/null; then
		skip "$P/git/clone" "git is not installed"
		return
	fi
	if [ ! -d "$repo" ]; then
		rm -rf "$src"
		if ! { git init -q "$src" && cp "$WWW/small.txt" "$src/" &&
			git -C "$src" add small.txt &&
			git -C "$src" -c user.name=athttp -c user.email=e2e@athttp.test commit -q -m 'https e2e' &&
			git clone -q --bare "$src" "$repo" && git -C "$repo" update-server-info; } >"$TMP/git-setup.log" 2>&1; then
			CASE=$P/git/clone RC="" ERR=$TMP/git-setup.log fail "could not make the test repository"
			return
		fi
	fi
	want=$(git -C "$repo" rev-parse HEAD)
	rm -rf "$dst"
	# git runs git-remote-https as a child that opens the port again.
	NO_ROUNDTRIP=1 ath "$P/git/clone" env GIT_TERMINAL_PROMPT=0 git clone -q "$HU/repo.git" "$dst"
	[ "$RC" = 0 ] || { fail "git clone exit status $RC"; return; }
	got=$(git -C "$dst" rev-parse HEAD 2>/dev/null)
	[ "$got" = "$want" ] || { fail "cloned HEAD '${got:-none}', expected $want"; return; }
	cmp -s "$dst/small.txt" "$WWW/small.txt" || { fail "the clone's small.txt differs"; return; }
	chk_origin_tls origin || return
	origin_since | grep -q '^REQ GET /repo.git/info/refs' || { fail "the origin never saw GET /repo.git/info/refs"; return; }
	pass "HEAD ${got:0:12}, dumb http over https"
}

# t_https_rejected NAME WHAT: a server whose certificate the module must
# reject: 502 naming the module's error (D_TLS_ERROR_PAT), never the body.
t_https_rejected() {
	local name=$1 what=$2 e
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/reject-$name" GET "https://$name.test/small.txt"
	chk_status 502 || return
	e=$(hdr X-Athttp-Error)
	printf '%s\n' "$e" | grep -Eq -e "$D_TLS_ERROR_PAT" ||
		{ fail "X-Athttp-Error does not match '$D_TLS_ERROR_PAT': '${e:-<absent>}'"; return; }
	chk_no_file_body && chk_origin_untouched || return
	origin_since | grep -q -e "^TLSFAIL $name " -e "^TLS $name " ||
		{ fail "the module never reached the $name listener (rejected before trying?)"; return; }
	pass "$what: $e"
}

# t_https_unverified_untrusted: a family that cannot verify, under
# --insecure-upstream: even a server of an unknown root answers, marked.
t_https_unverified_untrusted() {
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/insecure-untrusted" GET "https://untrusted.test/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark && chk_origin_tls untrusted &&
		pass "unverified, and it says so"
}

# t_https_insecure_flag: a family that verifies, no --module-ca but
# --insecure-upstream: the untrusted server answers, marked unverified.
t_https_insecure_flag() {
	local saved=$HTTPS_UNVERIFIED
	# A fresh module: some families keep loaded roots until a reset (ESP-AT
	# holds AT+HTTPCERT's in RAM, with no command to drop them), which
	# would fail this case closed.
	# shellcheck disable=SC2086 # D_TLS_EMU_ARGS is a list of options
	start_emu ${D_TLS_EMU_ARGS:-} || return
	ATH_OPTS=(--insecure-upstream)
	HTTPS_UNVERIFIED=1
	req "$CORE_CLIENT" "$P/$CORE_CLIENT/insecure-upstream" GET "https://untrusted.test/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_upstream_mark && chk_origin_tls untrusted &&
		pass "untrusted.test answered, marked unverified"
	HTTPS_UNVERIFIED=$saved
	ATH_OPTS=(--module-ca "$PKI_ROOT")
}

# t_https_record_replay: an https GET recorded (--record), then replayed
# (-d replay:) without the module: the same body; the transcript holds the
# module conversation in plaintext, never a TLS record.
t_https_record_replay() {
	local rec=$TMP/https-record.at b1=$TMP/out/https-rec.body b2=$TMP/out/https-replay.body client=()
	rm -f "$rec" "$b1" "$b2"
	if [ "$CORE_CLIENT" = curl ]; then client=(curl -sS -o); else client=("$PY" "$E2E_ROOT/tests/e2e/httpc.py" -o); fi
	ath_raw "$P/record-replay/record" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" "${ATH_OPTS[@]}" --record "$rec" -- \
		"${client[@]}" "$b1" "$HU/small.txt"
	if [ "$RC" != 0 ] || ! cmp -s "$b1" "$WWW/small.txt"; then
		fail "recording run: exit $RC, body $(cmp -s "$b1" "$WWW/small.txt" 2>/dev/null && echo equal || echo differs)"
		return
	fi
	ath_raw "$P/record-replay" "$ATHTTP" -d "replay:$rec" -m "$MODEM" "${ATH_OPTS[@]}" -- \
		"${client[@]}" "$b2" "$HU/small.txt"
	[ "$RC" = 0 ] || { fail "replay: exit $RC"; return; }
	[ "$(sha "$b2")" = "$SMALL_SHA" ] || { fail "replayed body sha256 $(sha "$b2" | cut -c1-16)…, expected $SMALL_SHA"; return; }
	grep -q 'origin\.test' "$rec" || { fail "the transcript never names origin.test"; return; }
	grep -qF "$NOT_SMALL" "$rec" || { fail "the transcript lacks the body in plaintext (the module's conversation)"; return; }
	if grep -qi -e '\\x16\\x03\\x0[0-4]' -e '\\x17\\x03\\x03' "$rec"; then
		fail "the transcript holds TLS records: $(grep -m1 -o -i -e '.\{0,20\}\\x16\\x03\\x0[0-4].\{0,20\}' -e '.\{0,20\}\\x17\\x03\\x03.\{0,20\}' "$rec")"
		return
	fi
	pass "$(grep -c '' "$rec") transcript lines, plaintext, body identical"
}
