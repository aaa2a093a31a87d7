#!/bin/bash
# bench/faults.sh — how long athttp takes to get over each emulated fault:
# runs the fault matrix (tests/e2e/test_faults.sh) and prints, per dialect,
# fault and mode (sep: two programs; ka: one keep-alive program), the
# faulted request's outcome and the time from its start to that outcome,
# and the time from that outcome to the next byte-exact answer.  Run by
# bench/run.sh (make bench), or alone: BUILD=build bash bench/faults.sh.
# The cases that fail are listed after the table.
# Environment: as test_faults.sh (FAULT_DIALECTS, FAULT_KINDS, FAULT_MODES,
# FAULT_TIMEOUT_MS ...).
here=$(cd "$(dirname "$0")" && pwd)
table=$(mktemp "${TMPDIR:-/tmp}/athttp-faults.XXXXXX") || exit 1
trap 'rm -f "$table"' EXIT
FAULTS_TABLE=$table bash "$here/../tests/e2e/test_faults.sh" >"$table.log" 2>&1
echo "(k) faults: outcome and time to it from the faulted request's start; time"
echo "    from then to the next byte-exact answer (ATHTTP_TIMEOUT_MS ${FAULT_TIMEOUT_MS:-1500})"
awk -F'\t' 'BEGIN { printf "  %-8s %-13s %-4s %-8s %9s %-6s %10s\n", "dialect", "fault", "mode", "outcome", "took (s)", "next", "after (s)" }
	{ printf "  %-8s %-13s %-4s %-8s %9s %-6s %10s\n", $1, $2, $3, $4, $5, $6, $7 }' "$table"
grep -c '^ok ' "$table.log" | sed 's/^/  cases ok: /'
grep '^fail ' "$table.log" | sed 's/^/  /'
rm -f "$table.log"
# The failures are the matrix's to judge (make check); a bench without
# measurements is a broken bench.
[ -s "$table" ]
