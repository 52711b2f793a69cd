#!/usr/bin/env python3
"""import-crash.py: `kill -9` in the middle of a bulk import of reports leaves nothing behind, and the import then runs.

Usage: scripts/import-crash.py --binary SETA --db SUPERUSER_CONNINFO --workdir DIR [--rows 300000]
                               [--token CENTRAL_TOKEN --http-rows 100000]
(the service's database comes from the environment: DATABASE_URL, SETA_SCHEMA_DIR, SETA_REFERENCE_DATA)

Two crashes, each followed by the same import run to the end:
- CLI: `seta import reports FILE` of --rows rows is killed with SIGKILL while its session runs one of
  the last write statements (the revisions or the milestone values, after it created report heads);
- HTTP (with --token and --http-rows > 0): a `seta serve` started for the purpose receives
  POST /v1/imports/reports with --http-rows rows and is itself killed with SIGKILL during the writes;
  then a new `seta serve` takes the same POST again.
Each file holds valid rows the database does not hold yet (enrolled entities, months not in the future
and not locked, milestones of the current catalog), written with one `\\copy` from the database itself.
Required each time: the counts of reports, report_milestones and report_revisions do not change, right
after the kill and again once the orphaned server session has ended (its transaction rolls back when it
finds the client gone); the second run exits 0 / answers 200 with `committed` and every row created,
and the counts grow by exactly that many milestone values and import revisions.
Exits 77 (skipped) when the binary has no working reports import (the CLI prints no summary for a
one-row dry run); the HTTP part is skipped, with a message, when the route answers 404.
"""

import argparse
import http.client
import os
import signal
import subprocess
import sys
import threading
import time

import live_support as ls

SKIP = 77
# The late writes: by then the transaction has created report heads and bumped revisions, so a partial
# import would be visible in every table if the kill could leave one.
WRITE_STATEMENT = r"(WITH combined|INSERT INTO report_milestones|UPDATE report_milestones)"


def counts(db):
    row = ls.psql(db, """
        SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM report_milestones),
               (SELECT count(*) FROM report_revisions), (SELECT count(*) FROM report_revisions WHERE source = 'import')
        """)[0]
    return tuple(int(x) for x in row)


def fmt(c):
    return "reports %d, milestone values %d, revisions %d (from imports %d)" % c


def candidates_sql(limit):
    # Months from the enrollment start to last month; the milestones of the plan's current catalog.
    return """
        SELECT e.plan_code AS plan, e.entity_code AS entity, to_char(m.month, 'YYYY-MM') AS period,
               pm.code AS milestone, 'in_progress' AS status
          FROM enrollments e
          JOIN plans p ON p.code = e.plan_code
          JOIN plan_milestones pm ON pm.plan_code = p.code AND pm.version = p.current_version
          CROSS JOIN LATERAL generate_series(e.from_period,
                LEAST(COALESCE(e.to_period, 'infinity'::date), (date_trunc('month', now()) - interval '1 month')::date),
                interval '1 month') AS m(month)
         WHERE NOT EXISTS (SELECT 1 FROM report_milestones rm WHERE rm.plan_code = e.plan_code AND rm.entity_code = e.entity_code
                                                               AND rm.period = m.month::date AND rm.milestone_code = pm.code)
           AND NOT EXISTS (SELECT 1 FROM period_locks l WHERE l.plan_code = e.plan_code AND l.period = m.month::date)
         ORDER BY e.plan_code, e.entity_code, m.month, pm.code
         LIMIT %d
        """ % limit


def generate(db, path, rows):
    t = time.monotonic()
    sql = " ".join(candidates_sql(rows).split())
    ls.psql(db, "\\copy (%s) TO %s WITH (FORMAT csv, HEADER)" % (sql, ls.sql_literal(path)), timeout=300)
    n = sum(1 for _ in open(path, encoding="utf-8")) - 1
    print("  %d rows generated in %.1f s (%.1f MB)" % (n, time.monotonic() - t, os.path.getsize(path) / 1e6))
    return n


def run_cli_import(binary, path, dry_run=False, timeout=600):
    cmd = [binary, "import", "reports", path] + (["--dry-run"] if dry_run else [])
    started = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return out.returncode, out.stdout + out.stderr, time.monotonic() - started


