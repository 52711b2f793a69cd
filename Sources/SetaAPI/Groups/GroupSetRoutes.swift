// /v1/group-sets and /v1/attributes: group sets and typed attributes, their CSV imports, and what cuts froze of them.
import Foundation
import SetaDatabase
import SetaDomain

struct GroupSetWriteDTO: Codable, Sendable {
    var code: String?
    var name: String
    var description: String?
    var groups: [GroupWriteDTO]?
}

struct GroupWriteDTO: Codable, Sendable {
    var code: String
    var name: String
}

struct AttributeWriteDTO: Codable, Sendable {
    var code: String?
    var name: String
    var type: String?
    var categories: [String]?
}

struct FrozenGroupSetDTO: Encodable, Sendable {
    var cut: Int64
    var set: String
    var name: String
    var items: [GroupDTO]
}

enum GroupSetRoutes {
    static let memberColumns = ["set", "group", "entity", "from", "group_name"]
    static let valueColumns = ["entity", "attribute", "value"]

    static func register(_ r: inout Router) {
        r.add("GET", "/v1/group-sets", listSets)
        r.add("POST", "/v1/group-sets", createSet)
        r.add("GET", "/v1/group-sets/{set}", getSet)
        r.add("PUT", "/v1/group-sets/{set}", replaceSet)
        r.add("DELETE", "/v1/group-sets/{set}", deleteSet)
        r.add("GET", "/v1/group-sets/{set}/members", listMembers)
        r.add("POST", "/v1/imports/group-members", importMembers)
        r.add("GET", "/v1/attributes", listAttributes)
        r.add("POST", "/v1/attributes", createAttribute)
        r.add("PUT", "/v1/attributes/{code}", replaceAttribute)
        r.add("DELETE", "/v1/attributes/{code}", deleteAttribute)
        r.add("POST", "/v1/imports/attribute-values", importValues)
        r.add("GET", "/v1/cuts/{id}/group-sets", frozenSets)
        r.add("GET", "/v1/cuts/{id}/group-sets/{set}", frozenSet)
    }

    // MARK: Group sets

    static func asOf(_ ctx: RequestContext) throws -> Period {
        try ctx.period("as_of", required: false, default: Period.current(at: ctx.now))!
    }

    static func listSets(_ ctx: RequestContext) throws -> APIResponse {
        _ = try ctx.caller
        let month = try asOf(ctx)
        let sets = try ctx.db.withConnection { try GroupSetStore.sets($0, month: month) }
        return try .json(ListResponse(items: sets, total: sets.count, nextCursor: nil))
    }

    static func getSet(_ ctx: RequestContext) throws -> APIResponse {
        _ = try ctx.caller
        let code = ctx.param("set"), month = try asOf(ctx)
        guard let set = try ctx.db.withConnection({ try GroupSetStore.sets($0, code: code, month: month) }).first else {
            throw unknownSet(code)
        }
        return try .json(set)
    }

    static func unknownSet(_ code: String) -> APIError {
        APIError(status: 404, detail: "No existe el conjunto de agrupación «\(code)».",
                 errors: [FieldError(field: "set", message: "Conjunto desconocido.", found: code)])
    }

    /// Checks a set's body: code and group codes by pattern, names as any other name, no group twice.
    static func validated(_ ctx: RequestContext, _ body: GroupSetWriteDTO, code: String) throws -> (String, String?, [GroupSetStore.Group]) {
        guard code.range(of: "^[a-z0-9-]{1,60}$", options: .regularExpression) != nil else {
            throw APIError.invalid(field: "code", "`code` admite de 1 a 60 letras minúsculas, dígitos y guiones (p. ej. `universos`).", found: code)
        }
        let name = try ctx.requiredText(body.name, field: "name")
        let description = try body.description.map { try ctx.requiredText($0, field: "description", max: 2000) }
        var groups: [GroupSetStore.Group] = []
        var seen = Set<String>()
        for (i, g) in (body.groups ?? []).enumerated() {
            let gc = g.code.trimmingCharacters(in: .whitespaces)
            guard gc.range(of: "^[A-Za-z0-9_-]{1,60}$", options: .regularExpression) != nil else {
                throw APIError.invalid(field: "groups[\(i)].code", "El código de grupo admite letras, dígitos, _ y - (hasta 60).", found: gc)
            }
            guard seen.insert(gc).inserted else {
                throw APIError.invalid(field: "groups[\(i)].code", "Grupo repetido.", found: gc)
            }
            groups.append(.init(code: gc, name: try ctx.requiredText(g.name, field: "groups[\(i)].name")))
        }
        return (name, description, groups)
    }

