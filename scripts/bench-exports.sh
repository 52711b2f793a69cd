#!/usr/bin/env bash
# Benchmarks of the cut's exports and report only (issue 12 targets; figures for BENCHMARKS.md, never a test):
# each export of the national cut against psql COPY of the same rows, and the cut report, in one run.
# Usage: scripts/bench-exports.sh [BINARY]   (default .build/release/seta)
set -euo pipefail
ulimit -n 8192 2>/dev/null || true   # 1,000 idle connections are opened below
cd "$(dirname "$0")/.."
BIN=$(readlink -f "${1:-.build/release/seta}")
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/seta-bench-XXXXXX); chmod 755 "$WORK"; chown postgres "$WORK"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port); PORT=$(free_port); NGINX_PORT=$(free_port)
cleanup() {
  [ -n "${SETA_PID:-}" ] && kill "$SETA_PID" 2>/dev/null && wait "$SETA_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" stop -m fast >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -U seta --auth=trust -E UTF8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w start \
  -o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U seta seta
export DATABASE_URL="postgresql://seta@127.0.0.1:$PGPORT/seta"
SETA_LOG="$WORK/seta.log"
"$BIN" serve --port "$PORT" --demo >"$SETA_LOG" 2>&1 & SETA_PID=$!
for _ in $(seq 1 120); do curl -fs "localhost:$PORT/readyz" >/dev/null 2>&1 && break; sleep 1; done
"$BIN" users create --name Bench --email bench@example.org --role central >/dev/null 2>&1
TOKEN=$("$BIN" tokens issue --email bench@example.org 2>/dev/null)
AUTH="Authorization: Bearer $TOKEN"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); date: $(date -u +%F)"


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
