#!/usr/bin/env bash
# Benchmarks (figures for BENCHMARKS.md; never a test): wrk against the service and nginx, pgbench on the
# same SQL, and the time to take and export a cut, on the national demo dataset.
# Usage: scripts/bench.sh [BINARY]   (default .build/release/seta; needs wrk and nginx: apt-get install wrk nginx)
# PEER_URL=http://host:port (optional): a peer service (e.g. Hummingbird 2) serving /healthz and /readyz, measured
# in the same run with the same wrk settings. It should run on a machine like this one; none is on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-setup.sh

run_wrk() { # label, connections, url, [header]
  local out
  if [ -n "${4:-}" ]; then out=$(wrk -t2 -c"$2" -d10s --latency -H "$4" "$3"); else out=$(wrk -t2 -c"$2" -d10s --latency "$3"); fi
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  errs=$(awk '/Non-2xx/{print $4}' <<<"$out"); errs=${errs:-0}
  printf '%-42s c=%-3s %10s req/s  p50 %-8s p99 %-8s non-2xx %s\n' "$1" "$2" "$rps" "$p50" "$p99" "$errs"
  echo "$rps"  > "$WORK/last_rps"
}

# nginx serving the same bytes as /healthz.
BODY=$(curl -s "localhost:$PORT/healthz")
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1; pid $WORK/nginx.pid; error_log $WORK/nginx.err; daemon on;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$NGINX_PORT;
  location /healthz { default_type application/json; return 200 '$BODY'; } } }
NGX
nginx -c "$WORK/nginx.conf"

echo "== HTTP server (64 connections, 10 s)"
ratio() { python3 -c "import sys; a, b = float(sys.argv[2] or 0), float(sys.argv[3] or 0); print(f'{sys.argv[1]}: {a / b:.2f}' if b else f'{sys.argv[1]}: n/a')" "$@"; }
run_wrk "seta /healthz" 64 "http://127.0.0.1:$PORT/healthz"; SETA_RPS=$(cat "$WORK/last_rps")
run_wrk "nginx same bytes" 64 "http://127.0.0.1:$NGINX_PORT/healthz"; NGINX_RPS=$(cat "$WORK/last_rps")
ratio "seta/nginx throughput ratio" "$SETA_RPS" "$NGINX_RPS"
run_wrk "seta /readyz (one database round trip)" 64 "http://127.0.0.1:$PORT/readyz"; READY_RPS=$(cat "$WORK/last_rps")
if [ -n "${PEER_URL:-}" ]; then
  run_wrk "peer /healthz ($PEER_URL)" 64 "$PEER_URL/healthz"; PEER_RPS=$(cat "$WORK/last_rps")
  ratio "seta/peer throughput ratio (/healthz)" "$SETA_RPS" "$PEER_RPS"
  run_wrk "peer /readyz ($PEER_URL)" 64 "$PEER_URL/readyz"; PEER_READY_RPS=$(cat "$WORK/last_rps")
  ratio "seta/peer throughput ratio (/readyz)" "$READY_RPS" "$PEER_READY_RPS"
else
  echo "peer: not measured (set PEER_URL to a Hummingbird 2 service serving /healthz and /readyz)"
