#!/bin/bash
# Concurrency inside one program and across programs, on one emulated module:
# curl -Z with 8 transfers, 8 Python threads, a fork after the first
# request, a program closing fds behind the library's back (close_range,
# closefrom, os.closerange, a subprocess with close_fds), a program that
# defines close() and fcntl() itself, 16 programs at once, and 300 requests
# in a row through torn (--chaos) output with the fd count flat.  Every body
# is checked byte-exact; every client runs under `timeout`.
. "$(dirname "$0")/lib.sh"
E2E_NAME=concurrency
e2e_init
e2e_need_binaries || exit 1

gen_files
for i in 1 2 3 4 5 6 7 8; do
	head -c $((64 * 1024)) /dev/urandom >"$WWW/c$i.bin"
done
head -c 1024 /dev/urandom >"$WWW/k1.bin"
start_origin || exit 1
start_emu || exit 1

# through CMD...: CMD under the wrapper, no record/replay (a forked child
# and 16 programs open the port more than once: one transcript cannot hold
# them).
through() {
	ath_raw "$CASE" "$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- "$@"
}

# same_files DIR-OF-GOT N: got/c$i.bin equal to www/c$i.bin for i in 1..N.
same_files() {
	local i
	for ((i = 1; i <= $2; i++)); do
		if ! cmp -s "$WWW/c$i.bin" "$1/c$i.bin"; then
			echo "c$i.bin differs from the origin's"
			return 1
		fi
	done
}

# body_sha_of_response FILE: sha256 of what follows the head of the raw
# HTTP response in FILE (the programs below write the whole answer).
body_sha_of_response() {
	"$PY" -c 'import sys, hashlib
d = open(sys.argv[1], "rb").read()
print(hashlib.sha256(d[d.index(b"\r\n\r\n") + 4:]).hexdigest())' "$1" 2>/dev/null
}

cat >"$TMP/get.py" <<'EOF'
# get.py URL OUT: one GET; the body to OUT, "STATUS n" on stdout.
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=50)
except urllib.error.HTTPError as e:
    r = e
body = r.read()
open(sys.argv[2], "wb").write(body)
print("STATUS", r.status if getattr(r, "status", None) else r.code)
EOF

# ------------------------------------------------------------ curl -Z
CASE=conc/curl-parallel
if [ "$E2E_SAN" != address ]; then
	mkdir -p "$TMP/got.curl"
	args=()
	for i in 1 2 3 4 5 6 7 8; do args+=(-o "$TMP/got.curl/c$i.bin" "$U/c$i.bin"); done
	through curl -sS -f -Z --parallel-max 8 "${args[@]}"
	if [ "$RC" != 0 ]; then fail "curl exit status $RC"
	elif why=$(same_files "$TMP/got.curl" 8); then pass "8 transfers, byte-exact"
	else fail "$why"; fi
fi
# (Under ASan curl hangs with the runtime preloaded: the Python cases below
# cover threads there.)

# ------------------------------------------------------------ threads
CASE=conc/python-threads
mkdir -p "$TMP/got.thr"
through "$PY" -c '
import sys, threading, urllib.request
base, out = sys.argv[1], sys.argv[2]
errs = []
def get(i):
    try:
        with urllib.request.urlopen("%s/c%d.bin" % (base, i), timeout=50) as r:
            open("%s/c%d.bin" % (out, i), "wb").write(r.read())
    except Exception as e:
        errs.append("c%d: %r" % (i, e))
ts = [threading.Thread(target=get, args=(i,)) for i in range(1, 9)]
[t.start() for t in ts]
[t.join(55) for t in ts]
alive = [t for t in ts if t.is_alive()]
print("errors", errs, "alive", len(alive))
sys.exit(1 if errs or alive else 0)
' "$U" "$TMP/got.thr"
if [ "$RC" != 0 ]; then fail "exit status $RC: $(head -c 300 "$OUT")"
elif why=$(same_files "$TMP/got.thr" 8); then pass "8 threads, byte-exact"
else fail "$why"; fi

# ------------------------------------------------------------ fork
CASE=conc/fork-after-request
mkdir -p "$TMP/got.fork"
through "$PY" -c '
import os, sys, time, urllib.request
base, out = sys.argv[1], sys.argv[2]
def get(i):
    with urllib.request.urlopen("%s/c%d.bin" % (base, i), timeout=40) as r:
        open("%s/c%d.bin" % (out, i), "wb").write(r.read())
get(1)
pid = os.fork()
if pid == 0:
    try:
        get(2)
        os._exit(0)
    except BaseException as e:
        sys.stderr.write("child: %r\n" % e)
        os._exit(1)
