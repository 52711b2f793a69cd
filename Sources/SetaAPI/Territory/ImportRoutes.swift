// /v1/imports: CSV uploads of enrollments and assignments with a dry run, and the official Fase II list by name.
import Foundation
import SetaDatabase
import SetaDomain

struct ImportRowDTO: Codable, Sendable {
    var line: Int
    var status: ImportStore.Status
    var reasons: [String]
}

/// DHIS2's import summary: counts and every line's fate.
struct ImportSummaryDTO: Codable, Sendable {
    var dryRun: Bool
    var created: Int
    var updated: Int
    var ignored: Int
    var rejected: Int
    var rows: [ImportRowDTO]

    init(dryRun: Bool, outcomes: [ImportStore.Outcome]) {
        self.dryRun = dryRun
        created = outcomes.filter { $0.status == .created }.count
        updated = outcomes.filter { $0.status == .updated }.count
        ignored = outcomes.filter { $0.status == .ignored }.count
        rejected = outcomes.filter { $0.status == .rejected }.count
        rows = outcomes.map { ImportRowDTO(line: $0.line, status: $0.status, reasons: $0.reasons) }
    }
}

/// A real run with rejected lines: RFC 9457 fields (one error per line and field) and the same summary, written flat
/// side by side in one object.
struct ImportProblemDTO: Encodable, Sendable {
    var problem: APIError.Problem
    var summary: ImportSummaryDTO

    func encode(to encoder: Encoder) throws {
        try problem.encode(to: encoder)
        try summary.encode(to: encoder)
    }
}

struct NameListCandidateDTO: Codable, Sendable { var code: String; var name: String }

struct NameListRowDTO: Codable, Sendable {
    var line: Int
    var name: String
    var department: String
    /// resolved, ambiguous or unresolved.
    var status: String
    var code: String?
    var entityName: String?
    /// Which rule resolved the name (EntityNameResolver.How).
    var how: String?
    var candidates: [NameListCandidateDTO]?
    /// Unresolved only: the nearest names of the department, never chosen (issue 15).
    var suggestions: [NameListCandidateDTO]?
    var reason: String?
    /// Only when accepted: created, or already_enrolled.
    var enrollment: String?
}

struct NameListSummaryDTO: Codable, Sendable {
    var plan: String
    var from: Period?
    var accepted: Bool
    var totalRows: Int
    var resolved: Int
    var ambiguous: Int
    var unresolved: Int
    var enrolled: Int
    var alreadyEnrolled: Int
    var gobernacionesEnrolled: Int
    var rows: [NameListRowDTO]
}

enum ImportRoutes {
    static let enrollmentColumns = ["plan", "entity", "from", "to"]
    static let assignmentColumns = ["plan", "entity", "advisor_email", "from", "to"]
    static let nameListColumns = ["municipio", "departamento"]
    static let defaultNameListPlan = "gap-2020-f2"

    static func register(_ r: inout Router) {
        r.add("POST", "/v1/imports/enrollments", importEnrollments)
        r.add("POST", "/v1/imports/assignments", importAssignments)
        r.add("POST", "/v1/imports/fase2-list", importFase2List)
    }

    static func importEnrollments(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let dryRun = try ctx.boolQuery("dry_run", default: true)
        let (table, column) = try csvTable(ctx, columns: enrollmentColumns, optional: ["to"])
        let rows = table.records.map { stage($0, column: column, withAdvisor: false) }
        let outcomes = try AssignmentRoutes.refusingOverlap { try ctx.db.withTransaction { conn -> [ImportStore.Outcome] in
            try EnrollmentStore.lockForImport(conn)
            return try ImportStore.enrollments(conn, rows, apply: !dryRun)
        } }
        return try summaryResponse(ctx, dryRun: dryRun, outcomes: outcomes)
    }

