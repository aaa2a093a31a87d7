#!/bin/bash
# tools/ci-deb.sh — the Debian packages, built and used as a user would (CI
# only: root on Debian 12, a few minutes).  Installs the build dependencies,
# builds athttp, libathttp0 and libathttp-dev with dpkg-buildpackage from a
# clean export of HEAD (uncommitted changes are not in it), runs lintian
# (an error fails), installs the .debs, and smoke-tests the INSTALLED files:
#   /usr/bin/athttp-emu -m simcom routed to tests/origin.py (the source
#   tree's), /usr/bin/athttp -- curl over http and over https with
#   --module-ca (the PKI of tests/e2e/pki.sh), an untrusted server refused,
#   athttp-fetch built against the installed library with pkg-config and run
#   the same way, man athttp, pkg-config --modversion athttp;
# then removes the packages (dpkg -r), also when a step failed.
# Prints "ok/fail/skip <case>" lines, each step's time, and finally
# "N passed, N failed".  Exit status 0 only when nothing failed.
#
# The harness of the end-to-end tests (tests/e2e/lib.sh) starts the origin
# and the emulator; E2E_ATHTTP/E2E_EMU/E2E_PRELOAD point it at /usr.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
PKGS=(athttp libathttp0 libathttp-dev)
# What the build and the smoke test need beyond Build-Depends.
TOOLS=(dpkg-dev debhelper lintian fakeroot build-essential git curl openssl python3 man-db)
T0=$(date +%s.%N)
PASS=0
FAIL=0
W=
INSTALLED=

step() { # NAME: prints the time the previous step took
	local now
	now=$(date +%s.%N)
	[ -n "${STEP:-}" ] && awk -v s="${STEP:-start}" -v a="${STEP_T:-$T0}" -v b="$now" -v t="$T0" \
		'BEGIN { printf "# %-10s %6.1f s (%.1f s in all)\n", s, b - a, b - t }'
	STEP=$1 STEP_T=$now
}
ok() { PASS=$((PASS + 1)); echo "ok deb/$1${2:+ ($2)}"; }
bad() { FAIL=$((FAIL + 1)); echo "fail deb/$1: $2"; }
detail() { sed 's/^/#   /' | tail -n "${1:-20}"; }

finish() {
	trap - EXIT
	if [ -n "$INSTALLED" ]; then
		step remove
		if dpkg -r "${PKGS[@]}" >"$W/remove.log" 2>&1 &&
			! dpkg-query -W -f='${Status}\n' "${PKGS[@]}" 2>/dev/null | grep -q 'ok installed' &&
			[ ! -e /usr/bin/athttp ] && [ ! -e /usr/lib/athttp ]; then
			ok remove "dpkg -r ${PKGS[*]}; /usr/bin/athttp and /usr/lib/athttp gone"
		else
			bad remove "the packages are not all gone"
			detail <"$W/remove.log"
		fi
	fi
	step end
	[ -n "$W" ] && [ -z "${CI_DEB_KEEP:-}" ] && rm -rf "$W"
	[ -n "${CI_DEB_KEEP:-}" ] && echo "# kept $W"
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
	exit
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

if [ "$(id -u)" != 0 ]; then
	echo "tools/ci-deb.sh installs packages: run it as root" >&2
	exit 2
fi
for p in "${PKGS[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		bad setup "$p is installed already; this script would remove it afterwards (dpkg -r ${PKGS[*]} first)"
		exit 1
	fi
done
W=$(mktemp -d /tmp/athttp-ci-deb.XXXXXX) || exit 1

# ------------------------------------------------------------ dependencies
step deps
export DEBIAN_FRONTEND=noninteractive
VER=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version 2>/dev/null) || VER=
if apt-get update -qq >"$W/apt.log" 2>&1 &&
	apt-get install -y -qq --no-install-recommends "${TOOLS[@]}" >>"$W/apt.log" 2>&1 &&
	apt-get build-dep -y -qq "$SRC" >>"$W/apt.log" 2>&1; then
	VER=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
	ok deps "build dependencies of $VER"
else
	bad deps "apt-get could not install the tools or the Build-Depends"
	detail <"$W/apt.log"
	exit 1
fi
UPSTREAM=${VER%-*}

# ------------------------------------------------------------ build
step build
D=$W/athttp-$UPSTREAM
if ! git -C "$SRC" archive --format=tar --prefix="athttp-$UPSTREAM/" HEAD | tar -x -C "$W"; then
	bad build "git archive HEAD failed"
	exit 1
