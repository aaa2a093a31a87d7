#!/bin/bash
# The engine as an installed library: `make install` into a temporary root
# (from the BUILD tree as it is), examples/athttp-fetch.c built against that
# root with pkg-config, once with libathttp.so and once with libathttp.a,
# both fetching through the emulator; the installed libraries show the
# functions of athttp.h and nothing else; the installed wrapper, moved
# elsewhere, still finds its preload library; uninstall leaves nothing.
E2E_NAME=library
. "$(dirname "$0")/lib.sh"
MODEM=simcom
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
NM=${NM:-$($CC -print-prog-name=nm)}

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }

ROOT=$TMP/root
PREFIX=/usr
# A LIBDIR of its own, as Debian's multiarch one: the .pc and uninstall
# must follow it rather than assume $PREFIX/lib.
LIBDIR=$PREFIX/lib/$($CC -dumpmachine 2>/dev/null || echo multiarch)
L=$ROOT$LIBDIR
SO_REAL=libathttp.so.$(sed -n 's/^#define ATHTTP_VERSION "\(.*\)"$/\1/p' "$E2E_ROOT/include/athttp.h")
SONAME=libathttp.so.0
EXAMPLE=$E2E_ROOT/examples/athttp-fetch.c
# Sanitizer builds: a program linked with the engine needs the runtime.
SAN_FLAGS=()
[ -n "$E2E_SAN" ] && SAN_FLAGS=(-fsanitize="$E2E_SAN")
mkdir -p "$TMP/bin" "$TMP/home" "$TMP/runtmp"

