#!/bin/bash
# The wrapper's https trust: `athttp ca` makes and keeps a persistent CA;
# every run gives the program an environment that trusts the local CA (one
# bundle = the user's roots + the CA, a wgetrc keeping the user's lines)
# from a private directory that is gone when the program ends; the program's
# exit status and death by signal pass through, signals sent to the wrapper
# reach it; --module-ca and --insecure-upstream reach the engine.  No module
# is involved: -d /dev/null is never opened unless a connection is made.
E2E_NAME=trust
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_need_binaries || { e2e_done; exit 1; }

SYSROOTS=/etc/ssl/certs/ca-certificates.crt
RUNTMP=$TMP/tmpdir # TMPDIR of every run: what is left in it leaked
mkdir -p "$RUNTMP" "$TMP/home"
# Runs are made independent of the caller's trust settings.
CLEAN_ENV=(env -u SSL_CERT_FILE -u CURL_CA_BUNDLE -u SSL_CERT_DIR -u WGETRC -u ATHTTP_CA_DIR
	-u ATHTTP_MODULE_CA -u ATHTTP_INSECURE_UPSTREAM -u NODE_EXTRA_CA_CERTS
	"${E2E_SAN_ENV[@]}" HOME="$TMP/home" TMPDIR="$RUNTMP")

# certs FILE...: the PEM certificates in the files, one a line (base64
# joined), in order.
certs() {
	awk '/-----BEGIN CERTIFICATE-----/ { c = ""; on = 1; next }
		/-----END CERTIFICATE-----/ { print c; on = 0; next }
		on { c = c $0 }' "$@"
}
ncerts() { certs "$@" | grep -c .; }

leftovers() { ls -A "$RUNTMP"; }

# Prints NAME=value (or NAME unset) for each trust variable, as the program
# sees them.  $1 is a file the program writes them to.
SHOW_ENV='for v in CURL_CA_BUNDLE SSL_CERT_FILE REQUESTS_CA_BUNDLE GIT_SSL_CAINFO NODE_EXTRA_CA_CERTS WGETRC ATHTTP_CA_DIR SSL_CERT_DIR ATHTTP_MODULE_CA ATHTTP_INSECURE_UPSTREAM; do
	eval "x=\${$v+set}"; if [ "$x" = set ]; then eval "printf \"%s=%s\\n\" $v \"\$$v\""; else echo "$v unset"; fi
done >"$1"
d=$ATHTTP_CA_DIR; cp "$CURL_CA_BUNDLE" "$1.bundle"; cp "$d/ca.pem" "$1.ca"; cp "$WGETRC" "$1.wgetrc"
cp "$NODE_EXTRA_CA_CERTS" "$1.node"'

var() { sed -n "s/^$1=//p" "$2"; } # NAME ENVFILE: the value, or nothing

# ------------------------------------------------------------ athttp ca
CA=$TMP/ca
ath_raw trust/ca/create "${CLEAN_ENV[@]}" "$ATHTTP" ca --dir "$CA"
if [ "$RC" != 0 ]; then
	fail "exit $RC: $(head -c 300 "$ERR")"
elif [ "$(cat "$OUT")" != "$CA/ca.pem" ]; then
	fail "printed '$(head -c 200 "$OUT")', expected $CA/ca.pem"
elif [ "$(stat -c %a "$CA")" != 700 ] || [ "$(stat -c %a "$CA/ca.key")" != 600 ]; then
	fail "modes: dir $(stat -c %a "$CA"), key $(stat -c %a "$CA/ca.key" 2>/dev/null); expected 700, 600"
elif [ "$(ncerts "$CA/ca.pem")" != 1 ]; then
	fail "$CA/ca.pem holds $(ncerts "$CA/ca.pem") certificates, not 1"
else
	pass "dir 0700, key 0600, one certificate"
fi
CA_SHA=$(sha "$CA/ca.pem")

