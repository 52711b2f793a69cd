#!/usr/bin/env python3
"""slowloris.py: slow-header and idle-connection pressure on a server while measuring a fresh client's latency.

Usage: scripts/slowloris.py HOST:PORT [--slow 500] [--idle 1000] [--duration 40] [--byte-interval 3]
                            [--header-timeout 10] [--idle-timeout 30] [--latency-limit-ms 100]

- Opens --slow connections that send a request line and then one header byte every --byte-interval
  seconds, never finishing the head. The server must close each (408 or silently) within
  --header-timeout (+ --slack) of its first byte: the header timer must not be reset by each byte.
- Opens --idle connections that make one keep-alive GET /healthz each and then stay silent. If the run
  lasts longer than --idle-timeout (+ --slack), every one of them must have been closed by then.
- Meanwhile a separate thread opens a fresh connection every --probe-interval seconds and times a
  GET /healthz; its p99 must stay under --latency-limit-ms and every probe must answer 200.
Bounded by --duration seconds. Python 3 stdlib only. Prints figures; exit status 0 when all checks pass.
"""

import argparse
import errno
import resource
import selectors
import socket
import statistics
import sys
import threading
import time

SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: slowloris\r\n"
SLOW_TAIL = b"X-Slowloris: " + b"a" * 4096


def raise_descriptor_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, needed)) if hard != resource.RLIM_INFINITY else max(soft, needed)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Tracked:
    """One pressure connection and what happened to it."""

    def __init__(self, kind, sock):
        self.kind = kind
        self.sock = sock
        self.first_byte_at = None
        self.closed_at = None
        self.status = None  # first status code received, if any
        self.received = bytearray()
        self.sent = 0
        self.next_send_at = 0.0
        self.answered_at = None  # idle: when its one response was complete


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def probe_loop(host, port, interval, stop, results, timeout=2.0):
    request = b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
    while not stop.is_set():
        started = time.monotonic()
        status = None
        try:
            with socket.create_connection((host, port), timeout=timeout) as sock:
                sock.settimeout(timeout)
                sock.sendall(request)
                data = bytearray()
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"HTTP/1.1 "):
                    status = int(data[9:12])
        except OSError as error:
            status = "error: %s" % error
        results.append((time.monotonic() - started, status))
        stop.wait(max(0.0, interval - (time.monotonic() - started)))


