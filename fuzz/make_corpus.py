#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ from the vendors' examples.

    python3 fuzz/make_corpus.py

fuzz_driver: each transcript of tests/transcripts (hand-written from the
manuals' examples) as the module's replies, one per host write, with the
dialect and request kind of its name.  fuzz_transcript: the transcripts
themselves.  fuzz_at_parser and fuzz_raw_response: the module replies and
the HTTP responses inside them.  fuzz_http_request: requests as clients
write them.  Run it again after adding a transcript; the files it writes
are named after their content, so nothing is written twice.
"""
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
SEP = b"\0\0"                      # fuzz/module_bytes.h MODULE_BYTES_SEP
DIALECTS = ["simcom", "httpcfg", "quectel", "neoway", "onemo", "espat"]  # src/dialects.c order
KINDS = {"get": 0, "head": 1, "post": 2, "range": 0}


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode("latin-1")
            i += 1
            continue
        n = s[i + 1]
        if n == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif n == "?":
            m = re.match(r"\\\?\{(\d+)\}", s[i:])
            out += b"?" * int(m.group(1))
            i += len(m.group(0))
        else:
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}[n]
            i += 2
    return bytes(out)


def segments(path):
    """The transcript's runs as (direction, bytes)."""
    runs = []
    for line in open(path, encoding="latin-1").read().split("\n"):
        m = re.match(r"^(?:\+\d+ )?([<>]) (.*)$", line)
        if not m:
            continue
        d, b = m.group(1), unescape(m.group(2))
        if runs and runs[-1][0] == d:
            runs[-1] = (d, runs[-1][1] + b)
        else:
            runs.append((d, b))
    return runs


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def http_responses(blob):
    """HTTP responses inside module output, from their status line on."""
    out = []
    for m in re.finditer(rb"HTTP/1\.[01] \d{3}", blob):
        out.append(blob[m.start():])
    return out


def main():
    tdir = os.path.join(ROOT, "tests", "transcripts")
    for fn in sorted(os.listdir(tdir)):
        if not fn.endswith(".at"):
            continue
        dialect, _, kind = fn[:-3].split("-")
        runs = segments(os.path.join(tdir, fn))
        with open(os.path.join(tdir, fn), "rb") as f:
            put("fuzz_transcript", f.read())
        replies = []
        for i, (d, b) in enumerate(runs):
            if d == ">":
                replies.append(runs[i + 1][1] if i + 1 < len(runs) and runs[i + 1][0] == "<" else b"")
        di = DIALECTS.index(dialect)
        # every split seed: 0 (bytes one at a time) and 255 (large reads)
        for seed in (0, 255):
            put("fuzz_driver", bytes([di, KINDS[kind], seed]) + SEP.join(replies))
        put("fuzz_driver", bytes([di, KINDS[kind] | 4, 255]) + SEP.join(replies + replies[3:]))
        module = b"".join(b for d, b in runs if d == "<")
        put("fuzz_at_parser", bytes([di, 3, 255]) + module)
        for r in http_responses(module):
            put("fuzz_raw_response", bytes([0, 255]) + r)
            put("fuzz_raw_response", bytes([1, 7]) + r)
        for d, b in runs:
            if d == ">" and re.match(rb"^[A-Z]+ /", b):
                put("fuzz_http_request", bytes([di]) + b)
    requests = [
        b"GET /small.txt HTTP/1.1\r\nHost: origin.test\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
        b"GET http://origin.test:8080/a?b=c HTTP/1.1\r\nHost: origin.test:8080\r\nRange: bytes=0-9\r\n\r\n",
        b"POST /post HTTP/1.1\r\nHost: origin.test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 13\r\n\r\n{\"a\": \"b\"}\r\n",
        b"PUT /up HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\n"
        b"Expect: 100-continue\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nTrailer: t\r\n\r\n",
        b"HEAD / HTTP/1.0\r\nHost: origin.test\r\n\r\n",
        b"GET /1 HTTP/1.1\r\nHost: origin.test\r\n\r\nDELETE /2 HTTP/1.1\r\nHost: origin.test\r\n"
        b"Authorization: Basic dXNlcjpwYXNz\r\nCookie: a=b\r\nConnection: close\r\n\r\n",
    ]
    for di in range(len(DIALECTS)):
        for r in requests:
            put("fuzz_http_request", bytes([di]) + r)
    # https: the GET transcripts with the request kind that asks for it
    for fn in os.listdir(os.path.join(CORPUS, "fuzz_driver")):
        with open(os.path.join(CORPUS, "fuzz_driver", fn), "rb") as f:
            seed = f.read()
        if seed[1] == 0 and seed[2] == 255:
            put("fuzz_driver", bytes([seed[0], 3, 255]) + seed[3:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
