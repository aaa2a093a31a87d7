#!/bin/bash
# The Foundation acceptance matrix, simcom dialect: real clients (curl, wget,
# busybox wget, python3 urllib) run unmodified through build/bin/athttp
# against athttp-emu -m simcom, which forwards to tests/origin.py.
# The cases are matrix.sh's; this file is simcom's record and its sections.
# One "ok"/"fail" line per case (see lib.sh).  E2E_KEEP=1 keeps the temp dir.

E2E_NAME=simcom
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/matrix.sh"
MODEM=simcom

# simcom's record (see matrix.sh): parameterized commands, not raw packets.
D_RAW=
D_REFUSED_METHODS="PUT PATCH"          # no PUT/PATCH in AT+HTTPACTION
D_URL_PAT='HTTPPARA="URL","@URL@"'
D_SEND_PAT='HTTPACTION'
D_BODY_PAT='HTTPDATA'
D_TRACE_PAT='AT+HTTPACTION'
D_VERBOSE_PAT='AT+HTTPPARA="URL","http://origin.test/small.txt"'
D_DNS_CODE=713                         # Get DNS failed
D_OOM_CODE=706                         # the module's memory
D_OVER_NAME=200k                       # over AT+HTTPDATA's 153600 bytes
D_OVER_FILE=body200k

matrix_setup || exit 1

# The full client matrix, 5 MB GET included, for every client: simcom is
# the reference dialect (and its 5 MB goes through 64 KB HTTPREAD ranges).
P=simcom
for c in $CLIENTS; do
	matrix_client "$c"
done
matrix_tail

# The A76xx variant ("+HTTPREAD: <n>" without DATA,): core cases, curl.
P=simcom-a76xx
if start_emu --variant a76xx; then
	t_get_small $CORE_CLIENT
	t_get_big $CORE_CLIENT
	t_get_chunked $CORE_CLIENT
	t_head $CORE_CLIENT
	t_post_100k $CORE_CLIENT
	t_emu_alive
fi

# paced line, slow module, failing module (matrix.sh)
section_paced
section_slow
section_failures

# Firmware that reports datalen 0 for a chunked origin response.
P=simcom-chunked-zero-len
if start_emu --chunked-zero-len; then
	t_get_chunked $CORE_CLIENT
	t_get_small $CORE_CLIENT
	t_emu_alive
fi
stop_emu
chk_sanitizer_reports

e2e_done
