#!/usr/bin/env bash
# Live robustness checks of a built `seta` binary (issue 7): contract, malformed HTTP, slow clients,
# database faults, shutdown, kill -9 during an import, two instances, injection and secrets, docker-compose,
# and a cut's XLSX and es-CO CSV read by spreadsheet code (issue 12).
#
#   scripts/live-checks.sh BINARY            e.g. scripts/live-checks.sh .build/release/seta
#
# Starts a private PostgreSQL cluster in a temporary folder under /tmp (as the `postgres` user, on a free
# loopback port, password authentication over TCP), creates a role with a password and a database, runs
# `seta serve --demo` against it through DATABASE_URL on a free port, makes a central-team user and token
# with the CLI, then runs each check bounded in time. Everything is removed on exit, failure included;
# the logs stay in .build/live-checks/ (or $LIVE_CHECKS_LOG_DIR). Prints one line per check and then
# `live-checks: N passed, M failed`; the exit status is 1 when any check failed. See docs/reliability.md.
#
# Knobs (environment): LIVE_CHECKS_FUZZ_COUNT (10000), LIVE_CHECKS_IMPORT_ROWS (300000, CLI import killed),
# LIVE_CHECKS_HTTP_IMPORT_ROWS (100000, server killed during POST /v1/imports/reports; 0 to leave it out),
# LIVE_CHECKS_SCHEMATHESIS_SECONDS (360; every check in every phase takes about 2 minutes here), LIVE_CHECKS_ONLY (space-separated check names to run; all when unset).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export PYTHONDONTWRITEBYTECODE=1

BIN=${1:?usage: scripts/live-checks.sh BINARY}
BIN=$(readlink -f "$BIN")
[ -x "$BIN" ] || { echo "live-checks: $BIN is not an executable" >&2; exit 2; }

FUZZ_COUNT=${LIVE_CHECKS_FUZZ_COUNT:-10000}
IMPORT_ROWS=${LIVE_CHECKS_IMPORT_ROWS:-300000}
HTTP_IMPORT_ROWS=${LIVE_CHECKS_HTTP_IMPORT_ROWS:-100000}
SCHEMATHESIS_SECONDS=${LIVE_CHECKS_SCHEMATHESIS_SECONDS:-360}
ONLY=${LIVE_CHECKS_ONLY:-}
LOGDIR=${LIVE_CHECKS_LOG_DIR:-$ROOT/.build/live-checks}

if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
  PG_BIN=/usr/lib/postgresql/15/bin