def wait_for_writes(db, alive, limit=300):
    """The pid and statement of the session running the import's writes, once it does; None if `alive()` ends first."""
    started = time.monotonic()
    while alive() and time.monotonic() - started < limit:
        found = ls.psql(db, """
            SELECT pid, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity
             WHERE state = 'active' AND pid <> pg_backend_pid() AND query ~* %s
            """ % ls.sql_literal(WRITE_STATEMENT))
        if found:
            return int(found[0][0]), found[0][1]
        time.sleep(0.05)
    return None


def after_kill(db, before, backend, killed_at, failures, orphan_limit=120.0):
    """Counts right after the kill and after the orphaned session ended; both must equal `before`."""
    right_after = counts(db)
    if right_after != before:
        failures.append("right after the kill the counts changed: %s -> %s" % (before, right_after))
    if backend is not None:
        limit = time.monotonic() + orphan_limit
        gone = None
        while time.monotonic() < limit:
            if not ls.psql(db, "SELECT 1 FROM pg_stat_activity WHERE pid = %d" % backend):
                gone = time.monotonic() - killed_at
                break
            time.sleep(0.2)
        if gone is None:
            failures.append("the orphaned session %d still runs %.0f s after the kill" % (backend, orphan_limit))
            ls.psql(db, "SELECT pg_terminate_backend(%d)" % backend)
        else:
            print("  the orphaned session ended %.2f s after the kill" % gone)
    final = counts(db)
    print("  after the kill: " + fmt(final))
    if final != before:
        failures.append("the killed import left rows behind: %s -> %s" % (before, final))
    check_progress(db, failures, "after the kill")
    return final


def check_progress(db, failures, label):
    """The maintained progress rows (Schema/013) equal a computation from scratch: reports and their progress
    commit in one transaction, so a kill between them cannot exist."""
    # A recomputation of every entity-month from scratch: minutes on a loaded 2-core machine, so a long timeout
    # (an oracle, not a timed test).
    drift = str(ls.psql_value(db, "SELECT sum(progress_rows_drift(code)) FROM plans", timeout=600)).strip()
    print("  %s: maintained progress rows differing from a computation from scratch: %s" % (label, drift))
    if drift != "0":
        failures.append("%s: %s maintained progress rows differ from a computation from scratch" % (label, drift))


def check_rerun(db, base_counts, rows, ok, summary, failures, label):
    final = counts(db)
    print("  after the second run: " + fmt(final))
    if not ok or summary.get("committed") is not True:
        failures.append("%s: the second run did not commit: %s" % (label, summary))
    elif summary.get("created") != rows:
        failures.append("%s: the second run created %s rows, expected %d" % (label, summary.get("created"), rows))
    if final[1] - base_counts[1] != rows or final[3] - base_counts[3] != rows:
        failures.append("%s: milestone values grew by %d and import revisions by %d, expected %d"
                        % (label, final[1] - base_counts[1], final[3] - base_counts[3], rows))
    check_progress(db, failures, "%s after the second run" % label)


