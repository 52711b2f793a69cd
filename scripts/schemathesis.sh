#!/usr/bin/env bash
# Runs Schemathesis over every operation of openapi.yaml against a live SETA, with every check and every phase
# (examples, coverage, fuzzing, stateful): no 5xx, every response conforms to its schema, headers and content
# type, every status code is documented, schema-valid requests are accepted and schema-violating ones refused,
# unsupported methods get 405 with Allow. A flag fails the run unless scripts/schemathesis-allow.txt lists it
# with its reason.
#
#   scripts/schemathesis.sh BASE_URL TOKEN [schemathesis run options...]
#   e.g. scripts/schemathesis.sh http://127.0.0.1:8080 seta_0123...
#        scripts/schemathesis.sh http://127.0.0.1:8080 seta_0123... --include-tag cuts   (one area; no floor)
#
# TOKEN must be a central-team token. A fuzzer with central rights can revoke tokens and deactivate people,
# its own included, after which every answer is a (documented) 401 and a run would pass while testing
# nothing. So TOKEN is used only to create disposable central people and their tokens (through the API),
# and the run goes in passes:
#   1. every operation except those that can disable the caller, as disposable person #1; the token must
#      work before and after (checked), and an operation answering only 401/403 fails the run;
#   2. each caller-disabling operation (SELF_DISABLING below) on its own, last, as its own disposable person.
# Pass 2 may revoke or deactivate anyone, TOKEN's owner included: run this after the other live checks, or
# issue fresh tokens afterwards.
#
# Knobs (environment): examples per operation and phase, seed, floor of requests sent, wall-clock limit.
# Reports (JUnit + NDJSON per pass) go to $SCHEMATHESIS_REPORT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_URL=${1:?usage: scripts/schemathesis.sh BASE_URL TOKEN [schemathesis options]}
TOKEN=${2:?usage: scripts/schemathesis.sh BASE_URL TOKEN [schemathesis options]}
shift 2
BASE_URL=${BASE_URL%/}
SCHEMATHESIS_MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-25}
# One worker: workers are threads, and Hypothesis parsing lambdas with `ast` from several threads trips
# CPython bug gh-106905 ("AST constructor recursion depth mismatch") on the Python 3.11 here.
SCHEMATHESIS_WORKERS=${SCHEMATHESIS_WORKERS:-1}
SCHEMATHESIS_SEED=${SCHEMATHESIS_SEED:-2020}
SCHEMATHESIS_MIN_REQUESTS=${SCHEMATHESIS_MIN_REQUESTS:-1000}
SCHEMATHESIS_TIME_LIMIT_SECONDS=${SCHEMATHESIS_TIME_LIMIT_SECONDS:-600}
SCHEMATHESIS_REQUEST_TIMEOUT_SECONDS=${SCHEMATHESIS_REQUEST_TIMEOUT_SECONDS:-30}
SCHEMATHESIS_REPORT_DIR=${SCHEMATHESIS_REPORT_DIR:-.build/schemathesis}
SCHEMATHESIS_VERSION_SPEC=${SCHEMATHESIS_VERSION_SPEC:-schemathesis>=4.0,<5}
# Operations that can take the caller's own rights away (revoke its token; deactivate or demote its person).
# Token revocation last: with small ids it revokes the first tokens issued, TOKEN's usually among them.
SELF_DISABLING=("PATCH /v1/people/{id}" "DELETE /v1/tokens/{id}")

if ! command -v schemathesis >/dev/null 2>&1; then
  echo "installing $SCHEMATHESIS_VERSION_SPEC from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "$SCHEMATHESIS_VERSION_SPEC"
fi
echo "schemathesis $(schemathesis --version 2>/dev/null | awk '{print $NF}') against $BASE_URL"
rm -rf "$SCHEMATHESIS_REPORT_DIR"
mkdir -p "$SCHEMATHESIS_REPORT_DIR"
deadline=$(( $(date +%s) + SCHEMATHESIS_TIME_LIMIT_SECONDS ))

