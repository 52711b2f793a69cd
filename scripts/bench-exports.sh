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
source scripts/bench-export-copy.sh

echo "== the cut report (target < 1 s)"
for fmt in json xlsx; do
  s=$(for i in 1 2 3 4 5; do curl -s -o "$WORK/report.out" -w '%{time_total}\n' -H "$AUTH" "localhost:$PORT/v1/cuts/$ID/report?format=$fmt"; done | median5)
  echo "GET /v1/cuts/$ID/report?format=$fmt median of 5: ${s}s, $(wc -c < "$WORK/report.out") bytes"
done
