#!/usr/bin/env python3
"""Drives athttp-emu by hand over its pty against a local HTTP origin.

usage: emu/selftest.py [PATH-TO-athttp-emu]   (default: build/bin/athttp-emu)
       --quick skips the slow pacing measurement.
       --net runs only the network checks (SIM, registration, context,
       WiFi, --fault, --cmd-latency).

Exits nonzero on any failure.  Standard library only.
"""

import hashlib
import http.server
import os
import re
import select
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
BIG = os.urandom(5 * 1024 * 1024)
CHUNKS = [os.urandom(n) for n in (1, 7, 1000, 4096, 16384, 333, 65536, 12345)]
CHUNKED = b"".join(CHUNKS)

failures = 0


def check(cond, what):
    global failures
    if cond:
        print("ok   " + what)
    else:
        failures += 1
        print("FAIL " + what)
    sys.stdout.flush()


# ---------------------------------------------------------------- origins

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, body, ctype="application/octet-stream", head=False):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def answer(self, head=False):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/big":
            self.send_body(BIG, head=head)
        elif self.path.startswith("/request"):
            # The request exactly as received: request line, headers, body.
            raw = (self.requestline + "\r\n" + "".join(
                "%s: %s\r\n" % kv for kv in self.headers.items()) +
                "\r\n").encode("latin-1") + body
            self.send_body(raw, "text/plain", head)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for c in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/slow":
            time.sleep(3)
            self.send_body(b"late")
        elif self.path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only this")
            self.close_connection = True
        elif self.path == "/404":
            self.send_response(404)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"not found")
        else:
            self.send_error(500)

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer()

    def do_DELETE(self):
        self.answer()

    def do_HEAD(self):
        self.answer(head=True)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # clients that hang up on purpose (timeouts, --max-body)


def garbage_server():
    """Answers anything with bytes that are not HTTP."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)

    def run():
        while True:
            c, _ = s.accept()
            c.recv(65536)
            c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            c.close()
    threading.Thread(target=run, daemon=True).start()
    return s.getsockname()[1]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- the emulator

class Emu:
    def __init__(self, binary, tmp, name, *extra, modem="simcom"):
        self.link = os.path.join(tmp, name)
        self.log = os.path.join(tmp, name + ".log")
        # An ASan build keeps freed memory in quarantine (256 MB by default),
        # which a memory-bound check would read as a leak: keep it small.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(
            o for o in (env.get("ASAN_OPTIONS"), "quarantine_size_mb=1") if o)
        self.proc = subprocess.Popen(
            [binary, "-m", modem, "--link", self.link, "--log", self.log]
            + list(extra), stdout=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY /dev/pts/"):
            raise RuntimeError("no READY line: %r" % line)
        self.pty = line.split()[1]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


class Port:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.buf = b""

    def close(self):
        os.close(self.fd)

    def send(self, data):
        while data:
            n = os.write(self.fd, data)
            data = data[n:]

    def fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.fd], [], [], left)[0]:
            raise TimeoutError("timeout; have %r" % self.buf[:200])
        self.buf += os.read(self.fd, 1 << 20)

    def take(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            self.fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def until(self, marker, timeout=10):
        deadline = time.monotonic() + timeout
        while marker not in self.buf:
            self.fill(deadline)
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def quiet(self, secs=0.3):
        """Nothing more arrives for a while."""
        try:
            self.fill(time.monotonic() + secs)
        except TimeoutError:
            pass
        got, self.buf = self.buf, b""
        return got

    def cmd(self, line, timeout=10):
        """Sends a command line (echo off) and returns everything up to
        and including its final result."""
        self.send(line.encode("latin-1") + b"\r")
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(rb"\r\n(OK|ERROR)\r\n", self.buf)
            if m:
                break
            self.fill(deadline)
        out, self.buf = self.buf[:m.end()], self.buf[m.end():]
        return out

    def urc(self, timeout=30):
        line = self.until(b"\r\n", timeout)
        if line == b"\r\n":
            line = self.until(b"\r\n", timeout)
        return line[:-2].decode("latin-1")

    def read_body(self, cmd, v="sim7600"):
        """Runs an AT+HTTPREAD=... and returns the bytes it delivered."""
        data_re = rb"\r\n\+HTTPREAD: DATA,(\d+)\r\n" if v == "sim7600" \
            else rb"\r\n\+HTTPREAD: (\d+)\r\n"
        end = b"\r\n+HTTPREAD:0\r\n" if v == "sim7600" \
            else b"\r\n+HTTPREAD: 0\r\n"
        self.send(cmd.encode() + b"\r")
        first = self.take(6)
        if first != b"\r\nOK\r\n":
            raise AssertionError("HTTPREAD answered %r" % first)
        body, pieces = b"", []
        while True:
            head = self.until(b"\r\n", 30)
            if head == b"\r\n":
                head += self.until(b"\r\n", 30)
            if head == end:
                return body, pieces
            m = re.fullmatch(data_re, head)
            if not m:
                raise AssertionError("bad HTTPREAD piece %r" % head)
            n = int(m.group(1))
            pieces.append(n)
            body += self.take(n, 30)


def action(port, method, timeout=30):
    r = port.cmd("AT+HTTPACTION=%d" % method)
    if r != b"\r\nOK\r\n":
        return None, r
    return port.urc(timeout), r


def set_url(port, url):
    return port.cmd('AT+HTTPPARA="URL","%s"' % url) == b"\r\nOK\r\n"


# ---------------------------------------------------------------- tests

def test_basics(p):
    p.send(b"AT\r")
    check(p.take(9) == b"AT\r\r\nOK\r\n", "echo is on at start: AT\\r echoed, OK")
    p.send(b"at\r\n")
    check(p.take(9) == b"at\r\r\nOK\r\n", "lower-case at, LF after CR ignored")
    p.send(b"ATE0\r")
    check(p.take(11) == b"ATE0\r\r\nOK\r\n", "ATE0 echoed itself, then OK")
    check(p.cmd("AT") == b"\r\nOK\r\n", "echo off afterwards")
    r = p.cmd("ATI")
    check(b"Manufacturer: SIMCOM INCORPORATED\r\n" in r and
          b"Model: SIMCOM_SIM7600E-H\r\n" in r and r.endswith(b"\r\nOK\r\n"),
          "ATI identity")
    for bad in ("AT+FOO", "ATX", "hello", "AT+HTTPINIT;+HTTPTERM",
                "AT HTTPINIT", "ATE", "ATE2", "AT+HTTPINIT?", "AT+HTTPINIT=?"):
        check(p.cmd(bad) == b"\r\nERROR\r\n", "%s -> ERROR" % bad)
    check(p.cmd('AT+HTTPPARA="URL","http://x/"') == b"\r\nERROR\r\n",
          "HTTPPARA before HTTPINIT -> ERROR")
    check(p.cmd("AT+HTTPTERM") == b"\r\nERROR\r\n", "HTTPTERM before HTTPINIT -> ERROR")
    check(p.cmd("AT+HTTPINIT") == b"\r\nOK\r\n", "HTTPINIT -> OK")
    check(p.cmd("AT+HTTPINIT") == b"\r\nERROR\r\n", "HTTPINIT again -> ERROR")
    check(p.cmd("AT+HTTPACTION=?") == b"\r\n+HTTPACTION: (0-3)\r\n\r\nOK\r\n",
          "HTTPACTION=? -> +HTTPACTION: (0-3)")
    check(p.cmd("AT+HTTPACTION=0") == b"\r\nERROR\r\n", "HTTPACTION without URL -> ERROR")
    check(p.cmd("AT+HTTPREAD?") == b"\r\nERROR\r\n", "HTTPREAD? with no response -> ERROR")
    check(p.cmd("AT+HTTPREAD=0,10") == b"\r\nERROR\r\n", "HTTPREAD with no response -> ERROR")
    check(p.cmd("AT+HTTPHEAD") == b"\r\nERROR\r\n", "HTTPHEAD with no response -> ERROR")


def test_para(p):
    bad = [
        'AT+HTTPPARA="URL","http://x/a"b"',          # quote inside
        'AT+HTTPPARA="URL",http://x/',               # unquoted
        'AT+HTTPPARA="URL","ftp://x/"',
        'AT+HTTPPARA="URL"',
        'AT+HTTPPARA="URL","http://x/",1',
        'AT+HTTPPARA="URL","http://x/' + "a" * 4090 + '"',
        'AT+HTTPPARA="url","http://x/"',
        'AT+HTTPPARA="USERDATA","X-A: b"',
        'AT+HTTPPARA="CONNECTTO",19',
        'AT+HTTPPARA="CONNECTTO",121',
        'AT+HTTPPARA="CONNECTTO","30"',
        'AT+HTTPPARA="RECVTO",1',
        'AT+HTTPPARA="RECVTO",21',
        'AT+HTTPPARA="CONTENT","' + "a" * 257 + '"',
        'AT+HTTPPARA="CONTENT","a\x01b"',
        'AT+HTTPPARA="ACCEPT",',
        'AT+HTTPPARA="SSLCFG",10',
        'AT+HTTPPARA="SSLCFG",-1',
        'AT+HTTPPARA=URL,"http://x/"',
        "AT+HTTPDATA=0,1000",
        "AT+HTTPDATA=153601,1000",
        "AT+HTTPDATA=10",
        "AT+HTTPACTION=4",
        "AT+HTTPACTION=",
        "AT+HTTPACTION=0,1",
        "AT+HTTPREAD=0,0",
        "AT+HTTPREAD=,10",
    ]
    for b in bad:
        check(p.cmd(b) == b"\r\nERROR\r\n", "%s -> ERROR" % b[:60])
    good = [
        'AT+HTTPPARA="URL","HTTPS://x/' + "a" * 4000 + '"',
        'AT+HTTPPARA="CONNECTTO",20',
        'AT+HTTPPARA="RECVTO",20',
        'AT+HTTPPARA="CONTENT","' + "a" * 256 + '"',
        'AT+HTTPPARA="ACCEPT","text/html"',
        'AT+HTTPPARA="SSLCFG",9',
        'at+httppara="ACCEPT","*/*"',
    ]
    for g in good:
        check(p.cmd(g) == b"\r\nOK\r\n", "%s -> OK" % g[:60])
    check(p.cmd('AT+HTTPPARA="CONTENT","text/plain"') == b"\r\nOK\r\n",
          "CONTENT back to text/plain")


def test_get_big(p):
    check(set_url(p, "http://origin.test/big"), "URL set")
    urc, _ = action(p, 0)
    check(urc == "+HTTPACTION: 0,200,%d" % len(BIG), "GET /big: %s" % urc)
    check(p.urc() == "+HTTP_PEER_CLOSED", "+HTTP_PEER_CLOSED follows")
    check(p.cmd("AT+HTTPREAD?") == b"\r\n+HTTPREAD: LEN,%d\r\n\r\nOK\r\n" % len(BIG),
          "HTTPREAD? -> +HTTPREAD: LEN,<len>")
    body, pieces = b"", []
    t0 = time.monotonic()
    while len(body) < len(BIG):
        got, ps = p.read_body("AT+HTTPREAD=%d,32768" % len(body))
        if not got:
            break
        body += got
        pieces += ps
    dt = time.monotonic() - t0
    check(hashlib.sha256(body).digest() == hashlib.sha256(BIG).digest(),
          "5 MB body read back in 32 KB HTTPREADs, sha256 equal (%.1f s)" % dt)
    check(max(pieces) <= 1024 and pieces[0] == 1024,
          "pieces of at most 1024 bytes")
    got, _ = p.read_body("AT+HTTPREAD=100,10")
    check(got == BIG[100:110], "HTTPREAD=<start>,<size>")
    got, _ = p.read_body("AT+HTTPREAD=5")
    check(got == BIG[110:115], "HTTPREAD=<size> continues where the last ended")
    got, _ = p.read_body("AT+HTTPREAD=%d,100" % (len(BIG) - 10))
    check(got == BIG[-10:], "size past the end -> only what is left")
    got, _ = p.read_body("AT+HTTPREAD=%d,100" % len(BIG))
    check(got == b"", "start at the end -> OK then just the terminator")


def test_busy(p):
    # A large read fills the pty; the next command arrives before the
    # terminator is written.
    p.send(b"AT+HTTPREAD=0,524288\rAT\r")
    first = p.take(6)
    body = b""
    while True:
        head = p.until(b"\r\n")
        if head == b"\r\n":
            head += p.until(b"\r\n")
        if head == b"\r\n+HTTPREAD:0\r\n":
            break
        n = int(re.fullmatch(rb"\r\n\+HTTPREAD: DATA,(\d+)\r\n", head).group(1))
        body += p.take(n)
    rest = p.quiet()
    check(first == b"\r\nOK\r\n" and body == BIG[:524288] and
          rest == b"\r\nERROR\r\n",
          "command before +HTTPREAD:0 -> ERROR after the read, not run")
    check(p.cmd("AT") == b"\r\nOK\r\n", "next command runs normally")


def test_head(p):
    urc, _ = action(p, 2)
    m = re.fullmatch(r"\+HTTPACTION: 2,200,(\d+)", urc or "")
    check(m is not None, "HEAD: %s" % urc)
    p.urc()
    r = p.cmd("AT+HTTPHEAD")
    hm = re.match(rb"\r\n\+HTTPHEAD: DATA,(\d+)\r\n", r)
    hdr = r[hm.end():-6] if hm else b""
    check(hm is not None and m is not None and
          int(hm.group(1)) == len(hdr) == int(m.group(1)),
          "HTTPHEAD length = datalen = header block bytes (%d)" % len(hdr))
    check(hdr.startswith(b"HTTP/1.1 200 OK\r\n") and hdr.endswith(b"\r\n\r\n") and
          b"Content-Length: %d\r\n" % len(BIG) in hdr,
          "header block: status line through the blank line")
    check(p.cmd("AT+HTTPREAD?") == b"\r\n+HTTPREAD: LEN,0\r\n\r\nOK\r\n",
          "HEAD holds no body")


def test_post(p, emu):
    check(set_url(p, "http://Origin.Test:80/request?x=1&y=2"), "URL set")
    p.send(b"AT+HTTPDATA=18,1000\r")
    check(p.take(12) == b"\r\nDOWNLOAD\r\n", "HTTPDATA -> DOWNLOAD")
    p.send(b"Message=helloworld")
    check(p.take(6) == b"\r\nOK\r\n", "18 bytes -> OK")
    urc, _ = action(p, 1)
    m = re.fullmatch(r"\+HTTPACTION: 1,200,(\d+)", urc or "")
    check(m is not None, "POST: %s" % urc)
    p.urc()
    got, _ = p.read_body("AT+HTTPREAD=0,%s" % (m.group(1) if m else "1"))
    want = (b"POST /request?x=1&y=2 HTTP/1.1\r\n"
            b"Host: Origin.Test:80\r\n"
            b"User-Agent: SIMCOM_MODULE\r\n"
            b"Accept: */*\r\n"
            b"Content-Type: text/plain\r\n"
            b"Content-Length: 18\r\n"
            b"Connection: close\r\n\r\n"
            b"Message=helloworld")
    check(got == want, "the request the origin got is exact")
    if got != want:
        print("     got %r" % got)
    # The body was consumed.
    urc, _ = action(p, 1)
    p.urc()
    got, _ = p.read_body("AT+HTTPREAD=0,4096")
    check(b"Content-Length: 0\r\n" in got, "second POST without HTTPDATA sends no body")
    # GET and DELETE carry no body headers.
    check(p.cmd('AT+HTTPPARA="ACCEPT","text/html"') == b"\r\nOK\r\n", "ACCEPT set")
    urc, _ = action(p, 3)
    p.urc()
    got, _ = p.read_body("AT+HTTPREAD=0,4096")
    check(got == b"DELETE /request?x=1&y=2 HTTP/1.1\r\nHost: Origin.Test:80\r\n"
          b"User-Agent: SIMCOM_MODULE\r\nAccept: text/html\r\n"
          b"Connection: close\r\n\r\n", "DELETE request exact")
    p.cmd('AT+HTTPPARA="ACCEPT","*/*"')
    # A data phase that times out.
    p.send(b"AT+HTTPDATA=10,500\r")
    p.take(12)
    p.send(b"abc")
    t0 = time.monotonic()
    r = p.take(9, 3)
    check(r == b"\r\nERROR\r\n" and 0.4 < time.monotonic() - t0 < 1.5,
          "HTTPDATA bytes missing after <time> ms -> ERROR")
    # Data bytes are not commands, whatever they contain.
    p.send(b"AT+HTTPDATA=12,1000\r")
    p.take(12)
    p.send(b"AT+CMGS=1\r\n\x00")
    check(p.take(6) == b"\r\nOK\r\n", "data phase swallows CR/LF/NUL as data")
    urc, _ = action(p, 1)
    p.urc()
    got, _ = p.read_body("AT+HTTPREAD=0,4096")
    check(got.endswith(b"\r\n\r\nAT+CMGS=1\r\n\x00"), "binary POST body delivered")
    log = open(emu.log, "rb").read()
    check(b'CMD AT+HTTPPARA="URL","http://Origin.Test:80/request?x=1&y=2"\n' in log and
          b"DATA 18 Message=helloworld\n" in log and
          b"DATA 3 abc\n" in log and
          b"DATA 12 AT+CMGS=1\\x0D\\x0A\\x00\n" in log,
          "log has CMD and DATA lines, non-printables as \\xHH")
    check(b'CMD AT+HTTPPARA="CONTENT","a\\x01b"\n' in log,
          "control byte in a command logged as \\x01")


def test_chunked(p, v="sim7600", zero=False):
    check(set_url(p, "http://origin.test/chunked"), "URL set")
    urc, _ = action(p, 0)
    want = 0 if zero else len(CHUNKED)
    check(urc == "+HTTPACTION: 0,200,%d" % want, "chunked GET: %s" % urc)
    p.urc()
    got, _ = p.read_body("AT+HTTPREAD=0,200000", v)
    check(got == CHUNKED, "chunked body de-chunked and readable (%d bytes)" % len(got))


def test_failures(p):
    cases = [
        ("http://nosuch.invalid/", 713),
        ("http://refused.test/", 714),
        ("http://garbage.test/", 600),
        ("https://origin.test/big", 715),
        ("http://origin.test/short", 706),
    ]
    for url, code in cases:
        set_url(p, url)
        urc, _ = action(p, 0, 60)
        check(urc == "+HTTPACTION: 0,%d,0" % code, "%s -> %s" % (url, urc))
        check(p.quiet(0.2) == b"", "no +HTTP_PEER_CLOSED after a failure")
        check(p.cmd("AT+HTTPREAD?") == b"\r\nERROR\r\n", "no response held")
    set_url(p, "http://origin.test/404")
    urc, _ = action(p, 0)
    check(urc == "+HTTPACTION: 0,404,9", "404 reported as status: %s" % urc)
    p.urc()
    p.cmd('AT+HTTPPARA="RECVTO",2')
    set_url(p, "http://origin.test/slow")
    urc, _ = action(p, 0)
    check(urc == "+HTTPACTION: 0,705,0", "RECVTO exceeded -> %s" % urc)
    p.cmd('AT+HTTPPARA="RECVTO",10')
    # Commands while an action runs.
    p.cmd("AT+HTTPACTION=0")
    check(p.cmd("AT+HTTPREAD?") == b"\r\nERROR\r\n", "HTTPREAD before the URC -> ERROR")
    check(p.cmd("AT+HTTPHEAD") == b"\r\nERROR\r\n", "HTTPHEAD before the URC -> ERROR")
    check(p.cmd("AT+HTTPACTION=0") == b"\r\nERROR\r\n", "HTTPACTION while pending -> ERROR")
    check(p.cmd("AT") == b"\r\nOK\r\n", "other commands served meanwhile")
    urc = p.urc()
    check(urc == "+HTTPACTION: 0,200,4", "slow origin answers: %s" % urc)
    p.urc()
    # HTTPTERM drops a pending action: no URC afterwards.
    p.cmd("AT+HTTPACTION=0")
    check(p.cmd("AT+HTTPTERM") == b"\r\nOK\r\n", "HTTPTERM while pending -> OK")
    check(p.quiet(3.5) == b"", "abandoned action reports nothing")
    check(p.cmd("AT+HTTPTERM") == b"\r\nERROR\r\n", "HTTPTERM again -> ERROR")
    check(p.cmd("AT+HTTPREAD?") == b"\r\nERROR\r\n", "HTTP commands need HTTPINIT")
    check(p.cmd("AT+HTTPINIT") == b"\r\nOK\r\n", "HTTPINIT after HTTPTERM")
    check(p.cmd("AT+HTTPACTION=0") == b"\r\nERROR\r\n", "HTTPTERM forgot the URL")


def test_a76xx(emu):
    p = Port(emu.link)
    p.cmd("ATE0")
    p.quiet(0.3)
    t0 = time.monotonic()
    r = p.cmd("AT")
    check(r == b"\r\nOK\r\n" and time.monotonic() - t0 >= 0.2,
          "--latency-ms 200 delays the answer (%.3f s)" % (time.monotonic() - t0))
    check(b"Model: A7670E\r\n" in p.cmd("ATI"), "a76xx ATI")
    p.cmd("AT+HTTPINIT")
    set_url(p, "http://origin.test/chunked")
    urc, _ = action(p, 0)
    check(urc == "+HTTPACTION: 0,200,0", "--chunked-zero-len: %s" % urc)
    p.urc()
    check(p.cmd("AT+HTTPREAD?") == b"\r\n+HTTPREAD:LEN,%d\r\n\r\nOK\r\n" % len(CHUNKED),
          "a76xx: +HTTPREAD:LEN,<len>")
    got, pieces = p.read_body("AT+HTTPREAD=0,3000", "a76xx")
    check(got == CHUNKED[:3000] and pieces == [1024, 1024, 952],
          "a76xx: +HTTPREAD: <n> pieces, +HTTPREAD: 0")
    r = p.cmd("AT+HTTPHEAD")
    check(re.match(rb"\r\n\+HTTPHEAD: \d+\r\nHTTP/1.1 200 OK\r\n", r) is not None,
          "a76xx: +HTTPHEAD: <len>")
    set_url(p, "http://origin.test/big")
    urc, _ = action(p, 0)
    check(urc == "+HTTPACTION: 0,706,0", "--max-body exceeded -> %s" % urc)
    # A client that leaves in the middle of a read, and the next one.
    set_url(p, "http://origin.test/request")
    action(p, 0)
    p.urc()
    p.send(b"AT+HTTPREAD=0,100000\r")
    p.close()
    time.sleep(0.5)
    p = Port(emu.link)
    check(p.cmd("AT") == b"\r\nOK\r\n", "new client after a hangup is served at once")
    check(p.cmd("AT+HTTPINIT") == b"\r\nERROR\r\n", "module state survives clients")
    p.close()


def test_pacing(binary, tmp, route, size, baud):
    emu = Emu(binary, tmp, "paced%d" % baud, route, "--baud", str(baud))
    p = Port(emu.link)
    p.send(b"ATE0\r")
    p.until(b"OK\r\n")
    p.cmd("AT+HTTPINIT")
    set_url(p, "http://origin.test/big")
    action(p, 0)
    p.urc()
    p.send(b"AT+HTTPREAD=0,%d\r" % size)
    t0 = time.monotonic()
    total = 0
    end = b"\r\n+HTTPREAD:0\r\n"
    tail = b""
    while not tail.endswith(end):
        select.select([p.fd], [], [], 10)
        chunk = os.read(p.fd, 1 << 20)
        total += len(chunk)
        tail = (tail + chunk)[-len(end):]
    dt = time.monotonic() - t0
    ideal = total * 10 / baud
    ratio = dt / ideal
    check(0.999 <= ratio <= 1.01,
          "--baud %d: %d bytes in %.3f s, line rate says %.3f s (x%.4f)"
          % (baud, total, dt, ideal, ratio))
    p.close()
    emu.stop()


def test_cli(binary, tmp):
    def run(*args):
        return subprocess.run([binary] + list(args), capture_output=True, timeout=10)
    link = os.path.join(tmp, "cli")
    r = run("-m", "simcom")
    check(r.returncode == 2 and b"usage" in r.stderr, "missing --link -> usage, exit 2")
    r = run("-m", "onemo", "--link", link, "--variant", "sim7600")
    check(r.returncode == 2 and b"unknown onemo variant" in r.stderr,
          "onemo with a foreign --variant -> exit 2, the variants named")
    for modem in ("neoway", "httpcfg", "quectel"):
        r = run("-m", modem, "--link", link, "--variant", "sim7600")
        check(r.returncode == 2, "%s with a foreign --variant -> exit 2" % modem)
    r = run("-m", "nokia", "--link", link)
    check(r.returncode == 2, "unknown modem -> exit 2")
    r = run("-m", "simcom", "--link", link, "--route", "a=b")
    check(r.returncode == 2, "bad --route -> exit 2")
    r = run("-m", "simcom", "--link", link, "--variant", "sim900")
    check(r.returncode == 2, "bad --variant -> exit 2")
    r = run("-m", "simcom", "--link", link, "--baud", "fast")
    check(r.returncode == 2, "bad --baud -> exit 2")
    r = run("--help")
    check(r.returncode == 0 and b"--route" in r.stdout, "--help")
    with open(link, "w") as f:
        f.write("not a link")
    r = run("-m", "simcom", "--link", link)
    check(r.returncode == 1 and open(link).read() == "not a link",
          "a regular file at --link is not clobbered")
    os.unlink(link)
    os.symlink("/nonexistent", link)
    emu = Emu(binary, tmp, "cli")
    check(os.readlink(link) == emu.pty, "an existing symlink is replaced")
    emu.proc.send_signal(signal.SIGINT)
    check(emu.proc.wait(10) == 0 and not os.path.lexists(link),
          "SIGINT -> exit 0, link removed")



# ---------------------------------------------------------------- simcom tls

def cert_down(p, name, data, timeout=10):
    """AT+CCERTDOWN with its > phase; returns (prompt, final)."""
    p.send(b'AT+CCERTDOWN="%s",%d\r' % (name.encode(), len(data)))
    prompt = p.take(3)
    if prompt != b"\r\n>":
        return prompt + p.quiet(0.3), None
    p.send(data)
    return prompt, p.until(b"\r\n", timeout) + p.until(b"\r\n", timeout)


def test_simcom_ssl_syntax(p):
    # The SSL commands belong to the module, not to the HTTP service.
    check(p.cmd("AT+HTTPTERM") == b"\r\nOK\r\n", "HTTPTERM before the SSL commands")
    good = [
        'AT+CSSLCFG="sslversion",0,3',
        'AT+CSSLCFG="sslversion",9,4',
        'AT+CSSLCFG="sslversion",2,0',
        'AT+CSSLCFG="authmode",1,1',
        'AT+CSSLCFG="authmode",3,2',
        'AT+CSSLCFG="ignorelocaltime",1,0',
        'AT+CSSLCFG="negotiatetime",1,10',
        'AT+CSSLCFG="negotiatetime",1,300',
        'AT+CSSLCFG="enableSNI",1,1',
        'AT+CSSLCFG="cacert",1,"athttp_ca.pem"',
        'at+csslcfg="enableSNI",0,0',
    ]
    for g in good:
        check(p.cmd(g) == b"\r\nOK\r\n", "%s -> OK (before HTTPINIT)" % g)
    bad = [
        'AT+CSSLCFG="sslversion",10,3',         # context 0-9
        'AT+CSSLCFG="sslversion",0,5',
        'AT+CSSLCFG="authmode",0,3',
        'AT+CSSLCFG="ignorelocaltime",0,2',
        'AT+CSSLCFG="negotiatetime",0,9',
        'AT+CSSLCFG="negotiatetime",0,301',
        'AT+CSSLCFG="enableSNI",0,2',
        'AT+CSSLCFG="enablesni",0,1',           # the key's spelling is exact
        'AT+CSSLCFG="SSLVERSION",0,3',
        'AT+CSSLCFG=sslversion,0,3',            # unquoted key
        'AT+CSSLCFG="sslversion","0",3',        # quoted context
        'AT+CSSLCFG="sslversion",0,"3"',        # quoted number
        'AT+CSSLCFG="sslversion",0',
        'AT+CSSLCFG="sslversion",0,3,1',
        'AT+CSSLCFG="sslversion",,3',
        'AT+CSSLCFG="cacert",0,athttp_ca.pem',  # unquoted file name
        'AT+CSSLCFG="cacert",0,""',
        'AT+CSSLCFG="cacert",0,"' + "a" * 129 + '"',
        'AT+CSSLCFG="cacert",0,"a.pem',         # unterminated quote
        'AT+CSSLCFG="cacert",0,1',
        'AT+CSSLCFG="clientcert",0,"c.pem"',    # no client certificates
        'AT+CSSLCFG="foo",0,1',
        'AT+CSSLCFG',
        'AT+CSSLCFG?',
        'AT+CCERTDOWN="a.txt",10',              # .pem or .der only
        'AT+CCERTDOWN=".pem",10',
        'AT+CCERTDOWN="a.pem",0',
        'AT+CCERTDOWN="a.pem",10241',
        'AT+CCERTDOWN="a.pem","10"',
        'AT+CCERTDOWN=a.pem,10',
        'AT+CCERTDOWN="a.pem"',
        'AT+CCERTDOWN="a.pem",10,1',
        'AT+CCERTDOWN="' + "a" * 125 + '.pem",10',
        'AT+CCERTDOWN',
        'AT+CCERTDELE="nosuch.pem"',
        'AT+CCERTDELE=nosuch.pem',
        'AT+CCERTDELE',
        'AT+CCERTLIST=1',
    ]
    for b in bad:
        check(p.cmd(b) == b"\r\nERROR\r\n", "%s -> ERROR" % b[:60])
    check(p.cmd("AT+CCERTLIST") == b"\r\nOK\r\n", "CCERTLIST with no files -> OK")
    pem = b"-----BEGIN CERTIFICATE-----\r\nAT+CMGS=1\r\n\x00-----END CERTIFICATE-----\n"
    prompt, fin = cert_down(p, "athttp_ca.pem", pem)
    check(prompt == b"\r\n>" and fin == b"\r\nOK\r\n",
          "CCERTDOWN: > then exactly <len> bytes (CR, LF, NUL, AT text among them) -> OK")
    check(p.cmd("AT") == b"\r\nOK\r\n", "the data were not commands")
    prompt, fin = cert_down(p, "Other.DER", b"x" * 10240)
    check(fin == b"\r\nOK\r\n", "CCERTDOWN: 10240 bytes, .DER -> OK")
    check(p.cmd("AT+CCERTLIST") ==
          b'\r\n+CCERTLIST: "athttp_ca.pem"\r\n+CCERTLIST: "Other.DER"\r\n\r\nOK\r\n',
          "CCERTLIST lists both files")
    p.send(b'AT+CCERTDOWN="short.pem",10\r')
    check(p.take(3) == b"\r\n>", "CCERTDOWN prompt")
    p.send(b"abc")
    t0 = time.monotonic()
    r = p.take(9, 15)
    check(r == b"\r\nERROR\r\n" and time.monotonic() - t0 > 9,
          "CCERTDOWN: fewer bytes than <len> -> ERROR after 10 s")
    check(b"short.pem" not in p.cmd("AT+CCERTLIST"), "no file from the short upload")
    check(p.cmd('AT+CCERTDELE="Other.DER"') == b"\r\nOK\r\n", "CCERTDELE -> OK")
    check(p.cmd("AT+CCERTLIST") == b'\r\n+CCERTLIST: "athttp_ca.pem"\r\n\r\nOK\r\n',
          "CCERTDELE removed the file")
    p.cmd('AT+CSSLCFG="sslversion",2,4')
    check(p.cmd("AT+HTTPINIT") == b"\r\nOK\r\n", "HTTPINIT after the SSL commands")


def simcom_https_action(p, ctx):
    check(p.cmd('AT+HTTPPARA="SSLCFG",%d' % ctx) == b"\r\nOK\r\n", "SSLCFG %d" % ctx)
    urc, _ = action(p, 0, 60)
    return urc


def test_simcom_ssl_actions(p):
    check(set_url(p, "https://origin.test/get"), "https URL set")
    # context 4: server authentication without a CA file
    p.cmd('AT+CSSLCFG="authmode",4,1')
    check(simcom_https_action(p, 4) == "+HTTPACTION: 0,719,0",
          "authmode 1, no cacert -> 719 (CA missed)")
    p.cmd('AT+CSSLCFG="cacert",4,"missing.pem"')
    check(simcom_https_action(p, 4) == "+HTTPACTION: 0,719,0",
          "authmode 1, cacert names no file -> 719")
    p.cmd('AT+CSSLCFG="cacert",4,"athttp_ca.pem"')
    p.cmd('AT+CSSLCFG="authmode",4,2')
    check(simcom_https_action(p, 4) == "+HTTPACTION: 0,719,0",
          "authmode 2 without a client certificate -> 719")
    p.cmd('AT+CSSLCFG="authmode",4,0')
    p.cmd('AT+CSSLCFG="sslversion",4,2')
    check(simcom_https_action(p, 4) == "+HTTPACTION: 0,715,0",
          "sslversion 2 (TLS 1.1 only) against a TLS 1.2 server -> 715")
    # a plain HTTP origin behind an https URL: the handshake fails
    p.cmd('AT+CSSLCFG="sslversion",4,3')
    p.cmd('AT+CSSLCFG="authmode",4,1')
    check(simcom_https_action(p, 4) == "+HTTPACTION: 0,715,0",
          "authmode 1 with the file, no TLS at the origin -> 715")
    check(p.quiet(0.2) == b"" and p.cmd("AT+HTTPREAD?") == b"\r\nERROR\r\n",
          "no response held after a TLS failure")
    # HTTPTERM forgets SSLCFG, not the contexts or the files
    check(p.cmd("AT+HTTPTERM") == b"\r\nOK\r\n" and p.cmd("AT+HTTPINIT") == b"\r\nOK\r\n",
          "HTTPTERM, HTTPINIT")
    check(p.cmd("AT+CCERTLIST") == b'\r\n+CCERTLIST: "athttp_ca.pem"\r\n\r\nOK\r\n',
          "the certificate file survives HTTPTERM")
    set_url(p, "https://origin.test/get")
    urc, _ = action(p, 0, 60)
    check(urc == "+HTTPACTION: 0,715,0",
          "after HTTPINIT the URL uses context 0 again (authmode 0): %s" % urc)
    check(simcom_https_action(p, 4) == "+HTTPACTION: 0,715,0" and
          p.cmd('AT+CSSLCFG="authmode",4,0') == b"\r\nOK\r\n",
          "context 4 kept its settings")
    p.cmd("AT+HTTPTERM")


def test_simcom_ssl_variants(binary, tmp, routes):
    emu = Emu(binary, tmp, "nosni", *routes, "--variant", "nosni")
    p = Port(emu.link)
    try:
        p.cmd("ATE0")
        p.quiet(0.3)
        check(p.cmd('AT+CSSLCFG="enableSNI",0,1') == b"\r\nERROR\r\n",
              "nosni: enableSNI -> ERROR")
        check(p.cmd('AT+CSSLCFG="enableSNI",0,0') == b"\r\nERROR\r\n",
              "nosni: enableSNI,0 -> ERROR as well")
        check(p.cmd('AT+CSSLCFG="authmode",0,1') == b"\r\nOK\r\n" and
              cert_down(p, "athttp_ca.pem", b"pem")[1] == b"\r\nOK\r\n",
              "nosni: the other settings and CCERTDOWN work")
    finally:
        p.close()
        check(emu.stop() == 0, "nosni emulator exits 0")
    emu = Emu(binary, tmp, "nocertdown", *routes, "--variant", "nocertdown")
    p = Port(emu.link)
    try:
        p.cmd("ATE0")
        p.quiet(0.3)
        check(p.cmd('AT+CCERTDOWN="athttp_ca.pem",10') == b"\r\nERROR\r\n",
              "nocertdown: CCERTDOWN -> ERROR, no prompt")
        check(p.cmd('AT+CSSLCFG="enableSNI",0,1') == b"\r\nOK\r\n",
              "nocertdown: enableSNI works")
        p.cmd("AT+HTTPINIT")
        p.cmd('AT+CSSLCFG="authmode",0,1')
        p.cmd('AT+CSSLCFG="cacert",0,"athttp_ca.pem"')
        set_url(p, "https://origin.test/get")
        urc, _ = action(p, 0, 60)
        check(urc == "+HTTPACTION: 0,719,0", "nocertdown: authmode 1 -> 719 (no file)")
    finally:
        p.close()
        check(emu.stop() == 0, "nocertdown emulator exits 0")
    r = subprocess.run([binary, "-m", "simcom", "--link", os.path.join(tmp, "v"),
                        "--variant", "sim900"], capture_output=True, timeout=10)
    check(r.returncode == 2 and b"nosni, nocertdown" in r.stderr,
          "unknown simcom variant: the TLS variants named")
    r = subprocess.run([binary, "--help"], capture_output=True, timeout=10)
    check(b"nosni" in r.stdout + r.stderr and b"nocertdown" in r.stdout + r.stderr,
          "--help documents nosni and nocertdown")


class TlsOrigins:
    """tests/origin.py's TLS listeners with the e2e test PKI
    (tests/e2e/pki.sh): origin.test, expired.test, untrusted.test."""
    NAMES = ("origin", "expired", "untrusted")

    def __init__(self, tmp):
        root = os.path.join(HERE, "..")
        self.pki = os.path.join(tmp, "pki")
        subprocess.run(["bash", os.path.join(root, "tests", "e2e", "pki.sh"), self.pki],
                       check=True, capture_output=True, timeout=60)
        www = os.path.join(tmp, "www")
        os.makedirs(www, exist_ok=True)
        self.small = b"simcom tls selftest\n" * 10
        open(os.path.join(www, "small.txt"), "wb").write(self.small)
        self.log = os.path.join(tmp, "tls-origin.log")
        args = [sys.executable, os.path.join(root, "tests", "origin.py"), "--dir", www,
                "--log", self.log]
        for n in self.NAMES:
            args += ["--tls", "%s=%s/%s.pem:%s/%s.key" % (n, self.pki, n, self.pki, n)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE)
        self.ports = {}
        while True:
            line = self.proc.stdout.readline().decode()
            if not line:
                raise RuntimeError("origin.py printed no PORT line")
            if line.startswith("TLSPORT "):
                _, name, port = line.split()
                self.ports[name] = int(port)
            elif line.startswith("PORT "):
                break
        self.routes = ["--route=%s.test:443=127.0.0.1:%d" % (n, self.ports[n]) for n in self.NAMES]

    def pem(self, name):
        return open(os.path.join(self.pki, name), "rb").read()

    def mark(self):
        self.at = os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def since(self):
        with open(self.log, "rb") as f:
            f.seek(self.at)
            return f.read().decode("latin-1")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def simcom_tls_get(p, o, host):
    """GET https://<host>/small.txt with context 2; (urc, body, origin log)."""
    o.mark()
    set_url(p, "https://%s/small.txt" % host)
    urc, _ = action(p, 0, 60)
    body = None
    if urc.startswith("+HTTPACTION: 0,200,"):
        p.urc()
        body, _ = p.read_body("AT+HTTPREAD=0,4096")
    return urc, body, o.since()


