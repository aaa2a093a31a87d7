#!/bin/bash
# The Foundation matrix and the family's own cases for China Mobile OneMO modules
# (-m onemo: AT+MHTTPCREATE one instance per origin, AT+MHTTPHEADER for
# every header, AT+MHTTPCONTENT bodies of at most 4096 bytes a command,
# AT+MHTTPREQUEST, +MHTTPURC "header"/"content"/"err"), against
# athttp-emu -m onemo.  The cases are matrix.sh's, plus onemo's own below.
#
# Until both the driver and the emulator are in the build (athttp -m onemo
# answers exit 2 "unknown modem"; athttp-emu -m onemo exit 2 "not
# implemented yet"), this script checks only those refusals, says so on a
# skip line, and exits 0.
#
# The onemo cases, besides the matrix read through the record:
#   post-10k-three-pieces   10240 bytes as AT+MHTTPCONTENT 4096/4096/2048
#                           (eof 1,1,0), the data phases byte for byte the
#                           body, and the origin's sha256 (every client)
#   post-12288-at-limit     three full pieces; 12289 bytes: 413 naming
#                           AT+MHTTPCONTENT (matrix: post-12289b-413)
#   put-body                PUT, 6000 bytes: method 3, pieces 4096/1904
#   five-origins-lru        o1 o2 o3 o4 o1 o5 o2 in one process: at most 4
#                           instances, o1 reused, AT+MHTTPDEL of the least
#                           recently used (o2, then o3)
#   header-quote-data-mode  values with '"' and '\' by the data phase
#   header-field-1024/1025  command mode up to 1024 bytes, data mode above;
#                           5008 bytes: 501 naming the header
#   headers-over-4096-total the module's 4096 bytes of a request's headers
#   bringup-first/-second   AT+CGMM and AT+MHTTPCFG="chunked" at bring-up;
#                           AT+MHTTPDEL only of instances that exist
#   post-20k-chained        --model ML307R: 20480 bytes in five pieces;
#   post-20k-413            --model ML307G: the same refused, naming 12288
#   status-204/500, get-empty, get-query, response-header-3000,
#   origin-cut-mid-body, post-chunked-request, get-output-lookalike
#   variants split-urc, nospace, slots2 (two-slots-lru: +CME ERROR: 651,
#   delete the LRU, retry once), frag512: GET, chunked, HEAD, POSTs.
#   https: matrix.sh's section_https on the record's D_TLS fields;
#   redirect-to-https-verified/-guarded (the HTTP manual's note to 3.5: the
#   module follows http -> https itself; the driver's binding of every
#   http instance decides whether verified or not at all); the noauth
#   firmware: 502 naming AT+MSSLCFG="auth", 200 marked unverified with
#   --insecure-upstream.  These need the engine's https (modem.c's
#   tls_setup call, ATHTTP_MODULE_CA) and emutls' section_https.
#
# Client choice (make check's run time): as httpcfg_family.sh — every core
# case and the raw-packet extras with all four clients, the 5 MB GET with curl
# and python only; onemo's own cases with curl (or python under ASan), the
# 10 KB body with every client.
E2E_NAME=onemo
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/matrix.sh"
MODEM=onemo

# onemo's record (see matrix.sh): parameterized commands that carry every
# header (AT+MHTTPHEADER, a data phase for values a quoted string cannot
# hold), real status and headers (+MHTTPURC: "header"), methods 1-5 of
# AT+MHTTPREQUEST, bodies of at most 3 x 4096 bytes.
D_RAW=
D_HEADERS_ALL=1
D_EXTRAS=1
D_REFUSED_METHODS="PATCH OPTIONS"      # AT+MHTTPREQUEST: GET POST PUT DELETE HEAD
D_URL_PAT='^CMD AT+MHTTPREQUEST=[0-3],1,0,"@PATH@"$'
D_SEND_PAT='AT+MHTTPREQUEST='
D_BODY_PAT='AT+MHTTPCONTENT='
D_TRACE_PAT='AT+MHTTPREQUEST='
D_VERIFY_MODEM='^CMD AT+MHTTPREQUEST='
D_VERBOSE_PAT='AT+MHTTPREQUEST=[0-3],1,0,"/small\.txt"'
D_DNS_CODE='onemo 1 '                  # +MHTTPURC: "err",<id>,1: DNS
D_OOM_CODE='onemo 8 '                  # +MHTTPURC: "err",<id>,8: cache full
D_OVER_NAME=12289b                     # one byte over 3 x 4096
D_OVER_FILE=body12289
D_MAX_BODY=12288
D_LIMIT_TEXT=AT+MHTTPCONTENT
D_METHOD_BODY=body6k                   # PUT bodies: two AT+MHTTPCONTENT pieces
# https (matrix.sh's section_https): the module verifies with the
# --module-ca roots (AT+MSSLCERTWR, AT+MSSLCFG "cert", "auth" 1 on SSL 1);
# a rejected server certificate ends in +MHTTPURC: "err",<id>,4, the one
# TLS code of the HTTP manual.
D_TLS=1
D_TLS_VERIFIES=1
D_TLS_ERROR_PAT='onemo 4 '
D_TLS_EMU_ARGS=
D_FOLLOWS_HTTPS_REDIRECT=1              # an http instance follows a 30x to https itself (HTTP manual, 3.5)
BIG_CLIENTS="curl python"