ath_raw trust/ca/again "${CLEAN_ENV[@]}" "$ATHTTP" ca --dir "$CA"
if [ "$RC" = 0 ] && [ "$(cat "$OUT")" = "$CA/ca.pem" ] && [ "$(sha "$CA/ca.pem")" = "$CA_SHA" ]; then
	pass "same path, certificate unchanged"
else
	fail "exit $RC, printed '$(head -c 200 "$OUT")', sha ${CA_SHA:0:12} -> $(sha "$CA/ca.pem" | cut -c1-12)"
fi

# From elsewhere, with a relative --dir: the printed path is absolute.
mkdir -p "$TMP/cwd"
ath_raw trust/ca/relative-dir "${CLEAN_ENV[@]}" "$ATHTTP" ca --dir ../ca
if [ "$RC" = 0 ] && [ "$(cat "$OUT")" = "$CA/ca.pem" ]; then
	pass
else
	fail "exit $RC, printed '$(head -c 200 "$OUT")', expected $CA/ca.pem"
fi

ath_raw trust/ca/bundle "${CLEAN_ENV[@]}" "$ATHTTP" ca --bundle --dir "$CA"
if [ "$RC" != 0 ] || [ "$(cat "$OUT")" != "$CA/bundle.pem" ]; then
	fail "exit $RC, printed '$(head -c 200 "$OUT")': $(head -c 300 "$ERR")"
elif [ "$(certs "$CA/bundle.pem")" != "$(certs "$SYSROOTS" "$CA/ca.pem")" ]; then
	fail "bundle: $(ncerts "$CA/bundle.pem") certificates, expected the $(ncerts "$SYSROOTS") system roots then the CA"
else
	pass "$(ncerts "$SYSROOTS") system roots + the CA"
fi

ath_raw trust/ca/default-dir "${CLEAN_ENV[@]}" "$ATHTTP" ca
want=$TMP/home/.local/share/athttp/ca/ca.pem
if [ "$RC" = 0 ] && [ "$(cat "$OUT")" = "$want" ] && [ -s "$want" ] &&
	[ "$(stat -c %a "${want%/ca.pem}")" = 700 ]; then
	pass "~/.local/share/athttp/ca"
else
	fail "exit $RC, printed '$(head -c 200 "$OUT")', expected $want: $(head -c 300 "$ERR")"
fi

ath_raw trust/ca/env-dir "${CLEAN_ENV[@]}" ATHTTP_CA_DIR="$CA" "$ATHTTP" ca
if [ "$RC" = 0 ] && [ "$(cat "$OUT")" = "$CA/ca.pem" ]; then
	pass "\$ATHTTP_CA_DIR"
else
	fail "exit $RC, printed '$(head -c 200 "$OUT")', expected $CA/ca.pem"
fi

ath_raw trust/ca/bogus "${CLEAN_ENV[@]}" "$ATHTTP" ca --bogus
if [ "$RC" = 2 ] && grep -q '^usage: athttp' "$ERR" && [ ! -s "$OUT" ]; then
	pass
else
	fail "exit $RC (expected 2 with the usage on stderr)"
fi

ath_raw trust/ca/extra-argument "${CLEAN_ENV[@]}" "$ATHTTP" ca "$CA"
if [ "$RC" = 2 ] && grep -q '^usage: athttp' "$ERR"; then
	pass
else
	fail "exit $RC (expected 2 with the usage on stderr)"
fi

chmod 0644 "$CA/ca.key"
ath_raw trust/ca/readable-key "${CLEAN_ENV[@]}" "$ATHTTP" ca --dir "$CA"
if [ "$RC" = 1 ] && grep -qF "$CA/ca.key" "$ERR" && [ ! -s "$OUT" ]; then
	pass "$(head -n 1 "$ERR" | cut -c1-120)"
else
	fail "exit $RC (expected 1 with a message naming $CA/ca.key): $(head -c 300 "$ERR")"
fi