get(3)
deadline = time.monotonic() + 50
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if time.monotonic() > deadline:
        sys.exit("the child did not end")
    time.sleep(0.05)
sys.exit(0 if os.waitstatus_to_exitcode(status) == 0 else 1)
' "$U" "$TMP/got.fork"
if [ "$RC" != 0 ]; then fail "exit status $RC"
elif why=$(same_files "$TMP/got.fork" 3); then pass "parent before and after, child after: byte-exact"
else fail "$why"; fi

# ------------------------------------------------------------ closing fds behind our back
# Each way of closing "everything above 2" is applied while a keep-alive
# connection is open and the engine holds the serial port: the program's
# fds go (its socket number is free afterwards), the engine's port and
# trace file stay open on the same numbers, and the next request works
# byte-exact.  With
# CLOSE_RANGE_CLOEXEC the program's socket stays open and still ours
# (getpeername answers the address it connected to).
CASE=conc/close-range
mkdir -p "$TMP/got.close"
cat >"$TMP/closer.py" <<'EOF'
import ctypes, errno, http.client, os, socket, subprocess, sys
pty, out = os.path.realpath(sys.argv[1]), sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)   # the global scope: our hooks
libc.close_range.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_int]
libc.closefrom.argtypes = [ctypes.c_int]
libc.closefrom.restype = None
CLOSE_RANGE_UNSHARE, CLOSE_RANGE_CLOEXEC = 2, 4

# The engine's own: the serial port and the trace file athttp was told of.
engine_paths = {pty}
if os.environ.get("ATHTTP_TRACE"):
    engine_paths.add(os.path.realpath(os.environ["ATHTTP_TRACE"]))

def port_fds():
    fds = []
    for f in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + f) in engine_paths:
                fds.append(int(f))
        except OSError:
            pass
    return sorted(fds)

def fetch(conn, name):
    conn.request("GET", "/" + name)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("%s: status %d" % (name, r.status))
    return body

def check(name, body):
    want = open(sys.argv[3] + "/" + name, "rb").read()
    if body != want:
        sys.exit("%s: body differs (%d bytes, want %d)" % (name, len(body), len(want)))

n = 0
def step(how, close):
    global n
    n += 1
    name = "c%d.bin" % n
    conn = http.client.HTTPConnection("origin.test", 80, timeout=40)
    check(name, fetch(conn, name))
    before = port_fds()
    if len(before) != len(engine_paths):
        sys.exit("%s: fds %s for %s" % (how, before, engine_paths))
    fd = conn.sock.detach()          # the fd is closed behind Python's back
    close()
    after = port_fds()
    if after != before:
        sys.exit("%s: the engine's port fds went from %s to %s" % (how, before, after))
    try:
        os.fstat(fd)
        sys.exit("%s: the program's socket %d is still open" % (how, fd))
    except OSError as e:
        if e.errno != errno.EBADF:
            raise
    n += 1
    name = "c%d.bin" % n
    conn = http.client.HTTPConnection("origin.test", 80, timeout=40)
    check(name, fetch(conn, name))
    conn.close()
    print("ok", how, "port fds", after)

def cr(first, last, flags):
    def f():
        if libc.close_range(first, last, flags) != 0:
            sys.exit("close_range: %s" % os.strerror(ctypes.get_errno()))
    return f

step("close_range(3, ~0U, 0)", cr(3, 0xFFFFFFFF, 0))
step("closefrom(3)", lambda: libc.closefrom(3))
step("os.closerange(3, 65536)", lambda: os.closerange(3, 65536))
step("close_range(3, ~0U, CLOSE_RANGE_UNSHARE)", cr(3, 0xFFFFFFFF, CLOSE_RANGE_UNSHARE))

# CLOSE_RANGE_CLOEXEC: nothing is closed, the socket stays ours.
conn = http.client.HTTPConnection("origin.test", 80, timeout=40)
check("c1.bin", fetch(conn, "c1.bin"))
peer = conn.sock.getpeername()
cr(3, 0xFFFFFFFF, CLOSE_RANGE_CLOEXEC)()
if conn.sock.getpeername() != peer:
    sys.exit("CLOSE_RANGE_CLOEXEC: getpeername %r, was %r" % (conn.sock.getpeername(), peer))
check("c2.bin", fetch(conn, "c2.bin"))

# A subprocess with close_fds closes everything in its child (a vfork
# child shares our memory): our socket must stay ours here.
subprocess.run(["true"], close_fds=True, check=True, timeout=20)
if conn.sock.getpeername() != peer:
    sys.exit("subprocess close_fds: getpeername %r, was %r" % (conn.sock.getpeername(), peer))