def test_simcom_ssl_real(binary, tmp):
    """Real TLS as far as the commands asked: verification against the
    uploaded file's content, dates only without ignorelocaltime, SNI only
    with enableSNI."""
    o = TlsOrigins(tmp)
    emu = Emu(binary, tmp, "simcom-tls", *o.routes)
    p = Port(emu.link)
    try:
        p.cmd("ATE0")
        p.quiet(0.3)
        p.cmd("AT+HTTPINIT")
        p.cmd('AT+HTTPPARA="SSLCFG",2')
        check(cert_down(p, "root.pem", o.pem("root.pem"))[1] == b"\r\nOK\r\n", "tls: root.pem uploaded")
        for c in ('"sslversion",2,3', '"authmode",2,1', '"cacert",2,"root.pem"',
                  '"enableSNI",2,1', '"ignorelocaltime",2,0'):
            p.cmd("AT+CSSLCFG=" + c)
        urc, body, log = simcom_tls_get(p, o, "origin.test")
        check(urc == "+HTTPACTION: 0,200,%d" % len(o.small) and body == o.small,
              "tls: verified GET of origin.test: %s" % urc)
        check("TLS origin sni=origin.test\n" in log, "tls: enableSNI 1 -> SNI origin.test")
        urc, _, log = simcom_tls_get(p, o, "expired.test")
        check(urc == "+HTTPACTION: 0,715,0" and "TLSFAIL expired" in log,
              "tls: expired certificate, ignorelocaltime 0 -> 715: %s" % urc)
        urc, _, log = simcom_tls_get(p, o, "untrusted.test")
        check(urc == "+HTTPACTION: 0,715,0", "tls: certificate of another root -> 715: %s" % urc)
        p.cmd('AT+CSSLCFG="ignorelocaltime",2,1')
        urc, body, _ = simcom_tls_get(p, o, "expired.test")
        check(urc.startswith("+HTTPACTION: 0,200,") and body == o.small,
              "tls: ignorelocaltime 1 -> the expired certificate is accepted: %s" % urc)
        urc, _, _ = simcom_tls_get(p, o, "untrusted.test")
        check(urc == "+HTTPACTION: 0,715,0",
              "tls: ignorelocaltime 1 still checks the chain: %s" % urc)
        p.cmd('AT+CSSLCFG="ignorelocaltime",2,0')
        p.cmd('AT+CSSLCFG="enableSNI",2,0')
        urc, _, log = simcom_tls_get(p, o, "origin.test")
        check(urc.startswith("+HTTPACTION: 0,200,") and "TLS origin sni=-\n" in log,
              "tls: enableSNI 0 -> no SNI: %s" % urc)
        # the file's content counts, not its name
        check(cert_down(p, "root.pem", o.pem("untrusted-root.pem"))[1] == b"\r\nOK\r\n",
              "tls: root.pem replaced by the other root")
        urc, _, _ = simcom_tls_get(p, o, "origin.test")
        check(urc == "+HTTPACTION: 0,715,0", "tls: origin.test now fails: %s" % urc)
        urc, body, _ = simcom_tls_get(p, o, "untrusted.test")
        check(urc.startswith("+HTTPACTION: 0,200,") and body == o.small,
              "tls: untrusted.test now verifies: %s" % urc)
        p.cmd('AT+CSSLCFG="authmode",2,0')
        urc, body, _ = simcom_tls_get(p, o, "expired.test")
        check(urc.startswith("+HTTPACTION: 0,200,"), "tls: authmode 0 -> nothing verified: %s" % urc)
    finally:
        p.close()
        check(emu.stop() == 0, "tls emulator exits 0")
        o.stop()


# ---------------------------------------------------------------- raw origin

RAW_CHUNKS = [os.urandom(n) for n in (1, 7, 1000, 4096, 333, 12345)]
RAW_BIG = os.urandom(200 * 1024)


def raw_response(status, body, head=False, keep=False, extra=b""):
    reason = {200: b"OK", 404: b"Not Found"}[status]
    return (b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\n%sConnection: %s\r\n\r\n"
            % (status, reason, len(body), extra,
               b"keep-alive" if keep else b"close")) + (b"" if head else body)


def chunked_response():
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    for c in RAW_CHUNKS:
        out += b"%x\r\n%s\r\n" % (len(c), c)
    return out + b"0\r\n\r\n"


class RawOrigin:
    """A socket origin that records exactly what it receives and answers
    with bytes the tests can predict: requests[] holds each request as
    received, conns[] everything a connection carried, sent[] each
    response as written."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests, self.conns, self.sent = [], [], []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf, everything = b"", b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                    everything += d
                head, rest = buf.split(b"\r\n\r\n", 1)
                lines = head.split(b"\r\n")
                method, path = lines[0].split(b" ")[:2]
                n = 0
                for h in lines[1:]:
                    k, _, v = h.partition(b":")
                    if k.strip().lower() == b"content-length":
                        n = int(v.strip())
                while len(rest) < n:
                    d = c.recv(65536)
                    if not d:
                        return
                    rest += d
                    everything += d
                raw, buf = head + b"\r\n\r\n" + rest[:n], rest[n:]
                with self.lock:
                    self.requests.append(raw)
                keep = self.answer(c, method, path, raw)
                if not keep:
                    return
        finally:
            with self.lock:
                self.conns.append(everything)
            c.close()

    def answer(self, c, method, path, raw):
        head = method == b"HEAD"
        keep = path.startswith(b"/keep")
        if path.startswith(b"/slow"):
            time.sleep(3)
        if path.startswith(b"/chunked"):
            out = chunked_response()
        elif path.startswith(b"/big"):
            out = raw_response(200, RAW_BIG, head)
        elif path.startswith(b"/404"):
            out = raw_response(404, b"not found", head)
        elif path.startswith(b"/nolen"):
            out = b"HTTP/1.0 200 OK\r\n\r\nuntil the close"
        elif path.startswith(b"/short"):
            out = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this"
        else:
            out = raw_response(200, raw, head, keep)
        with self.lock:
            self.sent.append(out)
        c.sendall(out)
        return keep

    def last(self):
        time.sleep(0.05)
        with self.lock:
            return self.requests[-1] if self.requests else None


def closing_server(delay):
    """Accepts, reads nothing, closes after delay seconds."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)

    def run():
        while True:
            c, _ = s.accept()
            threading.Timer(delay, c.close).start()
    threading.Thread(target=run, daemon=True).start()
    return s.getsockname()[1]


def final(p, line, timeout=10, finals=rb"OK|ERROR|\+CME ERROR: \d+"):
    """Sends a command and returns everything through its final result."""
    p.send(line.encode("latin-1") + b"\r")
    deadline = time.monotonic() + timeout
    pat = re.compile(rb"\r\n(" + finals + rb")\r\n")
    while True:
        m = pat.search(p.buf)
        if m:
            break
        p.fill(deadline)
    out, p.buf = p.buf[:m.end()], p.buf[m.end():]
    return out


def start_dialect(p, name):
    p.send(b"AT\r")
    check(p.take(9) == b"AT\r\r\nOK\r\n", "%s: echo is on at start" % name)
    p.send(b"ATE0\r")
    check(p.take(11) == b"ATE0\r\r\nOK\r\n", "%s: ATE0 echoed itself, then OK" % name)
    check(p.cmd("AT") == b"\r\nOK\r\n", "%s: echo off afterwards" % name)


# ---------------------------------------------------------------- neoway

NEO_OPEN_FAILED = b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n"
NEO_CLOSED = b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"
NEO_FINALS = rb"OK|ERROR|\+HTTPACTION: ?SOCKET ID OPEN FAILED|\+HTTPSEND: ERROR"


def neo(p, line, timeout=10):
    return final(p, line, timeout, NEO_FINALS)


def neo_setup(p, url, port=None):
    ok = p.cmd("AT+HTTPPARA=url,%s" % url) == b"\r\nOK\r\n"
    if port:
        ok = ok and p.cmd("AT+HTTPPARA=port,%d" % port) == b"\r\nOK\r\n"
    return ok and p.cmd("AT+HTTPSETUP") == b"\r\nOK\r\n"


def neo_packet(p, mode_args, data):
    """AT+HTTPACTION with a data phase; returns (prompt, final)."""
    p.send(b"AT+HTTPACTION=%s\r" % mode_args.encode())
    prompt = p.take(3)
    if prompt != b"\r\n>":
        return prompt, b""
    p.send(data)
    return prompt, p.until(b"\r\n", 10) + p.until(b"\r\n", 10)


def neo_response(p, recv_head=b"\r\n+HTTPRECV: \r\n", timeout=30):
    """recvmode 0: everything up to +HTTPCLOSED, the head line removed."""
    got = p.until(NEO_CLOSED, timeout)[:-len(NEO_CLOSED)]
    if not got.startswith(recv_head):
        return None
    return got[len(recv_head):]


def test_neoway_refusals(p):
    start_dialect(p, "neoway")
    r = p.cmd("ATI")
    check(b"\r\nNeoway\r\nN58\r\n" in r and r.endswith(b"\r\nOK\r\n"), "neoway: ATI")
    # The manual's 9.1 examples.
    for line, want in (
            ("AT+HTTPPARA=url,www.neoway.com.cn/en/index.aspx", b"OK"),
            ("AT+HTTPPARA=url,121.15.200.97/Service1.asmx/GetNote", b"OK"),
            ("AT+HTTPPARA=url,", b"ERROR"),
            ("AT+HTTPPARA=port,80", b"OK"),
            ("AT+HTTPPARA=port,8080", b"OK")):
        check(p.cmd(line) == b"\r\n%s\r\n" % want, "neoway manual 9.1: %s -> %s"
              % (line, want.decode()))
    bad = [
        "AT+HTTPPARA =url,www.neoway.com.cn/",       # blank before '='
        'AT+HTTPPARA="url","www.neoway.com.cn/"',    # quoted
        'AT+HTTPPARA=url,"www.neoway.com.cn/"',
        "AT+HTTPPARA=URL,www.neoway.com.cn/",
        "AT+HTTPPARA=url,www.neoway.com.cn/a b",
        "AT+HTTPPARA=url,www.neoway.com.cn/a,b",
        "AT+HTTPPARA=url,x/" + "a" * 2047,
        "AT+HTTPPARA=url",
        "AT+HTTPPARA=port,0",
        "AT+HTTPPARA=port,65536",
        "AT+HTTPPARA=port,eighty",
        "AT+HTTPPARA=port,",
        "AT+HTTPPARA=keepalive,2",
        "AT+HTTPPARA=recvmode,2",
        "AT+HTTPPARA=recvmode,-1",
        "AT+HTTPPARA=timeout,10",
        "AT+HTTPPARA?",
        "AT+HTTPPARA=?",
        "AT+HTTPSETUP=1",
        "AT+HTTPSETUP?",
        "AT+HTTPACTION",
        "AT+HTTPACTION=?",
        "AT+HTTPACTION=3",
        "AT+HTTPACTION=2,adasd",                      # the manual's example
        "AT+HTTPACTION=2",
        "AT+HTTPACTION=2,0",
        "AT+HTTPACTION=2,2049",
        "AT+HTTPACTION=2,10,5",
        "AT+HTTPACTION=99",
        "AT+HTTPACTION=99,0",
        "AT+HTTPACTION=99,2049",
        "AT+HTTPACTION=99,10,1",
        "AT+HTTPACTION=1,5",
        "AT+HTTPACTION=0,5",
        "AT+HTTPACTION=0,0,0",
        "AT+HTTPACTION=0,1,2,3",
        'AT+HTTPACTION="0"',
        "AT+HTTPCLOSE=1",
        "AT+HTTPCLOSE?",
        "AT+HTTPINIT",
    ]
    for b in bad:
        check(p.cmd(b) == b"\r\nERROR\r\n", "neoway: %s -> ERROR" % b[:60])
    check(p.cmd("AT+HTTPPARA=url,x/" + "a" * 2046) == b"\r\nOK\r\n",
          "neoway: a 2048-byte url -> OK")
    check(p.cmd("AT+HTTPCLOSE") == b"\r\nOK\r\n" and p.quiet(0.3) == b"",
          "neoway: HTTPCLOSE without a link -> OK only")
    check(p.cmd("AT+HTTPSETUP") == b"\r\nERROR\r\n",
          "neoway: HTTPCLOSE cleared the url: HTTPSETUP -> ERROR")
    check(neo(p, "AT+HTTPACTION=0") == NEO_OPEN_FAILED,
          "neoway: HTTPACTION before HTTPSETUP -> +HTTPACTION: SOCKET ID OPEN FAILED")
    check(neo(p, "AT+HTTPACTION=99,10") == NEO_OPEN_FAILED,
          "neoway: HTTPACTION=99 before HTTPSETUP -> no prompt, SOCKET ID OPEN FAILED")


def test_neoway_examples(p, origin):
    # 9.3 example 1: GET
    check(neo_setup(p, "www.neoway.com.cn/en/index.aspx"), "neoway manual GET: url, HTTPSETUP -> OK")
    check(p.cmd("AT+HTTPSETUP") == b"\r\nERROR\r\n", "neoway: HTTPSETUP on an open link -> ERROR")
    check(p.cmd("AT+HTTPACTION=0") == b"\r\nOK\r\n", "neoway manual GET: HTTPACTION=0 -> OK")
    got = neo_response(p)
    want_req = (b"GET /en/index.aspx HTTP/1.1\r\nHost: www.neoway.com.cn\r\n"
                b"Connection: close\r\n\r\n")
    check(origin.last() == want_req, "neoway GET: the origin got the request: %r" % origin.last())
    check(got == origin.sent[-1], "neoway GET: +HTTPRECV: line, the raw response, +HTTPCLOSED")
    check(neo(p, "AT+HTTPACTION=0") == NEO_OPEN_FAILED,
          "neoway: after +HTTPCLOSED the link is gone -> SOCKET ID OPEN FAILED")
    # 9.3 example 2: HEAD
    check(neo_setup(p, "www.neoway.com.cn/en/index.aspx"), "neoway manual HEAD: setup")
    check(p.cmd("AT+HTTPACTION=1") == b"\r\nOK\r\n", "neoway manual HEAD: HTTPACTION=1 -> OK")
    got = neo_response(p)
    check(origin.last().startswith(b"HEAD /en/index.aspx HTTP/1.1\r\n") and
          got == origin.sent[-1] and got.endswith(b"\r\n\r\n"),
          "neoway HEAD: header block only, then +HTTPCLOSED")
    # 9.3 example 3: POST to port 8080
    check(neo_setup(p, "121.15.200.97/Service1.asmx/GetNote", 8080),
          "neoway manual POST: url, port 8080, setup")
    prompt, fin = neo_packet(p, "2,23", b"MAC=NEOWAY&DATA=0123456")
    check(prompt == b"\r\n>" and fin == b"\r\nOK\r\n", "neoway manual POST: '>' then 23 bytes -> OK")
    got = neo_response(p)
    want_req = (b"POST /Service1.asmx/GetNote HTTP/1.1\r\nHost: 121.15.200.97:8080\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 23\r\nConnection: close\r\n\r\nMAC=NEOWAY&DATA=0123456")
    check(origin.last() == want_req, "neoway POST: the origin got %r" % origin.last())
    check(got == origin.sent[-1], "neoway POST: response passed back raw")
    check(p.cmd("AT+HTTPCLOSE") == b"\r\nOK\r\n", "neoway: HTTPCLOSE after the origin closed -> OK")
    # 9.3 example 4: a custom HEAD packet of 76 bytes
    packet = (b"HEAD /en/index.aspx HTTP/1.1\r\nconnection: close\r\n"
              b"HOST: www.neoway.com.cn\r\n\r\n")
    check(len(packet) == 76, "the manual's custom packet is 76 bytes")
    check(neo_setup(p, "www.neoway.com.cn/en/index.aspx"), "neoway manual 99: setup on port 80")
    prompt, fin = neo_packet(p, "99,76", packet)
    check(prompt == b"\r\n>" and fin == b"\r\nOK\r\n", "neoway manual 99: '>' then 76 bytes -> OK")
    got = neo_response(p)
    check(origin.last() == packet, "neoway 99: the origin got the packet verbatim")
    check(got == origin.sent[-1], "neoway 99: the raw response, then +HTTPCLOSED")
    # POST types and GET ranges
    check(neo_setup(p, "www.neoway.com.cn/json"), "neoway: setup")
    prompt, fin = neo_packet(p, "2,2,2", b"{}")
    neo_response(p)
    check(b"Content-Type: application/json\r\nContent-Length: 2\r\n" in origin.last(),
          "neoway POST type 2 -> application/json")
    check(neo_setup(p, "www.neoway.com.cn/range"), "neoway: setup")
    p.cmd("AT+HTTPACTION=0,100,50")
    neo_response(p)
    check(b"Range: bytes=100-149\r\n" in origin.last(), "neoway GET <offset>,<size> -> Range")


def test_neoway_raw(p, origin, emu):
    reqs = [
        b"GET /raw?q=1 HTTP/1.1\r\nHost: www.neoway.com.cn\r\nX-Odd:  two  spaces \r\n"
        b"cookie: a=b; c=d\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n",
        b"POST /raw HTTP/1.1\r\nHost: www.neoway.com.cn\r\nContent-Length: 13\r\n"
        b"Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n\x00\r\nAT+CMGS\r\n\xff",
        b"PUT /raw/item HTTP/1.0\r\nHost: www.neoway.com.cn\r\nContent-Length: 5\r\n\r\nhello",
    ]
    for req in reqs:
        check(neo_setup(p, "www.neoway.com.cn/"), "neoway raw: setup")
        prompt, fin = neo_packet(p, "99,%d" % len(req), req)
        got = neo_response(p)
        check(prompt == b"\r\n>" and fin == b"\r\nOK\r\n" and origin.last() == req and
              got == origin.sent[-1],
              "neoway raw %s: forwarded verbatim, response raw" % req.split(b" ")[0].decode())
    # a packet of exactly 2048 bytes
    head = b"GET /max HTTP/1.1\r\nHost: www.neoway.com.cn\r\nConnection: close\r\n"
    req = head + b"X-Pad: " + b"p" * (2048 - len(head) - 7 - 4) + b"\r\n\r\n"
    check(len(req) == 2048, "2048-byte packet built")
    neo_setup(p, "www.neoway.com.cn/")
    prompt, fin = neo_packet(p, "99,2048", req)
    neo_response(p)
    check(fin == b"\r\nOK\r\n" and origin.last() == req, "neoway raw: 2048 bytes (the limit) -> OK, verbatim")
    # chunked response passed back with its framing
    neo_setup(p, "www.neoway.com.cn/")
    req = b"GET /chunked HTTP/1.1\r\nHost: www.neoway.com.cn\r\n\r\n"
    neo_packet(p, "99,%d" % len(req), req)
    got = neo_response(p)
    check(got == chunked_response(), "neoway: a chunked response passes back raw, chunk framing kept")
    # keep-alive: no +HTTPCLOSED while the origin keeps the link; two actions
    neo_setup(p, "www.neoway.com.cn/")
    req = b"GET /keep HTTP/1.1\r\nHost: www.neoway.com.cn\r\n\r\n"
    neo_packet(p, "99,%d" % len(req), req)
    want = b"\r\n+HTTPRECV: \r\n" + raw_response(200, req, keep=True)
    got = p.take(len(want))
    check(got == want and p.quiet(0.5) == b"", "neoway keep-alive: response, no +HTTPCLOSED")
    neo_packet(p, "99,%d" % len(req), req)
    got = p.take(len(want))
    check(got == want, "neoway keep-alive: a second action on the same link, a new +HTTPRECV: line")
    check(p.cmd("AT+HTTPCLOSE") == b"\r\nOK\r\n" and
          p.until(b"\r\n", 5) + p.until(b"\r\n", 5) == b"\r\n+HTTPCLOSE: HTTP Link Closed\r\n",
          "neoway: HTTPCLOSE on an open link -> OK, +HTTPCLOSE: HTTP Link Closed")
    check(p.quiet(0.3) == b"", "neoway: no +HTTPCLOSED after HTTPCLOSE")
    check(p.cmd("AT+HTTPSETUP") == b"\r\nERROR\r\n", "neoway: HTTPCLOSE cleared the parameters")
    # recvmode 1
    check(p.cmd("AT+HTTPPARA=recvmode,1") == b"\r\nOK\r\n", "neoway: recvmode,1 -> OK")
    neo_setup(p, "www.neoway.com.cn/big")
    check(p.cmd("AT+HTTPACTION=0") == b"\r\nOK\r\n", "neoway recvmode 1: GET -> OK")
    body, sizes = b"", []
    while True:
        m = re.match(rb"\r\n\+HTTPRECV: (\d+),", p.buf)
        if p.buf.startswith(NEO_CLOSED):
            p.take(len(NEO_CLOSED))
            break
        if not m:
            if len(p.buf) < 64:
                p.fill(time.monotonic() + 10)
                continue
            break
        n = int(m.group(1))
        p.take(m.end())
        body += p.take(n)
        sizes.append(n)
    check(body == origin.sent[-1] and sizes and max(sizes) <= 1460,
          "neoway recvmode 1: +HTTPRECV: <len>,<data> frames carry the raw response "
          "(%d frames of at most %d bytes), then +HTTPCLOSED" % (len(sizes), max(sizes or [0])))
    check(p.cmd("AT+HTTPCLOSE") == b"\r\nOK\r\n", "neoway: HTTPCLOSE resets recvmode")
    # strictness: more bytes after '>' than announced
    neo_setup(p, "www.neoway.com.cn/")
    prompt, fin = neo_packet(p, "99,10", b"0123456789AB")
    check(fin == b"\r\nOK\r\n", "neoway: 10 bytes of 12 taken as the packet")
    p.send(b"\r")
    check(p.until(b"\r\n", 5) + p.until(b"\r\n", 5) == b"\r\nERROR\r\n",
          "neoway: the 2 bytes too many become a command line -> ERROR")
    p.cmd("AT+HTTPCLOSE")
    p.quiet(0.3)
    time.sleep(0.2)
    check(origin.conns[-1] == b"0123456789", "neoway: the origin got exactly the 10 announced bytes")
    # command before the final result
    neo_setup(p, "www.neoway.com.cn/x")
    p.send(b"AT+HTTPACTION=0\rAT\r")
    first = p.until(b"\r\n", 5) + p.until(b"\r\n", 5)
    second = p.until(b"\r\n", 5) + p.until(b"\r\n", 5)
    neo_response(p)
    check(first == b"\r\nERROR\r\n" and second == b"\r\nOK\r\n",
          "neoway: AT before HTTPACTION's OK -> ERROR, the action still answers OK")
    log = open(emu.log, "rb").read()
    check(b"CMD AT+HTTPPARA=url,www.neoway.com.cn/en/index.aspx\n" in log and
          b"DATA 23 MAC=NEOWAY&DATA=0123456\n" in log, "neoway: --log has CMD and DATA lines")


def test_neoway_failures(p, origin, quick):
    p.cmd("AT+HTTPPARA=url,nosuch.invalid/")
    check(p.cmd("AT+HTTPSETUP", 30) == b"\r\nERROR\r\n", "neoway: DNS failure -> HTTPSETUP ERROR")
    p.cmd("AT+HTTPPARA=url,refused.test/")
    check(p.cmd("AT+HTTPSETUP") == b"\r\nERROR\r\n", "neoway: connection refused -> HTTPSETUP ERROR")
    p.cmd("AT+HTTPPARA=url,http://www.neoway.com.cn/")
    check(p.cmd("AT+HTTPSETUP") == b"\r\nERROR\r\n", "neoway: a url with a scheme is no host -> ERROR")
    p.cmd("AT+HTTPPARA=url,www.neoway.com.cn:80/")
    check(p.cmd("AT+HTTPSETUP") == b"\r\nERROR\r\n", "neoway: a port inside the url -> ERROR")
    check(neo(p, "AT+HTTPACTION=0") == NEO_OPEN_FAILED, "neoway: no link after a failed setup")
    # the origin closes the link while the POST data comes
    neo_setup(p, "closer.test/")
    p.send(b"AT+HTTPACTION=2,5\r")
    check(p.take(3) == b"\r\n>", "neoway: POST prompt")
    closed = p.until(NEO_CLOSED, 5)
    p.send(b"hello")
    check(closed == NEO_CLOSED and p.take(len(b"\r\n+HTTPSEND: ERROR\r\n")) ==
          b"\r\n+HTTPSEND: ERROR\r\n",
          "neoway: link closed by the origin during the data -> +HTTPCLOSED, +HTTPSEND: ERROR")
    check(neo(p, "AT+HTTPACTION=0") == NEO_OPEN_FAILED, "neoway: and the link is gone")
    if not quick:
        neo_setup(p, "www.neoway.com.cn/")
        p.send(b"AT+HTTPACTION=99,10\r")
        p.take(3)
        p.send(b"abc")
        t0 = time.monotonic()
        r = p.take(9, 15)
        check(r == b"\r\nERROR\r\n" and time.monotonic() - t0 > 9,
              "neoway: too few bytes after '>' -> ERROR after 10 s")
        p.cmd("AT+HTTPCLOSE")
        p.quiet(0.3)


def test_neoway_compact(emu, origin):
    p = Port(emu.link)
    p.cmd("ATE0")
    p.quiet(0.3)
    check(final(p, "AT+HTTPACTION=0", 5, NEO_FINALS) ==
          b"\r\n+HTTPACTION:SOCKET ID OPEN FAILED\r\n",
          "neoway compact: +HTTPACTION:SOCKET ID OPEN FAILED")
    neo_setup(p, "www.neoway.com.cn/")
    p.cmd("AT+HTTPACTION=0")
    got = neo_response(p, b"\r\n+HTTPRECV:\r\n")
    check(got == origin.sent[-1], "neoway compact: +HTTPRECV: without the blank")
    p.close()


# ---------------------------------------------------------------- neoway https

NEO_S_CLOSED = b"\r\n+HTTPSCLOSED: HTTPS Link Closed\r\n"


