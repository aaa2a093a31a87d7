#!/usr/bin/env python3
"""Requests in a row through athttp, for bench/soak.sh and the e2e soak.

usage: soak_client.py --url URL --expect FILE [-n N] [--every K]
                      [--rss-growth-kib KIB]

Each request is its own connection (socket, connect, GET with
"Connection: close", read to EOF, close), so every one costs the engine a
socketpair and a thread.  The body must equal FILE byte for byte.  After
every K-th request the process's fd count (/proc/self/fd) and VmRSS
(/proc/self/status) are sampled: this process is the one athttp's engine
runs in.  Prints one "SAMPLE n fds rss_kib seconds" line per sample and a
last "RESULT ..." line; exits 1 on a wrong answer, when the fd count at the
last sample exceeds the first's, or when RSS grew by more than KIB (0:
RSS reported only, as under ASan, whose quarantine keeps freed memory).
"""

import argparse
import os
import socket
import sys
import time
import urllib.parse


def fd_count():
    return len(os.listdir("/proc/self/fd"))


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def get(host, port, path, timeout):
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                   % (path, host)).encode())
        parts = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            parts.append(b)
    finally:
        s.close()
    data = b"".join(parts)
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("no response head (%d bytes)" % len(data))
    status = head.split(b"\r\n", 1)[0]
    return status, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--every", type=int, default=1000)
    ap.add_argument("--rss-growth-kib", type=int, default=8192)
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.url)
    want = open(a.expect, "rb").read()
    samples = []
    t0 = time.monotonic()
    for i in range(1, a.n + 1):
        try:
            status, body = get(u.hostname, u.port or 80, u.path or "/", a.timeout)
        except Exception as e:
            print("FAIL request %d: %s: %s" % (i, type(e).__name__, e))
            return 1
        if not status.startswith(b"HTTP/1.1 200 ") or body != want:
            print("FAIL request %d: %r, %d body bytes (want %d)%s"
                  % (i, status, len(body), len(want),
                     "" if body == want else ", body differs"))
            return 1
        if i % a.every == 0 or i == a.n:
            samples.append((i, fd_count(), rss_kib(), time.monotonic() - t0))
            print("SAMPLE %d %d %d %.1f" % samples[-1], flush=True)
    secs = time.monotonic() - t0
    first, last = samples[0], samples[-1]
    growth = last[2] - first[2]
    verdict = "PASS"
    why = []
    if last[1] > first[1]:
        why.append("fd count grew %d -> %d" % (first[1], last[1]))
    if a.rss_growth_kib and growth > a.rss_growth_kib:
        why.append("RSS grew %d KiB (limit %d)" % (growth, a.rss_growth_kib))
    if why:
        verdict = "FAIL " + ", ".join(why)
    print("RESULT %d requests in %.1f s (%.1f/s), fds %d -> %d, RSS %d -> %d KiB: %s"
          % (a.n, secs, a.n / secs, first[1], last[1], first[2], last[2], verdict))
    return 0 if not why else 1


if __name__ == "__main__":
    sys.exit(main())
