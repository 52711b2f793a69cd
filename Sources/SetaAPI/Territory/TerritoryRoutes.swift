// /v1/entities, /v1/departments, /v1/regions: the territory, with region membership by month; registers enrollments and imports.
import Foundation
import SetaFormats
import SetaDatabase
import SetaDomain

/// Limits of the territory and people routes, each with its default.
enum TerritoryLimits {
    /// Entity codes in one bulk enrollment request.
    static let maxCodesPerRequest = 5_000
    /// Data rows in one CSV import.
    static let maxImportRows = 20_000
    /// Token lifetimes, in days.
    static let defaultTokenDays = 90
    static let maxTokenDays = 730
    /// Lengths of names people type (regions, partners, people).
    static let maxNameLength = 200
}

/// An entity in the list: the row as the store reads it, attribute values by attribute code (issue 15) and `{}`
/// when the entity has none.
typealias EntityDTO = TerritoryStore.EntityRow

/// A stretch of months in one region; `from` absent means "since always" (the default PND region).
struct RegionSpanDTO: Codable, Sendable {
    var from: Period?
    var regionCode: String
    var regionName: String
}

struct EntityDetailDTO: Encodable, Sendable {
    var code: String
    var name: String
    var type: String
    var asOf: Period
    var department: DepartmentRefDTO
    var region: RegionRefDTO?
    var regionHistory: [RegionSpanDTO]
    var enrollments: [EnrollmentDTO]
    var assignments: [AssignmentDTO]
    /// Attribute values by attribute code, and the group of each group set the entity is in as of `asOf` (issue 15).
    var attributes: [String: String]
    var groups: [EntityGroupDTO]
}

/// One group set membership of an entity: the set (conjunto de agrupación) and its group that month.
struct EntityGroupDTO: Codable, Sendable {
    var set: String
    var setName: String
    var group: String
    var groupName: String
}

struct DepartmentRefDTO: Codable, Sendable { var code: String; var name: String }
struct RegionRefDTO: Codable, Sendable { var code: String; var name: String }

/// A department in the list, as the store reads it.
typealias DepartmentDTO = TerritoryStore.DepartmentRow

struct RegionDTO: Codable, Sendable {
    var code: String
    var name: String
    var active: Bool
    var asOf: Period
    var departments: [DepartmentRefDTO]
    var entityCount: Int
}

struct RegionCreateDTO: Codable, Sendable { var code: String; var name: String }
struct RegionRenameDTO: Codable, Sendable { var name: String }
struct RegionMoveDTO: Codable, Sendable { var region: String; var from: Period }

struct RegionMoveResultDTO: Encodable, Sendable {
    var code: String
    var name: String
    var region: RegionRefDTO
    var from: Period
    var regionHistory: [RegionSpanDTO]
}

extension RequestContext {
    /// `as_of` (YYYY-MM), by default the current month.
    func asOfMonth() throws -> Period {
        try period("as_of", required: false, default: Period.current(at: now))!
    }

    /// A text body field as the person meant it: trimmed, required, within `max` characters.
    func requiredText(_ value: String, field: String, max: Int = TerritoryLimits.maxNameLength) throws -> String {
        let t = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { throw APIError.invalid(field: field, "`\(field)` no puede estar vacío.") }
        if t.count > max { throw APIError.invalid(field: field, "`\(field)` admite hasta \(max) caracteres.", found: String(t.prefix(40))) }
        if t.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw APIError.invalid(field: field, "`\(field)` tiene caracteres de control.")
        }
        return t
    }
}

enum TerritoryRoutes {
    static func register(_ r: inout Router) {
        registerEntities(&r)
        registerDepartments(&r)
        registerRegions(&r)
        EnrollmentRoutes.register(&r)
        ImportRoutes.register(&r)
    }

    static func isEntityCode(_ s: String) -> Bool {
        (s.count == 2 || s.count == 5) && s.allSatisfy { $0.isASCII && $0.isNumber }
    }

    static func spans(_ history: [(from: Period, region: String, name: String)]) -> [RegionSpanDTO] {
        history.map { RegionSpanDTO(from: $0.from == TerritoryStore.sinceAlways ? nil : $0.from, regionCode: $0.region, regionName: $0.name) }
    }

    // MARK: Entities

    static func registerEntities(_ r: inout Router) {
        r.add("GET", "/v1/entities", listEntities)
        r.add("GET", "/v1/entities/{code}", showEntity)
        r.add("PUT", "/v1/entities/{code}/region", moveEntity)
    }

