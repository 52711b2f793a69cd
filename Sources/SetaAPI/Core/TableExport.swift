// Table exports over HTTP: which format the client asked for (CSV dialect or XLSX), headers' language, streaming.
import Foundation
import SetaFormats
import SetaHTTP

/// What a table answer is written as, from `format`, `locale`, `lang` and `Accept`.
struct TableExport: Sendable {
    enum Format: Sendable, Equatable { case csv(CSVDialect), xlsx }
    var format: Format
    /// Spanish column names (`lang=es`): the header translated, the plan's phase and milestone codes as they are.
    var spanish: Bool

    static let xlsxMediaType = XLSXWriter.mediaType

    /// The export the request asks for, nil for JSON. `format` wins over `Accept`.
    /// Refused (400): `locale` other than `es-CO`, `lang` other than `en`/`es` (the router refuses them first, from the
    /// contract). `locale` is ignored for XLSX: a workbook holds numbers, not text with a decimal separator.
    static func requested(by ctx: RequestContext) throws -> TableExport? {
        guard let kind = ctx.tableKind else { return nil }
        let locale = try ctx.query("locale") ?? ""
        let lang = (try ctx.query("lang") ?? "").lowercased()
        guard ["", "en", "es"].contains(lang) else {
            throw APIError.badRequest("`lang` debe ser es o en.", field: "lang")
        }
        let dialect: CSVDialect
        switch locale.lowercased() {
        case "": dialect = .rfc4180
        case "es-co", "es_co": dialect = .colombia
        default: throw APIError.badRequest("`locale` admite es-CO (CSV con punto y coma y coma decimal).", field: "locale")
        }
        if kind == "xlsx" {
            return TableExport(format: .xlsx, spanish: lang == "es")
        }
        return TableExport(format: .csv(dialect), spanish: lang == "es")
    }

    var contentType: String {
        switch format {
        case .csv: return "text/csv; charset=utf-8"
        case .xlsx: return TableExport.xlsxMediaType
        }
    }

    var fileExtension: String {
        switch format {
        case .csv: return "csv"
        case .xlsx: return "xlsx"
        }
    }

    /// Runs `produce` on a sink of the asked format that streams to `writer` in ~32 KiB chunks.
    func write(to writer: any HTTPBodyWriter, sheetName: String, modified: Date,
               _ produce: (TableSink) throws -> Void) throws {
        let out = ChunkedOutput(writer: writer)
        let sink: TableSink
        switch format {
        case .csv(let dialect): sink = CSVTableWriter(dialect: dialect, emit: out.append)
        case .xlsx: sink = XLSXWriter(defaultSheetName: sheetName, modified: modified, emit: out.append)
        }
        try produce(spanish ? SpanishHeaders(sink) : sink)
        try sink.finish()
        try out.flush()
    }
}

/// Buffers small writes (a CSV line) and passes the server ~32 KiB chunks, so a big export never sits
/// whole in memory and the socket is not written a line at a time.
final class ChunkedOutput {
    private let writer: any HTTPBodyWriter
    private var buffer: [UInt8] = []
    static let chunkBytes = 32 * 1024

    init(writer: any HTTPBodyWriter) {
        self.writer = writer
        buffer.reserveCapacity(ChunkedOutput.chunkBytes * 2)
    }

