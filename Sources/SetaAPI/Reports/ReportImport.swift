// Bulk load of past reports from CSV: COPY into a staging table, set-based checks, set-based writes, all or nothing.
import Foundation
import SetaDatabase
import SetaDomain

/// One rejected row of an import: its line in the file, the column at fault and why.
public struct ImportRowError: Codable, Sendable, Equatable {
    public var line: Int
    public var field: String
    public var reason: String
}

/// What an import did (or, in a dry run or when rows were rejected, would have done). Counts are of
/// rows: `created` rows add a milestone to a month, `updated` rows change one, `ignored` rows repeat the
/// value already stored. `errors` lists the first rejected rows in file order.
public struct ImportSummary: Codable, Sendable, Equatable {
    public var dryRun: Bool
    /// True only when the rows were written (not a dry run and nothing rejected).
    public var committed: Bool
    public var rows: Int
    public var created: Int
    public var updated: Int
    public var ignored: Int
    public var rejected: Int
    public var errors: [ImportRowError]
}

/// `seta import reports FILE` and `POST /v1/imports/reports`.
///
/// The CSV has a header naming its columns (any order): `plan, entity, period, milestone, status` are
/// required; `achieved_on, evidence, reported_at, advisor_email` (or `advisor`) are optional. Each row is
/// the value of one milestone of one entity in one month. Rows are parsed here (RFC 4180, exact line
/// numbers) and streamed with COPY into a temporary table; every other check and every write is one SQL
/// statement over the whole file. A file with any rejected row writes nothing.
///
/// Decisions (see docs): `reported_at` (date, or date-time; Bogotá when it has no offset) becomes the
/// report's first receipt when the import creates the report (timeliness of past months) and the time of
/// the revisions; without it the import's time is used. The author of each revision is the person named
/// by `advisor_email`, else whoever runs the import. `not_applicable` is refused on a milestone whose
/// current catalog does not allow it (same rule as the API). An entity code of 4 or 1 digits gets its leading zero
/// back (spreadsheets drop it). The same (plan, entity, period, milestone) twice in one file is rejected.
/// Imported rows carry no comment: a row that changes a month keeps that month's comment, and a
/// regression (done → not started / in progress / not applicable) is flagged in the history without requiring one.
public enum ReportImport {
    static let requiredColumns = ["plan", "entity", "period", "milestone", "status"]
    static let optionalColumns = ["achieved_on", "evidence", "reported_at", "advisor_email"]

    public static func run(pool: ConnectionPool, file: URL, dryRun: Bool, by: Int64?, now: Date = Date()) throws -> ImportSummary {
        let data = try Data(contentsOf: file)
        return try run(pool: pool, bytes: [UInt8](data), dryRun: dryRun, by: by, now: now)
    }

    public static func run(pool: ConnectionPool, csvText: String, dryRun: Bool, by: Int64?, now: Date = Date()) throws -> ImportSummary {
        try run(pool: pool, bytes: Array(csvText.utf8), dryRun: dryRun, by: by, now: now)
    }