    static func createSet(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let body = try ctx.decode(GroupSetWriteDTO.self)
        let code = (body.code ?? "").trimmingCharacters(in: .whitespaces)
        let (name, description, groups) = try validated(ctx, body, code: code)
        let month = Period.current(at: ctx.now)
        let set = try ctx.db.withTransaction { conn -> GroupSetStore.GroupSet in
            if try GroupSetStore.exists(conn, code: code) {
                throw APIError.conflict("Ya existe el conjunto «\(code)».", errors: [FieldError(field: "code", message: "Código en uso.", found: code)])
            }
            try GroupSetStore.upsert(conn, code: code, name: name, description: description, groups: groups, replace: false)
            return try GroupSetStore.sets(conn, code: code, month: month)[0]
        }
        return try .json(set, status: 201, headers: [("Location", "/v1/group-sets/\(code)")])
    }

    /// Renames a set and adds or renames groups; groups not listed stay.
    static func replaceSet(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let code = ctx.param("set")
        let body = try ctx.decode(GroupSetWriteDTO.self)
        if let c = body.code, c != code { throw APIError.invalid(field: "code", "`code` no coincide con la ruta.", found: c) }
        let (name, description, groups) = try validated(ctx, body, code: code)
        let month = Period.current(at: ctx.now)
        let set = try ctx.db.withTransaction { conn -> GroupSetStore.GroupSet in
            guard try GroupSetStore.exists(conn, code: code) else { throw unknownSet(code) }
            try GroupSetStore.upsert(conn, code: code, name: name, description: description, groups: groups, replace: true)
            return try GroupSetStore.sets(conn, code: code, month: month)[0]
        }
        return try .json(set)
    }

    /// Deletes a set with its groups and memberships; cuts that froze it keep their copy.
    static func deleteSet(_ ctx: RequestContext) throws -> APIResponse {
        try deleteByCode(ctx, param: "set", delete: GroupSetStore.delete, unknown: unknownSet)
    }

    /// DELETE of a set or an attribute (central team): 204, or the 404 `unknown` names when there was none.
    static func deleteByCode(_ ctx: RequestContext, param: String, delete: (Connection, String) throws -> Bool,
                             unknown: (String) -> APIError) throws -> APIResponse {
        try ctx.requireCentral()
        let code = ctx.param(param)
        guard try ctx.db.withTransaction({ try delete($0, code) }) else { throw unknown(code) }
        return .empty(status: 204, headers: [])
    }

    static func listMembers(_ ctx: RequestContext) throws -> APIResponse {
        _ = try ctx.caller
        let code = ctx.param("set"), month = try asOf(ctx)
        let group = try ctx.query("group")
        let members = try ctx.db.withConnection { conn -> [GroupSetStore.Member] in
            guard try GroupSetStore.exists(conn, code: code) else { throw unknownSet(code) }
            let members = try GroupSetStore.members(conn, set: code, group: group, month: month)
            if let group, members.isEmpty,
               try GroupSetStore.sets(conn, code: code, month: month).first?.groups.contains(where: { $0.code == group }) != true {
                throw APIError.invalid(field: "group", "No existe el grupo «\(group)» en el conjunto «\(code)».", found: group)
            }
            return members
        }
        return try .json(ListResponse(items: members, total: members.count, nextCursor: nil))
    }

