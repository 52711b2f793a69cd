#!/usr/bin/env python3
"""shutdown-check.py: SIGTERM while slow requests are in flight: they finish with 200, new connections are refused, exit 0.

Usage: scripts/shutdown-check.py --binary SETA --token TOKEN [--log FILE] [--concurrency 6] [--target-seconds 1.5]
(the database comes from the environment: DATABASE_URL, SETA_SCHEMA_DIR, SETA_REFERENCE_DATA)

Starts its own `seta serve` on a free port and measures how long a progress series takes per month, so
the slow requests last about --target-seconds each on their own (well inside the server's 10 s
shutdown grace period even when --concurrency of them share the CPU). Then it sends --concurrency slow
requests at once (month-by-month series and a 5,000-row CSV export of the entity table), checks the
server holds their connections, and sends SIGTERM. Required:
- every slow request completes with 200 and a complete body (JSON that parses, CSV that ends in a newline);
- a connection attempted after SIGTERM, while those are still running, is refused (ECONNREFUSED);
- the process exits by itself with status 0 and logs that it finished the in-flight requests.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import live_support as ls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--log", default="/dev/null")
    ap.add_argument("--concurrency", type=int, default=6)
    ap.add_argument("--target-seconds", type=float, default=1.5)
    ap.add_argument("--exit-limit", type=float, default=30.0)
    args = ap.parse_args()
    ls.exit_on_sigterm()

    port = ls.free_port()
    base = "http://127.0.0.1:%d" % port
    log = open(args.log, "ab")
    proc = subprocess.Popen([args.binary, "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    ls.remember_child(proc.pid)
    failures = []
    try:
        if not ls.wait_ready(base, process=proc, limit=120):
            print("shutdown: the server did not become ready")
            return 1

        # Calibrate: a six-month series of department roll-ups, then size the series to --target-seconds.
        probe = "/v1/progress/departments/series?plan=gap-2020-f1&from=2020-01&to=2020-06"
        r = ls.request(base, "GET", probe, token=args.token, timeout=60)
        if r.status != 200:
            print("shutdown: calibration request answered %d: %s" % (r.status, r.body[:200]))
            return 1
        per_month = max(r.elapsed / 6, 0.001)
        months = max(2, min(72, int(round(args.target_seconds / per_month))))
        to_year, to_month = 2020 + (months - 1) // 12, (months - 1) % 12 + 1
        series = "/v1/progress/departments/series?plan=gap-2020-f1&from=2020-01&to=%04d-%02d" % (to_year, to_month)
        export = "/v1/progress/entities?plan=gap-2020-f1&as_of=2021-06&limit=5000&format=csv"
        print("shutdown: calibration %.0f ms per month; %d slow requests (series of %d months, CSV export)"
              % (per_month * 1000, args.concurrency, months))

        results = [None] * args.concurrency
        sent = threading.Barrier(args.concurrency + 1, timeout=30)

        def slow(i):
            path = export if i % 3 == 2 else series
            host, p = ls.split_base(base)
            conn = http.client.HTTPConnection(host, p, timeout=60)
            started = time.monotonic()
            try:
                conn.putrequest("GET", path)
                conn.putheader("Authorization", "Bearer " + args.token)
                conn.endheaders()
                try:
                    sent.wait()
                except threading.BrokenBarrierError:
                    pass
                resp = conn.getresponse()
                body = resp.read()
                ok_body = True
                if "csv" in (resp.getheader("Content-Type") or ""):
                    ok_body = body.endswith(b"\n") and body.count(b"\n") > 100
                else:
                    try:
                        ok_body = len(json.loads(body.decode("utf-8")).get("points", [])) == months
                    except ValueError:
                        ok_body = False
                results[i] = (resp.status, ok_body, len(body), time.monotonic() - started, path)
            except (OSError, http.client.HTTPException) as e:
                results[i] = (None, False, 0, time.monotonic() - started, "%s: %s" % (type(e).__name__, e))
            finally:
                conn.close()

        threads = [threading.Thread(target=slow, args=(i,), daemon=True) for i in range(args.concurrency)]
        for t in threads:
            t.start()
        sent.wait()
        time.sleep(0.3)
        held = ls.http_connections(proc.pid, port)
        # A request the server already answered in full was accepted too (the CSV export can finish within
        # the 0.3 s above since dashboards read maintained rows); what matters is that none was turned away and
        # that most are still running when SIGTERM arrives.
        finished = sum(1 for r in results if r is not None and r[0] == 200)
        print("  connections held by the server before SIGTERM: %d (and %d already answered)" % (held, finished))
        if held + finished < args.concurrency:
            failures.append("only %d of %d slow requests were accepted before SIGTERM" % (held + finished, args.concurrency))
        if held < (args.concurrency + 1) // 2:
            failures.append("only %d of %d slow requests were still in flight at SIGTERM" % (held, args.concurrency))
        term_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)

        # New connections after SIGTERM, while the slow ones still run.
        time.sleep(0.2)
        refused = accepted = other = 0
        still_running_during_probe = 0
        probe_until = time.monotonic() + 1.0
        while time.monotonic() < probe_until:
            still_running_during_probe = max(still_running_during_probe, sum(1 for x in results if x is None))
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", port))
                accepted += 1
            except ConnectionRefusedError:
                refused += 1
            except OSError:
                other += 1
            finally:
                s.close()
            time.sleep(0.05)
        print("  new connections after SIGTERM: %d refused, %d accepted, %d other errors (slow requests still running then: %d)"
              % (refused, accepted, other, still_running_during_probe))
        if accepted or other or not refused:
            failures.append("new connections after SIGTERM were not all refused (%d accepted, %d other)" % (accepted, other))
        if still_running_during_probe == 0:
            failures.append("the slow requests had all finished before the refusal was checked; nothing proved")

        for t in threads:
            t.join(timeout=60)
        for i, res in enumerate(results):
            if res is None:
                failures.append("slow request %d never finished" % i)
                continue
            status, ok_body, size, took, what = res
            if status != 200 or not ok_body:
                failures.append("slow request %d: status %s, complete body %s (%s)" % (i, status, ok_body, what))
        durations = [r[3] for r in results if r]
        if durations:
            print("  slow requests: %d of %d answered 200 with a complete body; %.2f-%.2f s each, %d bytes in all"
                  % (sum(1 for r in results if r and r[0] == 200 and r[1]), len(results), min(durations), max(durations),
                     sum(r[2] for r in results if r)))

        try:
            code = proc.wait(timeout=args.exit_limit)
        except subprocess.TimeoutExpired:
            failures.append("still running %.0f s after SIGTERM" % args.exit_limit)
            code = None
        exit_after = time.monotonic() - term_at
        print("  exit status %s, %.2f s after SIGTERM" % (code, exit_after))
        if code is not None and code != 0:
            failures.append("exit status %d, not 0" % code)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()

    for f in failures:
        print("  FAIL: " + f)
    print("shutdown: %d in-flight requests, %s; new connections refused: %s; exit status %s"
          % (args.concurrency, "all completed with 200" if not any("slow request" in f for f in failures) else "NOT all completed",
             "yes" if not any("refused" in f for f in failures) else "NO", code))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
