#!/bin/bash
# tools/ci-cross.sh — athttp cross-built for armhf and arm64 with Debian's
# cross toolchains and multiarch libraries, and tested under qemu-user:
# every unit test, and an end-to-end smoke test (the cross-built athttp-emu
# and examples/athttp-fetch under qemu, tests/origin.py native: one http
# and one verified https fetch, bodies compared by sha256; and `athttp ca`
# under qemu, its CA's validity read by the native openssl).
#
#   sudo bash tools/ci-cross.sh            # from a checkout, root, Debian 12
#
# Root: installs what it needs (apt-get).  Not root: uses what is installed
# and says what is missing.  Prints each step's time, ok/fail lines, and last
# "N passed, N failed": every build, every unit test (counted as
# tests/run.sh counts cmocka's summaries) and every smoke case.  Exit status
# 1 if anything failed.
#
# Environment: CROSS_ARCHES (default "arm64 armhf"), CROSS_WORK (build dirs
# and the http-parser sysroots; default a fresh temporary directory, kept
# when set), CROSS_JOBS (make -j, default 2).
#
# Two facts of Debian 12 this works around, measured:
# - libhttp-parser-dev is not Multi-Arch: same: installing it for another
#   architecture removes the native one.  Its .deb (header, link library) is
#   unpacked into a private sysroot instead; the runtime library,
#   libhttp-parser2.9:ARCH, is Multi-Arch and installed normally.
# - The cross toolchains' own C library (libc6-ARCH-cross, what
#   `qemu-ARCH -L /usr/TRIPLET` would load) crashes or hangs in every fork()
#   child under qemu-user 7.2.  The multiarch libc6:ARCH, which the
#   multiarch libraries come with and were built against, does not, and its
#   loader is at the path the binaries name (/lib/ld-linux-*.so.*): binaries
#   run as `qemu-ARCH BIN`, with QEMU_LD_PREFIX unset.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARCHES=${CROSS_ARCHES:-arm64 armhf}
JOBS=${CROSS_JOBS:-2}
if [ -n "${CROSS_WORK:-}" ]; then
	WORK=$CROSS_WORK
	mkdir -p "$WORK" || exit 1
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/athttp-cross.XXXXXX") || exit 1
	trap 'rm -rf "$WORK"' EXIT
fi
WORK=$(cd "$WORK" && pwd)
unset QEMU_LD_PREFIX

declare -A TRIPLET=([arm64]=aarch64-linux-gnu [armhf]=arm-linux-gnueabihf)
declare -A QEMU=([arm64]=qemu-aarch64 [armhf]=qemu-arm)
for a in $ARCHES; do
	[ -n "${TRIPLET[$a]:-}" ] || { echo "ci-cross: unknown architecture $a (arm64, armhf)" >&2; exit 2; }
done

PASSED=0
FAILED=0
T_ALL=$SECONDS
ok() { PASSED=$((PASSED + 1)); echo "ok $*"; }
bad() { FAILED=$((FAILED + 1)); echo "fail $*"; }

# step NAME LOG CMD...: runs CMD with its output in LOG, prints the time it
# took; on failure one fail line and LOG's tail.  Returns CMD's status.
step() {
	local name=$1 log=$2 t=$SECONDS rc
	shift 2
	"$@" >"$log" 2>&1
	rc=$?
	echo "# time $name: $((SECONDS - t)) s"
	if [ "$rc" = 0 ]; then
		ok "cross/$name"
	else
		bad "cross/$name: exit status $rc"
		tail -n 25 "$log" | sed 's/^/#   /'
	fi
	return "$rc"
}

# ------------------------------------------------------------ install
PKGS="make file python3 openssl qemu-user"
for a in $ARCHES; do
	PKGS="$PKGS crossbuild-essential-$a pkgconf:$a libserialport-dev:$a libmbedtls-dev:$a libcmocka-dev:$a libhttp-parser2.9:$a"
done

missing_pkgs() {
	local p m=
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || m="$m $p"
	done
	echo "$m"
}

install_pkgs() {
	local a
	export DEBIAN_FRONTEND=noninteractive
	for a in $ARCHES; do
		dpkg --add-architecture "$a" || return 1
	done
	apt-get update -q &&
		apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 $PKGS
}

