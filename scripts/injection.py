#!/usr/bin/env python3
"""injection.py: hostile values in every path, query and body field; no 5xx; no secret in any answer or log.

Usage: scripts/injection.py --base http://127.0.0.1:PORT --token TOKEN [--secret S]... [--log FILE]...
                            [--spec openapi.yaml] [--sources Sources/SetaAPI] [--person-id N] [--max-seconds 240]

The operations come from openapi.yaml (parameters with their examples, JSON request bodies with their
schemas), completed with the routes registered in --sources that the document lacks (`r.add("GET",
"/v1/...")`), so a route is covered even before it is documented. For each operation, each path
parameter, each query parameter and each JSON body field (and each string field of the first item of
an array of objects) in turn gets each hostile value while everything else keeps a plausible value
(the example of the document, or one read from the live service): SQL metacharacters, NUL (`%00` and
U+0000), a 10,000-character string, RTL and zero-width marks, emoji, stacked combining marks, lone
surrogates (as `\\ud800` escapes and as raw bad UTF-8 bytes), path traversal, a `pg_sleep` attempt,
and a string where the schema wants a number, an array or an object.

Passes when every answer is a 4xx or a 2xx whose body is what its Content-Type says (JSON that parses,
CSV, an XLSX that is a ZIP), none is a 5xx, none took over 12 s (no injected `pg_sleep(20)` ran), and neither the bearer token nor
any --secret (the database password) appears in any answer body or header or in any --log file.
Person ids in paths use --person-id (a sacrificial person), so the caller's own account is never edited.
"""

import argparse
import glob
import http.client
import json
import os
import re
import sys
import time
import urllib.parse

import live_support as ls

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
METHODS = ["get", "put", "post", "delete", "patch"]
ROUTE = re.compile(r"""\b\w+\s*\.\s*add\(\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*[,)]""")

LONG = "A" * 10000
# (label, text value, raw bytes for the body or None). Raw bytes replace the JSON string literal as is.
HOSTILE = [
    ("sql-or", "' OR 1=1 --", None),
    ("sql-drop", "'; DROP TABLE plans; --", None),
    ("sql-dquote", '" OR ""="', None),
    ("sql-sleep", "1); SELECT pg_sleep(20); --", None),
    ("percent-00", "%00", None),
    ("nul", "a\u0000b", None),
    ("long-10k", LONG, None),
    ("rtl", "\u202eabc\u200f\u200b", None),
    ("emoji", "😀👩‍👩‍👧‍👦🇨🇴", None),
    ("combining", "e\u0301\u0301\u0301\u0301\u0301\u0301", None),
    ("lone-surrogate-escape", None, b'"\\ud800x"'),
    ("bad-utf8", None, b'"\xed\xa0\x80\xff\xfe"'),
    ("traversal", "../../../etc/passwd", None),
    ("negative", "-1", None),
    ("huge-number", "99999999999999999999999", None),
]
# In paths and query strings: what goes on the wire after `?name=` or in place of `{param}`.
def encoded_variants():
    out = []
    for label, text, raw in HOSTILE:
        if text is not None:
            out.append((label, urllib.parse.quote(text, safe="")))
    out.append(("raw-percent-00", "%00"))
    out.append(("bad-utf8", "%ED%A0%80%FF"))
    out.append(("lone-surrogate-escape", "%5Cud800"))
    return out


