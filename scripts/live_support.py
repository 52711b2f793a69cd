# live_support.py: what the live-check scripts share (HTTP client, psql, process census). Python 3 stdlib only.
"""Helpers for scripts/live-checks.sh and the checks it runs (fault-db.py, injection.py, shutdown-check.py,
import-crash.py, two-instances.py, fd-census.py). Everything is loopback-only and bounded in time."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse


def exit_on_sigterm():
    """SIGTERM (from `timeout` in live-checks.sh) unwinds like an exception, so `finally` blocks stop children."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


def remember_child(pid):
    """Appends a child's pid to $LIVE_CHECKS_PIDFILE, so live-checks.sh can stop it should this script die."""
    path = os.environ.get("LIVE_CHECKS_PIDFILE")
    if path:
        with open(path, "a") as f:
            f.write("%d\n" % pid)


class Response:
    """One HTTP answer: status, lower-cased headers, raw body."""

    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def content_type(self):
        return self.headers.get("content-type", "")


def split_base(base):
    """`http://127.0.0.1:8080` → ("127.0.0.1", 8080)."""
    u = urllib.parse.urlsplit(base)
    return u.hostname, u.port or 80


def request(base, method, path, body=None, token=None, headers=None, timeout=10.0, raw_path=False):
    """One request on a fresh connection (no keep-alive surprises). `body` may be bytes, str, or a JSON value.
    Raises OSError / http.client.HTTPException when the connection fails or the answer is malformed."""
    host, port = split_base(base)
    h = {"Host": "%s:%d" % (host, port), "Accept": "application/json", "Connection": "close"}
    payload = None
    if body is not None:
        if isinstance(body, (bytes, bytearray)):
            payload = bytes(body)
        elif isinstance(body, str):
            payload = body.encode("utf-8")
        else:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = "Bearer " + token
    if headers:
        h.update(headers)
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        # skip_host/skip_accept_encoding: we send exactly our headers; raw paths go out byte for byte.
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in h.items():
            conn.putheader(k, v)
        if payload is not None:
            conn.putheader("Content-Length", str(len(payload)))
        conn.endheaders(payload)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data, time.monotonic() - started)
    finally:
        conn.close()


def wait_ready(base, path="/readyz", limit=120.0, process=None):
    """Polls until `path` answers 200; False after `limit` seconds or when `process` exits."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            if request(base, "GET", path, timeout=2).status == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def psql(conninfo, sql, timeout=60):
    """Runs one SQL text through psql (unaligned, tab-separated, no headers) and returns the rows as lists."""
    out = subprocess.run(["psql", conninfo, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-c", sql],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError("psql failed: %s" % out.stderr.strip())
    return [line.split("\t") for line in out.stdout.splitlines() if line != ""]


def psql_value(conninfo, sql, timeout=60):
    rows = psql(conninfo, sql, timeout)
    return rows[0][0] if rows else None


def sql_literal(text):
    return "'" + text.replace("'", "''") + "'"


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def _socket_inodes(pid):
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(m.group(1))
    return inodes


def http_connections(pid, port):
    """TCP sockets of process `pid` whose local port is `port`, other than the listener (state LISTEN)."""
    inodes = _socket_inodes(pid)
    count = 0
    for table in ("/proc/%d/net/tcp" % pid, "/proc/%d/net/tcp6" % pid):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            local_port = int(f[1].rsplit(":", 1)[1], 16)
            state, inode = f[3], f[9]
            if local_port == port and state != "0A" and inode in inodes:
                count += 1
    return count


def summary_fields(text):
    """Reads an import summary printed as JSON or as a Swift description (`committed: true, rows: 3`)."""
    fields = {}
    for key in ("dry_run", "dryRun", "committed", "rows", "created", "updated", "ignored", "rejected"):
        m = re.search(r'"?%s"?\s*[:=]\s*(true|false|\d+)' % key, text)
        if m:
            v = m.group(1)
            fields[key] = (v == "true") if v in ("true", "false") else int(v)
    return fields
