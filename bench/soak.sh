#!/bin/bash
# bench/soak.sh — SOAK_N requests in a row (default 10000) through one
# emulated module whose output is torn at random points (athttp-emu --chaos
# SOAK_SEED), each request its own connection from one Python client
# (bench/soak_client.py) under athttp.  Every body is checked byte-exact;
# the client's fd count and RSS (the engine runs in it) are sampled every
# SOAK_EVERY requests (default 1000) and printed as a table.  PASS when the
# fd count at the last sample is not above the first's and RSS grew by at
# most SOAK_RSS_KIB (default 4096) between them; FAIL (exit 1) otherwise.
# Run by bench/run.sh; alone: BUILD=build bash bench/soak.sh.
E2E_NAME=soak
E2E_ROUNDTRIP=0
. "$(cd "$(dirname "$0")" && pwd)/../tests/e2e/lib.sh"
MODEM=${SOAK_MODEM:-simcom}
SOAK_N=${SOAK_N:-10000}
SOAK_EVERY=${SOAK_EVERY:-1000}
SOAK_SEED=${SOAK_SEED:-1}
SOAK_RSS_KIB=${SOAK_RSS_KIB:-4096}
# each request takes some ms: give the whole run room, bounded
CLIENT_TIMEOUT=$((SOAK_N / 5 + 120))

e2e_init
e2e_need_binaries || exit 1
head -c 4096 /dev/urandom >"$WWW/soak.bin"
start_origin || exit 1
start_emu --chaos "$SOAK_SEED" || exit 1

echo "(k) soak: $SOAK_N requests, one connection each, $MODEM, athttp-emu --chaos $SOAK_SEED, 4 KiB bodies"
ath_raw soak "$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- "$PY" "$E2E_ROOT/bench/soak_client.py" \
	--url "$U/soak.bin" --expect "$WWW/soak.bin" -n "$SOAK_N" --every "$SOAK_EVERY" \
	--rss-growth-kib "$SOAK_RSS_KIB"
printf '  %8s %6s %10s %9s\n' requests fds 'RSS KiB' seconds
awk '/^SAMPLE / { printf "  %8d %6d %10d %9.1f\n", $2, $3, $4, $5 }' "$OUT"
grep -E '^(RESULT|FAIL) ' "$OUT" | sed 's/^/  /'
if [ "$RC" != 0 ]; then
	[ -s "$ERR" ] && tail -n 5 "$ERR" | sed 's/^/  # /'
	echo "  soak: FAIL (exit status $RC)"
	exit 1
fi
echo "  soak: PASS"