else
  PG_BIN=${SETA_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
fi
[ -x "$PG_BIN/initdb" ] || { echo "live-checks: no PostgreSQL server binaries (initdb) found" >&2; exit 2; }
command -v psql >/dev/null || { echo "live-checks: psql is missing" >&2; exit 2; }
# PostgreSQL refuses to run as root: as root the cluster runs as `postgres`, otherwise as the caller.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "live-checks: the postgres user is missing (scripts/install-deps.sh)" >&2; exit 2; }
  as_postgres() { runuser -u postgres -- "$@"; }
else
  as_postgres() { "$@"; }
fi

# Many client connections in one process (slowloris: 1,500) need descriptors on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
WORK=$(mktemp -d /tmp/seta-live.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/sock"
[ "$(id -u)" = 0 ] && chown postgres "$WORK" "$WORK/sock"
PIDFILE="$WORK/children.pids"
: > "$PIDFILE"
export LIVE_CHECKS_PIDFILE=$PIDFILE
PGDATA_DIR="$WORK/pgdata"
SERVER_PID=
STARTED_AT=$SECONDS

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port)
PG_OPTS="-p $PGPORT -k $WORK/sock -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on"
pg_start() { as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -o "$PG_OPTS" -l "$WORK/postgres.log" -w -t 60 start >/dev/null; }

# Stops what this script started (by pid: the server, children the checks recorded), then the cluster.
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pids="$SERVER_PID $(cat "$PIDFILE" 2>/dev/null)"
  for pid in $pids; do
    # Only a process still running this binary (pids are not reused that fast, but check anyway).
    if [ -n "$pid" ] && [ "$(readlink -f /proc/"$pid"/exe 2>/dev/null)" = "$BIN" ]; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in $pids; do
    for _ in $(seq 1 50); do [ -d /proc/"$pid" ] || break; sleep 0.1; done
    if [ "$(readlink -f /proc/"$pid"/exe 2>/dev/null)" = "$BIN" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  cp "$WORK/postgres.log" "$LOGDIR/postgres.log" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- results

RESULTS=()
PASSED=0
FAILED=0
SKIPPED=0
record() {  # record NAME STATUS SECONDS SUMMARY
  local verdict
  case "$2" in
    0) verdict=PASS; PASSED=$((PASSED + 1)) ;;
    77) verdict=SKIP; SKIPPED=$((SKIPPED + 1)) ;;
    124|137) verdict=FAIL; FAILED=$((FAILED + 1)); set -- "$1" "$2" "$3" "timed out; $4" ;;
    *) verdict=FAIL; FAILED=$((FAILED + 1)) ;;
  esac
  RESULTS+=("$(printf '%-4s %-16s %4ss  %s' "$verdict" "$1" "$3" "$4")")
  echo "-- $verdict $1 (${3}s)"
}
wanted() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
# run_check NAME SECONDS COMMAND...: runs it bounded, its output to the terminal and $LOGDIR/NAME.log;
# the summary is the last non-empty line of its output, or the lines matching $SUMMARY_FROM when set.
run_check() {
  local name=$1 limit=$2
  shift 2
  wanted "$name" || return 0
  echo
  echo "== $name"
  local began=$SECONDS
  timeout --kill-after=15 "$limit" "$@" 2>&1 | tee "$LOGDIR/$name.log"
  local status=${PIPESTATUS[0]}
  local summary
  if [ -n "${SUMMARY_FROM:-}" ]; then
    summary=$(grep -E "$SUMMARY_FROM" "$LOGDIR/$name.log" | sed 's/^[[:space:]]*//' | paste -sd ";" | sed "s/;/; /g" | cut -c1-260)
  fi
  [ -n "${summary:-}" ] || summary=$(grep -v '^[[:space:]]*$' "$LOGDIR/$name.log" | tail -1 | cut -c1-160)
  record "$name" "$status" $((SECONDS - began)) "$summary"
}
skip_check() {  # skip_check NAME REASON
  wanted "$1" || return 0
  echo
  echo "== $1"
  echo "$1: SKIPPED: $2" | tee "$LOGDIR/$1.log"
  record "$1" 77 0 "$2"
}

# ---------------------------------------------------------------- the database and the service

echo "== setup: $("$PG_BIN/postgres" --version) in $WORK, port $PGPORT; binary $BIN"
as_postgres "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 \
  || as_postgres "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
       -E UTF8 >"$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log"; echo "live-checks: initdb failed"; exit 2; }
pg_start || { cat "$WORK/postgres.log"; echo "live-checks: PostgreSQL did not start"; exit 2; }

# The service connects as a role with a password over TCP, so the secrets check has a password to look for.
DB_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
ADMIN="host=$WORK/sock port=$PGPORT user=postgres"
psql "$ADMIN dbname=postgres" -X -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE seta_app LOGIN PASSWORD '$DB_PASSWORD'" \
  -c "CREATE DATABASE seta_live OWNER seta_app" >/dev/null \
  || { echo "live-checks: could not create the role and database"; exit 2; }
APP_URL="postgresql://seta_app:$DB_PASSWORD@127.0.0.1:$PGPORT/seta_live"
export DATABASE_URL=$APP_URL
# The migrations and reference data as they are now: a file added to the tree during the run changes nothing.
cp -r "$ROOT/Schema" "$WORK/Schema" && cp -r "$ROOT/Data" "$WORK/Data"
export SETA_SCHEMA_DIR=$WORK/Schema SETA_REFERENCE_DATA=$WORK/Data
unset SETA_HOST SETA_PORT SETA_PGDATA

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
SERVE_LOG="$LOGDIR/serve.log"
"$BIN" serve --port "$PORT" --demo >>"$SERVE_LOG" 2>&1 &
SERVER_PID=$!
ready=0
for _ in $(seq 1 600); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
  if curl -fsS -m 2 "$BASE/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.5
done
if [ "$ready" != 1 ]; then
  tail -20 "$SERVE_LOG"
  echo "live-checks: seta serve did not become ready"
  exit 2
fi
echo "== setup: seta serve (pid $SERVER_PID) ready on $BASE after $((SECONDS - STARTED_AT)) s (demo data loaded)"