body12289() { body_n 12289 "$1"; }
body6k() { body_n 6000 "$1"; }

# ------------------------------------------------------------ onemo's cases

# chk_content_pieces FILE PIECES METHOD: the emulator's log since the mark
# shows the body of FILE sent as AT+MHTTPCONTENT=<id>,<eof>,<len> commands
# whose "eof,len" are PIECES (e.g. "1,4096 1,4096 0,2048"), each followed
# by its data phase, the data byte for byte FILE; then AT+MHTTPREQUEST with
# METHOD's number on the same instance.
chk_content_pieces() {
	local f=$1 want=$2 method=$3 got ids data=$TMP/out/content.data lens
	got=$(emu_cmds '^AT\+MHTTPCONTENT=' | sed -n 's/^AT+MHTTPCONTENT=[0-9]*,\([01]\),\([0-9]*\)$/\1,\2/p' | tr '\n' ' ')
	[ "${got% }" = "$want" ] ||
		{ fail "AT+MHTTPCONTENT pieces (eof,len): expected '$want', got '${got% }' ($(emu_cmds '^AT\+MHTTPCONTENT=' | head -n 4 | tr '\n' '|'))"; return 1; }
	lens=$(emu_data_after '^AT\+MHTTPCONTENT=' "$data" | tr '\n' ' ')
	[ "${lens% }" = "$(echo "$want" | sed 's/[01],//g')" ] ||
		{ fail "data phases after AT+MHTTPCONTENT: lengths '${lens% }', expected '$(echo "$want" | sed 's/[01],//g')'"; return 1; }
	cmp -s "$data" "$f" ||
		{ fail "the bytes of the AT+MHTTPCONTENT data phases differ from the body ($(fsize "$data") of $(fsize "$f") bytes; first difference: $(cmp "$data" "$f" 2>&1 | head -c 100))"; return 1; }
	ids=$(emu_cmds '^AT\+MHTTP(CONTENT|REQUEST)=' | sed 's/^AT+MHTTP[A-Z]*=\([0-9]*\),.*/\1/' | sort -u | tr '\n' ' ')
	[ "$(echo $ids | wc -w)" = 1 ] ||
		{ fail "the body and the request went to different instances: ids $ids"; return 1; }
	emu_cmds '^AT\+MHTTP(CONTENT|REQUEST)=' | tail -n 1 | grep -q "^AT+MHTTPREQUEST=[0-9]*,$method,0,\"/echo\"$" ||
		{ fail "no AT+MHTTPREQUEST=<id>,$method,0,\"/echo\" after the last AT+MHTTPCONTENT: $(emu_cmds '^AT\+MHTTPREQUEST=' | tail -n 1)"; return 1; }
}

# t_post_pieces CLIENT NAME SIZE PIECES: a binary POST of SIZE bytes, exact
# at the origin's /echo, sent as PIECES (see chk_content_pieces).
t_post_pieces() {
	local c=$1 name=$2 n=$3 pieces=$4 f
	f=$(body_n "$n" "$c")
	CTYPE=$OCTET req "$c" "$P/$c/$name" POST "$U/echo" "@$f"
	chk_status 200 && chk_echo POST "$n" "$(sha "$f")" "$OCTET" || return
	origin_since | grep -q "^REQ POST /echo HTTP/1.1 len=$n sha256=$(sha "$f")\$" ||
		{ fail "the origin's log lacks 'REQ POST /echo' with the whole body: $(origin_since | grep -m1 '^REQ')"; return; }
	chk_content_pieces "$f" "$pieces" 2 || return
	pass "pieces $pieces"
}