    func append(_ bytes: [UInt8]) throws {
        if buffer.isEmpty && bytes.count >= ChunkedOutput.chunkBytes {
            try writer.write(bytes)
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= ChunkedOutput.chunkBytes { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try writer.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Translates column names to Spanish on their way to the real sink (`lang=es`).
final class SpanishHeaders: TableSink {
    private let inner: TableSink
    init(_ inner: TableSink) { self.inner = inner }
    var keepsEverySheet: Bool { inner.keepsEverySheet }
    func sheet(_ name: String?, header: [String]) throws { try inner.sheet(name, header: header.map(ColumnNames.spanish)) }
    func row(_ cells: [Cell]) throws { try inner.row(cells) }
    func finish() throws { try inner.finish() }
}

/// The Spanish name of every column SETA exports. Plan codes (phases `F1`, milestones `H9`) and unknown names
/// pass unchanged; dotted names from JSON (`phases.F1.progress`) are translated part by part.
enum ColumnNames {
    static let spanish: [String: String] = [
        "id": "id", "code": "codigo", "name": "nombre", "type": "tipo", "dane_code": "codigo_dane",
        "department": "departamento", "department_code": "codigo_departamento", "department_name": "departamento",
        "region": "region", "region_code": "codigo_region", "region_name": "region", "regions": "regiones",
        "advisor": "asesor", "advisor_id": "id_asesor", "advisor_name": "asesor", "partner": "aliado",
        "partner_code": "codigo_aliado", "total": "total", "progress": "avance", "phases": "fases", "phase_code": "codigo_fase",
        "completed": "completada", "milestones": "hitos", "period": "periodo", "label": "etiqueta", "plan": "plan",
        "catalog_version": "version_catalogo", "current_version": "version_actual", "created_at": "creado_en",
        "created_by": "creado_por", "key": "clave", "group": "grupo", "entity_count": "entidades",
        "measured_count": "entidades_medidas", "mean_progress": "avance_promedio", "at_hundred": "en_cien",
        "min": "minimo", "max": "maximo", "lowest": "mas_rezagadas", "lowest_count": "num_mas_rezagadas",
        "highest": "mas_avanzadas", "highest_count": "num_mas_avanzadas", "rank": "puesto", "entities": "entidades",
        "entity": "entidad", "entity_name": "nombre_entidad", "entity_type": "tipo_entidad",
        "previous_mean_progress": "avance_promedio_anterior", "change": "cambio", "on_time": "a_tiempo", "late": "tarde",
        "missing": "sin_reporte", "asesorias": "asesorias", "from": "desde", "to": "hasta", "email": "correo",
        "role": "rol", "active": "activo", "status": "estado", "limited_to_partner": "limitado_al_aliado",
        "on_time_day": "dia_limite", "phase_count": "fases", "milestone_count": "hitos", "gobernacion_code": "codigo_gobernacion",
        "municipality_count": "municipios", "department_codes": "codigos_departamentos", "total_a": "total_a",
        "total_b": "total_b", "weight_in_plan": "peso_en_plan", "phase_completion": "cumplimiento_fases",
        "completed_share": "porcentaje_completo", "as_of": "a_mes", "reason": "motivo", "comment": "comentario",
        "previous_completed_share": "porcentaje_completo_anterior", "previous_total": "total_anterior",
        "parent_code": "codigo_superior", "milestone": "hito", "stage": "momento", "campo": "campo", "valor": "valor",
        // The schedule (issue 13): expected progress, lag and overdue milestones, per entity and per group.
        "expected": "avance_esperado", "lag": "rezago", "overdue": "hitos_vencidos", "overdue_count": "num_hitos_vencidos",
        "oldest_due_on": "vencimiento_mas_antiguo", "behind": "atrasada", "behind_count": "entidades_atrasadas",
        "mean_expected": "avance_esperado_promedio", "mean_lag": "rezago_promedio",
        // Group sets and attributes (issue 15); `attr.<code>` keeps the attribute's code.
        "attr": "atributo", "attributes": "atributos", "categories": "categorias", "value_count": "valores",
        "description": "descripcion", "groups": "grupos", "group_name": "nombre_grupo", "group_code": "codigo_grupo",
        "set": "conjunto", "set_code": "codigo_conjunto", "set_name": "nombre_conjunto", "attribute_code": "codigo_atributo",
        // Asesorías (issue 15): the list, the summary (a column per modality, already Spanish words) and the series.
        "held_on": "fecha", "modality": "modalidad", "duration_minutes": "duracion_minutos", "attendees": "asistentes",
        "attendee_roles": "roles_asistentes", "recording_lag_days": "dias_hasta_registro", "sessions": "sesiones",
        "minutes": "minutos", "median_lag_days": "mediana_dias_hasta_registro", "max_lag_days": "maximo_dias_hasta_registro",
        "recorded_after_month": "registradas_despues_del_mes", "points": "puntos", "virtual": "virtual",
        "presencial": "presencial", "telefonica": "telefonica", "whatsapp": "whatsapp", "correo": "correo",
        "documental": "documental", "taller": "taller", "count": "cantidad", "roles": "roles", "notes": "notas",
        // The change log (audit): who, when, what, before and after (their keys are the audited row's columns).
        "at": "fecha_hora", "actor": "actor", "action": "accion", "table": "tabla", "before": "antes", "after": "despues",
        "entity_code": "codigo_entidad", "plan_code": "codigo_plan", "person": "persona", "person_id": "id_persona",
        // Locks, report history, the schedule and the agenda.
        "cut_id": "id_corte", "locked_at": "bloqueado_en", "locked_by": "bloqueado_por", "author": "autor",
        "is_regression": "es_retroceso", "previous_status": "estado_anterior", "recorded_at": "registrado_en",
        "revision": "revision", "source": "fuente", "due": "vence", "due_on": "vence_el", "effective_due_on": "vence_efectivo_el",
        "from_exception": "por_excepcion", "phase": "fase", "reported_in": "reportado_en", "actual": "avance_real",
        "days_overdue": "dias_vencido", "not_applicable_allowed": "admite_no_aplica", "weight_in_phase": "peso_en_fase",
        "version": "version", "active_people": "personas_activas", "counts": "conteos", "late_entities": "entidades_tarde",
        "missing_entities": "entidades_sin_reporte", "on_time_percent": "porcentaje_a_tiempo", "expires_at": "vence_en",
        "revoked_at": "revocado_en", "last_used_at": "ultimo_uso_en",
    ]

    /// Dotted parts after which the rest is data (an attribute's code, an audited row's column), never a column word.
    static let dataParents: Set<String> = ["attr", "attributes", "before", "after"]

    static func spanish(_ column: String) -> String {
        if let s = spanish[column] { return s }
        if column.hasPrefix("completed_share_") { return "porcentaje_completo_" + column.dropFirst("completed_share_".count) }
        guard column.contains(".") else { return column }
        var out: [String] = []
        var data = false
        for raw in column.split(separator: ".", omittingEmptySubsequences: false) {
            // `items[0]`: the word before an index is translated, the index kept.
            let part = String(raw), word = String(part.prefix { $0 != "[" })
            out.append(data ? part : (spanish[word] ?? word) + part.dropFirst(word.count))
            if dataParents.contains(word) { data = true }
        }
        return out.joined(separator: ".")
    }
}

extension Cell {
    /// A database id (bigint) as a number cell.
    static func id(_ value: Int64?) -> Cell { .integer(value.map { Int($0) }) }
}
