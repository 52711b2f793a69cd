#!/usr/bin/env python3
"""http-fuzz.py: throws malformed and mutated HTTP/1.1 requests at a server and checks it keeps answering.

Usage: scripts/http-fuzz.py HOST:PORT [--count 10000] [--seed N] [--workers 4] [--timeout 3]

Each case opens a connection, sends its bytes, half-closes (so a server waiting for more bytes sees the
end instead of hanging until its timeouts), and reads until the server closes. A case passes when the
server answered with a well-formed HTTP/1.1 status line (any status except 500) and closed the connection
within --timeout; an empty payload may be closed silently. Every --health-every cases a valid
`GET /healthz` must answer 200. At the end the server must still answer. Python 3 stdlib only.
Exit status: 0 when nothing failed, 1 otherwise.
"""

import argparse
import collections
import random
import re
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

STATUS_LINE = re.compile(rb"^HTTP/1\.1 (\d{3}) [^\r\n]*\r\n")

PATHS = [
    b"/healthz", b"/", b"/api/v1/municipalities", b"/api/v1/milestones?page=2&size=50",
    b"/api/v1/municipalities/05001/progress", b"/api/v1/periods/2024-Q1", b"/echo",
]
JSON_BODIES = [
    b'{"name":"Medell\xc3\xadn","code":"05001"}',
    b'{"milestone":"hito-1","weight":"0.25","phase":"fase-2"}',
    b"[]", b"{}", b'{"a":[1,2,{"b":null}]}',
]
CONTENT_TYPES = [
    b"application/json", b"text/plain", b"application/xml", b"multipart/form-data; boundary=x",
    b"application/x-www-form-urlencoded", b"application/json; charset=latin1", b"", b"\xff\xfe",
    b"application/problem+json", b"image/png",
]


def valid_requests(rng):
    """Well-formed requests that mutations start from."""
    path = rng.choice(PATHS)
    body = rng.choice(JSON_BODIES)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in split_randomly(rng, body)) + b"0\r\n\r\n"
    return [
        b"GET " + path + b" HTTP/1.1\r\nHost: fuzz\r\nAccept: application/json\r\nUser-Agent: http-fuzz\r\n\r\n",
        b"HEAD " + path + b" HTTP/1.1\r\nHost: fuzz\r\n\r\n",
        b"POST " + path + b" HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
        b"PUT " + path + b" HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked,
        b"DELETE " + path + b" HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer abc.def.ghi\r\n\r\n",
        b"GET " + path + b" HTTP/1.0\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: fuzz\r\n\r\n",
    ]


def split_randomly(rng, data):
    parts, rest = [], data
    while rest:
        cut = rng.randint(1, max(1, len(rest)))
        parts.append(rest[:cut])
        rest = rest[cut:]
    return parts or [b"x"]


def head(method=b"POST", path=b"/echo", version=b"HTTP/1.1", fields=(), body=b""):
    lines = [method + b" " + path + b" " + version]
    lines += list(fields)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# ---------------------------------------------------------------- generators, one per kind of damage

def truncated(rng):
    request = rng.choice(valid_requests(rng))
    return request[: rng.randint(1, len(request) - 1)]


def bad_chunk_size(rng):
    size = rng.choice([b"zz", b"-1", b"0x5", b"5 x", b"", b" 5", b"5\n", b"ffffffffffffffffffffff", b"5;\x00",
                       b"+5", b"5.0", b"\xff", b"7fffffffffffffff", b"1" * 5000])
    body = size + b"\r\nhello\r\n0\r\n\r\n"
    if rng.random() < 0.3:
        body = b"5\r\nhelloXX0\r\n\r\n"  # chunk data not followed by CRLF
    return head(fields=[b"Host: fuzz", b"Transfer-Encoding: chunked"], body=body)


def huge_headers(rng):
    choice = rng.randrange(4)
    if choice == 0:
        return head(b"GET", b"/" + b"a" * rng.randint(8000, 70000))
    if choice == 1:
        return head(b"GET", fields=[b"Host: fuzz", b"X-Big: " + b"b" * rng.randint(30000, 200000)])
    if choice == 2:
        return head(b"GET", fields=[b"Host: fuzz"] + [b"X-H%d: v" % i for i in range(rng.randint(100, 2000))])
    return head(b"GET", fields=[b"Host: fuzz", b"Cookie: " + b"c=1; " * rng.randint(7000, 20000)])


def invalid_utf8(rng):
    junk = bytes(rng.choice([0x80, 0xBF, 0xC0, 0xC1, 0xF5, 0xFF, 0xFE, 0xED]) for _ in range(rng.randint(1, 8)))
    if rng.random() < 0.5:
        return head(b"GET", b"/api/v1/municipalities/" + junk, fields=[b"Host: fuzz"])
    body = b'{"name":"' + junk + b'"}'
    return head(fields=[b"Host: fuzz", b"Content-Type: application/json", b"Content-Length: %d" % len(body)], body=body)


