# Sourced by bench.sh and bench-exports.sh: each export of cut $ID against psql COPY of the same frozen rows.
# Expects what scripts/bench-setup.sh sets ($WORK, $PGBIN, $DATABASE_URL, $AUTH, $PORT) and $ID.
# Target: each export of the national cut
# within 3 × the time psql takes to COPY the same frozen rows out as CSV (client included on both sides).
echo "== cut exports vs psql COPY of the same rows (cut $ID)"
median5() { sort -n | awk '{a[NR]=$1} END {print a[3]}'; }
COPY_SQL="COPY (SELECT entity_code, entity_name, entity_type, department_code, department_name, region_code, region_name,
  advisor_id, advisor_name, partner_code, total, phases, milestones FROM cut_entities WHERE cut_id = $ID ORDER BY entity_code)
  TO STDOUT WITH (FORMAT csv, HEADER)"
COPY_S=$(for i in 1 2 3 4 5; do
  python3 - "$PGBIN/psql" "$DATABASE_URL" "$COPY_SQL" "$WORK/copy.csv" <<'PY'
import subprocess, sys, time
t = time.monotonic()
with open(sys.argv[4], "wb") as f:
    subprocess.run([sys.argv[1], sys.argv[2], "-X", "-q", "-c", sys.argv[3]], stdout=f, check=True)
print("%.4f" % (time.monotonic() - t))
PY
done | median5)
echo "psql COPY of the cut's rows (median of 5): ${COPY_S}s, $(wc -c < "$WORK/copy.csv") bytes"
export_vs_copy() { # label, accept header, query
  local s
  s=$(for i in 1 2 3 4 5; do curl -s -o "$WORK/export.out" -w '%{time_total}\n' -H "$AUTH" -H "Accept: $2" \
      "localhost:$PORT/v1/cuts/$ID/export$3"; done | median5)
  python3 -c "print(f'{\"$1\":<34} median of 5: {float(\"$s\"):.4f}s, $(wc -c < "$WORK/export.out") bytes, {float(\"$s\")/float(\"$COPY_S\"):.2f} × COPY (target ≤ 3)')"
}
export_vs_copy "CSV (default)" "text/csv" ""
export_vs_copy "CSV es-CO, Spanish headers" "text/csv" "?locale=es-CO&lang=es"
export_vs_copy "XLSX workbook (all sheets)" "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ""
