#!/usr/bin/env python3
"""A serial line that adds a burst of noise: a pty proxy for the e2e tests.

    noise_pty.py --module TTY --link PATH --after N --noise HEX

Opens the module's tty (athttp-emu's --link), makes a new pty for the host
with PATH a symlink to it, and copies bytes both ways.  Once the module has
sent N bytes towards the host, the bytes of HEX are inserted there, once
(the module's own bytes all still follow: a burst of line noise, not a
loss).  Prints "READY <pty>" when the host may open PATH, and "NOISE <n>"
(to stderr) when the burst went out.  Ends on SIGTERM, or when the module's
side closes.
"""
import argparse
import os
import select
import signal
import sys
import termios
import tty


def raw(fd):
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def write_all(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--link", required=True)
    ap.add_argument("--after", type=int, required=True)
    ap.add_argument("--noise", required=True)
    a = ap.parse_args()
    noise = bytes.fromhex(a.noise)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    mod = os.open(a.module, os.O_RDWR | os.O_NOCTTY)
    raw(mod)
    master, slave = os.openpty()
    raw(slave)
    # The slave stays open here too: the host opening and closing the
    # device must not hang up the master.
    name = os.ttyname(slave)
    try:
        os.unlink(a.link)
    except FileNotFoundError:
        pass
    os.symlink(name, a.link)
    print("READY " + name, flush=True)

    sent = 0
    burst_done = False
    while True:
        r, _, _ = select.select([mod, master], [], [])
        if mod in r:
            try:
                data = os.read(mod, 65536)
            except OSError:
                return
            if not data:
                return
            if not burst_done and sent + len(data) > a.after:
                k = a.after - sent
                data = data[:k] + noise + data[k:]
                burst_done = True
                print("NOISE %d" % len(noise), file=sys.stderr, flush=True)
            sent += len(data)
            write_all(master, data)
        if master in r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if data:
                write_all(mod, data)


if __name__ == "__main__":
    main()
