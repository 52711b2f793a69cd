#!/usr/bin/env python3
"""check-compose.py: docker-compose.yml is valid YAML, runs PostgreSQL 15 and the service, and names the documented variables.

Usage: scripts/check-compose.py [--compose docker-compose.yml] [--readme README.md] [--dockerfile Dockerfile]

Docker does not run on the CI machine, so this checks the file rather than running it:
- it parses as YAML (PyYAML) into services: one service on a `postgres:15` image with a health check,
  and the SETA service built from the repository (`build:`), depending on the database being healthy,
  with a health check that asks `/readyz`;
- the Dockerfile it builds starts FROM the official Swift image (`swift:`);
- every environment variable the README's configuration table documents (`DATABASE_URL`, `SETA_*`) is
  named in docker-compose.yml: set in the service's environment, or mentioned in the file (a comment
  saying why it does not apply there); and every variable the service's environment sets is documented.
Without README.md the documented list is DATABASE_URL, SETA_HOST, SETA_PORT, SETA_PGDATA,
SETA_SCHEMA_DIR, SETA_REFERENCE_DATA, SETA_PG_BIN.
"""

import argparse
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFAULT_VARIABLES = ["DATABASE_URL", "SETA_HOST", "SETA_PORT", "SETA_PGDATA", "SETA_SCHEMA_DIR",
                     "SETA_REFERENCE_DATA", "SETA_PG_BIN"]
VARIABLE = re.compile(r"`((?:DATABASE_URL|SETA_[A-Z0-9_]+))`")


def documented(readme):
    """Variables named in the first column of the README's tables (`| `SETA_HOST`, `--host` | ...`)."""
    names = []
    for line in open(readme, encoding="utf-8"):
        if not line.startswith("|"):
            continue
        cells = line.split("|")
        if len(cells) > 2:
            for name in VARIABLE.findall(cells[1]):
                if name not in names:
                    names.append(name)
    return names


def environment_names(env):
    if isinstance(env, dict):
        return list(env.keys())
    if isinstance(env, list):
        return [str(item).split("=", 1)[0] for item in env]
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--compose", default=os.path.join(ROOT, "docker-compose.yml"))
    ap.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    ap.add_argument("--dockerfile", default=None)
    args = ap.parse_args()
    failures = []

    text = open(args.compose, encoding="utf-8").read()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        print("compose: %s is not valid YAML: %s" % (args.compose, e))
        print("compose: FAILED")
        return 1
    services = (doc or {}).get("services") or {}
    db = next((n for n, s in services.items() if str((s or {}).get("image", "")).startswith("postgres:15")), None)
    app = next((n for n, s in services.items() if (s or {}).get("build") is not None), None)
    print("compose: valid YAML; services %s; database %s; service %s" % (sorted(services), db, app))
    if db is None:
        failures.append("no service runs a postgres:15 image")
    elif not services[db].get("healthcheck"):
        failures.append("the database service has no health check")
    if app is None:
        failures.append("no service is built from the repository (build:)")
        env_names = []
    else:
        s = services[app]
        health = s.get("healthcheck") or {}
        test = health.get("test")
        test_text = " ".join(test) if isinstance(test, list) else str(test or "")
        if "/readyz" not in test_text:
            failures.append("the service's health check does not ask /readyz (%r)" % test_text)
        depends = s.get("depends_on") or {}
        if db is not None and not (isinstance(depends, dict) and (depends.get(db) or {}).get("condition") == "service_healthy"):
            failures.append("the service does not wait for the database to be healthy (depends_on %s: service_healthy)" % db)
        env_names = environment_names(s.get("environment"))
        build = s.get("build")
        context = build if isinstance(build, str) else (build or {}).get("context", ".")
        dockerfile = args.dockerfile or os.path.join(os.path.dirname(args.compose), context,
                                                       "Dockerfile" if isinstance(build, str) else (build or {}).get("dockerfile", "Dockerfile"))
        if not os.path.exists(dockerfile):
            failures.append("the Dockerfile %s does not exist" % dockerfile)
        else:
            froms = re.findall(r"(?im)^\s*FROM\s+(\S+)", open(dockerfile, encoding="utf-8").read())
            print("compose: Dockerfile stages FROM %s" % ", ".join(froms))
            if not froms or not froms[0].startswith(("swift:", "docker.io/library/swift:", "library/swift:")):
                failures.append("the Dockerfile does not build FROM the official Swift image (%s)" % froms[:1])

    if os.path.exists(args.readme):
        variables = documented(args.readme)
        source = os.path.basename(args.readme)
    else:
        variables = DEFAULT_VARIABLES
        source = "the default list (no README.md)"
    print("compose: %d variables documented in %s: %s" % (len(variables), source, ", ".join(variables)))
    if not variables:
        failures.append("no environment variables found in %s" % source)
    set_here = [v for v in variables if v in env_names]
    mentioned = [v for v in variables if v not in env_names and re.search(r"\b%s\b" % v, text)]
    absent = [v for v in variables if v not in env_names and v not in mentioned]
    undocumented = [v for v in env_names if v not in variables]
    print("compose: set in the service environment: %s" % (", ".join(set_here) or "none"))
    print("compose: only mentioned in the file: %s" % (", ".join(mentioned) or "none"))
    if absent:
        failures.append("documented but not named in %s: %s" % (os.path.basename(args.compose), ", ".join(absent)))
    if undocumented:
        failures.append("set in the service environment but not documented: %s" % ", ".join(undocumented))

    for f in failures:
        print("  FAIL: " + f)
    print("compose: %d documented variables, %d set, %d mentioned, %d missing; %d problems"
          % (len(variables), len(set_here), len(mentioned), len(absent), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