fi
# /readyz against PostgreSQL's own ceiling for one round trip at the same concurrency.
echo "SELECT 1;" > "$WORK/select1.sql"
PGB1=$("$PGBIN/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -U seta -c 64 -j 2 -T 10 -f "$WORK/select1.sql" seta 2>&1)
PGB1_TPS=$(awk '/^tps/{print $3; exit}' <<<"$PGB1"); PGB1_LAT=$(awk '/latency average/{print $4}' <<<"$PGB1")
echo "pgbench SELECT 1 (64 clients, 2 threads, 10 s): $PGB1_TPS tps, average latency $PGB1_LAT ms"
ratio "seta /readyz / pgbench SELECT 1" "$READY_RPS" "$PGB1_TPS"
# 1,000 idle kept-alive connections: each sends one /healthz, then all stay open while the RSS is read.
python3 - "$PORT" "$SETA_PID" <<'PY'
import socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def rss():
    return next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS"))
before = rss()
conns = []
for _ in range(1000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
    conns.append(s)
for s in conns:
    data = b""
    while not (b"\r\n\r\n" in data and data.endswith(b"}")):
        chunk = s.recv(4096)
        if not chunk: break
        data += chunk
time.sleep(1)
print(f"seta RSS with 1,000 idle keep-alive connections: {rss() / 1024:.1f} MB (before opening them: {before / 1024:.1f} MB)")
for s in conns: s.close()
PY

echo "== dashboards on the national demo, quiet (16 connections, 10 s)"
Q="plan=gap-2020-f1"
R_REGIONS="http://127.0.0.1:$PORT/v1/progress/regions?$Q&as_of=2021-06"
R_SERIES="http://127.0.0.1:$PORT/v1/progress/regions/series?$Q&from=2020-01&to=2022-12"
R_RANKING="http://127.0.0.1:$PORT/v1/rankings/advisors?$Q&period=2021-06"
R_TABLE="http://127.0.0.1:$PORT/v1/progress/entities?$Q&as_of=2021-06&limit=100"
R_ENTITY="http://127.0.0.1:$PORT/v1/entities/05001/progress?$Q&as_of=2021-06"
dashboards() { # label suffix
  run_wrk "regions as of 2021-06$1" 16 "$R_REGIONS" "$AUTH"; echo "$(cat "$WORK/last_rps")" > "$WORK/regions_rps$2"
  run_wrk "regional series 2020-01..2022-12$1" 16 "$R_SERIES" "$AUTH"
  run_wrk "advisor ranking$1" 16 "$R_RANKING" "$AUTH"
  run_wrk "national entity table (100 rows)$1" 16 "$R_TABLE" "$AUTH"
  run_wrk "one entity's progress$1" 16 "$R_ENTITY" "$AUTH"
}
dashboards "" ""
REG_RPS=$(cat "$WORK/regions_rps")

echo "== reporting day: 5 report writes/s to random entities of the current month, while 16 connections read"
MONTH=$(date -u +%Y-%m)
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U seta -At seta \
  -c "SELECT entity_code FROM enrollments WHERE plan_code = 'gap-2020-f1' ORDER BY 1" > "$WORK/codes.txt"
MS=$("$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U seta -At seta \
  -c "SELECT string_agg(m.code, ',' ORDER BY m.position) FROM plan_milestones m JOIN plans p ON p.code = m.plan_code AND p.current_version = m.version WHERE p.code = 'gap-2020-f1'")
python3 scripts/reporting_day.py "http://127.0.0.1:$PORT" "$TOKEN" gap-2020-f1 "$MONTH" 5 66 "$WORK/codes.txt" "$MS" > "$WORK/writes.json" &
WRITERS=$!
sleep 1
dashboards " [5 writes/s]" "_busy"
# The month being reported: every write invalidates its roll-ups, so readers recompute after each one.
run_wrk "regions as of $MONTH (written) [5 writes/s]" 16 "http://127.0.0.1:$PORT/v1/progress/regions?$Q&as_of=$MONTH" "$AUTH"
wait "$WRITERS"
echo "writes during the reads: $(cat "$WORK/writes.json")"

echo "== a 36-month series right after a write (5 times)"
for i in 1 2 3 4 5; do
  CODE=$(shuf -n1 "$WORK/codes.txt")
  curl -s -o /dev/null -X PUT -H "$AUTH" -H 'Content-Type: application/json' \
    -d '{"milestones":[{"code":"H1","status":"done","comment":"serie"}]}' "localhost:$PORT/v1/reports/gap-2020-f1/$CODE/$MONTH"
  curl -s -o /dev/null -w '%{time_total}\n' -H "$AUTH" "$R_SERIES"
done | awk '{printf "series right after a write: %.1f ms\n", $1*1000}'

echo "== the regions statement through pgbench (16 clients, 10 s)"
# The exact statement the service sends (guard included), taken from PostgreSQL's log with its values inlined.
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U seta -q seta -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
curl -s -o /dev/null -H "$AUTH" "$R_REGIONS"
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U seta -q seta -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
python3 scripts/capture_statement.py "$WORK/pg.log" > "$WORK/regions.sql"
echo "regions statement: $(wc -c < "$WORK/regions.sql") bytes"
PGB=$(PGOPTIONS="-c jit=off -c work_mem=32MB" "$PGBIN/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -U seta -c 16 -j 2 -T 10 -f "$WORK/regions.sql" seta 2>&1)
PGB_TPS=$(awk '/^tps/{print $3; exit}' <<<"$PGB"); PGB_LAT=$(awk '/latency average/{print $4}' <<<"$PGB")
echo "pgbench regions statement: $PGB_TPS tps, average latency $PGB_LAT ms"
python3 -c "print(f'service/pgbench ratio (regions): {float(\"$REG_RPS\")/float(\"$PGB_TPS\"):.2f}')"
PGOPTIONS="-c jit=off -c work_mem=32MB" "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U seta seta -c "EXPLAIN (ANALYZE, BUFFERS) $(sed "s/;$//" "$WORK/regions.sql")" > "$WORK/regions.explain" 2>&1 || true
echo "regions statement, EXPLAIN ANALYZE: $(grep -E 'Execution Time|Planning Time' "$WORK/regions.explain" | tr '\n' ' ')"

echo "== cut and export (national, gap-2020-f1, 2021-Q2)"
CUT=$(curl -s -o "$WORK/cut.json" -w '%{time_total}' -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"plan":"gap-2020-f1","period":"2021-Q2","label":"bench"}' "localhost:$PORT/v1/cuts")
ID=$(python3 -c "import json;print(json.load(open('$WORK/cut.json'))['id'])")
echo "take a national cut: ${CUT}s"
for i in 1 2 3 4 5; do curl -s -o "$WORK/cut.csv" -w '%{time_total}\n' -H "$AUTH" -H 'Accept: text/csv' "localhost:$PORT/v1/cuts/$ID/export"; done \
  | sort -n | awk '{a[NR]=$1} END {print "export the cut as CSV (median of 5): " a[3] "s, " }'
echo "CSV rows: $(($(wc -l < "$WORK/cut.csv") - 1)), bytes: $(wc -c < "$WORK/cut.csv")"
for i in 1 2 3 4 5; do
  /usr/bin/time -f '%e' "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U seta -q seta \
    -c "COPY (SELECT * FROM cut_entities WHERE cut_id = $ID ORDER BY entity_code) TO STDOUT WITH (FORMAT csv, HEADER)" 2>&1 >/dev/null
done | sort -n | awk '{a[NR]=$1} END {print "psql COPY of the same cut rows (median of 5): " a[3] "s"}'
echo "== memory"
echo "seta RSS after the runs: $(awk '/VmRSS/{print $2, $3}' /proc/$SETA_PID/status)"

# ---------------------------------------------------------------- exports vs psql COPY (issue 12, items 1–3)
source scripts/bench-export-copy.sh
