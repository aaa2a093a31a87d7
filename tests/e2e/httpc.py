#!/usr/bin/env python3
"""Minimal urllib client for the end-to-end tests (standard library only).

usage: httpc.py [-X METHOD] [--data-file FILE | --data STR] [-H 'Name: value']...
                [-o OUT] [--no-redirect] URL

Writes the response body to OUT (default: discarded) and, on stdout,
"STATUS <code>" followed by one "H <name>: <value>" line per response header.
HTTP error statuses (4xx/5xx) are normal results here, not failures.
Exit status: 0 when a response arrived, 2 on a transport error (printed on
stderr).
"""

import argparse
import sys
import urllib.error
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-X", dest="method")
    ap.add_argument("--data-file")
    ap.add_argument("--data")
    ap.add_argument("-H", dest="headers", action="append", default=[])
    ap.add_argument("-o", dest="out")
    ap.add_argument("--no-redirect", action="store_true")
    ap.add_argument("--timeout", type=float, default=50)
    ap.add_argument("url")
    a = ap.parse_args()

    data = None
    if a.data_file is not None:
        with open(a.data_file, "rb") as f:
            data = f.read()
    elif a.data is not None:
        data = a.data.encode()
    req = urllib.request.Request(a.url, data=data, method=a.method)
    for h in a.headers:
        k, _, v = h.partition(":")
        req.add_header(k.strip(), v.strip())

    handlers = [NoRedirect()] if a.no_redirect else []
    opener = urllib.request.build_opener(*handlers)
    try:
        try:
            resp = opener.open(req, timeout=a.timeout)
        except urllib.error.HTTPError as e:
            resp = e
        status = resp.status if hasattr(resp, "status") and resp.status else resp.code
        headers = resp.headers
        body = resp.read()
    except Exception as e:  # transport errors: report, exit 2
        sys.stderr.write("httpc: %s: %s\n" % (type(e).__name__, e))
        return 2
    if a.out:
        with open(a.out, "wb") as f:
            f.write(body)
    out = ["STATUS %d" % status]
    for k, v in headers.items():
        out.append("H %s: %s" % (k, v))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