CLI_LOG="$LOGDIR/cli.log"
# central_token WHO: a new central-team person and a token for it (the token: the only stdout line
# starting with seta_; it is kept out of every log). Schemathesis gets its own: its random PATCH /v1/people
# and DELETE /v1/tokens calls may deactivate people and revoke tokens, so the later checks get one made after it.
central_token() {
  "$BIN" users create --name "Live Checks $1" --email "live-checks-$1@example.org" --role central >>"$CLI_LOG" 2>&1 \
    || { tail -5 "$CLI_LOG" >&2; return 1; }
  "$BIN" tokens issue --email "live-checks-$1@example.org" 2>>"$CLI_LOG" | grep -E '^seta_[0-9a-f]+$' | tail -1
}
TOKEN=$(central_token contract)
[ -n "$TOKEN" ] || { echo "live-checks: no token from the CLI"; exit 2; }
echo "== setup: central user and token ready"

# ---------------------------------------------------------------- the checks

# 1. The contract: openapi.yaml valid and equal to the registered routes; schemathesis over every operation.
if [ -f scripts/check-openapi.py ]; then
  if ! python3 -c 'import openapi_spec_validator' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator >/dev/null 2>&1 || true
  fi
  run_check openapi 120 python3 scripts/check-openapi.py
else
  skip_check openapi "scripts/check-openapi.py is not in this tree"
fi
if [ -f scripts/schemathesis.sh ]; then
  SCHEMATHESIS_TIME_LIMIT_SECONDS=${SCHEMATHESIS_TIME_LIMIT_SECONDS:-$SCHEMATHESIS_SECONDS} \
  SCHEMATHESIS_REPORT_DIR="$LOGDIR/schemathesis" \
    run_check schemathesis $((SCHEMATHESIS_SECONDS + 120)) bash scripts/schemathesis.sh "$BASE" "$TOKEN"
else
  skip_check schemathesis "scripts/schemathesis.sh is not in this tree"
fi

# The person the injection check may edit (PATCH /v1/people/{id}), and a token for the checks from here on.
VICTIM=$("$BIN" users create --name "Persona de sacrificio" --email sacrificio@example.org --role viewer 2>>"$CLI_LOG" \
  | tee -a "$CLI_LOG" | sed -n 's/^persona \([0-9][0-9]*\) creada.*/\1/p')
CONTRACT_TOKEN=$TOKEN
TOKEN=$(central_token checks)
[ -n "$TOKEN" ] || { echo "live-checks: no token from the CLI"; exit 2; }

# 2. Malformed HTTP, then no leaked connection or descriptor; slow and idle clients.
fd_baseline() {
  for _ in 1 2 3; do curl -fsS -m 2 "$BASE/healthz" >/dev/null 2>&1 || true; done
  python3 scripts/fd-census.py "$SERVER_PID" "$PORT" | awk '{print $2}'
}
if wanted http-fuzz || wanted fuzz-leaks; then
  BASELINE_FDS=$(fd_baseline)
  echo "== http-fuzz: server holds $BASELINE_FDS descriptors before"
  run_check http-fuzz 600 python3 scripts/http-fuzz.py "127.0.0.1:$PORT" --count "$FUZZ_COUNT"
  run_check fuzz-leaks 90 python3 scripts/fd-census.py "$SERVER_PID" "$PORT" --settle "$BASELINE_FDS" --limit 45
fi
if wanted slowloris; then
  BASELINE_FDS=$(fd_baseline)
  SUMMARY_FROM='closed: |closed by the server|latency ms|passed, .* failed$' \
    run_check slowloris 180 python3 scripts/slowloris.py "127.0.0.1:$PORT"
  run_check slowloris-leaks 90 python3 scripts/fd-census.py "$SERVER_PID" "$PORT" --settle "$BASELINE_FDS" --limit 45
fi

# 3. The database stops for 5 s under a write load.
AS_POSTGRES=$([ "$(id -u)" = 0 ] && echo "runuser -u postgres --")
run_check fault-db 180 python3 scripts/fault-db.py --base "$BASE" --token "$TOKEN" --db "$ADMIN dbname=seta_live" \
  --stop-cmd "$AS_POSTGRES $PG_BIN/pg_ctl -D $PGDATA_DIR -m fast -w -t 60 stop" \
  --start-cmd "$AS_POSTGRES $PG_BIN/pg_ctl -D $PGDATA_DIR -o '$PG_OPTS' -l $WORK/postgres.log -w -t 60 start"

