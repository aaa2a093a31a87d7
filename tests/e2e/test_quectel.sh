#!/bin/bash
# The Foundation matrix and issue 3's raw-packet cases for the Q-prefixed
# twin (-m quectel: AT+QHTTPCFG, AT+QHTTPURL, +QHTTPGET: ...): see
# httpcfg_family.sh, and matrix.sh for the cases.
MODEM=quectel
STEM=QHTTP
. "$(dirname "$0")/httpcfg_family.sh"
