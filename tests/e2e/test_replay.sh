#!/bin/bash
# Recorded-serial backend: transcripts of the vendor manuals' examples
# replayed with curl (no module, no network); a transcript edited by one
# byte fails with the documented error and a 502, within a second; a
# recording with --redact keeps no secret and still replays.
E2E_NAME=replay
. "$(dirname "$0")/lib.sh"
MODEM=simcom
FIX=$E2E_ROOT/tests/transcripts

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }

if [ "$E2E_SAN" = address ]; then
	CLIENT=python # curl hangs under a preloaded libasan (see test_simcom.sh)
else
	CLIENT=curl
fi

# replay_get CASE TRANSCRIPT URL [CURL OPTION...]: curl through the replay.
replay_curl() {
	local case=$1 at=$2 url=$3
	shift 3
	ath_raw "$case" "$ATHTTP" -d "replay:$at" -m "$MODEM" -- \
		curl -sS -D "$TMP/out/${case//\//_}.hdrs" -o "$TMP/out/${case//\//_}.body" "$@" "$url"
	HDRS=$TMP/out/${case//\//_}.hdrs
	BODY=$TMP/out/${case//\//_}.body
	STATUS=$(sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$HDRS" 2>/dev/null)
}

replay_py() { # CASE TRANSCRIPT URL: python urllib; prints "status sha256"
	local case=$1 at=$2 url=$3
	ath_raw "$case" "$ATHTTP" -d "replay:$at" -m "$MODEM" -- "$PY" -c '
import hashlib, sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1]); b = r.read(); print(r.status, hashlib.sha256(b).hexdigest())
except urllib.error.HTTPError as e:
    print(e.code, e.headers.get("X-Athttp-Error"))
' "$url"
}

GET_URL="http://opinion.people.com.cn/GB/n1/2018/0815/c1003-30228758.html"
POST_URL="http://api.efxnow.com/DEMOWebServices2.8/Service.asmx/Echo?"

# ---- the manual's examples, replayed
if [ "$CLIENT" = curl ]; then
	replay_curl replay/manual/get "$FIX/simcom-manual-get.at" "$GET_URL"
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && cmp -s "$BODY" "$FIX/simcom-manual-get.body"; then
		pass "3.1.1: body sha256 $(sha "$BODY" | cut -c1-12)..."
	else
		fail "3.1.1 GET: exit $RC, status '${STATUS}', body $(fsize "$BODY" 2>/dev/null) bytes vs $(fsize "$FIX/simcom-manual-get.body")"
	fi

	replay_curl replay/manual/post "$FIX/simcom-manual-post.at" "$POST_URL" -d Message=helloworld
	if [ "$STATUS" = 500 ] && cmp -s "$BODY" "$FIX/simcom-manual-post.body"; then
		pass "3.1.2: the manual's 500 and its body"
	else
		fail "3.1.2 POST: exit $RC, status '${STATUS}'"
	fi

	replay_curl replay/manual/head "$FIX/simcom-manual-head.at" "$GET_URL" -I
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && grep -q '^Content-Length: 22505' "$HDRS"; then
		pass "3.1.3: HEAD with the manual's Content-Length"
	else
		fail "3.1.3 HEAD: exit $RC, status '${STATUS}'"
	fi
else
	replay_py replay/manual/get "$FIX/simcom-manual-get.at" "$GET_URL"
	if [ "$(cat "$OUT")" = "200 $(sha "$FIX/simcom-manual-get.body")" ]; then
		pass "3.1.1 with python"
	else
		fail "3.1.1 GET with python: '$(cat "$OUT")'"
	fi
fi

# ---- the raw-packet dialects: requests go verbatim, so the client's
# User-Agent is pinned; python sends other headers than curl: curl only.
for m in httpcfg quectel; do
	if [ "$CLIENT" != curl ]; then
		skip "replay/manual/$m" "curl cannot run under a preloaded libasan; the raw request is curl's"
		continue
	fi
	MODEM=$m
	replay_curl "replay/manual/$m-get" "$FIX/$m-manual-get.at" http://www.example.com/index.html -A athttp-fixture
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && cmp -s "$BODY" "$FIX/$m-manual-get.body"; then
		pass "tables 1, 3, 5, 12: GET through a custom request"
	else
		fail "$m GET: exit $RC, status '${STATUS}'"
	fi
	replay_curl "replay/manual/$m-post" "$FIX/$m-manual-post.at" http://www.example.com/index.html \
		-A athttp-fixture -d Message=helloworld
	if [ "$RC" = 0 ] && [ "$STATUS" = 201 ] && cmp -s "$BODY" "$FIX/$m-manual-post.body"; then
		pass "tables 1, 3, 8, 12: POST through a custom request"
	else
		fail "$m POST: exit $RC, status '${STATUS}'"
	fi
done
if [ "$CLIENT" = curl ]; then
	MODEM=neoway
	replay_curl replay/manual/neoway-head "$FIX/neoway-manual-head.at" http://www.neoway.com.cn/en/index.aspx \
		-A athttp-fixture -I
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && grep -q '^Content-Length: 13842' "$HDRS"; then
		pass "9.3: HEAD by custom packet, the manual's recvmode-0 answer"
	else
		fail "neoway HEAD: exit $RC, status '${STATUS}'"
	fi
	replay_curl replay/manual/neoway-post "$FIX/neoway-manual-post.at" http://121.15.200.97:8080/Service1.asmx/GetNote \
		-A athttp-fixture -d 'MAC=NEOWAY&DATA=0123456'
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && cmp -s "$BODY" "$FIX/neoway-manual-post.body"; then
		pass "9.3: the manual's POST and its XML answer"
	else
		fail "neoway POST: exit $RC, status '${STATUS}'"
	fi
	replay_curl replay/manual/neoway-range "$FIX/neoway-manual-range.at" http://www.baidu.com/ -A athttp-fixture -r 0-9
	if [ "$RC" = 0 ] && [ "$STATUS" = 206 ] && cmp -s "$BODY" "$FIX/neoway-manual-range.body"; then
		pass "9.5: a Range request answered in recvmode-1 frames, Range carried verbatim"
	else
		fail "neoway Range GET: exit $RC, status '${STATUS}'"
	fi
else
	skip "replay/manual/neoway" "curl cannot run under a preloaded libasan; the raw request is curl's"
fi
# onemo carries every header the client sends (one AT+MHTTPHEADER each):
# curl with the fixed User-Agent.
if [ "$CLIENT" = curl ]; then
	MODEM=onemo
	replay_curl replay/manual/onemo-get "$FIX/onemo-manual-get.at" http://120.27.12.119:10080/get -A athttp-fixture
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && cmp -s "$BODY" "$FIX/onemo-manual-get.body" &&
		grep -q '^Content-Length: 145' "$HDRS"; then
		pass "3.5: GET, the manual's +MHTTPPURC header URC (225 bytes) and split content URC"
	else
		fail "onemo GET: exit $RC, status '${STATUS}'"
	fi
	replay_curl replay/manual/onemo-post "$FIX/onemo-manual-post.at" http://120.27.12.119:10080/post \
		-A athttp-fixture -H 'Content-Type: application/json' \
		--data-binary '{"id":"speed1"\r,"tags":["mobile"],"unit":"m/s"\r,"unit_symbol":"m/s"}'
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && cmp -s "$BODY" "$FIX/onemo-manual-post.body"; then
		pass "4.1: POST, 70 bytes by AT+MHTTPCONTENT data mode, the 278-byte answer"
	else
		fail "onemo POST: exit $RC, status '${STATUS}'"
	fi
else
	skip "replay/manual/onemo" "curl cannot run under a preloaded libasan; the headers carried are curl's"
fi
# espat carries every header the client sends as a quoted "Name: value"
# parameter of AT+HTTPCLIENT: curl with the fixed User-Agent.  The module
# gives no head: the status and Content-Length are made up, and say so.
if [ "$CLIENT" = curl ]; then
	MODEM=espat
	replay_curl replay/manual/espat-get "$FIX/espat-manual-get.at" http://httpbin.org/get -A athttp-fixture
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && cmp -s "$BODY" "$FIX/espat-manual-get.body" &&
		grep -q '^Content-Length: 255' "$HDRS" && grep -q '^X-Athttp-Synthesized:' "$HDRS"; then
		pass "//GET request: Espressif pieces, a synthesized 200 with the spooled body's Content-Length"
	else
		fail "espat GET: exit $RC, status '${STATUS}'"
	fi
	replay_curl replay/manual/espat-post "$FIX/espat-manual-post.at" http://httpbin.org/post -A athttp-fixture \
		-d 'field1=value1&field2=value2'
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && cmp -s "$BODY" "$FIX/espat-manual-post.body" &&
		grep -q '^Content-Length: 457' "$HDRS"; then
		pass "//POST request: the 27 bytes inline, Beken pieces reassembled exactly (bare LFs and all)"
	else
		fail "espat POST: exit $RC, status '${STATUS}'"
	fi
	replay_curl replay/manual/espat-head "$FIX/espat-manual-head.at" http://httpbin.org/get -A athttp-fixture -I
	if [ "$RC" = 0 ] && [ "$STATUS" = 200 ] && grep -q '^Content-Length: 255' "$HDRS" &&
		grep -q '^Server: gunicorn/19.9.0' "$HDRS" && [ "$(grep -ci '^Connection:' "$HDRS")" = 1 ]; then
		pass "//HEAD request: header-line pieces as the response's headers, Content-Length kept"
	else
		fail "espat HEAD: exit $RC, status '${STATUS}'"
	fi
else
	skip "replay/manual/espat" "curl cannot run under a preloaded libasan; the headers carried are curl's"
fi
MODEM=simcom

# ---- a transcript edited by one byte
# The difference is found as the bytes are compared, not by a wait running
# out: the run (python and athttp starting included, on a loaded machine,
# under a sanitizer) ends well before the 5 s the simcom driver gives
# AT+HTTPPARA, which a replay that did not notice would wait out.
DETECT_MS=4000
edited=$TMP/edited-url.at
sed 's|c1003-30228758.html"|c1003-30228759.html"|' "$FIX/simcom-manual-get.at" >"$edited"
line=$(grep -n 'c1003-30228759' "$edited" | cut -d: -f1)
start=$(date +%s%N)
replay_py replay/edited/url "$edited" "$GET_URL"
ms=$((($(date +%s%N) - start) / 1000000))
case $(cat "$OUT") in
"502 simcom $edited:$line: expected \"AT+HTTPPARA=\"URL\",\"http://opinion.people.com.cn/GB/n1/2018/0815/c1003-30228759.html\"\\r\" but athttp sent \"AT+HTTPPARA=\"URL\",\"http://opinion.people.com.cn/GB/n1/2018/0815/c1003-30228758.html\"\\r\"")
	if [ "$ms" -lt "$DETECT_MS" ]; then pass "502 naming line $line, expected and sent, in ${ms} ms"; else fail "took ${ms} ms"; fi ;;