# A run with that CA must not start the program at all.
ath_raw trust/run/readable-key "${CLEAN_ENV[@]}" ATHTTP_CA_DIR="$CA" \
	"$ATHTTP" -d /dev/null -- sh -c ': >"$1"' sh "$TMP/ran"
if [ "$RC" = 1 ] && [ ! -e "$TMP/ran" ] && grep -qF "$CA/ca.key" "$ERR" && [ -z "$(leftovers)" ]; then
	pass "exit 1, program not run, nothing left in TMPDIR"
else
	fail "exit $RC, program ran: $([ -e "$TMP/ran" ] && echo yes || echo no), left: $(leftovers): $(head -c 300 "$ERR")"
fi
chmod 0600 "$CA/ca.key"

# ------------------------------------------------------------ the run's trust
printf '# the user'\''s own\ntries = 3\nuser_agent = trust-test' >"$TMP/user.wgetrc" # no final newline
E=$TMP/out/env
ath_raw trust/run/env "${CLEAN_ENV[@]}" SSL_CERT_DIR=/etc/ssl/certs WGETRC="$TMP/user.wgetrc" \
	"$ATHTTP" -d /dev/null -- sh -c "$SHOW_ENV" sh "$E"
dir=$(var ATHTTP_CA_DIR "$E")
CASE=trust/run/env
if [ "$RC" != 0 ]; then
	fail "exit $RC: $(head -c 300 "$ERR")"
else
	bad=
	for v in CURL_CA_BUNDLE SSL_CERT_FILE REQUESTS_CA_BUNDLE GIT_SSL_CAINFO; do
		[ "$(var $v "$E")" = "$dir/bundle.pem" ] || bad="$bad $v='$(var $v "$E")'"
	done
	[ "$(var NODE_EXTRA_CA_CERTS "$E")" = "$dir/ca.pem" ] || bad="$bad NODE_EXTRA_CA_CERTS='$(var NODE_EXTRA_CA_CERTS "$E")'"
	[ "$(var WGETRC "$E")" = "$dir/wgetrc" ] || bad="$bad WGETRC='$(var WGETRC "$E")'"
	case $dir in "$RUNTMP"/athttp.*) ;; *) bad="$bad ATHTTP_CA_DIR='$dir' (not in TMPDIR)" ;; esac
	if [ -n "$bad" ]; then
		fail "variables:$bad"
	else
		pass "bundle, CA, wgetrc in $dir"
	fi
fi

CASE=trust/run/ssl-cert-dir-unset
if grep -qx 'SSL_CERT_DIR unset' "$E"; then
	pass
else
	fail "the program sees $(grep SSL_CERT_DIR "$E")"
fi

CASE=trust/run/bundle
if [ "$(ncerts "$E.ca")" != 1 ]; then
	fail "$dir/ca.pem holds $(ncerts "$E.ca") certificates"
elif [ "$(certs "$E.bundle")" != "$(certs "$SYSROOTS" "$E.ca")" ]; then
	fail "bundle: $(ncerts "$E.bundle") certificates; expected the $(ncerts "$SYSROOTS") system roots then exactly the CA of \$ATHTTP_CA_DIR"
elif [ "$(certs "$E.ca")" = "$(certs "$CA/ca.pem")" ]; then
	fail "the run used the persistent CA of $CA, not a fresh one"
else
	pass "$(ncerts "$SYSROOTS") system roots + the run's CA"
fi

CASE=trust/run/node-ca
if [ "$(certs "$E.node")" = "$(certs "$E.ca")" ]; then
	pass "NODE_EXTRA_CA_CERTS holds the CA alone"
else
	fail "NODE_EXTRA_CA_CERTS holds $(ncerts "$E.node") certificates, not the CA alone"
fi

CASE=trust/run/wgetrc
if ! grep -qx 'tries = 3' "$E.wgetrc" || ! grep -qx 'user_agent = trust-test' "$E.wgetrc"; then
	fail "the user's lines are not kept: $(tr '\n' '|' <"$E.wgetrc" | head -c 300)"