    static func run(pool: ConnectionPool, bytes: [UInt8], dryRun: Bool, by: Int64?, now: Date) throws -> ImportSummary {
        let today = CalendarDay(date: now)
        let parser = try ImportParser(bytes: bytes, today: today)
        // The transaction is rolled back (by throwing) unless the rows are to be kept.
        struct RolledBack: Error { var summary: ImportSummary }
        do {
            return try pool.withTransaction { conn -> ImportSummary in
                try conn.execute("SELECT pg_advisory_xact_lock(\(LockKey.reportImport))")
                // Sorts and hashes over a million rows stay in memory.
                try conn.execute("SET LOCAL work_mem = '256MB'")
                // A million rows and their progress maintenance run longer than any read may.
                try conn.execute("SET LOCAL statement_timeout = 0")
                try conn.execute("""
                    CREATE TEMP TABLE import_rows (
                        line integer, plan text, entity text, period date, milestone text, status text,
                        achieved_on date, evidence text, reported_at timestamptz, advisor_email text,
                        error_rule text, error_field text, error_reason text
                    ) ON COMMIT DROP
                    """)
                try conn.copyIn("COPY import_rows FROM STDIN", rows: sequence(state: parser) { $0.nextChunk() })
                try conn.execute("ANALYZE import_rows")
                try check(conn, now: now)

                let totals = try conn.query("""
                    SELECT count(*) AS rows, count(*) FILTER (WHERE problem IS NOT NULL) AS rejected FROM import_checked
                    """).rows[0]
                let errors = try conn.query("""
                    SELECT line, problem[2] AS field, problem[3] AS reason FROM import_checked
                     WHERE problem IS NOT NULL ORDER BY line LIMIT \(ReportLimits.maxImportErrorsListed)
                    """).rows.map { r in
                    ImportRowError(line: try r.decode("line"), field: try r.decode("field"), reason: try r.decode("reason"))
                }
                var summary = ImportSummary(dryRun: dryRun, committed: false, rows: try totals.decode("rows"),
                                            created: 0, updated: 0, ignored: 0, rejected: try totals.decode("rejected"),
                                            errors: errors)
                let writing = !dryRun && summary.rejected == 0
                try conn.execute("CREATE TEMP TABLE import_new_heads (plan text, entity text, period date) ON COMMIT DROP")
                if writing {
                    // Create the reports that do not exist yet and lock those that do, before comparing values:
                    // a report written through the API meanwhile waits for this import, or this import for it.
                    try lockHeads(conn, by: by, now: now)
                    try conn.execute("ANALYZE reports")
                }
                try classify(conn)
                let counts = try conn.query("""
                    SELECT count(*) FILTER (WHERE action = 'created') AS created,
                           count(*) FILTER (WHERE action = 'updated') AS updated,
                           count(*) FILTER (WHERE action = 'ignored') AS ignored
                      FROM import_changes
                    """).rows[0]
                summary.created = try counts.decode("created")
                summary.updated = try counts.decode("updated")
                summary.ignored = try counts.decode("ignored")
                guard writing else { throw RolledBack(summary: summary) }
                if summary.created + summary.updated > 0 { try write(conn, by: by, now: now) }
                summary.committed = true
                return summary
            }
        } catch let r as RolledBack {
            return r.summary
        }
    }

    /// import_checked: every staged row with its first problem (`{rule, field, reason}`), or NULL when valid.
    /// In order: the parser's (format, then the value rules of `ReportWriteRules`), a milestone repeated in
    /// the file, the database rules (`ReportWriteChecks`, the same statement the PUT runs), then the
    /// import's own columns (`reported_at`, `advisor_email`).
    static func check(_ conn: Connection, now: Date) throws {
        try conn.execute("""
            CREATE TEMP TABLE import_checked ON COMMIT DROP AS
            SELECT r.line, r.plan, r.entity, r.period, r.milestone, r.status, r.achieved_on, r.evidence, r.reported_at,
                   pe.id AS author_id,
                   CASE
                     WHEN r.error_field IS NOT NULL THEN ARRAY[r.error_rule, r.error_field, r.error_reason]
                     WHEN d.first_line <> r.line
                          THEN ARRAY[\(ReportWriteRules.Rule.milestoneRepeated.rawValue), 'milestone',
                                     'El hito ' || r.milestone || ' aparece dos veces (también en la línea ' || d.first_line || ').']
                     WHEN r.problem IS NOT NULL THEN r.problem
                     WHEN r.reported_at > \(now) THEN ARRAY['reported_at_in_future', 'reported_at', 'La fecha de recepción está en el futuro.']
                     WHEN r.advisor_email IS NOT NULL AND pe.id IS NULL
                          THEN ARRAY['advisor_unknown', 'advisor_email', 'No hay ninguna persona con el correo ' || r.advisor_email || '.']
                   END AS problem
              FROM (\(ReportWriteChecks.select(from: "import_rows"))) r
              -- Repeated keys, found with a hash aggregate (no sort of the whole file).
              LEFT JOIN (SELECT plan, entity, period, milestone, min(line) AS first_line FROM import_rows
                          GROUP BY plan, entity, period, milestone HAVING count(*) > 1) d
                     ON d.plan = r.plan AND d.entity = r.entity AND d.period = r.period AND d.milestone = r.milestone
              LEFT JOIN people pe ON lower(pe.email) = lower(r.advisor_email)
            """)
        try conn.execute("ANALYZE import_checked")
    }