*) fail "expected a 502 naming $edited:$line with expected and sent bytes, got: $(cat "$OUT")" ;;
esac

# A module answer edited ("OK" after the URL became "OX"): athttp waits for
# a result the transcript does not have.
edited=$TMP/edited-ok.at
awk -v done=0 '/^> AT\+HTTPPARA="URL"/ { seen = 1 } seen && !done && /^< OK\\r\\n$/ { sub(/OK/, "OX"); done = 1 } { print }' \
	"$FIX/simcom-manual-get.at" >"$edited"
start=$(date +%s%N)
replay_py replay/edited/result "$edited" "$GET_URL"
ms=$((($(date +%s%N) - start) / 1000000))
case $(cat "$OUT") in
"502 simcom $edited:"*"athttp waits for the module, but the transcript has athttp sending \"AT+HTTPACTION=0\\r\"")
	if [ "$ms" -lt "$DETECT_MS" ]; then pass "502 in ${ms} ms: $(cut -c1-90 "$OUT")..."; else fail "took ${ms} ms: $(cat "$OUT")"; fi ;;
*) fail "expected a 502 saying athttp waits where the transcript has it sending, got: $(cat "$OUT")" ;;
esac

# A transcript for another dialect is refused with a reason.
sed 's/^# dialect simcom/# dialect neoway/' "$FIX/simcom-manual-get.at" >"$TMP/other.at"
replay_py replay/wrong-dialect "$TMP/other.at" "$GET_URL"
case $(cat "$OUT") in
"502 "*"recorded with dialect neoway, not simcom"*) pass ;;
*) fail "expected a 502 naming the transcript's dialect, got: $(cat "$OUT")" ;;
esac