    static func importMembers(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let dryRun = try ctx.boolQuery("dry_run", default: true)
        let (table, column) = try ImportRoutes.csvTable(ctx, columns: memberColumns, optional: ["group_name"])
        let rows = table.records.map { record -> GroupSetStore.StagedMember in
            func field(_ name: String) -> String { column[name].map { record.fields[$0].trimmingCharacters(in: .whitespaces) } ?? "" }
            var entity = field("entity")
            if (entity.count == 4 || entity.count == 1) && entity.allSatisfy({ $0.isASCII && $0.isNumber }) { entity = "0" + entity }
            var row = GroupSetStore.StagedMember(line: record.line, set: field("set"), group: field("group"),
                                                 groupName: field("group_name"), entity: entity)
            if row.set.isEmpty { row.formatReasons.append("set: falta el conjunto") }
            if entity.isEmpty { row.formatReasons.append("entity: falta el código DANE") }
            let from = field("from")
            if let p = Period(from) { row.from = p } else {
                row.formatReasons.append(from.isEmpty ? "from: falta el mes (AAAA-MM)" : "from: «\(from)» no es un mes AAAA-MM")
            }
            if row.groupName.count > TerritoryLimits.maxNameLength {
                row.formatReasons.append("group_name: admite hasta \(TerritoryLimits.maxNameLength) caracteres")
            }
            return row
        }
        let outcomes = try ctx.db.withTransaction { conn in try GroupSetStore.importMembers(conn, rows, apply: !dryRun) }
        return try ImportRoutes.summaryResponse(ctx, dryRun: dryRun, outcomes: outcomes)
    }

    // MARK: Attributes

    static func listAttributes(_ ctx: RequestContext) throws -> APIResponse {
        _ = try ctx.caller
        let items = try ctx.db.withConnection { try AttributeStore.attributes($0) }
        return try .json(ListResponse(items: items, total: items.count, nextCursor: nil))
    }

    static func unknownAttribute(_ code: String) -> APIError {
        APIError(status: 404, detail: "No existe el atributo «\(code)».",
                 errors: [FieldError(field: "code", message: "Atributo desconocido.", found: code)])
    }

    static func validated(_ ctx: RequestContext, _ body: AttributeWriteDTO, code: String, type: String) throws -> AttributeStore.Attribute {
        guard code.range(of: "^[a-z0-9_-]{1,60}$", options: .regularExpression) != nil else {
            throw APIError.invalid(field: "code", "`code` admite de 1 a 60 letras minúsculas, dígitos, _ y - (p. ej. `pdet`).", found: code)
        }
        guard AttributeStore.types.contains(type) else {
            throw APIError.invalid(field: "type", "`type` debe ser boolean, number, text o category.", found: type)
        }
        let name = try ctx.requiredText(body.name, field: "name")
        var categories: [String]?
        if type == "category" {
            guard let list = body.categories, !list.isEmpty else {
                throw APIError.invalid(field: "categories", "Un atributo category necesita `categories` (al menos una).")
            }
            var seen = Set<String>()
            categories = try list.enumerated().map { i, c in
                let t = try ctx.requiredText(c, field: "categories[\(i)]")
                guard seen.insert(t.lowercased()).inserted else { throw APIError.invalid(field: "categories[\(i)]", "Categoría repetida.", found: t) }
                return t
            }
        } else if body.categories != nil {
            throw APIError.invalid(field: "categories", "Solo los atributos category llevan `categories`.")
        }
        return AttributeStore.Attribute(code: code, name: name, type: type, categories: categories)
    }

    static func createAttribute(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let body = try ctx.decode(AttributeWriteDTO.self)
        let code = (body.code ?? "").trimmingCharacters(in: .whitespaces)
        let a = try validated(ctx, body, code: code, type: body.type ?? "")
        let created = try ctx.db.withTransaction { conn -> AttributeStore.Attribute in
            if try AttributeStore.attribute(conn, code: code) != nil {
                throw APIError.conflict("Ya existe el atributo «\(code)».", errors: [FieldError(field: "code", message: "Código en uso.", found: code)])
            }
            try AttributeStore.upsert(conn, a, replace: false)
            return try AttributeStore.attribute(conn, code: code)!
        }
        return try .json(created, status: 201, headers: [("Location", "/v1/attributes/\(code)")])
    }

    /// Renames an attribute or changes its categories; its type never changes (values would be of the wrong type).
    static func replaceAttribute(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let code = ctx.param("code")
        let body = try ctx.decode(AttributeWriteDTO.self)
        if let c = body.code, c != code { throw APIError.invalid(field: "code", "`code` no coincide con la ruta.", found: c) }
        let updated = try ctx.db.withTransaction { conn -> AttributeStore.Attribute in
            guard let existing = try AttributeStore.attribute(conn, code: code) else { throw unknownAttribute(code) }
            if let t = body.type, t != existing.type {
                throw APIError.conflict("El tipo de un atributo no cambia (es \(existing.type)); cree otro atributo.",
                                        errors: [FieldError(field: "type", message: "Tipo distinto del existente.", found: t)])
            }
            let a = try validated(ctx, body, code: code, type: existing.type)
            if let cats = a.categories {
                let orphans = try AttributeStore.valuesOutside(conn, code: code, categories: cats)
                if !orphans.isEmpty {
                    throw APIError.conflict("Hay entidades con valores que la nueva lista no incluye: \(orphans.prefix(10).joined(separator: ", ")).",
                                            errors: [FieldError(field: "categories", message: "Faltan categorías en uso.")])
                }
            }
            try AttributeStore.upsert(conn, a, replace: true)
            return try AttributeStore.attribute(conn, code: code)!
        }
        return try .json(updated)
    }