# t_put_body CLIENT: PUT with a binary body: method 3, two
# pieces, byte for byte at the origin.
t_put_body() {
	local c=$1 f
	f=$(body_n 6000 "$c")
	CTYPE=$OCTET req "$c" "$P/$c/put-body" PUT "$U/echo" "@$f"
	chk_status 200 && chk_echo PUT 6000 "$(sha "$f")" "$OCTET" || return
	origin_since | grep -q "^REQ PUT /echo HTTP/1.1 len=6000 sha256=$(sha "$f")\$" ||
		{ fail "the origin's log lacks 'REQ PUT /echo' with the whole body: $(origin_since | grep -m1 '^REQ')"; return; }
	chk_content_pieces "$f" "1,4096 0,1904" 3 || return
	pass "6000 bytes, sha256 $(sha "$f" | head -c 16)… at the origin"
}

# chk_header_cmds: every AT+MHTTPHEADER of the request has eof=1 but the
# last (eof=0), and each command-mode one's <len> is its field's length.
chk_header_cmds() {
	local eofs want n bad
	eofs=$(emu_cmds '^AT\+MHTTPHEADER=' | sed 's/^AT+MHTTPHEADER=[0-9]*,\([0-9]*\),.*/\1/' | tr -d '\n')
	n=${#eofs}
	[ "$n" -gt 0 ] || { fail "no AT+MHTTPHEADER command"; return 1; }
	want=$(printf '%*s' $((n - 1)) '' | tr ' ' 1)0
	[ "$eofs" = "$want" ] || { fail "AT+MHTTPHEADER eof flags: expected $want, got $eofs"; return 1; }
	bad=$(emu_cmds '^AT\+MHTTPHEADER=[0-9]*,[01],[0-9]*,"' | awk '{
		l = $0; sub(/^AT\+MHTTPHEADER=[0-9]*,[01],/, "", l)
		len = l; sub(/,.*/, "", len)
		v = l; sub(/^[0-9]*,"/, "", v); sub(/"$/, "", v)
		if (length(v) != len + 0) { print; exit } }')
	[ -z "$bad" ] || { fail "command-mode AT+MHTTPHEADER whose <len> is not its field's length: $bad"; return 1; }
}

# t_header_quote: header values with a double quote and a backslash reach
# the origin intact, through AT+MHTTPHEADER's data mode (length-counted,
# no quoted string); a plain one in command mode with its exact length.
t_header_quote() {
	local q='say "hi" \o/' b='C:\dir\file' f1 f2 lens
	REQ_OPTS=(-H "X-Quote: $q" -H "X-Backslash: $b" -H "X-Plain: hello")
	req $CORE_CLIENT "$P/$CORE_CLIENT/header-quote-data-mode" GET "$U/headers"
	REQ_OPTS=()
	chk_status 200 || return
	grep -qxF "X-Quote: $q" "$BODY" ||
		{ fail "/headers does not echo 'X-Quote: $q': $(grep -a '^X-Quote' "$BODY" | head -c 100)"; return; }
	grep -qxF "X-Backslash: $b" "$BODY" ||
		{ fail "/headers does not echo 'X-Backslash: $b': $(grep -a '^X-Backslash' "$BODY" | head -c 100)"; return; }
	grep -qxF "X-Plain: hello" "$BODY" || { fail "/headers does not echo 'X-Plain: hello'"; return; }
	f1="X-Quote: $q" f2="X-Backslash: $b"
	emu_cmds '^AT\+MHTTPHEADER=' | grep -qx "AT+MHTTPHEADER=[0-9]*,[01],${#f1}" ||
		{ fail "no data-mode AT+MHTTPHEADER=<id>,<eof>,${#f1} for the quoted value: $(emu_cmds '^AT\+MHTTPHEADER=' | tr '\n' '|' | head -c 300)"; return; }
	emu_cmds '^AT\+MHTTPHEADER=' | grep -qx "AT+MHTTPHEADER=[0-9]*,[01],${#f2}" ||
		{ fail "no data-mode AT+MHTTPHEADER=<id>,<eof>,${#f2} for the backslash value"; return; }
	emu_cmds '^AT\+MHTTPHEADER=' | grep -qF 'X-Quote' &&
		{ fail "the quoted value went into a command line"; return; }
	emu_cmds '^AT\+MHTTPHEADER=' | grep -qx 'AT+MHTTPHEADER=[0-9]*,[01],14,"X-Plain: hello"' ||
		{ fail "no command-mode AT+MHTTPHEADER=<id>,<eof>,14,\"X-Plain: hello\""; return; }
	lens=$(emu_data_after '^AT\+MHTTPHEADER=[0-9]*,[01],[0-9]*$' "$TMP/out/hdr.data" | tr '\n' ' ')
	grep -qF "$f1" "$TMP/out/hdr.data" && grep -qF "$f2" "$TMP/out/hdr.data" ||
		{ fail "the data phases after AT+MHTTPHEADER ($lens bytes) lack '$f1' or '$f2'"; return; }
	chk_header_cmds || return
	pass "data phases of ${lens% } bytes"
}

# onemo_instances: reads the emulator's log since the mark (see
# onemo_origins) and prints CREATES=... EVICTED=... MAX_ALIVE=...
# REQ_HOSTS=... STRAY_DEL=... (AT+MHTTPDEL of ids no instance had) CLASH=...
# (an AT+MHTTPCREATE answered with the id of an instance still alive).
onemo_instances() {
	emu_cmds '^AT\+MHTTP' | awk '
		function alive_n(   k, n) { n = 0; for (k in host) n++; return n }
		/^AT\+MHTTPCREATE=/ {
			h = $0; sub(/^AT\+MHTTPCREATE="http:\/\//, "", h); sub(/(:80)?"$/, "", h); sub(/\.test$/, "", h)
			creates = creates " " h; pending = h; next }
		/^AT\+MHTTPDEL=[0-9]+$/ {
			id = $0; sub(/^AT\+MHTTPDEL=/, "", id)
			if (id in host) { evicted = evicted " " host[id]; delete host[id] }
			else stray = stray " " id
			next }
		/^AT\+MHTTP[A-Z]+=[0-9]+,/ {
			id = $0; sub(/^AT\+MHTTP[A-Z]+=/, "", id); sub(/,.*/, "", id)
			if (pending != "") {
				if (id in host) clash = clash " " id "(" host[id] "->" pending ")"
				host[id] = pending; pending = ""
				if (alive_n() > max) max = alive_n()
			}
			if ($0 ~ /^AT\+MHTTPREQUEST=/) {
				reqs = reqs " " (id in host ? host[id] : "?" id)
				# what follows the last request is the teardown at exit
				req_evicted = evicted; req_stray = stray
			}
		}
		END {
			printf "CREATES=\"%s\" EVICTED=\"%s\" MAX_ALIVE=%d REQ_HOSTS=\"%s\" STRAY_DEL=\"%s\" CLASH=\"%s\"\n",
				substr(creates, 2), substr(req_evicted, 2), max, substr(reqs, 2), substr(req_stray, 2), substr(clash, 2)
		}'
}

# onemo_origins NAME SEQUENCE: one athttp process (python urllib) GETs
# small.txt from each host of SEQUENCE (o1 .. o5, each routed to the
# origin) in turn, one module session.  Then reads the emulator's log: the
# hosts of the AT+MHTTPCREATE commands (CREATES), the hosts of the
# instances that AT+MHTTPDEL deleted (EVICTED), the most instances alive at
# once (MAX_ALIVE), the host of the instance each AT+MHTTPREQUEST used
# (REQ_HOSTS).  An instance's id is the one the next command that names an
# id after its AT+MHTTPCREATE uses.  Returns 1 after a fail line.
onemo_origins() {
	local name=$1 seq=$2 h urls=() want got
	for h in $seq; do urls+=("http://$h.test/small.txt"); done
	ath "$P/python/$name" "$PY" -c '
import hashlib, sys, urllib.request, urllib.error
for u in sys.argv[1:]:
    try:
        r = urllib.request.urlopen(u, timeout=50)
        print(r.status, hashlib.sha256(r.read()).hexdigest(), flush=True)
    except urllib.error.HTTPError as e:
        print(e.code, e.headers.get("X-Athttp-Error"), flush=True)
' "${urls[@]}"
	want=
	for h in $seq; do want="${want}200 $SMALL_SHA|"; done
	got=$(tr '\n' '|' <"$OUT")
	[ "$RC" = 0 ] && [ "$got" = "$want" ] ||
		{ fail "expected 200 and small.txt from each of $seq; got '$got' (exit $RC)"; return 1; }
	# (the module writes Host from its instance's "http://host:port")
	got=$(origin_since | sed -n 's/^HDR Host: \(o[0-9]\)\.test\(:80\)\{0,1\}$/\1/p' | tr '\n' ' ')
	[ "${got% }" = "$seq" ] ||
		{ fail "the origin saw Host headers '${got% }', expected '$seq'"; return 1; }
	eval "$(onemo_instances)"
	[ -z "$CLASH" ] || { fail "an AT+MHTTPCREATE got the id of an instance still alive: $CLASH"; return 1; }
	[ "$REQ_HOSTS" = "$seq" ] ||
		{ fail "AT+MHTTPREQUEST used the instances of '$REQ_HOSTS', expected '$seq'"; return 1; }
}

# t_five_origins: o1 o2 o3 o4 o1 o5 o2 — four instances, o1 reused (no
# second AT+MHTTPCREATE for it), o5 evicts the least recently used (o2),
# o2 again evicts o3; never more than 4 alive.
t_five_origins() {
	local seq="o1 o2 o3 o4 o1 o5 o2"
	onemo_origins five-origins-lru "$seq" || return
	[ "$CREATES" = "o1 o2 o3 o4 o5 o2" ] ||
		{ fail "AT+MHTTPCREATE for '$CREATES', expected 'o1 o2 o3 o4 o5 o2' (o1 reused, o2 created again after its eviction)"; return; }
	[ "$EVICTED" = "o2 o3" ] ||
		{ fail "AT+MHTTPDEL deleted the instances of '$EVICTED', expected 'o2 o3' (the least recently used each time)"; return; }
	[ "$MAX_ALIVE" -le 4 ] || { fail "$MAX_ALIVE instances alive at once (at most 4)"; return; }
	# A fresh module has no instance: bring-up asks (AT+MHTTPCFG="chunked")
	# and deletes nothing.
	[ -z "$STRAY_DEL" ] || { fail "AT+MHTTPDEL of ids no instance had: $STRAY_DEL"; return; }
	pass "creates: $CREATES; evicted: $EVICTED; at most $MAX_ALIVE alive"
}

# bringup_dels: the AT+MHTTPDEL commands since the mark before the first
# AT+MHTTPCREATE (the ones after the request are the program's teardown).
bringup_dels() {
	emu_cmds '^AT\+MHTTP(DEL|CREATE)=' | awk '/^AT\+MHTTPCREATE=/ { exit } { printf "%s ", $0 }'
}

# t_bringup_query: bring-up names the model (AT+CGMM) and asks which
# instances exist (AT+MHTTPCFG="chunked", the manual's 3.1) instead of
# deleting every id: the first program on a fresh module deletes nothing;
# the next deletes only the instance the first left (or none, had the
# first deleted it at its end), never one that does not exist.
t_bringup_query() {
	local c=$CORE_CLIENT dels created
	req "$c" "$P/$c/bringup-first" GET "$U/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" || return
	emu_cmds . | grep -qx 'AT+CGMM' || { fail "bring-up sent no AT+CGMM"; return; }
	emu_cmds . | grep -qx 'AT+MHTTPCFG="chunked"' || { fail "bring-up did not ask which instances exist (AT+MHTTPCFG=\"chunked\")"; return; }
	dels=$(bringup_dels)
	[ -z "$dels" ] || { fail "a fresh module heard ${dels% } (it has no instance)"; return; }
	pass "AT+CGMM, AT+MHTTPCFG=\"chunked\", no AT+MHTTPDEL"
	# the id the first program's instance got: the first <id> after its CREATE
	created=$(emu_cmds '^AT\+MHTTP(CFG|HEADER|REQUEST)=' | sed -n 's/^AT+MHTTP[A-Z]*=\("ssl",\)\{0,1\}\([0-9]\),.*/\2/p' | head -n 1)
	req "$c" "$P/$c/bringup-second" GET "$U/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" || return
	dels=$(bringup_dels)
	case "${dels% }" in
	"" | "AT+MHTTPDEL=$created") pass "deleted: ${dels:-none} (the first program's instance was $created)" ;;
	*) fail "the second program deleted '${dels% }'; only instance $created existed" ;;
	esac
}

