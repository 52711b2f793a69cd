#!/usr/bin/env bash
# Times `seta import reports` on ROWS (default 1,000,000) generated past reports, on a fresh database.
#
#   scripts/bench-import.sh [ROWS]
#
# Database: DATABASE_URL when set (it must be empty or throwaway: the script migrates, seeds and enrolls
# into it), otherwise a private PostgreSQL cluster created in a temporary folder and deleted at the end.
# SETA_BIN overrides the binary (default: builds .build/release/seta). The figure goes into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
WORK="$(mktemp -d /tmp/seta-bench.XXXXXX)"
chmod 755 "$WORK"

if [[ -z "${SETA_BIN:-}" ]]; then
    swift build -c release --product seta >&2
    SETA_BIN=.build/release/seta
fi

as_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGBIN="${SETA_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[[ -x "$PGBIN/initdb" ]] || PGBIN="$(dirname "$(command -v initdb)")"

cleanup() {
    if [[ -n "${OWN_CLUSTER:-}" ]]; then as_pg "$PGBIN/pg_ctl" stop -D "$WORK/pgdata" -m fast >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z "${DATABASE_URL:-}" ]]; then
    OWN_CLUSTER=1
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    [[ "$(id -u)" == 0 ]] && chown postgres "$WORK"
    as_pg "$PGBIN/initdb" -D "$WORK/pgdata" -U seta --auth=trust -E UTF8 --locale=C >/dev/null
    as_pg "$PGBIN/pg_ctl" start -D "$WORK/pgdata" -w -l "$WORK/pg.log" \
        -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1" >/dev/null
    as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U seta seta
    export DATABASE_URL="postgresql://seta@127.0.0.1:$PORT/seta"
fi

"$SETA_BIN" migrate >/dev/null
"$SETA_BIN" seed >/dev/null
python3 scripts/gen-reports-csv.py --rows "$ROWS" --out "$WORK/reports.csv" --enrollments-sql "$WORK/enroll.sql"
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$WORK/enroll.sql"

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "importing $ROWS rows ($(du -h "$WORK/reports.csv" | cut -f1))…" >&2
START=$(date +%s.%N)
"$SETA_BIN" import reports "$WORK/reports.csv"
END=$(date +%s.%N)
SECONDS_TAKEN=$(python3 -c "print(f'{$END - $START:.1f}')")
psql -qtA "$DATABASE_URL" -c "SELECT 'reports=' || (SELECT count(*) FROM reports) || ' milestones=' || (SELECT count(*) FROM report_milestones) || ' revisions=' || (SELECT count(*) FROM report_revisions)"
echo "import of $ROWS rows: ${SECONDS_TAKEN} s ($(nproc) cores; load average before: $LOAD)"
