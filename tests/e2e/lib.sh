# tests/e2e/lib.sh — helpers for athttp's end-to-end tests (bash; sourced).
#
# A test script does:
#   . "$(dirname "$0")/lib.sh"
#   e2e_init                 # temp dir, trap, counters
#   gen_files                # $WWW/small.txt, big.bin (5 MB), bodies
#   start_origin             # tests/origin.py on 127.0.0.1:$ORIGIN_PORT, and
#                            # its TLS listeners (test PKI in $TMP/pki)
#   MODEM=simcom start_emu   # athttp-emu on $TMP/tty, routes origin.test:80
#                            # and the https hosts below
#   req curl curl/get-small GET "$U/small.txt"   # client through athttp
#   chk_status 200 && chk_body_file "$WWW/small.txt" && pass
#   e2e_done                 # prints the totals, exit status
# The Foundation matrix itself, for any dialect, is matrix.sh.
#
# Output protocol (counted by tests/run.sh): one line per case,
#   ok <case>[ (note)]
#   fail <case>: <reason>
#   skip <case>: <why the client cannot express it>   (not counted)
# A fail line is followed by detail lines starting with "#   ".
# Nothing here sleeps and hopes: daemons are waited for by reading their
# PORT/READY line with a deadline; every client runs under `timeout`.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) E2E_BUILD=$BUILD ;;
*) E2E_BUILD=$E2E_ROOT/$BUILD ;;
esac
# E2E_ATHTTP/E2E_EMU/E2E_PRELOAD replace the built programs (harness self-tests).
ATHTTP=${E2E_ATHTTP:-$E2E_BUILD/bin/athttp}
EMU=${E2E_EMU:-$E2E_BUILD/bin/athttp-emu}
PRELOAD_SO=${E2E_PRELOAD:-$E2E_BUILD/lib/athttp/libathttp-preload.so}
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3); fi
CLIENT_TIMEOUT=${E2E_CLIENT_TIMEOUT:-60}
START_TIMEOUT=${E2E_START_TIMEOUT:-15}
MODEM=${MODEM:-simcom}
HOST=origin.test
U=http://$HOST

PASS=0
FAIL=0
SKIP=0
E2E_PIDS=()
TMP=
EMU_PID=
ORIGIN_PID=
EMU_N=0

# ------------------------------------------------------------------ setup
e2e_init() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/athttp-e2e.XXXXXX") || exit 1
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	mkdir -p "$TMP/www" "$TMP/out" "$TMP/trace" "$TMP/cwd"
	WWW=$TMP/www
	e2e_sanitizer_env
	ORIGIN_LOG=$TMP/origin.log
	: >"$ORIGIN_LOG"
}