# t_model_limits: the same 20 KB POST through two models.  An ML307R
# chains pieces by <eof> 1 without a total: five AT+MHTTPCONTENT data
# phases, byte for byte at the origin.  An ML307G holds 3 x 4096 bytes
# (the manual's note to AT+MHTTPCONTENT): 413 naming the model's limit,
# the body's command never sent, the origin never reached.
t_model_limits() {
	local model=$1 c=$CORE_CLIENT f
	f=$(body_n 20480 "$c")
	if [ "$model" = ML307G ]; then
		CTYPE=$OCTET req "$c" "$P/$c/post-20k-413" POST "$U/echo" "@$f"
		chk_refused_413 "$c" || return
		hdr X-Athttp-Error | grep -q 'ML307G limit of 12288 bytes' ||
			{ fail "X-Athttp-Error does not name the ML307G's limit: '$(hdr X-Athttp-Error)'"; return; }
		emu_cmds . | grep -qx 'AT+CGMM' || { fail "no AT+CGMM: the limit was not the model's"; return; }
		pass "413: $(hdr X-Athttp-Error | head -c 120)"
	else
		t_post_pieces "$c" post-20k-chained 20480 "1,4096 1,4096 1,4096 1,4096 0,4096"
	fi
}

# t_two_slots: a module with 2 instances (MN316A): o1 o2 o3 o1 — the third
# AT+MHTTPCREATE may fail (+CME ERROR: 651): the driver deletes the least
# recently used and retries once (or knows the limit and deletes first).
t_two_slots() {
	local seq="o1 o2 o3 o1" collapsed
	onemo_origins two-slots-lru "$seq" || return
	collapsed=$(echo "$CREATES" | tr ' ' '\n' | uniq | tr '\n' ' ')
	[ "${collapsed% }" = "o1 o2 o3 o1" ] ||
		{ fail "AT+MHTTPCREATE for '$CREATES', expected o1 o2 o3 o1 (each at most retried once)"; return; }
	echo "$CREATES" | tr ' ' '\n' | uniq -c | awk '$1 > 2 { exit 1 }' ||
		{ fail "an AT+MHTTPCREATE retried more than once: '$CREATES'"; return; }
	[ "$EVICTED" = "o1 o2" ] ||
		{ fail "AT+MHTTPDEL deleted the instances of '$EVICTED', expected 'o1 o2' (the least recently used)"; return; }
	[ "$MAX_ALIVE" -le 2 ] || { fail "$MAX_ALIVE instances alive at once on a 2-slot module"; return; }
	pass "creates: $CREATES; evicted: $EVICTED"
}

