#!/usr/bin/env python3
"""fault-db.py: stops PostgreSQL under a steady write load and checks that no acknowledged write is lost.

Usage: scripts/fault-db.py --base http://127.0.0.1:PORT --token TOKEN --db SUPERUSER_CONNINFO
                           --stop-cmd 'pg_ctl ... stop -m fast' --start-cmd 'pg_ctl ... start -w'
                           [--writers 4] [--warmup 3] [--down 5] [--after 4] [--recover-limit 30]

Writers POST one uniquely marked write after another (POST /v1/asesorias with the marker in `notes`;
POST /v1/plans with the marker as the code when the binary has no asesorías), while a prober asks
GET /readyz. After --warmup seconds the database is stopped (`-m fast`: open sessions are cut, so
writes in flight lose their connection), kept down --down seconds and started again; the load goes on
until the service has answered writes with 2xx for --after seconds (at most --recover-limit seconds
after the restart). The service is never restarted. Then, with psql:
- every write answered 2xx is in the database (acknowledged writes vs rows), none twice;
- rows whose write was answered with an error are counted and listed (allowed: when the session is cut
  right after PostgreSQL committed but before the client library read the answer, the service cannot
  know the outcome and answers 503; what is not allowed is a 2xx for a write that is not there);
- while the database was down the answers were 503 application/problem+json with Retry-After;
  no other 5xx and no dropped connection at any time;
- the service answered writes with 2xx again without being restarted.
Prints the figures and exits 1 on any failure.
"""

import argparse
import datetime
import http.client
import subprocess
import sys
import threading
import time
import uuid

import live_support as ls


class Outcome:
    def __init__(self, marker, started, ended, status=None, error=None, problem_ok=None):
        self.marker = marker
        self.started = started
        self.ended = ended
        self.status = status
        self.error = error
        self.problem_ok = problem_ok


def pick_writer(base, token):
    """The write route: asesorías when the binary has them, else plans with unique codes."""
    try:
        r = ls.request(base, "POST", "/v1/asesorias", body={}, token=token)
        if r.status not in (404, 405):
            return "asesorias"
    except (OSError, http.client.HTTPException):
        pass
    return "plans"


def write_body(kind, marker, held_on):
    if kind == "asesorias":
        return "/v1/asesorias", {"entity": "05001", "held_on": held_on, "modality": "virtual",
                                 "duration_minutes": 30, "notes": marker}
    return "/v1/plans", {
        "code": marker, "name": "Plan de prueba de fallas " + marker, "on_time_day": 10,
        "phases": [{"code": "F1", "name": "Fase única", "weight_in_plan": 100,
                    "milestones": [{"code": "H1", "name": "Hito único", "weight_in_phase": 100}]}]}


