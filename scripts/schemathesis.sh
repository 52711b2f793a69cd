#!/usr/bin/env bash
# Runs Schemathesis over every operation of openapi.yaml against a live SETA: no 5xx, every response
# conforms to its schema, headers and content type, every status code is documented.
#
#   scripts/schemathesis.sh BASE_URL TOKEN [schemathesis run options...]
#   e.g. scripts/schemathesis.sh http://127.0.0.1:8080 seta_0123...
#        scripts/schemathesis.sh http://127.0.0.1:8080 seta_0123... --include-tag cuts   (one area; floor not met)
#
# TOKEN should be a central-team token so the write routes get past 403. The figures below are the knobs
# (environment overrides): examples per operation and phase, workers, seed, the floor of generated requests
# the run must reach, and a wall-clock limit. Reports go to $SCHEMATHESIS_REPORT_DIR (JUnit + NDJSON).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_URL=${1:?usage: scripts/schemathesis.sh BASE_URL TOKEN}
TOKEN=${2:?usage: scripts/schemathesis.sh BASE_URL TOKEN}
shift 2
SCHEMATHESIS_MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-25}
SCHEMATHESIS_WORKERS=${SCHEMATHESIS_WORKERS:-1}
SCHEMATHESIS_SEED=${SCHEMATHESIS_SEED:-2020}
SCHEMATHESIS_MIN_REQUESTS=${SCHEMATHESIS_MIN_REQUESTS:-1000}
SCHEMATHESIS_TIME_LIMIT_SECONDS=${SCHEMATHESIS_TIME_LIMIT_SECONDS:-600}
SCHEMATHESIS_REQUEST_TIMEOUT_SECONDS=${SCHEMATHESIS_REQUEST_TIMEOUT_SECONDS:-30}
SCHEMATHESIS_REPORT_DIR=${SCHEMATHESIS_REPORT_DIR:-.build/schemathesis}
SCHEMATHESIS_VERSION_SPEC=${SCHEMATHESIS_VERSION_SPEC:-schemathesis>=4.0,<5}

if ! command -v schemathesis >/dev/null 2>&1; then
  echo "installing $SCHEMATHESIS_VERSION_SPEC from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "$SCHEMATHESIS_VERSION_SPEC"
fi
echo "schemathesis $(schemathesis --version 2>/dev/null | awk '{print $NF}') against $BASE_URL"

rm -rf "$SCHEMATHESIS_REPORT_DIR"
mkdir -p "$SCHEMATHESIS_REPORT_DIR"
ndjson="$SCHEMATHESIS_REPORT_DIR/events.ndjson"

status=0
# The required checks; `all` would add negative_data_rejection / positive_data_acceptance, which judge the
# schema's strictness (e.g. a period that matches the pattern but is in the future is a documented 422).
timeout --signal=INT --kill-after=30 "$SCHEMATHESIS_TIME_LIMIT_SECONDS" \
  schemathesis --config-file scripts/schemathesis.toml run openapi.yaml \
    --url "$BASE_URL" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,response_headers_conformance \
    --phases examples,coverage,fuzzing,stateful \
    --mode all \
    --max-examples "$SCHEMATHESIS_MAX_EXAMPLES" \
    --workers "$SCHEMATHESIS_WORKERS" \
    --seed "$SCHEMATHESIS_SEED" \
    --request-timeout "$SCHEMATHESIS_REQUEST_TIMEOUT_SECONDS" \
    --generation-database none \
    --suppress-health-check all \
    --no-color \
    --report junit,ndjson \
    --report-dir "$SCHEMATHESIS_REPORT_DIR" \
    --report-ndjson-path "$ndjson" \
    "$@" \
  || status=$?

# Count the requests actually sent (every interaction recorded in the NDJSON event stream).
requests=$(python3 - "$ndjson" <<'PY'
import json, sys
n = 0
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            # ScenarioFinished events carry the recorder of every case and interaction of the scenario.
            for value in event.values():
                if isinstance(value, dict) and isinstance(value.get("recorder"), dict):
                    n += len(value["recorder"].get("interactions") or {})
except FileNotFoundError:
    pass
print(n)
PY
)
echo "schemathesis: $requests requests sent (floor $SCHEMATHESIS_MIN_REQUESTS), exit status $status"
if [ "$status" -eq 124 ] || [ "$status" -eq 130 ]; then
  echo "schemathesis: stopped after ${SCHEMATHESIS_TIME_LIMIT_SECONDS}s" >&2
fi
if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ "$requests" -lt "$SCHEMATHESIS_MIN_REQUESTS" ]; then
  echo "schemathesis: fewer requests than the floor of $SCHEMATHESIS_MIN_REQUESTS; raise SCHEMATHESIS_MAX_EXAMPLES" >&2
  exit 1
fi
