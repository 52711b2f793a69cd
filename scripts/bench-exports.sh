#!/usr/bin/env bash
# Benchmarks of the cut's exports and report only (issue 12 targets; figures for BENCHMARKS.md, never a test):
# each export of the national cut against psql COPY of the same rows, and the cut report, in one run.
# Usage: scripts/bench-exports.sh [BINARY]   (default .build/release/seta)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-setup.sh


CUT=$(curl -s -o "$WORK/cut.json" -w '%{time_total}' -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"plan":"gap-2020-f1","period":"2021-Q2","label":"bench"}' "localhost:$PORT/v1/cuts")
ID=$(python3 -c "import json;print(json.load(open('$WORK/cut.json'))['id'])")

# ---------------------------------------------------------------- exports vs psql COPY (issue 12, items 1–3)
# Owned by the exports work; other sections above are independent. Target: each export of the national cut
# within 3 × the time psql takes to COPY the same frozen rows out as CSV (client included on both sides).
echo "== cut exports vs psql COPY of the same rows (cut $ID)"
median5() { sort -n | awk '{a[NR]=$1} END {print a[3]}'; }
COPY_SQL="COPY (SELECT entity_code, entity_name, entity_type, department_code, department_name, region_code, region_name,
  advisor_id, advisor_name, partner_code, total, phases, milestones FROM cut_entities WHERE cut_id = $ID ORDER BY entity_code)
  TO STDOUT WITH (FORMAT csv, HEADER)"
COPY_S=$(for i in 1 2 3 4 5; do
  python3 - "$PGBIN/psql" "$DATABASE_URL" "$COPY_SQL" "$WORK/copy.csv" <<'PY'
import subprocess, sys, time
t = time.monotonic()
with open(sys.argv[4], "wb") as f:
    subprocess.run([sys.argv[1], sys.argv[2], "-X", "-q", "-c", sys.argv[3]], stdout=f, check=True)
print("%.4f" % (time.monotonic() - t))
PY
done | median5)
echo "psql COPY of the cut's rows (median of 5): ${COPY_S}s, $(wc -c < "$WORK/copy.csv") bytes"
export_vs_copy() { # label, accept header, query
  local s
  s=$(for i in 1 2 3 4 5; do curl -s -o "$WORK/export.out" -w '%{time_total}\n' -H "$AUTH" -H "Accept: $2" \
      "localhost:$PORT/v1/cuts/$ID/export$3"; done | median5)
  python3 -c "print(f'{\"$1\":<34} median of 5: {float(\"$s\"):.4f}s, $(wc -c < "$WORK/export.out") bytes, {float(\"$s\")/float(\"$COPY_S\"):.2f} × COPY (target ≤ 3)')"
}
export_vs_copy "CSV (default)" "text/csv" ""
export_vs_copy "CSV es-CO, Spanish headers" "text/csv" "?locale=es-CO&lang=es"
export_vs_copy "XLSX workbook (all sheets)" "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ""

echo "== the cut report (target < 1 s)"
for fmt in json xlsx; do
  s=$(for i in 1 2 3 4 5; do curl -s -o "$WORK/report.out" -w '%{time_total}\n' -H "$AUTH" "localhost:$PORT/v1/cuts/$ID/report?format=$fmt"; done | median5)
  echo "GET /v1/cuts/$ID/report?format=$fmt median of 5: ${s}s, $(wc -c < "$WORK/report.out") bytes"
done