def load_spec(path):
    try:
        import yaml  # python3-yaml; without it only the route scan is used
    except ImportError:
        return None
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def resolve(spec, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        parts = node["$ref"].lstrip("#/").split("/")
        node = spec
        for p in parts:
            node = node[p]
        seen += 1
    return node


def normalize(path):
    return re.sub(r"\{[^}/]*\}", "{}", path.rstrip("/") or "/")


class Operation:
    def __init__(self, method, path):
        self.method = method
        self.path = path
        self.path_params = re.findall(r"\{([^}/]+)\}", path)
        self.param_examples = {}
        self.query = []  # (name, required, example, schema)
        self.body = None  # resolved JSON schema or None


def operations(spec, sources):
    ops = {}
    if spec:
        for path, item in (spec.get("paths") or {}).items():
            shared = [resolve(spec, p) for p in item.get("parameters", [])]
            for method in METHODS:
                if method not in item:
                    continue
                o = item[method]
                op = Operation(method.upper(), path)
                for p in shared + [resolve(spec, p) for p in o.get("parameters", [])]:
                    schema = resolve(spec, p.get("schema") or {})
                    example = p.get("example", schema.get("example", (schema.get("examples") or [None])[0]))
                    if example is None and schema.get("enum"):
                        example = schema["enum"][0]
                    if p.get("in") == "path":
                        op.param_examples[p["name"]] = example
                    elif p.get("in") == "query":
                        op.query.append((p["name"], bool(p.get("required")), example, schema))
                body = ((o.get("requestBody") or {}).get("content") or {}).get("application/json")
                if body:
                    op.body = resolve(spec, body.get("schema") or {})
                ops[(op.method, normalize(path))] = op
    for f in sorted(glob.glob(os.path.join(sources, "**", "*.swift"), recursive=True)):
        text = re.sub(r"//[^\n]*", "", open(f, encoding="utf-8").read())
        for m in ROUTE.finditer(text):
            method, path = m.group(1), m.group(2)
            if method == "HEAD" or (method, normalize(path)) in ops:
                continue
            op = Operation(method, path)
            if method in ("POST", "PUT", "PATCH"):
                op.body = {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
            ops[(method, normalize(path))] = op
    return [ops[k] for k in sorted(ops)]


class Bases:
    """Plausible values for path parameters: the document's example, else one read from the service."""

    def __init__(self, base, token, person_id):
        self.base = base
        self.token = token
        self.person_id = person_id
        self.cache = {}

    def known(self, op, name, index):
        prefix = op.path.split("{" + name + "}")[0]
        if name in ("id",) and prefix.rstrip("/").endswith(("/people", "/tokens")):
            return str(self.person_id) if prefix.rstrip("/").endswith("/people") else "999999"
        fixed = {"plan": "gap-2020-f1", "entity": "05001", "period": "2020-06", "group": "regions"}
        if name in fixed:
            return fixed[name]
        if prefix.rstrip("/").endswith("/plans"):
            return "gap-2020-f1"
        if prefix.rstrip("/").endswith("/entities"):
            return "05001"
        if prefix.rstrip("/").endswith("/departments"):
            return "05"
        example = op.param_examples.get(name)
        if example is not None:
            return str(example)
        # The collection the parameter belongs to: its first item's code or id.
        collection = prefix.rstrip("/")
        if collection not in self.cache:
            value = None
            try:
                r = ls.request(self.base, "GET", collection, token=self.token, timeout=15)
                if r.status == 200:
                    items = r.json().get("items") or []
                    if items:
                        value = items[0].get("code", items[0].get("id"))
            except (OSError, http.client.HTTPException, ValueError, AttributeError):
                pass
            self.cache[collection] = None if value is None else str(value)
        return self.cache[collection] or "1"


def sample(spec, schema, name=""):
    """A plausible value for a schema (the example, an enum member, or something of its type)."""
    schema = resolve(spec, schema or {})
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    for combo in ("oneOf", "anyOf", "allOf"):
        if schema.get(combo):
            return sample(spec, schema[combo][0], name)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: sample(spec, v, k) for k, v in props.items() if k in (schema.get("required") or [])}
    if t == "array":
        item = sample(spec, schema.get("items") or {"type": "string"}, name)
        return [item] if schema.get("minItems") else []
    if t == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if t == "number":
        return 50
    if t == "boolean":
        return False
    if schema.get("format") == "date" or name.endswith(("_on", "_date")):
        return "2020-06-15"
    if "period" in name or (schema.get("pattern") or "").startswith("^[0-9]{4}-"):
        return "2020-06"
    if name in ("plan", "plan_code"):
        return "gap-2020-f1"
    if name in ("entity", "entity_code"):
        return "05001"
    if name == "email":
        return "injection@example.org"
    return "prueba"


def body_targets(spec, schema):
    """(path into the body, leaf schema) of every field to inject: top-level properties, and the properties
    of the first item of an array of objects."""
    schema = resolve(spec, schema or {})
    out = []
    for k, v in (schema.get("properties") or {}).items():
        v = resolve(spec, v)
        out.append(((k,), v))
        items = resolve(spec, v.get("items") or {}) if (v.get("type") == "array" or "items" in v) else {}
        for ik, iv in (items.get("properties") or {}).items():
            out.append(((k, 0, ik), resolve(spec, iv)))
    return out


def base_body(spec, schema, target):
    body = sample(spec, schema)
    if not isinstance(body, dict):
        body = {}
    schema = resolve(spec, schema or {})
    key = target[0]
    if key not in body:
        body[key] = sample(spec, (schema.get("properties") or {}).get(key) or {}, key)
    if len(target) == 3:
        items = resolve(spec, resolve(spec, (schema.get("properties") or {}).get(key) or {}).get("items") or {})
        first = sample(spec, items)
        if not isinstance(first, dict):
            first = {}
        body[key] = [first]
    return body


def set_in(body, target, value):
    node = body
    for k in target[:-1]:
        node = node[k]
    node[target[-1]] = value


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--secret", action="append", default=[], help="a string that must appear nowhere (repeatable)")
    ap.add_argument("--log", action="append", default=[], help="a log file to search for secrets (repeatable)")
    ap.add_argument("--spec", default=os.path.join(ROOT, "openapi.yaml"))
    ap.add_argument("--sources", default=os.path.join(ROOT, "Sources", "SetaAPI"))
    ap.add_argument("--person-id", type=int, default=999999)
    ap.add_argument("--max-seconds", type=float, default=240.0)
    ap.add_argument("--slow-limit", type=float, default=12.0)
    args = ap.parse_args()
    ls.exit_on_sigterm()

    spec = load_spec(args.spec)
    ops = operations(spec, args.sources)
    bases = Bases(args.base, args.token, args.person_id)
    secrets = [args.token] + [s for s in args.secret if s]
    print("injection: %d operations (%s), %d hostile values"
          % (len(ops), "openapi.yaml + route scan" if spec else "route scan only", len(HOSTILE)))

    tally = {"2xx": 0, "4xx": 0, "5xx": 0, "other": 0, "error": 0}
    fields = {"path": 0, "query": 0, "body": 0}
    failures = []
    slowest = (0.0, "")
    sent = 0
    started = time.monotonic()

    def send(op, path, query, body_bytes, what):
        nonlocal sent, slowest
        sent += 1
        target = path + (("?" + query) if query else "")
        headers = {"Content-Type": "application/json"} if body_bytes is not None else None
        try:
            r = ls.request(args.base, op.method, target, body=body_bytes, token=args.token, headers=headers, timeout=30)
        except (OSError, http.client.HTTPException) as e:
            tally["error"] += 1
            failures.append("%s %s [%s]: no answer (%s)" % (op.method, op.path, what, type(e).__name__))
            return
        if r.elapsed > slowest[0]:
            slowest = (r.elapsed, "%s %s [%s]" % (op.method, op.path, what))
        if r.elapsed > args.slow_limit:
            failures.append("%s %s [%s]: took %.1f s" % (op.method, op.path, what, r.elapsed))
        klass = "%dxx" % (r.status // 100)
        tally[klass if klass in tally else "other"] += 1
        if r.status >= 500 or r.status < 200 or 300 <= r.status < 400:
            failures.append("%s %s [%s]: %d %s" % (op.method, op.path, what, r.status, r.body[:200].decode("utf-8", "replace")))
        elif 200 <= r.status < 300 and r.body:
            if "json" in r.content_type:
                try:
                    json.loads(r.body.decode("utf-8"))
                except ValueError:
                    failures.append("%s %s [%s]: %d with a body that is not JSON" % (op.method, op.path, what, r.status))
            elif "spreadsheetml" in r.content_type:
                # An XLSX workbook (format=xlsx): a ZIP archive.
                if not r.body.startswith(b"PK\x03\x04"):
                    failures.append("%s %s [%s]: %d with an XLSX body that is not a ZIP" % (op.method, op.path, what, r.status))
            elif "csv" not in r.content_type and "text/plain" not in r.content_type:
                failures.append("%s %s [%s]: %d with Content-Type %r" % (op.method, op.path, what, r.status, r.content_type))
        blob = r.body + repr(r.headers).encode("utf-8")
        for s in secrets:
            if s.encode("utf-8") in blob:
                failures.append("%s %s [%s]: the answer contains a secret" % (op.method, op.path, what))

    def fill(op, override=None):
        parts = op.path
        for i, name in enumerate(op.path_params):
            value = override[1] if override and override[0] == name else urllib.parse.quote(bases.known(op, name, i), safe="")
            parts = parts.replace("{" + name + "}", value)
        return parts

    def base_query(op, skip=None):
        q = []
        for name, required, example, schema in op.query:
            if name == skip:
                continue
            if required:
                value = example if example is not None else sample(spec, schema, name)
                q.append("%s=%s" % (urllib.parse.quote(name), urllib.parse.quote(str(value), safe="")))
        return "&".join(q)

    def plausible_body(op):
        if op.body is None:
            return None
        return json.dumps(sample(spec, op.body), ensure_ascii=False).encode("utf-8")

    for op in ops:
        if time.monotonic() - started > args.max_seconds:
            failures.append("stopped after %.0f s with operations left" % args.max_seconds)
            break
        variants = encoded_variants()
        # Path parameters.
        for name in op.path_params:
            for label, encoded in variants:
                fields["path"] += 1
                send(op, fill(op, (name, encoded)), base_query(op), plausible_body(op), "path %s=%s" % (name, label))
        # Query parameters (documented ones; plus a stray one on every operation).
        names = [q[0] for q in op.query] + ["zz_unknown"]
        for name in names:
            for label, encoded in variants:
                fields["query"] += 1
                q = base_query(op, skip=name)
                q = (q + "&" if q else "") + "%s=%s" % (urllib.parse.quote(name), encoded)
                send(op, fill(op), q, plausible_body(op), "query %s=%s" % (name, label))
        # Body fields.
        if op.body is not None:
            for target, leaf in body_targets(spec, op.body):
                for label, text, raw in HOSTILE:
                    body = base_body(spec, op.body, target)
                    placeholder = "\u2063INJECT\u2063"
                    set_in(body, target, placeholder if raw is not None else text)
                    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                    if raw is not None:
                        data = data.replace(json.dumps(placeholder, ensure_ascii=False).encode("utf-8"), raw)
                    fields["body"] += 1
                    send(op, fill(op), base_query(op), data, "body %s=%s" % (".".join(map(str, target)), label))
            # The whole body hostile: not an object, bad bytes, a NUL.
            for label, data in (("array", b"[]"), ("string", b'"x"'), ("bad-utf8", b'{"\xff": 1}'),
                                ("nul", b'{"a":"\x00"}'), ("deep", b"[" * 5000 + b"]" * 5000)):
                fields["body"] += 1
                send(op, fill(op), base_query(op), data, "body %s" % label)

    # Logs: no secret may have been written.
    for path in args.log:
        try:
            data = open(path, "rb").read()
        except OSError as e:
            failures.append("cannot read log %s: %s" % (path, e))
            continue
        for s in secrets:
            if s.encode("utf-8") in data:
                failures.append("log %s contains a secret (%d characters, starts %r)" % (path, len(s), s[:4]))

    elapsed = time.monotonic() - started
    print("  requests: %d (path %d, query %d, body %d) in %.1f s" % (sent, fields["path"], fields["query"], fields["body"], elapsed))
    print("  answers: %s" % ", ".join("%s %d" % kv for kv in tally.items()))
    print("  slowest: %.0f ms (%s)" % (slowest[0] * 1000, slowest[1]))
    print("  secrets searched: %d strings in %d answers and %d log files" % (len(secrets), sent, len(args.log)))
    shown = failures[:25]
    for f in shown:
        print("  FAIL: " + f)
    if len(failures) > len(shown):
        print("  ... and %d more failures" % (len(failures) - len(shown)))
    print("injection: %d requests over %d operations, %d 5xx, %d failures" % (sent, len(ops), tally["5xx"], len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
