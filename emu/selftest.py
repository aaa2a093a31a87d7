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
    def __init__(self, binary, tmp, name, *extra, modem="simcom"):
        self.link = os.path.join(tmp, name)
        self.log = os.path.join(tmp, name + ".log")
        self.proc = subprocess.Popen(
            [binary, "-m", modem, "--link", self.link, "--log", self.log]
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
    r = run("-m", "onemo", "--link", link)
    check(r.returncode == 2 and b"not implemented yet" in r.stderr, "onemo -> not implemented yet")
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
    for modem in ("httpcfg", "quectel"):
        test_hc(binary, tmp, routes, origin, modem)
    test_hc_variants(binary, tmp, routes)


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
        test_new_dialects(binary, tmp, quick)
        if not quick:
            test_pacing(binary, tmp, route, 200 * 1024, 115200)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
