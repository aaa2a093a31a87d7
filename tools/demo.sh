#!/bin/sh
# tools/demo.sh — athttp in one minute (run by `make demo`).
#
# Starts a local web server (tests/origin.py) and a pretend SIMCom module
# (athttp-emu, on a pty), then runs plain curl and wget through athttp: their
# HTTP requests travel as AT commands over the pty; then https, where curl's
# TLS ends in athttp and the module does the TLS to the server, verifying it
# against --module-ca.  Shows the AT conversation (abridged) and checks the
# downloaded bytes.  Leaves nothing running.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

E2E_NAME=demo
. "$(cd "$(dirname "$0")" && pwd)/../tests/e2e/lib.sh"
MODEM=simcom

e2e_init
e2e_need_binaries || exit 1
B=${ATHTTP#$PWD/}
head -c 300000 /dev/urandom >"$WWW/photo.jpg"
want=$(sha "$WWW/photo.jpg")

if [ -t 1 ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
# abridge FILE: an AT trace with each run of data pieces folded into one
# line, long lines cut.
abridge() {
	awk '
		function flush() {
			if (run > 1) printf "   %s\n   [... %d more lines of body data ...]\n", first, run - 1
			else if (run == 1) printf "   %s\n", first
			run = 0
		}
		{ l = length($0) > 110 ? substr($0, 1, 107) "..." : $0 }
		/< \[\+HTTP(READ|HEAD):/ { if (!run) first = l; run++; next }
		{ flush(); print "   " l }
		END { flush() }' "$1"
}

say "1. a web server on 127.0.0.1 (tests/origin.py)"
start_origin || exit 1
echo "   serving $WWW on port $ORIGIN_PORT; photo.jpg is 300000 bytes"

say "2. a pretend SIMCom module: athttp-emu -m simcom --link $TMP/tty"
start_emu || exit 1
echo "   $BG_LINE   ($TMP/tty -> $EMU_PTY)"
echo "   the module reaches 'origin.test' at 127.0.0.1:$ORIGIN_PORT (--route)"

say "3. athttp -v -m simcom -d $TMP/tty -- curl -o photo.jpg http://origin.test/photo.jpg"
(cd "$TMP/cwd" && timeout 60 "$ATHTTP" -v -m simcom -d "$TMP/tty" -- \
	curl -sS -o photo.jpg http://origin.test/photo.jpg) 2>"$TMP/curl.trace"
rc=$?
echo "   the AT conversation (athttp -v), abridged:"
abridge "$TMP/curl.trace"
got=$(sha "$TMP/cwd/photo.jpg" 2>/dev/null)
echo "   sha256 on the server: $want"
echo "   sha256 curl saved:    ${got:-<no file>}"
status=0
if [ "$rc" = 0 ] && [ "$want" = "$got" ]; then
	echo "   => identical: curl never knew it was talking to a modem"
else
	echo "   => FAILED (curl exit status $rc)"
	status=1
fi

say "4. the same with wget: athttp -m simcom -d $TMP/tty -- wget http://origin.test/photo.jpg"
rm -f "$TMP/cwd/photo.jpg"
(cd "$TMP/cwd" && timeout 60 "$ATHTTP" -m simcom -d "$TMP/tty" -- \
	wget -nv --tries=1 -O photo.jpg http://origin.test/photo.jpg) 2>&1 | sed 's/^/   /'
got=$(sha "$TMP/cwd/photo.jpg" 2>/dev/null)
echo "   sha256 wget saved:    ${got:-<no file>}"
if [ "$want" = "$got" ]; then
	echo "   => identical"
else
	echo "   => FAILED"
	status=1
fi

say "5. https: athttp -m simcom -d $TMP/tty --module-ca root.pem -- curl -o photo.jpg https://origin.test/photo.jpg"
echo "   curl does its own TLS and its own certificate check, against a local CA the"
echo "   wrapper made for this run; the module gets the request as https:// and"
echo "   verifies origin.test's certificate against root.pem (the test PKI's root)"
rm -f "$TMP/cwd/photo.jpg"
(cd "$TMP/cwd" && timeout 60 "$ATHTTP" -v -m simcom -d "$TMP/tty" --module-ca "$PKI_ROOT" -- \
	curl -sS -o photo.jpg https://origin.test/photo.jpg) 2>"$TMP/curl-https.trace"
rc=$?
echo "   the module's TLS set-up and the request (athttp -v), abridged:"
grep -E 'CCERTDOWN|CSSLCFG|SSLCFG|URL|HTTPACTION|module TLS|local TLS' "$TMP/curl-https.trace" |
	awk '{ l = length($0) > 110 ? substr($0, 1, 107) "..." : $0; print "   " l }'
got=$(sha "$TMP/cwd/photo.jpg" 2>/dev/null)
echo "   sha256 curl saved:    ${got:-<no file>}"
if [ "$rc" = 0 ] && [ "$want" = "$got" ]; then
	echo "   => identical, over https verified at both ends"
else
	echo "   => FAILED (curl exit status $rc)"
	status=1
fi

say "done: try it yourself"
echo "   $B -d /dev/ttyUSB2 -m simcom -- curl http://example.com/"
echo "   $B -d /dev/ttyUSB2 -m simcom --module-ca roots.pem -- curl https://example.com/"
exit $status