class TLSRawOrigin(RawOrigin):
    """RawOrigin over TLS with cert/key; snis[] holds each handshake's
    server_name (None: the client sent none), failed counts handshakes
    that did not complete."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(cert, key)
        self.ctx.sni_callback = self.on_sni
        self.snis, self.failed, self.pending = [], 0, {}
        super().__init__()

    def on_sni(self, sock, name, ctx):
        self.pending[id(sock)] = name

    def serve(self, c):
        try:
            t = self.ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            with self.lock:
                self.failed += 1
            c.close()
            return
        with self.lock:
            self.snis.append(self.pending.pop(id(t._sslobj), self.pending.pop(id(t), None)))
        super().serve(t)


def neo_s_setup(p, url, port=None):
    ok = p.cmd("AT+HTTPSPARA=url,%s" % url) == b"\r\nOK\r\n"
    if port:
        ok = ok and p.cmd("AT+HTTPSPARA=port,%d" % port) == b"\r\nOK\r\n"
    return ok and p.cmd("AT+HTTPSSETUP", 30) == b"\r\nOK\r\n"


def neo_s_packet(p, data):
    p.send(b"AT+HTTPSACTION=99,%d\r" % len(data))
    prompt = p.take(3)
    if prompt != b"\r\n>":
        return prompt, b""
    p.send(data)
    return prompt, p.until(b"\r\n", 10) + p.until(b"\r\n", 10)


def neo_s_response(p, recv_head=b"\r\n+HTTPSRECV: \r\n", timeout=30):
    got = p.until(NEO_S_CLOSED, timeout)[:-len(NEO_S_CLOSED)]
    if not got.startswith(recv_head):
        return None
    return got[len(recv_head):]


def test_neoway_https_cfg(p):
    check(p.cmd("AT+HTTPSCFG?") == b"\r\n+HTTPSCFG: 0,1,,,,\r\n\r\nOK\r\n",
          "neoway 9.10: AT+HTTPSCFG? -> the defaults of the manual's example (SSL 3.0, authmode 1)")
    check(p.cmd("AT+HTTPSCFG=?") == b"\r\n+HTTPSCFG: <type>,<type_name>\r\n\r\nOK\r\n",
          "neoway 9.10: AT+HTTPSCFG=? -> its format line")
    for line in ('AT+HTTPSCFG="sslversion",0', 'AT+HTTPSCFG="authmode",0', 'AT+HTTPSCFG="sslversion",3',
                 'AT+HTTPSCFG="authmode",2', 'AT+HTTPSCFG="ciphersuite",49199',
                 'AT+HTTPSCFG="cacert","ca.pem"', 'AT+HTTPSCFG="clientcert","cc.pem"',
                 'AT+HTTPSCFG="clientkey","ck.pem"'):
        check(p.cmd(line) == b"\r\nOK\r\n", "neoway 9.10: %s -> OK" % line)
    check(p.cmd("AT+HTTPSCFG?") == b"\r\n+HTTPSCFG: 3,2,49199,ca.pem,cc.pem,ck.pem\r\n\r\nOK\r\n",
          "neoway: AT+HTTPSCFG? shows what was set")
    for bad in ('AT+HTTPSCFG=sslversion,3',          # unquoted <type>
                'AT+HTTPSCFG="sslversion,3',          # an unterminated quote
                'AT+HTTPSCFG="sslversion"",3',
                'AT+HTTPSCFG="SSLVERSION",3',
                'AT+HTTPSCFG="sslversion",4',
                'AT+HTTPSCFG="sslversion","3"',
                'AT+HTTPSCFG="authmode",3',
                'AT+HTTPSCFG="authmode"',
                'AT+HTTPSCFG="authmode",0,1',
                'AT+HTTPSCFG="authmode",',
                'AT+HTTPSCFG="cacert",ca.pem',        # a file name is a string
                'AT+HTTPSCFG="cacert",""',
                'AT+HTTPSCFG="cacert","%s"' % ("c" * 129),
                'AT+HTTPSCFG="nosuch",1',
                'AT+HTTPSCFG',
                'AT+HTTPSCFG =\x93authmode\x94,0',      # the manual's typeset quotes (cp1252)
                'AT+HTTPSPARA="url","origin.test/"',
                'AT+HTTPSPARA=url,"origin.test/"',
                'AT+HTTPSPARA=url,%s' % ("o" * 513),  # over 512
                'AT+HTTPSPARA=port,0',
                'AT+HTTPSPARA=port,65536',
                'AT+HTTPSPARA=recvmode,2',
                'AT+HTTPSPARA=url,',
                'AT+HTTPSSETUP=1',
                'AT+HTTPSACTION=99',
                'AT+HTTPSACTION=99,2049',
                'AT+HTTPSACTION=3',
                'AT+HTTPSCLOSE=0'):
        check(p.cmd(bad) == b"\r\nERROR\r\n", "neoway: %s -> ERROR" % bad[:60])
    check(p.cmd("AT+HTTPSPARA=url,%s" % ("o" * 512)) == b"\r\nOK\r\n",
          "neoway 9.11: a 512-byte url -> OK")
    check(p.cmd("AT+HTTPSCLOSE") == b"\r\nOK\r\n", "neoway: HTTPSCLOSE without a link -> OK only")
    check(p.cmd("AT+HTTPSSETUP") == b"\r\nERROR\r\n", "neoway: HTTPSCLOSE cleared the url: HTTPSSETUP -> ERROR")
    check(p.cmd("AT+HTTPSACTION=0") == b"\r\nERROR\r\n",
          "neoway 9.13: HTTPSACTION before HTTPSSETUP -> ERROR (its only failure)")


def test_neoway_https_link(p, tls, plain):
    packet = b"GET /s?q=1 HTTP/1.1\r\nHost: origin.test\r\nX-Odd:  two \r\nConnection: close\r\n\r\n"
    # SSL 3.0 (the default), which the TLS 1.2 side cannot complete
    p.cmd('AT+HTTPSCFG="sslversion",0')
    p.cmd('AT+HTTPSCFG="authmode",0')
    check(p.cmd("AT+HTTPSPARA=url,origin.test/") == b"\r\nOK\r\n" and
          p.cmd("AT+HTTPSSETUP", 30) == b"\r\nERROR\r\n", "neoway: sslversion 0 -> HTTPSSETUP ERROR")
    p.cmd('AT+HTTPSCFG="sslversion",3')
    p.cmd('AT+HTTPSCFG="authmode",1')
    fails = tls.failed
    # authmode 1 with no CA file: the server's certificate is rejected
    check(p.cmd("AT+HTTPSSETUP", 30) == b"\r\nERROR\r\n",
          "neoway: authmode 1 without roots -> HTTPSSETUP ERROR (certificate rejected)")
    time.sleep(0.2)
    check(tls.failed > fails, "neoway: ... the handshake reached the origin and was abandoned")
    p.cmd('AT+HTTPSCFG="authmode",0')
    n = len(tls.snis)
    check(p.cmd("AT+HTTPSSETUP", 30) == b"\r\nOK\r\n", "neoway: authmode 0 -> HTTPSSETUP OK")
    check(p.cmd("AT+HTTPSSETUP") == b"\r\nERROR\r\n", "neoway: HTTPSSETUP on an open link -> ERROR")
    prompt, fin = neo_s_packet(p, packet)
    got = neo_s_response(p)
    check(prompt == b"\r\n>" and fin == b"\r\nOK\r\n" and tls.last() == packet and got == tls.sent[-1],
          "neoway 9.13 mode 99: the packet over TLS verbatim, +HTTPSRECV:, the raw response, +HTTPSCLOSED")
    check(tls.snis[n:] == ["origin.test"], "neoway: SNI origin.test sent (%r)" % tls.snis[n:])
    check(p.cmd("AT+HTTPSCLOSE") == b"\r\nOK\r\n", "neoway: HTTPSCLOSE after the origin closed -> OK")
    # recvmode 1, the port set, the parameterized GET
    check(p.cmd("AT+HTTPSPARA=recvmode,1") == b"\r\nOK\r\n", "neoway: HTTPSPARA recvmode,1 -> OK")
    check(neo_s_setup(p, "origin.test/big", 443), "neoway: https setup, port 443")
    check(p.cmd("AT+HTTPSACTION=0") == b"\r\nOK\r\n", "neoway: HTTPSACTION=0 -> OK")
    body, sizes = b"", []
    while True:
        if p.buf.startswith(NEO_S_CLOSED):
            p.take(len(NEO_S_CLOSED))
            break
        m = re.match(rb"\r\n\+HTTPSRECV: (\d+),", p.buf)
        if not m:
            if len(p.buf) < 64:
                p.fill(time.monotonic() + 10)
                continue
            break
        p.take(m.end())
        body += p.take(int(m.group(1)))
        sizes.append(int(m.group(1)))
    check(body == tls.sent[-1] and sizes and max(sizes) <= 1460,
          "neoway https recvmode 1: +HTTPSRECV: <len>,<data> frames (%d), then +HTTPSCLOSED" % len(sizes))
    check(tls.last().startswith(b"GET /big HTTP/1.1\r\nHost: origin.test\r\n"),
          "neoway: HTTPSACTION=0 sends GET with the Host, no :443")
    # a link kept open, closed by HTTPSCLOSE; the http set untouched
    p.cmd("AT+HTTPSCLOSE")
    check(p.cmd("AT+HTTPPARA=url,www.neoway.com.cn/") == b"\r\nOK\r\n", "neoway: http url set")
    neo_s_setup(p, "origin.test/")
    req = b"GET /keep HTTP/1.1\r\nHost: origin.test\r\n\r\n"
    neo_s_packet(p, req)
    want = b"\r\n+HTTPSRECV: \r\n" + raw_response(200, req, keep=True)
    check(p.take(len(want)) == want and p.quiet(0.5) == b"", "neoway https keep-alive: response, no +HTTPSCLOSED")
    check(p.cmd("AT+HTTPSCLOSE") == b"\r\nOK\r\n" and
          p.until(b"\r\n", 5) + p.until(b"\r\n", 5) == b"\r\n+HTTPSCLOSE: HTTPS Link Closed\r\n",
          "neoway 9.14: HTTPSCLOSE on an open link -> OK, +HTTPSCLOSE: HTTPS Link Closed")
    check(p.cmd("AT+HTTPSETUP") == b"\r\nOK\r\n", "neoway: HTTPSCLOSE left the http parameters")
    p.cmd("AT+HTTPCLOSE")
    p.quiet(0.3)
    # a server that speaks no TLS: the handshake fails, the same bare ERROR
    check(p.cmd("AT+HTTPSPARA=url,plain.test/") == b"\r\nOK\r\n" and
          p.cmd("AT+HTTPSSETUP", 30) == b"\r\nERROR\r\n", "neoway: no TLS at the server -> HTTPSSETUP ERROR")
    check(p.cmd("AT+HTTPSACTION=0") == b"\r\nERROR\r\n", "neoway: and no link after it")
    p.cmd("AT+HTTPSCLOSE")


def test_neoway_https(binary, tmp, routes):
    pki = os.path.join(tmp, "pki")
    r = subprocess.run(["bash", os.path.join(HERE, "..", "tests", "e2e", "pki.sh"), pki],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    check(r.returncode == 0, "neoway https: test PKI made (%s)" % r.stderr.decode()[-200:])
    if r.returncode:
        return
    tls = TLSRawOrigin(os.path.join(pki, "origin.pem"), os.path.join(pki, "origin.key"))
    plain = RawOrigin()
    troutes = routes + ["--route=origin.test:443=127.0.0.1:%d" % tls.port,
                        "--route=plain.test:443=127.0.0.1:%d" % plain.port]
    emu = Emu(binary, tmp, "neoway-s", *troutes, modem="neoway")
    p = Port(emu.link)
    try:
        p.cmd("ATE0")
        p.quiet(0.3)
        test_neoway_https_cfg(p)
        test_neoway_https_link(p, tls, plain)
    finally:
        p.close()
        check(emu.stop() == 0, "neoway https emulator exits 0")
    emu = Emu(binary, tmp, "neoway-nosni", *troutes, "--variant", "nosni", modem="neoway")
    p = Port(emu.link)
    try:
        p.cmd("ATE0")
        p.quiet(0.3)
        p.cmd('AT+HTTPSCFG="sslversion",3')
        p.cmd('AT+HTTPSCFG="authmode",0')
        n = len(tls.snis)
        check(neo_s_setup(p, "origin.test/"), "neoway nosni: HTTPSSETUP OK")
        req = b"GET / HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n"
        neo_s_packet(p, req)
        check(neo_s_response(p) == tls.sent[-1], "neoway nosni: the response")
        check(tls.snis[n:] == [None], "neoway nosni: no server_name sent (%r)" % tls.snis[n:])
    finally:
        p.close()
        emu.stop()
    emu = Emu(binary, tmp, "neoway-nohttps", *troutes, "--variant", "nohttps", modem="neoway")
    p = Port(emu.link)
    try:
        p.cmd("ATE0")
        p.quiet(0.3)
        for line in ("AT+HTTPSCLOSE", 'AT+HTTPSCFG="authmode",0', "AT+HTTPSCFG?",
                     "AT+HTTPSPARA=url,origin.test/", "AT+HTTPSSETUP", "AT+HTTPSACTION=0"):
            check(p.cmd(line) == b"\r\nERROR\r\n", "neoway nohttps: %s -> ERROR" % line)
        check(neo_setup(p, "www.neoway.com.cn/"), "neoway nohttps: http still works")
        p.cmd("AT+HTTPCLOSE")
    finally:
        p.close()
        emu.stop()


# ---------------------------------------------------------------- httpcfg / quectel

class HC:
    """Commands of the httpcfg family, with or without the Q."""

    def __init__(self, p, q=""):
        self.p, self.q = p, q

    def c(self, line, timeout=10):
        return final(self.p, line.replace("AT+", "AT+" + self.q), timeout)

    def data(self, line, data, timeout=10):
        """A command with a CONNECT data phase: returns (prompt, final)."""
        self.p.send(line.replace("AT+", "AT+" + self.q).encode() + b"\r")
        first = self.p.until(b"\r\n", timeout)
        if first == b"\r\n":
            first += self.p.until(b"\r\n", timeout)
        if first != b"\r\nCONNECT\r\n":
            return first, b""
        self.p.send(data)
        return first, self.p.until(b"\r\n", timeout) + self.p.until(b"\r\n", timeout)

    def url(self, url):
        return self.data("AT+HTTPURL=%d,10" % len(url), url.encode()) == \
            (b"\r\nCONNECT\r\n", b"\r\nOK\r\n")

    def urc(self, timeout=30):
        return self.p.urc(timeout)

    def read(self):
        """AT+HTTPREAD: returns the bytes between CONNECT and OK, or None."""
        q = self.q.encode()
        self.p.send(b"AT+" + q + b"HTTPREAD\r")
        first = self.p.until(b"\r\n", 10)
        if first == b"\r\n":
            first += self.p.until(b"\r\n", 10)
        if first != b"\r\nCONNECT\r\n":
            self.p.buf = first + self.p.buf
            return None
        end = b"\r\nOK\r\n\r\n+" + q + b"HTTPREAD: 0\r\n"
        got = self.p.until(end, 30)
        return got[:-len(end)]


def test_hc_cfg(h, quectel):
    Q = h.q
    n = "quectel" if quectel else "httpcfg"
    r = h.c("AT+HTTPCFG=?")
    want = ("\r\n" + "".join('+%sHTTPCFG: "%s",%s\r\n' % (Q, k, v) for k, v in (
        ("contextid", "(1-16)"), ("requestheader", "(0,1)"), ("responseheader", "(0,1)"),
        ("sslctxid", "(0-5)"), ("contenttype", "(0-3)"), ("rspout/auto", "(0,1)"),
        ("closed/ind", "(0,1)"))) + "\r\nOK\r\n").encode()
    check(r == want, "%s: HTTPCFG=? lists the manual's ranges" % n)
    r = h.c("AT+HTTPCFG?")
    want = ("\r\n" + "".join('+%sHTTPCFG: "%s",%d\r\n' % (Q, k, v) for k, v in (
        ("contextid", 1), ("requestheader", 0), ("responseheader", 0), ("sslctxid", 1),
        ("contenttype", 0), ("rspout/auto", 0), ("closed/ind", 0))) + "\r\nOK\r\n").encode()
    check(r == want, "%s: HTTPCFG? shows the defaults" % n)
    check(h.c('AT+HTTPCFG="requestheader"') ==
          ('\r\n+%sHTTPCFG: "requestheader",0\r\n\r\nOK\r\n' % Q).encode(),
          "%s: HTTPCFG=<parameter> queries it" % n)
    for good in ('AT+HTTPCFG="responseheader",1', 'AT+HTTPCFG="responseheader",0',
                 'AT+HTTPCFG="sslctxid",2', 'AT+HTTPCFG="rspout/auto",0',
                 'AT+HTTPCFG="requestheader",0'):
        check(h.c(good) == b"\r\nOK\r\n", "%s: %s -> OK" % (n, good))
    for bad in ('AT+HTTPCFG="requestheader",2', 'AT+HTTPCFG="requestheader","1"',
                'AT+HTTPCFG="requestheader",1,1', 'AT+HTTPCFG="sslctxid",6',
                'AT+HTTPCFG="foo",1', 'AT+HTTPCFG="REQUESTHEADER",1',
                'AT+HTTPCFG="rspout/auto",1', "AT+HTTPCFG=1"):
        check(h.c(bad) == b"\r\n+CME ERROR: 730\r\n", "%s: %s -> +CME ERROR: 730" % (n, bad))
    for bad in ("AT+HTTPCFG", "AT+HTTPCFG=requestheader,1", 'AT+HTTPCFG="requestheader,1'):
        check(h.c(bad) == b"\r\nERROR\r\n", "%s: %s -> ERROR" % (n, bad))
    for k, v in (("contextid", 2), ("contenttype", 1), ("closed/ind", 1)):
        r = h.c('AT+HTTPCFG="%s",%d' % (k, v))
        if quectel:
            check(r == b"\r\nOK\r\n", "quectel: %s can be set" % k)
        else:
            check(r == b"\r\n+CME ERROR: 730\r\n",
                  "httpcfg: %s cannot be set (the manual: not supported yet)" % k)
    if quectel:
        h.c('AT+HTTPCFG="contextid",1')
        h.c('AT+HTTPCFG="contenttype",0')
        h.c('AT+HTTPCFG="closed/ind",0')


def test_hc_url(h, n):
    Q = h.q
    check(h.c("AT+HTTPURL?") == b"\r\n+CME ERROR: 712\r\n", "%s: HTTPURL? without a URL -> 712" % n)
    check(h.c("AT+HTTPURL=?") == ("\r\n+%sHTTPURL: (1-2048),(1-65535)\r\n\r\nOK\r\n" % Q).encode(),
          "%s: HTTPURL=?" % n)
    for bad in ("AT+HTTPURL=0", "AT+HTTPURL=2049", "AT+HTTPURL=10,0", "AT+HTTPURL=10,65536",
                'AT+HTTPURL="10"', "AT+HTTPURL=10,60,1", "AT+HTTPURL=,60"):
        check(h.c(bad) == b"\r\n+CME ERROR: 730\r\n", "%s: %s -> 730" % (n, bad))
    check(h.c("AT+HTTPURL") == b"\r\nERROR\r\n", "%s: HTTPURL without arguments -> ERROR" % n)
    for bad in ("ftp://origin.test/", "origin.test/", "http://origin.test/a b", "http://"):
        r = h.data("AT+HTTPURL=%d" % len(bad), bad.encode())
        check(r == (b"\r\nCONNECT\r\n", b"\r\n+CME ERROR: 711\r\n"),
              "%s: URL %r -> CONNECT, +CME ERROR: 711" % (n, bad))
    t0 = time.monotonic()
    r = h.data("AT+HTTPURL=30,1", b"http://")
    check(r == (b"\r\nCONNECT\r\n", b"\r\n+CME ERROR: 726\r\n") and time.monotonic() - t0 > 0.9,
          "%s: fewer URL bytes than announced -> 726 after <timeout>" % n)
    r = h.data("AT+HTTPURL=18", b"http://origin.test/xyz")
    h.p.send(b"\r")
    rest = h.p.until(b"\r\n", 5) + h.p.until(b"\r\n", 5)
    check(r == (b"\r\nCONNECT\r\n", b"\r\nOK\r\n") and rest == b"\r\nERROR\r\n",
          "%s: more URL bytes than announced: the rest is a command line -> ERROR" % n)
    check(h.c("AT+HTTPURL?") == ("\r\n+%sHTTPURL: http://origin.test\r\n\r\nOK\r\n" % Q).encode(),
          "%s: HTTPURL? shows the URL" % n)
    check(h.url("http://origin.test/a?b=1,2"), "%s: HTTPURL=26,10 -> CONNECT, OK" % n)


def test_hc_get(h, origin, n, ua):
    Q = h.q
    U = Q + "HTTPGET"
    check(h.c("AT+HTTPGET=?") == ("\r\n+%s: (1-65535),(1-2048),(1-65535)\r\n\r\nOK\r\n" % U).encode(),
          "%s: HTTPGET=?" % n)
    check(h.c("AT+HTTPREAD") == b"\r\n+CME ERROR: 705\r\n", "%s: HTTPREAD without a request -> 705" % n)
    for bad in ("AT+HTTPGET=0", "AT+HTTPGET=65536", "AT+HTTPGET=60,10", 'AT+HTTPGET="60"'):
        check(h.c(bad) == b"\r\n+CME ERROR: 730\r\n", "%s: %s (requestheader 0) -> 730" % (n, bad))
    check(h.c("AT+HTTPGET?") == b"\r\nERROR\r\n", "%s: HTTPGET? -> ERROR (not supported)" % n)
    h.url("http://origin.test/get?x=1")
    check(h.c("AT+HTTPGET") == b"\r\nOK\r\n", "%s: HTTPGET -> OK" % n)
    req = (b"GET /get?x=1 HTTP/1.1\r\nHost: origin.test\r\nAccept: */*\r\n"
           b"User-Agent: " + ua + b"\r\nConnection: close\r\n\r\n")
    body = req
    check(h.urc() == "+%s: 0,200,%d" % (U, len(body)), "%s: +%s: 0,200,<content_length>" % (n, U))
    check(origin.last() == req, "%s: the request the module built: %r" % (n, origin.last()))
    check(h.read() == body, "%s: HTTPREAD -> CONNECT, body, OK, +%sHTTPREAD: 0" % (n, Q))
    check(h.c("AT+HTTPREAD") == b"\r\n+CME ERROR: 705\r\n", "%s: a second HTTPREAD -> 705" % n)
    # responseheader 1 and <rsptime>
    h.c('AT+HTTPCFG="responseheader",1')
    check(h.c("AT+HTTPGET=80") == b"\r\nOK\r\n", "%s: HTTPGET=<rsptime> -> OK" % n)
    h.urc()
    check(h.read() == origin.sent[-1], "%s: responseheader 1: header block and body" % n)
    check(h.c("AT+HTTPREAD=?") == ("\r\n+%sHTTPREAD: (1-65535)\r\n\r\nOK\r\n" % Q).encode(),
          "%s: HTTPREAD=?" % n)
    for bad in ("AT+HTTPREAD=0", "AT+HTTPREAD=1,2"):
        check(h.c(bad) == b"\r\n+CME ERROR: 730\r\n", "%s: %s -> 730" % (n, bad))
    h.c("AT+HTTPGET")
    h.urc()
    h.p.send(("AT+%sHTTPREAD=5\rAT\r" % Q).encode())
    got = h.p.until(("\r\n+%sHTTPREAD: 0\r\n" % Q).encode())
    check(got.startswith(b"\r\nCONNECT\r\n") and h.p.quiet(0.3) == b"\r\nERROR\r\n",
          "%s: AT before +HTTPREAD: 0 -> ERROR after it" % n)
    h.c('AT+HTTPCFG="responseheader",0')
    # chunked
    h.url("http://origin.test/chunked")
    h.c("AT+HTTPGET")
    check(h.urc() == "+%s: 0,200" % U, "%s: chunked: +%s: 0,200 (no Content-Length)" % (n, U))
    check(h.read() == b"".join(RAW_CHUNKS), "%s: chunked body read de-chunked" % n)
    # GETEX
    h.url("http://origin.test/ex")
    check(h.c("AT+HTTPGETEX=60,100,50") == b"\r\nOK\r\n", "%s: HTTPGETEX -> OK" % n)
    check(re.fullmatch(r"\+%sEX: 0,200,\d+" % U, h.urc()) is not None, "%s: +%sEX: 0,200,<len>" % (n, U))
    check(b"Range: bytes=100-149\r\n" in origin.last(), "%s: HTTPGETEX sends a Range" % n)
    h.read()
    for bad in ("AT+HTTPGETEX=60,100", "AT+HTTPGETEX=0,1,1", "AT+HTTPGETEX=60,0,0"):
        check(h.c(bad) == b"\r\n+CME ERROR: 730\r\n", "%s: %s -> 730" % (n, bad))
    # status and failures
    h.url("http://origin.test/404")
    h.c("AT+HTTPGET")
    check(h.urc() == "+%s: 0,404,9" % U, "%s: a 404 is a result: +%s: 0,404,9" % (n, U))
    check(h.read() == b"not found", "%s: the 404's body" % n)
    h.url("http://origin.test/nolen")
    h.c("AT+HTTPGET")
    check(h.urc() == "+%s: 0,200" % U and h.read() == b"until the close",
          "%s: a body until the close" % n)
    for url, code in (("http://nosuch.invalid/", 714), ("http://refused.test/", 716),
                      ("http://garbage.test/", 723), ("http://origin.test/short", 719)):
        h.url(url)
        h.c("AT+HTTPGET")
        check(h.urc(60) == "+%s: %d" % (U, code), "%s: %s -> +%s: %d" % (n, url, U, code))
        check(h.c("AT+HTTPREAD") == b"\r\n+CME ERROR: 705\r\n", "%s: nothing to read" % n)
    # busy, then <rsptime> exceeded
    h.url("http://origin.test/slow")
    h.c("AT+HTTPGET")
    check(h.c("AT+HTTPGET") == b"\r\n+CME ERROR: 703\r\n", "%s: HTTPGET while one runs -> 703" % n)
    check(h.c("AT+HTTPREAD") == b"\r\n+CME ERROR: 703\r\n", "%s: HTTPREAD before the URC -> 703" % n)
    check(h.c("AT+HTTPURL=5") == b"\r\n+CME ERROR: 703\r\n", "%s: HTTPURL while one runs -> 703" % n)
    check(re.fullmatch(r"\+%s: 0,200,\d+" % U, h.urc()) is not None, "%s: the slow answer comes" % n)
    h.read()
    t0 = time.monotonic()
    h.c("AT+HTTPGET=1")
    check(h.urc() == "TIMEOUT" and time.monotonic() - t0 < 2.5,
          "%s: <rsptime> 1 s passed -> TIMEOUT (the manual's form)" % n)


def test_hc_post(h, origin, n, ua):
    U = h.q + "HTTPPOST"
    check(h.c("AT+HTTPPOST=?") == ("\r\n+%s: (1-1024000),(1-65535),(1-65535)\r\n\r\nOK\r\n" % U).encode(),
          "%s: HTTPPOST=?" % n)
    for bad in ("AT+HTTPPOST=0", "AT+HTTPPOST=1024001", "AT+HTTPPOST=18,60",
                "AT+HTTPPOST=18,0,60", "AT+HTTPPOST=18,60,0", "AT+HTTPPOST=18,60,60,1"):
        check(h.c(bad) == b"\r\n+CME ERROR: 730\r\n", "%s: %s -> 730" % (n, bad))
    check(h.c("AT+HTTPPOST") == b"\r\nERROR\r\n", "%s: HTTPPOST without arguments -> ERROR" % n)
    h.url("http://origin.test:80/post")
    r = h.data("AT+HTTPPOST=18", b"Message=helloworld")
    check(r == (b"\r\nCONNECT\r\n", b"\r\nOK\r\n"), "%s: HTTPPOST -> CONNECT, 18 bytes, OK" % n)
    req = (b"POST /post HTTP/1.1\r\nHost: origin.test:80\r\nAccept: */*\r\nUser-Agent: " + ua +
           b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 18\r\n"
           b"Connection: close\r\n\r\nMessage=helloworld")
    check(h.urc() == "+%s: 0,200,%d" % (U, len(req)), "%s: +%s: 0,200,<len>" % (n, U))
    check(origin.last() == req and h.read() == req, "%s: the POST the module built" % n)
    big = os.urandom(1024000)
    r = h.data("AT+HTTPPOST=1024000,60,60", big, 60)
    check(r == (b"\r\nCONNECT\r\n", b"\r\nOK\r\n"), "%s: a 1024000-byte POST (the limit)" % n)
    h.urc()
    got = h.read()
    check(got is not None and got.endswith(big), "%s: 1024000 bytes reached the origin" % n)
    # failures before CONNECT
    h.url("http://refused.test/")
    check(h.c("AT+HTTPPOST=5") == b"\r\n+CME ERROR: 716\r\n", "%s: POST, connect fails -> 716, no CONNECT" % n)
    h.url("http://nosuch.invalid/")
    check(h.c("AT+HTTPPOST=5", 30) == b"\r\n+CME ERROR: 714\r\n", "%s: POST, DNS fails -> 714" % n)
    h.url("http://origin.test/post")
    t0 = time.monotonic()
    r = h.data("AT+HTTPPOST=10,1,60", b"abc")
    check(r == (b"\r\nCONNECT\r\n", b"\r\n+CME ERROR: 726\r\n") and time.monotonic() - t0 > 0.9,
          "%s: fewer POST bytes than announced -> 726 after <input_time>" % n)


def test_hc_raw(h, origin, n):
    U = h.q + "HTTPGET"
    check(h.c('AT+HTTPCFG="requestheader",1') == b"\r\nOK\r\n", "%s: requestheader 1" % n)
    h.c('AT+HTTPCFG="responseheader",1')
    for bad in ("AT+HTTPGET=60", "AT+HTTPGET=60,0", "AT+HTTPGET=60,2049", "AT+HTTPGET=0,10",
                "AT+HTTPGET=60,10,0", "AT+HTTPGETEX=60,0,10"):
        check(h.c(bad) == b"\r\n+CME ERROR: 730\r\n", "%s raw: %s -> 730" % (n, bad))
    check(h.c("AT+HTTPGET") == b"\r\n+CME ERROR: 730\r\n", "%s raw: HTTPGET without <data_length> -> 730" % n)
    h.url("http://origin.test/")
    req = (b"GET /raw?a=1 HTTP/1.1\r\nHost: elsewhere.example\r\nX-Odd:  two \r\n"
           b"cookie: k=v\r\nRange: bytes=0-\r\n\r\n")
    r = h.data("AT+HTTPGET=60,%d" % len(req), req)
    check(r == (b"\r\nCONNECT\r\n", b"\r\nOK\r\n"), "%s raw GET: CONNECT, packet, OK" % n)
    check(re.fullmatch(r"\+%s: 0,200,\d+" % U, h.urc()) is not None, "%s raw GET: +%s" % (n, U))
    check(origin.last() == req, "%s raw GET: forwarded verbatim to the URL's origin" % n)
    check(h.read() == origin.sent[-1], "%s raw GET: HTTPREAD gives header block and body" % n)
    req = b"HEAD /h HTTP/1.1\r\nHost: origin.test\r\n\r\n"
    h.data("AT+HTTPGET=60,%d,5" % len(req), req)
    h.urc()
    check(h.read() == origin.sent[-1] and origin.sent[-1].endswith(b"\r\n\r\n"),
          "%s raw HEAD: no body expected" % n)
    for method in (b"POST", b"PUT"):
        body = b"\x00\r\nAT+CMGS=1\r\n\xff" * 3
        req = (method + b" /raw/" + method.lower() + b" HTTP/1.1\r\nHost: origin.test\r\n"
               b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
        r = h.data("AT+HTTPPOST=%d,5,60" % len(req), req)
        check(r == (b"\r\nCONNECT\r\n", b"\r\nOK\r\n"), "%s raw %s: CONNECT, packet, OK" % (n, method.decode()))
        check(re.fullmatch(r"\+%sHTTPPOST: 0,200,\d+" % h.q, h.urc()) is not None,
              "%s raw %s: +%sHTTPPOST" % (n, method.decode(), h.q))
        check(origin.last() == req and h.read() == origin.sent[-1],
              "%s raw %s: verbatim both ways" % (n, method.decode()))
    req = b"GET /chunked HTTP/1.1\r\nHost: origin.test\r\n\r\n"
    h.data("AT+HTTPGET=60,%d" % len(req), req)
    h.urc()
    got = h.read()
    head = chunked_response().split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    check(got == head + b"".join(RAW_CHUNKS), "%s raw: chunked response: header block, de-chunked body" % n)
    h.c('AT+HTTPCFG="requestheader",0')
    h.c('AT+HTTPCFG="responseheader",0')


def test_hc(binary, tmp, routes, origin, modem):
    quectel = modem == "quectel"
    q = "Q" if quectel else ""
    ua = b"QUECTEL_MODULE" if quectel else b"HTTP_MODULE"
    emu = Emu(binary, tmp, modem, *routes, modem=modem)
    p = Port(emu.link)
    h = HC(p, q)
    try:
        start_dialect(p, modem)
        r = p.cmd("ATI")
        check((b"Quectel" if quectel else b"HTTPCFG") in r and r.endswith(b"\r\nOK\r\n"),
              "%s: ATI" % modem)
        other = "AT+HTTPCFG?" if quectel else "AT+QHTTPCFG?"
        check(p.cmd(other) == b"\r\nERROR\r\n", "%s: %s (the other prefix) -> ERROR" % (modem, other))
        # The twins share one command table under their own prefix: each
        # knows only its own spelling, not its twin's nor a foreign one.
        for name in ("HTTPGET" if quectel else "QHTTPGET", "XHTTPGET"):
            for form in ("", "=?"):
                line = "AT+%s%s" % (name, form)
                check(final(p, line) == b"\r\nERROR\r\n", "%s: %s (not its prefix) -> ERROR" % (modem, line))
        check(h.c("AT+HTTPGET") == b"\r\n+CME ERROR: 712\r\n", "%s: HTTPGET without a URL -> 712" % modem)
        test_hc_cfg(h, quectel)
        test_hc_url(h, modem)
        test_hc_get(h, origin, modem, ua)
        test_hc_post(h, origin, modem, ua)
        test_hc_raw(h, origin, modem)
        check(h.c("AT+HTTPSTOP=?") == b"\r\nOK\r\n", "%s: HTTPSTOP=? -> OK" % modem)
        if quectel:
            h.url("http://origin.test/slow")
            h.c("AT+HTTPGET")
            check(h.c("AT+HTTPSTOP") == b"\r\nOK\r\n" and p.quiet(3.5) == b"",
                  "quectel: QHTTPSTOP cancels the request: no URC")
        else:
            check(h.c("AT+HTTPSTOP") == b"\r\nERROR\r\n", "httpcfg: HTTPSTOP -> ERROR (not supported yet)")
        log = open(emu.log, "rb").read()
        check(("CMD AT+%sHTTPPOST=18\n" % q).encode() in log and
              b"DATA 18 Message=helloworld\n" in log, "%s: --log has CMD and DATA lines" % modem)
    finally:
        p.close()
        check(emu.stop() == 0, "%s emulator exits 0" % modem)


def test_hc_variants(binary, tmp, routes):
    emu = Emu(binary, tmp, "quectel-v", *routes, "--variant", "timeout-code",
              "--max-body", "100000", modem="quectel")
    p = Port(emu.link)
    h = HC(p, "Q")
    try:
        p.cmd("ATE0")
        p.quiet(0.3)
        h.url("http://origin.test/slow")
        h.c("AT+HTTPGET=1")
        check(h.urc() == "+QHTTPGET: 702", "quectel timeout-code: +QHTTPGET: 702")
        p.quiet(3)
        h.url("http://origin.test/big")
        h.c("AT+HTTPGET")
        check(h.urc() == "+QHTTPGET: 729", "quectel --max-body exceeded -> +QHTTPGET: 729")
    finally:
        p.close()
        emu.stop()
    emu = Emu(binary, tmp, "httpcfg-v", *routes, "--variant", "raw-chunked", modem="httpcfg")
    p = Port(emu.link)
    h = HC(p)
    try:
        p.cmd("ATE0")
        p.quiet(0.3)
        h.url("http://origin.test/chunked")
        h.c("AT+HTTPGET")
        h.urc()
        raw = chunked_response()
        check(h.read() == raw[raw.index(b"\r\n\r\n") + 4:],
              "httpcfg raw-chunked: HTTPREAD keeps the chunk framing")
    finally:
        p.close()
        emu.stop()


# ---------------------------------------------------------------- httpcfg / quectel: TLS

def hc_checksum(data):
    """Quectel's FILE AT manual: XOR of big-endian byte pairs, an odd last
    byte as the high half."""
    if len(data) % 2:
        data += b"\0"
    s = 0
    for i in range(0, len(data), 2):
        s ^= data[i] << 8 | data[i + 1]
    return s


class TlsOrigin:
    """tests/origin.py with the test PKI (tests/e2e/pki.sh) on TLS listeners."""

    def __init__(self, tmp):
        root = os.path.join(HERE, "..")
        self.pki = os.path.join(tmp, "pki")
        subprocess.run(["bash", os.path.join(root, "tests", "e2e", "pki.sh"), self.pki],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.www = os.path.join(tmp, "www-tls")
        os.makedirs(self.www, exist_ok=True)
        self.small = os.urandom(3000)
        with open(os.path.join(self.www, "small.bin"), "wb") as f:
            f.write(self.small)
        self.log = os.path.join(tmp, "origin-tls.log")
        args = [sys.executable, os.path.join(root, "tests", "origin.py"), "--dir", self.www,
                "--log", self.log]
        for n in ("origin", "untrusted", "wrongname"):
            args += ["--tls", "%s=%s/%s.pem:%s/%s.key" % (n, self.pki, n, self.pki, n)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE)
        self.ports = {}
        while True:
            line = self.proc.stdout.readline().decode().split()
            if not line:
                raise RuntimeError("origin.py printed no PORT line")
            if line[0] == "TLSPORT":
                self.ports[line[1]] = int(line[2])
            elif line[0] == "PORT":
                break
        self.routes = ["--route=%s.test:443=127.0.0.1:%d" % (n, p) for n, p in self.ports.items()]
        self.root = open(os.path.join(self.pki, "root.pem"), "rb").read()

    def tls_lines(self):
        return [l for l in open(self.log, encoding="latin-1").read().splitlines()
                if l.startswith("TLS")]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def hc_upload(h, name, data, timeout=10):
    return h.data('AT+FUPL="%s",%d,%d' % (name, len(data), timeout), data), h.q


def test_hc_ssl_syntax(h, n, ctx):
    Q = h.q
    S = "AT+%sSSLCFG" % Q
    for key, default in (("sslversion", 4), ("seclevel", 0), ("sni", 1)):
        check(h.p.cmd('%s="%s",%d' % (S, key, ctx)) ==
              ('\r\n+%sSSLCFG: "%s",%d,%d\r\n\r\nOK\r\n' % (Q, key, ctx, default)).encode(),
              "%s: %sSSLCFG=\"%s\",%d queries the default %d" % (n, Q, key, ctx, default))
    check(h.p.cmd('%s="cacert",%d' % (S, ctx)) == ('\r\n+%sSSLCFG: "cacert",%d,""\r\n\r\nOK\r\n' % (Q, ctx)).encode(),
          "%s: cacert query with none set" % n)
    for good in ('"seclevel",%d,2' % ctx, '"seclevel",%d,0' % ctx, '"sni",%d,0' % ctx, '"sni",%d,1' % ctx,
                 '"sslversion",%d,3' % ctx, '"sslversion",%d,4' % ctx, '"cacert",%d,"UFS:ca.pem"' % ctx,
                 '"cacert",0,"ca.pem"'):
        check(h.p.cmd("%s=%s" % (S, good)) == b"\r\nOK\r\n", "%s: %sSSLCFG=%s -> OK" % (n, Q, good))
    check(h.p.cmd('%s="cacert",%d' % (S, ctx)) ==
          ('\r\n+%sSSLCFG: "cacert",%d,"UFS:ca.pem"\r\n\r\nOK\r\n' % (Q, ctx)).encode(),
          "%s: cacert query shows the file" % n)
    for bad in ('"seclevel",%d,3' % ctx, '"seclevel",6,1', '"seclevel","1",1', '"seclevel",%d,"1"' % ctx,
                "seclevel,%d,1" % ctx, '"SECLEVEL",%d,1' % ctx, '"sni",%d,2' % ctx, '"sslversion",%d,5' % ctx,
                '"cacert",%d,5' % ctx, '"cacert",%d,"UFS:a*b"' % ctx, '"cacert",%d,""' % ctx,
                '"cacert",%d,"x",1' % ctx, '"seclevel",%d,1,1' % ctx, '"seclevel"', '"nosuch",%d,1' % ctx,
                '"seclevel",%d,1' % ctx + '"'):
        check(h.p.cmd("%s=%s" % (S, bad)) == b"\r\nERROR\r\n", "%s: %sSSLCFG=%s -> ERROR" % (n, Q, bad))
    check(h.p.cmd(S + "?") == b"\r\nERROR\r\n", "%s: %sSSLCFG? -> ERROR" % (n, Q))
    h.p.cmd('%s="cacert",0,"x.pem"' % S)


def test_hc_files(h, n):
    Q = h.q
    data = b"-----BEGIN CERTIFICATE-----\r\nAT+CMGS=1\r\n\x00\xff+++\r\nOK\r\n-"
    r, _ = hc_upload(h, "UFS:t.pem", data)
    check(r[0] == b"\r\nCONNECT\r\n" and r[1] == ("\r\n+%sFUPL: %d,%x\r\n" % (Q, len(data), hc_checksum(data))).encode(),
          "%s: %sFUPL -> CONNECT, %d bytes, +%sFUPL: <size>,<checksum> %r" % (n, Q, len(data), Q, r))
    check(h.p.until(b"\r\n", 5) + h.p.until(b"\r\n", 5) == b"\r\nOK\r\n", "%s: ... then OK" % n)
    check(h.p.cmd('AT+%sFLST="UFS:t.pem"' % Q) == ('\r\n+%sFLST: "UFS:t.pem",%d\r\n\r\nOK\r\n' % (Q, len(data))).encode(),
          "%s: %sFLST=<name> lists it" % (n, Q))
    check(h.p.cmd('AT+%sFLST="t.pem"' % Q) == ('\r\n+%sFLST: "UFS:t.pem",%d\r\n\r\nOK\r\n' % (Q, len(data))).encode(),
          "%s: %sFLST without UFS: the same file" % (n, Q))
    check(h.p.cmd('AT+%sFLST="nosuch.pem"' % Q) == b"\r\n\r\nOK\r\n", "%s: %sFLST of no file -> OK alone" % (n, Q))
    check(h.c('AT+FUPL="t.pem",5') == b"\r\n+CME ERROR: 407\r\n", "%s: %sFUPL onto an existing file -> 407" % (n, Q))
    r, _ = hc_upload(h, "u.pem", b"odd")
    h.p.until(b"\r\nOK\r\n", 5)
    check(r[1] == ("\r\n+%sFUPL: 3,%x\r\n" % (Q, 0x6f64 ^ 0x6400)).encode(), "%s: odd length checksum %r" % (n, r))
    check(h.p.cmd("AT+%sFLST" % Q) == ('\r\n+%sFLST: "UFS:t.pem",%d\r\n+%sFLST: "UFS:u.pem",3\r\n\r\nOK\r\n'
                                        % (Q, len(data), Q)).encode(), "%s: %sFLST lists every file" % (n, Q))
    for bad in ('AT+FUPL="x.pem",0', 'AT+FUPL="x.pem",5,0', 'AT+FUPL="x.pem",5,5,1', "AT+FUPL=x.pem,5",
                'AT+FUPL="x.pem","5"', 'AT+FUPL="x.pem",5,5,0,0', "AT+FUPL", 'AT+FDEL="a",1', "AT+FDEL",
                "AT+FLST=1", 'AT+FLST="a","b"'):
        check(h.c(bad) == b"\r\nERROR\r\n", "%s: %s -> ERROR" % (n, bad.replace("AT+", "AT+" + Q)))
    for bad in ('AT+FUPL="a*b",5', 'AT+FUPL="RAM:x",5', 'AT+FUPL="%s",5' % ("n" * 81), 'AT+FDEL="a/b"'):
        check(h.c(bad) == b"\r\n+CME ERROR: 406\r\n", "%s: %s -> 406" % (n, bad.replace("AT+", "AT+" + Q)))
    check(h.c('AT+FUPL="big.pem",%d' % (256 * 1024 + 1)) == b"\r\n+CME ERROR: 423\r\n", "%s: a file too large -> 423" % n)
    t0 = time.monotonic()
    r = h.data('AT+FUPL="short.pem",10,1', b"abc")
    check(r == (b"\r\nCONNECT\r\n", b"\r\n+CME ERROR: 421\r\n") and time.monotonic() - t0 > 0.9,
          "%s: fewer file bytes than announced -> 421 after <timeout> %r" % (n, r))
    check(h.p.cmd('AT+%sFLST="short.pem"' % Q) == b"\r\n\r\nOK\r\n", "%s: ... and no file" % n)
    check(h.c('AT+FDEL="nosuch.pem"') == b"\r\n+CME ERROR: 405\r\n", "%s: %sFDEL of no file -> 405" % (n, Q))
    check(h.c('AT+FDEL="UFS:u.pem"') == b"\r\nOK\r\n", "%s: %sFDEL -> OK" % (n, Q))
    check(h.c('AT+FDEL="*"') == b"\r\nOK\r\n" and h.p.cmd("AT+%sFLST" % Q) == b"\r\n\r\nOK\r\n",
          "%s: %sFDEL=\"*\" deletes every file" % (n, Q))


def hc_https_get(h, url, timeout=30):
    """AT+HTTPURL, AT+HTTPGET: the URC, and the body if it is 0,200."""
    h.url(url)
    r = h.c("AT+HTTPGET")
    if r != b"\r\nOK\r\n":
        return r.decode(), None
    u = h.urc(timeout)
    return u, (h.read() if u.startswith("+%sHTTPGET: 0," % h.q) else None)


def test_hc_https(h, n, origin, ctx):
    Q = h.q
    S = "AT+%sSSLCFG" % Q
    U = "+%sHTTPGET" % Q
    if ctx != 1:
        # the unprefixed manual's note to 15.1: only context 2 works
        u, _ = hc_https_get(h, "https://origin.test/small.bin")
        check(u == U + ": 716", "%s: https with sslctxid 1 -> %s: 716 (%s)" % (n, U, u))
        h.c('AT+HTTPCFG="sslctxid",%d' % ctx)
    # seclevel 0: no verification, any certificate
    for host in ("origin", "untrusted", "wrongname"):
        u, body = hc_https_get(h, "https://%s.test/small.bin" % host)
        check(u == "%s: 0,200,3000" % U and body == origin.small,
              "%s: seclevel 0: https://%s.test: 200, the body (%s)" % (n, host, u))
    check(origin.tls_lines()[-1] == "TLS wrongname sni=wrongname.test", "%s: sni 1: SNI sent" % n)
    # verification without a CA file: never unverified
    h.p.cmd('%s="seclevel",%d,1' % (S, ctx))
    before = len(origin.tls_lines())
    u, _ = hc_https_get(h, "https://origin.test/small.bin")
    check(u == U + ": 716" and len(origin.tls_lines()) == before,
          "%s: seclevel 1 with no CA file -> 716, no handshake (%s)" % (n, u))
    # the roots uploaded and named
    r, _ = hc_upload(h, "UFS:root.pem", origin.root)
    h.p.until(b"\r\nOK\r\n", 5)
    check(r[1] == ("\r\n+%sFUPL: %d,%x\r\n" % (Q, len(origin.root), hc_checksum(origin.root))).encode(),
          "%s: the root uploaded" % n)
    check(h.p.cmd('%s="cacert",%d,"UFS:root.pem"' % (S, ctx)) == b"\r\nOK\r\n", "%s: cacert -> OK" % n)
    u, body = hc_https_get(h, "https://origin.test/small.bin")
    check(u == "%s: 0,200,3000" % U and body == origin.small, "%s: seclevel 1: origin.test verified: 200 (%s)" % (n, u))
    for host in ("untrusted", "wrongname"):
        u, _ = hc_https_get(h, "https://%s.test/small.bin" % host)
        check(u == U + ": 716", "%s: seclevel 1: %s.test rejected -> %s: 716 (%s)" % (n, host, U, u))
    # by HTTPPOST the failure is the CME error before CONNECT
    h.url("https://untrusted.test/echo")
    check(h.c("AT+HTTPPOST=5", 30) == b"\r\n+CME ERROR: 716\r\n", "%s: rejected certificate, HTTPPOST -> 716" % n)
    # sni 0: none sent (the origin's default certificate still verifies)
    h.p.cmd('%s="sni",%d,0' % (S, ctx))
    u, _ = hc_https_get(h, "https://origin.test/small.bin")
    check(u.startswith(U + ": 0,200") and origin.tls_lines()[-1] == "TLS origin sni=-",
          "%s: sni 0: no SNI (%s, %s)" % (n, u, origin.tls_lines()[-1]))
    h.p.cmd('%s="sni",%d,1' % (S, ctx))
    h.p.cmd('%s="seclevel",%d,0' % (S, ctx))
    h.c('AT+FDEL="*"')


def test_hc_tls(binary, tmp, origin, modem):
    quectel = modem == "quectel"
    ctx = 1 if quectel else 2
    emu = Emu(binary, tmp, modem + "-tls", *origin.routes, modem=modem)
    p = Port(emu.link)
    h = HC(p, "Q" if quectel else "")
    try:
        start_dialect(p, modem)
        test_hc_ssl_syntax(h, modem, ctx)
        test_hc_files(h, modem)
        test_hc_https(h, modem, origin, ctx)
    finally:
        p.close()
        check(emu.stop() == 0, "%s TLS emulator exits 0" % modem)


def test_hc_tls_variants(binary, tmp, origin):
    emu = Emu(binary, tmp, "quectel-sni", *origin.routes, "--variant", "sni-off", modem="quectel")
    p = Port(emu.link)
    h = HC(p, "Q")
    try:
        start_dialect(p, "quectel")
        check(p.cmd('AT+QSSLCFG="sni",1') == b'\r\n+QSSLCFG: "sni",1,0\r\n\r\nOK\r\n', "sni-off: sni is 0")
        u, _ = hc_https_get(h, "https://origin.test/small.bin")
        check(u.startswith("+QHTTPGET: 0,200") and origin.tls_lines()[-1] == "TLS origin sni=-",
              "sni-off: no SNI until the switch (%s)" % u)
        p.cmd('AT+QSSLCFG="sni",1,1')
        hc_https_get(h, "https://origin.test/small.bin")
        check(origin.tls_lines()[-1] == "TLS origin sni=origin.test", "sni-off: SNI once switched on")
    finally:
        p.close()
        emu.stop()
    emu = Emu(binary, tmp, "httpcfg-noup", *origin.routes, "--variant", "no-upload", modem="httpcfg")
    p = Port(emu.link)
    h = HC(p)
    try:
        start_dialect(p, "httpcfg")
        check(h.c('AT+FUPL="root.pem",5') == b"\r\nERROR\r\n", "no-upload: FUPL -> ERROR")
        check(p.cmd('AT+FLST="root.pem"') == b"\r\n\r\nOK\r\n", "no-upload: FLST still answers")
        check(p.cmd('AT+SSLCFG="seclevel",2,1') == b"\r\nOK\r\n", "no-upload: seclevel 1 -> OK")
    finally:
        p.close()
        emu.stop()
    emu = Emu(binary, tmp, "quectel-nosec", *origin.routes, "--variant", "no-seclevel", modem="quectel")
    p = Port(emu.link)
    try:
        start_dialect(p, "quectel")
        for lv in (1, 2):
            check(p.cmd('AT+QSSLCFG="seclevel",1,%d' % lv) == b"\r\nERROR\r\n", "no-seclevel: seclevel %d -> ERROR" % lv)
        check(p.cmd('AT+QSSLCFG="seclevel",1,0') == b"\r\nOK\r\n", "no-seclevel: seclevel 0 -> OK")
    finally:
        p.close()
        emu.stop()


def test_hc_tls_all(binary, tmp):
    origin = TlsOrigin(tmp)
    try:
        for modem in ("httpcfg", "quectel"):
            test_hc_tls(binary, tmp, origin, modem)
        test_hc_tls_variants(binary, tmp, origin)
    finally:
        origin.stop()


def test_new_dialects(binary, tmp, quick):
    origin = RawOrigin()
    closer = closing_server(0.5)
    routes = ["--route=origin.test=127.0.0.1:%d" % origin.port,
              "--route=www.neoway.com.cn=127.0.0.1:%d" % origin.port,
              "--route=121.15.200.97:8080=127.0.0.1:%d" % origin.port,
              "--route=closer.test=127.0.0.1:%d" % closer,
              "--route=garbage.test=127.0.0.1:%d" % garbage_server(),
              "--route=refused.test=127.0.0.1:%d" % closed_port()]
    emu = Emu(binary, tmp, "neoway", *routes, modem="neoway")
    p = Port(emu.link)
    try:
        test_neoway_refusals(p)
        test_neoway_examples(p, origin)
        test_neoway_raw(p, origin, emu)
        test_neoway_failures(p, origin, quick)
    finally:
        p.close()
        check(emu.stop() == 0, "neoway emulator exits 0")
    emu = Emu(binary, tmp, "neoway-c", *routes, "--variant", "compact", modem="neoway")
    try:
        test_neoway_compact(emu, origin)
    finally:
        emu.stop()
    test_neoway_https(binary, tmp, routes)
    for modem in ("httpcfg", "quectel"):
        test_hc(binary, tmp, routes, origin, modem)
    test_hc_variants(binary, tmp, routes)
    test_hc_tls_all(binary, tmp)


# ---------------------------------------------------------------- onemo

# The manual's responses, byte for byte (httpbin behind nginx): 3.5's GET
# (its header_len 225, content 145) and 4.1's POST and PUT (220).
OM_GET_HEAD = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.18.0\r\n"
               b"Date: Fri, 23 Jul 2021 09:59:35 GMT\r\nContent-Type: application/json\r\n"
               b"Content-Length: 145\r\nConnection: keep-alive\r\n"
               b"Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Credentials: true\r\n")
OM_GET_BODY = (b'{"args":{},"headers":{"Connection":"close","Content-Length":"0",'
               b'"Host":"localhost:6000"},"origin":"127.0.0.1","url":"http://localhost:6000/get"}\n')
# 4.1's content: 70 bytes, "\r" being a backslash and an r (the echo's
# Content-Length says 70).
OM_CONTENT = b'{"id":"speed1"\\r,"tags":["mobile"],"unit":"m/s"\\r,"unit_symbol":"m/s"}'
# The PDF lost some of the echo's quotes: its text, cut to the stated length.
OM_ECHO = (b'{"args":{},"data":"{\\"id\\":\\"speed1\\"\\\\r,\\"tags\\":[\\"mobile\\"],'
           b'\\"unit\\":\\"m/s\\"\\\\r,\\"unit_symbol\\":\\"m/s\\"}","files":{},"form":{},'
           b'"headers":{"Connection":"close","Content-Length":"70","Host":"localhost:6000"},'
           b'"json":null,"origin":"127.0.0.1","url":"http://localhost:6000/post"}\n' + b" " * 40)


def om_head(date, length, conn=b"close"):
    return (b"HTTP/1.1 200 OK\r\nServer: nginx/1.18.0\r\nDate: " + date +
            b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: " % length +
            conn + b"\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Credentials: true\r\n")


OM_POST_HEAD = om_head(b"Mon, 26 Jul 2021 06:25:23 GMT", 278)
OM_PUT_HEAD = om_head(b"Mon, 26 Jul 2021 06:26:42 GMT", 277)
# 4.1's chunked-mode POST to OneNET (175, 66).
OM_ONENET_HEAD = (b"HTTP/1.1 200 OK\r\nDate: Mon, 29 Nov 2021 07:33:31 GMT\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 66\r\n"
                  b"Connection: keep-alive\r\nServer: Apache-Coyote/1.1\r\nPragma: no-cache\r\n")
OM_ONENET_BODY = b'{"errno":11,"error":"datastream already exists: 622957377.speed1"}'
OM_HUGE = 50 * 1024 * 1024
OM_FINALS = rb"OK|ERROR|\+CME ERROR: \d+"


class OnemoOrigin:
    """Records each request exactly as it arrived (a chunked body with its
    framing) and answers with the manual's responses or predictable ones;
    /echo (any other path) answers the request itself as the body."""

    def __init__(self, tls=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.lock = threading.Lock()
        self.tls = tls              # an ssl.SSLContext: an https origin
        self.snis = []              # with tls: each handshake's server_name (None: no SNI)
        self.tls_failed = 0
        if tls:
            tls.sni_callback = lambda sock, name, ctx: self.snis.append(name)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf = b""
        if self.tls:
            try:
                c = self.tls.wrap_socket(c, server_side=True)
            except (OSError, ValueError):
                with self.lock:
                    self.tls_failed += 1
                c.close()
                return
        else:
            try:
                c.settimeout(10)
                if c.recv(1, socket.MSG_PEEK) == b"\x16":
                    # a TLS ClientHello to a plain origin: a plain answer
                    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    c.close()
                    return
            except OSError:
                c.close()
                return

        def need(n):
            nonlocal buf
            while len(buf) < n:
                d = c.recv(65536)
                if not d:
                    raise EOFError
                buf += d

        def line():
            nonlocal buf
            while b"\r\n" not in buf:
                need(len(buf) + 1)
            i = buf.index(b"\r\n") + 2
            out, buf = buf[:i], buf[i:]
            return out

        try:
            while b"\r\n\r\n" not in buf:
                need(len(buf) + 1)
            i = buf.index(b"\r\n\r\n") + 4
            head, buf = buf[:i], buf[i:]
            lines = head.split(b"\r\n")
            method, path = lines[0].split(b" ")[:2]
            fields = {}
            for h in lines[1:]:
                k, _, v = h.partition(b":")
                fields[k.strip().lower()] = v.strip()
            raw = head
            if fields.get(b"transfer-encoding") == b"chunked":
                while True:
                    size_line = line()
                    n = int(size_line.strip(), 16)
                    need(n + 2)
                    raw += size_line + buf[:n + 2]
                    buf = buf[n + 2:]
                    if n == 0:
                        break
            else:
                n = int(fields.get(b"content-length", b"0"))
                need(n)
                raw += buf[:n]
            with self.lock:
                self.requests.append(raw)
            self.answer(c, method, path, raw)
        except (EOFError, OSError):
            pass
        finally:
            c.close()

    def answer(self, c, method, path, raw):
        if path == b"/get":
            c.sendall(OM_GET_HEAD + b"\r\n" + OM_GET_BODY)
        elif path == b"/post":
            c.sendall(OM_POST_HEAD + b"\r\n" + OM_ECHO[:278])
        elif path == b"/put":
            c.sendall(OM_PUT_HEAD + b"\r\n" + OM_ECHO[:277])
        elif path == b"/devices/622957377/datastreams":
            c.sendall(OM_ONENET_HEAD + b"\r\n" + OM_ONENET_BODY)
        elif path == b"/big":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG))
            c.sendall(BIG)
        elif path == b"/huge":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % OM_HUGE)
            for _ in range(OM_HUGE // len(BIG)):
                c.sendall(BIG)
        elif path == b"/chunked":
            c.sendall(chunked_response())
        elif path == b"/nolen":
            c.sendall(b"HTTP/1.0 200 OK\r\n\r\nuntil the close")
        elif path in (b"/204", b"/304"):
            c.sendall(b"HTTP/1.1 %s Whatever\r\nETag: \"x\"\r\n\r\n" % path[1:])
        elif path == b"/empty":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        elif path == b"/short":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this")
        elif path == b"/garbage":
            c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        elif path == b"/silent":
            time.sleep(3)
        elif path.startswith(b"/to-https/"):
            c.sendall(b"HTTP/1.1 302 Found\r\nLocation: https://tls.test/%s\r\n"
                      b"Content-Length: 0\r\n\r\n" % path[len(b"/to-https/"):])
        else:
            if path.startswith(b"/slow"):
                time.sleep(1)
            body = b"" if method == b"HEAD" else raw
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(raw) + body)

    def last(self):
        time.sleep(0.05)
        with self.lock:
            return self.requests[-1] if self.requests else None


class OneMO:
    """A OneMO module on a port, echo off."""

    def __init__(self, p):
        self.p = p

    def c(self, line, timeout=10):
        return final(self.p, line, timeout, OM_FINALS)

    def data(self, line, data, timeout=10):
        """A command with a '>' data phase: returns (prompt, final)."""
        self.p.send(line.encode("latin-1") + b"\r")
        prompt = self.p.take(3, timeout)
        if prompt != b"\r\n>":
            rest = self.p.until(b"\r\n", timeout)
            return prompt + rest, b""
        self.p.send(data)
        return prompt, self.final(timeout)

    def final(self, timeout=10):
        deadline = time.monotonic() + timeout
        pat = re.compile(rb"\r\n(" + OM_FINALS + rb")\r\n")
        while True:
            m = pat.search(self.p.buf)
            if m:
                break
            self.p.fill(deadline)
        out, self.p.buf = self.p.buf[:m.end()], self.p.buf[m.end():]
        return out

    def urc(self, timeout=30):
        """One +MHTTPURC: report: a dict of its kind, numbers, data and the
        exact bytes it came as (the CRLF before it included)."""
        p = self.p
        deadline = time.monotonic() + timeout
        raw = p.until(b"+MHTTPURC:", timeout)
        while len(p.buf) < 2:
            p.fill(deadline)
        sep = b"\r\n" if p.buf.startswith(b"\r\n") else b" " if p.buf.startswith(b" ") else b""
        raw += p.take(len(sep))
        kind = p.until(b",", timeout)
        raw += kind
        kind = kind[:-1].strip(b'"').decode()
        count = {"header": 3, "content": 4, "err": 2, "recv": 4, "ind": 1}.get(kind, 0)
        nums = []
        for i in range(count):
            last = i == count - 1 and kind in ("err", "recv", "ind")
            f = p.until(b"\r\n" if last else b",", timeout)
            raw += f
            nums.append(int(f[:-2] if last else f[:-1]))
        data = b""
        if kind in ("header", "content"):
            n = nums[2] if kind == "header" else nums[3]
            data = p.take(n, timeout)
            end = p.take(2, timeout)
            raw += data + end
            if end != b"\r\n":
                raise AssertionError("no CRLF after the data: %r" % end)
        return {"kind": kind, "sep": sep, "n": nums, "data": data, "raw": raw}

    def response(self, timeout=30):
        """The URCs of one request: header, then content pieces until the
        end rule says the body is complete.  Returns (header, [pieces])."""
        h = self.urc(timeout)
        if h["kind"] != "header":
            return h, []
        pieces = []
        length = re.search(rb"\r\ncontent-length: *(\d+)", h["data"].lower())
        chunked = b"transfer-encoding: chunked" in h["data"].lower()
        if length and not chunked and int(length.group(1)) == 0:
            return h, pieces
        while True:
            u = self.urc(timeout)
            pieces.append(u)
            if u["kind"] != "content":
                return h, pieces
            clen, total, cur = u["n"][1:4]
            if (clen and total == clen) or (not clen and cur == 0):
                return h, pieces


def om_body(pieces):
    return b"".join(u["data"] for u in pieces)


def om_start(binary, tmp, name, routes, *extra):
    emu = Emu(binary, tmp, name, *(list(routes) + list(extra)), modem="onemo")
    p = Port(emu.link)
    p.send(b"ATE0\r")
    p.until(b"OK\r\n")
    m = OneMO(p)
    m.c("AT+CMEE=1")
    return emu, p, m


def om_pieces_ok(pieces, clen, size):
    """content_len stays the same, sum_len counts up, every piece is whole
    but the last one with data; without Content-Length a cur_len 0 piece
    ends the body."""
    sizes = [u["n"][3] for u in pieces]
    total = 0
    for u in pieces:
        total += u["n"][3]
        if u["kind"] != "content" or u["n"][1] != clen or u["n"][2] != total:
            return False
    if clen == 0:
        if not sizes or sizes[-1] != 0:
            return False
        sizes = sizes[:-1]
    return all(n == size for n in sizes[:-1]) and (not sizes or 0 < sizes[-1] <= size)


def test_onemo_basics(m):
    p = m.p
    check(m.c("AT+CMEE?") == b"\r\n+CMEE: 1\r\n\r\nOK\r\n", "onemo: AT+CMEE=1 took")
    check(m.c("AT+CMEE=?") == b"\r\n+CMEE: (0,1)\r\n\r\nOK\r\n", "onemo: AT+CMEE=?")
    check(m.c("AT+CMEE=2") == b"\r\n+CME ERROR: 50\r\n", "onemo: AT+CMEE=2 -> 50")
    check(m.c("AT+MHTTPCREATE=?") == b"\r\nOK\r\n", "onemo: MHTTPCREATE=? -> OK (3.2)")
    check(m.c("AT+MHTTPCFG=?") ==
          b'\r\n+MHTTPCFG: ("header","chunked","cached","timeout","encoding","ssl","cid",'
          b'"fragment","urlencode"),(0-3),\r\n\r\nOK\r\n', "onemo: MHTTPCFG=? as 3.1's example")
    for line, want in (("AT+MHTTPHEADER=?", b"+MHTTPHEADER: (0-3),(0-2),(0-4096),"),
                       ("AT+MHTTPCONTENT=?", b"+MHTTPCONTENT: (0-3),(0-2),(0-4096),"),
                       ("AT+MHTTPREQUEST=?", b"+MHTTPREQUEST: (0-3),(1-5),(0-4096),"),
                       ("AT+MHTTPREAD=?", b"+MHTTPREAD: (0-3),(0-1),(0-65535)"),
                       ("AT+MHTTPDEL=?", b"+MHTTPDEL: (0-3)"),
                       ("AT+MHTTPTERM=?", b"+MHTTPTERM: (0-3)")):
        check(m.c(line) == b"\r\n" + want + b"\r\n\r\nOK\r\n", "onemo: %s" % line)
    for bad in ("AT+MHTTPCREATE", "AT+MHTTPCREATE?", "AT+MHTTPFOO=0", "AT+MHTTTPREQUEST=0,1,0,\"/\"",
                'AT+MHTTPCREATE=http://origin.test', "AT+MHTTPDEL", "AT+MHTTPREQUEST?"):
        check(m.c(bad) == b"\r\nERROR\r\n", "onemo: %s -> ERROR" % bad)
    for bad, code in (('AT+MHTTPCREATE="ftp://origin.test"', 654),
                      ('AT+MHTTPCREATE="origin.test"', 654),
                      ('AT+MHTTPCREATE="http://origin.test/get"', 654),
                      ('AT+MHTTPCREATE="http://origin.test?a=1"', 654),
                      ('AT+MHTTPCREATE="http://user@origin.test"', 654),
                      ('AT+MHTTPCREATE="http://origin.test:0"', 654),
                      ('AT+MHTTPCREATE="http://origin.test",1', 50),
                      ("AT+MHTTPCREATE=1", 50),
                      ("AT+MHTTPDEL=0", 652), ("AT+MHTTPDEL=4", 50), ("AT+MHTTPTERM=3", 652),
                      ('AT+MHTTPREQUEST=0,1,0,"/"', 652), ('AT+MHTTPREQUEST=4,1,0,"/"', 50),
                      ('AT+MHTTPHEADER=0,0,0,"A: b"', 652), ('AT+MHTTPCFG="header",0', 652),
                      ('AT+MHTTPCFG="header",9', 50), ("AT+MHTTPREAD=0,0", 652)):
        check(m.c(bad) == b"\r\n+CME ERROR: %d\r\n" % code, "onemo: %s -> %d" % (bad, code))
    check(m.c("AT+MHTTPTERM") == b"\r\nOK\r\n", "onemo: MHTTPTERM (all) -> OK")
    check(m.c("AT+MHTTPCFG?") == b"\r\nOK\r\n", "onemo: MHTTPCFG? with no instance -> just OK")
    m.c("AT+CMEE=0")
    check(m.c("AT+MHTTPDEL=0") == b"\r\nERROR\r\n", "onemo: with AT+CMEE=0 a 652 reads ERROR")
    m.c("AT+CMEE=1")


def test_onemo_manual(m, origin):
    """Chapter 3 and 4's examples, against an origin answering as theirs."""
    check(len(OM_GET_HEAD) == 225 and len(OM_GET_BODY) == 145 and len(OM_POST_HEAD) == 220 and
          len(OM_PUT_HEAD) == 220 and len(OM_CONTENT) == 70 and len(OM_ONENET_HEAD) == 175 and
          len(OM_ONENET_BODY) == 66, "onemo: the manual's responses rebuilt to its own lengths")
    check(m.c('AT+MHTTPCREATE="http://120.27.12.119:10080"') ==
          b"\r\n+MHTTPCREATE: 0\r\n\r\nOK\r\n", "onemo manual: MHTTPCREATE -> +MHTTPCREATE: 0")
    check(m.c('AT+MHTTPCFG="header",0,"Connection: close"') == b"\r\nOK\r\n",
          "onemo manual: MHTTPCFG=\"header\",0,\"Connection: close\" -> OK")
    check(m.c('AT+MHTTPCFG="header",0') ==
          b'\r\n+MHTTPCFG: "header",0,19,Connection: close\r\n\r\nOK\r\n',
          "onemo manual: header query -> 19 bytes (the field and its CRLF)")
    check(m.c('AT+MHTTPHEADER=0,0,0,"api-key: FC9B69m4prHH2j7ljBbA=hHlbMI="') == b"\r\nOK\r\n",
          "onemo manual: MHTTPHEADER=0,0,0,\"api-key: ...\" -> OK")
    check(m.c("AT+MHTTPHEADER=0") ==
          b"\r\n+MHTTPHEADER: 0,39,api-key: FC9B69m4prHH2j7ljBbA=hHlbMI=\r\n\r\nOK\r\n",
          "onemo: MHTTPHEADER=<id> shows the request's headers")
    # GET (3.5, 4.1)
    check(m.c('AT+MHTTPREQUEST=0,1,0,"/get"') == b"\r\nOK\r\n", "onemo manual: GET -> OK")
    h, pieces = m.response()
    check(h["raw"] == b'\r\n+MHTTPURC: "header",0,200,225,' + OM_GET_HEAD + b"\r\n",
          "onemo manual GET: +MHTTPURC: \"header\",0,200,225,<the header block> exact")
    check([u["raw"] for u in pieces] ==
          [b'\r\n+MHTTPURC: "content",0,145,145,145,' + OM_GET_BODY + b"\r\n"],
          "onemo manual GET: +MHTTPURC: \"content\",0,145,145,145,<body> exact")
    check(origin.last() == b"GET /get HTTP/1.1\r\nHost: 120.27.12.119:10080\r\n"
          b"Connection: close\r\napi-key: FC9B69m4prHH2j7ljBbA=hHlbMI=\r\n"
          b"Content-Length: 0\r\n\r\n",
          "onemo manual GET: the request: Host, the common header, the request's header, "
          "Content-Length: 0 (the echo's)")
    check(m.c("AT+MHTTPHEADER=0") == b"\r\nOK\r\n", "onemo: the request's headers are gone after it")
    # POST (4.1): quotes cannot be in a command's string (note 16): data mode.
    check(m.c('AT+MHTTPCONTENT=0,0,0,"' + OM_CONTENT.decode() + '"') == b"\r\nERROR\r\n",
          "onemo manual POST: content with quotes inside the command -> ERROR (ML30x, note 16)")
    check(m.data("AT+MHTTPCONTENT=0,0,70", OM_CONTENT) == (b"\r\n>", b"\r\nOK\r\n"),
          "onemo manual: MHTTPCONTENT=0,0,70 -> '>', 70 bytes -> OK (3.4)")
    check(m.c("AT+MHTTPCONTENT=0") == b"\r\n+MHTTPCONTENT: 0,70," + OM_CONTENT + b"\r\n\r\nOK\r\n",
          "onemo: MHTTPCONTENT=<id> shows the content")
    check(m.c('AT+MHTTPREQUEST=0,2,0,"/post"') == b"\r\nOK\r\n", "onemo manual: POST -> OK")
    h, pieces = m.response()
    check(h["raw"] == b'\r\n+MHTTPURC: "header",0,200,220,' + OM_POST_HEAD + b"\r\n" and
          [u["raw"] for u in pieces] ==
          [b'\r\n+MHTTPURC: "content",0,278,278,278,' + OM_ECHO[:278] + b"\r\n"],
          "onemo manual POST: header 220 and content 278,278,278 exact")
    check(origin.last() == b"POST /post HTTP/1.1\r\nHost: 120.27.12.119:10080\r\n"
          b"Connection: close\r\nContent-Length: 70\r\n\r\n" + OM_CONTENT,
          "onemo manual POST: the origin got Content-Length: 70 and the 70 bytes")
    # PUT
    m.data("AT+MHTTPCONTENT=0,0,70", OM_CONTENT)
    check(m.c('AT+MHTTPREQUEST=0,3,0,"/put"') == b"\r\nOK\r\n", "onemo manual: PUT -> OK")
    h, pieces = m.response()
    check(h["raw"] == b'\r\n+MHTTPURC: "header",0,200,220,' + OM_PUT_HEAD + b"\r\n" and
          [u["raw"] for u in pieces] ==
          [b'\r\n+MHTTPURC: "content",0,277,277,277,' + OM_ECHO[:277] + b"\r\n"],
          "onemo manual PUT: header 220 and content 277,277,277 exact")
    check(origin.last().startswith(b"PUT /put HTTP/1.1\r\n") and origin.last().endswith(OM_CONTENT),
          "onemo manual PUT: request line and content")
    # terminate, delete (4.1)
    check(m.c('AT+MHTTPREQUEST=0,1,0,"/slow"') == b"\r\nOK\r\n" and
          m.c("AT+MHTTPTERM=0") == b"\r\nOK\r\n", "onemo manual: MHTTPTERM=0 during a request -> OK")
    check(m.p.quiet(1.5) == b"", "onemo: a terminated request reports nothing")
    check(m.c("AT+MHTTPDEL=0") == b"\r\nOK\r\n", "onemo manual: MHTTPDEL=0 -> OK")
    check(m.c("AT+MHTTPDEL=0") == b"\r\n+CME ERROR: 652\r\n", "onemo: deleted -> 652")
    # cached mode (4.3)
    m.c('AT+MHTTPCREATE="http://120.27.12.119:10080"')
    check(m.c('AT+MHTTPCFG="cached",0,1') == b"\r\nOK\r\n", "onemo manual: MHTTPCFG=\"cached\",0,1 -> OK")
    check(m.c('AT+MHTTPCFG="cached",0') == b'\r\n+MHTTPCFG: "cached",0,1,4096\r\n\r\nOK\r\n',
          "onemo manual: cached query -> 1,4096")
    m.c('AT+MHTTPREQUEST=0,1,0,"/get"')
    check(m.urc()["raw"] == b'\r\n+MHTTPURC: "recv",0,200,225,145\r\n',
          "onemo manual cached GET: +MHTTPURC: \"recv\",0,200,225,145")
    check(m.c("AT+MHTTPREAD=0,0") == b"\r\n+MHTTPREAD: 0,0,225\r\n\r\nOK\r\n",
          "onemo: MHTTPREAD=0,0 -> unread length")
    check(m.c("AT+MHTTPREAD=0,0,225") == b"\r\n+MHTTPREAD: 0,0,0,225," + OM_GET_HEAD + b"\r\n\r\nOK\r\n",
          "onemo manual: MHTTPREAD=0,0,225 -> +MHTTPREAD: 0,0,0,225,<header>")
    check(m.c("AT+MHTTPREAD=0,1,100") == b"\r\n+MHTTPREAD: 0,1,45,100," + OM_GET_BODY[:100] +
          b"\r\n\r\nOK\r\n" and
          m.c("AT+MHTTPREAD=0,1,0") == b"\r\n+MHTTPREAD: 0,1,0,45," + OM_GET_BODY[100:] +
          b"\r\n\r\nOK\r\n", "onemo: MHTTPREAD in two parts (<read_len> 0: the rest)")
    m.c('AT+MHTTPCFG="cached",0,1,100')
    m.c('AT+MHTTPREQUEST=0,1,0,"/get"')
    check(m.urc()["raw"] == b'\r\n+MHTTPURC: "err",0,8\r\n',
          "onemo: cached, 145 bytes for a 100-byte cache -> \"err\",0,8 (note 27)")
    m.c("AT+MHTTPDEL=0")
    check(m.c("AT+MHTTPREAD=1,0") == b"\r\n+CME ERROR: 652\r\n", "onemo: MHTTPREAD on no instance -> 652")
    # chunked mode (4.1): CREATE with a trailing slash, "ind", then content
    check(m.c('AT+MHTTPCREATE="http://api.heclouds.com/"') == b"\r\n+MHTTPCREATE: 0\r\n\r\nOK\r\n",
          "onemo manual: MHTTPCREATE=\"http://api.heclouds.com/\"")
    for line in ('AT+MHTTPCFG="chunked",0,1', 'AT+MHTTPCFG="encoding",0,2',
                 'AT+MHTTPCFG="header",0,"api-key: 2ATvkByTxig2uy55rlQPLf3xxVY="'):
        check(m.c(line) == b"\r\nOK\r\n", "onemo manual: %s -> OK" % line)
    check(m.c("AT+MHTTPCONTENT=0,0,0,\"x\"") == b"\r\n+CME ERROR: 3\r\n",
          "onemo: chunked mode: content before the request -> 3")
    check(m.c('AT+MHTTPREQUEST=0,2,0,"/devices/622957377/datastreams"') == b"\r\nOK\r\n",
          "onemo manual: chunked POST -> OK")
    check(m.urc()["raw"] == b'\r\n+MHTTPURC: "ind",0\r\n', "onemo manual: +MHTTPURC: \"ind\",0")
    check(m.data("AT+MHTTPCONTENT=0,1,30", OM_CONTENT[:30]) == (b"\r\n>", b"\r\nOK\r\n") and
          m.data("AT+MHTTPCONTENT=0,0,40", OM_CONTENT[30:]) == (b"\r\n>", b"\r\nOK\r\n"),
          "onemo: chunked mode: content in two pieces, eof 1 then 0")
    h, pieces = m.response()
    check(h["raw"] == b'\r\n+MHTTPURC: "header",0,200,175,' + OM_ONENET_HEAD + b"\r\n" and
          [u["raw"] for u in pieces] ==
          [b'\r\n+MHTTPURC: "content",0,66,66,66,' + OM_ONENET_BODY + b"\r\n"],
          "onemo manual chunked POST: header 175, content 66,66,66 exact")
    check(origin.last() == b"POST /devices/622957377/datastreams HTTP/1.1\r\nHost: api.heclouds.com\r\n"
          b"api-key: 2ATvkByTxig2uy55rlQPLf3xxVY=\r\nTransfer-Encoding: chunked\r\n\r\n"
          b"1e\r\n" + OM_CONTENT[:30] + b"\r\n28\r\n" + OM_CONTENT[30:] + b"\r\n0\r\n\r\n",
          "onemo: chunked mode: Transfer-Encoding: chunked, one chunk per MHTTPCONTENT")
    check(m.c("AT+MHTTPCONTENT=0,2") == b"\r\n+CME ERROR: 50\r\n",
          "onemo: chunked mode: eof 2 -> 50 (\"只对非Chunked模式有效\")")
    m.c("AT+MHTTPDEL=0")