# 4. Hostile values everywhere; neither the token nor the password in any answer or in the log so far.
run_check injection 420 python3 scripts/injection.py --base "$BASE" --token "$TOKEN" --secret "$DB_PASSWORD" --secret "$CONTRACT_TOKEN" \
  --log "$SERVE_LOG" --log "$CLI_LOG" --person-id "${VICTIM:-999999}" --max-seconds 300

# 5. kill -9 during a bulk import of reports, then the same import again.
run_check import-crash 600 python3 scripts/import-crash.py --binary "$BIN" --db "$ADMIN dbname=seta_live" \
  --workdir "$WORK/import" --rows "$IMPORT_ROWS" --token "$TOKEN" --http-rows "$HTTP_IMPORT_ROWS" \
  --server-log "$LOGDIR/import-serve.log"

# 5b. A cut's workbook and es-CO CSV read by openpyxl (and LibreOffice headless where installed) hold the
# figures of the cut's JSON; codes keep their zeros. Installs openpyxl with pip when missing.
run_check xlsx 300 python3 scripts/xlsx-check.py --base "$BASE" --token "$TOKEN" --workdir "$WORK/xlsx"

# 6. Shutdown: the service under test stops on SIGTERM with status 0; then SIGTERM during slow requests.
if wanted serve-exit; then
  echo
  echo "== serve-exit"
  began=$SECONDS
  kill -TERM "$SERVER_PID"
  status=0
  for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    status=124
    kill -KILL "$SERVER_PID"
  fi
  wait "$SERVER_PID"
  code=$?
  SERVER_PID=
  [ "$status" = 0 ] && status=$code
  echo "serve-exit: seta serve exited with status $code after SIGTERM (having served every check above)" | tee "$LOGDIR/serve-exit.log"
  record serve-exit "$status" $((SECONDS - began)) "$(cat "$LOGDIR/serve-exit.log")"
fi
run_check shutdown 120 python3 scripts/shutdown-check.py --binary "$BIN" --token "$TOKEN" --log "$LOGDIR/shutdown-serve.log"

# 7. Two instances started at the same moment on one fresh database.
run_check two-instances 180 python3 scripts/two-instances.py --binary "$BIN" --admin "$ADMIN" \
  --app-url "postgresql://seta_app:$DB_PASSWORD@127.0.0.1:$PGPORT/seta_two" --database seta_two --owner seta_app \
  --schema-dir "$SETA_SCHEMA_DIR" --log-dir "$LOGDIR"

# 8. docker-compose.yml against the README.
run_check compose 60 python3 scripts/check-compose.py

# 9. No secret in any log the service wrote during all of the above.
if wanted secrets; then
  echo
  echo "== secrets"
  began=$SECONDS
  logs=$(ls "$LOGDIR"/serve.log "$LOGDIR"/cli.log "$LOGDIR"/shutdown-serve.log "$LOGDIR"/import-serve.log \
    "$LOGDIR"/two-instances-*.log 2>/dev/null)
  found=0
  for f in $logs; do
    if grep -qF -e "$TOKEN" -e "$CONTRACT_TOKEN" -e "$DB_PASSWORD" "$f"; then
      echo "  FAIL: $f contains a bearer token or the database password"
      found=1
    fi
  done
  lines=$(cat $logs | wc -l)
  if grep -q '"database":"postgresql://seta_app:\*\*\*@' "$SERVE_LOG"; then redacted=yes; else redacted=no; fi
  echo "secrets: $(echo $logs | wc -w) service logs ($lines lines) free of both tokens and the password: $([ $found = 0 ] && echo yes || echo NO); URL logged redacted: $redacted" \
    | tee "$LOGDIR/secrets.log"
  record secrets "$found" $((SECONDS - began)) "$(tail -1 "$LOGDIR/secrets.log")"
fi

# ---------------------------------------------------------------- summary

echo
echo "== summary ($((SECONDS - STARTED_AT)) s in all; logs in $LOGDIR)"
for line in "${RESULTS[@]}"; do echo "$line"; done
[ "$SKIPPED" -gt 0 ] && echo "($SKIPPED skipped)"
echo "live-checks: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