# Sanitizer builds (make SANITIZER=address|undefined): the preload library
# needs its runtime.  ASan's must come before every other library, and the
# wrapper puts libathttp-preload.so first in LD_PRELOAD, so the runtime is
# preloaded underneath it and ASan's link-order check is turned off; leaks
# of the (uninstrumented) clients are not ours to report.
e2e_sanitizer_env() {
	local rt
	E2E_SAN=
	E2E_SAN_ENV=()
	rt=$(ldd "$PRELOAD_SO" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')
	if [ -n "$rt" ]; then
		E2E_SAN=address
		E2E_SAN_ENV=(LD_PRELOAD="$rt"
			ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0")
	elif ldd "$PRELOAD_SO" 2>/dev/null | grep -q 'libubsan\.so'; then
		E2E_SAN=undefined
	fi
}

# chk_sanitizer_reports: one case, only in sanitizer builds: no sanitizer
# report in any client's or emulator's stderr.
chk_sanitizer_reports() {
	local hits
	[ -n "$E2E_SAN" ] || return 0
	CASE="${E2E_NAME:-e2e}/$E2E_SAN-sanitizer-reports"
	RC= ERR= TRACE= LAST_CMD="(scan of every stderr of this script)"
	hits=$(grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$TMP"/out/*.err "$TMP"/emu.*.out.err "$TMP"/origin.out.err 2>/dev/null)
	if [ -z "$hits" ]; then
		pass
	else
		fail "sanitizer reports in: $(echo $hits | sed "s|$TMP/||g")"
		grep -h -m3 -E -A3 'ERROR: (Address|Leak)Sanitizer|runtime error:' $hits | head -n 30 | sed 's/^/#   /'
	fi
}

e2e_need_binaries() {
	local f missing=
	for f in "$ATHTTP" "$EMU" "$PRELOAD_SO"; do
		[ -e "$f" ] || missing="$missing ${f#"$E2E_ROOT"/}"
	done
	if [ -n "$missing" ]; then
		FAIL=$((FAIL + 1))
		echo "fail ${E2E_NAME:-e2e}/setup: not built:$missing (run make)"
		return 1
	fi
}

# stop_pid PID: SIGTERM, wait up to 5 s for it to go, then SIGKILL; reap.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# process $pid ignored SIGTERM for 5 s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

e2e_cleanup() {
	local rc=$? p
	trap - EXIT INT TERM HUP
	for p in "${E2E_PIDS[@]}"; do stop_pid "$p"; done
	if [ -n "${E2E_KEEP:-}" ]; then
		echo "# kept $TMP" >&2
	elif [ -n "$TMP" ]; then
		rm -rf "$TMP"
	fi
	exit $rc
}

# bg_start PATTERN OUTFILE CMD ARG...: starts CMD in the background with its
# stdout on a fifo, reads lines until one starts with PATTERN (at most
# START_TIMEOUT seconds), then lets a cat copy the rest to OUTFILE.
# Sets BG_PID and BG_LINE.  Returns 1 if the line never came.
bg_start() {
	local pat=$1 out=$2 fifo fd line left deadline
	shift 2
	fifo=$TMP/fifo.$$.$RANDOM
	mkfifo "$fifo" || return 1
	"$@" >"$fifo" 2>"$out.err" </dev/null &
	BG_PID=$!
	E2E_PIDS+=("$BG_PID")
	exec {fd}<"$fifo"
	rm -f "$fifo"
	BG_LINE=
	deadline=$((SECONDS + START_TIMEOUT))
	while left=$((deadline - SECONDS)) && [ "$left" -gt 0 ]; do
		IFS= read -r -t "$left" -u "$fd" line || break
		printf '%s\n' "$line" >>"$out"
		case $line in "$pat"*)
			BG_LINE=$line
			break
			;;
		esac
	done
	if [ -n "$BG_LINE" ]; then
		cat <&"$fd" >>"$out" &
		E2E_PIDS+=("$!")
	fi
	exec {fd}<&-
	[ -n "$BG_LINE" ]
}

# The https origins: host name -> the certificate (tests/e2e/pki.sh) its
# TLS listener serves.  Every one of them is routed by start_emu, port 443.
declare -A TLS_HOST_CERT=(
	[origin.test]=origin
	[wrongname.test]=wrongname
	[expired.test]=expired
	[untrusted.test]=untrusted
)
declare -A TLS_PORT=()	# certificate name -> origin.py's TLS port

# pki_make: the test PKI in $TMP/pki, once per script; exports PKI_ROOT
# (the root the module is given) and PKI (the directory).
pki_make() {
	PKI=$TMP/pki
	if [ ! -s "$PKI/root.pem" ] && ! bash "$E2E_ROOT/tests/e2e/pki.sh" "$PKI" >"$TMP/pki.log" 2>&1; then
		FAIL=$((FAIL + 1))
		echo "fail ${E2E_NAME:-e2e}/setup: tests/e2e/pki.sh could not make the test PKI"
		sed 's/^/#   /' "$TMP/pki.log" | tail -n 20
		return 1
	fi
	export PKI PKI_ROOT=$PKI/root.pem
}

start_origin() {
	local -a tls=()
	local name port
	pki_make || return 1
	for name in "${TLS_HOST_CERT[@]}"; do
		tls+=(--tls "$name=$PKI/$name.pem:$PKI/$name.key")
	done
	if ! bg_start PORT "$TMP/origin.out" "$PY" "$E2E_ROOT/tests/origin.py" \
		--dir "$WWW" --log "$ORIGIN_LOG" "${tls[@]}"; then
		FAIL=$((FAIL + 1))
		echo "fail ${E2E_NAME:-e2e}/setup: origin printed no PORT line within ${START_TIMEOUT}s"
		sed 's/^/#   /' "$TMP/origin.out" "$TMP/origin.out.err" 2>/dev/null | tail -n 20
		return 1
	fi
	ORIGIN_PID=$BG_PID
	ORIGIN_PORT=${BG_LINE#PORT }
	# the TLSPORT lines came before PORT: bg_start copied them to origin.out
	TLS_PORT=()
	while read -r _ name port; do
		TLS_PORT[$name]=$port
	done < <(grep '^TLSPORT ' "$TMP/origin.out")
	for name in "${TLS_HOST_CERT[@]}"; do
		if [ -z "${TLS_PORT[$name]:-}" ]; then
			FAIL=$((FAIL + 1))
			echo "fail ${E2E_NAME:-e2e}/setup: origin printed no TLSPORT line for $name"
			return 1
		fi
	done
}

# tls_routes: athttp-emu's --route options for every https origin.
tls_routes() {
	local h
	TLS_ROUTES=()
	for h in "${!TLS_HOST_CERT[@]}"; do
		TLS_ROUTES+=(--route "$h:443=127.0.0.1:${TLS_PORT[${TLS_HOST_CERT[$h]}]}")
	done
}

# start_emu [EXTRA-ARGS...]: athttp-emu -m $MODEM on $TMP/tty, logging to a
# fresh $EMU_LOG.  Stops a running one first.  E2E_EMU_EXTRA adds options
# (e.g. "--latency-ms 50" or "--max-body 100000" to see the suite fail).
start_emu() {
	stop_emu
	EMU_N=$((EMU_N + 1))
	EMU_LOG=$TMP/emu.$EMU_N.log
	EMU_ARGS="$*"
	: >"$EMU_LOG"
	tls_routes
	if ! bg_start READY "$TMP/emu.$EMU_N.out" "$EMU" -m "$MODEM" --link "$TMP/tty" \
		--route "$HOST:80=127.0.0.1:$ORIGIN_PORT" "${TLS_ROUTES[@]}" \
		--log "$EMU_LOG" "$@" ${E2E_EMU_EXTRA:-}; then
		FAIL=$((FAIL + 1))
		echo "fail ${E2E_NAME:-e2e}/setup: athttp-emu -m $MODEM $* printed no READY line within ${START_TIMEOUT}s"
		sed 's/^/#   /' "$TMP/emu.$EMU_N.out" "$TMP/emu.$EMU_N.out.err" 2>/dev/null | tail -n 20
		EMU_PID=
		return 1
	fi
	EMU_PID=$BG_PID
	EMU_PTY=${BG_LINE#READY }
	if [ ! -e "$TMP/tty" ]; then
		FAIL=$((FAIL + 1))
		echo "fail ${E2E_NAME:-e2e}/setup: athttp-emu said $BG_LINE but $TMP/tty does not exist"
		return 1
	fi
}

stop_emu() {
	[ -n "$EMU_PID" ] || return 0
	stop_pid "$EMU_PID"
	EMU_PID=
}

# ------------------------------------------------------------ test files
sha() { sha256sum "$1" | cut -d' ' -f1; }
sha_str() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
fsize() { stat -c %s "$1"; }

gen_files() {
	local i
	{
		echo "athttp end-to-end test file"
		for ((i = 1; i <= 40; i++)); do
			printf 'line %02d: the quick brown fox jumps over the lazy dog\n' "$i"
		done
	} >"$WWW/small.txt"
	head -c $((5 * 1024 * 1024)) /dev/urandom >"$WWW/big.bin"
	head -c $((100 * 1024)) /dev/urandom >"$TMP/body100k.bin"
	head -c $((200 * 1024)) /dev/urandom >"$TMP/body200k.bin"
	# busybox wget sends --post-file up to the first NUL: NUL-free twins.
	tr -d '\000' </dev/urandom | head -c $((100 * 1024)) >"$TMP/body100k-nonul.bin"
	tr -d '\000' </dev/urandom | head -c $((200 * 1024)) >"$TMP/body200k-nonul.bin"
	SMALL_SHA=$(sha "$WWW/small.txt")
	BIG_SHA=$(sha "$WWW/big.bin")
	BIG_SIZE=$(fsize "$WWW/big.bin")
	read -r CHUNKED_SHA TRAILERS_SHA < <(cd "$E2E_ROOT/tests" &&
		"$PY" -B -c 'import origin; print(origin.CHUNKED_SHA, origin.TRAILERS_SHA)')
}

# ------------------------------------------------------------ log windows
# mark_logs remembers where the emulator and origin logs end; emu_since and
# origin_since print what was appended after the mark.
mark_logs() {
	EMU_MARK=$(stat -c %s "$EMU_LOG" 2>/dev/null || echo 0)
	ORIGIN_MARK=$(stat -c %s "$ORIGIN_LOG" 2>/dev/null || echo 0)
}
emu_since() { tail -c +$((EMU_MARK + 1)) "$EMU_LOG" 2>/dev/null; }
origin_since() { tail -c +$((ORIGIN_MARK + 1)) "$ORIGIN_LOG" 2>/dev/null; }

# ------------------------------------------------------------ results
pass() {
	PASS=$((PASS + 1))
	echo "ok $CASE${1:+ ($1)}"
}

skip() {
	SKIP=$((SKIP + 1))
	echo "skip $1: $2"
}

# fail REASON: one fail line, then details (client rc, stderr, trace, logs).
fail() {
	FAIL=$((FAIL + 1))
	echo "fail $CASE: $1"
	{
		echo "command: ${LAST_CMD:-?}"
		echo "client exit status: ${RC:-?}"
		if [ -s "${ERR:-/nonexistent}" ]; then
			echo "client stderr (last 12 lines):"
			tail -n 12 "$ERR" | cut -c1-200 | sed 's/^/  /'
		fi
		if [ -s "${TRACE:-/nonexistent}" ]; then
			echo "AT trace (last 15 lines of $(wc -l <"$TRACE")):"
			tail -n 15 "$TRACE" | cut -c1-200 | sed 's/^/  /'
		fi
		if [ -n "${EMU_LOG:-}" ]; then
			echo "emulator log since the case began (first 15 lines):"
			emu_since | head -n 15 | cut -c1-200 | sed 's/^/  /'
		fi
	} | sed 's/^/#   /'
	return 1
}

e2e_done() {
	echo "# ${E2E_NAME:-e2e}: $PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
}

# ------------------------------------------------------------ clients
# ath CASE CMD ARG...: runs CMD through build/bin/athttp against the emulator,
# with a bounded time.  stdout -> $OUT, stderr -> $ERR, AT trace -> $TRACE,
# exit status -> $RC.  Marks the logs first.
#
# With E2E_ROUNDTRIP=1 (the default) the run is also recorded (--record) and
# then replayed without the module (-d replay:), and what the client got
# both times is compared: one more ok/fail line, "roundtrip/CASE".  The
# case's own checks then see the live run.  NO_ROUNDTRIP=1 opts a case out
# (a forked child opens the port again: one transcript cannot hold both).
# ATH_OPTS (array) adds wrapper options, for the live run and its replay
# alike (https: --module-ca FILE, --insecure-upstream).
ATH_OPTS=()
ath() {
	local case=$1
	shift
	if [ "${E2E_ROUNDTRIP:-1}" = 1 ] && [ -z "${NO_ROUNDTRIP:-}" ]; then
		ath_roundtrip "$case" "$@"
	else
		ath_raw "$case" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" "${ATH_OPTS[@]}" -- "$@"
	fi
}

# What a client leaves that must come out the same from a replay: its
# files in $TMP/out for the case, its exit status, and (curl -D, python)
# the response head.  wget's and busybox's stderr carries timings: not kept.
roundtrip_digest() { # CASE-STEM CMD
	local stem=$1 cmd=$2 f
	echo "exit $RC"
	for f in "$TMP/out/$stem".body "$TMP/out/$stem".rawhdr "$TMP/out/$stem".hdrs; do
		[ -f "$f" ] && echo "$(basename "$f") $(sha "$f") $(fsize "$f")"
	done
	case $(basename "$cmd") in
	python*) echo "stdout $(sha "$OUT")" ;;
	esac
	return 0
}

ath_roundtrip() {
	local case=$1 stem rec live replay
	local -a saved
	shift
	stem=${case//\//_}
	rec=$TMP/rec/$stem.at
	mkdir -p "$TMP/rec" "$TMP/live"
	ath_raw "$case" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" "${ATH_OPTS[@]}" --record "$rec" -- "$@"
	live=$(roundtrip_digest "$stem" "$1")
	# A request refused before the module saw a byte never opens the
	# port: its transcript is empty, and the replay must refuse the same.
	local empty=
	if [ ! -e "$rec" ]; then
		printf '# athttp transcript 1\n# dialect %s\n# (the port was never opened)\n' "$MODEM" >"$rec"
		empty=1
	fi
	# Keep the live run's files and state for the case's own checks.
	rm -f "$TMP/live/"*
	cp -p "$TMP/out/$stem".* "$TMP/live/" 2>/dev/null
	saved=("$CASE" "$OUT" "$ERR" "$TRACE" "$BODY" "$HDRS" "$RC" "$LAST_CMD" "$EMU_MARK" "$ORIGIN_MARK")
	ATH_NO_TRACE=1 ath_raw "roundtrip/$case" "$ATHTTP" -d "replay:$rec" -m "$MODEM" "${ATH_OPTS[@]}" -- "$@"
	replay=$(roundtrip_digest "$stem" "$1")
	if [ "$live" = "$replay" ]; then
		if [ -n "$empty" ]; then
			pass "nothing reached the module; an empty transcript gives the same answer"
		else
			pass "$(grep -c '' "$rec") transcript lines; client output identical"
		fi
	elif [ -s "$rec" ] && [ "$(tail -c 1 "$rec" | od -An -c | tr -d ' ')" != '\n' ]; then
		# Seen when a client exits while the module's output is still
		# being recorded (busybox --spider over a streaming dialect).
		fail "the recording is cut mid-line (no newline at its end, last line $(grep -c '' "$rec"): '$(tail -n 1 "$rec" | tail -c 60)'), so the replay fails: live [$(echo $live)] replay [$(echo $replay)]; $(grep -m1 -o 'X-Athttp-Error: .*' "$TMP/out/$stem".* 2>/dev/null | head -c 200)"
	else
		fail "replay differs from the live run: live [$(echo $live)] replay [$(echo $replay)]; $(grep -m1 -o 'X-Athttp-Error: .*' "$TMP/out/$stem".* 2>/dev/null | head -c 300)"
	fi
	rm -f "$TMP/out/$stem".*
	cp -p "$TMP/live/"* "$TMP/out/" 2>/dev/null
	CASE=${saved[0]} OUT=${saved[1]} ERR=${saved[2]} TRACE=${saved[3]} BODY=${saved[4]}
	HDRS=${saved[5]} RC=${saved[6]} LAST_CMD=${saved[7]} EMU_MARK=${saved[8]} ORIGIN_MARK=${saved[9]}
}

# ath_raw CASE CMD ARG...: the same for a command line given in full (to test
# the wrapper's own options); ATHTTP_TRACE is set unless ATH_NO_TRACE=1.
ath_raw() {
	local s
	local -a envs=("${E2E_SAN_ENV[@]}")
	CASE=$1
	shift
	s=${CASE//\//_}
	OUT=$TMP/out/$s.out
	ERR=$TMP/out/$s.err
	TRACE=$TMP/trace/$s.trace
	BODY=$TMP/out/$s.body
	HDRS=$TMP/out/$s.hdrs
	rm -f "$OUT" "$ERR" "$TRACE" "$BODY" "$HDRS"
	[ -n "${ATH_NO_TRACE:-}" ] || envs+=(ATHTTP_TRACE="$TRACE")
	LAST_CMD=$(printf '%q ' "$@")
	LAST_CMD=${LAST_CMD//$E2E_ROOT\//}
	mark_logs
	(cd "$TMP/cwd" && exec env "${envs[@]}" timeout -k 5 "$CLIENT_TIMEOUT" "$@") \
		>"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# last_block FILE: the header lines of the last response block in FILE whose
# status lines look like "HTTP/1.1 200 OK" (after stripping indentation).
# Prints "STATUS <code>" then "Name: value" lines.
last_block() {
	sed -e 's/\r$//' -e 's/^  *//' "$1" | awk '
		/^HTTP\/[0-9.]+ [0-9][0-9][0-9]/ { n = 0; st = $2; next }
		st != "" && /^[A-Za-z0-9-]+:/ { h[n++] = $0 }
		END { if (st != "") { print "STATUS " st; for (i = 0; i < n; i++) print h[i] } }'
}

# req CLIENT CASE METHOD URL [BODY] : one request with client CLIENT
# (curl|wget|busybox|python).  BODY is "@FILE" or a literal string; the
# content type is $CTYPE when set.  Extra client options in REQ_OPTS (array).
# Afterwards: $STATUS (final status or empty), $HDRS (final header lines),
# $BODY (response body file).  Returns 2 if the client cannot express it.
# An https URL: the client trusts what the wrapper's environment says
# (wget then reads the wrapper's WGETRC: no --no-config).
req() {
	local client=$1 case=$2 method=$3 url=$4 body=${5-} ct=${CTYPE:-}
	local -a a=() wget_cfg=(--no-config)
	case $url in https://*) wget_cfg=() ;; esac
	STATUS=
	case $client in
	curl)
		a=(curl -sS -L -D "$TMP/out/${case//\//_}.rawhdr")
		case $method in
		GET) a+=(-o "$TMP/out/${case//\//_}.body") ;;
		HEAD) a+=(-I -o /dev/null) ;; # with -I, -o gets the header
		POST) a+=(-o "$TMP/out/${case//\//_}.body") ;;
		*) a+=(-X "$method" -o "$TMP/out/${case//\//_}.body") ;;
		esac
		if [ -n "$body" ]; then
			case $body in
			@*) a+=(--data-binary "$body") ;;
			*) a+=(--data-raw "$body") ;;
			esac
		fi
		[ -n "$ct" ] && a+=(-H "Content-Type: $ct")
		;;
	wget)
		a=(wget -S --tries=1 --timeout=50 --content-on-error "${wget_cfg[@]}"
			-O "$TMP/out/${case//\//_}.body")
		case $method in
		GET) ;;
		HEAD) a+=(--method=HEAD) ;;
		*) [ -z "$body" ] && a+=(--method="$method") ;;
		esac
		if [ -n "$body" ]; then
			[ "$method" = POST ] || a+=(--method="$method")
			case $body in
			@*) if [ "$method" = POST ]; then a+=(--post-file="${body#@}"); else a+=(--body-file="${body#@}"); fi ;;
			*) if [ "$method" = POST ]; then a+=(--post-data="$body"); else a+=(--body-data="$body"); fi ;;
			esac
		fi
		[ -n "$ct" ] && a+=(--header="Content-Type: $ct")
		;;
	busybox)
		# (no -T: busybox 1.35 wget -T crashes; `timeout` bounds it)
		a=(busybox wget -S -O "$TMP/out/${case//\//_}.body")
		case $method in
		GET) ;;
		POST) ;;
		*) return 2 ;;
		esac
		if [ -n "$body" ]; then
			case $body in
			@*) a+=(--post-file "${body#@}") ;;
			*) a+=(--post-data "$body") ;;
			esac
		elif [ "$method" = POST ]; then
			return 2
		fi
		[ -n "$ct" ] && a+=(--header "Content-Type: $ct")
		;;
	python)
		a=("$PY" "$E2E_ROOT/tests/e2e/httpc.py" -X "$method" -o "$TMP/out/${case//\//_}.body")
		if [ -n "$body" ]; then
			case $body in
			@*) a+=(--data-file "${body#@}") ;;
			*) a+=(--data "$body") ;;
			esac
		fi
		[ -n "$ct" ] && a+=(-H "Content-Type: $ct")
		;;
	*)
		echo "req: unknown client $client" >&2
		return 2
		;;
	esac
	a+=("${REQ_OPTS[@]}" "$url")
	ath "$case" "${a[@]}"
	case $client in
	curl) [ -f "$TMP/out/${case//\//_}.rawhdr" ] && last_block "$TMP/out/${case//\//_}.rawhdr" >"$HDRS.tmp" ;;
	wget | busybox) grep -a '^  ' "$ERR" | last_block /dev/stdin >"$HDRS.tmp" ;;
	python) sed -n -e 's/^STATUS /HTTP\/1.1 /p' -e 's/^H //p' "$OUT" | last_block /dev/stdin >"$HDRS.tmp" ;;
	esac
	if [ -s "$HDRS.tmp" ]; then
		STATUS=$(sed -n '1s/^STATUS //p' "$HDRS.tmp")
		sed 1d "$HDRS.tmp" >"$HDRS"
	else
		: >"$HDRS"
	fi
	rm -f "$HDRS.tmp"
	[ -f "$BODY" ] || : >"$BODY"
	return 0
}