def wrong_content_type(rng):
    body = rng.choice(JSON_BODIES + [b"<xml/>", b"a=1&b=2", b"\x00\x01\x02", b"--x\r\n\r\n--x--"])
    fields = [b"Host: fuzz", b"Content-Length: %d" % len(body)]
    content_type = rng.choice(CONTENT_TYPES)
    if content_type:
        fields.append(b"Content-Type: " + content_type)
    return head(rng.choice([b"POST", b"PUT", b"PATCH"]), rng.choice(PATHS), fields=fields, body=body)


def duplicate_content_length(rng):
    a, b = rng.choice([(5, 5), (5, 6), (0, 5), (5, 50)])
    fields = [b"Host: fuzz", b"Content-Length: %d" % a, b"Content-Length: %d" % b]
    if rng.random() < 0.5:
        fields = [b"Host: fuzz", b"Content-Length: %d, %d" % (a, b)]
    return head(fields=fields, body=b"hello")


def smuggling(rng):
    variants = [
        [b"Content-Length: 5", b"Transfer-Encoding: chunked"],
        [b"Transfer-Encoding: chunked", b"Content-Length: 5"],
        [b"Transfer-Encoding: gzip, chunked"],
        [b"Transfer-Encoding: chunked, identity"],
        [b"Transfer-Encoding : chunked"],
        [b"Transfer-Encoding: xchunked"],
        [b"Transfer-Encoding:\tchunked"],
        [b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"],
        [b"Transfer-Encoding: chunked\r\n chunked"],
        [b"Content-Length: +5"], [b"Content-Length: 0x5"], [b"Content-Length: 5 5"], [b"Content-Length: -0"],
        [b"Content-Length: 99999999999999999999999999"],
    ]
    return head(fields=[b"Host: fuzz"] + rng.choice(variants), body=b"5\r\nhello\r\n0\r\n\r\n")


def pipelined_garbage(rng):
    requests = valid_requests(rng)
    garbage = bytes(rng.randrange(256) for _ in range(rng.randint(1, 400)))
    return rng.choice(requests) + rng.choice(requests) + garbage


def byte_flips(rng):
    request = bytearray(rng.choice(valid_requests(rng)))
    for _ in range(rng.randint(1, 6)):
        request[rng.randrange(len(request))] = rng.randrange(256)
    return bytes(request)


def structural_edits(rng):
    request = bytearray(rng.choice(valid_requests(rng)))
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(request))
        token = rng.choice([b"\r", b"\n", b" ", b"\t", b":", b"\r\n", b"\r\n\r\n", b"\x00", b"%", b"#"])
        if rng.random() < 0.5:
            request[position:position] = token
        else:
            del request[position:position + rng.randint(1, 3)]
    return bytes(request)


def bad_request_line(rng):
    lines = [
        b"get / HTTP/1.1", b"GET  / HTTP/1.1", b"GET / HTTP/2.0", b"GET / HTTP/1.1 ", b" GET / HTTP/1.1",
        b"GET /", b"GET", b"/ HTTP/1.1", b"GET / http/1.1", b"GET / HTTP/1.10", b"G\x00T / HTTP/1.1",
        b"GET * HTTP/1.1", b"CONNECT fuzz:443 HTTP/1.1", b"TRACE / HTTP/1.1", b"GET fuzz HTTP/1.1",
        b"GET /a#b HTTP/1.1", b"GET /%zz HTTP/1.1", b"GET http:///x HTTP/1.1", b"GET /\x7f HTTP/1.1",
        b"PRI * HTTP/2.0", b"GET / HTTP/0.9", b"GET / HTTP/1.1\x00",
    ]
    return rng.choice(lines) + b"\r\nHost: fuzz\r\n\r\n"


def bad_fields(rng):
    fields = [
        b"Host : fuzz", b" Host: fuzz", b"Host: fuzz\r\n continued", b"NoColon", b": empty-name",
        b"X(A): b", b"X-A: b\x00c", b"X-A: b\rc", b"X-A: \x7f", b"Host: a b", b"Host: fuzz\r\nHost: other",
        b"Expect: 200-ok", b"X-A: b\nX-B: c",
    ]
    chosen = rng.choice(fields)
    host = [] if chosen.startswith((b"Host", b" Host")) else [b"Host: fuzz"]
    return head(b"GET", b"/", fields=host + [chosen])


def random_bytes(rng):
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))


GENERATORS = [
    truncated, bad_chunk_size, huge_headers, invalid_utf8, wrong_content_type, duplicate_content_length,
    smuggling, pipelined_garbage, byte_flips, structural_edits, bad_request_line, bad_fields, random_bytes,
]


# ---------------------------------------------------------------- running

