#!/bin/bash
# tests/e2e/pki.sh DIR — the end-to-end tests' PKI, made fresh with the
# openssl CLI at test time (no key is ever committed).  In DIR:
#   root.pem                 the test root CA (EC P-256): the roots the
#                            module is given (--module-ca)
#   origin.pem  origin.key   origin.test, valid, SAN DNS:origin.test (EC P-256)
#   wrongname.pem/.key       a valid certificate for other.test, served for
#                            wrongname.test: the name does not match (RSA 2048)
#   expired.pem/.key         expired.test, its validity wholly in the past
#                            (EC P-256)
#   untrusted.pem/.key       untrusted.test, valid but signed by a second
#                            root (untrusted-root.pem) the module never gets
# Every leaf: basicConstraints CA:FALSE, EKU serverAuth, SKI and AKI.
# Exit status 0 when all were made; openssl's complaint on stderr if not.
set -euo pipefail

dir=${1:?usage: pki.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cnf=$dir/openssl.cnf

# `openssl ca` rather than `x509 -req`: only it takes -startdate/-enddate,
# which the expired certificate needs.
cat >"$cnf" <<'EOF'
[ ca ]
default_ca = test_ca

[ test_ca ]
dir = $ENV::PKI_CA_DIR
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no

[ any_name ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = unused

[ root_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $ENV::PKI_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
stamp() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# root NAME CN: NAME.pem, NAME.key and its CA database.
root() {
	local name=$1 cn=$2 ca=$dir/ca-$1
	mkdir -p "$ca/new"
	: >"$ca/index.txt"
	openssl rand -hex 16 >"$ca/serial"
	ec_key "$dir/$name.key"
	PKI_CA_DIR=$ca PKI_SAN=DNS:unused openssl req -config "$cnf" -new -x509 \
		-key "$dir/$name.key" -subj "/CN=$cn" -days 30 -extensions root_ext \
		-out "$dir/$name.pem"
}

# leaf ROOT NAME CN KEYTYPE START END: NAME.pem and NAME.key for CN (also
# its SAN), signed by ROOT, valid from START to END (date -d phrases).
leaf() {
	local root=$1 name=$2 cn=$3 keytype=$4 start=$5 end=$6
	"${keytype}_key" "$dir/$name.key"
	PKI_CA_DIR=$dir/ca-$root PKI_SAN=DNS:$cn openssl req -config "$cnf" -new \
		-key "$dir/$name.key" -subj "/CN=$cn" -out "$dir/$name.csr"
	PKI_CA_DIR=$dir/ca-$root PKI_SAN=DNS:$cn openssl ca -config "$cnf" -batch \
		-notext -cert "$dir/$root.pem" -keyfile "$dir/$root.key" \
		-startdate "$(stamp "$start")" -enddate "$(stamp "$end")" \
		-extensions leaf_ext -in "$dir/$name.csr" -out "$dir/$name.pem" 2>"$dir/$name.ca.log" ||
		{ cat "$dir/$name.ca.log" >&2; return 1; }
	rm -f "$dir/$name.csr" "$dir/$name.ca.log"
}

root root "athttp e2e test root"
root untrusted-root "athttp e2e untrusted root"
leaf root origin origin.test ec "1 day ago" "20 days"
leaf root wrongname other.test rsa "1 day ago" "20 days"
leaf root expired expired.test ec "20 days ago" "10 days ago"
leaf untrusted-root untrusted untrusted.test ec "1 day ago" "20 days"
chmod 600 "$dir"/*.key
