#!/usr/bin/env bash
# Prints the issue-16 sweep measures (duplicates, @unchecked Sendable, SQL in Routes, APIError in stores, long handler closures).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== duplicates pairs in Sources (duplicates --seconds 60)"
(cd Sources && duplicates --seconds 60 | head -1)
# Of those pairs, how many are declarations on both sides (80 % or more of each side's lines are var/let/case
# declarations, type heads, comments or braces: wire types that share field types) and how many involve code.
(cd Sources && duplicates --most 200 --seconds 60) | python3 -c '
import re, sys
def decl_share(path, a, b):
    lines = open("Sources/" + path).read().splitlines()[a - 1:b]
    pat = re.compile(r"\s*((public|private|fileprivate) )?(var|let|case|struct|enum|final class) ")
    n = sum(1 for l in lines if pat.match(l) or l.strip() in ("}", "") or l.strip().startswith("//"))
    return n / len(lines)
decl = code = 0
for line in sys.stdin:
    m = re.match(r"D\d+ (\S+):(\d+)-(\d+) ~ (\S+):(\d+)-(\d+)", line)
    if not m: continue
    f1, a1, b1, f2, a2, b2 = m.groups()
    if decl_share(f1, int(a1), int(b1)) >= 0.8 and decl_share(f2, int(a2), int(b2)) >= 0.8: decl += 1
    else: code += 1
print(f"   of which declarations on both sides: {decl}; involving code: {code}")
'

echo "== @unchecked Sendable in Sources"
grep -rn "@unchecked Sendable" Sources | wc -l
echo "== nonisolated(unsafe) in Sources"
grep -rn "nonisolated(unsafe)" Sources | wc -l || true

# A Routes file "contains SQL" when it calls the database with a statement or holds SQL keywords in a string.
echo "== *Routes.swift files containing SQL"
sql_files=$(grep -lE '"""|\b(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM)\b|\.query\(|\.execute\(' \
    $(find Sources -name '*Routes.swift') 2>/dev/null | while read -r f; do
        if grep -qE '\b(SELECT|INSERT INTO|DELETE FROM|UPDATE [a-z_]+ SET|pg_advisory)' "$f"; then echo "$f"; fi
    done || true)
echo "$sql_files" | grep -c . || true
echo "$sql_files" | sed 's/^/   /'

echo "== APIError thrown from *Store.swift / *Import.swift files"
grep -rnE 'throw APIError|APIError\.' $(find Sources -name '*Store.swift' -o -name 'ReportImport.swift' -o -name 'Import.swift') \
    | grep -c 'throw' || true
grep -rcE 'throw APIError' $(find Sources -name '*Store.swift' -o -name 'ReportImport.swift') | grep -v ':0$' | sed 's/^/   /' || true

echo "== handler closures longer than 20 lines (r.add(...) { ctx in ... })"
python3 - <<'PY'
import re, pathlib
total = 0; long = []
for p in sorted(pathlib.Path("Sources").rglob("*.swift")):
    lines = p.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.search(r'\br\.add\(.*\{\s*(_|ctx)\s+in\s*$', line):
            total += 1
            indent = len(line) - len(line.lstrip())
            for j in range(i + 1, len(lines)):
                l = lines[j]
                if l.strip().startswith("}") and len(l) - len(l.lstrip()) == indent:
                    n = j - i + 1
                    if n > 20: long.append((str(p), i + 1, n))
                    break
print(len(long), "of", total, "closure handlers")
for f, l, n in long: print(f"   {f}:{l} {n} lines")
PY