    static func importAssignments(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let dryRun = try ctx.boolQuery("dry_run", default: true)
        let closePrevious = try ctx.boolQuery("close_previous", default: false)
        let caller = try ctx.caller
        let (table, column) = try csvTable(ctx, columns: assignmentColumns, optional: ["to"])
        let rows = table.records.map { stage($0, column: column, withAdvisor: true) }
        let outcomes = try AssignmentRoutes.refusingOverlap { try ctx.db.withTransaction { conn -> [ImportStore.Outcome] in
            try AssignmentStore.lockForImport(conn)
            return try ImportStore.assignments(conn, rows, closePrevious: closePrevious, createdBy: caller.personId, apply: !dryRun)
        } }
        return try summaryResponse(ctx, dryRun: dryRun, outcomes: outcomes)
    }

    static func importFase2List(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let plan = try ctx.query("plan").flatMap { $0.isEmpty ? nil : $0 } ?? defaultNameListPlan
        let accept = try ctx.boolQuery("accept", default: false)
        let from = try ctx.period("from", required: false)
        // `from` is needed only to accept: a rule between two well-formed parameters, so 422.
        if accept && from == nil {
            throw APIError.invalid(field: "from", "Para aceptar la lista (`accept=true`) indique `from`, el mes de la inscripción (AAAA-MM).")
        }
        let includeGobernaciones = try ctx.boolQuery("include_gobernaciones", default: true)
        let (table, column) = try nameListTable(ctx)
        let rows = table.records.map { (name: $0.fields[column["municipio"]!], department: $0.fields[column["departamento"]!]) }
        let summary = try ctx.db.withTransaction { conn -> NameListSummaryDTO in
            if try CatalogStore.plan(conn, code: plan) == nil {
                throw APIError.invalid(field: "plan", "No existe el plan «\(plan)».", found: plan)
            }
            let resolver = EntityNameResolver(places: try ImportStore.places(conn))
            let resolution = resolver.resolveList(rows)
            var codes = Set<String>()
            for row in resolution.rows {
                if case .resolved(let code, _) = row.resolution { codes.insert(code) }
                if case .ambiguous(let candidates) = row.resolution { codes.formUnion(candidates) }
                if case .unresolved(_, let suggestions) = row.resolution { codes.formUnion(suggestions) }
            }
            let names = try TerritoryStore.entityNames(conn, codes: Array(codes))
            var dto = NameListSummaryDTO(
                plan: plan, from: from, accepted: accept, totalRows: rows.count,
                resolved: resolution.resolved.count, ambiguous: resolution.ambiguous.count, unresolved: resolution.unresolved.count,
                enrolled: 0, alreadyEnrolled: 0, gobernacionesEnrolled: 0,
                rows: zip(table.records, resolution.rows).map { record, row in listRow(record.line, row, names: names) })
            if accept, let from {
                try EnrollmentStore.lockPlan(conn, plan: plan)
                let municipalities = resolution.resolved.compactMap(\.resolution.code)
                var selection = EnrollmentStore.Selection()
                selection.entities = municipalities
                let outcome = try EnrollmentStore.enroll(conn, plan: plan, selection: selection, from: from, to: nil)
                let created = Set(outcome.created)
                for i in dto.rows.indices {
                    if let code = dto.rows[i].code { dto.rows[i].enrollment = created.contains(code) ? "created" : "already_enrolled" }
                }
                dto.enrolled = outcome.created.count
                dto.alreadyEnrolled = outcome.skipped.count
                if includeGobernaciones {
                    selection.entities = try ImportStore.gobernaciones(conn)
                    dto.gobernacionesEnrolled = try EnrollmentStore.enroll(conn, plan: plan, selection: selection, from: from, to: nil).created.count
                }
            }
            return dto
        }
        return try .json(summary, status: summary.enrolled + summary.gobernacionesEnrolled > 0 ? 201 : 200)
    }

    static func listRow(_ line: Int, _ row: NameResolutionSummary.Row, names: [String: String]) -> NameListRowDTO {
        var dto = NameListRowDTO(line: line, name: row.name, department: row.department, status: "unresolved")
        switch row.resolution {
        case .resolved(let code, let how):
            dto.status = "resolved"
            dto.code = code
            dto.entityName = names[code]
            dto.how = how
        case .ambiguous(let candidates):
            dto.status = "ambiguous"
            dto.candidates = candidates.map { NameListCandidateDTO(code: $0, name: names[$0] ?? $0) }
            dto.reason = "El nombre coincide con \(candidates.count) municipios de \(row.department)."
        case .unresolved(let reason, let suggestions):
            dto.reason = reason
            dto.suggestions = suggestions.isEmpty ? nil : suggestions.map { NameListCandidateDTO(code: $0, name: names[$0] ?? $0) }
        }
        return dto
    }