check("c3.bin", fetch(conn, "c3.bin"))
conn.close()
print("ok cloexec and subprocess, peer", peer)
EOF
through "$PY" "$TMP/closer.py" "$TMP/tty" "$TMP/got.close" "$WWW"
if [ "$RC" = 0 ] && [ "$(grep -c '^ok ' "$OUT")" = 5 ]; then
	pass "close_range, closefrom, os.closerange, UNSHARE, CLOEXEC, subprocess: port kept, next request byte-exact"
else
	fail "exit status $RC: $(tail -n 3 "$OUT" "$ERR" | tr '\n' ' ' | head -c 400)"
fi

# ------------------------------------------------------------ a program that defines close() and fcntl()
# The engine's own calls must not reach them: the program counts every call
# on a descriptor it never opened.
CASE=conc/interposed-close
cat >"$TMP/interpose.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int mine = -1;
static int strangers;

int close(int fd)
{
	static int (*next)(int);
	if (!next)
		next = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (fd != mine && fd > 2)
		strangers++;
	return next(fd);
}

int fcntl(int fd, int cmd, ...)
{
	static int (*next)(int, int, ...);
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (!next)
		next = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl");
	if (fd != mine && fd > 2)
		strangers++;
	return next(fd, cmd, arg);
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	if (argc != 3 || getaddrinfo("origin.test", "80", &hints, &ai) != 0)
		return 2;
	for (int round = 0; round < 2; round++) {
		mine = socket(AF_INET, SOCK_STREAM, 0);
		if (mine < 0 || connect(mine, ai->ai_addr, ai->ai_addrlen) != 0)
			return 3;
		char rq[256];
		int n = snprintf(rq, sizeof rq, "GET /%s HTTP/1.1\r\nHost: origin.test\r\n"
			       "Connection: close\r\n\r\n", argv[1]);
		if (write(mine, rq, (size_t)n) != n)
			return 4;
		FILE *out = fopen(argv[2], "wb");
		char buf[65536];
		ssize_t got;
		while ((got = read(mine, buf, sizeof buf)) > 0)
			fwrite(buf, 1, (size_t)got, out);
		fclose(out);
		close(mine);
		mine = -1;
	}
	printf("strangers %d\n", strangers);
	return strangers ? 1 : 0;
}
EOF
if ! ${CC:-cc} -O1 -o "$TMP/interpose" "$TMP/interpose.c" -ldl 2>"$TMP/interpose.cc.err"; then
	fail "cannot compile the test program: $(head -c 300 "$TMP/interpose.cc.err")"
else
	through "$TMP/interpose" k1.bin "$TMP/got.interpose"
	if [ "$RC" != 0 ]; then fail "exit status $RC: $(cat "$OUT")"
	elif [ "$(body_sha_of_response "$TMP/got.interpose")" != "$(sha "$WWW/k1.bin")" ]; then fail "the body differs"
	else pass "the engine made no call to the program's close() or fcntl()"; fi
fi

# A vfork child shares our memory, not our fds' fate: its close() of a fake
# socket must leave the parent's record alone (getpeername still answers
# the address connected to, and the socket still works).
CASE=conc/vfork-close
cat >"$TMP/vfork.c" <<'EOF'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	if (argc != 3 || getaddrinfo("origin.test", "80", &hints, &ai) != 0)
		return 2;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		return 3;
	pid_t pid = vfork();
	if (pid == 0) {
		close(fd);
		_exit(0);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 4;
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0 || peer.sin_family != AF_INET ||
	    ntohs(peer.sin_port) != 80) {
		printf("getpeername after the vfork child's close: not the address connected to\n");
		return 1;
	}
	char rq[256];
	int n = snprintf(rq, sizeof rq, "GET /%s HTTP/1.1\r\nHost: origin.test\r\n"
		       "Connection: close\r\n\r\n", argv[1]);
	if (write(fd, rq, (size_t)n) != n)
		return 5;
	FILE *out = fopen(argv[2], "wb");
	char buf[65536];
	ssize_t got;
	while ((got = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)got, out);
	fclose(out);
	return 0;
}
EOF
if ! ${CC:-cc} -O1 -o "$TMP/vfork" "$TMP/vfork.c" 2>"$TMP/vfork.cc.err"; then
	fail "cannot compile the test program: $(head -c 300 "$TMP/vfork.cc.err")"