    /// A filter naming a department, region, plan, group set, group or attribute that does not exist (or an
    /// attribute value of the wrong type) is a 422 naming the parameter.
    static func validateFilters(_ conn: Connection, department: String?, region: String?, plan: String?,
                                setGroup: SetGroupFilter? = nil, attributes: [AttributeFilter] = []) throws {
        if setGroup != nil || !attributes.isEmpty {
            var f = ProgressFilter()
            f.setGroup = setGroup
            f.attributes = attributes
            if let problem = try GroupSetStore.unknownReference(conn, grouping: nil, filter: f) { throw problem }
        }
        if let d = department, try TerritoryStore.department(conn, code: d) == nil {
            throw APIError.invalid(field: "department", "No existe el departamento «\(d)».", found: d)
        }
        if let r = region { try TerritoryStore.requireRegion(conn, code: r, field: "region", active: false) }
        if let p = plan, try CatalogStore.plan(conn, code: p) == nil {
            throw APIError.invalid(field: "plan", "No existe el plan «\(p)».", found: p)
        }
    }

    // MARK: Departments

    static func registerDepartments(_ r: inout Router) {
        r.add("GET", "/v1/departments", listDepartments)
        r.add("PUT", "/v1/departments/{code}/region", moveDepartment)
    }

    // MARK: Regions

    static func regionDTO(_ r: TerritoryStore.RegionRow, asOf: Period) -> RegionDTO {
        RegionDTO(code: r.code, name: r.name, active: r.active, asOf: asOf,
                  departments: zip(r.departmentCodes, r.departmentNames).map { DepartmentRefDTO(code: $0, name: $1) },
                  entityCount: r.entityCount)
    }