    // MARK: Reading CSV bodies

    /// The summary: 200 for a dry run or a clean real run; a real run with rejected lines wrote nothing and
    /// answers 422 with the same summary in a problem document.
    static func summaryResponse(_ ctx: RequestContext, dryRun: Bool, outcomes: [ImportStore.Outcome]) throws -> APIResponse {
        let summary = ImportSummaryDTO(dryRun: dryRun, outcomes: outcomes)
        guard !dryRun, summary.rejected > 0 else { return try .json(summary) }
        var errors: [FieldError] = []
        for o in outcomes where o.status == .rejected {
            for reason in o.reasons {
                let parts = reason.split(separator: ":", maxSplits: 1)
                let field = parts.count == 2 && !parts[0].contains(" ") ? String(parts[0]) : nil
                errors.append(FieldError(field: "line[\(o.line)]" + (field.map { ".\($0)" } ?? ""),
                                         message: field == nil ? reason : parts[1].trimmingCharacters(in: .whitespaces)))
            }
        }
        let problem = ImportProblemDTO(problem: APIError.Problem(
            type: "about:blank", title: "Unprocessable Content", status: 422,
            detail: "\(summary.rejected) de \(outcomes.count) filas fueron rechazadas; no se escribió nada.",
            instance: "urn:seta:request:\(ctx.requestId)", errors: errors), summary: summary)
        return .text(status: 422, contentType: "application/problem+json", body: try JSON.encode(problem))
    }

    /// Parses one data line: trims fields, restores the leading zero spreadsheets drop from DANE codes
    /// (`5001` → `05001`, `5` → `05`), and notes malformed months.
    static func stage(_ record: CSVRecord, column: [String: Int], withAdvisor: Bool) -> ImportStore.StagedRow {
        func field(_ name: String) -> String {
            column[name].map { record.fields[$0].trimmingCharacters(in: .whitespaces) } ?? ""
        }
        var entity = field("entity")
        if (entity.count == 4 || entity.count == 1) && entity.allSatisfy({ $0.isASCII && $0.isNumber }) { entity = "0" + entity }
        var row = ImportStore.StagedRow(line: record.line, plan: field("plan"), entity: entity)
        if row.plan.isEmpty { row.formatReasons.append("plan: falta el plan") }
        if entity.isEmpty { row.formatReasons.append("entity: falta el código DANE") }
        if withAdvisor {
            row.advisorEmail = field("advisor_email")
            if row.advisorEmail.isEmpty { row.formatReasons.append("advisor_email: falta el correo del asesor") }
        }
        let fromText = field("from"), toText = field("to")
        if fromText.isEmpty {
            row.formatReasons.append("from: falta el mes de inicio (AAAA-MM)")
        } else if let p = Period(fromText) {
            row.from = p
        } else {
            row.formatReasons.append("from: «\(fromText)» no es un mes AAAA-MM")
        }
        if !toText.isEmpty {
            if let p = Period(toText) {
                row.to = p
                if let f = row.from, p < f { row.formatReasons.append("to: \(p) es anterior a from (\(f))") }
            } else {
                row.formatReasons.append("to: «\(toText)» no es un mes AAAA-MM")
            }
        }
        return row
    }