def test_onemo_input(m, origin):
    """AT+MHTTPHEADER / AT+MHTTPCONTENT: lengths, quotes, eof, limits."""
    m.c('AT+MHTTPCREATE="http://origin.test"')
    for bad, code in (('AT+MHTTPHEADER=0,0,5,"X-A: bc"', 50),        # length says 5, holds 7
                      ('AT+MHTTPHEADER=0,0,0,"X-A: b\\c"', 50),      # a backslash
                      ('AT+MHTTPHEADER=0,0,0,"no colon"', 50),
                      ('AT+MHTTPHEADER=0,0,0,": empty name"', 50),
                      ('AT+MHTTPHEADER=0,0,0,""', 50),
                      ('AT+MHTTPHEADER=0,3,0,"A: b"', 50),
                      ('AT+MHTTPHEADER=0,0,0,"X-A: ' + "a" * 1020 + '"', 50),  # 1025 > 1024
                      ('AT+MHTTPHEADER=0,0,1025,"X-A: b"', 50),
                      ("AT+MHTTPHEADER=0,1,0", 50),                  # data mode: length 0
                      ("AT+MHTTPHEADER=0,1,4097", 50),
                      ("AT+MHTTPCONTENT=0,1,0", 50),
                      ("AT+MHTTPCONTENT=0,1,4097", 50),
                      ('AT+MHTTPCONTENT=0,1,4097,"x"', 50),
                      ('AT+MHTTPCONTENT=0,2,0,"x"', 50),
                      ("AT+MHTTPCONTENT=0,,5", 50),
                      ('AT+MHTTPCONTENT=0,0,3,"abcd"', 50)):
        check(m.c(bad) == b"\r\n+CME ERROR: %d\r\n" % code, "onemo: %s -> %d" % (bad[:50], code))
    for bad in ('AT+MHTTPHEADER=0,0,0,"X-A: "b""', 'AT+MHTTPHEADER=0,0,0,X-A: b',
                "AT+MHTTPHEADER=0,1", "AT+MHTTPCONTENT=0,0"):
        check(m.c(bad) == b"\r\nERROR\r\n", "onemo: %s -> ERROR (quote, unquoted, CTRL+Z form)" % bad)
    ok = 'AT+MHTTPHEADER=0,0,' + str(len("X-A: " + "a" * 1019)) + ',"X-A: ' + "a" * 1019 + '"'
    check(m.c(ok) == b"\r\nOK\r\n", "onemo: a 1024-byte header in the command, length checked -> OK")
    check(m.c('AT+MHTTPHEADER=0,1,0,"X-B: c"') == b"\r\n+CME ERROR: 3\r\n",
          "onemo: a header after eof 0 -> 3 (\"需请求完成或清空后才可再次输入\")")
    check(m.data("AT+MHTTPHEADER=0,1,5", b"X-B:c") == (b"\r\n+CME ERROR: 3\r\n", b""),
          "onemo: data mode after eof 0 -> 3, no prompt")
    check(m.c("AT+MHTTPHEADER=0,2") == b"\r\nOK\r\n" and m.c("AT+MHTTPHEADER=0") == b"\r\nOK\r\n",
          "onemo: eof 2 clears the headers")
    check(m.c('AT+MHTTPHEADER=0,1,6,"X-B: c"') == b"\r\nOK\r\n", "onemo: after eof 2 input again")
    check(m.c('AT+MHTTPREQUEST=0,1,0,"/"') == b"\r\n+CME ERROR: 3\r\n",
          "onemo: request while headers are announced (eof 1) -> 3")
    r = m.data("AT+MHTTPHEADER=0,0,9", b"X-C: d\"\\e")
    check(r == (b"\r\n>", b"\r\nOK\r\n"), "onemo: data mode takes quote and backslash")
    check(m.data("AT+MHTTPHEADER=0,2,5", b"") == (b"\r\n+CME ERROR: 50\r\n", b""),
          "onemo: eof 2 with a length -> 50")
    # content limits: 3 x 4096 in all (ML307G)
    for i in range(3):
        m.data("AT+MHTTPCONTENT=0,1,4096", b"c" * 4096)
    check(m.data("AT+MHTTPCONTENT=0,0,1", b"c") == (b"\r\n>", b"\r\n+CME ERROR: 23\r\n"),
          "onemo: content past 12288 bytes -> 23")
    check(m.c("AT+MHTTPCONTENT=0,2") == b"\r\nOK\r\n", "onemo: eof 2 clears the content")
    # data phase: too few bytes within <input_timeout> -> what came is taken
    m.c('AT+MHTTPCFG="timeout",0,,,1')
    check(m.c('AT+MHTTPCFG="timeout",0') == b'\r\n+MHTTPCFG: "timeout",0,60,0,1\r\n\r\nOK\r\n',
          "onemo: \"timeout\" partly set")
    t0 = time.monotonic()
    r = m.data("AT+MHTTPCONTENT=0,0,10", b"abc")
    check(r == (b"\r\n>", b"\r\nOK\r\n") and 0.9 < time.monotonic() - t0 < 3,
          "onemo: 3 of 10 bytes, <input_timeout> 1 s passes -> OK with what came (3.4)")
    check(m.c("AT+MHTTPCONTENT=0") == b"\r\n+MHTTPCONTENT: 0,3,abc\r\n\r\nOK\r\n",
          "onemo: the 3 bytes are the content")
    # more bytes than announced: the rest is a command line
    m.c("AT+MHTTPCONTENT=0,2")
    r = m.data("AT+MHTTPCONTENT=0,0,4", b"wxyzAT")
    m.p.send(b"\r")
    check(r == (b"\r\n>", b"\r\nOK\r\n") and m.final() == b"\r\nOK\r\n",
          "onemo: bytes past <length> are a command again (AT -> OK)")
    # the request: common header replaced by the request's own of that name
    m.c('AT+MHTTPCFG="header",0,"User-Agent: module"')
    m.c('AT+MHTTPCFG="header",0,"Accept: */*"')
    m.c('AT+MHTTPCFG="header",0,"user-agent: module/2"')      # replaces
    check(m.c('AT+MHTTPCFG="header",0') == b'\r\n+MHTTPCFG: "header",0,35,user-agent: module/2\r\n'
          b'Accept: */*\r\n\r\nOK\r\n', "onemo: a common header of the same name replaces the old one")
    m.c('AT+MHTTPREQUEST=0,4,0,"/echo"')
    m.response()
    check(origin.last() == b"DELETE /echo HTTP/1.1\r\nHost: origin.test\r\nuser-agent: module/2\r\n"
          b"Accept: */*\r\nX-B: c\r\nX-C: d\"\\e\r\nContent-Length: 4\r\n\r\nwxyz",
          "onemo: DELETE: common and request headers, the content")
    m.c('AT+MHTTPHEADER=0,1,0,"Accept: text/html"')
    m.c('AT+MHTTPHEADER=0,1,0,"X-Z: 1"')
    m.c('AT+MHTTPHEADER=0,0,0,"Host: elsewhere.test"')
    check(m.c("AT+MHTTPCONTENT=0") == b"\r\nOK\r\n", "onemo: the content is gone after the request")
    m.c('AT+MHTTPREQUEST=0,1,0,"/echo?a=1&b=2"')
    m.response()
    check(origin.last() == b"GET /echo?a=1&b=2 HTTP/1.1\r\nuser-agent: module/2\r\nAccept: text/html\r\n"
          b"X-Z: 1\r\nHost: elsewhere.test\r\nContent-Length: 0\r\n\r\n",
          "onemo: the request's Accept replaces the common one in place; its Host replaces the module's")
    # hex and escaped input, urlencode, data-mode path
    m.c('AT+MHTTPCFG="encoding",0,1')
    check(m.c('AT+MHTTPHEADER=0,0,6,"582D48"') == b"\r\n+CME ERROR: 50\r\n" and
          m.c('AT+MHTTPHEADER=0,0,6,"582D483A2068"') == b"\r\nOK\r\n",
          "onemo: encoding 1: hex, <length> is half the digits")
    m.c('AT+MHTTPCFG="encoding",0,2')
    check(m.c('AT+MHTTPCONTENT=0,0,7,"a\\\\rb\\\\"') == b"\r\nOK\r\n" and
          m.c("AT+MHTTPCONTENT=0") == b"\r\n+MHTTPCONTENT: 0,5,a\\rb\\\r\n\r\nOK\r\n",
          "onemo: encoding 2: \\\\ is a backslash, <length> counts the typed string")
    check(m.c('AT+MHTTPCONTENT=0,2') == b"\r\nOK\r\n" and
          m.c('AT+MHTTPCONTENT=0,0,0,"a\\nb"') == b"\r\n+CME ERROR: 50\r\n",
          "onemo: encoding 2: an unknown escape -> 50")
    m.c('AT+MHTTPCFG="encoding",0,0')
    m.c('AT+MHTTPCFG="urlencode",0,1')
    path = b"/a b/\xc3\xa9?x=<1>"
    r = m.data("AT+MHTTPREQUEST=0,1,%d" % len(path), path)
    check(r == (b"\r\n>", b"\r\nOK\r\n"), "onemo: MHTTPREQUEST=0,1,<length> takes the path in data mode")
    m.response()
    check(origin.last().startswith(b"GET /a%20b/%C3%A9?x=%3C1%3E HTTP/1.1\r\nHost: origin.test\r\n") and
          b"\r\nX-H: h\r\n" in origin.last(),
          "onemo: urlencode 1 encodes the path: %r" % origin.last()[:60])
    m.c('AT+MHTTPCFG="urlencode",0,0')
    for bad in ('AT+MHTTPREQUEST=0,6,0,"/"', 'AT+MHTTPREQUEST=0,0,0,"/"', 'AT+MHTTPREQUEST=0,1,0,"get"',
                'AT+MHTTPREQUEST=0,1,3,"/get"', 'AT+MHTTPREQUEST=0,1,0,""', "AT+MHTTPREQUEST=0,1,0",
                'AT+MHTTPREQUEST=0,1,0,"/a b"'):
        check(m.c(bad) == b"\r\n+CME ERROR: 50\r\n", "onemo: %s -> 50" % bad)
    check(m.c('AT+MHTTPREQUEST=0,1,0,"/",""') == b"\r\nERROR\r\n" and
          m.c("AT+MHTTPREQUEST=0,1") == b"\r\nERROR\r\n",
          "onemo: <local_path> and the CTRL+Z form -> ERROR (not emulated)")
    check(m.data("AT+MHTTPREQUEST=0,1,3", b"a/b") == (b"\r\n>", b"\r\n+CME ERROR: 50\r\n"),
          "onemo: a data-mode path not starting with / -> 50")
    # MHTTPCFG values
    for bad in ('AT+MHTTPCFG="chunked",0,2', 'AT+MHTTPCFG="cached",0,1,8193', 'AT+MHTTPCFG="cached",0,1,0',
                'AT+MHTTPCFG="timeout",0,181', 'AT+MHTTPCFG="timeout",0,60,61', 'AT+MHTTPCFG="timeout",0,,',
                'AT+MHTTPCFG="encoding",0,3', 'AT+MHTTPCFG="encoding",0,0,2', 'AT+MHTTPCFG="ssl",0,2',
                'AT+MHTTPCFG="cid",0,0', 'AT+MHTTPCFG="fragment",0,1025', 'AT+MHTTPCFG="urlencode",0,2',
                'AT+MHTTPCFG="foo",0,1', 'AT+MHTTPCFG="HEADER",0', 'AT+MHTTPCFG="header",0,"no colon"',
                'AT+MHTTPCFG="header",0,""', 'AT+MHTTPCFG="chunked",0,1,1', 'AT+MHTTPCFG="chunked",0,"1"'):
        check(m.c(bad) == b"\r\n+CME ERROR: 50\r\n", "onemo: %s -> 50" % bad)
    for good in ('AT+MHTTPCFG="ssl",0,1,2', 'AT+MHTTPCFG="cid",0,1', 'AT+MHTTPCFG="fragment",0,0,100'):
        check(m.c(good) == b"\r\nOK\r\n", "onemo: %s -> OK" % good)
    r = m.c("AT+MHTTPCFG?")
    check(r == b'\r\n+MHTTPCFG: "header",0,35,user-agent: module/2\r\nAccept: */*\r\n'
          b'+MHTTPCFG: "chunked",0,0\r\n+MHTTPCFG: "cached",0,0\r\n'
          b'+MHTTPCFG: "timeout",0,60,0,1\r\n+MHTTPCFG: "encoding",0,0,0\r\n'
          b'+MHTTPCFG: "ssl",0,1,2\r\n+MHTTPCFG: "cid",0,1\r\n+MHTTPCFG: "fragment",0,0,100\r\n'
          b'+MHTTPCFG: "urlencode",0,0\r\n\r\nOK\r\n', "onemo: MHTTPCFG? lists every setting")
    m.c("AT+MHTTPDEL=0")


