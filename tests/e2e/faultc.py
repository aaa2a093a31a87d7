#!/usr/bin/env python3
"""The fault matrix's client (tests/e2e/test_faults.sh): GETs one URL COUNT
times, on one keep-alive connection while the answers allow it (a new one
after a failure, as a browser would), and classifies each outcome.

usage: faultc.py --sha SHA256 [--count N] [--timeout S] HOST PATH

One line per request on stdout:
  R <i> <class> <status|-> <elapsed s> <bytes> <end epoch s> <X-Athttp-Error|->
class is one of
  body     200 and the whole body, byte-exact (sha256 SHA)
  wrong    200, a complete body by its framing, but not the right bytes
  errhead  502/504 with an X-Athttp-Error header (the cause, before the head)
  noreason another status, or 502/504 without X-Athttp-Error
  cut      a head, then the connection ended short of the body
  nohead   the connection ended before any head
  hang     no outcome within --timeout
Exit status 0 (the classes are the result).
"""

import argparse
import hashlib
import http.client
import socket
import sys
import time


def one(conn, path, want_sha):
    """(class, status, bytes, reason, reusable)."""
    try:
        conn.request("GET", path)
    except socket.timeout:
        return "hang", None, 0, None, False
    except OSError:
        return "nohead", None, 0, None, False
    try:
        resp = conn.getresponse()
    except socket.timeout:
        return "hang", None, 0, None, False
    except (OSError, http.client.HTTPException):
        return "nohead", None, 0, None, False
    reason = resp.getheader("X-Athttp-Error")
    got = bytearray()
    try:
        while True:
            piece = resp.read(65536)
            if not piece:
                break
            got += piece
    except socket.timeout:
        return "hang", resp.status, len(got), reason, False
    except http.client.IncompleteRead as e:
        got += e.partial
        return "cut", resp.status, len(got), reason, False
    except (OSError, http.client.HTTPException):
        return "cut", resp.status, len(got), reason, False
    # read(amt) ends quietly at a close: the framing says if it was short
    length = resp.getheader("Content-Length")
    if length is not None and length.isdigit() and len(got) < int(length):
        return "cut", resp.status, len(got), reason, False
    reusable = not resp.will_close
    if resp.status == 200:
        ok = hashlib.sha256(got).hexdigest() == want_sha
        return ("body" if ok else "wrong"), 200, len(got), reason, reusable
    if resp.status in (502, 504) and reason:
        return "errhead", resp.status, len(got), reason, reusable
    return "noreason", resp.status, len(got), reason, reusable


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sha", required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("host")
    ap.add_argument("path")
    a = ap.parse_args()

    conn = None
    for i in range(1, a.count + 1):
        if conn is None:
            conn = http.client.HTTPConnection(a.host, 80, timeout=a.timeout)
        t0 = time.monotonic()
        cls, status, n, reason, reusable = one(conn, a.path, a.sha)
        took = time.monotonic() - t0
        if not reusable:
            conn.close()
            conn = None
        print("R %d %s %s %.3f %d %.3f %s" % (
            i, cls, status if status is not None else "-", took, n,
            time.time(), (reason or "-").replace(" ", "_")), flush=True)
    if conn is not None:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