# t_status_codes: the origin's own status comes back (a real head): 204
# with no body (the module sends no "content" URC: the driver must not wait
# for one), 500 with its body.
t_status_codes() {
	local c=$CORE_CLIENT
	req "$c" "$P/$c/status-204" GET "$U/status/204"
	chk_status 204 || return
	[ ! -s "$BODY" ] || { fail "204 delivered $(fsize "$BODY") body bytes"; return; }
	pass
	req "$c" "$P/$c/status-500" GET "$U/status/500"
	chk_status 500 && chk_body_text "status 500" && chk_header Server athttp-test-origin/1 && pass
}

# t_header_lengths: AT+MHTTPHEADER's command mode holds a field of at most
# 1024 bytes; 1025 goes by the data phase; each arrives whole.  A field
# over one data phase (4096 bytes) cannot be sent: 501 naming it, nothing
# sent.
t_header_lengths() {
	local c=$CORE_CLIENT n v f e
	for n in 1024 1025; do
		v=$(head -c $((n - 8)) /dev/zero | tr '\0' v)     # "X-Long: " is 8 bytes
		f="X-Long: $v"
		REQ_OPTS=(-H "$f")
		req "$c" "$P/$c/header-field-$n" GET "$U/headers"
		REQ_OPTS=()
		chk_status 200 || continue
		grep -qxF "$f" "$BODY" || { fail "/headers does not echo the $n-byte field whole"; continue; }
		if [ "$n" = 1024 ]; then
			emu_cmds '^AT\+MHTTPHEADER=' | grep -qx "AT+MHTTPHEADER=[0-9]*,[01],1024,\"X-Long: v\{1016\}\"" ||
				{ fail "no command-mode AT+MHTTPHEADER=<id>,<eof>,1024,\"X-Long: …\""; continue; }
			pass "command mode"
		else
			emu_cmds '^AT\+MHTTPHEADER=' | grep -qx 'AT+MHTTPHEADER=[0-9]*,[01],1025' ||
				{ fail "no data-mode AT+MHTTPHEADER=<id>,<eof>,1025"; continue; }
			emu_data_after '^AT\+MHTTPHEADER=[0-9]*,[01],1025$' "$TMP/out/long.data" >/dev/null
			[ "$(cat "$TMP/out/long.data")" = "$f" ] || { fail "the data phase is not the field"; continue; }
			pass "data mode"
		fi
	done
	v=$(head -c 5000 /dev/zero | tr '\0' v)
	REQ_OPTS=(-H "X-Huge: $v")
	req "$c" "$P/$c/header-field-5008-501" GET "$U/headers"
	REQ_OPTS=()
	chk_status 501 || return
	e=$(hdr X-Athttp-Error)
	case $e in *X-Huge*) ;; *) fail "501, but X-Athttp-Error does not name X-Huge: '${e:-<absent>}'"; return ;; esac
	chk_emu_no "$D_SEND_PAT" "a request command for a refused request" || return
	chk_emu_no 'AT+MHTTPHEADER=' "a header command for a refused request" || return
	origin_since | grep -q '^REQ' && { fail "the origin received: $(origin_since | grep -m1 '^REQ')"; return; }
	pass "$e"
}

