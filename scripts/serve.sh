#!/usr/bin/env bash
# Runs SETA: builds the release binary once and serves on http://127.0.0.1:8080
# (on a private embedded PostgreSQL in ./.seta unless DATABASE_URL is set). Extra arguments go to `seta serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product seta
exec .build/release/seta serve "$@"
