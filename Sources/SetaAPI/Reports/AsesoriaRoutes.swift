// /v1/asesorias: advisory sessions (asesorías), logged cheaply (calls included), listed and counted in scope.
import Foundation
import SetaDatabase
import SetaDomain

struct AsesoriaBody: Decodable, Sendable {
    var entity: String
    var plan: String?
    var heldOn: CalendarDay
    var modality: String
    var milestones: [String]?
    var durationMinutes: Int?
    var notes: String?
    /// Only the central team may log a session on behalf of someone else.
    var advisor: Int64?
}

struct AsesoriaDTO: Encodable, Sendable {
    var id: Int64
    var entity: String
    var entityName: String
    var plan: String?
    var advisor: PersonRef?
    var heldOn: String
    var period: Period
    var modality: String
    var milestones: [String]
    var durationMinutes: Int?
    var notes: String?
    var createdAt: Date
}

struct AsesoriaSummaryDTO: Encodable, Sendable {
    struct Group: Encodable, Sendable {
        var key: String?
        var name: String?
        var sessions: Int
        var minutes: Int
        var entities: Int
        var virtual: Int
        var presencial: Int
        var telefonica: Int
    }
    var period: Period
    var plan: String?
    var group: String
    var items: [Group]
    var total: Group
}

enum AsesoriaRoutes {
    static let modalities: Set<String> = ["virtual", "presencial", "telefonica"]

