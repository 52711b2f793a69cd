#!/usr/bin/env bash
# Instructions per request (user space, all threads) for GET /healthz, measured with callgrind: repeatable where
# req/s is not. Drives N sequential keep-alive requests after a warm-up and divides callgrind's total by N.
# Usage: scripts/callgrind-http.sh [BINARY] [N] [PATH]   (default .build/release/seta 2000 /healthz; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(readlink -f "${1:-.build/release/seta}"); N=${2:-2000}; TARGET=${3:-/healthz}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/seta-callgrind-XXXXXX); chmod 755 "$WORK"; chown postgres "$WORK"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port); PORT=$(free_port)
cleanup() {
  [ -n "${SETA_PID:-}" ] && kill "$SETA_PID" 2>/dev/null && wait "$SETA_PID" 2>/dev/null || true
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" stop -m fast >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -U seta --auth=trust -E UTF8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w start \
  -o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1" >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U seta seta
export DATABASE_URL="postgresql://seta@127.0.0.1:$PGPORT/seta"
# Instrumentation starts only once the service listens, so start-up and migrations are not counted.
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/cg.%p" \
  "$BIN" serve --port "$PORT" >"$WORK/seta.log" 2>"$WORK/valgrind.log" & SETA_PID=$!
for _ in $(seq 1 300); do curl -fs "localhost:$PORT/healthz" >/dev/null 2>&1 && break; sleep 1; done
callgrind_control -i on "$SETA_PID" >/dev/null
drive() { python3 - "$PORT" "$1" "$TARGET" <<'PY'
import socket, sys
port, n, target = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
req = f"GET {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: callgrind\r\nAccept: */*\r\n\r\n".encode()
buf = b""
for _ in range(n):
    s.sendall(req)
    while True:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buf[:head_end].decode("latin-1")
            length = next(int(l.split(":")[1]) for l in head.split("\r\n") if l.lower().startswith("content-length:"))
            if len(buf) >= head_end + 4 + length:
                buf = buf[head_end + 4 + length:]
                break
        chunk = s.recv(65536)
        if not chunk: sys.exit("closed by server")
        buf += chunk
PY
}
drive 200
callgrind_control -z "$SETA_PID" >/dev/null
drive "$N"
callgrind_control -d "$SETA_PID" >/dev/null
sleep 1
DUMP=$(ls -t "$WORK"/cg.* | grep -v '\.log$' | head -1)
TOTAL=$(callgrind_annotate "$DUMP" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t {gsub(",","",$1); t=$1} END {print t}')
echo "requests: $N to $TARGET; instructions: $TOTAL; per request: $((TOTAL / N))"
if [ -n "${CALLGRIND_TOP:-}" ]; then callgrind_annotate --inclusive=no "$DUMP" 2>/dev/null | sed -n '1,60p'; fi
