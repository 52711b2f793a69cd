#!/usr/bin/env python3
"""xlsx-check.py: a cut's XLSX and es-CO CSV, read by real spreadsheet code, hold the figures of its JSON.

Usage: scripts/xlsx-check.py --base http://127.0.0.1:PORT --token TOKEN [--plan gap-2020-f1] [--period 2021-Q2]
                             [--workdir DIR]

Uses the plan's latest cut, or takes one (`--period`) when the plan has none. Then:
- openpyxl reads `GET /v1/cuts/{id}/export?format=xlsx`: the sheets Ficha, one per group kind and Entidades
  are there; header frozen (A2) and autofilter on; every DANE code is a string with its zeros (`05001`);
  every phase figure and total is a number (format 0.00) equal to the JSON export's; every milestone status
  equals the JSON's; the Ficha names the cut's label and period; the national mean equals `GET /v1/cuts/{id}`.
- Python's csv reads `format=csv&locale=es-CO&lang=es` (`;`, decimal comma, BOM): the totals equal the JSON's.
- Where LibreOffice is installed (`soffice`), it converts the workbook to CSV and the es-CO CSV to XLSX, headless,
  with Colombian settings, and the values are compared again (codes keep their zeros from the workbook; the CSV's
  totals arrive as numbers, not text). Without it that part is skipped with a message.
- The cut workbook's `Hitos` sheet holds the national milestone shares of `GET /v1/cuts/{id}`.
- `GET /v1/cuts/{id}/report`: its JSON's national mean, phase and milestone shares are the cut's; openpyxl reads its
  workbook (Ficha, Nacional, Regiones, Aliados, Fases, Hitos, Rezagadas) and every group line, share and lagging
  entity equals the JSON's (DANE codes as strings).
openpyxl is installed with pip when missing. Exit status 1 on any mismatch.
"""

import argparse
import csv
import glob
import io
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_support as ls

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GROUP_SHEETS = ["Nacional", "Regiones", "Departamentos", "Asesores", "Aliados", "Tipos de entidad"]


def ensure_openpyxl():
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "openpyxl"],
                       check=False)
    import openpyxl
    return openpyxl


class Checker:
    def __init__(self):
        self.failures = []
        self.checked = 0

    def expect(self, ok, message):
        self.checked += 1
        if not ok:
            self.failures.append(message)
            if len(self.failures) <= 20:
                print("  MISMATCH: " + message)