    static func register(_ r: inout Router) {
        r.add("POST", "/v1/asesorias") { ctx in
            let caller = try ctx.caller
            guard caller.role != .viewer else { throw APIError.forbidden("Un lector no puede registrar asesorías.") }
            let body = try ctx.decode(AsesoriaBody.self)
            // A retry with the same Idempotency-Key and body gets the first session back, whatever changed since.
            let key = ctx.request.headers["Idempotency-Key"]
            let bodyText = String(decoding: ctx.request.body, as: UTF8.self)
            if let key {
                guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                    throw APIError.badRequest("`Idempotency-Key` debe tener de 1 a 200 caracteres ASCII visibles.", field: "Idempotency-Key")
                }
            }
            let today = CalendarDay(date: ctx.now)
            var errors: [FieldError] = []
            if body.heldOn > today {
                errors.append(FieldError(field: "held_on", message: "La fecha de la asesoría está en el futuro.", found: body.heldOn.description))
            }
            let modality = body.modality.lowercased().replacingOccurrences(of: "ó", with: "o")
            if !modalities.contains(modality) {
                errors.append(FieldError(field: "modality", message: "Modalidad desconocida; use virtual, presencial o telefonica.", found: body.modality))
            }
            if let d = body.durationMinutes, !(1...ReportLimits.maxAsesoriaMinutes).contains(d) {
                errors.append(FieldError(field: "duration_minutes", message: "La duración va de 1 a \(ReportLimits.maxAsesoriaMinutes) minutos.", found: "\(d)"))
            }
            let notes = body.notes?.trimmingCharacters(in: .whitespacesAndNewlines)
            if (notes?.unicodeScalars.count ?? 0) > ReportLimits.maxTextLength {
                errors.append(FieldError(field: "notes", message: "Las notas superan \(ReportLimits.maxTextLength) caracteres."))
            }
            let milestones = (body.milestones ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
            if milestones.count > ReportLimits.maxAsesoriaMilestones {
                errors.append(FieldError(field: "milestones", message: "A lo sumo \(ReportLimits.maxAsesoriaMilestones) hitos."))
            }
            if !milestones.isEmpty && (body.plan ?? "").isEmpty {
                errors.append(FieldError(field: "plan", message: "Para nombrar hitos hay que indicar el plan."))
            }
            if let other = body.advisor, other != caller.personId, caller.role != .central {
                throw APIError.forbidden("Solo el equipo central registra asesorías a nombre de otra persona.")
            }
            let month = body.heldOn.period
            let planCode = (body.plan ?? "").isEmpty ? nil : body.plan
            let at = ctx.now
            /// The key is claimed inside the transaction: the INSERT below waits on the key's unique index for a
            /// concurrent first request, and when that one commits, this one answers with its session.
            func replay(_ conn: Connection) throws -> AsesoriaDTO? {
                guard let key, let earlier = try AsesoriaStore.earlier(conn, by: caller.personId, key: key, body: bodyText) else {
                    return nil
                }
                guard earlier.sameBody else {
                    throw APIError.invalid(field: "Idempotency-Key", "Esta clave ya se usó con otro contenido.", found: key)
                }
                return try list(conn, where: "a.id = \(earlier.id)", limit: 1).first
            }
            enum Outcome { case created(AsesoriaDTO), replayed(AsesoriaDTO) }
            let outcome = try ctx.db.withTransaction { conn -> Outcome in
                if let earlier = try replay(conn) { return .replayed(earlier) }
                if !errors.isEmpty { throw APIError.invalid(errors) }
                guard try conn.query("SELECT 1 FROM entities WHERE code = \(body.entity)").count == 1 else {
                    throw APIError.invalid(field: "entity", "No existe la entidad territorial «\(body.entity)».", found: body.entity)
                }
                if let planCode {
                    guard try CatalogStore.plan(conn, code: planCode) != nil else {
                        throw APIError.invalid(field: "plan", "No existe el plan «\(planCode)».", found: planCode)
                    }
                }
                try ReportStore.requireWritable(conn, caller, entity: body.entity, plan: planCode, month: month)
                let advisor = body.advisor ?? caller.personId
                if advisor != caller.personId {
                    guard try conn.query("SELECT 1 FROM people WHERE id = \(advisor) AND active").count == 1 else {
                        throw APIError.invalid(field: "advisor", "No existe la persona \(advisor).", found: "\(advisor)")
                    }
                }
                if let planCode {
                    let known = Set(try CatalogStore.currentCatalog(conn, code: planCode).milestones.map(\.code))
                    let unknown = milestones.enumerated().filter { !known.contains($0.element) }
                    if !unknown.isEmpty {
                        throw APIError.invalid(unknown.map {
                            FieldError(field: "milestones[\($0.offset)]", message: "El hito \($0.element) no está en el plan \(planCode).", found: $0.element)
                        })
                    }
                    try ReportStore.refuseLocked(conn, plan: planCode, month: month)
                }
                let inserted = try AsesoriaStore.insert(conn, AsesoriaStore.NewSession(
                    plan: planCode, entity: body.entity, advisor: advisor, heldOn: body.heldOn.description, modality: modality,
                    milestones: Array(Set(milestones)).sorted(), durationMinutes: body.durationMinutes,
                    notes: notes.flatMap { $0.isEmpty ? nil : $0 }, at: at, createdBy: caller.personId, key: key, body: bodyText))
                guard let inserted else {
                    // A concurrent request with this key committed first (the INSERT waited for it): its session is the answer.
                    guard let earlier = try replay(conn) else { throw APIError.conflict("La clave de idempotencia está en uso; intente de nuevo.") }
                    return .replayed(earlier)
                }
                return .created(try list(conn, where: "a.id = \(inserted)", limit: 1)[0])
            }
            switch outcome {
            case .created(let dto):
                return try .json(dto, status: 201, headers: [("Location", "/v1/asesorias/\(dto.id)")])
            case .replayed(let dto):
                return try .json(dto, status: 200, headers: [("Location", "/v1/asesorias/\(dto.id)"), ("Idempotent-Replayed", "true")])
            }
        }

        r.add("GET", "/v1/asesorias/{id}") { ctx in
            let caller = try ctx.caller
            guard let id = Int64(ctx.param("id")) else { throw APIError.notFound("No existe la asesoría \(ctx.param("id")).") }
            let dto = try ctx.db.withConnection { conn -> AsesoriaDTO in
                guard let a = try list(conn, where: "a.id = \(id)", limit: 1).first else {
                    throw APIError.notFound("No existe la asesoría \(id).")
                }
                if a.advisor?.id != caller.personId {
                    try ReportStore.requireReadable(conn, caller, entity: a.entity, plan: a.plan,
                                                    months: [a.period, Period.current(at: ctx.now)])
                }
                return a
            }
            return try .json(dto)
        }

        r.add("GET", "/v1/asesorias") { ctx in
            let caller = try ctx.caller
            let period = try ctx.period("period", required: false)
            let limit = try ctx.intQuery("limit", default: ctx.app.configuration.defaultPageSize, range: 1...ctx.app.configuration.maxPageSize)
            var filter = try filters(ctx, caller: caller, period: period)
            if let cursor = try ctx.query("cursor"), !cursor.isEmpty {
                guard let id = Int64(cursor) else { throw APIError.badRequest("`cursor` no es válido.", field: "cursor") }
                filter.append(" AND (a.held_on, a.id) < (SELECT x.held_on, x.id FROM asesorias x WHERE x.id = \(id))")
            }
            let (items, total) = try ctx.db.withConnection { conn -> ([AsesoriaDTO], Int) in
                let total: Int = try conn.query("SELECT count(*) AS n FROM asesorias a WHERE \(try filters(ctx, caller: caller, period: period))")
                    .rows[0].decode("n")
                return (try list(conn, where: filter, limit: limit), total)
            }
            let next = items.count == limit ? items.last.map { String($0.id) } : nil
            return try .json(ListResponse(items: items, total: total, nextCursor: next))
        }

        r.add("GET", "/v1/asesorias/summary") { ctx in
            let caller = try ctx.caller
            guard let period = try ctx.period("period") else { throw APIError.badRequest("Falta `period`.", field: "period") }
            let group = try ctx.query("group").flatMap { $0.isEmpty ? nil : $0 } ?? "advisor"
            let keyColumn: String
            let nameColumn: String
            switch group {
            case "advisor": (keyColumn, nameColumn) = ("a.person_id::text", "p.name")
            case "entity": (keyColumn, nameColumn) = ("a.entity_code", "e.name")
            case "region": (keyColumn, nameColumn) = ("rg.region_code", "rn.name")
            default: throw APIError.badRequest("`group` debe ser advisor, entity o region.", field: "group")
            }
            let filter = try filters(ctx, caller: caller, period: period)
            let rows = try ctx.db.withConnection { conn in
                // One statement: every group and the total (GROUPING SETS).
                try conn.query("""
                    SELECT GROUPING(\(unsafe: keyColumn)) AS is_total, \(unsafe: keyColumn) AS key, \(unsafe: nameColumn) AS name,
                           count(*) AS sessions, COALESCE(sum(a.duration_minutes), 0) AS minutes,
                           count(DISTINCT a.entity_code) AS entities,
                           count(*) FILTER (WHERE a.modality = 'virtual') AS virtual,
                           count(*) FILTER (WHERE a.modality = 'presencial') AS presencial,
                           count(*) FILTER (WHERE a.modality = 'telefonica') AS telefonica
                      FROM asesorias a
                      JOIN entities e ON e.code = a.entity_code
                      LEFT JOIN people p ON p.id = a.person_id
                      LEFT JOIN entity_regions_at(\(period.firstDayString)::date) rg ON rg.entity_code = a.entity_code
                      LEFT JOIN regions rn ON rn.code = rg.region_code
                     WHERE \(filter)
                     GROUP BY GROUPING SETS ((\(unsafe: keyColumn), \(unsafe: nameColumn)), ())
                     ORDER BY 1, 4 DESC, 3
                    """).rows
            }
            var items: [AsesoriaSummaryDTO.Group] = []
            var total = AsesoriaSummaryDTO.Group(key: nil, name: nil, sessions: 0, minutes: 0, entities: 0, virtual: 0, presencial: 0, telefonica: 0)
            for r in rows {
                let g = AsesoriaSummaryDTO.Group(
                    key: try r.decode("key"), name: try r.decode("name"), sessions: try r.decode("sessions"),
                    minutes: try r.decode("minutes"), entities: try r.decode("entities"), virtual: try r.decode("virtual"),
                    presencial: try r.decode("presencial"), telefonica: try r.decode("telefonica"))
                if try r.decode("is_total", as: Int.self) == 1 {
                    total = g
                    total.key = nil
                    total.name = nil
                } else {
                    items.append(g)
                }
            }
            return try .json(AsesoriaSummaryDTO(period: period, plan: try ctx.query("plan").flatMap { $0.isEmpty ? nil : $0 },
                                                group: group, items: items, total: total))
        }
    }

