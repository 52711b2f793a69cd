#!/usr/bin/env python3
"""import-crash.py: `kill -9` of `seta import reports` mid-write leaves nothing behind, and the import then runs.

Usage: scripts/import-crash.py --binary SETA --db SUPERUSER_CONNINFO --workdir DIR [--rows 300000]
(the CLI's database comes from the environment: DATABASE_URL, SETA_SCHEMA_DIR, SETA_REFERENCE_DATA)

1. Writes a CSV of --rows valid report rows (plan, entity, period, milestone, status) that the database
   does not hold yet: enrolled entities, months not in the future and not locked, milestones of the
   current catalog, generated with one `\\copy` from the database itself.
2. Counts reports, report_milestones and report_revisions, starts `seta import reports FILE`, waits
   until its session runs a write statement (INSERT/UPDATE of the report tables) and kills the command
   with SIGKILL while it is still running.
3. The counts must not change: right after the kill, and again once the orphaned server session has
   ended (its transaction is rolled back when it finds the client gone).
4. Runs the same import again to the end: it must exit 0, report committed with every row created,
   and the counts must grow by exactly that many milestone values and revisions.
Exits 77 (skipped) when this binary has no working reports import: the command is unknown or prints no
summary for a one-row dry run.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

import live_support as ls

SKIP = 77
WRITE_STATEMENT = r"(INSERT INTO report|UPDATE report|WITH added AS|WITH combined)"


def counts(db):
    row = ls.psql(db, """
        SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM report_milestones),
               (SELECT count(*) FROM report_revisions), (SELECT count(*) FROM report_revisions WHERE source = 'import')
        """)[0]
    return tuple(int(x) for x in row)


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


def run_import(binary, path, dry_run=False, timeout=600):
    cmd = [binary, "import", "reports", path] + (["--dry-run"] if dry_run else [])
    started = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return out.returncode, out.stdout + out.stderr, time.monotonic() - started


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--rows", type=int, default=300000)
    ap.add_argument("--orphan-limit", type=float, default=120.0)
    args = ap.parse_args()
    ls.exit_on_sigterm()
    os.makedirs(args.workdir, exist_ok=True)
    big = os.path.join(args.workdir, "import-crash.csv")
    small = os.path.join(args.workdir, "import-probe.csv")

    # Does this binary import reports at all?
    ls.psql(args.db, "\\copy (%s) TO %s WITH (FORMAT csv, HEADER)" % (candidates_sql(1).strip().replace("\n", " "), ls.sql_literal(small)))
    code, text, _ = run_import(args.binary, small, dry_run=True, timeout=120)
    probe = ls.summary_fields(text)
    if "rows" not in probe:
        print("import-crash: SKIPPED: `seta import reports --dry-run` gives no import summary in this binary "
              "(exit %d, output %r): the reports import is not implemented here" % (code, text.strip()[-200:]))
        return SKIP

    t = time.monotonic()
    ls.psql(args.db, "\\copy (%s) TO %s WITH (FORMAT csv, HEADER)" % (candidates_sql(args.rows).strip().replace("\n", " "), ls.sql_literal(big)),
            timeout=300)
    rows = sum(1 for _ in open(big, encoding="utf-8")) - 1
    print("import-crash: %d rows generated in %.1f s (%.1f MB)" % (rows, time.monotonic() - t, os.path.getsize(big) / 1e6))
    failures = []
    if rows < args.rows:
        failures.append("only %d candidate rows instead of %d" % (rows, args.rows))

    before = counts(args.db)
    print("  before: reports %d, milestone values %d, revisions %d (from imports %d)" % before)

    # Start the import and kill it during its writes.
    proc = subprocess.Popen([args.binary, "import", "reports", big], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ls.remember_child(proc.pid)
    started = time.monotonic()
    backend = None
    phase = None
    while proc.poll() is None and time.monotonic() - started < 300:
        found = ls.psql(args.db, """
            SELECT pid, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity
             WHERE state = 'active' AND pid <> pg_backend_pid() AND query ~* %s
            """ % ls.sql_literal(WRITE_STATEMENT))
        if found:
            backend, phase = int(found[0][0]), found[0][1]
            break
        time.sleep(0.05)
    killed_at = time.monotonic() - started
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    status = proc.wait()
    if not alive or backend is None:
        failures.append("could not kill the import during its writes (finished: %s, status %s, after %.1f s)"
                        % (not alive, status, killed_at))
        print("  import output: %s" % proc.stdout.read().decode("utf-8", "replace")[-300:])
    else:
        print("  killed with SIGKILL %.2f s after start, while its session %d ran: %s..." % (killed_at, backend, phase))
    if alive and status != -signal.SIGKILL:
        failures.append("the import did not die of SIGKILL (status %s)" % status)

    right_after = counts(args.db)
    if right_after != before:
        failures.append("right after the kill the counts changed: %s -> %s" % (before, right_after))
    # The orphaned session finishes its statement, then finds the client gone and rolls back.
    orphan_gone = None
    if backend is not None:
        limit = time.monotonic() + args.orphan_limit
        while time.monotonic() < limit:
            if not ls.psql(args.db, "SELECT 1 FROM pg_stat_activity WHERE pid = %d" % backend):
                orphan_gone = time.monotonic() - started - killed_at
                break
            time.sleep(0.2)
        if orphan_gone is None:
            failures.append("the orphaned session %d still runs %.0f s after the kill" % (backend, args.orphan_limit))
            ls.psql(args.db, "SELECT pg_terminate_backend(%d)" % backend)
        else:
            print("  the orphaned session ended %.2f s after the kill" % orphan_gone)
    after_kill = counts(args.db)
    print("  after the kill: reports %d, milestone values %d, revisions %d (from imports %d)" % after_kill)
    if after_kill != before:
        failures.append("the killed import left rows behind: %s -> %s" % (before, after_kill))

    # The same import again, to the end.
    code, text, took = run_import(args.binary, big, timeout=600)
    summary = ls.summary_fields(text)
    final = counts(args.db)
    print("  second run: exit %d in %.1f s, summary %s" % (code, took, summary))
    print("  after it: reports %d, milestone values %d, revisions %d (from imports %d)" % final)
    if code != 0 or summary.get("committed") is not True:
        failures.append("the second run did not commit (exit %d): %s" % (code, text.strip()[-300:]))
    elif summary.get("created") != rows:
        failures.append("the second run created %s rows, expected %d" % (summary.get("created"), rows))
    if final[1] - after_kill[1] != rows or final[3] - after_kill[3] != rows:
        failures.append("after the second run milestone values grew by %d and import revisions by %d, expected %d"
                        % (final[1] - after_kill[1], final[3] - after_kill[3], rows))

    for f in failures:
        print("  FAIL: " + f)
    print("import-crash: %d-row import killed mid-write left %s; rerun %s in %.1f s"
          % (rows, "nothing behind" if after_kill == before else "ROWS BEHIND",
             "committed %s rows" % summary.get("created") if summary.get("committed") else "FAILED", took))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