# make TARGET...: the project's make on the BUILD tree, into $ROOT.
run_make() {
	make -C "$E2E_ROOT" --no-print-directory BUILD="$E2E_BUILD" ${E2E_SAN:+SANITIZER=$E2E_SAN} \
		DESTDIR="$ROOT" PREFIX="$PREFIX" LIBDIR="$LIBDIR" "$@"
}
# The functions athttp.h declares: every athttp_ name followed by "(".
api_names() {
	grep -oE '\<athttp_[a-z0-9_]+ *\(' "$1" | tr -d ' (' | sort -u
}
pc() {
	PKG_CONFIG_PATH=$L/pkgconfig PKG_CONFIG_SYSROOT_DIR=$ROOT "$PKG_CONFIG" "$@"
}
# build CASE OUT CMD...: a compile and link step; its output in $ERR.
build() {
	CASE=$1 OUT=$2
	shift 2
	ERR=$TMP/out/${CASE//\//_}.err LAST_CMD=$(printf '%q ' "$@") TRACE=
	"$@" >"$ERR" 2>&1
	RC=$?
	if [ "$RC" = 0 ] && [ -x "$OUT" ]; then pass; else fail "the build failed"; fi
}
# fetch CASE PROGRAM [ENV...]: PROGRAM fetches small.txt through the
# emulator; the body must be small.txt's.
fetch() {
	local prog=$2
	CASE=$1
	shift 2
	OUT=$TMP/out/${CASE//\//_}.body ERR=$TMP/out/${CASE//\//_}.err TRACE=
	LAST_CMD="$* ${prog#"$TMP"/} -d \$TMP/tty -m $MODEM $U/small.txt"
	mark_logs
	env "$@" timeout -k 5 "$CLIENT_TIMEOUT" "$prog" -d "$TMP/tty" -m "$MODEM" "$U/small.txt" \
		>"$OUT" 2>"$ERR" </dev/null
	RC=$?
	if [ "$RC" != 0 ]; then
		fail "exit $RC"
	elif [ "$(sha "$OUT")" != "$SMALL_SHA" ]; then
		fail "body sha256 $(sha "$OUT"), expected $SMALL_SHA ($(fsize "$OUT") bytes)"
	else
		pass "sha256 matches"
	fi
}

gen_files
start_origin || { e2e_done; exit 1; }
start_emu || { e2e_done; exit 1; }
API=$(api_names "$E2E_ROOT/include/athttp.h")

# ------------------------------------------------------------ install
CASE=library/install
ERR=$TMP/out/install.err LAST_CMD="make install DESTDIR=\$TMP/root PREFIX=$PREFIX LIBDIR=$LIBDIR"
run_make install >"$ERR" 2>&1
RC=$?
missing=
for f in "$ROOT$PREFIX/include/athttp.h" "$L/$SO_REAL" "$L/$SONAME" "$L/libathttp.so" \
	"$L/libathttp.a" "$L/pkgconfig/athttp.pc" "$ROOT$PREFIX/lib/athttp/libathttp-preload.so" \
	"$ROOT$PREFIX/bin/athttp" "$ROOT$PREFIX/bin/athttp-emu"; do
	[ -e "$f" ] || missing="$missing ${f#"$ROOT"}"
done
if [ "$RC" != 0 ]; then
	fail "make install: exit $RC"
	e2e_done
	exit 1
elif [ -n "$missing" ]; then
	fail "not installed:$missing"
else
	pass "headers, libathttp.so/.a, athttp.pc, wrapper, preload"
fi
[ -n "$API" ] || { CASE=library/header; fail "no function found in include/athttp.h"; }

CASE=library/soname
soname=$(readelf -d "$L/$SO_REAL" 2>&1 | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "$SONAME" ]; then
	fail "SONAME '$soname', expected $SONAME"
elif [ "$(readlink "$L/$SONAME")" != "$SO_REAL" ] || [ ! -L "$L/libathttp.so" ] ||
	[ "$(readlink -f "$L/libathttp.so")" != "$(readlink -f "$L/$SO_REAL")" ]; then
	fail "links: $SONAME -> $(readlink "$L/$SONAME"), libathttp.so -> $(readlink "$L/libathttp.so")"
else
	pass "$SONAME; $SONAME and libathttp.so link to $SO_REAL"
fi

CASE=library/so-exports
exports=$("$NM" -D --defined-only "$L/$SO_REAL" 2>&1 | awk '{ print $NF }' | sort -u)
if [ "$exports" = "$API" ]; then
	pass "$(echo $exports)"
else
	fail "nm -D --defined-only differs from athttp.h's functions: $(diff <(echo "$API") <(echo "$exports") | grep '^[<>]' | head -n 20 | tr '\n' ' ')"
fi

CASE=library/a-globals
globals=$("$NM" --defined-only -g "$L/libathttp.a" 2>&1 | awk 'NF == 3 { print $3 }' | sort -u)
if [ "$globals" = "$API" ]; then
	pass "$(echo $globals)"
else
	fail "nm --defined-only -g differs from athttp.h's functions: $(diff <(echo "$API") <(echo "$globals") | grep '^[<>]' | head -n 20 | tr '\n' ' ')"
fi

CASE=library/pkg-config
ERR=$TMP/out/pkg-config.err LAST_CMD="PKG_CONFIG_PATH=\$TMP/root$LIBDIR/pkgconfig PKG_CONFIG_SYSROOT_DIR=\$TMP/root $PKG_CONFIG --cflags --libs athttp"
flags=$(pc --cflags --libs athttp 2>"$ERR")
RC=$?
static_libs=$(pc --static --libs athttp 2>>"$ERR")
version=$(pc --modversion athttp 2>>"$ERR")
if [ "$RC" != 0 ]; then
	fail "exit $RC"
elif [ "$version" != "${SO_REAL#libathttp.so.}" ]; then
	fail "version '$version', athttp.h says ${SO_REAL#libathttp.so.}"
elif [[ " $flags " != *" -I$ROOT$PREFIX/include "* || " $flags " != *" -L$L -lathttp "* ]]; then
	fail "--cflags --libs: $flags"
else
	missing=
	for l in -lserialport -lhttp_parser -lmbedtls -lmbedx509 -lmbedcrypto -lpthread; do
		[[ " $static_libs " == *" $l "* ]] || missing="$missing $l"
	done
	if [ -n "$missing" ]; then fail "--static --libs lacks$missing: $static_libs"; else pass "${flags//$TMP/\$TMP}"; fi
fi

# ------------------------------------------------------------ the .so
SHARED=$TMP/bin/fetch-shared
build library/build-shared "$SHARED" "$CC" -Wall -Wextra -Werror "${SAN_FLAGS[@]}" \
	-o "$SHARED" "$EXAMPLE" $flags

CASE=library/shared-needed
dyn=$(readelf -d "$SHARED" 2>&1)
if ! grep -q "(NEEDED).*\[$SONAME\]" <<<"$dyn"; then
	fail "NEEDED: $(grep NEEDED <<<"$dyn" | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' ')"
elif grep -qE '\((RPATH|RUNPATH)\)' <<<"$dyn"; then
	fail "the program carries a search path: $(grep -E 'RPATH|RUNPATH' <<<"$dyn")"
else
	pass "NEEDED $SONAME, no RPATH"
fi

CASE=library/shared-resolves
ERR= LAST_CMD="LD_LIBRARY_PATH=\$TMP/root$LIBDIR ldd fetch-shared"
got=$(LD_LIBRARY_PATH=$L ldd "$SHARED" 2>&1 | awk -v so="$SONAME" '$1 == so { print $3 }')
without=$(ldd "$SHARED" 2>&1 | awk -v so="$SONAME" '$1 == so { print $3 }')
if [ "$got" != "$L/$SONAME" ]; then
	fail "with LD_LIBRARY_PATH=\$TMP/root$LIBDIR, $SONAME resolves to '$got'"
elif [[ $without == "$E2E_BUILD"/* || $without == "$ROOT"/* ]]; then
	fail "without LD_LIBRARY_PATH, $SONAME still resolves to $without"
else
	pass "$SONAME => \$TMP/root$LIBDIR/$SONAME"
fi

fetch library/fetch-shared "$SHARED" LD_LIBRARY_PATH="$L"

# ------------------------------------------------------------ the .a
# pkg-config --static gives the private libraries; -Bstatic makes -lathttp
# the archive, since the .so lies beside it.
STATIC=$TMP/bin/fetch-static
static_flags=$(pc --static --cflags --libs athttp 2>/dev/null)
static_flags=${static_flags/ -lathttp / -Wl,-Bstatic -lathttp -Wl,-Bdynamic }
build library/build-static "$STATIC" "$CC" -Wall -Wextra -Werror "${SAN_FLAGS[@]}" \
	-o "$STATIC" "$EXAMPLE" $static_flags

CASE=library/static-self-contained
if ldd "$STATIC" 2>&1 | grep -q libathttp; then
	fail "the static build needs $(ldd "$STATIC" | grep libathttp)"
elif ! "$NM" "$STATIC" 2>&1 | grep -q ' T athttp_open$'; then
	fail "athttp_open is not in the program"
else
	pass "no libathttp.so needed"
fi

fetch library/fetch-static "$STATIC"

# A program may define a function that has the name of one of the engine's
# own: with the installed archive nothing clashes.  (The name comes from
# the internal archive, where it is global.)
internal=$("$NM" -g --defined-only "$E2E_BUILD/internal/libathttp-internal.a" 2>/dev/null |
	awk '$2 == "T" && $3 !~ /^athttp_/ { print $3; exit }')
CASE=library/static-no-clash
if [ -z "$internal" ]; then
	fail "no internal function found in $E2E_BUILD/internal/libathttp-internal.a"
else
	cat >"$TMP/clash.c" <<-EOF
		#include <athttp.h>
		int $internal(void);
		int $internal(void) { return 42; }
		int main(void) { return $internal() == 42 && athttp_dialects()[0] ? 0 : 1; }
	EOF
	ERR=$TMP/out/clash.err LAST_CMD="cc clash.c (defines $internal) with libathttp.a"
	"$CC" "${SAN_FLAGS[@]}" -o "$TMP/bin/clash" "$TMP/clash.c" $static_flags >"$ERR" 2>&1 &&
		timeout 10 "$TMP/bin/clash" >>"$ERR" 2>&1
	RC=$?
	if [ "$RC" = 0 ]; then pass "a program's own $internal()"; else fail "exit $RC"; fi
fi

# ------------------------------------------------------------ the wrapper, moved
# The installed tree copied elsewhere: the wrapper finds the preload
# library relative to itself and fetches through the emulator.
cp -a "$ROOT" "$TMP/moved"
NO_ROUNDTRIP=1
MOVED_ATHTTP=$TMP/moved$PREFIX/bin/athttp
MOVED_BODY=$TMP/out/library_moved-wrapper.body
ath_raw library/moved-wrapper env HOME="$TMP/home" TMPDIR="$TMP/runtmp" \
	"$MOVED_ATHTTP" -d "$TMP/tty" -m "$MODEM" -- "$PY" -c '
import os, sys, urllib.request
sys.stdout.write(os.environ.get("LD_PRELOAD", "") + "\n"); sys.stdout.flush()
open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1]).read())' "$U/small.txt" "$MOVED_BODY"
first=$(head -n 1 "$OUT" | tr ' :' '\n\n' | head -n 1)
if [ "$RC" != 0 ]; then
	fail "exit $RC"
elif [ "$first" != "$TMP/moved$PREFIX/lib/athttp/libathttp-preload.so" ]; then
	fail "LD_PRELOAD begins with '$first', not the moved tree's preload library"
elif [ "$(sha "$MOVED_BODY")" != "$SMALL_SHA" ]; then
	fail "body sha256 $(sha "$MOVED_BODY"), expected $SMALL_SHA"
else
	pass "preloads \$TMP/moved$PREFIX/lib/athttp/libathttp-preload.so; sha256 matches"
fi

# ------------------------------------------------------------ uninstall
CASE=library/uninstall
ERR=$TMP/out/uninstall.err LAST_CMD="make uninstall DESTDIR=\$TMP/root PREFIX=$PREFIX LIBDIR=$LIBDIR" TRACE=
run_make uninstall >"$ERR" 2>&1
RC=$?
left=$(cd "$ROOT" && find . ! -type d | sort)
if [ "$RC" != 0 ]; then
	fail "make uninstall: exit $RC"
elif [ -n "$left" ]; then
	fail "left behind: $(echo $left)"
else
	pass "no file or link left"
fi

chk_sanitizer_reports
e2e_done