# libhttp-parser-dev:ARCH unpacked into $WORK/sysroot-ARCH (see the top).
unpack_http_parser() {
	local a=$1 d=$WORK/debs-$a f
	rm -rf "$d" "$WORK/sysroot-$a"
	mkdir -p "$d" "$WORK/sysroot-$a"
	# apt-get download drops to the _apt user where it can write.
	chmod 777 "$d"
	(cd "$d" && apt-get download "libhttp-parser-dev:$a" "libhttp-parser2.9:$a") || return 1
	for f in "$d"/*.deb; do
		dpkg-deb -x "$f" "$WORK/sysroot-$a" || return 1
	done
	[ -e "$WORK/sysroot-$a/usr/include/http_parser.h" ] &&
		[ -e "$WORK/sysroot-$a/usr/lib/${TRIPLET[$a]}/libhttp_parser.so" ]
}

echo "# ci-cross: $ARCHES in $WORK"
if [ "$(id -u)" = 0 ]; then
	step install "$WORK/install.log" install_pkgs
else
	m=$(missing_pkgs)
	if [ -z "$m" ]; then
		ok "cross/install (not root: all present)"
	else
		bad "cross/install: not root, missing:$m"
	fi
fi
for a in $ARCHES; do
	step "$a/http-parser-sysroot" "$WORK/sysroot-$a.log" unpack_http_parser "$a"
done

# ------------------------------------------------------------ builds
UNIT_NAMES=$(cd "$ROOT/tests/unit" && ls test_*.c | sed 's/\.c$//')

build() {
	local a=$1 t=${TRIPLET[$1]} b=$WORK/build-$1 n
	local -a units=()
	for n in $UNIT_NAMES; do units+=("$b/tests/$n"); done
	command -v "$t-pkg-config" >/dev/null || { echo "no $t-pkg-config (pkgconf:$a)"; return 1; }
	make -C "$ROOT" -j"$JOBS" CC="$t-gcc" PKG_CONFIG="$t-pkg-config" BUILD="$b" \
		CFLAGS="-I$WORK/sysroot-$a/usr/include" LDFLAGS="-L$WORK/sysroot-$a/usr/lib/$t" \
		all "${units[@]}" || return 1
	# Every binary is the target's.
	file -L "$b/bin/athttp" "$b/bin/athttp-emu" "$b/examples/athttp-fetch" \
		"$b/lib/athttp/libathttp-preload.so" "${units[@]}" >"$b/file.txt"
	if grep -v "$(arch_pattern "$a")" "$b/file.txt"; then
		echo "not $a binaries (above)"
		return 1
	fi
	preload_symbols "$t" "$b/lib/athttp/libathttp-preload.so"
}
# The preload library built with 64-bit offsets (the Makefile's LARGEFILE):
# glibc's <fcntl.h> then renames the engine's fcntl and open to fcntl64 and
# open64, and on a 32-bit target these are functions of their own.  Its
# hooks must still catch programs built either way (fcntl and fcntl64
# both exported), and the engine must reach none of the wrapped names
# (the Makefile's PRELOAD_WRAP) through a relocation: it would bind to our
# own hook or past engine_libc.c.  Prints what it read, for the log.
preload_symbols() {
	local t=$1 so=$2 exports relocs name bad=
	exports=$("$t-nm" -D --defined-only "$so" | awk '{ print $3 }' | sort -u) || return 1
	relocs=$("$t-readelf" -rW "$so" | awk '/JUMP_SLOT|GLOB_DAT/ { sub(/@.*/, "", $5); print $5 }' | sort -u) || return 1
	echo "exported:" $exports
	echo "relocations to our hooks or to open, open64:" $(comm -12 <(echo "$relocs") \
		<(printf '%s\n' $exports open open64 | sort -u))
	for name in fcntl fcntl64; do
		grep -qx "$name" <<<"$exports" || { echo "$so exports no $name hook"; bad=1; }
	done
	for name in $exports open open64; do
		grep -qx "$name" <<<"$relocs" && { echo "$so binds $name by relocation"; bad=1; }
	done
	[ -z "$bad" ]
}
arch_pattern() { case $1 in arm64) echo 'ELF 64-bit LSB .*ARM aarch64' ;; armhf) echo 'ELF 32-bit LSB .*ARM, EABI5' ;; esac; }

BUILT=
for a in $ARCHES; do
	step "$a/build" "$WORK/build-$a.log" build "$a" && BUILT="$BUILT $a"
done

# ------------------------------------------------------------ unit tests
# Each test binary gets a one-line wrapper of the same name that runs it
# under qemu: tests/run.sh then counts and reports exactly as in make check.
unit() {
	local a=$1 w=$WORK/qemu-$1 n
	rm -rf "$w"
	mkdir -p "$w"
	for n in $UNIT_NAMES; do
		printf '#!/bin/sh\nexec %s %s "$@"\n' "${QEMU[$a]}" "$WORK/build-$a/tests/$n" >"$w/$n"
		chmod +x "$w/$n"
	done
	(cd "$ROOT" && BUILD="$WORK/build-$a" sh tests/run.sh --unit-only "$w"/test_*)
}

for a in $BUILT; do
	t=$SECONDS
	unit "$a" >"$WORK/unit-$a.log" 2>&1
	echo "# time $a/unit: $((SECONDS - t)) s"
	sed -n -e 's/^\(ok\|fail\) unit\//\1 cross\/'"$a"'\/unit\//p' -e '/^==== failures/,$p' "$WORK/unit-$a.log" |
		grep -v '^[0-9]* passed, [0-9]* failed$'
	sum=$(tail -n 1 "$WORK/unit-$a.log")
	case $sum in
	*" passed, "*" failed")
		PASSED=$((PASSED + ${sum%% passed*}))
		f=${sum#* passed, }
		FAILED=$((FAILED + ${f%% failed}))
		;;
	*) bad "cross/$a/unit: tests/run.sh printed no totals: $sum" ;;
	esac