# hdr NAME: value of response header NAME (case-insensitive), first one.
hdr() {
	awk -v n="$1" 'BEGIN { n = tolower(n) }
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) {
			v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t\r]+$/, "", v); print v; exit } }' "$HDRS"
}

# ------------------------------------------------------------ checks
# Each returns 0, or calls fail (which prints) and returns 1.
chk_response() {
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		fail "client timed out after ${CLIENT_TIMEOUT}s"
		return 1
	fi
	if [ -z "$STATUS" ]; then
		fail "no HTTP response reached the client (exit status $RC)"
		return 1
	fi
}

chk_status() {
	chk_response || return 1
	local e
	[ "$STATUS" = "$1" ] && return 0
	e=$(hdr X-Athttp-Error)
	fail "status: expected $1, got $STATUS${e:+ (X-Athttp-Error: $e)}"
}

chk_rc0() {
	[ "$RC" = 0 ] || fail "client exit status: expected 0, got $RC"
}

chk_body_file() {
	local want got
	want=$(sha "$1")
	got=$(sha "$BODY")
	[ "$want" = "$got" ] ||
		fail "body differs from ${1##*/}: expected $(fsize "$1") bytes sha256 ${want:0:16}…, got $(fsize "$BODY") bytes sha256 ${got:0:16}…"
}