    /// Creates the reports the import opens (revision 1, first received at the earliest `reported_at`)
    /// and locks every report it touches.
    static func lockHeads(_ conn: Connection, by: Int64?, now: Date) throws {
        // Shared month locks first (as API writes take them), so a concurrent lock of a month waits.
        try conn.execute("""
            SELECT pg_advisory_xact_lock_shared(\(LockKey.period)::int4, hashtext(k.plan || '/' || to_char(k.period, 'YYYY-MM')))
              FROM (SELECT DISTINCT plan, period FROM import_checked ORDER BY 1, 2) k
            """)
        let lockedMeanwhile = try conn.query("""
            SELECT count(*) AS n FROM period_locks l JOIN (SELECT DISTINCT plan, period FROM import_checked) k
                ON k.plan = l.plan_code AND k.period = l.period
            """).rows[0].decode("n", as: Int.self)
        if lockedMeanwhile > 0 {
            throw StoreError.locked("Un periodo del archivo se bloqueó durante la importación; vuelva a intentarlo para ver qué filas rechaza.")
        }
        try conn.execute("""
            WITH added AS (
                INSERT INTO reports (plan_code, entity_code, period, revision, first_received_at, updated_at, updated_by)
                SELECT c.plan, c.entity, c.period, 1, COALESCE(min(c.reported_at), \(now)), COALESCE(max(c.reported_at), \(now)),
                       COALESCE(max(c.author_id), \(by))
                  FROM import_checked c
                 GROUP BY c.plan, c.entity, c.period
                 ORDER BY c.plan, c.entity, c.period
                ON CONFLICT DO NOTHING
                RETURNING plan_code, entity_code, period
            )
            INSERT INTO import_new_heads SELECT * FROM added
            """)
        try conn.execute("""
            SELECT 1 FROM reports r
             WHERE (r.plan_code, r.entity_code, r.period) IN (SELECT DISTINCT plan, entity, period FROM import_checked)
             ORDER BY r.plan_code, r.entity_code, r.period
               FOR UPDATE OF r
            """)
    }

    /// import_changes: each valid row with the value it replaces in the same month and what it does,
    /// stored in the order of report_milestones' key, so the writes after it need no sort of their own.
    static func classify(_ conn: Connection) throws {
        try conn.execute("ANALYZE import_new_heads")
        try conn.execute("""
            CREATE TEMP TABLE import_changes ON COMMIT DROP AS
            SELECT c.line, c.plan, c.entity, c.period, c.milestone, c.status, c.achieved_on, c.evidence, c.reported_at,
                   c.author_id, x.status AS old_status, x.achieved_on AS old_achieved_on, x.evidence AS old_evidence,
                   x.comment AS old_comment, n.plan IS NOT NULL AS new_head,
                   -- The import brings no comment and keeps the month's: the stored comment is the new one.
                   CASE WHEN x.milestone_code IS NULL THEN 'created'
                        WHEN report_value_unchanged(x.status, x.achieved_on, x.evidence, x.comment,
                                                    c.status, c.achieved_on, c.evidence, x.comment) THEN 'ignored'
                        ELSE 'updated' END AS action
              FROM import_checked c
              LEFT JOIN report_milestones x
                     ON x.plan_code = c.plan AND x.entity_code = c.entity AND x.milestone_code = c.milestone AND x.period = c.period
              LEFT JOIN import_new_heads n ON n.plan = c.plan AND n.entity = c.entity AND n.period = c.period
             WHERE c.problem IS NULL
             ORDER BY c.plan, c.entity, c.milestone, c.period
            """)
        try conn.execute("ANALYZE import_changes")
    }

