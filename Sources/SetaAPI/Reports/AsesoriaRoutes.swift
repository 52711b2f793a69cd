// /v1/asesorias: advisory sessions (asesorías), logged cheaply (calls, messages and workshops included), listed,
// counted and charted by month in scope. The SQL is in AsesoriaStore.
import Foundation
import SetaDatabase
import SetaDomain

struct AsesoriaBody: Decodable, Sendable {
    /// The lead entity; `entities` adds the others a workshop (taller) served. At least one of the two.
    var entity: String?
    var entities: [String]?
    var plan: String?
    var heldOn: CalendarDay
    var modality: String
    var milestones: [String]?
    var durationMinutes: Int?
    var attendees: AttendeesBody?
    var notes: String?
    /// Only the central team may log a session on behalf of someone else.
    var advisor: Int64?

    /// Who attended (asistentes): how many, and optionally their roles.
    struct AttendeesBody: Decodable, Sendable {
        var count: Int?
        var roles: [String]?
    }
}

struct AsesoriaDTO: Encodable, Sendable {
    struct Attendees: Encodable, Sendable {
        var count: Int?
        var roles: [String]?
    }
    var id: Int64
    var entity: String
    var entityName: String
    /// Every entity the session served, the lead first.
    var entities: [EntityRefDTO]
    var plan: String?
    var advisor: PersonRef?
    var heldOn: String
    var period: Period
    var modality: String
    var milestones: [String]
    var durationMinutes: Int?
    var attendees: Attendees?
    var notes: String?
    var createdAt: Date
    /// Days between the session and its recording (Bogotá calendar).
    var recordingLagDays: Int
}

struct AsesoriaSummaryDTO: Encodable, Sendable {
    struct Group: Encodable, Sendable {
        var key: String?
        var name: String?
        var sessions: Int
        var minutes: Int
        var entities: Int
        var attendees: Int
        var virtual: Int
        var presencial: Int
        var telefonica: Int
        var whatsapp: Int
        var correo: Int
        var documental: Int
        var taller: Int
        /// Recording lag (días entre la sesión y su registro): median and maximum, and how many sessions were
        /// recorded after their month had ended.
        var medianLagDays: Decimal?
        var maxLagDays: Int?
        var recordedAfterMonth: Int
    }
    var period: Period
    var plan: String?
    var group: String
    var items: [Group]
    var total: Group
}

struct AsesoriaSeriesDTO: Encodable, Sendable {
    struct Point: Encodable, Sendable {
        var period: String
        var sessions: Int
        var entities: Int
        var attendees: Int
        var minutes: Int
        var medianLagDays: Decimal?
    }
    struct Series: Encodable, Sendable {
        var key: String
        var name: String?
        var points: [Point]
    }
    var from: Period
    var to: Period
    var plan: String?
    var months: [String]
    var total: [Point]
    var byRegion: [Series]
    var byAdvisor: [Series]
    var byModality: [Series]
}

enum AsesoriaRoutes {
    static let modalities = Set(AsesoriaStore.modalities)
    /// A workshop serves at most this many entities; roles listed at most this many, each this long.
    static let maxEntities = 200
    static let maxRoles = 30
    static let maxRoleLength = 100
    /// The longest series one call returns.
    static let maxSeriesMonths = 36

    static func register(_ r: inout Router) {
        r.add("POST", "/v1/asesorias", create)
        r.add("GET", "/v1/asesorias/{id}", show)
        r.add("GET", "/v1/asesorias", list)
        r.add("GET", "/v1/asesorias/summary", summary)
        r.add("GET", "/v1/asesorias/series", series)
    }

    // MARK: Writing

