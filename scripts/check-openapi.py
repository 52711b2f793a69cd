#!/usr/bin/env python3
"""Checks the API contract: openapi.yaml is valid OpenAPI 3.1 and documents exactly the routes the server registers.

(a) validates openapi.yaml with openapi-spec-validator (the caller installs it: `pip install openapi-spec-validator`);
(b) compares the (METHOD, path) operations of openapi.yaml with the routes registered in Sources/SetaAPI
    (every `r.add("GET", "/v1/...", ...)` call), parameter names ignored (`/v1/plans/{code}` = `/v1/plans/{x}`);
    HEAD is implicit for GET and not expected in the document;
(c) when docs/openapi-base.yaml exists, checks openapi.yaml is what scripts/openapi-merge.py makes of it, and
    that Sources/SetaAPI/Core/QueryContract.swift (the query parameters the router accepts) is what it declares.
Prints `openapi: N operations, M routes, X missing, Y undocumented` and exits 1 on any problem.

Usage: scripts/check-openapi.py [--spec openapi.yaml] [--sources Sources/SetaAPI]
"""
import argparse
import glob
import importlib.util
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
METHODS = ["get", "put", "post", "delete", "options", "patch", "trace"]
# `r.add("GET", "/v1/plans/{code}"` with any receiver name and spacing, trailing closure or handler argument.
ROUTE = re.compile(r"""\b\w+\s*\.\s*add\(\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*[,)]""")


def normalize(path):
    return re.sub(r"\{[^}/]*\}", "{}", path.rstrip("/") or "/")


def spec_operations(spec):
    ops = {}
    for path, item in (spec.get("paths") or {}).items():
        for method in item:
            if method in METHODS:
                ops[(method.upper(), normalize(path))] = path
    return ops


def server_routes(sources):
    routes = {}
    for f in sorted(glob.glob(os.path.join(sources, "**", "*.swift"), recursive=True)):
        text = open(f, encoding="utf-8").read()
        text = re.sub(r"//[^\n]*", "", text)  # a route in a comment is not registered
        for m in ROUTE.finditer(text):
            method, path = m.group(1), m.group(2)
            if method == "HEAD":
                continue
            routes[(method, normalize(path))] = (path, os.path.relpath(f, ROOT))
    return routes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=os.path.join(ROOT, "openapi.yaml"))
    ap.add_argument("--sources", default=os.path.join(ROOT, "Sources", "SetaAPI"))
    args = ap.parse_args()
    problems = 0

    with open(args.spec, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    try:
        from openapi_spec_validator import validate
    except ImportError:
        print("check-openapi: openapi-spec-validator is not installed (pip install openapi-spec-validator)", file=sys.stderr)
        return 2
    try:
        validate(spec)
    except Exception as e:  # the validator's own error types vary between versions
        print(f"INVALID {os.path.relpath(args.spec)}: {str(e).splitlines()[0]}", file=sys.stderr)
        problems += 1

    ops = spec_operations(spec)
    routes = server_routes(args.sources)
    missing = sorted(k for k in routes if k not in ops)
    undocumented = sorted(k for k in ops if k not in routes)
    for k in missing:
        path, where = routes[k]
        print(f"missing from openapi.yaml: {k[0]} {path}  ({where})")
    for k in undocumented:
        print(f"documented but not served: {k[0]} {ops[k]}")
    problems += len(missing) + len(undocumented)

    # operationIds: present and unique.
    seen = {}
    for path, item in (spec.get("paths") or {}).items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            oid = (op or {}).get("operationId")
            if not oid:
                print(f"no operationId: {method.upper()} {path}")
                problems += 1
            elif oid in seen:
                print(f"duplicate operationId {oid}: {method.upper()} {path} and {seen[oid]}")
                problems += 1
            else:
                seen[oid] = f"{method.upper()} {path}"

    base = os.path.join(ROOT, "docs", "openapi-base.yaml")
    if os.path.exists(base) and os.path.abspath(args.spec) == os.path.join(ROOT, "openapi.yaml"):
        spec_ = importlib.util.spec_from_file_location("openapi_merge", os.path.join(ROOT, "scripts", "openapi-merge.py"))
        merge = importlib.util.module_from_spec(spec_)
        spec_.loader.exec_module(merge)
        fragments = sorted(glob.glob(os.path.join(ROOT, "docs", "openapi-fragments", "*.yaml")))
        doc = merge.merge(base, fragments, log=lambda m: None)
        if open(args.spec, encoding="utf-8").read() != merge.dump(doc):
            print("openapi.yaml is not what docs/openapi-base.yaml + docs/openapi-fragments/ give: run scripts/openapi-merge.py")
            problems += 1
        # The router enforces the query parameters of this table: it must be the document's.
        contract = os.path.join(ROOT, "Sources", "SetaAPI", "Core", "QueryContract.swift")
        if not os.path.exists(contract) or open(contract, encoding="utf-8").read() != merge.query_contract(doc):
            print("Sources/SetaAPI/Core/QueryContract.swift is not what openapi.yaml declares: run scripts/openapi-merge.py")
            problems += 1

    print(f"openapi: {len(ops)} operations, {len(routes)} routes, {len(missing)} missing, {len(undocumented)} undocumented")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