fi
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
CHANGES=$W/athttp_${VER}_$ARCH.changes
(cd "$D" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1
rc=$?
DEBS=()
for p in "${PKGS[@]}"; do DEBS+=("$W/${p}_${VER}_$ARCH.deb"); done
missing=
for f in "${DEBS[@]}" "$CHANGES"; do [ -s "$f" ] || missing="$missing ${f#"$W"/}"; done
if [ "$rc" = 0 ] && [ -z "$missing" ]; then
	ok build "dpkg-buildpackage -us -uc -b: ${DEBS[*]##*/}"
else
	bad build "dpkg-buildpackage exit $rc; missing:${missing:- none}"
	detail 30 <"$W/build.log"
	exit 1
fi
# Hardening reached the compiler and the linker.
if grep -q -- '-D_FORTIFY_SOURCE=2' "$W/build.log" && grep -q -- '-fstack-protector-strong' "$W/build.log" &&
	grep -q -- '-z,now' "$W/build.log"; then
	ok hardening "CPPFLAGS, CFLAGS and LDFLAGS of dpkg-buildflags used"
else
	bad hardening "the build log lacks -D_FORTIFY_SOURCE=2, -fstack-protector-strong or -z,now"
fi

# ------------------------------------------------------------ lintian
step lintian
lintian --fail-on error --display-info "$CHANGES" >"$W/lintian.log" 2>"$W/lintian.err"
rc=$?
if [ "$rc" = 0 ] && ! grep -q '^E: ' "$W/lintian.log"; then
	ok lintian "no errors; $(grep -c '^W: ' "$W/lintian.log") warnings, $(grep -c '^I: ' "$W/lintian.log") info"
else
	bad lintian "exit $rc, $(grep -c '^E: ' "$W/lintian.log") errors"
fi
sed 's/^/#   /' "$W/lintian.log"

# ------------------------------------------------------------ contents
# has PACKAGE PATH...: each PATH is in that .deb.
has() {
	local p=$1 f list miss=
	shift
	list=$(dpkg-deb -c "$W/${p}_${VER}_$ARCH.deb" | awk '{ print $6 }' | sed 's|^\./|/|')
	for f in "$@"; do grep -qx -- "$f" <<<"$list" || miss="$miss $f"; done
	if [ -z "$miss" ]; then ok "contents/$p" "$*"; else bad "contents/$p" "not in the package:$miss"; fi
}
step contents
has athttp /usr/bin/athttp /usr/bin/athttp-emu /usr/lib/athttp/libathttp-preload.so \
	/usr/share/man/man1/athttp.1.gz /usr/share/man/man1/athttp-emu.1.gz \
	/usr/share/bash-completion/completions/athttp /usr/share/bash-completion/completions/athttp-emu
has libathttp0 "/usr/lib/$MA/libathttp.so.0"
has libathttp-dev /usr/include/athttp.h "/usr/lib/$MA/libathttp.so" "/usr/lib/$MA/libathttp.a" \
	"/usr/lib/$MA/pkgconfig/athttp.pc"

# ------------------------------------------------------------ install
step install
if dpkg -i "${DEBS[@]}" >"$W/install.log" 2>&1 ||
	apt-get -f install -y -qq >>"$W/install.log" 2>&1; then
	INSTALLED=1
	if dpkg-query -W -f='${Status}\n' "${PKGS[@]}" | grep -vq 'ok installed'; then
		bad install "not all of ${PKGS[*]} installed"
		detail <"$W/install.log"
	else
		ok install "dpkg -i ${DEBS[*]##*/}"
	fi
else
	INSTALLED=1 # what got in is removed again
	bad install "dpkg -i and apt-get -f install failed"
	detail <"$W/install.log"
	exit 1
fi

# ------------------------------------------------------------ smoke test
# In a subshell: lib.sh's traps and counters are its own; its ok/fail lines
# are counted here.
step smoke
(
	export E2E_ATHTTP=/usr/bin/athttp E2E_EMU=/usr/bin/athttp-emu
	export E2E_PRELOAD=/usr/lib/athttp/libathttp-preload.so E2E_NAME=deb/installed
	. "$SRC/tests/e2e/lib.sh"
	e2e_init
	e2e_need_binaries || exit 1
	gen_files
	start_origin || exit 1
	MODEM=simcom
	# shellcheck disable=SC2119 # no extra emulator options
	start_emu || exit 1

	# get CASE URL [OPTIONS...]: curl through the installed wrapper; the body
	# must be small.txt's.
	get() {
		local case=$1 url=$2
		shift 2
		ath_raw "$case" /usr/bin/athttp -d "$TMP/tty" -m simcom "$@" -- \
			curl -sS -o "$TMP/out/get.body" "$url"
		if [ "$RC" = 0 ] && [ "$(sha "$TMP/out/get.body")" = "$SMALL_SHA" ]; then
			pass "sha256 ${SMALL_SHA:0:12}"
		else
			fail "exit $RC, body sha256 $(sha "$TMP/out/get.body" 2>/dev/null | cut -c1-12), expected ${SMALL_SHA:0:12}"
		fi
	}
	get deb/installed/http "$U/small.txt"
	get deb/installed/https-module-ca "https://$HOST/small.txt" --module-ca "$PKI_ROOT"

	# A server the module's roots do not vouch for: refused, never served.
	ath_raw deb/installed/https-untrusted /usr/bin/athttp -d "$TMP/tty" -m simcom \
		--module-ca "$PKI_ROOT" -- curl -sS -o "$TMP/out/untrusted.body" -w '%{http_code}' \
		https://untrusted.test/small.txt
	if [ "$(cat "$OUT")" = 502 ]; then
		pass "502"
	else
		fail "status '$(cat "$OUT")', expected 502"
	fi

	# own CASE COMMAND-TEXT: a case that runs no client through athttp (no
	# trace, no client stderr unless set after).
	own() { CASE=$1 LAST_CMD=$2 RC='' ERR='' TRACE=''; mark_logs; }

	# The library as a user of libathttp-dev builds against it.
	own deb/installed/pkg-config "pkg-config --modversion athttp"
	v=$(pkg-config --modversion athttp 2>&1)
	if [ "$v" = "$UPSTREAM" ]; then pass "$v"; else fail "'$v', expected $UPSTREAM"; fi

	own deb/installed/fetch-build "cc examples/athttp-fetch.c \$(pkg-config --cflags --libs athttp)"
	ERR=$TMP/out/fetch-build.err
	# shellcheck disable=SC2046
	cc -o "$TMP/athttp-fetch" "$SRC/examples/athttp-fetch.c" $(pkg-config --cflags athttp) \
		$(pkg-config --libs athttp) 2>"$ERR"
	RC=$?
	lib=$(ldd "$TMP/athttp-fetch" 2>/dev/null | awk '/libathttp\.so/ { print $3 }')
	# (/lib is /usr/lib on a merged-/usr system: the same file)
	if [ "$RC" = 0 ] && [ -n "$lib" ] &&
		[ "$(readlink -f "$lib")" = "$(readlink -f "/usr/lib/$MA/libathttp.so.0")" ]; then
		pass "linked with $lib"
	else
		fail "exit $RC, libathttp from '$lib'"
	fi

	ath_raw deb/installed/fetch-run "$TMP/athttp-fetch" -d "$TMP/tty" -m simcom "$U/small.txt"
	if [ "$RC" = 0 ] && [ "$(sha "$OUT")" = "$SMALL_SHA" ]; then
		pass "sha256 ${SMALL_SHA:0:12}"
	else
		fail "exit $RC, body sha256 $(sha "$OUT" | cut -c1-12), expected ${SMALL_SHA:0:12}"
	fi

	# man PAGE renders, warning-free, with its NAME line (the dash is an em
	# dash in a UTF-8 locale).
	for page in athttp athttp-emu; do
		own "deb/installed/man-$page" "man $page"
		ERR=$TMP/out/man-$page.err
		MANWIDTH=80 man --warnings -P cat "$page" >"$TMP/out/man-$page.out" 2>"$ERR"
		RC=$?
		if [ "$RC" = 0 ] && grep -Eq "^ +$page (-|—) " "$TMP/out/man-$page.out" && [ ! -s "$ERR" ]; then
			pass "$(wc -l <"$TMP/out/man-$page.out") lines"
		else
			fail "man exit $RC, $(wc -l <"$TMP/out/man-$page.out") lines, no NAME line '$page - ...' or warnings"
		fi
	done

	# The completion file, sourced as bash-completion does, completes both.
	own deb/installed/completion "complete -p athttp athttp-emu"
	c=/usr/share/bash-completion/completions
	if out=$(bash -c '. "$1/athttp" && . "$1/athttp-emu" && complete -p athttp athttp-emu' sh "$c" 2>&1) &&
		[ "$(grep -c '^complete .* athttp\(-emu\)\?$' <<<"$out")" = 2 ]; then
		pass "$(tr '\n' ';' <<<"$out")"
	else
		fail "$(tr '\n' ';' <<<"$out")"
	fi
	e2e_done
) >"$W/smoke.log" 2>&1
cat "$W/smoke.log"
PASS=$((PASS + $(grep -c '^ok ' "$W/smoke.log")))
n=$(grep -c '^fail ' "$W/smoke.log")
FAIL=$((FAIL + n))
if [ "$(grep -c '^ok ' "$W/smoke.log")" -lt 9 ] && [ "$n" = 0 ]; then
	bad smoke "the smoke test ended early"
fi
exit 0
