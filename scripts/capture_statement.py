#!/usr/bin/env python3
"""Prints the last statement PostgreSQL logged (log_min_duration_statement) with its bound parameters inlined,
so pgbench can run exactly what the service sent. Usage: capture_statement.py PG_LOG [MARKER]"""
import re
import sys

log = open(sys.argv[1], encoding="utf-8", errors="replace").read()
# "execute <unnamed>: " for a one-off statement, "execute seta_N: " for a prepared one.
markers = list(re.finditer(sys.argv[2] if len(sys.argv) > 2 else r"execute [^:\n]+: ", log))
start = markers[-1].end()
entry = log[start:]
# The entry ends where the next log line starts (a timestamp at the start of a line).
entry = re.split(r"\n\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", entry, maxsplit=1)[0]
params_match = re.search(r"\n\d{4}-\d{2}-\d{2} [^\n]*DETAIL:  parameters: (.*)", log[start:])
params = dict(re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", params_match.group(1))) if params_match else {}
sql = re.sub(r"\$(\d+)\b", lambda m: params.get(m.group(1), m.group(0)), entry.strip())
print(sql.rstrip(";") + ";")