def test_onemo_requests(m, origin, quick):
    """Instances, busy, bodies, the end rules, failures."""
    for i in range(4):
        check(m.c('AT+MHTTPCREATE="http://origin.test:%d"' % (80 + i)) ==
              b"\r\n+MHTTPCREATE: %d\r\n\r\nOK\r\n" % i, "onemo: instance %d" % i)
    check(m.c('AT+MHTTPCREATE="http://origin.test"') == b"\r\n+CME ERROR: 651\r\n",
          "onemo: a fifth instance -> 651 (no free client)")
    check(m.c("AT+MHTTPDEL=2") == b"\r\nOK\r\n" and
          m.c('AT+MHTTPCREATE="http://origin.test"') == b"\r\n+MHTTPCREATE: 2\r\n\r\nOK\r\n",
          "onemo: a deleted id is given again")
    # busy
    check(m.c('AT+MHTTPREQUEST=1,1,0,"/slow"') == b"\r\nOK\r\n", "onemo: a slow request")
    for line, code in (('AT+MHTTPREQUEST=1,1,0,"/"', 653), ("AT+MHTTPDEL=1", 653),
                       ('AT+MHTTPHEADER=1,0,0,"A: b"', 653), ("AT+MHTTPCONTENT=1,2", 653),
                       ('AT+MHTTPCFG="chunked",1,1', 653)):
        check(m.c(line) == b"\r\n+CME ERROR: %d\r\n" % code, "onemo: %s during a request -> %d" % (line, code))
    check(m.c('AT+MHTTPCFG="chunked",1') == b'\r\n+MHTTPCFG: "chunked",1,0\r\n\r\nOK\r\n',
          "onemo: a query during a request -> OK")
    check(m.c('AT+MHTTPREQUEST=3,1,0,"/echo"') == b"\r\nOK\r\n", "onemo: another instance meanwhile")
    got = {}
    for _ in range(2):
        h, pieces = m.response()
        got[h["n"][0]] = om_body(pieces)
    check(sorted(got) == [1, 3] and got[1].startswith(b"GET /slow HTTP/1.1\r\nHost: origin.test:81\r\n") and
          got[3].startswith(b"GET /echo HTTP/1.1\r\nHost: origin.test:83\r\n"),
          "onemo: both answer, each with its <httpid>, Host from its URL")
    # a command before the final result is refused, the first still runs
    m.p.send(b'AT+MHTTPREQUEST=0,1,0,"/echo"\rAT\r')
    first = m.final()
    second = m.final()
    h, pieces = m.response()
    check(first == b"\r\nOK\r\n" and second == b"\r\nERROR\r\n" and h["n"][:2] == [0, 200],
          "onemo: AT before MHTTPREQUEST's OK -> ERROR; the request goes on")
    # 10 KB POST in three MHTTPCONTENT pieces
    body = os.urandom(10240)
    r = [m.data("AT+MHTTPCONTENT=0,1,4096", body[:4096]),
         m.data("AT+MHTTPCONTENT=0,1,4096", body[4096:8192]),
         m.data("AT+MHTTPCONTENT=0,0,2048", body[8192:])]
    check(r == [(b"\r\n>", b"\r\nOK\r\n")] * 3, "onemo: 10 KB as 4096 + 4096 + 2048 (eof 1, 1, 0)")
    m.c('AT+MHTTPREQUEST=0,2,0,"/upload"')
    h, pieces = m.response()
    req = origin.last()
    echo = om_body(pieces)
    check(req is not None and hashlib.sha256(req.split(b"\r\n\r\n", 1)[1]).digest() ==
          hashlib.sha256(body).digest() and b"\r\nContent-Length: 10240\r\n" in req,
          "onemo: the 10 KB POST reached the origin byte-exact (sha256), Content-Length: 10240")
    check(echo == req and [u["n"][3] for u in pieces] == [1024] * 10 + [len(req) - 10240] and
          om_pieces_ok(pieces, len(req), 1024),
          "onemo: the echo came back in 1024-byte pieces, sum_len up to content_len")
    # large GET
    m.c('AT+MHTTPREQUEST=0,1,0,"/big"')
    h = m.urc()
    check(h["kind"] == "header" and h["n"][1] == 200 and
          h["data"] == b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(BIG), "onemo: GET /big: header")
    got = om_stream(m.p, len(BIG))
    check(got[0] == hashlib.sha256(BIG).digest() and got[1] == (len(BIG) + 1023) // 1024 and got[2],
          "onemo: 5 MB GET byte-exact (sha256), %d pieces of 1024, fields consistent" % got[1])
    if not quick:
        m.c('AT+MHTTPREQUEST=0,1,0,"/huge"')
        m.urc()
        t0 = time.monotonic()
        got = om_stream(m.p, OM_HUGE, BIG)
        check(got[0] and got[2], "onemo: 50 MB GET byte-exact (%.1f s)" % (time.monotonic() - t0))
    # the end rules: chunked and close-delimited bodies end with a cur_len 0 piece
    m.c('AT+MHTTPREQUEST=0,1,0,"/chunked"')
    h, pieces = m.response()
    total = sum(map(len, RAW_CHUNKS))
    check(b"\r\nTransfer-Encoding: chunked\r\n" in h["data"] and om_body(pieces) == b"".join(RAW_CHUNKS) and
          pieces[-1]["raw"] == b'\r\n+MHTTPURC: "content",0,0,%d,0,\r\n' % total and
          om_pieces_ok(pieces, 0, 1024),
          "onemo: chunked response: de-chunked, content_len 0, ends with \"content\",0,0,<sum>,0,")
    m.c('AT+MHTTPREQUEST=0,1,0,"/nolen"')
    h, pieces = m.response()
    check([u["raw"] for u in pieces] == [b'\r\n+MHTTPURC: "content",0,0,15,15,until the close\r\n',
                                         b'\r\n+MHTTPURC: "content",0,0,15,0,\r\n'],
          "onemo: a body until the close: content_len 0, then the cur_len 0 piece")
    # no body: no content URC (the next output is the next command's answer)
    for line, what in (('AT+MHTTPREQUEST=0,5,0,"/echo"', "HEAD"), ('AT+MHTTPREQUEST=0,1,0,"/204"', "204"),
                       ('AT+MHTTPREQUEST=0,1,0,"/304"', "304"), ('AT+MHTTPREQUEST=0,1,0,"/empty"', "Content-Length: 0")):
        m.c(line)
        h = m.urc()
        check(h["kind"] == "header" and m.c("AT") == b"\r\nOK\r\n",
              "onemo: %s: the header URC and no content URC" % what)
        if what == "HEAD":
            check(origin.last().startswith(b"HEAD /echo HTTP/1.1\r\n") and
                  b"\r\nContent-Length: %d\r\n" % len(origin.last()) in h["data"],
                  "onemo: method 5 is HEAD; the header tells the length")
    # failures
    for url, path, code, what in (("http://refused.test", "/", 2, "connection refused"),
                                  ("http://nosuch.invalid", "/", 1, "unknown host"),
                                  ("http://origin.test", "/garbage", 7, "not HTTP"),
                                  ("http://origin.test", "/short", 5, "closed before the end")):
        m.c("AT+MHTTPDEL=1")
        m.c('AT+MHTTPCREATE="%s"' % url)
        m.c('AT+MHTTPREQUEST=1,1,0,"%s"' % path)
        u = m.urc(60)
        if path == "/short":
            check(u["kind"] == "header", "onemo: /short: the header first")
            u = m.urc()
            check(u["raw"] == b'\r\n+MHTTPURC: "content",1,1000,9,9,only this\r\n',
                  "onemo: /short: what came is delivered")
            u = m.urc()
        check(u["raw"] == b'\r\n+MHTTPURC: "err",1,%d\r\n' % code, "onemo: %s -> \"err\",1,%d" % (what, code))
    check(m.c('AT+MHTTPREQUEST=1,1,0,"/"') == b"\r\nOK\r\n" and m.response()[0]["n"][:2] == [1, 200],
          "onemo: an instance is usable after \"err\"")
    m.c('AT+MHTTPCFG="timeout",1,60,1')
    t0 = time.monotonic()
    m.c('AT+MHTTPREQUEST=1,1,0,"/silent"')
    check(m.urc()["raw"] == b'\r\n+MHTTPURC: "err",1,6\r\n' and 0.9 < time.monotonic() - t0 < 2.5,
          "onemo: no response within <rsp_timeout> 1 s -> \"err\",1,6")
    m.c("AT+MHTTPDEL=1")
    m.c('AT+MHTTPCREATE="http://blackhole.test"')
    m.c('AT+MHTTPCFG="timeout",1,1')
    t0 = time.monotonic()
    m.c('AT+MHTTPREQUEST=1,1,0,"/"')
    check(m.urc()["raw"] == b'\r\n+MHTTPURC: "err",1,3\r\n' and 0.9 < time.monotonic() - t0 < 2.5,
          "onemo: no connection within <conn_timeout> 1 s -> \"err\",1,3")
    m.c("AT+MHTTPDEL=1")
    m.c('AT+MHTTPCREATE="https://origin.test"')
    check(m.c('AT+MHTTPREQUEST=1,1,0,"/"') == b"\r\n+CME ERROR: 655\r\n",
          "onemo: https without \"ssl\" -> 655")
    m.c('AT+MHTTPCFG="ssl",1,1,0')
    m.c('AT+MHTTPREQUEST=1,1,0,"/"')
    check(m.urc()["raw"] == b'\r\n+MHTTPURC: "err",1,4\r\n', "onemo: https with \"ssl\": no TLS here -> \"err\",1,4")
    # an error keeps the request's headers (only success clears them)
    m.c("AT+MHTTPDEL=1")
    m.c('AT+MHTTPCREATE="http://refused.test"')
    m.c('AT+MHTTPHEADER=1,0,0,"X-Keep: 1"')
    m.c('AT+MHTTPREQUEST=1,1,0,"/"')
    m.urc()
    check(m.c("AT+MHTTPHEADER=1") == b"\r\n+MHTTPHEADER: 1,11,X-Keep: 1\r\n\r\nOK\r\n",
          "onemo: after \"err\" the request's headers stay (cleared only by success or eof 2)")
    # chunked mode: content sent with eof 1, the request terminated; the
    # next request still goes (its content is gone, not pending)
    m.c("AT+MHTTPDEL=1")
    m.c('AT+MHTTPCREATE="http://origin.test"')
    m.c('AT+MHTTPCFG="chunked",1,1')
    m.c('AT+MHTTPREQUEST=1,2,0,"/echo"')
    m.urc()
    m.data("AT+MHTTPCONTENT=1,1,3", b"abc")
    m.c("AT+MHTTPTERM=1")
    check(m.c('AT+MHTTPREQUEST=1,2,0,"/echo"') == b"\r\nOK\r\n" and
          m.urc()["raw"] == b'\r\n+MHTTPURC: "ind",1\r\n' and
          m.data("AT+MHTTPCONTENT=1,0,2", b"de") == (b"\r\n>", b"\r\nOK\r\n") and
          om_body(m.response()[1]).endswith(b"\r\n\r\n2\r\nde\r\n0\r\n\r\n"),
          "onemo: chunked mode after MHTTPTERM: a new request, only its own chunks")
    for i in range(4):
        m.c("AT+MHTTPDEL=%d" % i)


def om_stream(p, size, pattern=None):
    """Reads content URCs of instance 0 until sum_len reaches size, without
    keeping them: (sha256 ok or digest, piece count, fields consistent)."""
    buf = bytearray(p.buf)
    p.buf = b""
    pos, total, count, ok = 0, 0, 0, True
    h = hashlib.sha256()
    pat = re.compile(rb'\r\n\+MHTTPURC: "content",0,(\d+),(\d+),(\d+),')
    while total < size:
        m = pat.match(buf, pos)
        if not m or len(buf) < m.end() + int(m.group(3)) + 2:
            if pos > (1 << 22):
                del buf[:pos]
                pos = 0
            if not select.select([p.fd], [], [], 30)[0]:
                return None, count, False
            buf += os.read(p.fd, 1 << 20)
            continue
        if m is None:
            return None, count, False
        n = int(m.group(3))
        data = buf[m.end():m.end() + n]
        if pattern is not None:
            off = total % len(pattern)
            want = pattern[off:off + n]
            if len(want) < n:
                want += pattern[:n - len(want)]
            ok = ok and data == want
        else:
            h.update(data)
        total += n
        count += 1
        ok = ok and int(m.group(1)) == size and int(m.group(2)) == total and \
            (n == 1024 or total == size) and buf[m.end() + n:m.end() + n + 2] == b"\r\n"
        pos = m.end() + n + 2
    p.buf = bytes(buf[pos:])
    return (ok if pattern is not None else h.digest()), count, ok


