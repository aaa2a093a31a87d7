#!/usr/bin/env python3
"""Drives athttp-emu by hand over its pty against a local HTTP origin.

usage: emu/selftest.py [PATH-TO-athttp-emu]   (default: build/bin/athttp-emu)
       --quick skips the slow pacing measurement.

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
    def __init__(self, binary, tmp, name, *extra):
        self.link = os.path.join(tmp, name)
        self.log = os.path.join(tmp, name + ".log")
        self.proc = subprocess.Popen(
            [binary, "-m", "simcom", "--link", self.link, "--log", self.log]
            + list(extra), stdout=subprocess.PIPE)
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
    r = run("-m", "neoway", "--link", link)
    check(r.returncode == 2 and b"not implemented yet" in r.stderr, "neoway -> not implemented yet")
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
        emu = Emu(binary, tmp, "modem", *routes)
        p = Port(emu.link)
        try:
            test_basics(p)
            test_para(p)
            test_get_big(p)
            test_busy(p)
            test_head(p)
            test_post(p, emu)
            test_chunked(p)
            test_failures(p)
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
        if not quick:
            test_pacing(binary, tmp, route, 200 * 1024, 115200)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
