#!/usr/bin/env python3
"""fd-census.py: a server process's open descriptors and client connections, for leak checks.

Usage: scripts/fd-census.py PID PORT                      prints `fds N connections M`
       scripts/fd-census.py PID PORT --settle BASELINE_FDS [--slack 8] [--limit 45]

With --settle it waits (at most --limit seconds, enough for the idle keep-alive timeout) until the
process holds no client connection on PORT and at most BASELINE_FDS + --slack descriptors (the slack
covers database connections the pool may have opened meanwhile), printing the figures; exit status 1
if that never happens or the process is gone.
"""

import argparse
import os
import sys
import time

import live_support as ls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pid", type=int)
    ap.add_argument("port", type=int)
    ap.add_argument("--settle", type=int, default=None)
    ap.add_argument("--slack", type=int, default=8)
    ap.add_argument("--limit", type=float, default=45.0)
    args = ap.parse_args()

    if not os.path.exists("/proc/%d" % args.pid):
        print("fd-census: process %d is gone" % args.pid)
        return 1
    if args.settle is None:
        print("fds %d connections %d" % (ls.open_fds(args.pid), ls.http_connections(args.pid, args.port)))
        return 0
    started = time.monotonic()
    first = (ls.open_fds(args.pid), ls.http_connections(args.pid, args.port))
    while True:
        if not os.path.exists("/proc/%d" % args.pid):
            print("fd-census: process %d is gone" % args.pid)
            return 1
        fds, conns = ls.open_fds(args.pid), ls.http_connections(args.pid, args.port)
        if conns == 0 and fds <= args.settle + args.slack:
            print("fd-census: alive; %d descriptors (baseline %d), 0 client connections, %.1f s after the load "
                  "(right after: %d descriptors, %d connections)" % (fds, args.settle, time.monotonic() - started, first[0], first[1]))
            return 0
        if time.monotonic() - started > args.limit:
            print("fd-census: LEAK? after %.0f s still %d descriptors (baseline %d + %d) and %d client connections"
                  % (args.limit, fds, args.settle, args.slack, conns))
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