# Small HTTP helpers (python3: no curl/jq assumption). `status TOKEN PATH` prints the status of a GET;
# `mint TOKEN LABEL` creates a central person and prints a fresh token of theirs.
status() {
  python3 - "$BASE_URL" "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
base, token, path = sys.argv[1:]
req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
try:
    print(urllib.request.urlopen(req, timeout=30).status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError as e:
    print(0)
PY
}
mint() {
  python3 - "$BASE_URL" "$1" "$2" <<'PY'
import json, os, sys, urllib.request, urllib.error
base, token, label = sys.argv[1:]
def call(method, path, body):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        sys.exit(f"schemathesis: {method} {path} answered {e.code}: {e.read()[:300]!r}")
suffix = os.urandom(4).hex()
person = call("POST", "/v1/people", {"name": f"Schemathesis {label}", "role": "central",
                                     "email": f"schemathesis-{label}-{suffix}@seta.invalid"})
tok = call("POST", f"/v1/people/{person['id']}/tokens", {"label": f"schemathesis {label}", "expires_in_days": 1})
print(tok["token"])
PY
}

[ "$(status "$TOKEN" /v1/plans)" = 200 ] || { echo "schemathesis: TOKEN is not accepted by $BASE_URL/v1/plans" >&2; exit 1; }

# Pass 1 fails on operations that only ever answered 401/403 (a token that died mid-run); the others don't.
config_strict="$SCHEMATHESIS_REPORT_DIR/strict.toml"
config_lenient="$SCHEMATHESIS_REPORT_DIR/lenient.toml"
cp scripts/schemathesis.toml "$config_strict"
printf '\n[warnings]\nfail-on = ["missing_auth", "unresolvable_reference", "base_url_mismatch"]\n' >> "$config_strict"
cp scripts/schemathesis.toml "$config_lenient"

overall=0
passes=()
# run_pass NAME TOKEN CONFIG [schemathesis options...]
run_pass() {
  local name=$1 token=$2 config=$3
  shift 3
  local left=$(( deadline - $(date +%s) ))
  if [ "$left" -le 10 ]; then echo "schemathesis: no time left for pass $name" >&2; overall=1; return; fi
  echo "== schemathesis pass: $name"
  local rc=0
  timeout --signal=INT --kill-after=30 "$left" \
    schemathesis --config-file "$config" run openapi.yaml \
      --url "$BASE_URL" \
      --header "Authorization: Bearer $token" \
      --checks all \
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
      --report-junit-path "$SCHEMATHESIS_REPORT_DIR/$name.junit.xml" \
      --report-ndjson-path "$SCHEMATHESIS_REPORT_DIR/$name.ndjson" \
      "$@" \
    || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 130 ]; then echo "schemathesis: pass $name stopped by the time limit" >&2; fi
  passes+=("$name:$rc")
}

