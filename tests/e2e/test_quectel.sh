#!/bin/bash
# The Foundation matrix, the raw-packet cases and https (section_https,
# and the firmware that cannot verify) for the Q-prefixed twin (-m quectel:
# AT+QHTTPCFG, AT+QHTTPURL, AT+QSSLCFG, AT+QFUPL, +QHTTPGET: ...): see
# httpcfg_family.sh, and matrix.sh for the cases.
MODEM=quectel
STEM=QHTTP
. "$(dirname "$0")/httpcfg_family.sh"