# A missing transcript is a bad command line.
CASE=replay/missing-transcript
"$ATHTTP" -d "replay:$TMP/none.at" -- true 2>"$TMP/out/missing.err"
rc=$?
if [ $rc = 2 ] && grep -q "none.at" "$TMP/out/missing.err"; then pass; else fail "exit $rc: $(cat "$TMP/out/missing.err")"; fi

# ---- record with --redact: no secret in the transcript, and it replays
gen_files
start_origin || { e2e_done; exit 1; }
start_emu || { e2e_done; exit 1; }
rec=$TMP/redacted.at
CASE=replay/redact
ath_raw replay/redact/record "$ATHTTP" -d "$TMP/tty" -m "$MODEM" --record "$rec" --redact=all -- \
	"$PY" "$E2E_ROOT/tests/e2e/httpc.py" -X POST --data "secret-form=hunter2" -o "$TMP/out/redact.body" \
	"$U/echo"
live=$(sha "$TMP/out/redact.body")
if [ "$RC" != 0 ]; then
	fail "recording run: exit $RC"
elif grep -q 'hunter2' "$rec"; then
	fail "the body's secret is in the transcript: $(grep -m1 hunter2 "$rec")"
elif ! grep -q 'HTTPDATA=19,' "$rec" || ! grep -q '^[+0-9 ]*> \\?{19}$' "$rec"; then
	fail "the request body is not a 19-byte wildcard: $(grep -A1 -m1 DOWNLOAD "$rec" | tail -n1)"
