// /v1/plans/{code}/schedule (the calendar and its exceptions) and /v1/entities/{code}/schedule (one entity's lag).
import Foundation
import SetaDatabase
import SetaDomain

/// A plan version's calendar (cronograma): the span and, per milestone, its due date and N/A rule.
struct PlanScheduleDTO: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var code: String
        var name: String
        var phase: String
        var notApplicableAllowed: Bool
        /// The date the catalog version sets; absent when the law or the programme sets none.
        var dueOn: CalendarDay?
        /// Its own date or the earliest date of a milestone after it in plan order (the steps are sequential).
        var effectiveDueOn: CalendarDay?
    }
    var plan: String
    var version: Int
    var span: PlanDTO.SpanDTO?
    var milestones: [Item]
    var exceptionCount: Int
}

/// `POST /v1/plans/{code}/schedule/exceptions`: the same dates for many entities at once.
struct ScheduleExceptionBody: Decodable, Sendable {
    /// Why (e.g. "Decreto 683 de 2020: presentación hasta 2020-06-15, aprobación hasta 2020-07-15").
    var reason: String
    /// New due date per milestone code, e.g. `{"H18": "2020-06-15", "H22": "2020-07-15"}`.
    var due: [String: CalendarDay]
    /// Entity codes; each must be enrolled in the plan.
    var entities: [String]?
    /// Department codes: their gobernación (which must be enrolled)…
    var departments: [String]?
    /// …and, when true, every entity of those departments enrolled in the plan.
    var includeMunicipalities: Bool?
}

struct ScheduleExceptionResult: Encodable, Sendable {
    /// A list, not a map: milestone codes are data and must not go through the snake_case key conversion.
    struct Due: Encodable, Sendable { var milestone: String; var dueOn: CalendarDay }
    var plan: String
    var reason: String
    var due: [Due]
    var entityCount: Int
    var entities: [String]
}

/// One entity against the schedule as of a month (rezago).
struct EntityScheduleDTO: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var code: String
        var name: String
        var phase: String
        var status: String
        var dueOn: CalendarDay?
        var effectiveDueOn: CalendarDay?
        /// The date comes from this entity's exception.
        var fromException: Bool
        var due: Bool
        var overdue: Bool
    }
    struct Overdue: Encodable, Sendable {
        var code: String
        var name: String
        var effectiveDueOn: CalendarDay
        var daysOverdue: Int
        var weightInPlan: Decimal
    }
    var entity: EntityRefDTO
    var plan: String
    var catalogVersion: Int
    var asOf: Period
    /// Rounded to two decimals; null when no phase counts for the entity.
    var expected: Decimal?
    var actual: Decimal?
    /// expected − actual: positive means behind schedule.
    var lag: Decimal?
    /// Some due milestone is not done.
    var behind: Bool
    /// Earliest due date first.
    var overdue: [Overdue]
    var milestones: [Item]
    var exceptions: [ScheduleExceptionDTO]
}

