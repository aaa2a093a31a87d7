#!/bin/bash
# The fault matrix: every athttp-emu --fault kind x every dialect x {two
# separate programs, one keep-alive program}.  For each case:
#   outcome   the faulted request ends as the fault allows: the body
#             byte-exact, a 502/504 with X-Athttp-Error (the cause, before
#             the head), or a connection cut after the head - never wrong
#             bytes as a complete response, never a cut before any head;
#   bound     it ends within ATHTTP_TIMEOUT_MS (FAULT_TIMEOUT_MS) + margin;
#   recovery  the next request (a fresh program, or the same program on its
#             connection or a new one) gets the body byte-exact, within
#             the bound plus the fault's own duration.
# The faults strike inside the response data (B = 20000 of a 64 KiB body;
# origin-close 30000 bytes of the origin's response).  Each case has its
# own emulator, so the fault is the first request's, whatever the engine
# does after it.  Clients are tests/e2e/faultc.py (python: runs under ASan).
#
# Environment: FAULT_DIALECTS (default: all six), FAULT_KINDS
# (default: all), FAULT_MODES ("sep ka"), FAULT_TIMEOUT_MS (1500), FAULT_MARGIN_S (3; 5
# under a sanitizer; the silence lasts the bound and 0.5 s more), FAULTS_TABLE=FILE (append one tab-separated line of
# measurements per case: bench/faults.sh).

E2E_NAME=faults
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || exit 1

# Every dialect, quectel (httpcfg's twin: one driver, the Q prefix as data)
# included: the twins' prefixes differ on the line.
FAULT_DIALECTS=${FAULT_DIALECTS:-simcom neoway httpcfg quectel onemo espat}
FAULT_KINDS=${FAULT_KINDS:-silence noise reset error origin-close urc trickle}
FAULT_MODES=${FAULT_MODES:-sep ka}
TIMEOUT_MS=${FAULT_TIMEOUT_MS:-1500}
if [ -n "$E2E_SAN" ]; then MARGIN=${FAULT_MARGIN_S:-5}; else MARGIN=${FAULT_MARGIN_S:-3}; fi
# Longer than the bound: a module silent that long must not be waited for
# (and an answer after it cannot be in time).
SILENCE_MS=$(awk -v t="$TIMEOUT_MS" -v m="$MARGIN" 'BEGIN { printf "%d", t + m * 1000 + 500 }')
export ATHTTP_TIMEOUT_MS=$TIMEOUT_MS
# A module that resets comes back as at power-on: the engine brings it onto
# the network again (ESP-AT: joins the emulator's access point).
export ATHTTP_APN=internet ATHTTP_WIFI_SSID=athttp-emu ATHTTP_WIFI_PASSWORD=athttp-emu
# a hang is a hang well before the harness's own limit
CLIENT_WAIT=$(((TIMEOUT_MS + SILENCE_MS) / 1000 + 15))
CLIENT_TIMEOUT=$((CLIENT_WAIT * 2 + 10))

head -c 65536 /dev/urandom >"$WWW/f64k.bin"
head -c 256 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 256 >"$WWW/tiny.txt"
start_origin || exit 1

# kind -> the emulator's --fault, the file, the outcomes allowed, the extra
# time the next request may need (the fault's own duration, ms)
declare -A F_SPEC=(
	[silence]="silence:1:20000:$SILENCE_MS"
	[noise]="noise:1:20000:64"
	[reset]="reset:1:20000"
	[error]="error:1"
	[origin-close]="origin-close:1:30000"
	[urc]="urc:0:6"
	[trickle]="trickle:1:1"
)
declare -A F_FILE=(
	[silence]=f64k.bin [noise]=f64k.bin [reset]=f64k.bin [error]=f64k.bin
	[origin-close]=f64k.bin [urc]=f64k.bin [trickle]=tiny.txt
)
# A module that stalls past the bound, resets, or loses the origin cannot
# deliver the body; noise may fall where the engine can tell it from the
# answer; URCs and a slow line must change nothing.
declare -A F_ALLOW=(
	[silence]="errhead cut" [noise]="body errhead cut" [reset]="errhead cut"
	[error]="errhead" [origin-close]="errhead cut" [urc]="body" [trickle]="body"
)
declare -A F_EXTRA_MS=(
	[silence]=$SILENCE_MS [noise]=0 [reset]=0 [error]=0 [origin-close]=0
	[urc]=0 [trickle]=2000
)
# ... and the faulted request itself (a slow line is slow, not broken)
declare -A F_SLOW_MS=([trickle]=2000)

