#!/usr/bin/env bash
# Runs every test of SETA: unit, database and HTTP tests (swift test, against a real PostgreSQL),
# then the contract and robustness checks against the live release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "== swift build (release, once)"
swift build -c release --product seta
echo "== swift test"
LOG=$(mktemp /tmp/seta-swift-test.XXXXXX.log)
# Passing tests are not echoed (the full log is kept); failures, issues and the closing lines are.
set +e
swift test 2>&1 | tee "$LOG" | grep -Ev '^(\[|◇|↳)' | grep -Ev 'passed after'
status=${PIPESTATUS[0]}
set -e
tail -5 "$LOG"
if [ "$status" -ne 0 ]; then echo "swift test failed"; exit "$status"; fi
echo "== live checks"
scripts/live-checks.sh .build/release/seta