done

# ------------------------------------------------------------ smoke test
# In a subshell with tests/e2e/lib.sh: its origin (native python, with the
# test PKI's TLS listeners) and its emulator start (E2E_EMU: the cross-built
# athttp-emu under qemu), and the cross-built athttp-fetch under qemu.
smoke() {
	local a=$1 b=$WORK/build-$1 q=${QEMU[$1]}
	local emu_wrap=$WORK/qemu-$1/athttp-emu
	printf '#!/bin/sh\nexec %s %s "$@"\n' "$q" "$b/bin/athttp-emu" >"$emu_wrap"
	chmod +x "$emu_wrap"
	(
		export BUILD=$b E2E_EMU=$emu_wrap E2E_NAME=cross/$a/smoke
		# qemu's start-up is slower than a native one's
		export E2E_START_TIMEOUT=60
		. "$ROOT/tests/e2e/lib.sh"
		e2e_init
		gen_files
		start_origin || { e2e_done; exit 1; }
		MODEM=simcom
		# paced like a UART: the pacing arithmetic runs on the target too
		start_emu --baud 115200 || { e2e_done; exit 1; }
		fetch=("$q" "$b/examples/athttp-fetch" -d "$TMP/tty" -m simcom)

		ath_raw "cross/$a/smoke/http-get" env -u ATHTTP_MODULE_CA "${fetch[@]}" "$U/small.txt"
		BODY=$OUT
		if [ "$RC" != 0 ]; then
			fail "athttp-fetch exit status $RC"
		elif ! grep -q '^HTTP 200 ' "$ERR"; then
			fail "no 'HTTP 200' head on stderr: $(head -n 1 "$ERR")"
		else
			chk_body_file "$WWW/small.txt" && pass "$(fsize "$OUT") bytes, sha256 ${SMALL_SHA:0:16}…"
		fi

		ath_raw "cross/$a/smoke/https-get-verified" env ATHTTP_MODULE_CA="$PKI_ROOT" \
			"${fetch[@]}" "https://$HOST/small.txt"
		BODY=$OUT
		if [ "$RC" != 0 ]; then
			fail "athttp-fetch exit status $RC"
		elif ! grep -q '^HTTP 200 ' "$ERR"; then
			fail "no 'HTTP 200' head on stderr: $(head -n 1 "$ERR")"
		elif grep -qi '^X-Athttp-Upstream-TLS: unverified' "$ERR"; then
			fail "the answer says the module did not verify the server"
		elif ! chk_emu_has 'CSSLCFG="authmode",[0-9]*,1' "the module being told to verify (authmode 1)"; then
			:
		else
			chk_body_file "$WWW/small.txt" && pass "verified by the test root; sha256 ${SMALL_SHA:0:16}…"
		fi

		# The wrapper's local CA, made on the target: valid for its ten
		# years (CA_DAYS_AHEAD, 3653 days), read by the native openssl.
		ath_raw "cross/$a/smoke/local-ca" "$q" "$b/bin/athttp" ca --dir "$TMP/ca"
		if [ "$RC" != 0 ] || [ "$(cat "$OUT")" != "$TMP/ca/ca.pem" ]; then
			fail "athttp ca: exit status $RC, printed '$(head -c 200 "$OUT")'"
		elif ! openssl x509 -in "$TMP/ca/ca.pem" -noout -checkend $((3652 * 86400)) >/dev/null ||
			openssl x509 -in "$TMP/ca/ca.pem" -noout -checkend $((3654 * 86400)) >/dev/null; then
			fail "the CA is not valid for 3653 days: $(openssl x509 -in "$TMP/ca/ca.pem" -noout -enddate 2>&1)"
		else
			pass "$(openssl x509 -in "$TMP/ca/ca.pem" -noout -enddate)"
		fi
		e2e_done
	)
}

for a in $BUILT; do
	t=$SECONDS
	smoke "$a" >"$WORK/smoke-$a.log" 2>&1
	rc=$?
	echo "# time $a/smoke: $((SECONDS - t)) s"
	grep -E '^(ok|fail|#   )' "$WORK/smoke-$a.log"
	p=$(grep -c '^ok ' "$WORK/smoke-$a.log")
	f=$(grep -c '^fail ' "$WORK/smoke-$a.log")
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		bad "cross/$a/smoke: exit status $rc without a fail line"
		tail -n 15 "$WORK/smoke-$a.log" | sed 's/^/#   /'
	elif [ "$p" = 0 ] && [ "$f" = 0 ]; then
		bad "cross/$a/smoke: no results"
	fi
done

echo "# time total: $((SECONDS - T_ALL)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
