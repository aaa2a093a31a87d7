#!/usr/bin/env python3
"""A real local HTTP/1.1 origin server for athttp's end-to-end tests.

Standard library only.  Listens on 127.0.0.1 (port 0 = any free port), prints
"PORT <n>" on stdout (flushed) once it accepts connections, and serves until
SIGTERM/SIGINT.  Keep-alive is kept correct: every response is framed by
Content-Length or by chunked encoding, and every request body is read in full
before the answer, whatever the path.

TLS (--tls NAME=CERT:KEY, repeatable): one more listener per NAME, on its own
port of the same host, serving the very same routes over TLS (1.2 or later)
with that certificate (PEM, the leaf first; any chain after it).  Each
prints "TLSPORT <NAME> <n>" before the "PORT <n>" line, so a reader that
waits for PORT has them all.

Routes
  GET/HEAD /<file>            a file of --dir, with Content-Length
  GET/HEAD /chunked           a generated body (deterministic, several chunks)
                              sent with Transfer-Encoding: chunked
  GET      /chunked.sha256    hex sha256 of what /chunked de-chunks to
  GET/HEAD /chunked/<file>    a file of --dir sent chunked
  GET/HEAD /chunked-trailers  another generated body (TRAILERS_SIZE bytes), chunked,
                              announced "Trailer: X-Checksum, X-Trailer-Note" and
                              followed by those two trailer fields after the
                              last chunk (X-Checksum: sha256=<hex of the body>)
  GET      /chunked-trailers.sha256   hex sha256 of what /chunked-trailers de-chunks to
  any      /echo              "method=<M> len=<n> sha256=<hex> ctype=<CT>\\n"
  any      /headers           the request headers, one "Name: value" a line
  any      /redirect          302 to /small.txt
  any      /to-https/<path>   302 to https://origin.test/<path> (http -> https)
  any      /status/<n>        status n with a short body "status <n>\\n"
  any      /slow/<ms>         waits ms milliseconds (at most 30 s), then "slow\\n"
  any      /truncated/<n>     announces Content-Length 2n, sends the first n bytes
                              of TRUNCATED_PATTERN repeated, then closes the
                              connection (an origin that dies mid-body)
  any      /bighead/<n>       200 with a header "X-Big: " + n times "b" (n at most
                              65536), body "bighead\\n"
  anything else               404

Request log (--log FILE), one block per request, appended and flushed:
  REQ <method> <target> <version> len=<body bytes> sha256=<hex of body>
  HDR <name>: <value>            (one per request header)
  TLS <NAME> sni=<server name or -> (one per TLS connection, once its
                                 handshake is done)
  TLSFAIL <NAME> <reason>        (a TLS handshake that failed)
Bytes outside printable ASCII (and backslash) are written as \\xHH.
"""

import argparse
import hashlib
import http.server
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

CHUNKED_SIZE = 300 * 1024
# Chunk sizes cycle through these (odd sizes on purpose).
CHUNK_PLAN = (1, 7, 1000, 4096, 16384, 333, 65536, 12345)


def chunked_body():
    """Deterministic pseudo-random bytes: sha256 in counter mode."""
    out = bytearray()
    i = 0
    while len(out) < CHUNKED_SIZE:
        out += hashlib.sha256(b"athttp-chunked-%d" % i).digest()
        i += 1
    return bytes(out[:CHUNKED_SIZE])


CHUNKED = chunked_body()
CHUNKED_SHA = hashlib.sha256(CHUNKED).hexdigest()