chk_body_sha() {
	local got
	got=$(sha "$BODY")
	[ "$1" = "$got" ] || fail "body sha256: expected ${1:0:16}…, got ${got:0:16}… ($(fsize "$BODY") bytes)"
}

chk_body_text() {
	local got
	got=$(cat "$BODY")
	[ "$got" = "$1" ] || fail "body: expected '$1', got '$(head -c 200 "$BODY" | tr '\r\n' '  ')'"
}

chk_header() {
	local got
	got=$(hdr "$1")
	[ "$got" = "$2" ] || fail "header $1: expected '$2', got '${got:-<absent>}'"
}

# chk_echo METHOD LEN SHA CTYPE: the /echo answer.
chk_echo() {
	chk_body_text "method=$1 len=$2 sha256=$3 ctype=$4"
}

# emu_cmds [ERE]: the command lines received since the mark (without
# "CMD "), decoded (the log's \xHH back to bytes), those matching ERE.
# emu_data_after ERE OUT: the data phases that followed a command matching
# ERE since the mark, decoded and concatenated into OUT; prints each one's
# length, one a line (the log's count, checked against the bytes).
emu_log_decode() { # MODE ERE [OUT]
	emu_since | "$PY" -c '
import re, sys
mode, pat = sys.argv[1], re.compile(sys.argv[2].encode("latin-1"))
out = open(sys.argv[3], "wb") if mode == "data" else None
unesc = lambda b: re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), b)
want = False
for line in sys.stdin.buffer:
    line = line.rstrip(b"\n")
    if line.startswith(b"CMD "):
        cmd = unesc(line[4:])
        want = pat.search(cmd) is not None
        if mode == "cmds" and want:
            sys.stdout.buffer.write(cmd + b"\n")
    elif line.startswith(b"DATA ") and mode == "data" and want:
        n, _, esc = line[5:].partition(b" ")
        data = unesc(esc)
        if int(n) != len(data):
            sys.stdout.write("bad-count-%s-%d\n" % (n.decode(), len(data)))
        out.write(data)
        sys.stdout.write("%d\n" % len(data))
        want = False
' "$@"
}
emu_cmds() { emu_log_decode cmds "${1:-.}"; }
emu_data_after() { emu_log_decode data "$1" "$2"; }

chk_emu_no() { # PATTERN WHAT
	if emu_since | grep -q -e "$1"; then
		fail "emulator log shows $2: $(emu_since | grep -m1 -e "$1" | cut -c1-120)"
		return 1
	fi
}

chk_emu_has() { # PATTERN WHAT
	emu_since | grep -q -e "$1" || fail "emulator log lacks $2"
}