    /// The WHERE clause of list and summary: the query filters and the reader's scope. The scope is
    /// evaluated at `period` (or the current month when none is given); a person always sees the
    /// sessions they logged themselves.
    static func filters(_ ctx: RequestContext, caller: Principal, period: Period?) throws -> SQL {
        let month = period ?? Period.current(at: ctx.now)
        let plan = try ctx.query("plan").flatMap { $0.isEmpty ? nil : $0 }
        var sql: SQL = "(\(Scope.condition(for: caller, entityColumn: "a.entity_code", plan: plan, month: month)) OR a.person_id = \(caller.personId))"
        if let plan { sql.append(" AND a.plan_code = \(plan)") }
        if let period {
            sql.append(" AND a.held_on >= \(period.firstDayString)::date AND a.held_on < \(period.next.firstDayString)::date")
        }
        if let advisor = try ctx.query("advisor"), !advisor.isEmpty {
            guard let id = Int64(advisor) else { throw APIError.badRequest("`advisor` debe ser el id de una persona.", field: "advisor") }
            sql.append(" AND a.person_id = \(id)")
        }
        if let entity = try ctx.query("entity"), !entity.isEmpty {
            sql.append(" AND a.entity_code = \(entity)")
        }
        if let region = try ctx.query("region"), !region.isEmpty {
            sql.append(" AND a.entity_code IN (SELECT fr.entity_code FROM entity_regions_at(\(month.firstDayString)::date) fr WHERE fr.region_code = \(region))")
        }
        return sql
    }

    static func list(_ conn: Connection, where condition: SQL, limit: Int) throws -> [AsesoriaDTO] {
        try conn.query("""
            SELECT a.id, a.entity_code, e.name AS entity_name, a.plan_code, a.person_id, p.name AS person_name,
                   a.held_on::text AS held_on, a.modality, a.milestones, a.duration_minutes, a.notes, a.created_at
              FROM asesorias a
              JOIN entities e ON e.code = a.entity_code
              LEFT JOIN people p ON p.id = a.person_id
             WHERE \(condition)
             ORDER BY a.held_on DESC, a.id DESC
             LIMIT \(limit)
            """).rows.map { r in
            let heldOn: String = try r.decode("held_on")
            return AsesoriaDTO(
                id: try r.decode("id"), entity: try r.decode("entity_code"), entityName: try r.decode("entity_name"),
                plan: try r.decode("plan_code"),
                advisor: try PersonRef(id: r.decode("person_id"), name: r.decode("person_name")),
                heldOn: heldOn, period: try r.period("held_on"), modality: try r.decode("modality"),
                milestones: try r.decode("milestones"), durationMinutes: try r.decode("duration_minutes"),
                notes: try r.decode("notes"), createdAt: try r.decode("created_at"))
        }
    }
}