else
	through "$TMP/vfork" k1.bin "$TMP/got.vfork"
	if [ "$RC" != 0 ]; then fail "exit status $RC: $(cat "$OUT")"
	elif [ "$(body_sha_of_response "$TMP/got.vfork")" != "$(sha "$WWW/k1.bin")" ]; then fail "the body differs"
	else pass "the parent's socket kept its record and answered byte-exact"; fi
fi

# The preload library binds none of its calls to its own exported names
# (through the PLT, a program's definition would win).
CASE=conc/no-self-binding
self=$(comm -12 <(nm -D --defined-only "$PRELOAD_SO" | awk '{ print $3 }' | sort -u) \
	<(readelf -rW "$PRELOAD_SO" | awk '/JUMP_SLOT|GLOB_DAT/ { sub(/@.*/, "", $5); print $5 }' | sort -u))
if [ -z "$self" ]; then pass
else fail "relocations to our own exports: $(echo $self)"; fi

# Two copies of the library: refused with a message, never a loop.
CASE=conc/second-copy
mkdir -p "$TMP/copy"
cp "$PRELOAD_SO" "$TMP/copy/"
LAST_CMD="LD_PRELOAD=two copies $PY -c pass"
# (in a subshell: the abort is expected, bash need not announce it)
(env "${E2E_SAN_ENV[@]}" LD_PRELOAD="${E2E_SAN_ENV:+${E2E_SAN_ENV[0]#LD_PRELOAD=} }$PRELOAD_SO $TMP/copy/$(basename "$PRELOAD_SO")" \
	timeout -k 5 20 "$PY" -c pass >"$TMP/out/second.out" 2>"$TMP/out/second.err"
	echo $? >"$TMP/out/second.rc") 2>/dev/null
RC=$(cat "$TMP/out/second.rc")
if [ "$RC" != 0 ] && grep -q "another copy of athttp's preload library" "$TMP/out/second.err"; then pass
else ERR=$TMP/out/second.err fail "exit status $RC, no message naming the second copy"; fi

# ------------------------------------------------------------ 16 programs
# Separate processes on one module, taking turns by the port's lock: every
# one gets its body byte-exact or a clean 503, none hangs.
CASE=conc/16-programs
mkdir -p "$TMP/got.16"
t0=$(date +%s.%N)
pids=()
for i in $(seq 1 16); do
	f=c$(((i - 1) % 8 + 1)).bin
	(cd "$TMP/cwd" && exec env "${E2E_SAN_ENV[@]}" timeout -k 5 "$CLIENT_TIMEOUT" \
		"$ATHTTP" -d "$TMP/tty" -m "$MODEM" -- "$PY" "$TMP/get.py" "$U/$f" "$TMP/got.16/$i.bin") \
		>"$TMP/got.16/$i.out" 2>"$TMP/got.16/$i.err" </dev/null &
	pids+=($!)
done
ok=0 unavail=0 bad=
for i in $(seq 1 16); do
	wait "${pids[$((i - 1))]}"
	rc=$?
	f=c$(((i - 1) % 8 + 1)).bin
	st=$(sed -n 's/^STATUS //p' "$TMP/got.16/$i.out")
	if [ "$rc" = 0 ] && [ "$st" = 200 ] && cmp -s "$WWW/$f" "$TMP/got.16/$i.bin"; then
		ok=$((ok + 1))
	elif [ "$rc" = 0 ] && [ "$st" = 503 ]; then
		unavail=$((unavail + 1))
	else
		bad="$bad #$i(rc $rc, status ${st:-none})"
	fi
done
t1=$(date +%s.%N)
total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
if [ -z "$bad" ] && [ "$ok" -gt 0 ]; then
	pass "$ok byte-exact, $unavail 503, total ${total}s"
else
	ERR=$TMP/got.16/1.err fail "$bad ($ok ok, $unavail 503, ${total}s)"
fi

# ------------------------------------------------------------ a short soak
# 300 requests in a row, each its own connection, through torn output: the
# process's fd count after the last equals the count after the 50th, and
# its RSS grew by less than 8 MiB (under a sanitizer only reported: ASan's
# quarantine keeps what was freed).
CASE=conc/soak-300-fds-flat
rss_limit=8192
[ -z "$E2E_SAN" ] || rss_limit=0
start_emu --chaos 7 || exit 1
through "$PY" "$E2E_ROOT/bench/soak_client.py" --url "$U/k1.bin" --expect "$WWW/k1.bin" \
	-n 300 --every 50 --rss-growth-kib "$rss_limit"
if [ "$RC" = 0 ]; then
	pass "$(sed -n 's/^RESULT //p' "$OUT")"
else
	fail "exit status $RC: $(tail -n 4 "$OUT" | tr '\n' ' ')"
fi

chk_sanitizer_reports
e2e_done