def two(x):
    """A JSON figure as the exports write it: rounded to two decimals, half away from zero."""
    return None if x is None else Decimal(str(x)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def neutralized(text):
    """What the exports write for a text cell (OWASP): a leading apostrophe before = + - @ tab CR."""
    return "'" + text if text and text[0] in "=+-@\t\r" else text


def same_figure(cell, expected):
    if expected is None:
        return cell in (None, "")
    return isinstance(cell, (int, float)) and not isinstance(cell, bool) and abs(Decimal(str(cell)) - two(expected)) < Decimal("0.001")


def get(base, token, path, accept="application/json", timeout=120.0):
    r = ls.request(base, "GET", path, token=token, headers={"Accept": accept}, timeout=timeout)
    if r.status != 200:
        raise SystemExit("xlsx-check: GET %s answered %d: %s" % (path, r.status, r.body[:300]))
    return r


def the_cut(base, token, plan, period):
    # Other live checks (schemathesis) may have taken cuts that hold no entity: use the latest one with a national group.
    cuts = get(base, token, "/v1/cuts?plan=" + plan).json()["items"]
    for item in reversed(cuts):
        if "national" in get(base, token, "/v1/cuts/%d" % item["id"]).json():
            return item["id"]
    r = ls.request(base, "POST", "/v1/cuts", token=token, body={"plan": plan, "period": period, "label": "Corte de prueba XLSX"})
    if r.status != 201:
        raise SystemExit("xlsx-check: could not take a cut: %d %s" % (r.status, r.body[:300]))
    return r.json()["id"]


def check_workbook(c, openpyxl, data, cut, export, national):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    names = wb.sheetnames
    c.expect(names[0] == "Ficha" and names[-1] == "Entidades", "sheets %s" % names)
    c.expect(all(n in names for n in GROUP_SHEETS), "group sheets %s" % names)
    ficha = {row[0]: row[1] for row in wb["Ficha"].iter_rows(min_row=2, values_only=True)}
    c.expect(ficha.get("Etiqueta") == neutralized(cut["label"]), "Ficha label %r" % ficha.get("Etiqueta"))
    c.expect(ficha.get("Periodo") == cut["period"], "Ficha period %r" % ficha.get("Periodo"))
    c.expect(ficha.get("Entidades") == len(export["entities"]), "Ficha entity count %r" % ficha.get("Entidades"))
    ws = wb["Entidades"]
    c.expect(ws.freeze_panes == "A2", "freeze panes %r" % ws.freeze_panes)
    c.expect(bool(ws.auto_filter.ref), "autofilter %r" % ws.auto_filter.ref)
    rows = ws.iter_rows(values_only=False)
    header = [cell.value for cell in next(rows)]
    col = {name: i for i, name in enumerate(header)}
    lower = {str(name).lower(): i for i, name in enumerate(header)}
    by_code = {e["code"]: e for e in export["entities"]}
    seen = 0
    for row in rows:
        code = row[col["dane_code"]].value
        c.expect(isinstance(code, str), "code %r is not text" % (code,))
        e = by_code.get(code)
        c.expect(e is not None, "code %r not in the JSON export (zeros lost?)" % (code,))
        if e is None:
            continue
        seen += 1
        total = row[col["total"]]
        c.expect(same_figure(total.value, e["total"]), "%s total %r ≠ %r" % (code, total.value, e["total"]))
        if total.value is not None:
            c.expect(total.number_format == "0.00", "%s total format %r" % (code, total.number_format))
        for p in e["phases"]:
            v = row[col[p["code"]]].value
            c.expect(same_figure(v, p["progress"]), "%s phase %s %r ≠ %r" % (code, p["code"], v, p["progress"]))
        # The JSON's milestone keys pass through the encoder's snake_case strategy (`H1` → `h1`): match ignoring case.
        for m, status in (e.get("milestones") or {}).items():
            v = row[lower[m.lower()]].value
            c.expect(v == status, "%s milestone %s %r ≠ %r" % (code, m, v, status))
    c.expect(seen == len(by_code), "entities in the workbook %d, in the JSON %d" % (seen, len(by_code)))
    c.expect(any(code.startswith("0") for code in by_code), "the cut has codes with a leading zero to check")
    nat = list(wb["Nacional"].iter_rows(values_only=True))
    nh = nat[0]
    c.expect(same_figure(nat[1][nh.index("mean_progress")], national["mean_progress"]),
             "national mean %r ≠ %r" % (nat[1][nh.index("mean_progress")], national["mean_progress"]))
    return seen


def rows_by_header(ws):
    """A sheet's rows as dicts keyed by its header row."""
    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        return []
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:]]