elif [ "$(tail -n 1 "$E.wgetrc")" != "ca_certificate = $dir/bundle.pem" ]; then
	fail "last line: '$(tail -n 1 "$E.wgetrc")', expected 'ca_certificate = $dir/bundle.pem'"
else
	pass "user's lines + ca_certificate"
fi

CASE=trust/run/dir-removed
if [ -n "$dir" ] && [ ! -e "$dir" ] && [ -z "$(leftovers)" ]; then
	pass
else
	fail "after the run: $dir $([ -e "$dir" ] && echo exists || echo gone), TMPDIR holds: $(leftovers)"
fi

# Without WGETRC, ~/.wgetrc is the user's file; the caller's SSL_CERT_FILE
# is the user's roots.
printf 'timeout = 9\n' >"$TMP/home/.wgetrc"
head -n "$(grep -n -m 2 'END CERTIFICATE' "$SYSROOTS" | tail -n 1 | cut -d: -f1)" "$SYSROOTS" >"$TMP/two-roots.pem"
ath_raw trust/run/user-roots "${CLEAN_ENV[@]}" SSL_CERT_FILE="$TMP/two-roots.pem" \
	"$ATHTTP" -d /dev/null -- sh -c "$SHOW_ENV" sh "$E"
if [ "$RC" != 0 ]; then
	fail "exit $RC: $(head -c 300 "$ERR")"
elif [ "$(certs "$E.bundle")" != "$(certs "$TMP/two-roots.pem" "$E.ca")" ]; then
	fail "bundle: $(ncerts "$E.bundle") certificates; expected the 2 of \$SSL_CERT_FILE then the CA"
elif ! grep -qx 'timeout = 9' "$E.wgetrc"; then
	fail "~/.wgetrc's line is not kept: $(tr '\n' '|' <"$E.wgetrc" | head -c 300)"
else
	pass "\$SSL_CERT_FILE's 2 roots + the CA; ~/.wgetrc kept"
fi
rm -f "$TMP/home/.wgetrc"

# A persistent CA: used as it is, and kept.
ath_raw trust/run/persistent-ca "${CLEAN_ENV[@]}" ATHTTP_CA_DIR=../ca \
	"$ATHTTP" -d /dev/null -- sh -c "$SHOW_ENV" sh "$E"
bundle=$(var CURL_CA_BUNDLE "$E")
if [ "$RC" != 0 ]; then
	fail "exit $RC: $(head -c 300 "$ERR")"
elif [ "$(var ATHTTP_CA_DIR "$E")" != "$CA" ]; then
	fail "ATHTTP_CA_DIR='$(var ATHTTP_CA_DIR "$E")', expected $CA (absolute)"
elif [ "$(certs "$E.bundle")" != "$(certs "$SYSROOTS" "$CA/ca.pem")" ]; then
	fail "bundle: $(ncerts "$E.bundle") certificates; expected the system roots then the CA of $CA"
elif [ "$(var NODE_EXTRA_CA_CERTS "$E")" != "$CA/ca.pem" ]; then
	fail "NODE_EXTRA_CA_CERTS='$(var NODE_EXTRA_CA_CERTS "$E")'"
elif [ "$(sha "$CA/ca.pem")" != "$CA_SHA" ] || [ ! -f "$CA/ca.key" ]; then
	fail "$CA changed: ca.pem sha $(sha "$CA/ca.pem" | cut -c1-12), ca.key $(ls "$CA/ca.key" 2>&1)"
elif [ -e "$bundle" ] || [ -n "$(leftovers)" ]; then
	fail "the run's files are left: $bundle, TMPDIR holds: $(leftovers)"
else
	pass "that CA used, $CA kept, the run's bundle removed"
fi