else
	ath_raw replay/redact/replay "$ATHTTP" -d "replay:$rec" -m "$MODEM" -- \
		"$PY" "$E2E_ROOT/tests/e2e/httpc.py" -X POST --data "other-form=12345678" -o "$TMP/out/redact2.body" \
		"$U/echo"
	# the response body was redacted too: same length, x's
	got=$(cat "$TMP/out/redact2.body")
	if [ "$RC" = 0 ] && [ "${#got}" = "$(fsize "$TMP/out/redact.body")" ] && [ -z "${got//x/}" ]; then
		CASE=replay/redact
		pass "transcript without the secret; replay answers with a same-length placeholder"
	else
		CASE=replay/redact
		fail "replay of the redacted transcript: exit $RC, body '${got:0:80}'"
	fi
fi

# ---- https: a GET recorded through the module's TLS and replayed without
# it.  The transcript holds the module's plaintext conversation (simcom:
# the https:// URL on AT+HTTPPARA, the body in HTTPREAD), never a TLS record.
. "$(dirname "$0")/matrix.sh"
P=replay/https CORE_CLIENT=$CLIENT
ATH_OPTS=(--module-ca "$PKI_ROOT")
t_https_record_replay
ATH_OPTS=()
CASE=replay/https/module-url
if grep -qF '> AT+HTTPPARA="URL","https://origin.test/small.txt"' "$TMP/https-record.at" 2>/dev/null; then
	pass "the transcript has the module's https:// URL"
else
	RC="" ERR="" TRACE="" fail "the transcript lacks AT+HTTPPARA=\"URL\",\"https://origin.test/small.txt\": $(grep -m1 'HTTPPARA="URL"' "$TMP/https-record.at" 2>/dev/null)"
fi
stop_emu
chk_sanitizer_reports
e2e_done