def test_onemo_variants(binary, tmp, routes):
    emu, p, m = om_start(binary, tmp, "onemo-split", routes, "--variant", "split-urc")
    try:
        m.c('AT+MHTTPCREATE="http://120.27.12.119:10080"')
        m.c('AT+MHTTPREQUEST=0,1,0,"/get"')
        h, pieces = m.response()
        check(h["raw"] == b'\r\n+MHTTPURC:\r\n"header",0,200,225,' + OM_GET_HEAD + b"\r\n" and
              [u["raw"] for u in pieces] == [b'\r\n+MHTTPURC:\r\n"content",0,145,145,145,' + OM_GET_BODY + b"\r\n"],
              "onemo split-urc: \"+MHTTPURC:\" alone, then \"header\"/\"content\" on the next line")
        m.c('AT+MHTTPCREATE="http://refused.test"')
        m.c('AT+MHTTPREQUEST=1,1,0,"/"')
        check(m.urc()["raw"] == b'\r\n+MHTTPURC: "err",1,2\r\n', "onemo split-urc: \"err\" stays on one line")
    finally:
        p.close()
        check(emu.stop() == 0, "onemo split-urc emulator exits 0")
    emu, p, m = om_start(binary, tmp, "onemo-nospace", routes, "--variant", "nospace")
    try:
        check(m.c('AT+MHTTPCREATE="http://120.27.12.119:10080"') == b"\r\n+MHTTPCREATE:0\r\n\r\nOK\r\n",
              "onemo nospace: +MHTTPCREATE:0 (chapter 4's spelling)")
        m.c('AT+MHTTPCFG="header",0,"Connection: close"')
        check(m.c('AT+MHTTPCFG="header",0') == b'\r\n+MHTTPCFG:"header",0,19,Connection: close\r\n\r\nOK\r\n',
              "onemo nospace: +MHTTPCFG:\"header\",0,19,Connection: close (4.1)")
        m.c('AT+MHTTPREQUEST=0,1,0,"/get"')
        h, pieces = m.response()
        check(h["raw"] == b'\r\n+MHTTPURC:"header",0,200,225,' + OM_GET_HEAD + b"\r\n" and
              pieces[0]["raw"].startswith(b'\r\n+MHTTPURC:"content",0,145,145,145,'),
              "onemo nospace: +MHTTPURC:\"header\",... and +MHTTPURC:\"content\",...")
        check(m.c("AT+MHTTPDEL=3") == b"\r\n+CME ERROR: 652\r\n", "onemo nospace: +CME ERROR: keeps its blank")
    finally:
        p.close()
        check(emu.stop() == 0, "onemo nospace emulator exits 0")
    emu, p, m = om_start(binary, tmp, "onemo-slots2", routes, "--variant", "slots2")
    try:
        r = [m.c('AT+MHTTPCREATE="http://origin.test"') for _ in range(3)]
        check(r == [b"\r\n+MHTTPCREATE: 0\r\n\r\nOK\r\n", b"\r\n+MHTTPCREATE: 1\r\n\r\nOK\r\n",
                    b"\r\n+CME ERROR: 651\r\n"], "onemo slots2: two instances, the third -> 651")
        check(m.c("AT+MHTTPDEL=2") == b"\r\n+CME ERROR: 50\r\n" and
              m.c("AT+MHTTPDEL=?") == b"\r\n+MHTTPDEL: (0-1)\r\n\r\nOK\r\n",
              "onemo slots2: <httpid> 0-1 (MN316A/MN319)")
    finally:
        p.close()
        check(emu.stop() == 0, "onemo slots2 emulator exits 0")
    emu, p, m = om_start(binary, tmp, "onemo-frag", routes, "--variant", "frag512", "--max-body", "100000")
    try:
        m.c('AT+MHTTPCREATE="http://origin.test"')
        m.c('AT+MHTTPREQUEST=0,1,0,"/chunked"')
        h, pieces = m.response()
        sizes = [u["n"][3] for u in pieces]
        check(om_body(pieces) == b"".join(RAW_CHUNKS) and max(sizes) == 512 and sizes[-1] == 0 and
              om_pieces_ok(pieces, 0, 512), "onemo frag512: pieces of at most 512 bytes")
        m.c('AT+MHTTPCFG="fragment",0,100')
        m.c('AT+MHTTPREQUEST=0,1,0,"/get"')
        h, pieces = m.response()
        check([u["n"][3] for u in pieces] == [100, 45], "onemo: \"fragment\" <frag_size> 100 -> 100 + 45")
        m.c('AT+MHTTPREQUEST=0,1,0,"/big"')
        check(m.urc()["raw"] == b'\r\n+MHTTPURC: "err",0,8\r\n',
              "onemo --max-body: a body over it -> \"err\",0,8 before the header")
        m.c('AT+MHTTPCFG="encoding",0,0,1')
        m.c('AT+MHTTPREQUEST=0,1,0,"/nolen"')
        hexed = lambda b: b.hex().upper().encode()
        want = (b'\r\n+MHTTPURC: "header",0,200,17,' + hexed(b"HTTP/1.0 200 OK\r\n") + b"\r\n"
                b'\r\n+MHTTPURC: "content",0,0,15,15,' + hexed(b"until the close") + b"\r\n"
                b'\r\n+MHTTPURC: "content",0,0,15,0,\r\n')
        check(p.take(len(want)) == want, "onemo: <output_format> 1: hex data, lengths in bytes")
    finally:
        p.close()
        check(emu.stop() == 0, "onemo frag512 emulator exits 0")
    emu, p, m = om_start(binary, tmp, "onemo-ind", routes, "--variant", "ind-nocrlf")
    try:
        m.c('AT+MHTTPCREATE="http://origin.test"')
        m.c('AT+MHTTPCFG="chunked",0,1')
        m.c('AT+MHTTPREQUEST=0,3,0,"/echo"')
        got = p.until(b'"ind",0', 10)
        check(got == b'\r\n+MHTTPURC: "ind",0' and p.quiet(0.3) == b"",
              "onemo ind-nocrlf: +MHTTPURC: \"ind\",0 without CRLF")
        r = m.data("AT+MHTTPCONTENT=0,0,5", b"hello")
        check(r == (b"\r\n>", b"\r\nOK\r\n"), "onemo ind-nocrlf: the next answer follows right on")
        h, pieces = m.response()
        check(om_body(pieces).endswith(b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
              "onemo: chunked PUT: the origin got the chunk and the end")
    finally:
        p.close()
        check(emu.stop() == 0, "onemo ind-nocrlf emulator exits 0")


def om_pki(tmp):
    """A root and a leaf for tls.test (EC P-256), and a second root that
    signed nothing the origin shows.  Returns (root, other_root, leaf,
    key) file paths."""
    d = os.path.join(tmp, "om-pki")
    os.makedirs(d, exist_ok=True)

    def run(*a):
        subprocess.run(["openssl"] + list(a), check=True, cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ext = os.path.join(d, "ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:tls.test\nbasicConstraints=CA:FALSE\n")
    for name in ("root", "other"):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=om-" + name,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=tls.test")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key",
        "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "ext")
    return tuple(os.path.join(d, n) for n in ("root.pem", "other.pem", "leaf.pem", "leaf.key"))


def om_certwr(m, name, pem):
    """AT+MSSLCERTWR in data mode, one piece (the SSL manual's 3.2)."""
    return m.data('AT+MSSLCERTWR="%s",0,%d' % (name, len(pem)), pem)


def test_onemo_ssl_syntax(m):
    """AT+MSSLCFG and AT+MSSLCERTWR as the OneMO SSL user manual (3.1, 3.2)
    allows them, and ERROR or its code for anything else."""
    check(m.c("AT+MSSLCFG=?") == b'\r\n+MSSLCFG: ("cert","auth","ignorestamp","ignoreverify","sni",'
          b'"version","negotime","session")\r\n\r\nOK\r\n', "onemo: AT+MSSLCFG=? lists its items")
    check(m.c('AT+MSSLCFG="auth"') == b"\r\n" + b"".join(b'+MSSLCFG: "auth",%d,0\r\n' % i for i in range(6)) +
          b"\r\nOK\r\n", "onemo: \"auth\" alone -> every ssl_id, default 0 (no authentication)")
    check(m.c('AT+MSSLCFG="ignorestamp",3') == b'\r\n+MSSLCFG: "ignorestamp",3,1\r\n\r\nOK\r\n',
          "onemo: \"ignorestamp\" defaults to 1")
    check(m.c('AT+MSSLCFG="auth",1,1') == b"\r\nOK\r\n" and
          m.c('AT+MSSLCFG="auth",1') == b'\r\n+MSSLCFG: "auth",1,1\r\n\r\nOK\r\n', "onemo: \"auth\",1,1 kept")
    m.c('AT+MSSLCFG="auth",1,0')
    for bad in ("AT+MSSLCFG", "AT+MSSLCFG?", 'AT+MSSLCFG=auth,1,1', 'AT+MSSLCFG="auth,1,1',
                'AT+MSSLCFG="psk",1,"1"', 'AT+MSSLCFG="foo",1,1', "AT+MSSLCERTWR", "AT+MSSLCERTWR?",
                'AT+MSSLCFG="cert",1,"a","b","c"', 'AT+MSSLCERTWR=a.pem,0,10'):
        check(m.c(bad) == b"\r\nERROR\r\n", "onemo: %s -> ERROR" % bad)
    for bad in ('AT+MSSLCFG="auth",6,1', 'AT+MSSLCFG="auth",1,3', 'AT+MSSLCFG="auth",1,"1"',
                'AT+MSSLCFG="auth",1,1,1', 'AT+MSSLCFG="negotime",1,9', 'AT+MSSLCFG=1,1,1',
                'AT+MSSLCFG="cert",1,""', 'AT+MSSLCFG="cert",1,1', 'AT+MSSLCFG="cert",1,"%s"' % ("n" * 65),
                'AT+MSSLCERTWR="a.pem",0,0', 'AT+MSSLCERTWR="a.pem",0,8193', 'AT+MSSLCERTWR="",0,10',
                'AT+MSSLCERTWR="%s",0,10' % ("n" * 65),
                'AT+MSSLCERTWR="a.pem",0', 'AT+MSSLCERTWR="a.pem",0,5,"ab"', 'AT+MSSLCERTWR="a.pem",0,0,"a\\x"'):
        check(m.c(bad) == b"\r\n+CME ERROR: 50\r\n", "onemo: %s -> 50" % bad)
    check(m.c('AT+MSSLCFG="cert",1,"missing.pem"') == b"\r\n+CME ERROR: 762\r\n",
          "onemo: \"cert\" naming no file -> 762 (SSL manual 5.2)")
    pem = open(m.pki[0], "rb").read()
    check(om_certwr(m, "root.pem", pem) == (b"\r\n>", b"\r\nOK\r\n"), "onemo: MSSLCERTWR data mode: '>', the PEM, OK")
    check(m.c('AT+MSSLCFG="cert",1,"root.pem"') == b"\r\nOK\r\n" and
          m.c('AT+MSSLCFG="cert",1') == b'\r\n+MSSLCFG: "cert",1,"root.pem","",""\r\n\r\nOK\r\n',
          "onemo: \"cert\" names the written file")
    check(om_certwr(m, "bad.pem", b"not a certificate") == (b"\r\n>", b"\r\n+CME ERROR: 761\r\n"),
          "onemo: MSSLCERTWR of no PEM -> 761")
    half = len(pem) // 2
    check(m.data('AT+MSSLCERTWR="two.pem",%d,%d' % (len(pem) - half, half), pem[:half]) == (b"\r\n>", b"\r\nOK\r\n")
          and m.c('AT+MSSLCFG="cert",2,"two.pem"') == b"\r\n+CME ERROR: 762\r\n" and
          m.data('AT+MSSLCERTWR="two.pem",0,%d' % (len(pem) - half), pem[half:]) == (b"\r\n>", b"\r\nOK\r\n") and
          m.c('AT+MSSLCFG="cert",2,"two.pem"') == b"\r\nOK\r\n",
          "onemo: MSSLCERTWR in two pieces: <remain_length>, the file only after the last")
    inline = pem.replace(b"\r\n", b"\n").replace(b"\n", b"\\r\\n").decode()
    check(m.c('AT+MSSLCERTWR="inline.pem",0,%d,"%s"' % (len(inline), inline)) == b"\r\nOK\r\n",
          "onemo: MSSLCERTWR with the PEM in the command, \\r\\n escaped (3.2's note 9)")


def om_get(m, ident, path="/get"):
    """A GET on instance ident: the first URC's kind and numbers, and
    whether the body that followed is the manual's /get body."""
    m.c('AT+MHTTPREQUEST=%d,1,0,"%s"' % (ident, path))
    h, pieces = m.response()
    return h["kind"], h["n"], om_body(pieces) == OM_GET_BODY


def test_onemo_tls(binary, tmp):
    """Real TLS exactly as far as the SSL commands asked: verification
    against the written roots, SNI only with "sni" 1, and an http
    instance's redirect to https followed with its <ssl_id>'s context, or
    the default one (unverified) when it has none."""
    import ssl
    pki = om_pki(tmp)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki[2], pki[3])
    tls = OnemoOrigin(tls=ctx)
    plain = OnemoOrigin()
    routes = ["--route=tls.test=127.0.0.1:%d" % tls.port, "--route=origin.test=127.0.0.1:%d" % plain.port]
    emu, p, m = om_start(binary, tmp, "onemo-tls", routes)
    m.pki = pki
    try:
        test_onemo_ssl_syntax(m)
        root, other = open(pki[0], "rb").read(), open(pki[1], "rb").read()
        om_certwr(m, "other.pem", other)
        # ctx 1 verifies with the right root and SNI; 0 verifies with no
        # root; 3 with the wrong root; 4 does not verify; 5 wrong root,
        # result ignored
        for line in ('"auth",1,1', '"sni",1,1', '"auth",0,1', '"auth",3,1', '"cert",3,"other.pem"',
                     '"auth",5,1', '"cert",5,"other.pem"', '"ignoreverify",5,1'):
            m.c("AT+MSSLCFG=" + line)
        m.c('AT+MHTTPCREATE="https://tls.test"')
        check(m.c('AT+MHTTPCFG="ssl",0,1,1') == b"\r\nOK\r\n", "onemo: \"ssl\",0,1,1 (4.2)")
        n = len(tls.snis)
        kind, _, body = om_get(m, 0)
        check(kind == "header" and body and tls.snis[n:] == ["tls.test"],
              "onemo: https, \"auth\" 1 with the right root and \"sni\" 1 -> verified, SNI tls.test")
        for ssl_id, want, what in ((0, "err", "\"auth\" 1 with no root -> \"err\" 4"),
                                   (3, "err", "\"auth\" 1 with the wrong root -> \"err\" 4"),
                                   (4, "header", "\"auth\" 0 -> unverified, it works"),
                                   (5, "header", "\"ignoreverify\" 1 -> the wrong root passes")):
            m.c('AT+MHTTPCFG="ssl",0,1,%d' % ssl_id)
            n = len(tls.snis)
            kind, nums, body = om_get(m, 0)
            check(kind == want and (nums == [0, 4] if kind == "err" else body) and tls.snis[n:] in ([None], []),
                  "onemo: https on ssl_id %d: %s; no SNI without \"sni\" 1" % (ssl_id, what))
        # the HTTP manual's note to 3.5: http -> https redirects
        m.c('AT+MHTTPCREATE="http://origin.test"')
        n = len(tls.requests)
        kind, nums, body = om_get(m, 1, "/to-https/get")
        check(kind == "header" and nums[1] == 200 and body and len(tls.requests) == n + 1 and
              tls.requests[-1].startswith(b"GET /get HTTP/1.1\r\nHost: tls.test\r\n"),
              "onemo: an http instance without \"ssl\" follows a redirect to https unverified (default config)")
        check(m.c('AT+MHTTPCFG="ssl",1') == b'\r\n+MHTTPCFG: "ssl",1,0\r\n\r\nOK\r\n' and
              m.c('AT+MHTTPCFG="ssl",1,0,0') == b"\r\nOK\r\n" and
              m.c('AT+MHTTPCFG="ssl",1') == b'\r\n+MHTTPCFG: "ssl",1,0,0\r\n\r\nOK\r\n',
              "onemo: \"ssl\",1,0,0: SSL off, the ssl_id given is shown")
        kind, nums, _ = om_get(m, 1, "/to-https/get")
        check(kind == "err" and nums == [1, 4],
              "onemo: bound to a verifying context with no root, the redirect fails (\"err\" 4)")
        m.c('AT+MHTTPCFG="ssl",1,0,1')
        kind, nums, body = om_get(m, 1, "/to-https/get")
        check(kind == "header" and nums[1] == 200 and body,
              "onemo: bound to the verifying context, the redirect is verified")
        kind, nums, body = om_get(m, 1, "/get")
        check(kind == "header" and nums[1] == 200 and body and not plain.requests[-1].startswith(b"\x16"),
              "onemo: the same http instance's own requests stay plain")
    finally:
        p.close()
        check(emu.stop() == 0, "onemo tls emulator exits 0")
    for variant, item in (("noauth", "auth"), ("nosni", "sni")):
        emu, p, m = om_start(binary, tmp, "onemo-" + variant, routes, "--variant", variant)
        try:
            check(m.c('AT+MSSLCFG="%s",1,1' % item) == b"\r\nERROR\r\n" and
                  m.c('AT+MSSLCFG="%s"' % item) == b"\r\nERROR\r\n" and
                  b'"%s"' % item.encode() not in m.c("AT+MSSLCFG=?"),
                  "onemo %s: AT+MSSLCFG=\"%s\" -> ERROR, not listed" % (variant, item))
            check(m.c('AT+MSSLCFG="ignoreverify",1,0') == b"\r\nOK\r\n", "onemo %s: other items work" % variant)
            if variant == "nosni":
                m.c('AT+MHTTPCREATE="https://tls.test"')
                m.c('AT+MHTTPCFG="ssl",0,1,1')
                n = len(tls.snis)
                kind, _, body = om_get(m, 0)
                check(kind == "header" and body and tls.snis[n:] == [None], "onemo nosni: no SNI is sent")
        finally:
            p.close()
            check(emu.stop() == 0, "onemo %s emulator exits 0" % variant)



def test_onemo(binary, tmp, quick):
    origin = OnemoOrigin()
    full = socket.socket()          # a listener whose backlog is full: SYNs go unanswered
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    held = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(full.getsockname())
        held.append(s)
    routes = ["--route=120.27.12.119:10080=127.0.0.1:%d" % origin.port,
              "--route=origin.test=127.0.0.1:%d" % origin.port,
              "--route=api.heclouds.com=127.0.0.1:%d" % origin.port,
              "--route=refused.test=127.0.0.1:%d" % closed_port(),
              "--route=blackhole.test=127.0.0.1:%d" % full.getsockname()[1]]
    emu, p, m = om_start(binary, tmp, "onemo", routes)
    try:
        test_onemo_basics(m)
        test_onemo_manual(m, origin)
        test_onemo_input(m, origin)
        test_onemo_requests(m, origin, quick)
        log = open(emu.log, "rb").read()
        check(b'CMD AT+MHTTPCREATE="http://120.27.12.119:10080"\n' in log and
              b"DATA 70 " + OM_CONTENT.replace(b"\\", b"\\x5C") + b"\n" in log,
              "onemo: --log has CMD and DATA lines")
    finally:
        p.close()
        check(emu.stop() == 0, "onemo emulator exits 0")
    test_onemo_variants(binary, tmp, routes)
    test_onemo_tls(binary, tmp)
    for s in held:
        s.close()
    full.close()


# ---------------------------------------------------------------- espat

ESP_UA = b"ESP32 HTTP Client/1.0"
ESP_FINALS = (b"\r\nOK\r\n", b"\r\nERROR\r\n", b"\r\nSEND OK\r\n", b"\r\nSEND FAIL\r\n")
ESP_GIF = b"GIF89a" + bytes(range(256)) * 4     # 1030 bytes
ESP_BIN = (b"\x00\r\nOK\r\n\xff+HTTPCLIENT:3,\r\n" * 42)[:1000]


def esp_text(n):
    return b"".join(b"%05d:0123456789abcdefghijklmnopqrstuvwxyz\n" % i
                    for i in range(n // 42 + 1))[:n]


class EspOrigin(RawOrigin):
    """RawOrigin plus what the ESP-AT checks need: redirects, a GIF of
    known size, bodies with NUL and CRLF, a large body, a stall."""

    huge = b""

    def answer(self, c, method, path, raw):
        head = method == b"HEAD"
        out = None
        m = re.match(rb"/redir/(\d+)/(\d+)", path)
        if m and int(m.group(2)) > 0:
            code, n = int(m.group(1)), int(m.group(2))
            loc = b"/redir/%d/%d" % (code, n - 1)
            if n == 1 and path.endswith(b"/abs"):
                loc = b"http://other.test:8080/landed"
            body = b"moved"
            out = (b"HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: %d\r\n"
                   b"Connection: close\r\n\r\n%s" % (code, loc, len(body), b"" if head else body))
        elif path == b"/img/bdlogo.gif":
            out = (b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: %d\r\n"
                   b"Connection: close\r\n\r\n" % len(ESP_GIF)) + (b"" if head else ESP_GIF)
        elif path.startswith(b"/bin"):
            out = raw_response(200, ESP_BIN, head)
        elif path.startswith(b"/text/"):
            out = raw_response(200, esp_text(int(path[6:])), head)
        elif path == b"/chunked-text":
            body = esp_text(1500)
            out = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                   b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (700, body[:700], 800, body[700:]))
        elif path == b"/wait":
            time.sleep(1)
        elif path == b"/stall":
            out = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome"
            c.sendall(out)
            time.sleep(8)
            return False
        elif path == b"/huge":
            with self.lock:
                self.sent.append(b"<huge>")
            try:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                          % len(self.huge) + (b"" if head else self.huge))
            except OSError:
                pass    # the module gave up (a hangup test)
            return False
        if out is None:
            return RawOrigin.answer(self, c, method, path, raw)
        with self.lock:
            self.sent.append(out)
        c.sendall(out)
        return False

    def count(self):
        with self.lock:
            return len(self.requests)


class EspReader:
    """Reads what the module prints for one command: pieces and the final
    result, fast enough for tens of MB (no copying per piece)."""

    def __init__(self, p):
        self.p = p

    def _more(self, buf, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.p.fd], [], [], left)[0]:
            raise TimeoutError("espat: timeout; have %r" % bytes(buf[:200]))
        buf += os.read(self.p.fd, 1 << 20)

    def read(self, prefix=b"+HTTPCLIENT:", timeout=30, pause=0):
        """(body, sizes, final): the pieces' data joined, each piece's
        length, and the final result's word.  pause: seconds to stop
        reading after the first piece."""
        buf = bytearray(self.p.buf)
        self.p.buf = b""
        pos, sizes, body = 0, [], bytearray()
        pat = re.compile(re.escape(prefix) + rb"(\d+),")
        deadline = time.monotonic() + timeout
        while True:
            if buf.startswith(prefix, pos):
                m = pat.match(buf, pos)
                if m:
                    n = int(m.group(1))
                    end = m.end() + n + 2
                    if len(buf) >= end:
                        if buf[end - 2:end] != b"\r\n":
                            raise AssertionError("piece not ended by CRLF: %r"
                                                 % bytes(buf[pos:pos + 80]))
                        body += buf[m.end():end - 2]
                        sizes.append(n)
                        pos = end
                        if pause and len(sizes) == 1:
                            time.sleep(pause)
                        continue
                elif len(buf) - pos > len(prefix) + 12:
                    raise AssertionError("bad piece head %r" % bytes(buf[pos:pos + 40]))
            else:
                for f in ESP_FINALS:
                    if buf.startswith(f, pos):
                        self.p.buf = bytes(buf[pos + len(f):])
                        return bytes(body), sizes, f.strip().decode()
                rest = bytes(buf[pos:pos + 16])
                if not any(f.startswith(rest) for f in ESP_FINALS + (prefix,)):
                    raise AssertionError("unexpected output %r" % bytes(buf[pos:pos + 80]))
            if pos > 1 << 20:
                del buf[:pos]
                pos = 0
            self._more(buf, deadline)

    def read_beken(self, prefix=b"+HTTPCLIENT:", timeout=30):
        """([(T, data)...], final) for Beken's +HTTPCLIENT:<T>,<data> pieces."""
        buf = bytearray(self.p.buf)
        self.p.buf = b""
        pos, pieces = 0, []
        pat = re.compile(re.escape(prefix) + rb"<(\d+)>,<")
        deadline = time.monotonic() + timeout
        while True:
            m = pat.match(buf, pos)
            if m:
                end = buf.find(b">\r\n", m.end())
                if end >= 0:
                    pieces.append((int(m.group(1)), bytes(buf[m.end():end])))
                    pos = end + 3
                    continue
            else:
                for f in ESP_FINALS:
                    if buf.startswith(f, pos):
                        self.p.buf = bytes(buf[pos + len(f):])
                        return pieces, f.strip().decode()
            self._more(buf, deadline)


def esp_cmd(p, line, prefix=b"+HTTPCLIENT:", timeout=30):
    p.send(line.encode("latin-1") + b"\r")
    return EspReader(p).read(prefix, timeout)


def esp_raw(p, line, timeout=30):
    """Everything a short command prints, up to its final result."""
    p.send(line.encode("latin-1") + b"\r")
    deadline = time.monotonic() + timeout
    while True:
        for f in ESP_FINALS:
            if p.buf.endswith(f):
                out, p.buf = p.buf, b""
                return out
        p.fill(deadline)


def esp_cpost(p, line, data, timeout=30):
    """AT+HTTPCPOST: (prompt, pieces' body, sizes, final)."""
    p.send(line.encode("latin-1") + b"\r")
    prompt = p.take(9)
    if prompt != b"\r\nOK\r\n\r\n>":
        return prompt + p.quiet(0.3), None, None, None
    p.send(data)
    body, sizes, fin = EspReader(p).read(b"+HTTPCPOST:", timeout)
    return prompt, body, sizes, fin


def esp_head_lines(response):
    head = response.split(b"\r\n\r\n")[0]
    return head.split(b"\r\n")[1:]


def esp_request(method, target, host=b"origin.test", extra=b"", body=None, ctype=None):
    r = b"%s %s HTTP/1.1\r\nUser-Agent: %s\r\nHost: %s\r\n" % (method, target, ESP_UA, host)
    if body is not None:
        r += b"Content-Type: %s\r\n" % (ctype or b"application/x-www-form-urlencoded")
    r += extra
    if body is not None:
        r += b"Content-Length: %d\r\n" % len(body)
    return r + b"\r\n" + (body or b"")


def test_espat_manual(p, origin):
    # The manual's examples, exactly as it writes them (unquoted).
    body, sizes, fin = esp_cmd(p, "AT+HTTPCLIENT=1,0,http://httpbin.org/get,httpbin.org,/get,1")
    want = esp_request(b"HEAD", b"/get", b"httpbin.org")
    check(origin.last() == want, "espat manual HEAD: the origin got %r" % origin.last())
    lines = esp_head_lines(origin.sent[-1])
    check(fin == "OK" and sizes == [len(l) for l in lines] and body == b"".join(lines),
          "espat manual HEAD: one +HTTPCLIENT:<n>,Name: value piece per header line, OK")
    body, sizes, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,http://httpbin.org/get,httpbin.org,/get,1")
    want = esp_request(b"GET", b"/get", b"httpbin.org")
    check(origin.last() == want, "espat manual GET: the origin got %r" % origin.last())
    check(fin == "OK" and body == want and sizes == [len(want)],
          "espat manual GET: +HTTPCLIENT:<n>,<body>, OK")
    body, sizes, fin = esp_cmd(
        p, "AT+HTTPCLIENT=3,0,http://httpbin.org/post,httpbin.org,/post,1,field1=value1&field2=value2")
    want = esp_request(b"POST", b"/post", b"httpbin.org", body=b"field1=value1&field2=value2")
    check(origin.last() == want and fin == "OK" and body == want,
          "espat manual POST: <data> is the body, Content-Type from <content-type>: %r" % origin.last())
    n = origin.count()
    check(esp_raw(p, "AT+HTTPCLIENT=2,0,https://www.baidu.com/,www.baidu.com,/,2") == b"\r\nERROR\r\n",
          "espat manual TLS GET (transport_type 2) to an origin without TLS -> ERROR (handshake failed)")
    check(esp_raw(p, "AT+HTTPCLIENT=3,0,https://www.baidu.com/,www.baidu.com,/,2,hello") == b"\r\nERROR\r\n",
          "espat manual TLS POST to an origin without TLS -> ERROR")
    check(origin.count() == n, "espat: the TLS examples sent no request in the clear")
    r = esp_raw(p, "AT+HTTPGETSIZE=http://www.baidu.com/img/bdlogo.gif")
    check(r == b"+HTTPGETSIZE:%d\r\n\r\nOK\r\n" % len(ESP_GIF),
          "espat manual HTTPGETSIZE: +HTTPGETSIZE:<size>, OK: %r" % r)
    check(origin.last() == esp_request(b"HEAD", b"/img/bdlogo.gif", b"www.baidu.com"),
          "espat HTTPGETSIZE sends a HEAD")
    prompt, body, sizes, fin = esp_cpost(p, "AT+HTTPCPOST=http://httpbin.org/post,27",
                                         b"field1=value1&field2=value2")
    want = esp_request(b"POST", b"/post", b"httpbin.org", body=b"field1=value1&field2=value2")
    check(prompt == b"\r\nOK\r\n\r\n>", "espat manual HTTPCPOST: OK, then '>'")
    check(origin.last() == want, "espat manual HTTPCPOST: 27 bytes posted: %r" % origin.last())
    check(fin == "SEND OK" and body == want and sizes == [len(want)],
          "espat manual HTTPCPOST: +HTTPCPOST:<n>,<data> pieces, SEND OK")


def test_espat_quoted(p, origin):
    body, _, fin = esp_cmd(p, r'AT+HTTPCLIENT=2,0,"http://origin.test/q?a=1\,2",,,1,'
                           r'"X-Quote: say \"hi\" \\o/"')
    want = esp_request(b"GET", b"/q?a=1,2", extra=b'X-Quote: say "hi" \\o/\r\n')
    check(origin.last() == want and fin == "OK" and body == want,
          "espat quoted: \\, \\\" and \\\\ unescaped: %r" % origin.last())
    esp_cmd(p, r'AT+HTTPCLIENT=2,0,"http://origin.test/list",,,1,"X-List: a\,b\,c",X-Unq: d e')
    check(origin.last() == esp_request(b"GET", b"/list", extra=b"X-List: a,b,c\r\nX-Unq: d e\r\n"),
          "espat: a header value with escaped commas arrives intact; unquoted header too")
    for line in ('AT+HTTPCLIENT=2,0,"",origin.test,/hp?x=1,1', 'AT+HTTPCLIENT=2,0,,"origin.test","/hp?x=1",1'):
        body, _, fin = esp_cmd(p, line)
        check(fin == "OK" and origin.last() == esp_request(b"GET", b"/hp?x=1"),
              "espat: empty <url> -> <host> and <path>: %s" % line)
    esp_cmd(p, 'AT+HTTPCLIENT=3,1,"http://origin.test/o",,,1,"{\\"a\\":1}",'
               '"user-agent: probe/1","Content-Type: text/plain","X-A: 1","x-a: 2"')
    check(origin.last() == b"POST /o HTTP/1.1\r\nUser-Agent: probe/1\r\nHost: origin.test\r\n"
          b"Content-Type: text/plain\r\nX-A: 2\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
          "espat: header parameters replace the defaults in place: %r" % origin.last())
    esp_cmd(p, 'AT+HTTPCLIENT=3,3,"http://origin.test:8080/x",,,1,""')
    check(origin.last() == esp_request(b"POST", b"/x", b"origin.test:8080", body=b"", ctype=b"text/xml"),
          "espat: POST with empty <data>, content-type 3, port in Host: %r" % origin.last())
    esp_cmd(p, "AT+HTTPCLIENT=3,0,http://origin.test/n,,,1,12345")
    check(origin.last() == esp_request(b"POST", b"/n", body=b"12345"),
          "espat: unquoted all-digit <data> is text")
    esp_cmd(p, 'AT+HTTPCLIENT=4,2,"http://origin.test/put",,,1')
    check(origin.last() == esp_request(b"PUT", b"/put", body=b"", ctype=b"multipart/form-data"),
          "espat PUT: no <data>, Content-Length: 0")
    esp_cmd(p, 'AT+HTTPCLIENT=5,0,"http://origin.test/del",,,1,"X-A: b"')
    check(origin.last() == esp_request(b"DELETE", b"/del", extra=b"X-A: b\r\n"),
          "espat DELETE: headers only")