# athttp inside athttp: the inner run's roots already hold the CA; it is
# not added twice.
ath_raw trust/run/nested "${CLEAN_ENV[@]}" "$ATHTTP" -d /dev/null -- \
	"$ATHTTP" -d /dev/null -- sh -c "$SHOW_ENV" sh "$E"
if [ "$RC" = 0 ] && [ "$(certs "$E.bundle")" = "$(certs "$SYSROOTS" "$E.ca")" ] && [ -z "$(leftovers)" ]; then
	pass "one CA in the inner bundle"
else
	fail "exit $RC, inner bundle $(ncerts "$E.bundle") certificates (system $(ncerts "$SYSROOTS")), left: $(leftovers)"
fi

# ------------------------------------------------------------ status and signals
ath_raw trust/status/exit-7 "${CLEAN_ENV[@]}" "$ATHTTP" -d /dev/null -- sh -c 'exit 7'
if [ "$RC" = 7 ] && [ -z "$(leftovers)" ]; then pass; else fail "exit $RC, left: $(leftovers)"; fi

ath_raw trust/status/not-found "${CLEAN_ENV[@]}" "$ATHTTP" -d /dev/null -- ./no-such-command
if [ "$RC" = 127 ] && grep -q 'athttp: ./no-such-command: No such file' "$ERR" && [ -z "$(leftovers)" ]; then
	pass "127 and the reason"
else
	fail "exit $RC (expected 127), left: $(leftovers): $(head -c 300 "$ERR")"
fi

: >"$TMP/not-executable"
chmod 0644 "$TMP/not-executable"
ath_raw trust/status/not-executable "${CLEAN_ENV[@]}" "$ATHTTP" -d /dev/null -- "$TMP/not-executable"
if [ "$RC" = 126 ] && grep -q 'Permission denied' "$ERR"; then
	pass "126 and the reason"
else
	fail "exit $RC (expected 126): $(head -c 300 "$ERR")"
fi