def open_connection(host, port):
    sock = socket.create_connection((host, port), timeout=5)
    sock.setblocking(False)
    return sock


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", help="HOST:PORT")
    parser.add_argument("--slow", type=int, default=500, help="slow-header connections (default 500)")
    parser.add_argument("--idle", type=int, default=1000, help="idle keep-alive connections (default 1000)")
    parser.add_argument("--duration", type=float, default=40.0, help="total run time in seconds (default 40)")
    parser.add_argument("--byte-interval", type=float, default=3.0, help="seconds between slow header bytes (default 3)")
    parser.add_argument("--header-timeout", type=float, default=10.0, help="the server's headerReadTimeout (default 10)")
    parser.add_argument("--idle-timeout", type=float, default=30.0, help="the server's idleKeepAliveTimeout (default 30)")
    parser.add_argument("--slack", type=float, default=2.0, help="seconds allowed past each timeout (default 2)")
    parser.add_argument("--probe-interval", type=float, default=0.1, help="seconds between latency probes (default 0.1)")
    parser.add_argument("--latency-limit-ms", type=float, default=100.0, help="p99 probe latency limit (default 100)")
    args = parser.parse_args()

    host, _, port_text = args.target.rpartition(":")
    if not host or not port_text.isdigit():
        parser.error("target must be HOST:PORT")
    port = int(port_text)
    limit = raise_descriptor_limit(args.slow + args.idle + 256)
    if limit < args.slow + args.idle + 64:
        print("only %d file descriptors available; lower --slow/--idle" % limit)
        return 1

    print("slowloris: %d slow + %d idle connections against %s:%d for %.0f s" % (args.slow, args.idle, host, port, args.duration))
    begin = time.monotonic()
    end = begin + args.duration
    selector = selectors.DefaultSelector()
    tracked = []
    connect_failures = 0

    # Probe first, so latency is measured while the pressure builds up too.
    stop = threading.Event()
    probes = []
    prober = threading.Thread(target=probe_loop, args=(host, port, args.probe_interval, stop, probes), daemon=True)
    prober.start()

    for index in range(args.slow + args.idle):
        kind = "slow" if index < args.slow else "idle"
        try:
            sock = open_connection(host, port)
        except OSError:
            connect_failures += 1
            continue
        connection = Tracked(kind, sock)
        now = time.monotonic()
        try:
            if kind == "slow":
                sock.send(SLOW_HEAD)
                connection.first_byte_at = now
                # Spread the later bytes over the interval so they do not arrive in bursts.
                connection.next_send_at = now + args.byte_interval * ((index % 50) / 50.0 + 0.02)
            else:
                sock.send(b"GET /healthz HTTP/1.1\r\nHost: idle\r\n\r\n")
        except OSError:
            connect_failures += 1
            sock.close()
            continue
        tracked.append(connection)
        selector.register(sock, selectors.EVENT_READ, connection)
    opened_at = time.monotonic() - begin
    print("  opened %d connections in %.1f s (%d failed to connect)" % (len(tracked), opened_at, connect_failures))

    def close(connection, now):
        if connection.closed_at is None:
            connection.closed_at = now
            try:
                selector.unregister(connection.sock)
            except (KeyError, ValueError):
                pass
            connection.sock.close()

    while time.monotonic() < end:
        now = time.monotonic()
        for key, _ in selector.select(timeout=0.05):
            connection = key.data
            try:
                chunk = connection.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            now = time.monotonic()
            if not chunk:
                close(connection, now)
                continue
            connection.received += chunk
            if connection.status is None and connection.received.startswith(b"HTTP/1.1 ") and len(connection.received) >= 12:
                connection.status = int(connection.received[9:12])
            if connection.kind == "idle" and connection.answered_at is None and b"\r\n\r\n" in connection.received:
                connection.answered_at = now
        now = time.monotonic()
        for connection in tracked:
            if connection.kind == "slow" and connection.closed_at is None and now >= connection.next_send_at:
                byte = SLOW_TAIL[connection.sent % len(SLOW_TAIL):][:1]
                try:
                    connection.sock.send(byte)
                    connection.sent += 1
                except BlockingIOError:
                    pass
                except OSError:
                    close(connection, now)
                connection.next_send_at = now + args.byte_interval

    stop.set()
    prober.join(timeout=5)
    for connection in tracked:
        if connection.closed_at is None:
            connection.sock.close()
    selector.close()

    # ------------------------------------------------------------ figures and checks
    failures = []
    checks = 0
    slow = [c for c in tracked if c.kind == "slow"]
    idle = [c for c in tracked if c.kind == "idle"]
    header_deadline = args.header_timeout + args.slack
    slow_closed = [c for c in slow if c.closed_at is not None]
    slow_in_time = [c for c in slow_closed if c.closed_at - c.first_byte_at <= header_deadline]
    slow_408 = [c for c in slow_closed if c.status == 408]
    slow_lifetimes = [c.closed_at - c.first_byte_at for c in slow_closed]
    print("\nslow-header connections: %d" % len(slow))
    print("  closed: %d (with 408: %d, silently: %d), still open at the end: %d"
          % (len(slow_closed), len(slow_408), len(slow_closed) - len(slow_408), len(slow) - len(slow_closed)))
    if slow_lifetimes:
        print("  closed after first byte: min %.2f s, median %.2f s, max %.2f s (limit %.1f s)"
              % (min(slow_lifetimes), statistics.median(slow_lifetimes), max(slow_lifetimes), header_deadline))
    print("  header bytes sent per connection before the close: max %d" % max((c.sent for c in slow), default=0))
    checks += 1
    if args.duration >= header_deadline and len(slow_in_time) != len(slow):
        failures.append("%d slow connections not closed within %.1f s of their first byte" % (len(slow) - len(slow_in_time), header_deadline))

    answered = [c for c in idle if c.answered_at is not None]
    idle_closed = [c for c in answered if c.closed_at is not None]
    idle_lifetimes = [c.closed_at - c.answered_at for c in idle_closed]
    print("\nidle keep-alive connections: %d (answered: %d)" % (len(idle), len(answered)))
    print("  closed by the server: %d, still open at the end: %d" % (len(idle_closed), len(answered) - len(idle_closed)))
    if idle_lifetimes:
        print("  idle before the close: min %.2f s, median %.2f s, max %.2f s"
              % (min(idle_lifetimes), statistics.median(idle_lifetimes), max(idle_lifetimes)))
    checks += 3
    if len(answered) != len(idle):
        failures.append("%d idle connections got no answer to their request" % (len(idle) - len(answered)))
    idle_cutoff = args.idle_timeout + args.slack
    early = [t for t in idle_lifetimes if t < args.idle_timeout - 1.0]
    if early:
        failures.append("%d idle connections closed well before the idle timeout" % len(early))
    must_be_closed = [c for c in answered if args.duration - (c.answered_at - begin) > idle_cutoff]
    late = [c for c in must_be_closed if c.closed_at is None or c.closed_at - c.answered_at > idle_cutoff]
    if late:
        failures.append("%d idle connections outlived the idle timeout (+%.0f s)" % (len(late), args.slack))

    latencies = [latency * 1000 for latency, status in probes if status == 200]
    bad_probes = [status for _, status in probes if status != 200]
    print("\nfresh-client GET /healthz probes: %d (failed: %d)" % (len(probes), len(bad_probes)))
    checks += 2
    if latencies:
        print("  latency ms: p50 %.1f, p95 %.1f, p99 %.1f, max %.1f (limit p99 < %.0f)"
              % (percentile(latencies, 0.5), percentile(latencies, 0.95), percentile(latencies, 0.99),
                 max(latencies), args.latency_limit_ms))
        if percentile(latencies, 0.99) >= args.latency_limit_ms:
            failures.append("probe p99 latency %.1f ms over %.0f ms" % (percentile(latencies, 0.99), args.latency_limit_ms))
    if bad_probes:
        failures.append("%d probes failed, e.g. %s" % (len(bad_probes), bad_probes[:3]))
    if not probes:
        failures.append("no probe completed")

    print("\n%d checks failed" % len(failures) if failures else "\nall checks passed")
    for failure in failures:
        print("  FAIL: " + failure)
    print("%d passed, %d failed" % (checks - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