# t_headers_total: five 1000-byte fields (about 5 KB of headers, each
# field within one command's 1024): the module holds at most 4096 bytes of
# a request's headers (ML307G, the manual's AT+MHTTPHEADER note; the
# emulator enforces it).  Carried whole, or refused before the module sees
# a header (413/431/501); never a module error halfway through.
t_headers_total() {
	local c=$CORE_CLIENT v i e
	v=$(head -c 990 /dev/zero | tr '\0' h)
	REQ_OPTS=()
	for i in 1 2 3 4 5; do REQ_OPTS+=(-H "X-Fill-$i: $v"); done
	req "$c" "$P/$c/headers-over-4096-total" GET "$U/headers"
	REQ_OPTS=()
	chk_response || return
	case $STATUS in
	200)
		for i in 1 2 3 4 5; do
			grep -qxF "X-Fill-$i: $v" "$BODY" || { fail "200, but X-Fill-$i did not arrive whole"; return; }
		done
		pass "carried whole"
		;;
	413 | 431 | 501)
		e=$(hdr X-Athttp-Error)
		chk_emu_no 'AT+MHTTPHEADER=' "a header command for a request refused" || return
		chk_emu_no "$D_SEND_PAT" "a request command for a refused request" || return
		pass "refused with $STATUS: $e"
		;;
	*) fail "expected 200 (carried whole) or a refusal before anything is sent (413/431/501), got $STATUS ($(hdr X-Athttp-Error))" ;;
	esac
}