class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.passed = 0
        self.failed = 0
        self.by_status = collections.Counter()
        self.by_kind = collections.Counter()
        self.failures = []

    def record(self, kind, outcome, payload, ok, reason=""):
        with self.lock:
            self.by_status[outcome] += 1
            if ok:
                self.passed += 1
            else:
                self.failed += 1
                self.by_kind[kind] += 1
                if len(self.failures) < 25:
                    self.failures.append((kind, outcome, reason, payload[:160]))


def exchange(host, port, payload, timeout, half_close=True):
    """Sends payload, half-closes, reads until EOF. Returns (data, ended_cleanly, error)."""
    data = bytearray()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            try:
                sock.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may refuse and close before everything is sent
            if half_close:
                try:
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            deadline = time.monotonic() + timeout
            while True:
                if time.monotonic() > deadline:
                    return bytes(data), False, "timeout"
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    return bytes(data), False, "timeout"
                except ConnectionResetError:
                    return bytes(data), True, "reset"
                if not chunk:
                    return bytes(data), True, None
                data += chunk
    except OSError as error:
        return bytes(data), False, "connect: %s" % error


def run_case(host, port, kind, payload, timeout, tally):
    data, ended, error = exchange(host, port, payload, timeout)
    match = STATUS_LINE.match(data)
    if match:
        status = int(match.group(1))
        outcome = str(status)
        if status == 500:
            tally.record(kind, outcome, payload, False, "500 from a client error")
        elif not ended:
            tally.record(kind, outcome, payload, False, "answered %d but did not close (%s)" % (status, error))
        else:
            tally.record(kind, outcome, payload, True)
    elif not data and ended and not payload.strip(b"\r\n"):
        tally.record(kind, "closed", payload, True)
    elif not data and ended:
        tally.record(kind, "closed", payload, False, "closed without a response (%s)" % (error or "eof"))
    else:
        tally.record(kind, "no-status", payload, False, "%s; got %r" % (error or "bad status line", data[:60]))


def health_check(host, port, timeout):
    started = time.monotonic()
    data, ended, error = exchange(host, port, b"GET /healthz HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n",
                                  timeout, half_close=False)
    match = STATUS_LINE.match(data)
    ok = bool(match) and match.group(1) == b"200"
    return ok, time.monotonic() - started, (match.group(1).decode() if match else (error or "no response"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", help="HOST:PORT")
    parser.add_argument("--count", type=int, default=10000, help="malformed cases to send (default 10000)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed, for reruns)")
    parser.add_argument("--workers", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds a case may take (default 3)")
    parser.add_argument("--health-every", type=int, default=50, help="a GET /healthz every N cases (default 50)")
    args = parser.parse_args()

    host, _, port_text = args.target.rpartition(":")
    if not host or not port_text.isdigit():
        parser.error("target must be HOST:PORT")
    port = int(port_text)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print("http-fuzz: %d cases against %s:%d, seed %d, %d workers" % (args.count, host, port, seed, args.workers))

    ok, _, status = health_check(host, port, args.timeout)
    if not ok:
        print("server does not answer GET /healthz with 200 (%s); aborting" % status)
        return 1

    tally = Tally()
    health = {"passed": 0, "failed": 0, "slowest": 0.0}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        sent = 0
        while sent < args.count:
            batch = min(args.health_every, args.count - sent)
            cases = []
            for _ in range(batch):
                generator = rng.choice(GENERATORS)
                cases.append((generator.__name__, generator(rng)))
            list(pool.map(lambda case: run_case(host, port, case[0], case[1], args.timeout, tally), cases))
            sent += batch
            ok, elapsed, status = health_check(host, port, args.timeout)
            health["slowest"] = max(health["slowest"], elapsed)
            if ok:
                health["passed"] += 1
            else:
                health["failed"] += 1
                print("  healthz failed after %d cases: %s" % (sent, status))
            if sent % 1000 == 0:
                print("  %d cases sent, %d failed so far" % (sent, tally.failed))

    final_ok = all(health_check(host, port, args.timeout)[0] for _ in range(5))
    elapsed = time.monotonic() - started

    print("\nresponses by status:")
    for outcome, count in sorted(tally.by_status.items()):
        print("  %-10s %6d" % (outcome, count))
    if tally.failures:
        print("\nfirst failures (kind, outcome, reason, payload prefix):")
        for kind, outcome, reason, payload in tally.failures:
            print("  %-24s %-9s %s\n      %r" % (kind, outcome, reason, payload))
        print("failures by kind: %s" % dict(tally.by_kind))
    print("\nhealthz: %d passed, %d failed (slowest %.0f ms)" % (health["passed"], health["failed"], health["slowest"] * 1000))
    print("server still answering at the end: %s" % ("yes" if final_ok else "NO"))
    print("%d passed, %d failed in %.1f s (seed %d)" % (tally.passed, tally.failed, elapsed, seed))
    return 0 if tally.failed == 0 and health["failed"] == 0 and final_ok else 1


if __name__ == "__main__":
    sys.exit(main())