enum ScheduleRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/plans/{code}/schedule", planSchedule)
        r.add("GET", "/v1/plans/{code}/schedule/exceptions", exceptions)
        r.add("POST", "/v1/plans/{code}/schedule/exceptions", addExceptions)
        r.add("DELETE", "/v1/plans/{code}/schedule/exceptions/{entity}", removeExceptions)
        r.add("GET", "/v1/entities/{code}/schedule", showEntity)
    }

    // Readable by everyone with a token: a calendar is not about any one entity.
    @Sendable static func planSchedule(_ ctx: RequestContext) throws -> APIResponse {
        let code = ctx.param("code")
        let requested = try ctx.query("version").map { text -> Int in
            guard let v = Int(text), v >= 1 else { throw APIError.badRequest("`version` debe ser un entero positivo.", field: "version") }
            return v
        }
        let dto = try ctx.db.withConnection { conn -> PlanScheduleDTO in
            let plan = try CatalogStore.requirePlan(conn, code: code, field: "code")
            let version = requested ?? plan.currentVersion
            guard let c = try CatalogStore.catalog(conn, code: code, version: version) else {
                throw APIError(status: 404, title: "Not Found", detail: "El plan «\(code)» no tiene versión \(version).",
                               errors: [FieldError(field: "version", message: "Versión inexistente.", found: "\(version)")])
            }
            let effective = ScheduleEngine.effectiveDueDates(plan: c)
            return PlanScheduleDTO(
                plan: code, version: version, span: plan.span.map { PlanDTO.SpanDTO(from: $0.from, to: $0.to) },
                milestones: c.milestones.sorted { $0.position < $1.position }.map { m in
                    PlanScheduleDTO.Item(code: m.code, name: m.name, phase: m.phaseCode,
                                         notApplicableAllowed: m.notApplicableAllowed, dueOn: m.dueOn,
                                         effectiveDueOn: effective[m.code])
                },
                exceptionCount: try ScheduleStore.exceptionCount(conn, plan: code, entities: nil))
        }
        return try .json(dto)
    }

    @Sendable static func exceptions(_ ctx: RequestContext) throws -> APIResponse {
        let code = ctx.param("code")
        let entity = try ctx.query("entity").flatMap { $0.isEmpty ? nil : [$0] }
        let limit = try ctx.intQuery("limit", default: ctx.app.configuration.maxPageSize, range: 1...ctx.app.configuration.maxPageSize)
        let (items, total) = try ctx.db.withConnection { conn in
            _ = try CatalogStore.requirePlan(conn, code: code, field: "code")
            return (try ScheduleStore.exceptions(conn, plan: code, entities: entity, limit: limit),
                    try ScheduleStore.exceptionCount(conn, plan: code, entities: entity))
        }
        return try .json(ListResponse(items: items, total: total, nextCursor: nil))
    }

    // Bulk: a list of entities, departments, or "the seven departments and their municipalities".
    @Sendable static func addExceptions(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let code = ctx.param("code")
        let body = try ctx.decode(ScheduleExceptionBody.self)
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 500 else {
            throw APIError.invalid(field: "reason", "Toda excepción al cronograma necesita un motivo (hasta 500 caracteres).")
        }
        guard !body.due.isEmpty else { throw APIError.invalid(field: "due", "Indique al menos un hito y su nueva fecha.") }
        let explicit = (body.entities ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
        let departments = (body.departments ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !explicit.isEmpty || !departments.isEmpty else {
            throw APIError.invalid(field: "entities", "Indique las entidades o los departamentos a los que se aplica.")
        }
        let caller = try ctx.caller
        let at = ctx.now
        let result = try ctx.db.withTransaction { conn -> ScheduleExceptionResult in
            let plan = try CatalogStore.requirePlan(conn, code: code, field: "code")
            let catalog = try CatalogStore.currentCatalog(conn, code: code)
            let errors = try exceptionErrors(conn, plan: plan, catalog: catalog, due: body.due,
                                         entities: explicit, departments: departments)
            if !errors.isEmpty {
                throw APIError.invalid(errors, detail: errors.count == 1 ? errors[0].message : "La excepción tiene \(errors.count) campos inválidos.")
            }
            var targets = Set(explicit + departments)
            if body.includeMunicipalities == true {
                targets.formUnion(try ScheduleStore.enrolledInDepartments(conn, plan: code, departments: departments))
            }
            let entities = targets.sorted()
            try ScheduleStore.setExceptions(conn, plan: code, entities: entities, due: body.due, reason: reason,
                                            by: caller.personId, at: at)
            return ScheduleExceptionResult(plan: code, reason: reason,
                                           due: body.due.sorted { $0.key < $1.key }.map { .init(milestone: $0.key, dueOn: $0.value) }, entityCount: entities.count, entities: entities)
        }
        return try .json(result, status: 201)
    }

    @Sendable static func removeExceptions(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let code = ctx.param("code")
        let entity = ctx.param("entity")
        let milestone = try ctx.query("milestone").flatMap { $0.isEmpty ? nil : $0 }
        let reason = try ctx.requiredQuery("reason")
        let caller = try ctx.caller
        let removed = try ctx.db.withTransaction { conn in
            _ = try CatalogStore.requirePlan(conn, code: code, field: "code")
            return try ScheduleStore.removeExceptions(conn, plan: code, entity: entity, milestone: milestone,
                                                      reason: reason, by: caller.personId, at: ctx.now)
        }
        guard removed > 0 else {
            throw APIError.notFound("La entidad \(entity) no tiene excepciones\(milestone.map { " para \($0)" } ?? "") en el plan \(code).")
        }
        return .empty(status: 204, headers: [])
    }

    // Expected, actual, lag and overdue milestones of one entity, computed by expected_progress_at.
    @Sendable static func showEntity(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let entity = ctx.param("code")
        let planCode = try ctx.requiredQuery("plan")
        let asOf = try ctx.period("as_of", required: false, default: Period.current(at: ctx.now))!
        let dto = try ctx.db.withConnection { conn -> EntityScheduleDTO in
            let plan = try CatalogStore.requirePlan(conn, code: planCode)
            let name = try ReportStore.requireEntity(conn, code: entity, field: "code")
            try ReportStore.requireReadable(conn, caller, entity: entity, plan: plan.code, months: [asOf, Period.current(at: ctx.now)])
            let catalog = try CatalogStore.currentCatalog(conn, code: plan.code)
            return try entitySchedule(conn, plan: plan, catalog: catalog, entity: entity, name: name, asOf: asOf)
        }
        return try .json(dto)
    }

    /// Every refusal of an exception request at once: milestones not in the catalog or due outside the plan's span,
    /// unknown departments, and named entities or gobernaciones not enrolled in the plan.
    static func exceptionErrors(_ conn: Connection, plan: CatalogStore.PlanRow, catalog: PlanCatalog, due: [String: CalendarDay],
                                entities: [String], departments: [String]) throws -> [FieldError] {
        var errors: [FieldError] = []
        for (milestone, day) in due.sorted(by: { $0.key < $1.key }) {
            if catalog.milestone(code: milestone) == nil {
                errors.append(FieldError(field: "due.\(milestone)", message: "El hito \(milestone) no está en el catálogo vigente del plan \(plan.code).", found: milestone))
            } else if !(plan.span?.contains(day) ?? false) {
                errors.append(FieldError(field: "due.\(milestone)",
                                         message: plan.span.map { "La fecha \(day) está fuera de la vigencia del plan (\($0.from) a \($0.to))." }
                                             ?? "El plan no tiene vigencia (span); defínala antes de fijar plazos.",
                                         found: day.description))
            }
        }
        for (i, d) in departments.enumerated() where try ScheduleStore.unknownDepartments(conn, codes: [d]).count == 1 {
            errors.append(FieldError(field: "departments[\(i)]", message: "Departamento desconocido.", found: d))
        }
        // Named entities and the gobernaciones of named departments must be in the plan.
        let named = entities + departments
        let missing = Set(try ScheduleStore.notEnrolled(conn, plan: plan.code, codes: named))
        for (i, e) in entities.enumerated() where missing.contains(e) {
            errors.append(FieldError(field: "entities[\(i)]", message: "La entidad \(e) no está inscrita en el plan \(plan.code).", found: e))
        }
        for (i, d) in departments.enumerated() where missing.contains(d) && !errors.contains(where: { $0.field == "departments[\(i)]" }) {
            errors.append(FieldError(field: "departments[\(i)]", message: "La gobernación \(d) no está inscrita en el plan \(plan.code).", found: d))
        }
        return errors
    }

    static func entitySchedule(_ conn: Connection, plan: CatalogStore.PlanRow, catalog: PlanCatalog, entity: String, name: String,
                               asOf: Period) throws -> EntityScheduleDTO {
        let row = try ScheduleStore.standings(conn, plan: plan.code, version: catalog.version, month: asOf, entities: [entity]).first
        let dues = try ScheduleStore.dueDates(conn, plan: plan.code, version: catalog.version, entity: entity)
        let statuses = Dictionary(uniqueKeysWithValues: try ReportStore.carried(conn, plan: plan, entity: entity, period: asOf)
            .map { ($0.code, $0.status) })
        let end = asOf.lastDay
        let byCode = Dictionary(uniqueKeysWithValues: dues.map { ($0.milestone, $0) })
        let overdueSet = Set(row?.overdue ?? [])
        let items = catalog.milestones.sorted { $0.position < $1.position }.map { m -> EntityScheduleDTO.Item in
            let d = byCode[m.code]
            return EntityScheduleDTO.Item(code: m.code, name: m.name, phase: m.phaseCode, status: statuses[m.code] ?? "not_started",
                                          dueOn: d?.dueOn, effectiveDueOn: d?.effectiveDueOn, fromException: d?.fromException ?? false,
                                          due: d?.effectiveDueOn.map { $0 <= end } ?? false, overdue: overdueSet.contains(m.code))
        }
        let overdue = (row?.overdue ?? []).compactMap { code -> EntityScheduleDTO.Overdue? in
            guard let m = catalog.milestone(code: code), let due = byCode[code]?.effectiveDueOn else { return nil }
            return EntityScheduleDTO.Overdue(code: code, name: m.name, effectiveDueOn: due,
                                             daysOverdue: ScheduleEngine.days(from: due, to: end),
                                             weightInPlan: catalog.weightInPlan(of: code) ?? 0)
        }
        return EntityScheduleDTO(
            entity: EntityRefDTO(code: entity, name: name), plan: plan.code, catalogVersion: catalog.version, asOf: asOf,
            expected: row?.expected?.rounded(scale: 2), actual: row?.actual?.rounded(scale: 2), lag: row?.lag?.rounded(scale: 2),
            behind: !(row?.overdue.isEmpty ?? true), overdue: overdue, milestones: items,
            exceptions: try ScheduleStore.exceptions(conn, plan: plan.code, entities: [entity], limit: 1_000))
    }
}
