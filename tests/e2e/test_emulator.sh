#!/bin/bash
# The emulator's own strictness and fidelity (emu/selftest.py --quick), its
# network side (SIM, registration, context, WiFi, --fault, --cmd-latency): a
# test that passes against a lenient emulator proves nothing, so the
# emulator's refusals are tested too.  One ok/fail line per check.
here=$(cd "$(dirname "$0")" && pwd)
emu=${BUILD:-build}/bin/athttp-emu
[ -x "$emu" ] || { echo "fail emulator/binary: $emu is not built"; exit 1; }
out=$(timeout -k 5 240 python3 "$here/../../emu/selftest.py" --quick "$emu" 2>&1)
rc=$?
printf '%s\n' "$out" | sed -n -e 's/^ok   /ok emulator\//p' -e 's/^FAIL /fail emulator\//p'
if [ $rc != 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL '; then
	echo "fail emulator/selftest: exit status $rc"
	printf '%s\n' "$out" | tail -n 20 | sed 's/^/# /'
fi
exit $rc
