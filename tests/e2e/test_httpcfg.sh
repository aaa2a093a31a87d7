#!/bin/bash
# The Foundation matrix, the raw-packet cases and https (section_https,
# and the firmware that cannot verify) for the AT+HTTPCFG set (-m httpcfg):
# see httpcfg_family.sh, and matrix.sh for the cases.
MODEM=httpcfg
STEM=HTTP
. "$(dirname "$0")/httpcfg_family.sh"
