# Sourced by the benchmark scripts: a fresh PostgreSQL and `seta serve --demo` on free ports, a central token in
# $AUTH, everything stopped and removed on exit. Expects $1 (the binary, default .build/release/seta) and the
# repository root as the current folder.
ulimit -n 8192 2>/dev/null || true   # 1,000 idle connections are opened below
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