# t_post_chunked_request: curl sends a 10 KB body chunked; athttp decodes
# it and the module sends it with a Content-Length, in three pieces.
t_post_chunked_request() {
	local f
	f=$(body_n 10240 curl)
	REQ_OPTS=(-H "Transfer-Encoding: chunked")
	CTYPE=$OCTET req "$CORE_CLIENT" "$P/$CORE_CLIENT/post-chunked-request" POST "$U/echo" "@$f"
	REQ_OPTS=()
	chk_status 200 && chk_echo POST 10240 "$(sha "$f")" "$OCTET" || return
	origin_since | grep -qx 'HDR Content-Length: 10240' ||
		{ fail "the origin did not get Content-Length: 10240: $(origin_since | grep '^HDR' | tr '\n' '|' | head -c 200)"; return; }
	chk_content_pieces "$f" "1,4096 1,4096 0,2048" 2 || return
	pass
}

# ------------------------------------------------------------ https

# t_redirect_to_https: the HTTP manual's note to 3.5 - an http instance
# follows a redirect to https itself, "with the default configuration"
# (unverified) unless its "ssl" names a context.  The driver binds every
# http instance: with --module-ca to the verifying context (the redirect
# is followed, verified: the origin's TLS log shows the request), without
# to a guard context no server passes (502 naming the redirect, and no
# request over TLS).
t_redirect_to_https() {
	local with=$1 n
	n=$(grep -c '^TLS origin ' "$ORIGIN_LOG" 2>/dev/null)
	if [ "$with" = ca ]; then
		ATHTTP_MODULE_CA=$PKI_ROOT req "$CORE_CLIENT" "$P/$CORE_CLIENT/redirect-to-https-verified" GET "$U/to-https/small.txt"
		chk_status 200 && chk_body_file "$WWW/small.txt" || return
		emu_cmds '^AT\+MHTTPCFG="ssl",[0-3],0,1$' | grep -q . ||
			{ fail "the http instance was not bound to the verifying context 1: $(emu_cmds '^AT\+M(HTTPCFG|SSLCFG)=' | tr '\n' '|')"; return; }
		[ "$(grep -c '^TLS origin ' "$ORIGIN_LOG")" -gt "$n" ] ||
			{ fail "the redirect did not reach the https origin"; return; }
		pass "followed by the module, verified"
	else
		req "$CORE_CLIENT" "$P/$CORE_CLIENT/redirect-to-https-guarded" GET "$U/to-https/small.txt"
		chk_status 502 || return
		hdr X-Athttp-Error | grep -q 'onemo 4 .*redirect to https' ||
			{ fail "X-Athttp-Error does not name the redirect: '$(hdr X-Athttp-Error)'"; return; }
		emu_cmds '^AT\+MHTTPCFG="ssl",[0-3],0,2$' | grep -q . ||
			{ fail "the http instance was not bound to the guard context 2: $(emu_cmds '^AT\+M(HTTPCFG|SSLCFG)=' | tr '\n' '|')"; return; }
		origin_since | grep -q '^REQ GET /small.txt' &&
			{ fail "the redirected request reached the https origin unverified"; return; }
		pass "not followed unverified"
	fi
}

