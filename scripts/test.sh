#!/usr/bin/env bash
# Runs every test of SETA: unit, database and HTTP tests (swift test, against a real PostgreSQL),
# then the contract and robustness checks against the live release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "== swift build (release, once)"
swift build -c release --product seta
echo "== swift test"
swift test 2>&1 | tee /tmp/seta-swift-test.log | grep -Ev '^(\[|◇|↳)' | grep -Ev 'passed after' || true
status=${PIPESTATUS[0]}
tail -5 /tmp/seta-swift-test.log
if [ "$status" -ne 0 ]; then echo "swift test failed"; exit "$status"; fi
echo "== live checks"
scripts/live-checks.sh .build/release/seta