# /chunked-trailers: its own size (not a multiple of any chunk of the plan)
# and bytes, so a body mixed up with /chunked's shows.
TRAILERS_SIZE = 70001
TRAILERS_BODY = hashlib.sha256(b"trailers").digest() * (TRAILERS_SIZE // 32 + 1)
TRAILERS_BODY = bytes(b ^ 0x5A for b in TRAILERS_BODY[:TRAILERS_SIZE])
TRAILERS_SHA = hashlib.sha256(TRAILERS_BODY).hexdigest()
TRAILERS = (("X-Checksum", "sha256=" + TRAILERS_SHA),
            ("X-Trailer-Note", "sent after the last chunk"))


# /truncated/<n>: the bytes sent before the origin closes.
TRUNCATED_PATTERN = b"truncated body 0123456789\n"


def truncated_body(n):
    return (TRUNCATED_PATTERN * (n // len(TRUNCATED_PATTERN) + 1))[:n]


def esc(b):
    if isinstance(b, str):
        b = b.encode("latin-1", "backslashreplace")
    out = []
    for c in b:
        if 0x20 <= c < 0x7F and c != 0x5C:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


class Origin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "athttp-test-origin/1"

    def version_string(self):
        return self.server_version

    # Quiet the default stderr access log; we have our own.
    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("origin: " + (fmt % args) + "\n")

    # ---------------------------------------------------------------- body
    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            body = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("EOF in chunk size")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until empty line
                    while True:
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                data = self.rfile.read(size)
                if len(data) != size:
                    raise ConnectionError("EOF in chunk")
                body += data
                self.rfile.readline(3)  # CRLF after the chunk
            return bytes(body)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        n = int(cl)
        data = self.rfile.read(n) if n > 0 else b""
        if len(data) != n:
            raise ConnectionError("EOF in body")
        return data

    def log_request_block(self, body):
        lines = ["REQ %s %s %s len=%d sha256=%s" % (
            esc(self.command), esc(self.path), esc(self.request_version),
            len(body), hashlib.sha256(body).hexdigest())]
        for k, v in self.headers.items():
            lines.append("HDR %s: %s" % (esc(k), esc(v)))
        self.server.write_log("\n".join(lines) + "\n")

    # ------------------------------------------------------------ replies
    def reply(self, status, body, ctype="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        if status not in (204, 304) and not 100 <= status < 200:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not no_body:
            self.wfile.write(body)

    def reply_chunked(self, data, ctype="application/octet-stream", trailers=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        if trailers:
            self.send_header("Trailer", ", ".join(k for k, _ in trailers))
        self.end_headers()
        if self.command == "HEAD":
            return
        pos = 0
        k = 0
        while pos < len(data):
            n = CHUNK_PLAN[k % len(CHUNK_PLAN)]
            k += 1
            piece = data[pos:pos + n]
            pos += len(piece)
            self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n" + b"".join(
            ("%s: %s\r\n" % kv).encode("latin-1") for kv in trailers) + b"\r\n")

    def file_path(self, rel):
        rel = urllib.parse.unquote(rel).lstrip("/")
        if not rel or rel.startswith(".") or "/." in rel or "\x00" in rel:
            return None
        base = os.path.realpath(self.server.root)
        p = os.path.realpath(os.path.join(base, rel))
        if not p.startswith(base + os.sep) or not os.path.isfile(p):
            return None
        return p

    # ------------------------------------------------------------ dispatch
    def handle_any(self):
        try:
            body = self.read_body()
        except (ValueError, ConnectionError):
            self.close_connection = True
            self.reply(400, b"bad request body\n")
            return
        self.log_request_block(body)
        path = urllib.parse.urlsplit(self.path).path
        m = self.command

        if path == "/echo":
            ctype = self.headers.get("Content-Type", "")
            txt = "method=%s len=%d sha256=%s ctype=%s\n" % (
                m, len(body), hashlib.sha256(body).hexdigest(), ctype)
            self.reply(200, txt.encode("latin-1", "replace"))
        elif path == "/headers":
            txt = "".join("%s: %s\n" % (k, v) for k, v in self.headers.items())
            self.reply(200, txt.encode("latin-1", "replace"))
        elif path == "/redirect":
            self.reply(302, b"see /small.txt\n", extra=[("Location", "/small.txt")])
        elif path.startswith("/to-https/"):
            loc = "https://origin.test/" + path[len("/to-https/"):]
            self.reply(302, ("see %s\n" % loc).encode("latin-1", "replace"),
                       extra=[("Location", loc)])
        elif path.startswith("/slow/"):
            try:
                ms = min(int(path[len("/slow/"):]), 30000)
            except ValueError:
                self.reply(400, b"bad delay\n")
                return
            time.sleep(ms / 1000.0)
            self.reply(200, b"slow\n")
        elif path.startswith("/truncated/"):
            try:
                n = min(int(path[len("/truncated/"):]), 1 << 20)
            except ValueError:
                self.reply(400, b"bad size\n")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(2 * n))
            self.end_headers()
            if m != "HEAD":
                self.wfile.write(truncated_body(n))
                self.wfile.flush()
            self.close_connection = True
        elif path.startswith("/bighead/"):
            try:
                n = min(int(path[len("/bighead/"):]), 65536)
            except ValueError:
                self.reply(400, b"bad size\n")
                return
            self.reply(200, b"bighead\n", extra=[("X-Big", "b" * n)])
        elif path.startswith("/status/"):
            try:
                n = int(path[len("/status/"):])
                if not 200 <= n <= 599:
                    raise ValueError
            except ValueError:
                self.reply(400, b"bad status\n")
                return
            self.reply(n, b"status %d\n" % n)
        elif path == "/chunked" and m in ("GET", "HEAD"):
            self.reply_chunked(CHUNKED)
        elif path == "/chunked-trailers" and m in ("GET", "HEAD"):
            self.reply_chunked(TRAILERS_BODY, trailers=TRAILERS)
        elif path == "/chunked-trailers.sha256" and m in ("GET", "HEAD"):
            self.reply(200, (TRAILERS_SHA + "\n").encode())
        elif path == "/chunked.sha256" and m in ("GET", "HEAD"):
            self.reply(200, (CHUNKED_SHA + "\n").encode())
        elif path.startswith("/chunked/") and m in ("GET", "HEAD"):
            p = self.file_path(path[len("/chunked/"):])
            if p is None:
                self.reply(404, b"not found\n")
                return
            with open(p, "rb") as f:
                self.reply_chunked(f.read())
        elif m in ("GET", "HEAD"):
            p = self.file_path(path)
            if p is None:
                self.reply(404, b"not found\n")
                return
            ctype = "text/plain" if p.endswith(".txt") else "application/octet-stream"
            size = os.path.getsize(p)
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if m == "GET":
                with open(p, "rb") as f:
                    while True:
                        buf = f.read(65536)
                        if not buf:
                            break
                        self.wfile.write(buf)
        else:
            self.reply(405 if self.file_path(path) else 404,
                       b"not allowed\n" if self.file_path(path) else b"not found\n")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, root, log, verbose):
        super().__init__(addr, Origin)
        self.root = root
        self.verbose = verbose
        self.log_lock = threading.Lock()
        self.log_file = open(log, "a", encoding="ascii") if log else None

    def write_log(self, text):
        if not self.log_file:
            return
        with self.log_lock:
            self.log_file.write(text)
            self.log_file.flush()


class TLSServer(Server):
    """The same origin over TLS.  The handshake runs on the connection's own
    thread (finish_request), so a client that stalls in it delays nobody."""

    def __init__(self, addr, plain, name, cert, key):
        super().__init__(addr, plain.root, None, plain.verbose)
        # one log, one lock: blocks of all listeners never interleave
        self.log_file = plain.log_file
        self.log_lock = plain.log_lock
        self.name = name
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["http/1.1"])
        self.sni = {}
        self.sni_lock = threading.Lock()
        ctx.sni_callback = self.note_sni
        self.ctx = ctx

    def note_sni(self, sslobj, server_name, ctx):
        with self.sni_lock:
            self.sni[id(sslobj)] = server_name
        return None

    def finish_request(self, request, client_address):
        request.settimeout(60)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.write_log("TLSFAIL %s %s\n" % (esc(self.name), esc(str(e))))
            return
        with self.sni_lock:
            sni = self.sni.pop(id(tls), None) or self.sni.pop(id(tls._sslobj), None)
        self.write_log("TLS %s sni=%s\n" % (esc(self.name), esc(sni or "-")))
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            tls.close()


def tls_spec(text):
    name, sep, files = text.partition("=")
    cert, sep2, key = files.partition(":")
    if not (name and sep and cert and sep2 and key):
        raise argparse.ArgumentTypeError("expected NAME=CERT:KEY, got %r" % text)
    return name, cert, key


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=".", help="directory of files to serve")
    ap.add_argument("--log", help="append a log of received requests here")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", type=tls_spec, action="append", default=[],
                    metavar="NAME=CERT:KEY", help="a TLS listener (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    srv = Server((a.host, a.port), a.dir, a.log, a.verbose)
    tls_servers = [TLSServer((a.host, 0), srv, name, cert, key)
                   for name, cert, key in a.tls]

    def stop(signum, frame):
        # shutdown() must not run on the serving thread: exit directly.
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for t in tls_servers:
        threading.Thread(target=t.serve_forever, daemon=True).start()
        sys.stdout.write("TLSPORT %s %d\n" % (t.name, t.server_address[1]))
    sys.stdout.write("PORT %d\n" % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
