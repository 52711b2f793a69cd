#!/usr/bin/env python3
"""Reporting-day writers for scripts/bench.sh: PUT monthly reports at a steady rate to random entities.

Usage: reporting_day.py BASE_URL TOKEN PLAN MONTH RATE SECONDS CODES_FILE MILESTONES
Prints one JSON line: writes sent, non-2xx count, p50 and p99 latency in ms. Bounded in count and time, loopback only.
"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse


def main():
    base, token, plan, month, rate, seconds, codes_file, milestones = sys.argv[1:9]
    rate, seconds = float(rate), float(seconds)
    codes = [c.strip() for c in open(codes_file) if c.strip()]
    milestones = milestones.split(",")
    url = urllib.parse.urlparse(base)
    assert url.hostname in ("127.0.0.1", "localhost"), "loopback only"
    latencies, failures, lock = [], [0], threading.Lock()
    rng = random.Random(2026)
    total = int(rate * seconds)

    def one(i):
        code = rng.choice(codes)
        items = [{"code": m, "status": rng.choice(["done", "in_progress"]), "comment": "jornada de reporte"}
                 for m in rng.sample(milestones, k=min(3, len(milestones)))]
        body = json.dumps({"milestones": items, "comment": "jornada de reporte"})
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        t0 = time.perf_counter()
        try:
            conn.request("PUT", f"/v1/reports/{plan}/{code}/{month}", body=body,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            ok = 200 <= r.status < 300
            if not ok and i < 3:
                sys.stderr.write(f"write {i}: {r.status}\n")
        except Exception as e:  # a failed write counts as non-2xx
            ok = False
            sys.stderr.write(f"write {i}: {e}\n")
        finally:
            conn.close()
        dt = (time.perf_counter() - t0) * 1000
        with lock:
            latencies.append(dt)
            if not ok:
                failures[0] += 1

    threads = []
    start = time.perf_counter()
    for i in range(total):
        # Steady rate: each write starts at its slot, whatever the previous ones are doing.
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=one, args=(i,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join(timeout=60)
    latencies.sort()
    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else None
    print(json.dumps({"writes": len(latencies), "non_2xx": failures[0], "p50_ms": pct(0.50), "p99_ms": pct(0.99)}))


if __name__ == "__main__":
    main()