# t_noauth: firmware whose AT+MSSLCFG="auth" answers ERROR cannot verify:
# https answers 502 naming why, nothing is requested; with
# --insecure-upstream it runs, marked unverified.
t_noauth() {
	ATHTTP_MODULE_CA=$PKI_ROOT req "$CORE_CLIENT" "$P/$CORE_CLIENT/https-refused" GET "https://$HOST/small.txt"
	chk_status 502 || return
	hdr X-Athttp-Error | grep -q 'AT+MSSLCFG="auth"' ||
		{ fail "X-Athttp-Error does not name the refused AT+MSSLCFG=\"auth\": '$(hdr X-Athttp-Error)'"; return; }
	chk_emu_no 'AT+MHTTPREQUEST=' "a request on firmware that cannot verify" || return
	pass
	ATHTTP_MODULE_CA=$PKI_ROOT ATHTTP_INSECURE_UPSTREAM=1 req "$CORE_CLIENT" "$P/$CORE_CLIENT/https-insecure" GET "https://$HOST/small.txt"
	chk_status 200 && chk_body_file "$WWW/small.txt" && chk_header X-Athttp-Upstream-TLS unverified || return
	pass "--insecure-upstream: marked unverified"
}

# ------------------------------------------------------------ the run

O_ROUTES=()
matrix_setup || exit 1
for h in o1 o2 o3 o4 o5; do
	O_ROUTES+=(--route "$h.test:80=127.0.0.1:$ORIGIN_PORT")
done

P=onemo
for c in $CLIENTS; do
	matrix_client "$c"
	# a 10 KB body in three AT+MHTTPCONTENT pieces, the largest
	# body (12288: three full pieces); PUT with a body: matrix_client's
	# t_other_method, and t_put_body below with the emulator's log
	t_post_pieces "$c" post-10k-three-pieces 10240 "1,4096 1,4096 0,2048"
	[ "$c" = "$CORE_CLIENT" ] && t_post_pieces "$c" post-12288-at-limit 12288 "1,4096 1,4096 0,4096"
done
t_put_body $CORE_CLIENT
t_header_quote
t_header_lengths
t_headers_total
t_status_codes
t_get_empty $CORE_CLIENT
t_get_lookalike $CORE_CLIENT
t_get_query $CORE_CLIENT
t_big_response_header $CORE_CLIENT 3000
t_origin_cut
[ "$CORE_CLIENT" = curl ] && t_post_chunked_request
matrix_tail

# Five origins in one module session (a fresh module: no instance alive).
P=onemo-origins
if start_emu "${O_ROUTES[@]}"; then
	t_five_origins
	t_get_small $CORE_CLIENT
	t_emu_alive
fi

# Per-model limits (athttp-emu --model: what AT+CGMM answers).  The
# emulator's default is the ML307G, whose limits the matrix above meets.
P=onemo-ML307R
if start_emu --model ML307R; then
	t_bringup_query
	t_model_limits ML307R
	t_emu_alive
fi
P=onemo-ML307G
start_emu --model ML307G && t_model_limits ML307G

# https: the matrix's section, the redirect note, the noauth firmware.
section_https
P=onemo-https
if start_emu; then
	t_redirect_to_https ca
	t_redirect_to_https guard
fi
P=onemo-noauth
start_emu --variant noauth && t_noauth

# Firmware variants (athttp-emu --variant): a GET and POSTs byte-exact
# under each.
for v in split-urc nospace slots2 frag512; do
	P=onemo-$v
	start_emu --variant "$v" "${O_ROUTES[@]}" || continue
	t_get_small $CORE_CLIENT
	t_get_chunked $CORE_CLIENT
	t_head $CORE_CLIENT
	t_post_form $CORE_CLIENT
	t_post_pieces $CORE_CLIENT post-10k-three-pieces 10240 "1,4096 1,4096 0,2048"
	t_get_lookalike $CORE_CLIENT
	[ "$v" = slots2 ] && t_two_slots
	t_emu_alive
done

# paced line, slow module (matrix.sh)
section_paced
SLOW_MS=400 section_slow
# A module that cannot hold the body, an origin slower than the timeout.
section_failures
stop_emu
chk_sanitizer_reports

e2e_done