def is_problem_503(r):
    """503 with problem+json, a Retry-After and a problem body that says 503."""
    if r.status != 503:
        return False
    if not r.content_type.startswith("application/problem+json") or "retry-after" not in r.headers:
        return False
    try:
        return r.json().get("status") == 503
    except ValueError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--db", required=True, help="conninfo psql uses to count rows (a superuser over the socket)")
    ap.add_argument("--stop-cmd", required=True)
    ap.add_argument("--start-cmd", required=True)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--down", type=float, default=5.0)
    ap.add_argument("--after", type=float, default=4.0)
    ap.add_argument("--recover-limit", type=float, default=30.0)
    ap.add_argument("--pace", type=float, default=0.01, help="seconds each writer waits between writes")
    args = ap.parse_args()
    ls.exit_on_sigterm()

    kind = pick_writer(args.base, args.token)
    run = uuid.uuid4().hex[:10]
    prefix = ("faultdb-%s-" % run) if kind == "asesorias" else ("fdb-%s-" % run)
    held_on = (datetime.date.today() - datetime.timedelta(days=2)).isoformat()
    print("fault-db: %d writers on POST /v1/%s (marker %s*), database down %.0f s after %.0f s"
          % (args.writers, kind, prefix, args.down, args.warmup))

    outcomes = []
    probes = []  # (time, status or error) of GET /readyz
    lock = threading.Lock()
    stop = threading.Event()
    counter = [0]

    def writer():
        while not stop.is_set():
            with lock:
                counter[0] += 1
                marker = "%s%06d" % (prefix, counter[0])
            path, body = write_body(kind, marker, held_on)
            started = time.monotonic()
            try:
                r = ls.request(args.base, "POST", path, body=body, token=args.token, timeout=20)
                o = Outcome(marker, started, time.monotonic(), status=r.status,
                            problem_ok=is_problem_503(r) if r.status == 503 else None)
                if r.status >= 500 and r.status != 503:
                    o.error = r.body[:300].decode("utf-8", "replace")
                elif 400 <= r.status < 500:
                    o.error = r.body[:300].decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as e:
                o = Outcome(marker, started, time.monotonic(), error="%s: %s" % (type(e).__name__, e))
            with lock:
                outcomes.append(o)
            time.sleep(args.pace)

    def prober():
        while not stop.is_set():
            at = time.monotonic()
            try:
                r = ls.request(args.base, "GET", "/readyz", timeout=10)
                probes.append((at, r.status, is_problem_503(r) if r.status == 503 else None))
            except (OSError, http.client.HTTPException) as e:
                probes.append((at, "%s" % type(e).__name__, None))
            time.sleep(0.2)

    threads = [threading.Thread(target=writer, daemon=True) for _ in range(args.writers)]
    threads.append(threading.Thread(target=prober, daemon=True))
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(args.warmup)

    stop_at = time.monotonic()
    rc = subprocess.run(args.stop_cmd, shell=True, capture_output=True, text=True, timeout=60)
    stopped_at = time.monotonic()
    print("  database stopped in %.2f s (exit %d)" % (stopped_at - stop_at, rc.returncode))
    time.sleep(args.down)
    start_at = time.monotonic()
    rc2 = subprocess.run(args.start_cmd, shell=True, capture_output=True, text=True, timeout=60)
    started_at = time.monotonic()
    print("  database started again in %.2f s (exit %d)" % (started_at - start_at, rc2.returncode))
    if rc.returncode != 0 or rc2.returncode != 0:
        print("  stop/start failed: %s %s" % (rc.stderr.strip(), rc2.stderr.strip()))

    # Wait for --after seconds of uninterrupted 2xx writes, bounded by --recover-limit.
    recovered_at = None
    deadline = started_at + args.recover_limit
    while time.monotonic() < deadline:
        time.sleep(0.2)
        with lock:
            done = [o for o in outcomes if o.started >= started_at]
        ok = [o for o in done if o.status is not None and 200 <= o.status < 300]
        if ok and recovered_at is None:
            recovered_at = min(o.ended for o in ok)
        if recovered_at is not None:
            since = [o for o in done if o.started >= recovered_at]
            if time.monotonic() - recovered_at >= args.after and all(o.status is not None and 200 <= o.status < 300 for o in since):
                break
            if any(not (o.status is not None and 200 <= o.status < 300) for o in since):
                recovered_at = None  # not steady yet: measure again from the next success
    stop.set()
    for t in threads:
        t.join(timeout=30)
    total_time = time.monotonic() - t0

    failures = []
    acked = [o for o in outcomes if o.status is not None and 200 <= o.status < 300]
    refused = [o for o in outcomes if o.status == 503]
    bad_503 = [o for o in refused if not o.problem_ok]
    other_5xx = [o for o in outcomes if o.status is not None and o.status >= 500 and o.status != 503]
    client_4xx = [o for o in outcomes if o.status is not None and 400 <= o.status < 500]
    dropped = [o for o in outcomes if o.status is None]
    during = [o for o in outcomes if o.started >= stopped_at and o.ended <= start_at]
    # Writes that were running while `pg_ctl stop -m fast` cut the sessions: their answers must be errors
    # unless the row is there (checked below with every other 2xx).
    in_flight = [o for o in outcomes if o.started < stopped_at and o.ended > stop_at]
    during_ok = [o for o in during if o.status is not None and 200 <= o.status < 300]
    probes_down = [p for p in probes if stopped_at <= p[0] < start_at]

    print("  writes sent: %d; answered 2xx: %d; 503: %d; other 5xx: %d; 4xx: %d; no answer: %d"
          % (len(outcomes), len(acked), len(refused), len(other_5xx), len(client_4xx), len(dropped)))
    print("  writes in flight when the database was stopped: %d (answered 2xx: %d, 503: %d)"
          % (len(in_flight), sum(1 for o in in_flight if o.status is not None and 200 <= o.status < 300),
             sum(1 for o in in_flight if o.status == 503)))
    print("  writes started and answered while the database was down: %d (2xx among them: %d)" % (len(during), len(during_ok)))
    print("  GET /readyz while down: %d probes, %d answered 503 problem+json"
          % (len(probes_down), sum(1 for p in probes_down if p[1] == 503 and p[2])))
    if recovered_at is not None:
        print("  first 2xx write %.2f s after the database was started again" % (recovered_at - started_at))
    else:
        failures.append("no steady 2xx writes within %.0f s of restarting the database" % args.recover_limit)

    if not refused:
        failures.append("no 503 seen while the database was down")
    if bad_503:
        failures.append("%d 503 answers without problem+json / Retry-After" % len(bad_503))
    if other_5xx:
        failures.append("%d answers with other 5xx, e.g. %s %s" % (len(other_5xx), other_5xx[0].status, other_5xx[0].error))
    if client_4xx:
        failures.append("%d answers 4xx, e.g. %s %s" % (len(client_4xx), client_4xx[0].status, client_4xx[0].error))
    if dropped:
        failures.append("%d writes got no HTTP answer, e.g. %s" % (len(dropped), dropped[0].error))
    if during_ok:
        failures.append("%d writes answered 2xx while the database was down" % len(during_ok))

    # Acknowledged writes against rows.
    if kind == "asesorias":
        sql = "SELECT notes FROM asesorias WHERE notes LIKE %s" % ls.sql_literal(prefix + "%")
    else:
        sql = "SELECT code FROM plans WHERE code LIKE %s" % ls.sql_literal(prefix + "%")
    rows = [r[0] for r in ls.psql(args.db, sql)]
    present = set(rows)
    missing = [o.marker for o in acked if o.marker not in present]
    duplicates = len(rows) - len(present)
    answered_error = set(o.marker for o in outcomes if not (o.status is not None and 200 <= o.status < 300))
    committed_despite_error = sorted(present & answered_error)
    print("  acknowledged writes checked: %d; rows found: %d; missing: %d; duplicated: %d"
          % (len(acked), len(rows), len(missing), duplicates))
    print("  rows committed although the write was answered with an error: %d" % len(committed_despite_error))
    by_marker = {o.marker: o for o in outcomes}
    for m in committed_despite_error[:5]:
        o = by_marker[m]
        print("    %s: answered %s, sent %.3f s %s the stop command began, answered %.3f s after it"
              % (m, o.status or o.error, abs(o.started - stop_at), "before" if o.started < stop_at else "after", o.ended - stop_at))
    if missing:
        failures.append("%d acknowledged writes are missing, e.g. %s" % (len(missing), missing[:3]))
    if duplicates:
        failures.append("%d rows duplicated" % duplicates)
    unknown = present - set(o.marker for o in outcomes)
    if unknown:
        failures.append("%d rows with markers never sent" % len(unknown))

    for f in failures:
        print("  FAIL: " + f)
    print("fault-db: %d writes (%d acknowledged, all present: %s), %d answered 503 while down, recovered in %s, %.0f s"
          % (len(outcomes), len(acked), "yes" if not missing else "NO", len(refused),
             ("%.1f s" % (recovered_at - started_at)) if recovered_at is not None else "never", total_time))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