def test_espat_refusals(p, origin):
    u = "http://origin.test/r"
    bad = [
        'AT+HTTPCLIENT=2,0,"http://origin.test/a"b",,,1',       # raw quote in quotes
        'AT+HTTPCLIENT=2,0,"http://origin.test/a,b",,,1',       # raw comma in quotes
        'AT+HTTPCLIENT=2,0,"http://origin.test/a\\nb",,,1',     # unknown escape
        'AT+HTTPCLIENT=2,0,"http://origin.test/a\\x41",,,1',
        'AT+HTTPCLIENT=2,0,"http://origin.test/a\\",,,1',       # escaped closing quote
        'AT+HTTPCLIENT=2,0,"http://origin.test/a"x,,,1',        # junk after the quote
        'AT+HTTPCLIENT=2,0,http://origin.test/a"b,,,1',         # quote unquoted
        'AT+HTTPCLIENT=2,0,http://origin.test/a\\b,,,1',        # backslash unquoted
        'AT+HTTPCLIENT=2,0,"http://origin.test/a\tb",,,1',      # control byte
        "AT+HTTPCLIENT=2,0,%s,,,1,field1=value1" % u,           # GET: <data> is a header
        "AT+HTTPCLIENT=4,0,%s,,,1,hello" % u,                   # PUT: no <data>
        "AT+HTTPCLIENT=2,0,%s,,,1," % u,                        # empty header
        "AT+HTTPCLIENT=2,0,%s,,,1,12" % u,
        "AT+HTTPCLIENT=2,0,%s,,,1,Bad Name: x" % u,
        "AT+HTTPCLIENT=2,0,%s,,,1,: x" % u,
        "AT+HTTPCLIENT=2,0,%s,,,1,X-A: b,nope" % u,
        "AT+HTTPCLIENT=3,0,%s,,,1" % u,                         # POST without <data>
        "AT+HTTPCLIENT=0,0,%s,,,1" % u,
        "AT+HTTPCLIENT=6,0,%s,,,1" % u,
        "AT+HTTPCLIENT=2,4,%s,,,1" % u,
        "AT+HTTPCLIENT=2,0,%s,,,0" % u,
        "AT+HTTPCLIENT=2,0,%s,,,2" % u,                         # TLS
        "AT+HTTPCLIENT=2,0,%s,,,3" % u,
        "AT+HTTPCLIENT=2,0,%s,,," % u,
        "AT+HTTPCLIENT=2,0,%s,," % u,
        'AT+HTTPCLIENT="2",0,%s,,,1' % u,
        "AT+HTTPCLIENT=2, 0,%s,,,1" % u,
        "AT+HTTPCLIENT=-2,0,%s,,,1" % u,
        "AT+HTTPCLIENT=2,0,https://origin.test/,,,1",
        "AT+HTTPCLIENT=2,0,ftp://origin.test/,,,1",
        "AT+HTTPCLIENT=2,0,origin.test/r,,,1",
        "AT+HTTPCLIENT=2,0,,,/r,1",
        "AT+HTTPCLIENT=2,0,,origin.test,,1",
        "AT+HTTPCLIENT=2,0,,origin.test,r,1",
        "AT+HTTPCLIENT=2,0,,origin.test:80,/r,1",
        "AT+HTTPCLIENT?",
        "AT+HTTPCLIENT=?",
        "AT+HTTPCLIENT",
        "AT+HTTPGETSIZE=%s,1" % u,
        "AT+HTTPGETSIZE=",
        "AT+HTTPGETSIZE",
        "AT+HTTPCPOST=%s,0" % u,
        "AT+HTTPCPOST=%s,2049" % u,
        "AT+HTTPCPOST=%s" % u,
        "AT+HTTPCPOST=,10",
        "AT+HTTPCPOST=%s,10,2,X-A: b" % u,                      # count 2, one header
        "AT+HTTPCPOST=%s,10,1" % u,
        "AT+HTTPCPOST=%s,10,0,X-A: b" % u,
        "AT+HTTPCPOST=%s,10,X-A: b" % u,                        # no count
        "AT+HTTPCPOST=%s,10," % u,
        "AT+HTTPCPOST=%s,10,1,nope" % u,
        "AT+HTTPCPOST=%s,ten" % u,
        "AT+CIPSTART=\"TCP\",\"x\",80",
        "ATI",
        "ATE2",
    ]
    n = origin.count()
    for b in bad:
        check(esp_raw(p, b) == b"\r\nERROR\r\n", "espat: %s -> ERROR" % b[:70])
    check(origin.count() == n, "espat: no refused command reached the origin")
    pad = "http://origin.test/pad?x="
    line = "AT+HTTPCLIENT=2,0,%s,,,1" % pad
    fill = 256 - len(line)
    line = "AT+HTTPCLIENT=2,0,%s%s,,,1" % (pad, "y" * fill)
    check(len(line) == 256, "a 256-byte command built")
    body, _, fin = esp_cmd(p, line)
    check(fin == "OK" and origin.last().startswith(b"GET /pad?x=" + b"y" * fill + b" HTTP/1.1\r\n"),
          "espat: a 256-byte command line (the limit) -> served")
    line = "AT+HTTPCLIENT=2,0,%s%s,,,1" % (pad, "y" * (fill + 1))
    n = origin.count()
    check(esp_raw(p, line) == b"\r\nERROR\r\n" and origin.count() == n,
          "espat: a 257-byte command line -> ERROR, nothing sent")
    for good in ("AT+HTTPCPOST=%s,2048" % u, "AT+HTTPCPOST=%s,5,0" % u,
                 'AT+HTTPCPOST="%s",5,2,"X-A: 1",X-B: 2' % u):
        data = bytes(range(256)) * 8 if "2048" in good else b"hello"
        prompt, _, _, fin = esp_cpost(p, good, data)
        check(prompt == b"\r\nOK\r\n\r\n>" and fin == "SEND OK", "espat: %s -> '>' ... SEND OK" % good)
    check(origin.last() == esp_request(b"POST", b"/r", extra=b"X-A: 1\r\nX-B: 2\r\n", body=b"hello"),
          "espat: HTTPCPOST header parameters counted and sent: %r" % origin.last())
    # A command before the final result is refused, not queued.
    p.send(b"AT+HTTPCLIENT=2,0,http://origin.test/wait,,,1\rAT\r")
    first = p.take(9, 5)
    body, _, fin = EspReader(p).read()
    check(first == b"\r\nERROR\r\n" and fin == "OK" and
          body == esp_request(b"GET", b"/wait") and p.quiet(0.3) == b"",
          "espat: AT before the final result -> ERROR at once; the request completes, OK")
    check(esp_raw(p, "AT") == b"\r\nOK\r\n", "espat: next command runs normally")


def test_espat_data(p, origin):
    blob = (b"\x00\r\n\r\nAT+CMGS=1\r\n\x1a\xff\"\\,+++" * 100)[:2048]
    prompt, body, _, fin = esp_cpost(p, 'AT+HTTPCPOST="http://origin.test/post-bin",2048,1,'
                                        '"Content-Type: application/octet-stream"', blob)
    got = origin.last() or b""
    sent = got.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in got else b""
    check(prompt == b"\r\nOK\r\n\r\n>" and fin == "SEND OK" and
          hashlib.sha256(sent).digest() == hashlib.sha256(blob).digest(),
          "espat HTTPCPOST: 2048 binary bytes (NUL, CRLF, ^Z) reach the origin byte-exact (sha256)")
    check(got.startswith(b"POST /post-bin HTTP/1.1\r\nUser-Agent: %s\r\nHost: origin.test\r\n"
                         b"Content-Type: application/octet-stream\r\nContent-Length: 2048\r\n\r\n" % ESP_UA),
          "espat HTTPCPOST: Content-Type from the header parameter, Content-Length by the module")
    check(body == got, "espat HTTPCPOST: the response (the echo) comes back byte-exact in pieces")
    if body != got:
        print("     got %r\n     want %r" % (body[:300], got[:300]))
    body, sizes, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,http://origin.test/bin,,,1")
    check(fin == "OK" and body == ESP_BIN and sizes == [512, 488],
          "espat GET: a body with NUL and CRLF in pieces of at most 512: %s" % sizes)
    body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,http://origin.test/chunked,,,1")
    check(fin == "OK" and body == b"".join(RAW_CHUNKS), "espat: a chunked body, de-chunked")
    body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,http://origin.test/nolen,,,1")
    check(fin == "OK" and body == b"until the close", "espat: a body until the close")


def test_espat_redirects(p, origin):
    body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,http://origin.test/redir/301/1,,,1")
    want = esp_request(b"GET", b"/redir/301/0")
    check(fin == "OK" and body == want and origin.last() == want,
          "espat: a 301 is followed; only the final response is printed")
    body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,http://origin.test/redir/302/5,,,1")
    check(fin == "OK" and body == esp_request(b"GET", b"/redir/302/0"),
          "espat: five redirects are followed")
    n = origin.count()
    body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,http://origin.test/redir/302/6,,,1")
    check(fin == "ERROR" and body == b"" and origin.count() == n + 6,
          "espat: a sixth redirect -> ERROR")
    esp_cmd(p, "AT+HTTPCLIENT=3,0,http://origin.test/redir/303/1,,,1,a=b")
    check(origin.last() == esp_request(b"GET", b"/redir/303/0"),
          "espat: 303 after a POST -> GET without the body: %r" % origin.last())
    for code in (307, 308, 301):
        esp_cmd(p, "AT+HTTPCLIENT=3,0,http://origin.test/redir/%d/1,,,1,a=b" % code)
        check(origin.last() == esp_request(b"POST", b"/redir/%d/0" % code, body=b"a=b"),
              "espat: %d after a POST -> the POST again" % code)
    body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,http://origin.test/redir/302/1/abs,,,1")
    want = esp_request(b"GET", b"/landed", b"other.test:8080")
    check(fin == "OK" and origin.last() == want and body == want,
          "espat: an absolute Location to another host and port")
    prompt, body, _, fin = esp_cpost(p, "AT+HTTPCPOST=http://origin.test/redir/307/2,3", b"x=y")
    check(fin == "SEND OK" and origin.last() == esp_request(b"POST", b"/redir/307/0", body=b"x=y"),
          "espat HTTPCPOST follows a 307 with the data")
    body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=1,0,http://origin.test/redir/301/1,,,1")
    check(fin == "OK" and body == b"".join(esp_head_lines(origin.sent[-1])) and
          origin.last().startswith(b"HEAD /redir/301/0 "),
          "espat: a HEAD follows too and prints the final header lines")
    r = esp_raw(p, "AT+HTTPGETSIZE=http://origin.test/redir/302/1/abs")
    check(r == b"+HTTPGETSIZE:%d\r\n\r\nOK\r\n" % len(origin.last()),
          "espat HTTPGETSIZE follows redirects: %r" % r)


def test_espat_failures(p, origin, quick):
    r = esp_raw(p, "AT+HTTPCLIENT=2,0,http://origin.test/404,,,1")
    check(r == b"+HTTPCLIENT:9,not found\r\n\r\nERROR\r\n",
          "espat: status 404 -> the error body's pieces, then ERROR: %r" % r)
    body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=1,0,http://origin.test/404,,,1")
    check(fin == "ERROR" and body == b"".join(esp_head_lines(origin.sent[-1])),
          "espat: HEAD, status 404 -> header lines, ERROR")
    check(esp_raw(p, "AT+HTTPGETSIZE=http://origin.test/404") == b"\r\nERROR\r\n",
          "espat: HTTPGETSIZE, status 404 -> ERROR")
    check(esp_raw(p, "AT+HTTPGETSIZE=http://origin.test/nolen") == b"\r\nERROR\r\n",
          "espat: HTTPGETSIZE without Content-Length -> ERROR")
    prompt, body, _, fin = esp_cpost(p, "AT+HTTPCPOST=http://origin.test/404,3", b"abc")
    check(fin == "SEND FAIL" and body == b"not found",
          "espat HTTPCPOST: status 404 -> pieces, SEND FAIL")
    for url in ("http://nosuch.invalid/", "http://refused.test/", "http://garbage.test/"):
        check(esp_raw(p, "AT+HTTPCLIENT=2,0,%s,,,1" % url, 60) == b"\r\nERROR\r\n",
              "espat: %s -> ERROR" % url)
    check(esp_raw(p, "AT+HTTPCLIENT=2,0,http://origin.test/short,,,1") ==
          b"+HTTPCLIENT:9,only this\r\n\r\nERROR\r\n",
          "espat: the origin closes early -> what came, then ERROR")
    prompt, _, _, fin = esp_cpost(p, "AT+HTTPCPOST=http://refused.test/,3", b"abc")
    check(prompt == b"\r\nOK\r\n\r\n>" and fin == "SEND FAIL",
          "espat HTTPCPOST: connection refused -> SEND FAIL")
    if not quick:
        t0 = time.monotonic()
        r = esp_raw(p, "AT+HTTPCLIENT=2,0,http://origin.test/stall,,,1", 20)
        dt = time.monotonic() - t0
        check(r == b"+HTTPCLIENT:4,some\r\n\r\nERROR\r\n" and 4.5 < dt < 7,
              "espat: the origin stalls 5 s -> ERROR (%.1f s)" % dt)
        p.send(b"AT+HTTPCPOST=http://origin.test/post,10\r")
        p.take(9)
        p.send(b"abc")
        t0 = time.monotonic()
        r = p.until(b"\r\nSEND FAIL\r\n", 15)
        check(r == b"\r\nSEND FAIL\r\n" and 9 < time.monotonic() - t0 < 12,
              "espat HTTPCPOST: fewer bytes than announced -> SEND FAIL after 10 s")


def vm_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def test_espat_big(p, origin, emu, size):
    origin.huge = os.urandom(size)
    base = vm_kb(emu.proc.pid, "VmRSS")
    p.send(b"AT+HTTPCLIENT=2,0,http://origin.test/huge,,,1\r")
    t0 = time.monotonic()
    # Nothing read for a second after the first piece: a module that took
    # the whole body at once would hold it now.
    body, sizes, fin = EspReader(p).read(timeout=300, pause=1)
    dt = time.monotonic() - t0
    peak = vm_kb(emu.proc.pid, "VmHWM")
    check(fin == "OK" and hashlib.sha256(body).digest() == hashlib.sha256(origin.huge).digest(),
          "espat: a %d MB GET byte-exact (sha256) in %.1f s" % (size >> 20, dt))
    check(max(sizes) == 512, "espat: %d pieces of at most 512 bytes" % len(sizes))
    check(peak - base < 8 * 1024,
          "espat: memory stays bounded: peak RSS %d KB over %d KB before, for a %d KB body"
          % (peak - base, base, size >> 10))
    origin.huge = b""


def test_espat_hangup(emu, origin):
    """A client that leaves in the middle of a body, and the next one."""
    origin.huge = os.urandom(4 << 20)
    p = Port(emu.link)
    p.send(b"AT+HTTPCLIENT=2,0,http://origin.test/huge,,,1\r")
    p.until(b"+HTTPCLIENT:512,", 10)
    time.sleep(0.3)
    p.close()
    time.sleep(0.5)
    p = Port(emu.link)
    try:
        check(esp_raw(p, "AT") == b"\r\nOK\r\n",
              "espat: a client left in the middle of a body: the next one is served at once")
        body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,http://origin.test/bin,,,1")
        check(fin == "OK" and body == ESP_BIN and p.quiet(0.3) == b"",
              "espat: ... its request runs; nothing of the old one follows")
    finally:
        p.close()
        origin.huge = b""


def test_espat_pacing(binary, tmp, routes, origin):
    emu = Emu(binary, tmp, "espat-paced", *routes, "--baud", "460800", modem="espat")
    p = Port(emu.link)
    try:
        p.send(b"ATE0\r")
        p.until(b"OK\r\n")
        p.quiet(0.2)
        p.send(b"AT+HTTPCLIENT=2,0,http://origin.test/text/300000,,,1\r")
        p.fill(time.monotonic() + 10)
        t0 = time.monotonic()
        early = len(p.buf)
        body, sizes, fin = EspReader(p).read(timeout=60)
        dt = time.monotonic() - t0
        total = len(body) + sum(len(b"+HTTPCLIENT:%d,\r\n" % n) for n in sizes) + 6
        ideal = (total - early) * 10 / 460800
        check(fin == "OK" and body == esp_text(300000) and 0.99 <= dt / ideal <= 1.02,
              "espat --baud 460800: %d bytes in %.3f s, line rate says %.3f s" % (total, dt, ideal))
    finally:
        p.close()
        emu.stop()


def test_espat_beken(binary, tmp, routes, origin):
    emu = Emu(binary, tmp, "beken", *routes, "--variant", "beken", modem="espat")
    p = Port(emu.link)
    rd = EspReader(p)
    try:
        start_dialect(p, "beken")
        r = esp_raw(p, "AT+HTTPCLIENT=2,0,http://httpbin.org/get,httpbin.org,/get,1")
        want = esp_request(b"GET", b"/get", b"httpbin.org")
        check(r == b"+HTTPCLIENT:<%d>,<%s>\r\n\r\nOK\r\n" % (len(want), want),
              "beken: +HTTPCLIENT:<T>,<data> with the angle brackets: %r" % r[:60])
        p.send(b"AT+HTTPCLIENT=2,0,http://origin.test/text/1300,,,1\r")
        pieces, fin = rd.read_beken()
        text = esp_text(1300)
        check(fin == "OK" and [t for t, _ in pieces] == [1300] * 3 and
              b"".join(d for _, d in pieces) == text and [len(d) for _, d in pieces] == [512, 512, 276],
              "beken: <T> is the whole body's length in every piece")
        p.send(b"AT+HTTPCLIENT=2,0,http://origin.test/bin,,,1\r")
        pieces, fin = rd.read_beken()
        check(fin == "OK" and pieces == [(1000, b""), (1000, b"+HTTPCLIENT:3,\r\n")],
              "beken: each piece cut at its first NUL: %r" % pieces[:2])
        p.send(b"AT+HTTPCLIENT=2,0,http://origin.test/chunked-text,,,1\r")
        pieces, fin = rd.read_beken()
        check(fin == "OK" and {t for t, _ in pieces} == {1500} and
              b"".join(d for _, d in pieces) == esp_text(1500),
              "beken: a chunked body: <T> is its length once it is all in")
        check(esp_raw(p, "AT+HTTPCLIENT=2,0,http://origin.test/404,,,1") == b"\r\nOK\r\n",
              "beken: status 404 -> nothing printed, OK")
        check(esp_raw(p, "AT+HTTPCLIENT=2,0,http://origin.test/redir/302/6,,,1") == b"\r\nERROR\r\n",
              "beken: too many redirects -> ERROR")
        check(esp_raw(p, "AT+HTTPCLIENT=1,0,http://origin.test/get,,,1") == b"\r\nOK\r\n",
              "beken: HEAD -> OK (no body, nothing printed)")
        check(esp_raw(p, "AT+HTTPCLIENT=2,0,http://refused.test/,,,1") == b"\r\nERROR\r\n",
              "beken: connection refused -> ERROR")
        p.send(b"AT+HTTPCPOST=http://origin.test/post,27\r")
        prompt = p.take(9)
        p.send(b"field1=value1&field2=value2")
        rest = p.until(b"\r\n", 10) + p.until(b"\r\n", 10)
        check(prompt == b"\r\nOK\r\n\r\n>" and rest == b"\r\nSEND OK\r\n" and
              origin.last() == esp_request(b"POST", b"/post", body=b"field1=value1&field2=value2"),
              "beken HTTPCPOST: no pieces, SEND OK")
        check(esp_raw(p, "AT+HTTPGETSIZE=http://www.baidu.com/img/bdlogo.gif") ==
              b"+HTTPGETSIZE:%d\r\n\r\nOK\r\n" % len(ESP_GIF), "beken: HTTPGETSIZE")
    finally:
        p.close()
        check(emu.stop() == 0, "beken emulator exits 0")


# ESP-AT over TLS: the test PKI (tests/e2e/pki.sh), TLS origins with its
# certificates.

class EspTlsOrigin(EspOrigin):
    """EspOrigin behind TLS with pki/<name>.pem; sni[] the server names the
    clients sent (None: none)."""

    def __init__(self, pki, name):
        import ssl
        self.ssl = ssl
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(pki, name + ".pem"), os.path.join(pki, name + ".key"))
        self.sni = []
        self.ctx.sni_callback = lambda sock, server_name, ctx: self.sni.append(server_name)
        super().__init__()

    def serve(self, c):
        try:
            c.settimeout(10)
            c = self.ctx.wrap_socket(c, server_side=True)
        except OSError:
            c.close()
            return
        super().serve(c)


def esp_cert(p, cmd, data):
    """AT+HTTPCERT-style command and its data: (prompt, result)."""
    p.send(cmd.encode() + b"\r")
    prompt = p.take(3)
    if prompt != b"\r\n>":
        return prompt + p.quiet(0.3), None
    p.send(data)
    return prompt, p.until(b"\r\n", 10) + p.until(b"\r\n", 10)


def esp_tls_env(tmp):
    """The PKI and the TLS origins: (pki dir, {name: origin}, routes)."""
    pki = os.path.join(tmp, "pki")
    subprocess.run(["bash", os.path.join(HERE, "..", "tests", "e2e", "pki.sh"), pki],
                   check=True, capture_output=True, timeout=60)
    origins = {n: EspTlsOrigin(pki, n) for n in ("origin", "wrongname", "expired", "untrusted")}
    routes = ["--route=%s.test:443=127.0.0.1:%d" % (n, o.port) for n, o in origins.items()]
    return pki, origins, routes


def test_espat_tls(binary, tmp, routes):
    pki, tls, tls_routes = esp_tls_env(tmp)
    root = open(os.path.join(pki, "root.pem"), "rb").read()
    untrusted_root = open(os.path.join(pki, "untrusted-root.pem"), "rb").read()
    emu = Emu(binary, tmp, "espat-tls", *(routes + tls_routes), modem="espat")
    p = Port(emu.link)
    o = tls["origin"]
    try:
        start_dialect(p, "espat-tls")
        # No CA written: the module does TLS without verifying, SNI sent.
        body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,https://origin.test/text/100,,,2")
        check(fin == "OK" and body == esp_text(100) and o.sni[-1:] == ["origin.test"],
              "espat https without a CA: TLS, SNI origin.test, body intact")
        body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,https://untrusted.test/text/10,,,2")
        check(fin == "OK" and body == esp_text(10),
              "espat https without a CA: an untrusted server is not checked (nothing to check with)")
        body, _, fin = esp_cmd(p, 'AT+HTTPCLIENT=2,0,"",origin.test,/text/20,2')
        check(fin == "OK" and body == esp_text(20) and o.last().startswith(b"GET /text/20 HTTP/1.1\r\n"),
              "espat: empty <url>, transport 2 -> https://<host><path>")
        # AT+HTTPCERT: syntax and strictness.
        bad = [
            "AT+HTTPCERT=1,0", "AT+HTTPCERT=1,16385", "AT+HTTPCERT=2,0", "AT+HTTPCERT=2,%d" % len(root),
            "AT+HTTPCERT=0,10", "AT+HTTPCERT=3,10", 'AT+HTTPCERT="1",10', 'AT+HTTPCERT=1,"10"',
            "AT+HTTPCERT=1", "AT+HTTPCERT=1,10,1", "AT+HTTPCERT=1,", "AT+HTTPCERT=,10", "AT+HTTPCERT=1,-1",
            "AT+HTTPCERT?", "AT+HTTPCERT=?", "AT+HTTPCERT", "AT+HTTPSCERT=1,10",
            "AT+HTTPCLIENT=2,0,https://origin.test/,,,1", "AT+HTTPCLIENT=2,0,http://origin.test/,,,2",
        ]
        for line in bad:
            check(esp_raw(p, line) == b"\r\nERROR\r\n", "espat: %s -> ERROR" % line)
        junk = b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
        prompt, res = esp_cert(p, "AT+HTTPCERT=1,%d" % len(junk), junk)
        check(prompt == b"\r\n>" and res == b"\r\nERROR\r\n",
              "espat AT+HTTPCERT: data that is no certificate -> '>', then ERROR")
        prompt, res = esp_cert(p, "AT+HTTPCERT=1,%d" % (len(root) - 10), root[:-10])
        check(res == b"\r\nERROR\r\n", "espat AT+HTTPCERT: a cut certificate -> ERROR")
        body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,https://untrusted.test/text/10,,,2")
        check(fin == "OK", "espat: refused roots leave the module unverifying")
        two = b"# two roots\n" + untrusted_root + b"\n" + root
        prompt, res = esp_cert(p, "AT+HTTPCERT=1,%d" % len(two), two)
        check(prompt == b"\r\n>" and res == b"\r\nOK\r\n",
              "espat AT+HTTPCERT=1,<length>: '>', exactly <length> bytes of PEM (two roots), OK")
        prompt, res = esp_cert(p, "AT+HTTPCERT=1,%d" % len(root), root)
        check(prompt == b"\r\n>" and res == b"\r\nOK\r\n", "espat AT+HTTPCERT: the test root replaces them")
        # Verified from now on.
        body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,https://origin.test/text/700,,,2")
        check(fin == "OK" and body == esp_text(700), "espat https with the CA: origin.test verified, body intact")
        for name in ("untrusted", "wrongname", "expired"):
            n = tls[name].count()
            check(esp_raw(p, "AT+HTTPCLIENT=2,0,https://%s.test/text/10,,,2" % name) == b"\r\nERROR\r\n"
                  and tls[name].count() == n,
                  "espat https with the CA: %s.test's certificate rejected -> ERROR, no request sent" % name)
        prompt, body, _, fin = esp_cpost(p, "AT+HTTPCPOST=https://origin.test/post,3", b"abc")
        check(fin == "SEND OK" and o.last() == esp_request(b"POST", b"/post", body=b"abc"),
              "espat HTTPCPOST over TLS: its URL says https")
        prompt, body, _, fin = esp_cpost(p, "AT+HTTPCPOST=https://untrusted.test/post,3", b"abc")
        check(prompt == b"\r\nOK\r\n\r\n>" and fin == "SEND FAIL",
              "espat HTTPCPOST: a rejected certificate -> SEND FAIL")
        r = esp_raw(p, "AT+HTTPGETSIZE=https://origin.test/img/bdlogo.gif")
        check(r == b"+HTTPGETSIZE:%d\r\n\r\nOK\r\n" % len(ESP_GIF), "espat HTTPGETSIZE over TLS")
        check(esp_raw(p, "AT+HTTPGETSIZE=https://expired.test/img/bdlogo.gif") == b"\r\nERROR\r\n",
              "espat HTTPGETSIZE: an expired certificate -> ERROR")
    finally:
        p.close()
        check(emu.stop() == 0, "espat-tls emulator exits 0")

    # The examples' spelling: AT+HTTPSCERT only.
    emu = Emu(binary, tmp, "espat-httpscert", *(routes + tls_routes), "--variant", "httpscert", modem="espat")
    p = Port(emu.link)
    try:
        start_dialect(p, "httpscert")
        check(esp_raw(p, "AT+HTTPCERT=1,%d" % len(root)) == b"\r\nERROR\r\n",
              "httpscert: AT+HTTPCERT -> ERROR")
        prompt, res = esp_cert(p, "AT+HTTPSCERT=1,%d" % len(root), root)
        check(prompt == b"\r\n>" and res == b"\r\nOK\r\n", "httpscert: AT+HTTPSCERT=1,<length> takes the root")
        check(esp_raw(p, "AT+HTTPCLIENT=2,0,https://untrusted.test/text/10,,,2") == b"\r\nERROR\r\n",
              "httpscert: then an untrusted server -> ERROR")
        body, _, fin = esp_cmd(p, "AT+HTTPCLIENT=2,0,https://origin.test/text/10,,,2")
        check(fin == "OK" and body == esp_text(10), "httpscert: origin.test verified")
    finally:
        p.close()
        check(emu.stop() == 0, "httpscert emulator exits 0")

    # Beken: no certificate command; https is never verified.
    emu = Emu(binary, tmp, "beken-tls", *(routes + tls_routes), "--variant", "beken", modem="espat")
    p = Port(emu.link)
    try:
        start_dialect(p, "beken-tls")
        for cmd in ("AT+HTTPCERT", "AT+HTTPSCERT"):
            check(esp_raw(p, "%s=1,%d" % (cmd, len(root))) == b"\r\nERROR\r\n",
                  "beken: %s -> ERROR (no certificate command)" % cmd)
        p.send(b"AT+HTTPCLIENT=2,0,https://untrusted.test/text/10,,,2\r")
        pieces, fin = EspReader(p).read_beken()
        check(fin == "OK" and pieces == [(10, esp_text(10))],
              "beken https: TLS without verification, an untrusted server answers")
    finally:
        p.close()
        check(emu.stop() == 0, "beken-tls emulator exits 0")


def test_espat(binary, tmp, quick):
    origin = EspOrigin()
    routes = ["--route=httpbin.org=127.0.0.1:%d" % origin.port,
              "--route=www.baidu.com=127.0.0.1:%d" % origin.port,
              "--route=origin.test=127.0.0.1:%d" % origin.port,
              "--route=other.test=127.0.0.1:%d" % origin.port,
              "--route=garbage.test=127.0.0.1:%d" % garbage_server(),
              "--route=refused.test=127.0.0.1:%d" % closed_port()]
    r = subprocess.run([binary, "-m", "espat", "--link", os.path.join(tmp, "x"), "--variant", "a76xx"],
                       capture_output=True, timeout=10)
    check(r.returncode == 2 and b"unknown espat variant" in r.stderr,
          "espat with a foreign --variant -> exit 2, the variants named")
    emu = Emu(binary, tmp, "espat", *routes, modem="espat")
    try:
        p = Port(emu.link)
        try:
            start_dialect(p, "espat")
            p.send(b"ATE1\r")
            p.take(6)
            p.send(b"AT\r")
            check(p.take(9) == b"AT\r\r\nOK\r\n", "espat: ATE1 turns the echo back on")
            p.send(b"ATE0\r")
            p.take(11)
            test_espat_manual(p, origin)
            test_espat_quoted(p, origin)
            test_espat_refusals(p, origin)
            test_espat_data(p, origin)
            test_espat_redirects(p, origin)
            test_espat_failures(p, origin, quick)
            test_espat_big(p, origin, emu, (16 if quick else 50) << 20)
            log = open(emu.log, "rb").read()
            check(b"CMD AT+HTTPCPOST=http://httpbin.org/post,27\n" in log and
                  b"DATA 27 field1=value1&field2=value2\n" in log,
                  "espat: --log has CMD and DATA lines")
        finally:
            p.close()
        test_espat_hangup(emu, origin)
    finally:
        check(emu.stop() == 0, "espat emulator exits 0")
    test_espat_beken(binary, tmp, routes, origin)
    test_espat_tls(binary, tmp, routes)
    if not quick:
        test_espat_pacing(binary, tmp, routes, origin)


# ---------------------------------------------------------------- the network

NET_FINALS = rb"OK|ERROR|FAIL|\+CME ERROR: \d+"


def nc(p, line, timeout=10):
    """A network command: everything through its final result."""
    return final(p, line, timeout, NET_FINALS)


def info_ok(*lines):
    return b"".join(b"\r\n" + l + b"\r\n" for l in lines) + b"\r\nOK\r\n"


def cme_err(n):
    return b"\r\n+CME ERROR: %d\r\n" % n


ERR = b"\r\nERROR\r\n"
ADDR = b"10.64.0.2"

# Per family: how its context is defined, activated and queried (the
# command table agreed with the engine), what it says about itself, and
# how its HTTP service shows whether the network is up.
NET_FAMILIES = {
    "simcom": dict(
        ident=(b"Manufacturer: SIMCOM INCORPORATED\r\nModel: SIMCOM_SIM7600E-H\r\nRevision: athttp-emu",
               b"SIMCOM INCORPORATED", b"SIMCOM_SIM7600E-H", b"+CGMR: athttp-emu"),
        define='AT+CGSOCKCONT=1,"IP","%s"', define_q="AT+CGSOCKCONT?",
        defined=b'+CGSOCKCONT: 1,"IP","%s","0.0.0.0",0,0',
        auth='AT+CSOCKAUTH=1,1,"pw","user"',
        activate=None, active_q=None),
    "neoway": dict(
        ident=(b"Neoway\r\nN58\r\nathttp-emu", b"Neoway", b"N58", b"athttp-emu"),
        define='AT+CGDCONT=1,"IP","%s"', define_q="AT+CGDCONT?",
        defined=b'+CGDCONT: 1,"IP","%s","0.0.0.0",0,0',
        auth='AT+XGAUTH=1,1,"user","pw"',
        activate="AT+XIIC=1", active_q="AT+XIIC?",
        active=(b"+XIIC: 1," + ADDR,), inactive=(b"+XIIC: 0,0.0.0.0",)),
    "httpcfg": dict(
        ident=(b"athttp-emu\r\nHTTPCFG\r\nRevision: athttp-emu", b"athttp-emu", b"HTTPCFG",
               b"Revision: athttp-emu"),
        define='AT+CGDCONT=1,"IP","%s"', define_q="AT+CGDCONT?",
        defined=b'+CGDCONT: 1,"IP","%s","0.0.0.0",0,0',
        auth='AT+CGAUTH=1,1,"user","pw"',
        activate="AT+CGACT=1,1", active_q="AT+CGACT?",
        active=(b"+CGACT: 1,1",), inactive=(b"+CGACT: 1,0",)),
    "quectel": dict(
        ident=(b"Quectel\r\nEC200U\r\nRevision: athttp-emu", b"Quectel", b"EC200U",
               b"Revision: athttp-emu"),
        define='AT+QICSGP=1,1,"%s","","",1', define_q="AT+QICSGP=1",
        defined=b'+QICSGP: 1,"%s","","",0',
        auth='AT+QICSGP=1,1,"%s","user","pw",1',
        activate="AT+QIACT=1", active_q="AT+QIACT?",
        active=(b'+QIACT: 1,1,1,"' + ADDR + b'"',), inactive=()),
    "onemo": dict(
        ident=(b"China Mobile\r\nML307G\r\nRevision: athttp-emu", b"China Mobile", b"ML307G",
               b"Revision: athttp-emu"),
        define='AT+CGDCONT=1,"IP","%s"', define_q="AT+CGDCONT?",
        defined=b'+CGDCONT: 1,"IP","%s","0.0.0.0",0,0',
        auth='AT+CGAUTH=1,1,"user","pw"',
        activate="AT+CGACT=1,1", active_q="AT+CGACT?",
        active=(b"+CGACT: 1,1",), inactive=(b"+CGACT: 1,0",)),
}