    /// The body of a `text/csv` upload, as text: bad UTF-8 is a 400 naming the line (and column) where it is.
    static func csvText(_ ctx: RequestContext) throws -> String {
        try ctx.requireBody({ $0 == "text/csv" || $0 == "application/csv" }, expected: "text/csv")
        let bytes = ctx.request.body
        if bytes.isEmpty { throw APIError.badRequest("El cuerpo está vacío; se esperaba un CSV con encabezado.", field: "body") }
        if let offset = firstInvalidUTF8(bytes) {
            let (line, column) = position(of: offset, in: bytes)
            let field = "line[\(line)]" + (column.map { ".\($0)" } ?? "")
            throw APIError.badRequest("El CSV no es UTF-8 válido en la línea \(line)\(column.map { ", columna \($0)" } ?? "") (byte \(offset + 1)); guárdelo como «CSV UTF-8».",
                                      field: field)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// Line (from 1) of a byte, and the header's name for its column (counting commas; good enough to point at).
    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: String?) {
        let newline = UInt8(ascii: "\n"), comma = UInt8(ascii: ",")
        let line = 1 + bytes[..<offset].filter { $0 == newline }.count
        let lineStart = bytes[..<offset].lastIndex(of: newline).map { $0 + 1 } ?? 0
        let index = bytes[lineStart..<offset].filter { $0 == comma }.count
        let headerEnd = bytes.firstIndex(of: newline) ?? bytes.count
        let header = String(decoding: bytes[..<min(headerEnd, offset)], as: UTF8.self)
            .split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return (line, line > 1 && index < header.count ? header[index] : nil)
    }

    /// Reads and checks a CSV upload: the header must name exactly `columns` (any order, any case; the
    /// `optional` ones may be missing), every line must have the header's column count, quotes must close.
    static func csvTable(_ ctx: RequestContext, columns: [String], optional: Set<String>) throws -> (CSVTable, [String: Int]) {
        try csvTable(try csvText(ctx), columns: columns, optional: optional)
    }

    static func csvTable(_ text: String, columns: [String], optional: Set<String>) throws -> (CSVTable, [String: Int]) {
        let table: CSVTable
        do {
            table = try CSVReader.table(text, expectedHeader: nil)
        } catch {
            throw APIError(status: 400, detail: "CSV mal formado: \(error.description).",
                           errors: [FieldError(field: "line[\(error.line)]" + (error.field.map { ".\($0)" } ?? ""), message: error.message)])
        }
        var column: [String: Int] = [:]
        var errors: [FieldError] = []
        for (i, raw) in table.header.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if !columns.contains(name) {
                errors.append(FieldError(field: "line[1].\(raw)", message: "Columna desconocida; se esperan: \(columns.joined(separator: ","))."))
            } else if column[name] != nil {
                errors.append(FieldError(field: "line[1].\(name)", message: "Columna repetida."))
            } else {
                column[name] = i
            }
        }
        for name in columns where column[name] == nil && !optional.contains(name) {
            errors.append(FieldError(field: "line[1].\(name)", message: "Falta la columna `\(name)`."))
        }
        if !errors.isEmpty {
            throw APIError(status: 400, detail: "El encabezado del CSV debe ser `\(columns.joined(separator: ","))`.", errors: errors)
        }
        if table.records.count > TerritoryLimits.maxImportRows {
            throw APIError(status: 413, detail: "Se admiten hasta \(TerritoryLimits.maxImportRows) filas por importación; divida el archivo.")
        }
        if table.records.isEmpty {
            throw APIError.invalid(field: "line[2]", "El CSV no tiene filas de datos.")
        }
        for record in table.records {
            if let i = record.fields.firstIndex(where: { $0.unicodeScalars.contains { $0.value == 0 } }) {
                throw APIError.badRequest("La línea \(record.line) tiene un carácter nulo.", field: "line[\(record.line)].\(table.header[i])")
            }
        }
        return (table, column)
    }

    /// The official list: the uploaded CSV, or with no body the file the service ships (`Data/`).
    static func nameListTable(_ ctx: RequestContext) throws -> (CSVTable, [String: Int]) {
        if !ctx.request.body.isEmpty {
            return try csvTable(ctx, columns: nameListColumns, optional: [])
        }
        guard let dir = Seeder.dataDirectory(),
              let text = try? String(contentsOf: dir.appendingPathComponent(Seeder.faseIIListFile), encoding: .utf8) else {
            throw APIError(status: 500, detail: "No se encontró la lista oficial \(Seeder.faseIIListFile) en el directorio de datos; envíela como text/csv.")
        }
        return try csvTable(text, columns: nameListColumns, optional: [])
    }
}