    static func create(_ ctx: RequestContext) throws -> APIResponse {
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
        var errors: [FieldError] = []
        if body.heldOn > CalendarDay(date: ctx.now) {
            errors.append(FieldError(field: "held_on", message: "La fecha de la asesoría está en el futuro.", found: body.heldOn.description))
        }
        let modality = body.modality.lowercased().replacingOccurrences(of: "ó", with: "o")
        if !modalities.contains(modality) {
            errors.append(FieldError(field: "modality", message: "Modalidad desconocida; use \(AsesoriaStore.modalities.joined(separator: ", ")).", found: body.modality))
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
        // The lead entity first, then the others, each once.
        var entities: [String] = []
        for code in [body.entity].compactMap({ $0 }) + (body.entities ?? []) where !entities.contains(code) { entities.append(code) }
        if entities.isEmpty {
            errors.append(FieldError(field: "entity", message: "Indique la entidad (`entity`) o las entidades (`entities`) atendidas."))
        } else if entities.count > maxEntities {
            errors.append(FieldError(field: "entities", message: "Una sesión atiende a lo sumo \(maxEntities) entidades.", found: "\(entities.count)"))
        }
        if let count = body.attendees?.count, !(0...100_000).contains(count) {
            errors.append(FieldError(field: "attendees.count", message: "El número de asistentes va de 0 a 100000.", found: "\(count)"))
        }
        let roles = (body.attendees?.roles ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        if roles.count > maxRoles {
            errors.append(FieldError(field: "attendees.roles", message: "A lo sumo \(maxRoles) roles."))
        }
        for (i, role) in roles.enumerated() where role.isEmpty || role.unicodeScalars.count > maxRoleLength {
            errors.append(FieldError(field: "attendees.roles[\(i)]", message: "Cada rol tiene de 1 a \(maxRoleLength) caracteres.", found: role))
        }
        if let other = body.advisor, other != caller.personId, caller.role != .central {
            throw APIError.forbidden("Solo el equipo central registra asesorías a nombre de otra persona.")
        }
        let month = body.heldOn.period
        let planCode = (body.plan ?? "").isEmpty ? nil : body.plan
        /// The key is claimed inside the transaction: the INSERT below waits on the key's unique index for a
        /// concurrent first request, and when that one commits, this one answers with its session.
        func replay(_ conn: Connection) throws -> AsesoriaDTO? {
            guard let key, let earlier = try AsesoriaStore.earlier(conn, by: caller.personId, key: key, body: bodyText) else {
                return nil
            }
            guard earlier.sameBody else {
                throw APIError.invalid(field: "Idempotency-Key", "Esta clave ya se usó con otro contenido.", found: key)
            }
            return try AsesoriaStore.session(conn, id: earlier.id)
        }
        enum Outcome { case created(AsesoriaDTO), replayed(AsesoriaDTO) }
        let outcome = try ctx.db.withTransaction { conn -> Outcome in
            if let earlier = try replay(conn) { return .replayed(earlier) }
            if !errors.isEmpty { throw APIError.invalid(errors) }
            let unknown = try AsesoriaStore.unknownEntities(conn, entities)
            if !unknown.isEmpty {
                throw APIError.invalid(unknown.map { code in
                    let field = code == body.entity ? "entity" : "entities[\(body.entities?.firstIndex(of: code) ?? 0)]"
                    return FieldError(field: field, message: "No existe la entidad territorial «\(code)».", found: code)
                })
            }
            if let planCode {
                guard try CatalogStore.plan(conn, code: planCode) != nil else {
                    throw APIError.invalid(field: "plan", "No existe el plan «\(planCode)».", found: planCode)
                }
            }
            if entities.count == 1 {
                try ReportStore.requireWritable(conn, caller, entity: entities[0], plan: planCode, month: month)
            } else {
                let outside = try AsesoriaStore.outOfScope(conn, caller, entities, plan: planCode, month: month)
                if !outside.isEmpty {
                    throw APIError.forbidden("Fuera de su alcance para \(month): \(outside.joined(separator: ", ")).")
                }
            }
            let advisor = body.advisor ?? caller.personId
            if advisor != caller.personId {
                guard try AsesoriaStore.isActivePerson(conn, id: advisor) else {
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
                plan: planCode, entities: entities, advisor: advisor, heldOn: body.heldOn.description, modality: modality,
                milestones: Array(Set(milestones)).sorted(), durationMinutes: body.durationMinutes,
                notes: notes.flatMap { $0.isEmpty ? nil : $0 }, attendeeCount: body.attendees?.count, attendeeRoles: roles,
                at: ctx.now, createdBy: caller.personId, key: key, body: bodyText))
            guard let inserted else {
                // A concurrent request with this key committed first (the INSERT waited for it): its session is the answer.
                guard let earlier = try replay(conn) else { throw APIError.conflict("La clave de idempotencia está en uso; intente de nuevo.") }
                return .replayed(earlier)
            }
            guard let created = try AsesoriaStore.session(conn, id: inserted) else {
                throw APIError.unavailable("La asesoría no se pudo leer tras registrarla; intente de nuevo.")
            }
            return .created(created)
        }
        switch outcome {
        case .created(let dto):
            return try .json(dto, status: 201, headers: [("Location", "/v1/asesorias/\(dto.id)")])
        case .replayed(let dto):
            return try .json(dto, status: 200, headers: [("Location", "/v1/asesorias/\(dto.id)"), ("Idempotent-Replayed", "true")])
        }
    }

    // MARK: Reading

    static func show(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        guard let id = Int64(ctx.param("id")) else { throw APIError.notFound("No existe la asesoría \(ctx.param("id")).") }
        let dto = try ctx.db.withConnection { conn -> AsesoriaDTO in
            guard let a = try AsesoriaStore.session(conn, id: id) else {
                throw APIError.notFound("No existe la asesoría \(id).")
            }
            let months = [a.period, Period.current(at: ctx.now)]
            if a.advisor?.id != caller.personId {
                do {
                    try ReportStore.requireReadable(conn, caller, entity: a.entity, plan: a.plan, months: months)
                } catch let error as StoreError where a.entities.count > 1 {
                    // A workshop is readable by whoever may read any entity it served, as in the list.
                    guard try AsesoriaStore.servesInScope(conn, caller, id: a.id, plan: a.plan, months: months) else { throw error }
                }
            }
            return a
        }
        return try .json(dto)
    }

    static func list(_ ctx: RequestContext) throws -> APIResponse {
        let period = try ctx.period("period", required: false)
        let limit = try ctx.intQuery("limit", default: ctx.app.configuration.defaultPageSize, range: 1...ctx.app.configuration.maxPageSize)
        var filter = try filter(ctx, from: period, to: period, scopeMonth: period)
        if let cursor = try ctx.query("cursor"), !cursor.isEmpty {
            guard let id = Int64(cursor) else { throw APIError.badRequest("`cursor` no es válido.", field: "cursor") }
            filter.before = id
        }
        let (items, total) = try ctx.db.withConnection { conn in try AsesoriaStore.page(conn, filter, limit: limit) }
        let next = items.count == limit ? items.last.map { String($0.id) } : nil
        return try .json(ListResponse(items: items, total: total, nextCursor: next))
    }

    static func summary(_ ctx: RequestContext) throws -> APIResponse {
        guard let period = try ctx.period("period") else { throw APIError.badRequest("Falta `period`.", field: "period") }
        let group = try ctx.query("group").flatMap { $0.isEmpty ? nil : $0 } ?? "advisor"
        guard ["advisor", "entity", "region"].contains(group) else {
            throw APIError.badRequest("`group` debe ser advisor, entity o region.", field: "group")
        }
        let filter = try filter(ctx, from: period, to: period, scopeMonth: period)
        let rows = try ctx.db.withConnection { conn in try AsesoriaStore.summary(conn, filter, group: group, month: period) }
        var items: [AsesoriaSummaryDTO.Group] = []
        var total = AsesoriaSummaryDTO.Group(key: nil, name: nil, sessions: 0, minutes: 0, entities: 0, attendees: 0, virtual: 0,
                                             presencial: 0, telefonica: 0, whatsapp: 0, correo: 0, documental: 0, taller: 0,
                                             medianLagDays: nil, maxLagDays: nil, recordedAfterMonth: 0)
        for r in rows {
            var g = AsesoriaSummaryDTO.Group(
                key: try r.decode("key"), name: try r.decode("name"), sessions: try r.decode("sessions"),
                minutes: try r.decode("minutes"), entities: try r.decode("entities"), attendees: try r.decode("attendees"),
                virtual: try r.decode("virtual"), presencial: try r.decode("presencial"), telefonica: try r.decode("telefonica"),
                whatsapp: try r.decode("whatsapp"), correo: try r.decode("correo"), documental: try r.decode("documental"),
                taller: try r.decode("taller"), medianLagDays: try r.decode("median_lag_days"), maxLagDays: try r.decode("max_lag_days"),
                recordedAfterMonth: try r.decode("recorded_after_month"))
            if try r.decode("is_total", as: Int.self) == 1 {
                g.key = nil
                g.name = nil
                total = g
            } else {
                items.append(g)
            }
        }
        return try .json(AsesoriaSummaryDTO(period: period, plan: filter.plan, group: group, items: items, total: total))
    }

    /// `GET /v1/asesorias/series?from=&to=`: every month from `from` through `to` by region, advisor and modality.
    static func series(_ ctx: RequestContext) throws -> APIResponse {
        guard let to = try ctx.period("to", required: false, default: Period.current(at: ctx.now)),
              let from = try ctx.period("from", required: false, default: to.advanced(by: -11)) else {
            throw APIError.badRequest("Falta `from`.", field: "from")
        }
        // Rules between two well-formed months (or one and its default): 422, as the progress series.
        guard from <= to else { throw APIError.invalid(field: "from", "`from` no puede ser posterior a `to`.") }
        let months = Period.months(from: from, to: to)
        guard months.count <= maxSeriesMonths else {
            throw APIError.invalid(field: "from", "La serie abarca a lo sumo \(maxSeriesMonths) meses.")
        }
        let filter = try filter(ctx, from: from, to: to, scopeMonth: to)
        let rows = try ctx.db.withConnection { conn in try AsesoriaStore.series(conn, filter) }
        let labels = months.map(\.description)
        func empty(_ period: String) -> AsesoriaSeriesDTO.Point {
            AsesoriaSeriesDTO.Point(period: period, sessions: 0, entities: 0, attendees: 0, minutes: 0, medianLagDays: nil)
        }
        // Every month present in every series (zeros where nothing happened), as charts want them.
        var points: [String: [String: AsesoriaSeriesDTO.Point]] = [:]
        var names: [String: String] = [:]
        var order: [String] = []
        for r in rows {
            let dimension: String = try r.decode("dimension")
            let key: String? = try r.decode("key")
            let id = dimension + "\u{1}" + (key ?? "")
            if points[id] == nil { order.append(id); points[id] = [:] }
            if let name: String = try r.decode("name") { names[id] = name }
            let period: String = try r.decode("period")
            points[id]![period] = AsesoriaSeriesDTO.Point(
                period: period, sessions: try r.decode("sessions"), entities: try r.decode("entities"),
                attendees: try r.decode("attendees"), minutes: try r.decode("minutes"), medianLagDays: try r.decode("median_lag_days"))
        }
        func series(_ dimension: String) -> [AsesoriaSeriesDTO.Series] {
            order.filter { $0.hasPrefix(dimension + "\u{1}") }.map { id in
                AsesoriaSeriesDTO.Series(key: String(id.dropFirst(dimension.count + 1)), name: names[id],
                                         points: labels.map { points[id]?[$0] ?? empty($0) })
            }
        }
        let total = labels.map { points["total\u{1}"]?[$0] ?? empty($0) }
        return try .json(AsesoriaSeriesDTO(from: from, to: to, plan: filter.plan, months: labels, total: total,
                                           byRegion: series("region"), byAdvisor: series("advisor"), byModality: series("modality")))
    }

    /// The query filters of list, summary and series, with the reader's scope weighed at `scopeMonth` (the
    /// current month when none is given).
    static func filter(_ ctx: RequestContext, from: Period?, to: Period?, scopeMonth: Period?) throws -> AsesoriaStore.Filter {
        var f = AsesoriaStore.Filter(caller: try ctx.caller, scopeMonth: scopeMonth ?? Period.current(at: ctx.now))
        f.plan = try ctx.query("plan").flatMap { $0.isEmpty ? nil : $0 }
        f.from = from
        f.to = to
        if let advisor = try ctx.query("advisor"), !advisor.isEmpty {
            guard let id = Int64(advisor) else { throw APIError.badRequest("`advisor` debe ser el id de una persona.", field: "advisor") }
            f.advisor = id
        }
        f.entity = try ctx.query("entity").flatMap { $0.isEmpty ? nil : $0 }
        f.region = try ctx.query("region").flatMap { $0.isEmpty ? nil : $0 }
        if let modality = try ctx.query("modality"), !modality.isEmpty {
            guard modalities.contains(modality) else {
                throw APIError.badRequest("`modality` debe ser \(AsesoriaStore.modalities.joined(separator: ", ")).", field: "modality")
            }
            f.modality = modality
        }
        return f
    }
}