def net_http(p, fam, up):
    """The family's HTTP start or action command while the network is
    down (up False: it must fail as the manual says) or up (it must
    work, against the origin)."""
    if fam == "simcom":
        r = p.cmd("AT+HTTPINIT")
        if not up:
            return r == ERR
        ok = r == b"\r\nOK\r\n" and set_url(p, "http://origin.test/request")
        urc, _ = action(p, 0) if ok else (None, None)
        p.cmd("AT+HTTPTERM")
        return bool(urc and urc.startswith("+HTTPACTION: 0,200,"))
    if fam == "neoway":
        p.cmd("AT+HTTPPARA=url,origin.test/request")
        r = p.cmd("AT+HTTPSETUP")
        if not up:
            return r == ERR
        p.cmd("AT+HTTPCLOSE")
        p.quiet()       # its +HTTPCLOSED
        return r == b"\r\nOK\r\n"
    if fam in ("httpcfg", "quectel"):
        h = HC(p, "Q" if fam == "quectel" else "")
        if not h.url("http://origin.test/request"):
            return False
        r = h.c("AT+HTTPGET")
        if not up:
            return r == cme_err(709)
        if r != b"\r\nOK\r\n":
            return False
        return h.urc().startswith("+%sHTTPGET: 0,200," % h.q)
    if fam == "onemo":
        r = nc(p, 'AT+MHTTPCREATE="http://origin.test"')
        if not up:
            return r == ERR
        ok = r == b"\r\n+MHTTPCREATE: 0\r\n\r\nOK\r\n"
        p.cmd("AT+MHTTPDEL=0")
        return ok
    raise AssertionError(fam)


def net_emu(binary, tmp, fam, name, *extra):
    emu = Emu(binary, tmp, name, *extra, modem=fam)
    p = Port(emu.link)
    p.send(b"ATE0\r")
    p.take(11)
    return emu, p


def net_stop(emu, p, what):
    p.close()
    check(emu.stop() == 0, "%s: emulator exits 0" % what)


def test_faults(binary, tmp, routes):
    """--fault's kinds but reset (test_net_reset), on simcom: each does what
    it says to the output stream or the origin, and nothing else."""
    for bad in (["--fault", "silence:1:5"], ["--fault", "silence:1:5:0"],
                ["--fault", "noise:1:5:0"], ["--fault", "noise:1:5"], ["--fault", "error:x"],
                ["--fault", "error:1:2"], ["--fault", "urc:1"], ["--fault", "urc:1:0"],
                ["--fault", "trickle:1:0"], ["--fault", "origin-close:1"],
                ["--fault", "trickle:1:5:"], ["--fault", "reset:0:1"]):
        r = subprocess.run([binary, "-m", "simcom", "--link", os.path.join(tmp, "x")] + bad,
                           capture_output=True, timeout=10)
        check(r.returncode == 2 and b"usage:" in r.stderr, "fault: %s -> exit 2, usage" % " ".join(bad))

    def exchange(p):
        """Everything request's output from AT+HTTPACTION=0 to the end of
        its AT+HTTPREAD (echo off), raw."""
        p.send(b"AT+HTTPACTION=0\r")
        out = p.until(b"\r\n+HTTPACTION:", 15)
        out += p.until(b"\r\n", 15)
        p.send(b"AT+HTTPREAD=0,400000\r")
        out += p.until(b"\r\n+HTTPREAD:0\r\n", 30)
        return out

    # request 1 plain, 2 with noise inside its data, 3 with URCs, 4 plain
    emu, p = net_emu(binary, tmp, "simcom", "faults", "--fault", "noise:2:300:40",
                     "--fault", "urc:3:4", *routes)
    try:
        ok = p.cmd("AT+HTTPINIT") == b"\r\nOK\r\n" and set_url(p, "http://origin.test/big")
        check(ok, "fault: HTTPINIT, URL")
        plain = exchange(p)
        p.quiet()
        noisy = exchange(p)
        p.quiet()
        check(len(noisy) == len(plain) + 40 and noisy[:300] == plain[:300] and
              noisy[340:] == plain[300:],
              "noise: 40 bytes inserted after 300 of the answer, the rest unchanged")
        check(plain.index(b"+HTTPREAD: DATA,") < 300, "noise: ... which is inside the read's data")
        urcs = exchange(p)
        p.quiet()
        lines = re.findall(rb"\r\n(\+CREG: 1|\+CMTI: \"SM\",3|RING|\+CGREG: 1|\+CPIN: READY)\r\n", urcs)
        stripped = re.sub(rb"\r\n(\+CREG: 1|\+CMTI: \"SM\",3|RING|\+CGREG: 1|\+CPIN: READY)\r\n", b"", urcs)
        check(len(lines) == 4 and stripped == plain,
              "urc: 4 URCs, and without them the answer is unchanged (%d)" % len(lines))
        data_at = urcs.index(b"+HTTPREAD: DATA,")
        check(all(urcs.find(u, data_at) < 0 for u in lines),
              "urc: none after the read's data began (never inside length-counted data)")
        check(exchange(p) == plain, "fault: request 4 is as request 1")
    finally:
        net_stop(emu, p, "faults")

    # silence after 20 bytes for 700 ms; trickle at 15 ms a byte
    emu, p = net_emu(binary, tmp, "simcom", "silence", "--fault", "silence:1:20:700",
                     "--fault", "trickle:2:15", *routes)
    try:
        ok = p.cmd("AT+HTTPINIT") == b"\r\nOK\r\n" and set_url(p, "http://origin.test/request")
        p.send(b"AT+HTTPACTION=0\r")
        first = p.take(20, 5)
        t0 = time.monotonic()
        nxt = p.take(1, 5)
        gap = time.monotonic() - t0
        check(ok and first.startswith(b"\r\nOK\r\n") and 0.65 <= gap < 1.5,
              "silence: after 20 bytes nothing for %.2f s (700 ms), then the rest" % gap)
        p.until(b"\r\n", 5)
        p.quiet()
        p.send(b"AT+HTTPACTION=0\r")
        t0 = time.monotonic()
        got = p.take(26, 5)
        took = time.monotonic() - t0
        check(got == b"\r\nOK\r\n\r\n+HTTPACTION: 0,200" and took >= 25 * 0.015,
              "trickle: 26 bytes took %.2f s (>= 0.375): %r" % (took, got))
        p.quiet(1)
    finally:
        net_stop(emu, p, "silence")

    # error: 714 (connect failed) without asking the origin; origin-close: 706
    emu, p = net_emu(binary, tmp, "simcom", "origin-faults", "--fault", "error:1",
                     "--fault", "origin-close:2:50", *routes)
    try:
        ok = p.cmd("AT+HTTPINIT") == b"\r\nOK\r\n" and set_url(p, "http://origin.test/big")
        urc, _ = action(p, 0) if ok else (None, None)
        check(urc == "+HTTPACTION: 0,714,0", "error: +HTTPACTION: 0,714,0 (%r)" % urc)
        urc, _ = action(p, 0)
        check(urc == "+HTTPACTION: 0,706,0", "origin-close: +HTTPACTION: 0,706,0 (%r)" % urc)
        urc, _ = action(p, 0)
        check(urc is not None and urc.startswith("+HTTPACTION: 0,200,"), "fault: request 3 served")
    finally:
        net_stop(emu, p, "origin-faults")


def test_net_cli(binary, tmp):
    for bad in (["--sim-pin", "12ab"], ["--sim-pin", "123"], ["--sim-pin", "123456789"],
                ["--register-ms", "-1"], ["--no-network", "--reg-denied"],
                ["--wifi", "nocolon"], ["--wifi", ":pw"], ["--fault", "bogus:1:2"],
                ["--fault", "reset:0:5"], ["--fault", "reset:1"], ["--fault", "reset:1:x"],
                ["--fault", "reset"], ["--cmd-latency", "+HTTPINIT"],
                ["--cmd-latency", "=5"], ["--cmd-latency", "+HTTPINIT=abc"]):
        r = subprocess.run([binary, "-m", "simcom", "--link", os.path.join(tmp, "x")] + bad,
                           capture_output=True, timeout=10)
        check(r.returncode == 2 and b"usage:" in r.stderr, "net: %s -> exit 2, usage" % " ".join(bad))
    r = subprocess.run([binary, "--help"], capture_output=True, timeout=10)
    for opt in (b"--cold", b"--sim-pin", b"--register-ms", b"--no-network", b"--reg-denied",
                b"--apn", b"--wifi", b"--fault", b"--cmd-latency"):
        check(opt in r.stdout, "net: --help names %s" % opt.decode())


def test_net_warm(binary, tmp, fam, routes):
    """A warm module: identity, SIM, registration, signal, operator,
    context defined and active, HTTP works; and the strict refusals."""
    f = NET_FAMILIES[fam]
    emu, p = net_emu(binary, tmp, fam, "warm-" + fam, *routes)
    try:
        ati, cgmi, cgmm, cgmr = f["ident"]
        check(p.cmd("ATI") == info_ok(ati), "%s: ATI" % fam)
        check(p.cmd("AT+CGMI") == info_ok(cgmi), "%s: AT+CGMI" % fam)
        check(p.cmd("AT+CGMM") == info_ok(cgmm), "%s: AT+CGMM" % fam)
        check(p.cmd("AT+CGMR") == info_ok(cgmr), "%s: AT+CGMR" % fam)
        check(p.cmd("AT+CPIN?") == info_ok(b"+CPIN: READY"), "%s: +CPIN: READY" % fam)
        for q in ("CREG", "CGREG", "CEREG"):
            check(p.cmd("AT+%s?" % q) == info_ok(b"+%s: 0,1" % q.encode()),
                  "%s: AT+%s? -> registered home" % (fam, q))
        check(p.cmd("AT+CSQ") == info_ok(b"+CSQ: 20,99"), "%s: AT+CSQ" % fam)
        check(p.cmd("AT+COPS?") == info_ok(b'+COPS: 0,0,"athttp-emu",7'), "%s: AT+COPS?" % fam)
        check(p.cmd("AT+COPS=0") == b"\r\nOK\r\n", "%s: AT+COPS=0 (automatic)" % fam)
        check(p.cmd(f["define_q"]) == info_ok(f["defined"] % b"internet"),
              "%s: %s -> APN internet" % (fam, f["define_q"]))
        if f["active_q"]:
            check(p.cmd(f["active_q"]) == info_ok(*f["active"]), "%s: %s -> active" % (fam, f["active_q"]))
        if fam != "neoway":
            check(p.cmd("AT+CGPADDR=1") == info_ok(b"+CGPADDR: 1," + ADDR), "%s: AT+CGPADDR=1" % fam)
        check(p.cmd("AT+CWJAP?") == ERR, "%s: AT+CWJAP? (a WiFi command) -> ERROR" % fam)
        check(net_http(p, fam, True), "%s: warm: HTTP works" % fam)
        # Strictness: 27.007's forms only, context 1 only, quotes as the
        # syntax has them, nothing a SIM that is ready cannot do.
        bad = ["ATI0", "AT+CGMM?", "AT+CGMM=1", "AT+CPIN", "AT+CPIN=1234", 'AT+CPIN="1234",',
               "AT+CREG=1", "AT+CREG=0,1", "AT+CSQ?", "AT+COPS", "AT+COPS=1", 'AT+COPS=0,0,"x"', "AT+CGPADDR=2", "AT+CGPADDR"]
        d = f["define"]
        bad += [d % "x" + ",1", d.replace("1,", "2,", 1) % "x", d.replace('"%s"', "%s") % "x"
                if fam != "neoway" else d.replace('"IP"', "IP") % "x"]
        if fam != "quectel":
            bad += [d.replace('"IP"', '"PPP"') % "x", d.replace(',"%s"', "")]
        if f["activate"]:
            bad += [f["activate"].replace("1", "2"), f["activate"] + ",1", f["activate"].split("=")[0]]
        if fam in ("httpcfg", "onemo"):
            bad += ["AT+CGACT=1,2", "AT+CGACT=1", "AT+CGAUTH=2,1,\"u\",\"p\"", "AT+CGAUTH=1,1,\"u\""]
        if fam == "simcom":
            bad += ["AT+CGACT=1,1", 'AT+CSOCKAUTH=1,1,"pw"']
        if fam == "quectel":
            bad += ['AT+QICSGP=1,1,"x","",""' + ",9", 'AT+QICSGP=1,2,"x","",""', "AT+QIACT=2",
                    "AT+QIDEACT=2", "AT+CGACT=1,1"]
        for b in bad:
            check(p.cmd(b) == ERR, "%s: %s -> ERROR" % (fam, b))
        check(nc(p, 'AT+CPIN="1234"') == cme_err(3),
              "%s: a PIN when none is asked -> +CME ERROR: 3" % fam)
        check(p.cmd(f["auth"] % "internet" if "%s" in f["auth"] else f["auth"]) == b"\r\nOK\r\n",
              "%s: %s -> OK" % (fam, f["auth"]))
        check(net_http(p, fam, True), "%s: still on the network after the refusals" % fam)
    finally:
        net_stop(emu, p, "warm " + fam)


def reg_wait(p, bound):
    """Polls AT+CREG? until registered; the seconds it took, or None."""
    t0 = time.monotonic()
    seen = set()
    while time.monotonic() - t0 < bound:
        r = p.cmd("AT+CREG?")
        m = re.match(rb"\r\n\+CREG: 0,(\d)\r\n", r)
        seen.add(int(m.group(1)) if m else -1)
        if m and m.group(1) == b"1":
            return time.monotonic() - t0, seen
        time.sleep(0.05)
    return None, seen


def test_net_pin(binary, tmp, routes):
    # simcom: a SIM with a PIN, registration 800 ms after it is given.
    emu, p = net_emu(binary, tmp, "simcom", "pin", "--sim-pin", "1234",
                     "--register-ms", "800", *routes)
    try:
        check(p.cmd("AT+CPIN?") == info_ok(b"+CPIN: SIM PIN"), "pin: +CPIN: SIM PIN")
        check(p.cmd("AT+CREG?") == info_ok(b"+CREG: 0,0"), "pin: locked SIM: stat 0 (not searching)")
        check(nc(p, 'AT+CGSOCKCONT=1,"IP","internet"') == cme_err(11),
              "pin: define before the PIN -> +CME ERROR: 11")
        check(net_http(p, "simcom", False), "pin: AT+HTTPINIT before the PIN -> ERROR")
        check(nc(p, 'AT+CPIN="0000"') == cme_err(16), "pin: wrong PIN -> +CME ERROR: 16")
        check(p.cmd("AT+CPIN?") == info_ok(b"+CPIN: SIM PIN"), "pin: still SIM PIN after one wrong")
        check(p.cmd("AT+CPIN=1234") == ERR, "pin: unquoted PIN -> ERROR")
        check(p.cmd('AT+CPIN="1234"') == b"\r\nOK\r\n", "pin: right PIN -> OK")
        t0 = time.monotonic()
        check(p.cmd("AT+CPIN?") == info_ok(b"+CPIN: READY"), "pin: then +CPIN: READY")
        check(p.cmd("AT+CREG?") == info_ok(b"+CREG: 0,2"), "pin: searching right after the PIN")
        check(net_http(p, "simcom", False), "pin: HTTPINIT while searching -> ERROR")
        took, seen = reg_wait(p, 5)
        took = took and took + (time.monotonic() - t0 - took)
        check(took is not None and 0.75 <= took < 3 and seen >= {1, 2},
              "pin: registered ~800 ms after the PIN (%s s; stats seen %s)" % (took, sorted(seen)))
        check(net_http(p, "simcom", True), "pin: registered: HTTP works")
    finally:
        net_stop(emu, p, "pin")
    # Three wrong PINs: the SIM wants its PUK.
    emu, p = net_emu(binary, tmp, "httpcfg", "puk", "--sim-pin", "87654321")
    try:
        for i in range(3):
            check(nc(p, 'AT+CPIN="1111"') == cme_err(16), "puk: wrong PIN %d -> 16" % (i + 1))
        check(p.cmd("AT+CPIN?") == info_ok(b"+CPIN: SIM PUK"), "puk: after three: SIM PUK")
        check(nc(p, 'AT+CPIN="87654321"') == cme_err(12), "puk: the right PIN now -> +CME ERROR: 12")
        check(nc(p, 'AT+CGACT=1,1') == cme_err(12), "puk: activation -> +CME ERROR: 12")
        check(nc(p, 'AT+COPS=0') == cme_err(12), "puk: AT+COPS=0 -> +CME ERROR: 12")
        check(net_http(p, "httpcfg", False), "puk: HTTPGET -> +CME ERROR: 709")
    finally:
        net_stop(emu, p, "puk")


def test_net_cold(binary, tmp, fam, routes):
    """--cold with --apn: no context; the wrong APN refused; the right
    one activates and HTTP works."""
    f = NET_FAMILIES[fam]
    emu, p = net_emu(binary, tmp, fam, "cold-" + fam, "--cold", "--apn", "good.apn",
                     "--register-ms", "300", *routes)
    try:
        check(p.cmd("AT+CEREG?") == info_ok(b"+CEREG: 0,2"), "%s cold: searching at power-on" % fam)
        if fam == "quectel":
            check(p.cmd(f["define_q"]) == info_ok(f["defined"] % b""), "%s cold: no APN" % fam)
        else:
            check(p.cmd(f["define_q"]) == b"\r\nOK\r\n", "%s cold: no context defined" % fam)
        if f["active_q"]:
            want = info_ok(*f["inactive"]) if fam == "neoway" else b"\r\nOK\r\n"
            check(p.cmd(f["active_q"]) == want, "%s cold: %s -> not active" % (fam, f["active_q"]))
        check(net_http(p, fam, False), "%s cold: HTTP refused" % fam)
        check(p.cmd(f["define"] % "good.apn") == b"\r\nOK\r\n", "%s cold: define while searching -> OK" % fam)
        if f["activate"]:
            check(nc(p, f["activate"]) == cme_err(30),
                  "%s cold: activation while searching -> +CME ERROR: 30" % fam)
        took, _ = reg_wait(p, 5)
        check(took is not None, "%s cold: registers" % fam)
        check(p.cmd(f["define"] % "wrong.apn") == b"\r\nOK\r\n", "%s cold: define wrong.apn -> OK" % fam)
        if f["activate"]:
            check(nc(p, f["activate"]) == cme_err(533),
                  "%s cold: activation with the wrong APN -> +CME ERROR: 533" % fam)
        check(net_http(p, fam, False), "%s cold: wrong APN: HTTP refused" % fam)
        check(p.cmd(f["define"] % "good.apn") == b"\r\nOK\r\n", "%s cold: define good.apn" % fam)
        check(p.cmd(f["define_q"]) == info_ok(f["defined"] % b"good.apn"),
              "%s cold: %s -> good.apn" % (fam, f["define_q"]))
        if f["activate"]:
            check(net_http(p, fam, False), "%s cold: defined, not active: HTTP refused" % fam)
            check(p.cmd(f["activate"]) == b"\r\nOK\r\n", "%s cold: %s -> OK" % (fam, f["activate"]))
            check(p.cmd(f["active_q"]) == info_ok(*f["active"]), "%s cold: %s -> active" % (fam, f["active_q"]))
        check(net_http(p, fam, True), "%s cold: brought up: HTTP works" % fam)
    finally:
        net_stop(emu, p, "cold " + fam)


def test_net_down(binary, tmp, routes):
    emu, p = net_emu(binary, tmp, "neoway", "nonet", "--no-network", "--register-ms", "0", *routes)
    try:
        time.sleep(0.2)
        check(p.cmd("AT+CREG?") == info_ok(b"+CREG: 0,2"), "no-network: searching")
        check(p.cmd("AT+CSQ") == info_ok(b"+CSQ: 99,99"), "no-network: no signal")
        check(p.cmd("AT+COPS?") == info_ok(b"+COPS: 0"), "no-network: no operator")
        check(nc(p, "AT+XIIC=1") == cme_err(30), "no-network: AT+XIIC=1 -> +CME ERROR: 30")
        check(p.cmd("AT+XIIC?") == info_ok(b"+XIIC: 0,0.0.0.0"), "no-network: XIIC? inactive")
        check(net_http(p, "neoway", False), "no-network: AT+HTTPSETUP -> ERROR")
        time.sleep(0.5)
        check(p.cmd("AT+CREG?") == info_ok(b"+CREG: 0,2"), "no-network: still searching later")
    finally:
        net_stop(emu, p, "no-network")
    emu, p = net_emu(binary, tmp, "onemo", "denied", "--reg-denied", *routes)
    try:
        check(p.cmd("AT+CEREG?") == info_ok(b"+CEREG: 0,3"), "reg-denied: stat 3")
        check(p.cmd("AT+CGACT?") == info_ok(b"+CGACT: 1,0"), "reg-denied: context not active")
        check(nc(p, "AT+CGACT=1,1") == cme_err(30), "reg-denied: activation -> 30")
        check(net_http(p, "onemo", False), "reg-denied: AT+MHTTPCREATE -> ERROR")
        check(p.cmd("AT+CMEE=1") == b"\r\nOK\r\n", "reg-denied: AT+CMEE=1")
        check(nc(p, 'AT+MHTTPCREATE="http://origin.test"') == cme_err(30),
              "reg-denied: with CMEE=1: AT+MHTTPCREATE -> +CME ERROR: 30")
    finally:
        net_stop(emu, p, "reg-denied")


def esp_net(p, line):
    return final(p, line, 10, rb"OK|ERROR|FAIL")


def test_net_wifi(binary, tmp, routes):
    def client(p):
        return esp_net(p, 'AT+HTTPCLIENT=2,0,"http://origin.test/request",,,1')

    emu, p = net_emu(binary, tmp, "espat", "wifi-warm", *routes)
    try:
        check(p.cmd("AT+CWMODE?") == b"+CWMODE:1\r\n\r\nOK\r\n", "wifi warm: station mode")
        check(p.cmd("AT+CWJAP?") == b'+CWJAP:"athttp-emu","02:00:00:00:00:01",6,-50\r\n\r\nOK\r\n',
              "wifi warm: joined to athttp-emu")
        check(client(p).endswith(b"\r\nOK\r\n"), "wifi warm: HTTPCLIENT works")
        for b in ("ATI", "AT+CPIN?", "AT+CREG?", "AT+CGMM", "AT+CWJAP", "AT+CWJAP=\"a\"",
                  'AT+CWJAP="athttp-emu","athttp-emu","02:00:00:00:00:01"', "AT+CWMODE=4",
                  "AT+CWMODE=1,2", "AT+CWMODE"):
            check(p.cmd(b) == ERR, "wifi: %s -> ERROR" % b)
        check(p.cmd("AT+GMR").startswith(b"AT version:"), "wifi: AT+GMR")
        check(p.cmd("AT+CWQAP") == b"WIFI DISCONNECT\r\n\r\nOK\r\n", "wifi: AT+CWQAP")
        check(p.cmd("AT+CWJAP?") == b"No AP\r\n\r\nOK\r\n", "wifi: after CWQAP: No AP")
        check(client(p) == ERR, "wifi: not joined: HTTPCLIENT -> ERROR")
    finally:
        net_stop(emu, p, "wifi warm")
    emu, p = net_emu(binary, tmp, "espat", "wifi-cold", "--cold", "--wifi", "lab net:s3cret,x", *routes)
    try:
        check(p.cmd("AT+CWMODE?") == b"+CWMODE:0\r\n\r\nOK\r\n", "wifi cold: Wi-Fi off (mode 0)")
        check(p.cmd("AT+CWJAP?") == b"No AP\r\n\r\nOK\r\n", "wifi cold: No AP")
        check(client(p) == ERR, "wifi cold: HTTPCLIENT -> ERROR")
        check(esp_net(p, r'AT+CWJAP="lab net","s3cret\,x"') == ERR, "wifi cold: join in mode 0 -> ERROR")
        check(p.cmd("AT+CWMODE=1") == b"\r\nOK\r\n", "wifi cold: AT+CWMODE=1")
        check(esp_net(p, r'AT+CWJAP="lab",s3cret\,x') == ERR, "wifi: a bare backslash -> ERROR")
        check(esp_net(p, r'AT+CWJAP="other","s3cret\,x"') == b"+CWJAP:3\r\n\r\nFAIL\r\n",
              "wifi: no such AP -> +CWJAP:3, FAIL")
        check(esp_net(p, r'AT+CWJAP="lab net","s3cret"') == b"+CWJAP:2\r\n\r\nFAIL\r\n",
              "wifi: wrong password -> +CWJAP:2, FAIL")
        check(esp_net(p, r'AT+CWJAP="lab net","s3cret\,x"') ==
              b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", "wifi: the right one -> CONNECTED, GOT IP, OK")
        check(p.cmd("AT+CWJAP?").startswith(b'+CWJAP:"lab net",'), "wifi: AT+CWJAP? names lab net")
        check(client(p).endswith(b"\r\nOK\r\n"), "wifi: joined: HTTPCLIENT works")
        check(p.cmd("AT+CWMODE=2") == b"\r\nOK\r\n" and p.cmd("AT+CWJAP?") == b"No AP\r\n\r\nOK\r\n",
              "wifi: softAP mode only: no longer joined")
    finally:
        net_stop(emu, p, "wifi cold")
    emu, p = net_emu(binary, tmp, "espat", "wifi-none", "--cold", "--no-network", *routes)
    try:
        p.cmd("AT+CWMODE=1")
        check(esp_net(p, 'AT+CWJAP="athttp-emu","athttp-emu"') == b"+CWJAP:1\r\n\r\nFAIL\r\n",
              "wifi no-network: join times out -> +CWJAP:1, FAIL")
    finally:
        net_stop(emu, p, "wifi no-network")


def test_net_reset(binary, tmp, routes):
    # simcom: request 2 resets at once, request 3 after 40 bytes of output.
    emu, p = net_emu(binary, tmp, "simcom", "reset", "--fault", "reset:2:0",
                     "--fault=reset:3:40", *routes)
    try:
        ok = p.cmd("AT+HTTPINIT") == b"\r\nOK\r\n" and set_url(p, "http://origin.test/request")
        urc, _ = action(p, 0) if ok else (None, None)
        check(urc is not None and urc.startswith("+HTTPACTION: 0,200,"), "reset: request 1 served")
        p.quiet()       # request 1's +HTTP_PEER_CLOSED
        p.send(b"AT+HTTPACTION=0\r")
        got = p.until(b"\r\nRDY\r\n")
        check(got == b"\r\nRDY\r\n", "reset: request 2: RDY instead of its answer (%r)" % got)
        check(p.until(b"\r\n+CPIN: READY\r\n") == b"\r\n+CPIN: READY\r\n", "reset: then +CPIN: READY")
        check(p.quiet() == b"", "reset: nothing of the old request follows")
        p.send(b"AT\r")
        check(p.take(9) == b"AT\r\r\nOK\r\n", "reset: echo is back on")
        p.send(b"ATE0\r")
        p.take(11)
        check(p.cmd("AT+HTTPTERM") == ERR, "reset: the HTTP service is gone (HTTPTERM -> ERROR)")
        check(p.cmd("AT+CGSOCKCONT?") == b"\r\nOK\r\n", "reset: the context is gone")
        check(p.cmd("AT+HTTPINIT") == ERR, "reset: HTTPINIT without a context -> ERROR")
        check(p.cmd('AT+CGSOCKCONT=1,"IP","internet"') == b"\r\nOK\r\n", "reset: define it again")
        ok = p.cmd("AT+HTTPINIT") == b"\r\nOK\r\n" and set_url(p, "http://origin.test/request")
        check(ok, "reset: HTTPINIT again -> OK")
        p.send(b"AT+HTTPACTION=0\r")
        got = p.until(b"\r\nRDY\r\n", 15)[:-len(b"\r\nRDY\r\n")]
        check(len(got) == 40 and got.startswith(b"\r\nOK\r\n\r\n+HTTPACTION: 0,200,"),
              "reset: request 3: exactly 40 bytes of its answer, then RDY (%r)" % got)
        p.until(b"\r\n+CPIN: READY\r\n")
        p.send(b"AT\r")
        check(p.take(9) == b"AT\r\r\nOK\r\n", "reset: echo on again")
        p.send(b"ATE0\r")
        p.take(11)
        p.cmd('AT+CGSOCKCONT=1,"IP","internet"')
        check(net_http(p, "simcom", True), "reset: request 4 served (no fault for it)")
    finally:
        net_stop(emu, p, "reset")
    # with a PIN: the SIM is locked again; espat says ready and forgets its join
    emu, p = net_emu(binary, tmp, "httpcfg", "reset-pin", "--sim-pin", "1234", "--fault", "reset:1:0", *routes)
    try:
        p.cmd('AT+CPIN="1234"')
        reg_wait(p, 5)
        h = HC(p)
        h.url("http://origin.test/request")
        p.send(b"AT+HTTPGET\r")
        check(p.until(b"\r\nRDY\r\n\r\n+CPIN: SIM PIN\r\n") == b"\r\nRDY\r\n\r\n+CPIN: SIM PIN\r\n",
              "reset --sim-pin: RDY, +CPIN: SIM PIN")
        p.send(b"ATE0\r")
        p.take(11)
        check(p.cmd("AT+CPIN?") == info_ok(b"+CPIN: SIM PIN"), "reset --sim-pin: the SIM is locked again")
    finally:
        net_stop(emu, p, "reset --sim-pin")
    emu, p = net_emu(binary, tmp, "espat", "reset-esp", "--fault", "reset:1:0", *routes)
    try:
        p.send(b'AT+HTTPCLIENT=2,0,"http://origin.test/request",,,1\r')
        check(p.until(b"\r\nready\r\n") == b"\r\nready\r\n", "reset espat: ready instead of the answer")
        check(p.quiet() == b"", "reset espat: nothing after ready")
        p.send(b"AT\r")
        check(p.take(9) == b"AT\r\r\nOK\r\n", "reset espat: echo back on")
        p.send(b"ATE0\r")
        p.take(11)
        check(p.cmd("AT+CWJAP?") == b"No AP\r\n\r\nOK\r\n", "reset espat: the join is lost")
    finally:
        net_stop(emu, p, "reset espat")


def test_net_latency(binary, tmp, routes):
    emu, p = net_emu(binary, tmp, "simcom", "latency", "--cmd-latency", "+HTTPINIT=700",
                     "--cmd-latency=+cpin=300", *routes)
    try:
        t0 = time.monotonic()
        r = p.cmd("AT")
        fast = time.monotonic() - t0
        t0 = time.monotonic()
        r = p.cmd("AT+HTTPINIT")
        slow = time.monotonic() - t0
        check(r == b"\r\nOK\r\n" and slow >= 0.7 and fast < 0.3,
              "cmd-latency: HTTPINIT's OK after %.2f s (>= 0.7), AT after %.2f s" % (slow, fast))
        p.send(b"AT+CPIN?\r")
        t0 = time.monotonic()
        first = p.until(b"+CPIN: READY\r\n")
        t_info = time.monotonic() - t0
        p.until(b"\r\nOK\r\n")
        t_ok = time.monotonic() - t0
        check(first == b"\r\n+CPIN: READY\r\n" and t_ok >= 0.3 and t_info < 0.25,
              "cmd-latency: +CPIN's line at once (%.2f s), its OK %.2f s later (name case-blind)"
              % (t_info, t_ok))
        t0 = time.monotonic()
        r = p.cmd("AT+HTTPINIT")
        slow = time.monotonic() - t0
        check(r == ERR and slow >= 0.7, "cmd-latency: an ERROR final result is late too (%.2f s)" % slow)
    finally:
        net_stop(emu, p, "cmd-latency")


def test_network(binary, tmp, route):
    routes = [route]
    test_net_cli(binary, tmp)
    for fam in NET_FAMILIES:
        test_net_warm(binary, tmp, fam, routes)
        test_net_cold(binary, tmp, fam, routes)
    test_net_pin(binary, tmp, routes)
    test_net_down(binary, tmp, routes)
    test_net_wifi(binary, tmp, routes)
    test_net_reset(binary, tmp, routes)
    test_net_latency(binary, tmp, routes)



def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    binary = args[0] if args else os.path.join(HERE, "..", "build", "bin", "athttp-emu")
    binary = os.path.abspath(binary)
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    route = "--route=origin.test=127.0.0.1:%d" % port
    routes = [route, "--route=garbage.test=127.0.0.1:%d" % garbage_server(),
              "--route=refused.test:80=127.0.0.1:%d" % closed_port()]
    with tempfile.TemporaryDirectory() as tmp:
        test_cli(binary, tmp)
        if "--faults" in sys.argv:
            test_faults(binary, tmp, routes)
            print("%d failure(s)" % failures)
            return 1 if failures else 0
        if "--net" in sys.argv:
            test_network(binary, tmp, route)
            print("%d failure(s)" % failures)
            return 1 if failures else 0
        emu = Emu(binary, tmp, "modem", *routes)
        p = Port(emu.link)
        try:
            test_basics(p)
            test_simcom_ssl_syntax(p)
            test_para(p)
            test_get_big(p)
            test_busy(p)
            test_head(p)
            test_post(p, emu)
            test_chunked(p)
            test_failures(p)
            test_simcom_ssl_actions(p)
        finally:
            p.close()
            rc = emu.stop()
        check(rc == 0 and not os.path.lexists(emu.link),
              "SIGTERM -> exit 0, link removed")
        a76 = Emu(binary, tmp, "a76", route, "--variant", "a76xx",
                  "--chunked-zero-len", "--max-body", "1000000",
                  "--latency-ms", "200")
        try:
            test_a76xx(a76)
        finally:
            check(a76.stop() == 0, "a76xx emulator exits 0")
        test_simcom_ssl_variants(binary, tmp, routes)
        test_simcom_ssl_real(binary, tmp)
        test_new_dialects(binary, tmp, quick)
        test_onemo(binary, tmp, quick)
        test_espat(binary, tmp, quick)
        test_network(binary, tmp, route)
        test_faults(binary, tmp, routes)
        if not quick:
            test_pacing(binary, tmp, route, 200 * 1024, 115200)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