def cli_crash(args, failures):
    print("CLI: `seta import reports` killed during its writes")
    big = os.path.join(args.workdir, "import-crash-cli.csv")
    rows = generate(args.db, big, args.rows)
    if rows < args.rows:
        failures.append("only %d candidate rows instead of %d" % (rows, args.rows))
    before = counts(args.db)
    print("  before: " + fmt(before))
    proc = subprocess.Popen([args.binary, "import", "reports", big], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ls.remember_child(proc.pid)
    started = time.monotonic()
    found = wait_for_writes(args.db, lambda: proc.poll() is None)
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    status = proc.wait()
    if not alive or found is None:
        failures.append("CLI: could not kill the import during its writes (finished: %s, status %s)" % (not alive, status))
        print("  import output: %s" % proc.stdout.read().decode("utf-8", "replace")[-300:])
    else:
        print("  killed with SIGKILL %.2f s after start, while its session %d ran: %s..." % (killed_at - started, found[0], found[1]))
        if status != -signal.SIGKILL:
            failures.append("CLI: the import did not die of SIGKILL (status %s)" % status)
    base_counts = after_kill(args.db, before, found[0] if found else None, killed_at, failures)
    code, text, took = run_cli_import(args.binary, big)
    summary = ls.summary_fields(text)
    print("  second run: exit %d in %.1f s, summary %s" % (code, took, summary))
    check_rerun(args.db, base_counts, rows, code == 0, summary, failures, "CLI")
    return rows, took, summary


def start_server(args, log):
    port = ls.free_port()
    proc = subprocess.Popen([args.binary, "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    ls.remember_child(proc.pid)
    base = "http://127.0.0.1:%d" % port
    if not ls.wait_ready(base, process=proc, limit=120):
        proc.kill()
        proc.wait()
        return None, None
    return proc, base


def post_import(base, token, data, timeout=600):
    return ls.request(base, "POST", "/v1/imports/reports", body=data, token=token,
                      headers={"Content-Type": "text/csv"}, timeout=timeout)


def http_crash(args, failures):
    print("HTTP: `seta serve` killed during POST /v1/imports/reports")
    log = open(args.server_log, "ab")
    proc, base = start_server(args, log)
    if proc is None:
        failures.append("HTTP: the server for the import did not become ready")
        return None
    try:
        probe = post_import(base, args.token, b"plan,entity,period,milestone,status\n")
        if probe.status in (404, 405):
            print("  SKIPPED: POST /v1/imports/reports answered %d in this binary" % probe.status)
            return None
        path = os.path.join(args.workdir, "import-crash-http.csv")
        rows = generate(args.db, path, args.http_rows)
        data = open(path, "rb").read()
        before = counts(args.db)
        print("  before: " + fmt(before))
        outcome = {}

        def send():
            try:
                r = post_import(base, args.token, data)
                outcome["status"] = r.status
            except (OSError, http.client.HTTPException) as e:
                outcome["error"] = type(e).__name__

        sender = threading.Thread(target=send, daemon=True)
        started = time.monotonic()
        sender.start()
        found = wait_for_writes(args.db, lambda: sender.is_alive() and proc.poll() is None)
        alive = proc.poll() is None and sender.is_alive()
        if alive:
            os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        proc.wait()
        sender.join(timeout=30)
        if not alive or found is None:
            failures.append("HTTP: could not kill the server during the import's writes (answer: %s)" % outcome)
        else:
            print("  server killed with SIGKILL %.2f s after the POST, while session %d ran: %s...; the client got %s"
                  % (killed_at - started, found[0], found[1], outcome.get("error") or outcome.get("status")))
            if "status" in outcome and 200 <= outcome["status"] < 300:
                failures.append("HTTP: the killed import was answered %d" % outcome["status"])
        base_counts = after_kill(args.db, before, found[0] if found else None, killed_at, failures)

        proc, base = start_server(args, log)
        if proc is None:
            failures.append("HTTP: the server did not come back after the kill")
            return None
        t = time.monotonic()
        r = post_import(base, args.token, data)
        took = time.monotonic() - t
        summary = ls.summary_fields(r.body.decode("utf-8", "replace"))
        print("  second POST: %d in %.1f s, summary %s" % (r.status, took, summary))
        check_rerun(args.db, base_counts, rows, r.status == 200, summary, failures, "HTTP")
        return rows, took, summary
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--rows", type=int, default=300000)
    ap.add_argument("--token", default=None)
    ap.add_argument("--http-rows", type=int, default=100000)
    ap.add_argument("--server-log", default="/dev/null")
    args = ap.parse_args()
    ls.exit_on_sigterm()
    os.makedirs(args.workdir, exist_ok=True)

    # Does this binary import reports at all?
    small = os.path.join(args.workdir, "import-probe.csv")
    ls.psql(args.db, "\\copy (%s) TO %s WITH (FORMAT csv, HEADER)" % (" ".join(candidates_sql(1).split()), ls.sql_literal(small)))
    code, text, _ = run_cli_import(args.binary, small, dry_run=True, timeout=120)
    if "rows" not in ls.summary_fields(text):
        print("import-crash: SKIPPED: `seta import reports --dry-run` gives no import summary in this binary "
              "(exit %d, output %r): the reports import is not implemented here" % (code, text.strip()[-200:]))
        return SKIP

    failures = []
    cli = cli_crash(args, failures)
    web = http_crash(args, failures) if args.token and args.http_rows > 0 else None

    for f in failures:
        print("  FAIL: " + f)
    parts = ["CLI %d rows" % cli[0]]
    if web:
        parts.append("HTTP %d rows" % web[0])
    print("import-crash: %s killed mid-write: %s left behind; reruns %s"
          % (" and ".join(parts), "rows" if any("left rows" in f or "changed" in f for f in failures) else "nothing",
             "committed every row" if not any("second run" in f for f in failures) else "FAILED"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