# Every disposable token is made now, while TOKEN surely works.
exclude=()
for op in "${SELF_DISABLING[@]}"; do exclude+=(--exclude-name "$op"); done
token1=$(mint "$TOKEN" main)
self_tokens=()
if [ $# -eq 0 ]; then
  for i in "${!SELF_DISABLING[@]}"; do self_tokens+=("$(mint "$TOKEN" "self-disabling-$((i + 1))")"); done
fi
run_pass main "$token1" "$config_strict" "${exclude[@]}" "$@"
if [ "$(status "$token1" /v1/plans)" != 200 ] || [ "$(status "$TOKEN" /v1/plans)" != 200 ]; then
  echo "schemathesis: a token stopped working during the main pass; its results are not meaningful" >&2
  overall=1
fi

if [ $# -eq 0 ]; then
  for i in "${!SELF_DISABLING[@]}"; do
    # One operation has no links to follow: no stateful phase (a later --phases overrides the first).
    run_pass "self-disabling-$((i + 1))" "${self_tokens[$i]}" "$config_lenient" \
      --include-name "${SELF_DISABLING[$i]}" --phases examples,coverage,fuzzing
  done
fi

# The requests actually sent: every interaction recorded in the NDJSON event streams.
# Per pass, the statuses answered (so a pass that ran into 401s shows), then the total on the last line.
summary=$(python3 - "$SCHEMATHESIS_REPORT_DIR" <<'PY'
import collections, glob, json, os, sys
total = 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.ndjson"))):
    statuses = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            for value in event.values():
                if isinstance(value, dict) and isinstance(value.get("recorder"), dict):
                    for interaction in (value["recorder"].get("interactions") or {}).values():
                        statuses[((interaction or {}).get("response") or {}).get("status_code", "none")] += 1
    total += sum(statuses.values())
    tally = " ".join(f"{code}x{n}" for code, n in sorted(statuses.items(), key=lambda kv: str(kv[0])))
    print(f"schemathesis: pass {os.path.basename(path)[:-7]}: {sum(statuses.values())} requests: {tally}")
print(total)
PY
)
echo "$summary" | sed '$d'
requests=$(echo "$summary" | tail -1)
echo "schemathesis: ${passes[*]}; $requests requests sent (floor $SCHEMATHESIS_MIN_REQUESTS)"

# Every flag raised, against the allow-list. A pass that exited non-zero without a single flag met an
# error (schema, network, a time limit): that fails the run too.
python3 - "$SCHEMATHESIS_REPORT_DIR" scripts/schemathesis-allow.txt "${passes[@]}" <<'PY' || overall=1
import base64, collections, fnmatch, glob, json, os, sys
report_dir, allow_path, *passes = sys.argv[1:]
allow = []
for line in open(allow_path, encoding="utf-8"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    rule, _, reason = line.partition("--")
    parts = rule.split()
    if len(parts) < 5 or not reason.strip():
        sys.exit(f"schemathesis-allow.txt: needs CODE METHOD PATH STATUS FIELD -- reason: {line}")
    code, method, path, status, field = parts[0], parts[1], " ".join(parts[2:-2]), parts[-2], parts[-1]
    allow.append(((code, f"{method} {path}", status, field), reason.strip()))

def body_field(response):
    content = (response or {}).get("content") or {}
    try:
        raw = base64.b64decode(content.get("$base64", "")) if isinstance(content, dict) else b""
        errors = json.loads(raw).get("errors") or []
        return str(errors[0].get("field", "-")) if errors else "-"
    except Exception:
        return "-"

flags = collections.Counter()
used = collections.Counter()
failed_passes = {p.split(":")[0] for p in passes if not p.endswith(":0")}
flagged_passes = set()
for path in sorted(glob.glob(os.path.join(report_dir, "*.ndjson"))):
    name = os.path.basename(path)[:-7]
    for line in open(path, encoding="utf-8"):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        recorder = (event.get("ScenarioFinished") or {}).get("recorder") or {}
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = ((check.get("failure_info") or {}).get("failure") or {})
                response = ((recorder.get("interactions") or {}).get(case_id) or {}).get("response") or {}
                key = (failure.get("code", check.get("name")), failure.get("operation", "?"),
                       str(response.get("status_code", "-")), body_field(response))
                flags[key] += 1
                flagged_passes.add(name)
unlisted = 0
for key, n in sorted(flags.items()):
    match = next((reason for pattern, reason in allow
                  if all(fnmatch.fnmatchcase(k, p) for k, p in zip(key, pattern))), None)
    if match is None:
        unlisted += 1
        print(f"schemathesis: FLAG {' '.join(key)} (x{n}): not in the allow-list")
    else:
        used[match] += n
        print(f"schemathesis: allowed {' '.join(key)} (x{n}): {match}")
errored = failed_passes - flagged_passes
for name in sorted(errored):
    print(f"schemathesis: pass {name} exited non-zero without a flag (an error: see its output)")
print(f"schemathesis: {sum(flags.values())} flags, {len(flags)} distinct, {unlisted} not in the allow-list")
sys.exit(1 if unlisted or errored else 0)
PY
if [ "$overall" -ne 0 ]; then exit 1; fi
if [ $# -eq 0 ] && [ "$requests" -lt "$SCHEMATHESIS_MIN_REQUESTS" ]; then
  echo "schemathesis: fewer requests than the floor of $SCHEMATHESIS_MIN_REQUESTS; raise SCHEMATHESIS_MAX_EXAMPLES" >&2
  exit 1
fi