    /// Bumps the revision of every existing report that changes, then writes the revisions (previous
    /// value: the same month's, else the latest earlier month's, counting the file's own rows) and the
    /// current values. Rows flow in import_changes' order (report_milestones' key order: the window's sort
    /// finds them presorted, the hash joins keep it), so a million index insertions touch each page once.
    static func write(_ conn: Connection, by: Int64?, now: Date) throws {
        try conn.execute("""
            UPDATE reports r SET revision = r.revision + 1, updated_at = \(now),
                                 updated_by = COALESCE(k.author_id, \(by))
              FROM (SELECT plan, entity, period, max(author_id) AS author_id
                      FROM import_changes WHERE action <> 'ignored' AND NOT new_head GROUP BY 1, 2, 3) k
             WHERE r.plan_code = k.plan AND r.entity_code = k.entity AND r.period = k.period
            """)
        try conn.execute("""
            WITH keys AS (
                -- Only milestones that change need their history walked.
                SELECT DISTINCT plan, entity, milestone FROM import_changes WHERE action <> 'ignored'
            ), combined AS (
                SELECT c.plan, c.entity, c.milestone, c.period, c.status, c.achieved_on, c.evidence,
                       CASE WHEN c.action = 'created' THEN NULL ELSE c.old_comment END AS comment,
                       c.line, c.action, c.reported_at, c.author_id, c.old_status, c.old_achieved_on, c.old_evidence, c.old_comment
                  FROM import_changes c
                 WHERE (c.plan, c.entity, c.milestone) IN (SELECT plan, entity, milestone FROM keys)
                UNION ALL
                SELECT rm.plan_code, rm.entity_code, rm.milestone_code, rm.period, rm.status, rm.achieved_on, rm.evidence,
                       rm.comment, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
                  FROM report_milestones rm
                 WHERE (rm.plan_code, rm.entity_code, rm.milestone_code) IN (SELECT plan, entity, milestone FROM keys)
                   AND NOT EXISTS (SELECT 1 FROM import_changes c
                                    WHERE c.plan = rm.plan_code AND c.entity = rm.entity_code
                                      AND c.milestone = rm.milestone_code AND c.period = rm.period)
            ), ordered AS (
                SELECT o.*,
                       lag(o.status) OVER w AS lag_status, lag(o.achieved_on) OVER w AS lag_achieved_on,
                       lag(o.evidence) OVER w AS lag_evidence, lag(o.comment) OVER w AS lag_comment
                  FROM combined o
                WINDOW w AS (PARTITION BY o.plan, o.entity, o.milestone ORDER BY o.period)
            ), changed AS (
                SELECT o.*,
                       CASE WHEN o.action = 'updated' THEN o.old_status ELSE o.lag_status END AS prev_status,
                       CASE WHEN o.action = 'updated' THEN o.old_achieved_on ELSE o.lag_achieved_on END AS prev_achieved_on,
                       CASE WHEN o.action = 'updated' THEN o.old_evidence ELSE o.lag_evidence END AS prev_evidence,
                       CASE WHEN o.action = 'updated' THEN o.old_comment ELSE o.lag_comment END AS prev_comment
                  FROM ordered o
                 WHERE o.action IN ('created', 'updated')
            )
            INSERT INTO report_revisions (plan_code, entity_code, period, milestone_code, revision,
                                          previous_status, status, previous_achieved_on, achieved_on,
                                          previous_evidence, evidence, previous_comment, comment,
                                          is_regression, source, author_id, recorded_at)
            SELECT ch.plan, ch.entity, ch.period, ch.milestone, r.revision,
                   ch.prev_status, ch.status, ch.prev_achieved_on, ch.achieved_on,
                   ch.prev_evidence, ch.evidence, ch.prev_comment, ch.comment,
                   report_regression(ch.prev_status, ch.status),
                   'import', COALESCE(ch.author_id, \(by)), COALESCE(ch.reported_at, \(now))
              FROM changed ch
              JOIN reports r ON r.plan_code = ch.plan AND r.entity_code = ch.entity AND r.period = ch.period
            """)
        try conn.execute("""
            INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, achieved_on,
                                           evidence, comment, revision, updated_at, updated_by)
            SELECT c.plan, c.entity, c.period, c.milestone, c.status, c.achieved_on, c.evidence, NULL,
                   r.revision, COALESCE(c.reported_at, \(now)), COALESCE(c.author_id, \(by))
              FROM import_changes c
              JOIN reports r ON r.plan_code = c.plan AND r.entity_code = c.entity AND r.period = c.period
             WHERE c.action = 'created'
            """)
        try conn.execute("""
            UPDATE report_milestones rm
               SET status = c.status, achieved_on = c.achieved_on, evidence = c.evidence, revision = r.revision,
                   updated_at = COALESCE(c.reported_at, \(now)), updated_by = COALESCE(c.author_id, \(by))
              FROM import_changes c
              JOIN reports r ON r.plan_code = c.plan AND r.entity_code = c.entity AND r.period = c.period
             WHERE c.action = 'updated'
               AND rm.plan_code = c.plan AND rm.entity_code = c.entity AND rm.period = c.period AND rm.milestone_code = c.milestone
            """)
    }
}

