#!/usr/bin/env python3
"""Writes a deterministic CSV of past monthly reports for `seta import reports` (benchmarks, demos).

Every row is one milestone of one enrolled entity in one month, in the import's columns:
plan,entity,period,milestone,status,achieved_on,evidence,reported_at,advisor_email

Enrollments (the same every run): Fase I (gap-2020-f1) serves every DIVIPOLA municipality and every
gobernación; Fase II (gap-2020-f2) every third municipality and every gobernación. `--enrollments-sql`
writes the INSERTs that enroll them, for a database seeded with `seta seed`.

Months run from --from (2020-03) on, each month every enrolled entity reports every milestone of its
plan, until --rows rows are written. A milestone starts and is done at months fixed by a hash of
(plan, entity, milestone), so statuses only move forward, a few are not applicable, and reports arrive
between day 1 and day 20 of the next month (so some are late).
"""
import argparse
import csv
import hashlib
import os
import sys

HEADER = ["plan", "entity", "period", "milestone", "status", "achieved_on", "evidence", "reported_at", "advisor_email"]


def h(*parts):
    return int.from_bytes(hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest(), "big")


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", default="-", help="CSV file (default: standard output)")
    ap.add_argument("--from", dest="start", default="2020-03", help="first month, YYYY-MM")
    ap.add_argument("--data-dir", default=os.path.join(root, "Data"))
    ap.add_argument("--enrollments-sql", help="also write the enrollment INSERTs here")
    args = ap.parse_args()

    with open(os.path.join(args.data_dir, "divipola-municipios.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    municipalities = sorted(r["dane_code"] for r in rows)
    departments = sorted({r["department_code"] for r in rows} - {"11"})   # Bogotá D.C. has no gobernación
    with open(os.path.join(args.data_dir, "catalog-gobierno-al-plan-2020.csv"), encoding="utf-8") as f:
        catalog = list(csv.DictReader(f))
    milestones = {}
    for r in catalog:
        milestones.setdefault(r["plan_code"], []).append(r["milestone_code"])

    enrolled = {
        "gap-2020-f1": municipalities + departments,
        "gap-2020-f2": municipalities[::3] + departments,
    }
    if args.enrollments_sql:
        with open(args.enrollments_sql, "w", encoding="utf-8") as f:
            for plan, entities in enrolled.items():
                values = ",\n".join(f"('{plan}', '{e}', DATE '2020-01-01')" for e in entities)
                f.write(f"INSERT INTO enrollments (plan_code, entity_code, from_period) VALUES\n{values};\n")

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8", newline="")
    NA_ALLOWED = {("gap-2020-f1", "H16"), ("gap-2020-f1", "H20")}
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    year, month = map(int, args.start.split("-"))
    written = 0
    index = 0
    while written < args.rows:
        period = f"{year:04d}-{month:02d}"
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        for plan, entities in enrolled.items():
            for entity in entities:
                arrival = 1 + h("arrival", plan, entity, period) % 20
                reported_at = f"{ny:04d}-{nm:02d}-{arrival:02d}T{8 + arrival % 10:02d}:15:00"
                for code in milestones[plan]:
                    if written >= args.rows:
                        break
                    k = h(plan, entity, code)
                    starts, lasts = k % 12, 1 + (k >> 8) % 10
                    # Only milestones whose catalog allows it may be "no aplica" (Fase I H16 and H20, issue 13).
                    if (k >> 16) % 40 == 0 and (plan, code) in NA_ALLOWED:
                        status, achieved, evidence = "not_applicable", "", ""
                    elif index < starts:
                        status, achieved, evidence = "not_started", "", ""
                    elif index < starts + lasts:
                        status, achieved, evidence = "in_progress", "", ""
                    else:
                        status = "done"
                        done_index = starts + lasts
                        dy, dm = divmod(int(args.start[:4]) * 12 + int(args.start[5:]) - 1 + done_index, 12)
                        achieved = f"{dy:04d}-{dm + 1:02d}-{1 + (k >> 24) % 28:02d}"
                        evidence = f"Acta {k % 1000}, folio {(k >> 4) % 100}" if (k >> 32) % 3 == 0 else ""
                    w.writerow([plan, entity, period, code, status, achieved, evidence, reported_at, ""])
                    written += 1
        year, month = ny, nm
        index += 1
    if out is not sys.stdout:
        out.close()
    print(f"{written} rows, months {args.start}..{period}", file=sys.stderr)


if __name__ == "__main__":
    main()
