#!/usr/bin/env bash
# Benchmarks (figures for BENCHMARKS.md; never a test): wrk against the service and nginx, pgbench on the
# same SQL, and the time to take and export a cut, on the national demo dataset.
# Usage: scripts/bench.sh [BINARY]   (default .build/release/seta; needs wrk and nginx: apt-get install wrk nginx)
set -euo pipefail
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
run_wrk "seta /healthz" 64 "http://127.0.0.1:$PORT/healthz"; SETA_RPS=$(cat "$WORK/last_rps")
run_wrk "nginx same bytes" 64 "http://127.0.0.1:$NGINX_PORT/healthz"; NGINX_RPS=$(cat "$WORK/last_rps")
python3 -c "print(f'seta/nginx throughput ratio: {float(\"$SETA_RPS\")/float(\"$NGINX_RPS\"):.2f}')"
run_wrk "seta /readyz (one database round trip)" 64 "http://127.0.0.1:$PORT/readyz"

echo "== dashboards on the national demo (16 connections, 10 s)"
run_wrk "regions as of 2021-06 (gap-2020-f1)" 16 "http://127.0.0.1:$PORT/v1/progress/regions?plan=gap-2020-f1&as_of=2021-06" "$AUTH"; REG_RPS=$(cat "$WORK/last_rps")
run_wrk "national entity table (100 rows)" 16 "http://127.0.0.1:$PORT/v1/progress/entities?plan=gap-2020-f1&as_of=2021-06&limit=100" "$AUTH"
run_wrk "one entity's progress" 16 "http://127.0.0.1:$PORT/v1/entities/05001/progress?plan=gap-2020-f1&as_of=2021-06" "$AUTH"

echo "== the same regions SQL through pgbench (16 clients, 10 s)"
cat > "$WORK/regions.sql" <<'SQL'
WITH params AS (SELECT 'gap-2020-f1'::text AS plan),
ent AS (SELECT en.entity_code FROM enrolled_at('gap-2020-f1', '2021-06-01'::date) en WHERE TRUE),
prog AS (SELECT * FROM entity_progress_at('gap-2020-f1', 1, '2021-06-01'::date, ARRAY(SELECT entity_code FROM ent))),
grp AS (SELECT ent.entity_code, r.region_code AS gkey, rg.name AS gname FROM ent
          JOIN entity_regions_at('2021-06-01'::date) r ON r.entity_code = ent.entity_code JOIN regions rg ON rg.code = r.region_code),
rows_ AS (SELECT g.entity_code, e.name AS entity_name, p.total, p.phases, p.completed, g.gkey, g.gname
            FROM grp g JOIN prog p ON p.entity_code = g.entity_code JOIN entities e ON e.code = g.entity_code),
stats AS (SELECT r.*, min(r.total) OVER w AS gmin, max(r.total) OVER w AS gmax FROM rows_ r WINDOW w AS (PARTITION BY r.gkey)),
share AS (SELECT r.gkey, ph.key AS phase, (100 * count(*) FILTER (WHERE (r.completed ->> ph.key)::boolean))::numeric / count(*) AS share
            FROM rows_ r CROSS JOIN LATERAL jsonb_each(r.phases) ph WHERE jsonb_typeof(ph.value) <> 'null' GROUP BY r.gkey, ph.key),
shares AS (SELECT gkey, array_agg(phase ORDER BY phase) AS share_phases, array_agg(share::text ORDER BY phase) AS share_values FROM share GROUP BY gkey)
SELECT s.gkey, min(s.gname), count(*), count(s.total), avg(s.total)::text, count(*) FILTER (WHERE s.total = 100),
       min(s.total)::text, max(s.total)::text,
       array_agg(s.entity_code ORDER BY s.entity_code) FILTER (WHERE s.total = s.gmin),
       array_agg(s.entity_code ORDER BY s.entity_code) FILTER (WHERE s.total = s.gmax), sh.share_phases, sh.share_values
  FROM stats s LEFT JOIN shares sh ON sh.gkey = s.gkey GROUP BY s.gkey, sh.share_phases, sh.share_values ORDER BY s.gkey;
SQL
PGB=$("$PGBIN/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -U seta -c 16 -j 2 -T 10 -f "$WORK/regions.sql" seta 2>&1)
PGB_TPS=$(awk '/^tps/{print $3; exit}' <<<"$PGB"); PGB_LAT=$(awk '/latency average/{print $4}' <<<"$PGB")
echo "pgbench regions SQL: $PGB_TPS tps, average latency $PGB_LAT ms"
python3 -c "print(f'service/pgbench ratio (regions): {float(\"$REG_RPS\")/float(\"$PGB_TPS\"):.2f}')"

# What the service really runs per cached regions request: the cache lookup (the roll-up above runs only
# after reports, enrollments or memberships change).
cat > "$WORK/regions-cached.sql" <<'SQL'
SELECT c.cache_key, s.* FROM progress_group_cache c
  LEFT JOIN LATERAL jsonb_to_recordset(c.result) AS s(gkey text, gname text, entity_count int, measured_count int, mean text,
       at_hundred int, min text, max text, lowest text[], highest text[], share_phases text[], share_values text[]) ON true
 WHERE c.cache_key = 'regions|gap-2020-f1|1|2021-06-01|all'
   AND c.progress_stamp = COALESCE((SELECT stamp FROM progress_stamps WHERE plan_code = 'gap-2020-f1'), 0)
   AND c.membership_stamp = (SELECT stamp FROM membership_stamp WHERE id = 1)
 ORDER BY s.gkey;
SQL
PGB2=$("$PGBIN/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -U seta -c 16 -j 2 -T 10 -f "$WORK/regions-cached.sql" seta 2>&1)
PGB2_TPS=$(awk '/^tps/{print $3; exit}' <<<"$PGB2"); PGB2_LAT=$(awk '/latency average/{print $4}' <<<"$PGB2")
echo "pgbench cached regions lookup: $PGB2_TPS tps, average latency $PGB2_LAT ms"
python3 -c "print(f'service/pgbench ratio (regions, cached lookup): {float(\"$REG_RPS\")/float(\"$PGB2_TPS\"):.2f}')"

echo "== cut and export (national, gap-2020-f1, 2021-Q2)"
CUT=$(curl -s -o "$WORK/cut.json" -w '%{time_total}' -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"plan":"gap-2020-f1","period":"2021-Q2","label":"bench"}' "localhost:$PORT/v1/cuts")
ID=$(python3 -c "import json;print(json.load(open('$WORK/cut.json'))['id'])")
echo "take a national cut: ${CUT}s"
for i in 1 2 3 4 5; do curl -s -o "$WORK/cut.csv" -w '%{time_total}\n' -H "$AUTH" -H 'Accept: text/csv' "localhost:$PORT/v1/cuts/$ID/export"; done \
  | sort -n | awk '{a[NR]=$1} END {print "export the cut as CSV (median of 5): " a[3] "s, " }'
echo "CSV rows: $(($(wc -l < "$WORK/cut.csv") - 1)), bytes: $(wc -c < "$WORK/cut.csv")"
echo "== memory"
echo "seta RSS after the runs: $(awk '/VmRSS/{print $2, $3}' /proc/$SETA_PID/status)"

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
