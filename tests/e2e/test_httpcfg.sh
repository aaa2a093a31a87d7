#!/bin/bash
# The Foundation matrix and issue 3's raw-packet cases for the AT+HTTPCFG
# set (-m httpcfg): see httpcfg_family.sh, and matrix.sh for the cases.
MODEM=httpcfg
STEM=HTTP
. "$(dirname "$0")/httpcfg_family.sh"
