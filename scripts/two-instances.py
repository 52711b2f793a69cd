#!/usr/bin/env python3
"""two-instances.py: two `seta serve` started at the same moment on one fresh database share it correctly.

Usage: scripts/two-instances.py --binary SETA --admin 'host=SOCKET_DIR port=P user=postgres' --app-url APP_DATABASE_URL
                                --database NAME --owner ROLE --schema-dir Schema [--log-dir DIR]

Creates the empty database NAME (owned by ROLE) with psql over --admin (a keyword/value conninfo
without dbname), then starts two `seta serve`
processes with DATABASE_URL=--app-url (which must point at NAME) within the same few milliseconds, on
two free ports. Required:
- both become ready (GET /readyz 200);
- the migrations ran once: schema_migrations has exactly one row per file of --schema-dir, and the
  two logs together report each file applied exactly once;
- a write through one instance is visible through the other, both ways (a token made with the CLI);
- both stop on SIGTERM with exit status 0.
"""

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import time

import live_support as ls


def cli(binary, env, *argv):
    out = subprocess.run([binary] + list(argv), capture_output=True, text=True, env=env, timeout=120)
    return out.returncode, out.stdout, out.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--admin", required=True)
    ap.add_argument("--app-url", required=True)
    ap.add_argument("--database", required=True)
    ap.add_argument("--owner", required=True)
    ap.add_argument("--schema-dir", required=True)
    ap.add_argument("--log-dir", default="/tmp")
    args = ap.parse_args()
    ls.exit_on_sigterm()

    files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(args.schema_dir, "*.sql")))
    ls.psql(args.admin + " dbname=postgres", "CREATE DATABASE %s OWNER %s" % (args.database, args.owner))
    env = dict(os.environ, DATABASE_URL=args.app_url)
    ports = [ls.free_port(), ls.free_port()]
    while ports[1] == ports[0]:
        ports[1] = ls.free_port()
    bases = ["http://127.0.0.1:%d" % p for p in ports]
    logs = [os.path.join(args.log_dir, "two-instances-%s.log" % n) for n in "ab"]
    handles = [open(p, "wb") for p in logs]
    failures = []
    procs = []
    t0 = time.monotonic()
    for port, handle in zip(ports, handles):
        procs.append(subprocess.Popen([args.binary, "serve", "--port", str(port)], stdout=handle,
                                      stderr=subprocess.STDOUT, env=env))
        ls.remember_child(procs[-1].pid)
    spread = time.monotonic() - t0
    print("two-instances: started on ports %d and %d within %.1f ms against a fresh database" % (ports[0], ports[1], spread * 1000))
    try:
        ready = [ls.wait_ready(b, process=p, limit=120) for b, p in zip(bases, procs)]
        print("  ready: %s after %.1f s" % (ready, time.monotonic() - t0))
        if not all(ready):
            failures.append("not both ready (%s); exit statuses %s" % (ready, [p.poll() for p in procs]))
            raise RuntimeError
        recorded = ls.psql("%s dbname=%s" % (args.admin, args.database), "SELECT name FROM schema_migrations ORDER BY version")
        names = [r[0] for r in recorded]
        print("  schema_migrations: %d rows for %d files" % (len(names), len(files)))
        if sorted(names) != files:
            failures.append("schema_migrations %s does not match the files %s" % (names, files))
        applied = []
        for p in logs:
            for line in open(p, encoding="utf-8", errors="replace"):
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("msg") == "migrations applied":
                    applied += event.get("applied") or []
        print("  migrations applied per the logs: %d (%s)" % (len(applied), "each once" if sorted(applied) == files else "NOT each once"))
        if sorted(applied) != files:
            failures.append("the logs report these migrations applied: %s" % applied)

        # A central person and a token, made with the CLI on the shared database.
        email = "two-instances@example.org"
        code, out, err = cli(args.binary, env, "users", "create", "--name", "Dos Instancias", "--email", email, "--role", "central")
        if code != 0:
            failures.append("users create failed: %s" % err.strip())
            raise RuntimeError
        code, out, err = cli(args.binary, env, "tokens", "issue", "--email", email)
        token = next((l.strip() for l in out.splitlines() if l.strip().startswith("seta_")), None)
        if code != 0 or not token:
            failures.append("tokens issue failed: %s" % err.strip())
            raise RuntimeError

        for writer, reader in ((0, 1), (1, 0)):
            plan = "two-%d-%d" % (writer, int(time.time() * 1000) % 100000000)
            body = {"code": plan, "name": "Plan escrito por la instancia %d" % writer, "on_time_day": 10,
                    "phases": [{"code": "F1", "name": "Fase", "weight_in_plan": 100,
                                "milestones": [{"code": "H1", "name": "Hito", "weight_in_phase": 100}]}]}
            w = ls.request(bases[writer], "POST", "/v1/plans", body=body, token=token)
            r = ls.request(bases[reader], "GET", "/v1/plans/" + plan, token=token)
            same = r.status == 200 and r.json().get("name") == body["name"]
            print("  POST /v1/plans through %s: %d; GET through %s: %d (%s)"
                  % ("ab"[writer], w.status, "ab"[reader], r.status, "same plan" if same else "NOT the same"))
            if w.status != 201 or not same:
                failures.append("a write through instance %s is not visible through %s" % ("ab"[writer], "ab"[reader]))

        # Both instances write reports of the same entities and months at once; the maintained progress rows
        # must then equal a computation from scratch (progress_rows_drift, Schema/013).
        db = "%s dbname=%s" % (args.admin, args.database)
        entities = ["05001", "05002", "05004"]
        ls.psql(db, "INSERT INTO enrollments (plan_code, entity_code, from_period) SELECT 'gap-2020-f1', unnest(ARRAY%s), DATE '2020-01-01'"
                % json.dumps(entities).replace('"', "'"))
        import random
        import threading
        statuses = []
        def writer(n):
            rng = random.Random(n)
            for i in range(20):
                month = "2020-%02d" % rng.randint(1, 12)
                items = [{"code": "H%d" % rng.randint(1, 22), "status": rng.choice(["done", "in_progress", "not_started"]),
                          "comment": "dos instancias"} for _ in range(2)]
                if items[0]["code"] == items[1]["code"]:
                    items.pop()
                r = ls.request(bases[(n + i) % 2], "PUT", "/v1/reports/gap-2020-f1/%s/%s" % (rng.choice(entities), month),
                               body={"milestones": items, "comment": "dos instancias"}, token=token)
                statuses.append(r.status)
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        ok = sum(1 for c in statuses if 200 <= c < 300)
        drift = ls.psql_value(db, "SELECT progress_rows_drift('gap-2020-f1')")
        print("  reports written through both instances at once: %d of %d accepted (%s); progress rows differing from a "
              "computation from scratch: %s" % (ok, len(statuses), sorted(set(statuses)), drift))
        if ok == 0 or str(drift).strip() != "0":
            failures.append("maintained progress after concurrent writes through both instances: drift %s, %d accepted"
                            % (drift, ok))
    except RuntimeError:
        pass
    finally:
        codes = []
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                codes.append(p.wait(timeout=30))
            except subprocess.TimeoutExpired:
                p.kill()
                codes.append(p.wait())
        for h in handles:
            h.close()
    print("  exit statuses after SIGTERM: %s" % codes)
    if codes != [0, 0]:
        failures.append("exit statuses %s" % codes)
    for f in failures:
        print("  FAIL: " + f)
    print("two-instances: both up: %s, migrations once: %s, writes shared both ways: %s"
          % ("yes" if not any("ready" in f for f in failures) else "NO",
             "yes" if not any("migration" in f for f in failures) else "NO",
             "yes" if not any("visible" in f or "failed" in f for f in failures) else "NO"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