# Killed by SIGTERM: the wrapper dies of SIGTERM too (python sees -15, not
# an exit code 143; bash's $? is 143).
CASE=trust/status/child-killed
LAST_CMD="athttp -d /dev/null -- sh -c 'kill -TERM \$\$'"
RC=$("${CLEAN_ENV[@]}" "$PY" -c '
import subprocess, sys
print(subprocess.run(sys.argv[1:], timeout=30).returncode)' \
	"$ATHTTP" -d /dev/null -- sh -c 'kill -TERM $$' 2>"$TMP/out/child-killed.err")
bash_rc=$("${CLEAN_ENV[@]}" "$ATHTTP" -d /dev/null -- sh -c 'kill -TERM $$'; echo $?) 2>/dev/null
if [ "$RC" = -15 ] && [ "$bash_rc" = 143 ] && [ -z "$(leftovers)" ]; then
	pass "killed by SIGTERM (\$? 143)"
else
	fail "wrapper's status: python $RC (expected -15), bash $bash_rc (expected 143), left: $(leftovers)"
fi

# forwarded SIG: a signal sent to the wrapper reaches the child (which
# traps it and exits 5), and the run's directory is removed.
forwarded() {
	local sig=$1 pid i
	CASE=trust/signal/$sig
	rm -f "$TMP/ready" "$TMP/got"
	LAST_CMD="athttp -d /dev/null -- sh -c 'trap ... $sig; ...' & kill -$sig \$!"
	# A background job of this script ignores SIGINT and SIGQUIT (and
	# so would the wrapper): default them again first.
	"${CLEAN_ENV[@]}" "$PY" -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT): signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$ATHTTP" -d /dev/null -- sh -c '
		trap "echo \$ATHTTP_CA_DIR >\"$2\"; exit 5" '"$sig"'
		echo $$ >"$1.tmp" && mv "$1.tmp" "$1"
		while :; do sleep 1 & wait $!; done' sh "$TMP/ready" "$TMP/got" \
		>/dev/null 2>"$TMP/out/signal-$sig.err" </dev/null &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[ -e "$TMP/ready" ] && break
		sleep 0.05
	done
	if [ ! -e "$TMP/ready" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		fail "the program did not start within 10 s"
		return
	fi
	kill -"$sig" "$pid"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$(cat "$TMP/ready")" "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fail "SIG$sig sent to the wrapper: neither it nor the program ended within 10 s"
		return
	fi
	wait "$pid"
	RC=$?
	if [ "$RC" = 5 ] && [ -s "$TMP/got" ] && [ ! -e "$(cat "$TMP/got")" ] && [ -z "$(leftovers)" ]; then
		pass "the child got it, exit 5 passed on, $(cat "$TMP/got") removed"
	else
		fail "exit $RC (expected 5), child got it: $([ -s "$TMP/got" ] && echo yes || echo no), left: $(leftovers)"
	fi
}
for s in TERM HUP INT QUIT USR1 USR2; do forwarded "$s"; done

# ------------------------------------------------------------ upstream options
ath_raw trust/options/module-ca-missing "${CLEAN_ENV[@]}" "$ATHTTP" -d /dev/null \
	--module-ca /nonexistent -- true
if [ "$RC" = 2 ] && grep -q '/nonexistent' "$ERR" && grep -q '^usage: athttp' "$ERR"; then
	pass
else
	fail "exit $RC (expected 2 naming the file, then the usage): $(head -c 300 "$ERR")"
fi

ath_raw trust/options/module-ca-env-missing "${CLEAN_ENV[@]}" ATHTTP_MODULE_CA=/nonexistent \
	"$ATHTTP" -d /dev/null -- true
if [ "$RC" = 2 ] && grep -q '/nonexistent' "$ERR"; then pass; else fail "exit $RC (expected 2)"; fi

cp "$CA/ca.pem" "$TMP/module-roots.pem"
ath_raw trust/options/module-ca "${CLEAN_ENV[@]}" "$ATHTTP" -d /dev/null \
	--module-ca ../module-roots.pem --insecure-upstream -- sh -c "$SHOW_ENV" sh "$E"
if [ "$RC" = 0 ] && [ "$(var ATHTTP_MODULE_CA "$E")" = "$TMP/module-roots.pem" ] &&
	[ "$(var ATHTTP_INSECURE_UPSTREAM "$E")" = 1 ]; then
	pass "ATHTTP_MODULE_CA absolute, ATHTTP_INSECURE_UPSTREAM=1"
else
	fail "exit $RC, ATHTTP_MODULE_CA='$(var ATHTTP_MODULE_CA "$E")' (expected $TMP/module-roots.pem), ATHTTP_INSECURE_UPSTREAM='$(var ATHTTP_INSECURE_UPSTREAM "$E")'"
fi

ath_raw trust/options/none "${CLEAN_ENV[@]}" "$ATHTTP" -d /dev/null -- sh -c "$SHOW_ENV" sh "$E"
if [ "$RC" = 0 ] && grep -qx 'ATHTTP_MODULE_CA unset' "$E" && grep -qx 'ATHTTP_INSECURE_UPSTREAM unset' "$E"; then
	pass "neither set without the options"
else
	fail "exit $RC: $(grep ATHTTP_ "$E" | tr '\n' ' ')"
fi

ath_raw trust/options/help "${CLEAN_ENV[@]}" "$ATHTTP" --help
if [ "$RC" = 0 ] && grep -q -- '--module-ca FILE' "$OUT" && grep -q -- '--insecure-upstream' "$OUT" &&
	grep -q 'athttp ca \[--bundle\] \[--dir DIR\]' "$OUT" && grep -qF '~/.local/share/athttp/ca' "$OUT"; then
	pass
else
	fail "exit $RC; the help lacks --module-ca, --insecure-upstream, athttp ca or its default dir"
fi

chk_sanitizer_reports
e2e_done
