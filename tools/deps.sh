#!/bin/sh
# Installs the Debian 12 packages athttp builds and tests with, or, when not
# root, prints the exact apt-get line.  Quiet when everything is present.
PKGS="build-essential pkg-config libserialport-dev libhttp-parser-dev libmbedtls-dev libcmocka-dev curl wget busybox python3 python3-requests git openssl mandoc clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "athttp needs these packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq $missing >/dev/null