# faultc CASE COUNT FILE: the client through athttp; its R lines in $OUT.
faultc() {
	ath_raw "$1" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- \
		"$PY" "$E2E_ROOT/tests/e2e/faultc.py" --count "$2" --timeout "$CLIENT_WAIT" \
		--sha "$(sha "$WWW/$3")" "$HOST" "/$3"
}

# r_field I FIELD: field FIELD (2 class, 3 status, 4 elapsed, 5 bytes, 6
# end, 7 reason) of request I's line in $OUT.
r_field() { awk -v i="$1" -v f="$2" '$1 == "R" && $2 == i { print $(f + 2); exit }' "$OUT"; }

le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
sub_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

table_row() {
	[ -n "${FAULTS_TABLE:-}" ] || return 0
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$FAULTS_TABLE"
}

# check_faulted KIND: the outcome and bound of request 1 in $OUT.
check_faulted() {
	local kind=$1 cls took bound reason
	cls=$(r_field 1 1)
	took=$(r_field 1 3)
	reason=$(r_field 1 6)
	bound=$(awk -v t="$TIMEOUT_MS" -v m="$MARGIN" -v x="${F_SLOW_MS[$kind]:-0}" \
		'BEGIN { printf "%.1f", t / 1000 + m + x / 1000 }')
	if [ -z "$cls" ]; then
		fail "no outcome line from the client (exit $RC)"
	elif ! [[ " ${F_ALLOW[$kind]} " == *" $cls "* ]]; then
		fail "outcome $cls (status $(r_field 1 2), $(r_field 1 4) bytes, X-Athttp-Error $reason) after ${took}s; allowed: ${F_ALLOW[$kind]}"
	elif ! le "$took" "$bound"; then
		fail "outcome $cls after ${took}s, over the bound ${bound}s"
	elif ! emu_since | grep -q "^FAULT $kind"; then
		fail "$cls, but the emulator's log shows no $kind fault: it never struck"
	elif [ "$kind" = urc ] && ! grep -q -E '< (\+CMTI: "SM",3|\+TIME_UPDATED)$' "$TRACE"; then
		fail "$cls, but the AT trace shows none of the emulator's URCs: the fault was not there"
	else
		pass "$cls after ${took}s (bound ${bound}s)${reason:+, X-Athttp-Error $reason}"
	fi
}

# check_next END0: request 2 ($OUT's line I, default 2) byte-exact, within
# the recovery bound after the faulted outcome ended at END0.
check_next() {
	local kind=$1 end0=$2 i=${3:-2} cls end gap bound
	cls=$(r_field "$i" 1)
	end=$(r_field "$i" 5)
	bound=$(awk -v t="$TIMEOUT_MS" -v m="$MARGIN" -v x="${F_EXTRA_MS[$kind]}" \
		'BEGIN { printf "%.1f", t / 1000 + m + x / 1000 }')
	if [ -z "$cls" ] || [ -z "$end0" ]; then
		fail "no outcome line from the client (exit $RC)"
		return 1
	fi
	gap=$(sub_s "$end" "$end0")
	RECOVER=$gap
	if [ "$cls" != body ]; then
		fail "the next request: $cls (status $(r_field "$i" 2), $(r_field "$i" 4) bytes, X-Athttp-Error $(r_field "$i" 6)) ${gap}s after the fault's outcome"
	elif ! le "$gap" "$bound"; then
		fail "the next request byte-exact, but ${gap}s after the fault's outcome (bound ${bound}s)"
	else
		pass "byte-exact ${gap}s after the fault's outcome (bound ${bound}s)"
	fi
}

for MODEM in $FAULT_DIALECTS; do
	for kind in $FAULT_KINDS; do
		file=${F_FILE[$kind]}
		for mode in $FAULT_MODES; do
			P=$MODEM/$kind/$mode
			start_emu --fault "${F_SPEC[$kind]}" || continue
			if [ "$mode" = sep ]; then
				faultc "$P/faulted" 1 "$file"
				CASE=$P/faulted
				check_faulted "$kind"
				cls=$(r_field 1 1) took=$(r_field 1 3) end0=$(r_field 1 5)
				faultc "$P/next" 1 "$file"
				CASE=$P/next
				check_next "$kind" "$end0" 1
			else
				faultc "$P/faulted" 2 "$file"
				CASE=$P/faulted
				check_faulted "$kind"
				cls=$(r_field 1 1) took=$(r_field 1 3) end0=$(r_field 1 5)
				CASE=$P/next
				check_next "$kind" "$end0" 2
			fi
			table_row "$MODEM" "$kind" "$mode" "${cls:--}" "${took:--}" \
				"$(r_field "$([ "$mode" = sep ] && echo 1 || echo 2)" 1)" "${RECOVER:--}"
			RECOVER=
			stop_emu
		done
	done
done
chk_sanitizer_reports
e2e_done
