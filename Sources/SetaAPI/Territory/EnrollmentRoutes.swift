// /v1/plans/{plan}/enrollments: which entities a plan serves by month; bulk enrollment by codes, department or region.
import Foundation
import SetaFormats
import SetaDatabase
import SetaDomain

/// An enrollment (inscripción) on the wire: the row as the store reads it.
typealias EnrollmentDTO = EnrollmentStore.EnrollmentRow

struct EnrollRequestDTO: Codable, Sendable {
    var from: Period
    var to: Period?
    var entities: [String]?
    var department: String?
    var region: String?
    var includeDepartments: Bool?
}

struct EnrollResultDTO: Codable, Sendable {
    struct Skipped: Codable, Sendable {
        var code: String
        var reason: String
        var overlapFrom: Period
        var overlapTo: Period?
    }
    var plan: String
    var from: Period
    var to: Period?
    var created: Int
    var skipped: Int
    var createdEntities: [String]
    var skippedEntities: [Skipped]
}

struct EnrollmentEndDTO: Codable, Sendable { var to: Period }

enum EnrollmentRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/plans/{plan}/enrollments", list)
        r.add("POST", "/v1/plans/{plan}/enrollments", enroll)
        r.add("POST", "/v1/plans/{plan}/enrollments/{entity}/end", end)
    }

    static func list(_ ctx: RequestContext) throws -> APIResponse {
        let plan = ctx.param("plan")
        let asOf = try ctx.period("as_of", required: false)
        let month = asOf ?? Period.current(at: ctx.now)
        let department = try ctx.query("department").flatMap { $0.isEmpty ? nil : $0 }
        let region = try ctx.query("region").flatMap { $0.isEmpty ? nil : $0 }
        let csv = ctx.wantsTable
        let limit = csv ? nil : try PageCursor.limit(ctx)
        let after = csv ? nil : try PageCursor.key(ctx, isKey: isEnrollmentKey).map(enrollmentKey)
        let caller = try ctx.caller
        let page = try ctx.db.withConnection { conn in
            _ = try CatalogStore.requirePlan(conn, code: plan)
            try TerritoryRoutes.validateFilters(conn, department: department, region: region, plan: nil)
            let filter = EnrollmentStore.ListFilter(plan: plan, asOf: asOf, department: department, region: region, month: month)
            return try EnrollmentStore.list(conn, filter, scope: Scope.condition(for: caller, entityColumn: "en.entity_code", plan: plan, month: month),
                                            after: after, limit: limit.map { $0 + 1 })
        }
        if csv {
            return .table(filename: "inscripciones-\(plan)\(asOf.map { "-\($0)" } ?? "")") { sink in
                try sink.header(["plan", "entity", "entity_name", "entity_type", "department_code", "from", "to"])
                for e in page.rows {
                    try sink.row([.text(e.planCode), .text(e.entityCode), .text(e.entityName), .text(e.entityType), .text(e.departmentCode),
                              .text(e.from.description), .text(e.to?.description)])
                }
            }
        }
        return try .json(ListResponse(keyset: page.rows, total: page.total, limit: limit!, item: { $0 as EnrollmentDTO }, key: { "\($0.entityCode)|\($0.from)" }))
    }

    static func enroll(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let plan = ctx.param("plan")
        let body = try ctx.decode(EnrollRequestDTO.self)
        if let to = body.to, to < body.from {
            throw APIError.invalid(field: "to", "`to` (\(to)) es anterior a `from` (\(body.from)).", found: to.description)
        }
        var selection = EnrollmentStore.Selection()
        selection.entities = (body.entities ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
        selection.department = body.department.flatMap { $0.isEmpty ? nil : $0 }
        selection.region = body.region.flatMap { $0.isEmpty ? nil : $0 }
        selection.includeDepartments = body.includeDepartments ?? false
        if selection.entities.isEmpty && selection.department == nil && selection.region == nil {
            throw APIError.invalid(field: "entities", "Indique qué inscribir: `entities`, `department` o `region`.")
        }
        if selection.entities.count > TerritoryLimits.maxCodesPerRequest {
            throw APIError.invalid(field: "entities", "Se admiten hasta \(TerritoryLimits.maxCodesPerRequest) códigos por solicitud.",
                                   found: "\(selection.entities.count)")
        }
        let result = try ctx.db.withTransaction { conn -> EnrollResultDTO in
            _ = try CatalogStore.requirePlan(conn, code: plan)
            let unknown = try TerritoryStore.unknownEntities(conn, selection.entities)
            if !unknown.isEmpty {
                throw APIError.invalid(unknown.map { FieldError(field: "entities[\($0.index)]", message: "Código DANE desconocido.", found: $0.code) },
                                       detail: "Hay códigos de entidad desconocidos: \(unknown.map(\.code).joined(separator: ", ")).")
            }
            if let d = selection.department, try TerritoryStore.department(conn, code: d) == nil {
                throw APIError.invalid(field: "department", "No existe el departamento «\(d)».", found: d)
            }
            if let g = selection.region { try TerritoryStore.requireRegion(conn, code: g, field: "region", active: false) }
            try EnrollmentStore.lockPlan(conn, plan: plan)
            let outcome = try EnrollmentStore.enroll(conn, plan: plan, selection: selection, from: body.from, to: body.to)
            return EnrollResultDTO(
                plan: plan, from: body.from, to: body.to, created: outcome.created.count, skipped: outcome.skipped.count,
                createdEntities: outcome.created,
                skippedEntities: outcome.skipped.map {
                    EnrollResultDTO.Skipped(code: $0.code, reason: "Ya inscrita en meses que se superponen (desde \($0.from)\($0.to.map { " hasta \($0)" } ?? "")).",
                                            overlapFrom: $0.from, overlapTo: $0.to)
                })
        }
        return try .json(result, status: result.created > 0 ? 201 : 200)
    }

    static func end(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let plan = ctx.param("plan"), entity = ctx.param("entity")
        let body = try ctx.decode(EnrollmentEndDTO.self)
        let dto = try ctx.db.withTransaction { conn -> EnrollmentDTO in
            _ = try CatalogStore.requirePlan(conn, code: plan)
            _ = try TerritoryStore.requireEntity(conn, code: entity, asOf: body.to)
            try EnrollmentStore.lockPlan(conn, plan: plan)
            guard let current = try EnrollmentStore.latest(conn, plan: plan, entity: entity, notAfter: body.to) else {
                if try EnrollmentStore.enrollments(conn, entity: entity).contains(where: { $0.planCode == plan }) {
                    throw APIError.invalid(field: "to", "La inscripción de \(entity) en \(plan) empieza después de \(body.to).", found: body.to.description)
                }
                throw APIError.notFound("La entidad \(entity) no está inscrita en el plan \(plan).")
            }
            if let ended = current.to, ended < body.to {
                throw APIError.conflict("La inscripción de \(entity) en \(plan) ya terminó en \(ended).",
                                        errors: [FieldError(field: "to", message: "La inscripción ya terminó.", found: ended.description)])
            }
            let later = try EnrollmentStore.assignmentsStartingAfter(conn, plan: plan, entity: entity, from: current.from, to: body.to)
            if !later.isEmpty {
                throw APIError.conflict("Hay asignaciones de \(entity) en \(plan) que empiezan después de \(body.to): \(later.map(String.init).joined(separator: ", ")).",
                                        errors: later.map { FieldError(field: "to", message: "Asignación posterior al fin.", found: "assignment \($0)") })
            }
            let cut = try EnrollmentStore.end(conn, id: current.id, plan: plan, entity: entity, from: current.from, to: body.to)
            var dto: EnrollmentDTO = current
            dto.to = body.to
            dto.assignmentsEnded = cut
            return dto
        }
        return try .json(dto)
    }

    static func isEnrollmentKey(_ s: String) -> Bool {
        let parts = s.split(separator: "|", omittingEmptySubsequences: false)
        return parts.count == 2 && TerritoryRoutes.isEntityCode(String(parts[0])) && Period(String(parts[1])) != nil
    }

    static func enrollmentKey(_ s: String) -> (entity: String, from: Period) {
        let parts = s.split(separator: "|")
        return (String(parts[0]), Period(String(parts[1]))!)
    }
}