def check_cut_milestones(c, openpyxl, data, national):
    """The cut workbook's Hitos sheet holds the national milestone shares of GET /v1/cuts/{id}."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    c.expect("Hitos" in wb.sheetnames, "cut workbook without Hitos: %s" % wb.sheetnames)
    if "Hitos" not in wb.sheetnames:
        return
    rows = {(r["key"], r["code"]): r for r in rows_by_header(wb["Hitos"])}
    for m in national.get("milestone_completion") or []:
        r = rows.get(("national", m["milestone_code"]))
        c.expect(r is not None and same_figure(r["completed_share"], m["completed_share"]),
                 "cut Hitos %s %r ≠ %r" % (m["milestone_code"], r and r["completed_share"], m["completed_share"]))


def check_report(c, openpyxl, base, token, cut_id, cut):
    """GET /v1/cuts/{id}/report: its JSON holds the cut's frozen figures, its workbook (openpyxl) the JSON's."""
    report = get(base, token, "/v1/cuts/%d/report" % cut_id).json()
    national = cut.get("national") or {}
    c.expect(report["cut"]["id"] == cut_id, "report of cut %r" % report["cut"]["id"])
    n = report.get("national") or {}
    c.expect(two(n.get("mean_progress")) == two(national.get("mean_progress")),
             "report national mean %r ≠ cut %r" % (n.get("mean_progress"), national.get("mean_progress")))
    completion = (report.get("completion") or [{}])[0]
    shares = {p["phase_code"]: p["completed_share"] for p in national.get("phase_completion") or []}
    for p in completion.get("phases") or []:
        c.expect(two(p.get("completed_share")) == two(shares.get(p["code"])),
                 "report phase %s %r ≠ cut %r" % (p["code"], p.get("completed_share"), shares.get(p["code"])))
    ms = {m["milestone_code"]: m["completed_share"] for m in national.get("milestone_completion") or []}
    for m in completion.get("milestones") or []:
        c.expect(two(m.get("completed_share")) == two(ms.get(m["code"])),
                 "report milestone %s %r ≠ cut %r" % (m["code"], m.get("completed_share"), ms.get(m["code"])))
    book = get(base, token, "/v1/cuts/%d/report" % cut_id, accept=XLSX)
    c.expect(book.content_type == XLSX, "report content type %r" % book.content_type)
    wb = openpyxl.load_workbook(io.BytesIO(book.body))
    for name in ["Ficha", "Nacional", "Regiones", "Aliados", "Fases", "Hitos", "Rezagadas"]:
        c.expect(name in wb.sheetnames, "report sheet %s missing: %s" % (name, wb.sheetnames))
    if not all(name in wb.sheetnames for name in ["Ficha", "Nacional", "Regiones", "Aliados", "Fases", "Hitos", "Rezagadas"]):
        return 0
    ficha = {row[0]: row[1] for row in wb["Ficha"].iter_rows(min_row=2, values_only=True)}
    c.expect(ficha.get("Corte") == cut_id, "report Ficha cut %r" % ficha.get("Corte"))
    previous = report.get("previous_cut")
    c.expect(ficha.get("Corte anterior") == (previous["id"] if previous else None),
             "report Ficha previous cut %r ≠ %r" % (ficha.get("Corte anterior"), previous and previous["id"]))
    checked = 0
    for sheet, lines in [("Nacional", [n] if n else []), ("Regiones", report.get("regions") or []),
                         ("Aliados", report.get("partners") or [])]:
        rows = {r["key"]: r for r in rows_by_header(wb[sheet])}
        c.expect(len(rows) == len(lines), "report %s rows %d ≠ %d" % (sheet, len(rows), len(lines)))
        for g in lines:
            r = rows.get(g["key"]) or {}
            for field in ["mean_progress", "min", "max", "previous_mean_progress", "change"]:
                c.expect(same_figure(r.get(field), g.get(field)), "report %s %s %s %r ≠ %r" % (sheet, g["key"], field, r.get(field), g.get(field)))
            c.expect(r.get("entity_count") == g["entity_count"], "report %s %s entity_count" % (sheet, g["key"]))
            checked += 1
    for sheet, field in [("Fases", "phases"), ("Hitos", "milestones")]:
        rows = {(r["key"], r["code"]): r for r in rows_by_header(wb[sheet])}
        for block in report.get("completion") or []:
            for item in block[field]:
                r = rows.get((block["key"], item["code"])) or {}
                for f in ["completed_share", "previous_completed_share", "change"]:
                    c.expect(same_figure(r.get(f), item.get(f)), "report %s %s %s %s %r ≠ %r" % (sheet, block["key"], item["code"], f, r.get(f), item.get(f)))
                checked += 1
    lagging = rows_by_header(wb["Rezagadas"])
    expected = [(g.get("region_code"), e) for g in report.get("lagging") or [] for e in g["entities"]]
    c.expect(len(lagging) == len(expected), "report Rezagadas rows %d ≠ %d" % (len(lagging), len(expected)))
    for r, (region, e) in zip(lagging, expected):
        c.expect(isinstance(r["dane_code"], str) and r["dane_code"] == e["code"], "report lagging code %r ≠ %r" % (r["dane_code"], e["code"]))
        c.expect(r["region_code"] == region and r["rank"] == e["rank"], "report lagging %s region/rank" % e["code"])
        c.expect(same_figure(r["total"], e.get("total")), "report lagging %s total %r ≠ %r" % (e["code"], r["total"], e.get("total")))
        checked += 1
    return checked


def check_colombian_csv(c, data, export):
    c.expect(data.startswith(b"\xef\xbb\xbf"), "es-CO CSV without BOM")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header = rows[0]
    c.expect(header[0] == "codigo_dane" and "total" in header, "es-CO header %s" % header[:12])
    by_code = {e["code"]: e for e in export["entities"]}
    ti = header.index("total")
    for r in rows[1:]:
        e = by_code.get(r[0])
        c.expect(e is not None, "es-CO code %r unknown" % r[0])
        if e is None:
            continue
        expected = "" if e["total"] is None else str(two(e["total"])).replace(".", ",")
        c.expect(r[ti] == expected, "es-CO %s total %r ≠ %r" % (r[0], r[ti], expected))
    return len(rows) - 1


def check_libreoffice(c, openpyxl, workdir, xlsx_path, csv_path, export):
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if not office:
        print("xlsx-check: LibreOffice (soffice) is not installed: the headless conversion check is skipped")
        return
    env = dict(os.environ, HOME=workdir)  # a private profile, so nothing of the machine's is touched
    # Workbook → one CSV per sheet (option 12 = -1), UTF-8 (76), comma (44), quotes (34).
    out = os.path.join(workdir, "lo-xlsx")
    os.makedirs(out, exist_ok=True)
    subprocess.run([office, "--headless", "--norestore", "--convert-to",
                    'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1', "--outdir", out,
                    xlsx_path], env=env, check=False, timeout=180, capture_output=True)
    sheets = glob.glob(os.path.join(out, "*Entidades*.csv")) or glob.glob(os.path.join(out, "*.csv"))
    c.expect(bool(sheets), "LibreOffice wrote no CSV from the workbook")
    by_code = {e["code"]: e for e in export["entities"]}
    if sheets:
        with open(sheets[0], encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        if rows and rows[0] and rows[0][0] == "dane_code":
            ti = rows[0].index("total")
            for r in rows[1:]:
                c.expect(r[0] in by_code, "LibreOffice lost the code %r" % r[0])
                e = by_code.get(r[0])
                if e and e["total"] is not None:
                    c.expect(abs(Decimal(r[ti].replace(",", ".")) - two(e["total"])) < Decimal("0.001"),
                             "LibreOffice total of %s %r ≠ %r" % (r[0], r[ti], e["total"]))
        else:
            print("xlsx-check: this LibreOffice exported only the first sheet (it predates the all-sheets option)")
    # es-CO CSV → XLSX with `;`, UTF-8 and the Colombian locale: totals must arrive as numbers. Option 6 is the
    # language as a decimal LANGID (9226 = 0x240A, es-CO); LibreOffice 7.4 ignores the tag `es-CO` there. Codes
    # lose their zeros in this direction (a CSV has no types; that is what the workbook is for), so they are
    # matched with the zeros put back.
    out2 = os.path.join(workdir, "lo-csv")
    os.makedirs(out2, exist_ok=True)
    subprocess.run([office, "--headless", "--norestore", "--infilter=Text - txt - csv (StarCalc):59,34,76,1,,9226",
                    "--convert-to", "xlsx", "--outdir", out2, csv_path], env=env, check=False, timeout=180, capture_output=True)
    books = glob.glob(os.path.join(out2, "*.xlsx"))
    c.expect(bool(books), "LibreOffice wrote no XLSX from the es-CO CSV")
    if books:
        ws = openpyxl.load_workbook(books[0]).active
        rows = list(ws.iter_rows(values_only=True))
        ti = list(rows[0]).index("total")
        for r in rows[1:]:
            code = str(r[0]).zfill(5) if isinstance(r[0], (int, float)) else r[0]
            code = code if code in by_code else str(r[0]).zfill(2)
            e = by_code.get(code)
            if e is None or e["total"] is None:
                continue
            c.expect(isinstance(r[ti], (int, float)), "LibreOffice read the es-CO total of %s as %r (text)" % (code, r[ti]))
            if isinstance(r[ti], (int, float)):
                c.expect(abs(Decimal(str(r[ti])) - two(e["total"])) < Decimal("0.001"), "LibreOffice es-CO total of %s" % code)
    print("xlsx-check: LibreOffice conversions compared")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--plan", default="gap-2020-f1")
    ap.add_argument("--period", default="2021-Q2")
    ap.add_argument("--workdir")
    a = ap.parse_args()
    ls.exit_on_sigterm()
    openpyxl = ensure_openpyxl()
    workdir = a.workdir or tempfile.mkdtemp(prefix="seta-xlsx-")
    os.makedirs(workdir, exist_ok=True)
    cut_id = the_cut(a.base, a.token, a.plan, a.period)
    cut = get(a.base, a.token, "/v1/cuts/%d" % cut_id).json()
    export = get(a.base, a.token, "/v1/cuts/%d/export?format=json" % cut_id).json()
    c = Checker()
    book = get(a.base, a.token, "/v1/cuts/%d/export" % cut_id, accept=XLSX)
    c.expect(book.content_type == XLSX, "content type %r" % book.content_type)
    xlsx_path = os.path.join(workdir, "corte-%d.xlsx" % cut_id)
    with open(xlsx_path, "wb") as f:
        f.write(book.body)
    n = check_workbook(c, openpyxl, book.body, cut, export, cut["national"])
    check_cut_milestones(c, openpyxl, book.body, cut["national"])
    report_rows = check_report(c, openpyxl, a.base, a.token, cut_id, cut)
    col = get(a.base, a.token, "/v1/cuts/%d/export?format=csv&locale=es-CO&lang=es" % cut_id)
    csv_path = os.path.join(workdir, "corte-%d-es-CO.csv" % cut_id)
    with open(csv_path, "wb") as f:
        f.write(col.body)
    m = check_colombian_csv(c, col.body, export)
    check_libreoffice(c, openpyxl, workdir, xlsx_path, csv_path, export)
    if not a.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print("xlsx-check: cut %d, %d entities in the workbook, %d in the es-CO CSV, %d report rows, %d comparisons, %d mismatches (%d KB xlsx)"
          % (cut_id, n, m, report_rows, c.checked, len(c.failures), len(book.body) // 1024))
    sys.exit(1 if c.failures else 0)


if __name__ == "__main__":
    main()