    static func deleteAttribute(_ ctx: RequestContext) throws -> APIResponse {
        try deleteByCode(ctx, param: "code", delete: AttributeStore.delete, unknown: unknownAttribute)
    }

    static func importValues(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let dryRun = try ctx.boolQuery("dry_run", default: true)
        let (table, column) = try ImportRoutes.csvTable(ctx, columns: valueColumns, optional: [])
        let rows = table.records.map { record -> AttributeStore.StagedValue in
            func field(_ name: String) -> String { column[name].map { record.fields[$0].trimmingCharacters(in: .whitespaces) } ?? "" }
            var entity = field("entity")
            if (entity.count == 4 || entity.count == 1) && entity.allSatisfy({ $0.isASCII && $0.isNumber }) { entity = "0" + entity }
            var row = AttributeStore.StagedValue(line: record.line, entity: entity, attribute: field("attribute"), value: field("value"))
            if entity.isEmpty { row.formatReasons.append("entity: falta el código DANE") }
            if row.attribute.isEmpty { row.formatReasons.append("attribute: falta el atributo") }
            return row
        }
        let outcomes = try ctx.db.withTransaction { conn in try AttributeStore.importValues(conn, rows, apply: !dryRun) }
        return try ImportRoutes.summaryResponse(ctx, dryRun: dryRun, outcomes: outcomes)
    }

    // MARK: What cuts froze

    /// The sets a cut froze. Frozen set groups cross regions, so they are for the central team and unrestricted
    /// viewers, like the cut's national figure.
    static func requireWholeCountry(_ ctx: RequestContext) throws {
        let p = try ctx.caller
        if p.role == .central { return }
        if p.role == .viewer, p.regions.isEmpty, !p.limitedToPartner { return }
        throw APIError.forbidden("Los conjuntos de agrupación de un corte son del equipo central y de lectores sin restricción.")
    }

    static func frozenSets(_ ctx: RequestContext) throws -> APIResponse {
        try requireWholeCountry(ctx)
        let items = try ctx.db.withConnection { conn -> [GroupSetStore.Group] in
            let cut = try CutStore.requireCut(conn, id: ctx.param("id"))
            return try GroupSetStore.frozenSets(conn, cut: cut.id).map { GroupSetStore.Group(code: $0.code, name: $0.name) }
        }
        return try .json(ListResponse(items: items, total: items.count, nextCursor: nil))
    }

    static func frozenSet(_ ctx: RequestContext) throws -> APIResponse {
        try requireWholeCountry(ctx)
        let code = ctx.param("set")
        let dto = try ctx.db.withConnection { conn -> FrozenGroupSetDTO in
            let cut = try CutStore.requireCut(conn, id: ctx.param("id"))
            guard let frozen = try GroupSetStore.frozenGroups(conn, cut: cut.id, set: code) else {
                throw APIError(status: 404, detail: "El corte \(cut.id) no congeló el conjunto «\(code)» (no existía cuando se tomó).",
                               errors: [FieldError(field: "set", message: "Conjunto no congelado en este corte.", found: code)])
            }
            let catalog = try ProgressStore.catalogOf(conn, plan: cut.plan, version: cut.catalogVersion)
            return FrozenGroupSetDTO(cut: cut.id, set: code, name: frozen.name,
                                     items: try ProgressRoutes.groupDTOs(conn, frozen.groups, catalog: catalog))
        }
        if ctx.wantsTable {
            return .table(filename: "corte-\(dto.cut)-\(code)") { sink in
                try sink.header(GroupDTO.summaryColumns)
                for g in dto.items { try sink.row(g.summaryCells) }
            }
        }
        return try .json(dto)
    }
}