    static func isRegionCode(_ s: String) -> Bool {
        (1...60).contains(s.count) && s.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    static func registerRegions(_ r: inout Router) {
        r.add("GET", "/v1/regions", listRegions)
        r.add("GET", "/v1/regions/{code}", showRegion)
        r.add("POST", "/v1/regions", createRegion)
        r.add("PATCH", "/v1/regions/{code}", updateRegion)

        // Deleting retires: past months keep naming the region; only a region with no members from now on goes.
        r.add("DELETE", "/v1/regions/{code}", deleteRegion)
    }

    static func listEntities(_ ctx: RequestContext) throws -> APIResponse {
        let asOf = try ctx.asOfMonth()
        var filter = TerritoryStore.EntityFilter(asOf: asOf)
        filter.department = try ctx.query("department").flatMap { $0.isEmpty ? nil : $0 }
        filter.region = try ctx.query("region").flatMap { $0.isEmpty ? nil : $0 }
        filter.type = try ctx.query("type").flatMap { $0.isEmpty ? nil : $0 }
        filter.plan = try ctx.query("plan").flatMap { $0.isEmpty ? nil : $0 }
        filter.q = try ctx.query("q").flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        filter.setGroup = try ctx.setGroupFilter()
        filter.attributes = ctx.attributeFilters()
        if let t = filter.type, !TerritoryStore.entityTypes.contains(t) {
            throw APIError.invalid(field: "type", "`type` debe ser uno de: \(TerritoryStore.entityTypes.joined(separator: ", ")).", found: t)
        }
        let csv = ctx.wantsTable
        let limit = csv ? nil : try PageCursor.limit(ctx)
        let after = csv ? nil : try PageCursor.key(ctx, isKey: isEntityCode)
        let caller = try ctx.caller
        let page = try ctx.db.withConnection { conn in
            try validateFilters(conn, department: filter.department, region: filter.region, plan: filter.plan,
                                setGroup: filter.setGroup, attributes: filter.attributes)
            return try TerritoryStore.entities(conn, filter, scope: Scope.condition(for: caller, entityColumn: "e.code", plan: filter.plan, month: asOf),
                                               after: after, limit: limit.map { $0 + 1 })
        }
        if csv {
            // One `attr.<code>` column per attribute any listed entity has, by code, after the historic columns.
            let attributeCodes = Array(Set(page.rows.flatMap { $0.attributes.keys })).sorted()
            return .table(filename: "entidades-\(asOf)") { sink in
                try sink.header(["code", "name", "type", "department_code", "department_name", "region_code", "region_name"]
                                + attributeCodes.map { AttributeFilter.parameterPrefix + $0 })
                for e in page.rows {
                    try sink.row([.text(e.code), .text(e.name), .text(e.type), .text(e.departmentCode), .text(e.departmentName),
                              .text(e.regionCode), .text(e.regionName)] + attributeCodes.map { .text(e.attributes[$0]) })
                }
            }
        }
        return try .json(ListResponse(keyset: page.rows, total: page.total, limit: limit!, item: { $0 as EntityDTO }, key: \.code))
    }

    static func showEntity(_ ctx: RequestContext) throws -> APIResponse {
        let code = ctx.param("code")
        let asOf = try ctx.asOfMonth()
        let caller = try ctx.caller
        let dto = try ctx.db.withConnection { conn -> EntityDetailDTO in
            let e = try TerritoryStore.requireEntity(conn, code: code, asOf: asOf)
            try TerritoryStore.requireInScope(conn, caller: caller, entity: code, month: asOf)
            let enrollments = try EnrollmentStore.enrollments(conn, entity: code)
            var af = AssignmentStore.ListFilter(month: asOf)
            af.entity = code
            af.asOf = asOf
            let assignments = try AssignmentStore.list(conn, af, scope: SQL(unsafe: "TRUE"), after: nil, limit: nil).rows
            let groupings = try TerritoryStore.entityGroupings(conn, code: code, asOf: asOf)
            return EntityDetailDTO(
                code: e.code, name: e.name, type: e.type, asOf: asOf,
                department: DepartmentRefDTO(code: e.departmentCode, name: e.departmentName),
                region: e.regionCode.map { RegionRefDTO(code: $0, name: e.regionName ?? $0) },
                regionHistory: spans(try TerritoryStore.regionHistory(conn, entity: code)),
                enrollments: enrollments, assignments: assignments, attributes: groupings.attributes,
                groups: groupings.groups.map { EntityGroupDTO(set: $0.set, setName: $0.setName, group: $0.group, groupName: $0.groupName) })
        }
        return try .json(dto)
    }

    static func moveEntity(_ ctx: RequestContext) throws -> APIResponse {
        try moveToRegion(ctx, find: { conn, code, from in
            let e = try TerritoryStore.requireEntity(conn, code: code, asOf: from)
            return (e.code, e.name)
        }, move: TerritoryStore.moveEntity, history: { try TerritoryStore.regionHistory($0, entity: $1) })
    }

    /// `PUT …/{code}/region` of an entity or a department: `find` reads it (or refuses), `move` writes the move from
    /// the body's month, and the answer shows its region history after the move.
    static func moveToRegion(_ ctx: RequestContext, find: (Connection, String, Period) throws -> (code: String, name: String),
                             move: (Connection, String, String, Period) throws -> Void,
                             history: (Connection, String) throws -> [(from: Period, region: String, name: String)]) throws -> APIResponse {
        try ctx.requireCentral()
        let code = ctx.param("code")
        let body = try ctx.decode(RegionMoveDTO.self)
        let dto = try ctx.db.withTransaction { conn -> RegionMoveResultDTO in
            let unit = try find(conn, code, body.from)
            let region = try TerritoryStore.requireRegion(conn, code: body.region, field: "region", active: true)
            try move(conn, code, region.code, body.from)
            return RegionMoveResultDTO(code: unit.code, name: unit.name, region: RegionRefDTO(code: region.code, name: region.name),
                                       from: body.from, regionHistory: spans(try history(conn, code)))
        }
        return try .json(dto)
    }

    static func listDepartments(_ ctx: RequestContext) throws -> APIResponse {
        let asOf = try ctx.asOfMonth()
        let region = try ctx.query("region").flatMap { $0.isEmpty ? nil : $0 }
        let rows = try ctx.db.withConnection { conn in
            if let region { try TerritoryStore.requireRegion(conn, code: region, field: "region", active: false) }
            return try TerritoryStore.departments(conn, asOf: asOf, region: region)
        }
        if ctx.wantsTable {
            return .table(filename: "departamentos-\(asOf)") { sink in
                try sink.header(["code", "name", "region_code", "region_name", "gobernacion_code", "municipality_count"])
                for d in rows {
                    try sink.row([.text(d.code), .text(d.name), .text(d.regionCode), .text(d.regionName), .text(d.gobernacionCode),
                              .integer(d.municipalityCount)])
                }
            }
        }
        return try .json(ListResponse(items: rows, total: rows.count, nextCursor: nil))
    }

    static func moveDepartment(_ ctx: RequestContext) throws -> APIResponse {
        try moveToRegion(ctx, find: { conn, code, _ in
            guard let d = try TerritoryStore.department(conn, code: code) else {
                throw APIError(status: 404, detail: "No existe el departamento «\(code)».",
                               errors: [FieldError(field: "code", message: "Departamento desconocido.", found: code)])
            }
            return (d.code, d.name)
        }, move: TerritoryStore.moveDepartment, history: { try TerritoryStore.regionHistory($0, department: $1) })
    }

    static func listRegions(_ ctx: RequestContext) throws -> APIResponse {
        let asOf = try ctx.asOfMonth()
        let includeRetired = try ctx.boolQuery("include_retired")
        let rows = try ctx.db.withConnection { conn in
            try TerritoryStore.regions(conn, asOf: asOf, includeRetired: includeRetired)
        }
        if ctx.wantsTable {
            return .table(filename: "regiones-\(asOf)") { sink in
                try sink.header(["code", "name", "active", "department_codes", "entity_count"])
                for g in rows {
                    try sink.row([.text(g.code), .text(g.name), .boolean(g.active), .text(g.departmentCodes.joined(separator: " ")), .integer(g.entityCount)])
                }
            }
        }
        let items = rows.map { regionDTO($0, asOf: asOf) }
        return try .json(ListResponse(items: items, total: items.count, nextCursor: nil))
    }

    static func showRegion(_ ctx: RequestContext) throws -> APIResponse {
        let code = ctx.param("code")
        let asOf = try ctx.asOfMonth()
        let row = try ctx.db.withConnection { conn in try TerritoryStore.regions(conn, asOf: asOf, code: code).first }
        guard let row else { throw APIError.notFound("No existe la región «\(code)».") }
        return try .json(regionDTO(row, asOf: asOf))
    }

    static func createRegion(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let body = try ctx.decode(RegionCreateDTO.self)
        let code = body.code.trimmingCharacters(in: .whitespaces)
        guard isRegionCode(code) else {
            throw APIError.invalid(field: "code", "`code` admite de 1 a 60 letras minúsculas, dígitos y guiones (p. ej. `centro-sur`).", found: code)
        }
        let name = try ctx.requiredText(body.name, field: "name")
        let asOf = Period.current(at: ctx.now)
        let dto = try ctx.db.withTransaction { conn -> RegionDTO in
            if let existing = try TerritoryStore.region(conn, code: code) {
                throw APIError.conflict("Ya existe la región «\(code)»\(existing.active ? "" : " (eliminada)").",
                                        errors: [FieldError(field: "code", message: "Código en uso.", found: code)])
            }
            try refuseDuplicateName(conn, name, except: nil)
            try TerritoryStore.createRegion(conn, code: code, name: name)
            return regionDTO(try TerritoryStore.regions(conn, asOf: asOf, code: code)[0], asOf: asOf)
        }
        return try .json(dto, status: 201, headers: [("Location", "/v1/regions/\(code)")])
    }

    static func updateRegion(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let code = ctx.param("code")
        let body = try ctx.decode(RegionRenameDTO.self)
        let name = try ctx.requiredText(body.name, field: "name")
        let asOf = Period.current(at: ctx.now)
        let dto = try ctx.db.withTransaction { conn -> RegionDTO in
            guard try TerritoryStore.region(conn, code: code) != nil else {
                throw APIError.notFound("No existe la región «\(code)».")
            }
            try refuseDuplicateName(conn, name, except: code)
            try TerritoryStore.renameRegion(conn, code: code, name: name)
            return regionDTO(try TerritoryStore.regions(conn, asOf: asOf, code: code)[0], asOf: asOf)
        }
        return try .json(dto)
    }

    static func deleteRegion(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let code = ctx.param("code")
        let current = Period.current(at: ctx.now)
        try ctx.db.withTransaction { conn in
            guard let region = try TerritoryStore.region(conn, code: code) else {
                throw APIError.notFound("No existe la región «\(code)».")
            }
            guard region.active else { return }
            let ties = try TerritoryStore.regionTies(conn, code: code, current: current)
            var errors: [FieldError] = []
            if ties.members > 0 {
                errors.append(FieldError(field: "members", message: "La región tiene \(ties.members) entidades en \(current); muévalas antes.", found: "\(ties.members)"))
            }
            if ties.laterMoves > 0 {
                errors.append(FieldError(field: "members", message: "Hay \(ties.laterMoves) traslados a la región con fecha posterior a \(current).", found: "\(ties.laterMoves)"))
            }
            if ties.people > 0 {
                errors.append(FieldError(field: "people", message: "\(ties.people) personas activas tienen la región asignada.", found: "\(ties.people)"))
            }
            if !errors.isEmpty {
                throw APIError.conflict("La región «\(code)» aún tiene miembros desde \(current); no se puede eliminar.", errors: errors)
            }
            try TerritoryStore.retireRegion(conn, code: code)
        }
        return .empty(status: 204, headers: [])
    }

    static func refuseDuplicateName(_ conn: Connection, _ name: String, except code: String?) throws {
        if let other = try TerritoryStore.activeRegionNamed(conn, name, except: code) {
            throw APIError.conflict("Ya hay una región activa llamada «\(name)» (\(other)).",
                                    errors: [FieldError(field: "name", message: "Nombre en uso.", found: name)])
        }
    }
}