/// Reads the CSV bytes record by record (RFC 4180, quoted fields may span lines) and turns each record
/// into one line of COPY text for `import_rows`, with the format checks done on the way. Works on bytes
/// and hands COPY large chunks: a million rows are parsed in about a second.
final class ImportParser {
    /// The staging columns filled from the CSV, in `import_rows` order.
    static let stagedColumns = ["plan", "entity", "period", "milestone", "status", "achieved_on", "evidence", "reported_at", "advisor_email"]
    static let chunkBytes = 256 * 1024

    private var scanner: CSVScanner
    /// For each staged column, its position in the CSV record (nil when the file has no such column).
    private let positions: [Int?]
    private let columnCount: Int
    private var broken = false
    private var out: [UInt8] = []
    /// Today in Bogotá, for the value rules (`ReportWriteRules`): no future month, no future achievement.
    private let today: CalendarDay

    init(bytes: [UInt8], today: CalendarDay) throws {
        self.today = today
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw StoreError.invalid(field: "body", "El archivo no es UTF-8 válido.")
        }
        var scanner = CSVScanner(bytes)
        guard let outcome = scanner.next(), outcome == .ok else {
            throw StoreError.invalid(field: "header", "El archivo está vacío o su encabezado no es CSV válido.")
        }
        let header = scanner.fields
        self.scanner = scanner
        var map: [String: Int] = [:]
        for (i, raw) in header.enumerated() {
            var name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if name == "advisor" { name = "advisor_email" }
            guard ReportImport.requiredColumns.contains(name) || ReportImport.optionalColumns.contains(name) else {
                throw StoreError.invalid(field: "header", "Columna desconocida «\(raw)»; se admiten: \((ReportImport.requiredColumns + ReportImport.optionalColumns).joined(separator: ", ")).", found: raw)
            }
            guard map[name] == nil else {
                throw StoreError.invalid(field: "header", "La columna «\(name)» aparece dos veces.", found: raw)
            }
            map[name] = i
        }
        let missing = ReportImport.requiredColumns.filter { map[$0] == nil }
        guard missing.isEmpty else {
            throw StoreError.invalid(field: "header", "Faltan columnas obligatorias: \(missing.joined(separator: ", ")).")
        }
        positions = ImportParser.stagedColumns.map { map[$0] }
        columnCount = header.count
        out.reserveCapacity(ImportParser.chunkBytes + 8192)
    }

    /// The next chunk of COPY lines; nil at the end of the file.
    func nextChunk() -> String? {
        out.removeAll(keepingCapacity: true)
        while out.count < ImportParser.chunkBytes, !broken {
            let start = scanner.line
            guard let outcome = scanner.next() else { break }
            switch outcome {
            case .unterminatedQuote:
                broken = true   // an unterminated quote swallows the rest of the file
                emitError(start, "line", "Comilla sin cerrar: el campo empieza en la línea \(start) y no termina.")
            case .malformed(.textAfterClosingQuote, _):
                emitError(start, "line", "Texto después de la comilla de cierre de un campo.")
            case .malformed(.quoteInUnquotedField, _):
                emitError(start, "line", "Comilla dentro de un campo sin comillas.")
            case .ok:
                if scanner.fieldBounds.count == 1 && scanner.fieldBounds[0].isEmpty { continue }   // blank line
                convert(start)
            }
        }
        return out.isEmpty ? nil : String(decoding: out, as: UTF8.self)
    }

    // MARK: Checking one record

    private func field(_ staged: Int) -> ArraySlice<UInt8> {
        guard let p = positions[staged] else { return [] }
        let fieldBytes = scanner.fieldBytes
        var r = scanner.fieldBounds[p]
        while r.lowerBound < r.upperBound, fieldBytes[r.lowerBound] == 0x20 || fieldBytes[r.lowerBound] == 0x09 { r = (r.lowerBound + 1)..<r.upperBound }
        while r.lowerBound < r.upperBound, fieldBytes[r.upperBound - 1] == 0x20 || fieldBytes[r.upperBound - 1] == 0x09 { r = r.lowerBound..<(r.upperBound - 1) }
        return fieldBytes[r]
    }

    private static func text(_ b: ArraySlice<UInt8>) -> String { String(decoding: b, as: UTF8.self) }

    private func convert(_ line: Int) {
        guard scanner.fieldBounds.count == columnCount else {
            return emitError(line, "line", "La fila tiene \(scanner.fieldBounds.count) columnas y el encabezado \(columnCount).")
        }
        if scanner.fieldBytes.contains(0) { return emitError(line, "line", "La fila contiene un carácter NUL.") }
        let plan = field(0)
        if plan.isEmpty { return emitError(line, "plan", "Falta el plan.") }
        let entity = field(1)
        if entity.isEmpty { return emitError(line, "entity", "Falta la entidad.") }
        let period = field(2)
        guard let month = ImportParser.month(period), let reportPeriod = ImportParser.period(period) else {
            return emitError(line, "period", "El periodo debe ser un mes AAAA-MM; se recibió «\(ImportParser.text(period))».")
        }
        let milestone = field(3)
        if milestone.isEmpty { return emitError(line, "milestone", "Falta el hito.") }
        let achieved = field(5)
        var achievedOn: CalendarDay?
        if !achieved.isEmpty {
            guard let day = ImportParser.day(achieved) else {
                return emitError(line, "achieved_on", "La fecha de cumplimiento debe ser AAAA-MM-DD; se recibió «\(ImportParser.text(achieved))».")
            }
            achievedOn = day
        }
        let reportedText = field(7)
        var reported: [UInt8]?
        if !reportedText.isEmpty {
            guard let t = ImportParser.timestamp(bytes: reportedText) else {
                return emitError(line, "reported_at", "La fecha de recepción debe ser AAAA-MM-DD o AAAA-MM-DDTHH:MM[:SS][zona]; se recibió «\(ImportParser.text(reportedText))».")
            }
            reported = t
        }
        // The value rules, the same function the PUT calls. Status is read case-insensitively (a spreadsheet's
        // "Done"); evidence becomes a String only when its bytes could pass the limit (characters ≤ bytes).
        let statusText = ImportParser.statusText(field(4))
        let evidence = field(6)
        if let p = ReportWriteRules.futurePeriod(reportPeriod, currentMonth: today.period)
            ?? ReportWriteRules.valueProblems(
                status: statusText, achievedOn: achievedOn,
                evidence: evidence.count > ReportWriteRules.maxTextLength ? ImportParser.text(evidence) : nil,
                comment: nil, period: reportPeriod, today: today).first {
            return emitError(line, p.field, p.reason, rule: p.rule.rawValue)
        }
        let email = field(8)

        appendNumber(line)
        out.append(0x09); appendEscaped(plan)
        out.append(0x09)
        if entity.count == 4 || entity.count == 1, entity.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { out.append(0x30) }
        appendEscaped(entity)
        out.append(0x09); out.append(contentsOf: month)
        out.append(0x09); appendEscaped(milestone)
        out.append(0x09); out.append(contentsOf: statusText.utf8)
        out.append(0x09); appendOptional(achieved)
        out.append(0x09); appendOptional(evidence)
        out.append(0x09)
        if let reported { out.append(contentsOf: reported) } else { appendNull() }
        out.append(0x09); appendOptional(email)
        out.append(contentsOf: Array("\t\\N\t\\N\t\\N\n".utf8))
    }

    // MARK: Writing COPY text

    /// A row the parser rejects; `rule` is a `ReportWriteRules` code, or `format` for a value it cannot read.
    private func emitError(_ line: Int, _ field: String, _ reason: String, rule: String = "format") {
        appendNumber(line)
        for _ in 0..<ImportParser.stagedColumns.count { out.append(0x09); appendNull() }
        out.append(0x09); appendEscaped(ArraySlice(rule.utf8))
        out.append(0x09); appendEscaped(ArraySlice(field.utf8))
        out.append(0x09); appendEscaped(ArraySlice(reason.utf8))
        out.append(0x0A)
    }

    private func appendNumber(_ n: Int) { out.append(contentsOf: String(n).utf8) }
    private func appendNull() { out.append(0x5C); out.append(0x4E) }
    private func appendOptional(_ b: ArraySlice<UInt8>) { if b.isEmpty { appendNull() } else { appendEscaped(b) } }

    /// COPY text format: backslash, tab, newline and carriage return are escaped.
    private func appendEscaped(_ b: ArraySlice<UInt8>) {
        for c in b {
            switch c {
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x09: out.append(0x5C); out.append(0x74)
            case 0x0A: out.append(0x5C); out.append(0x6E)
            case 0x0D: out.append(0x5C); out.append(0x72)
            default: out.append(c)
            }
        }
    }

    // MARK: Formats

    private static func digits(_ b: ArraySlice<UInt8>, _ from: Int, _ count: Int) -> Int? {
        let start = b.startIndex + from
        guard start + count <= b.endIndex else { return nil }
        var v = 0
        for i in start..<(start + count) {
            let c = b[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            v = v * 10 + Int(c - 0x30)
        }
        return v
    }

    /// `YYYY-MM` → the bytes of `YYYY-MM-01`.
    static func month(_ b: ArraySlice<UInt8>) -> [UInt8]? {
        guard b.count == 7, b[b.startIndex + 4] == 0x2D, let y = digits(b, 0, 4), let m = digits(b, 5, 2),
              Period(year: y, month: m) != nil else { return nil }
        return Array(b) + [0x2D, 0x30, 0x31]
    }

    /// `YYYY-MM` as a month (already checked by `month`).
    static func period(_ b: ArraySlice<UInt8>) -> Period? {
        guard let y = digits(b, 0, 4), let m = digits(b, 5, 2) else { return nil }
        return Period(year: y, month: m)
    }

    /// A real `YYYY-MM-DD` date.
    static func day(_ b: ArraySlice<UInt8>) -> CalendarDay? {
        guard b.count == 10, b[b.startIndex + 4] == 0x2D, b[b.startIndex + 7] == 0x2D,
              let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2) else { return nil }
        return CalendarDay(year: y, month: m, day: d)
    }

    /// The status as written, ASCII letters lowered (statuses are lower-case words).
    static func statusText(_ b: ArraySlice<UInt8>) -> String {
        String(decoding: b.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// `YYYY-MM-DD` (start of that day in Bogotá) or `YYYY-MM-DD[T ]HH:MM[:SS[.fff]]` with an optional `Z` or
    /// `±HH[:MM]` (Bogotá when absent), as ISO text PostgreSQL reads; nil when malformed.
    static func timestamp(_ text: String) -> String? {
        timestamp(bytes: ArraySlice(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func timestamp(bytes b: ArraySlice<UInt8>) -> [UInt8]? {
        guard b.count >= 10, day(b[b.startIndex..<(b.startIndex + 10)]) != nil else { return nil }
        var out = Array(b[b.startIndex..<(b.startIndex + 10)])
        if b.count == 10 { return out + Array("T00:00:00-05:00".utf8) }
        let s = b.startIndex
        guard b[s + 10] == 0x54 || b[s + 10] == 0x20, let hour = digits(b, 11, 2), b.count > 13, b[s + 13] == 0x3A,
              let minute = digits(b, 14, 2), hour < 24, minute < 60 else { return nil }
        out.append(0x54)
        out.append(contentsOf: b[(s + 11)..<(s + 16)])
        var i = 16
        if i < b.count, b[s + i] == 0x3A {
            guard let sec = digits(b, i + 1, 2), sec < 60 else { return nil }
            out.append(contentsOf: b[(s + i)..<(s + i + 3)])
            i += 3
            if i < b.count, b[s + i] == 0x2E {
                let start = i + 1
                i = start
                while i < b.count, b[s + i] >= 0x30 && b[s + i] <= 0x39 { i += 1 }
                guard i > start, i - start <= 9 else { return nil }
                out.append(contentsOf: b[(s + start - 1)..<(s + i)])
            }
        } else {
            out.append(contentsOf: Array(":00".utf8))
        }
        if i == b.count { return out + Array("-05:00".utf8) }
        if b[s + i] == 0x5A && i == b.count - 1 { return out + Array("+00:00".utf8) }
        guard b[s + i] == 0x2B || b[s + i] == 0x2D, let zh = digits(b, i + 1, 2), zh <= 14 else { return nil }
        var zm = 0
        let rest = b.count - (i + 3)
        if rest == 3, b[s + i + 3] == 0x3A, let m = digits(b, i + 4, 2) { zm = m }
        else if rest == 2, let m = digits(b, i + 3, 2) { zm = m }
        else if rest != 0 { return nil }
        guard zm < 60 else { return nil }
        out.append(b[s + i])
        out.append(contentsOf: Array((Period.pad2(zh) + ":" + Period.pad2(zm)).utf8))
        return out
    }
}

extension Period {
    static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
