// /v1/assignments: who serves which entity in which plan, month by month; transfers close the previous one.
import Foundation
import SetaFormats
import SetaDatabase
import SetaDomain

/// An assignment (asignación) on the wire: the row as the store reads it.
typealias AssignmentDTO = AssignmentStore.AssignmentRow

struct AssignmentCreateDTO: Codable, Sendable {
    var plan: String
    var entity: String
    var advisor: Int64
    var from: Period
    var to: Period?
    var closePrevious: Bool?
}

struct AssignmentEndDTO: Codable, Sendable { var to: Period }

enum AssignmentRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/assignments", list)
        r.add("GET", "/v1/assignments/{id}", show)
        r.add("POST", "/v1/assignments", create)
        r.add("POST", "/v1/assignments/{id}/end", end)
    }

    static func list(_ ctx: RequestContext) throws -> APIResponse {
        let asOf = try ctx.period("as_of", required: false)
        var filter = AssignmentStore.ListFilter(month: asOf ?? Period.current(at: ctx.now))
        filter.asOf = asOf
        filter.plan = try ctx.query("plan").flatMap { $0.isEmpty ? nil : $0 }
        filter.entity = try ctx.query("entity").flatMap { $0.isEmpty ? nil : $0 }
        if let text = try ctx.query("advisor"), !text.isEmpty {
            guard let id = Int64(text), id > 0 else { throw APIError.badRequest("`advisor` debe ser el id de una persona.", field: "advisor") }
            filter.advisor = id
        }
        let csv = ctx.wantsTable
        let limit = csv ? nil : try PageCursor.limit(ctx)
        let after = csv ? nil : try PageCursor.key(ctx, isKey: PageCursor.isPositiveId).flatMap { Int64($0) }
        let caller = try ctx.caller
        let page = try ctx.db.withConnection { conn in
            try TerritoryRoutes.validateFilters(conn, department: nil, region: nil, plan: filter.plan)
            if let e = filter.entity, try TerritoryStore.entity(conn, code: e, asOf: filter.month) == nil {
                throw APIError.invalid(field: "entity", "No existe la entidad «\(e)».", found: e)
            }
            if let a = filter.advisor, try PeopleStore.person(conn, id: a) == nil {
                throw APIError.invalid(field: "advisor", "No existe la persona \(a).", found: "\(a)")
            }
            return try AssignmentStore.list(conn, filter, scope: Scope.condition(for: caller, entityColumn: "a.entity_code", plan: filter.plan, month: filter.month),
                                            after: after, limit: limit.map { $0 + 1 })
        }
        if csv {
            return .table(filename: "asignaciones\(asOf.map { "-\($0)" } ?? "")") { sink in
                try sink.header(["id", "plan", "entity", "entity_name", "advisor_id", "advisor_name", "from", "to"])
                for a in page.rows {
                    try sink.row([.id(a.id), .text(a.planCode), .text(a.entityCode), .text(a.entityName), .id(a.personId), .text(a.personName),
                              .text(a.from.description), .text(a.to?.description)])
                }
            }
        }
        return try .json(ListResponse(keyset: page.rows, total: page.total, limit: limit!, item: { $0 as AssignmentDTO }, key: { "\($0.id)" }))
    }

    static func show(_ ctx: RequestContext) throws -> APIResponse {
        let id = try assignmentId(ctx)
        let caller = try ctx.caller
        let row = try ctx.db.withConnection { conn -> AssignmentStore.AssignmentRow in
            guard let a = try AssignmentStore.assignment(conn, id: id) else { throw APIError.notFound("No existe la asignación \(id).") }
            if a.personId != caller.personId {
                try TerritoryStore.requireInScope(conn, caller: caller, entity: a.entityCode, month: Period.current(at: ctx.now), plan: a.planCode)
            }
            return a
        }
        return try .json(row as AssignmentDTO)
    }

    static func create(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let body = try ctx.decode(AssignmentCreateDTO.self)
        let caller = try ctx.caller
        if let to = body.to, to < body.from {
            throw APIError.invalid(field: "to", "`to` (\(to)) es anterior a `from` (\(body.from)).", found: to.description)
        }
        let (dto, created) = try refusingOverlap { try ctx.db.withTransaction { conn -> (AssignmentDTO, Bool) in
            try validate(conn, body)
            try AssignmentStore.lock(conn, plan: body.plan, entity: body.entity)
            let overlapping = try AssignmentStore.overlapping(conn, plan: body.plan, entity: body.entity, from: body.from, to: body.to)
            // Sending the same assignment again is harmless.
            if overlapping.count == 1, let same = overlapping.first, same.personId == body.advisor, same.from == body.from, same.to == body.to {
                return (same, false)
            }
            var closed: [Int64] = []
            if !overlapping.isEmpty {
                guard body.closePrevious == true else {
                    throw APIError.conflict(
                        "La entidad \(body.entity) ya tiene asignación en \(body.plan) en esos meses: " + overlapping.map(describe).joined(separator: "; ")
                            + ". Para trasladarla envíe `close_previous: true`.",
                        errors: overlapping.map { FieldError(field: "from", message: "Se superpone con la asignación \($0.id).", found: describe($0)) })
                }
                // A transfer closes what started before `from` at the month before it; what starts at or after
                // `from` cannot be closed that way.
                let later = overlapping.filter { $0.from >= body.from }
                if !later.isEmpty {
                    throw APIError.conflict(
                        "No se puede trasladar desde \(body.from): hay asignaciones que empiezan en o después de ese mes: " + later.map(describe).joined(separator: "; ") + ".",
                        errors: later.map { FieldError(field: "from", message: "La asignación \($0.id) empieza en \($0.from).", found: describe($0)) })
                }
                closed = overlapping.map(\.id)
                try AssignmentStore.end(conn, ids: closed, at: body.from.previous)
            }
            let id = try AssignmentStore.insert(conn, plan: body.plan, entity: body.entity, person: body.advisor,
                                                from: body.from, to: body.to, by: caller.personId)
            var dto: AssignmentDTO = try AssignmentStore.assignment(conn, id: id)!
            if !closed.isEmpty {
                dto.closedPrevious = try closed.compactMap { try AssignmentStore.assignment(conn, id: $0) }
            }
            return (dto, true)
        } }
        return try .json(dto, status: created ? 201 : 200, headers: [("Location", "/v1/assignments/\(dto.id)")])
    }

    static func end(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let id = try assignmentId(ctx)
        let body = try ctx.decode(AssignmentEndDTO.self)
        let dto = try refusingOverlap { try ctx.db.withTransaction { conn -> AssignmentDTO in
            guard let a = try AssignmentStore.assignment(conn, id: id, forUpdate: true) else {
                throw APIError.notFound("No existe la asignación \(id).")
            }
            if body.to < a.from {
                throw APIError.invalid(field: "to", "`to` (\(body.to)) es anterior al inicio de la asignación (\(a.from)).", found: body.to.description)
            }
            try AssignmentStore.lock(conn, plan: a.planCode, entity: a.entityCode)
            try AssignmentStore.end(conn, ids: [id], at: body.to)
            return try AssignmentStore.assignment(conn, id: id)!
        } }
        return try .json(dto)
    }

    static func assignmentId(_ ctx: RequestContext) throws -> Int64 {
        guard let id = Int64(ctx.param("id")), id > 0 else { throw APIError.notFound("No existe la asignación \(ctx.param("id")).") }
        return id
    }

    static func describe(_ a: AssignmentStore.AssignmentRow) -> String {
        "\(a.id) (\(a.personName), \(a.from)–\(a.to?.description ?? "abierta"))"
    }

    /// The references of a new assignment, each refusal naming its field.
    static func validate(_ conn: Connection, _ body: AssignmentCreateDTO) throws {
        var errors: [FieldError] = []
        let planExists = try CatalogStore.plan(conn, code: body.plan) != nil
        if !planExists { errors.append(FieldError(field: "plan", message: "Plan desconocido.", found: body.plan)) }
        let entityExists = try TerritoryStore.entity(conn, code: body.entity, asOf: body.from) != nil
        if !entityExists { errors.append(FieldError(field: "entity", message: "Código DANE desconocido.", found: body.entity)) }
        let person = try AssignmentStore.servingPerson(conn, id: body.advisor)
        if !person.exists {
            errors.append(FieldError(field: "advisor", message: "No existe la persona.", found: "\(body.advisor)"))
        } else if !person.active {
            errors.append(FieldError(field: "advisor", message: "La persona está desactivada.", found: "\(body.advisor)"))
        } else if person.role != Role.advisor.rawValue && person.role != Role.coordinator.rawValue {
            errors.append(FieldError(field: "advisor", message: "Solo un asesor o un coordinador puede tener entidades asignadas (rol \(person.role)).", found: "\(body.advisor)"))
        }
        if planExists && entityExists, try !EnrollmentStore.isEnrolled(conn, plan: body.plan, entity: body.entity, at: body.from) {
            errors.append(FieldError(field: "entity", message: "La entidad no está inscrita en \(body.plan) en \(body.from).", found: body.entity))
        }
        if !errors.isEmpty {
            throw APIError.invalid(errors, detail: errors.map { "\($0.field): \($0.message)" }.joined(separator: " "))
        }
    }

    /// The exclusion constraints are the last word on overlaps (a race the advisory locks did not cover): a 409.
    static func refusingOverlap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as DatabaseError where e.sqlState == SQLState.exclusionViolation {
            throw APIError.conflict("Los meses se superponen con otra asignación o inscripción de la misma entidad y plan; intente de nuevo.",
                                    errors: [FieldError(field: "from", message: "Meses superpuestos.")])
        }
    }
}
