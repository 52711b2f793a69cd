// /v1/cuts: take a quarterly (or monthly) cut, read it, export it as CSV, XLSX or JSON, compare two cuts.
import Foundation
import SetaDatabase
import SetaDomain
import SetaFormats

struct CutRequestDTO: Codable, Sendable {
    var plan: String
    /// `YYYY-MM` or a quarter `YYYY-Qn` (its last month).
    var period: String
    var label: String
}

struct CutDTO: Encodable, Sendable {
    var id: Int64
    var plan: String
    var period: String
    var label: String
    var catalogVersion: Int
    var createdAt: Date
    var createdBy: Int64?
    var lockedPeriods: [String]?
    var national: GroupDTO?
    var regions: [GroupDTO]?
}

struct CutEntityDTO: Codable, Sendable {
    var code: String
    var name: String
    var type: String
    var departmentCode: String
    var department: String
    var regionCode: String?
    var region: String?
    var advisorId: Int64?
    var advisor: String?
    var partnerCode: String?
    var total: Decimal?
    var phases: [PhaseProgressDTO]
    var milestones: [String: String]?
}

struct CutExportDTO: Encodable, Sendable {
    var cut: CutDTO
    var entities: [CutEntityDTO]
}

struct CutComparisonDTO: Encodable, Sendable {
    struct EntityChange: Codable, Sendable {
        var code: String
        var name: String
        var totalA: Decimal?
        var totalB: Decimal?
        var change: Decimal?
    }
    struct GroupChange: Codable, Sendable {
        var group: String
        var key: String
        var name: String
        var entityCountA: Int?
        var entityCountB: Int?
        var meanA: Decimal?
        var meanB: Decimal?
        var change: Decimal?
        var atHundredA: Int?
        var atHundredB: Int?
        /// Completion share per phase, in cut b's catalog order (then codes only in a).
        var phases: [ShareChange] = []
        /// Mean progress per stage (momento), plans with stages.
        var stages: [ShareChange] = []
        /// Completion share per milestone (the report's headline figures).
        var milestones: [ShareChange] = []
    }
    /// One figure of a group in both cuts: a phase's or milestone's completion share, a stage's mean.
    struct ShareChange: Codable, Sendable {
        var code: String
        var a: Decimal?
        var b: Decimal?
        var change: Decimal?
        /// A stage's completion share in each cut (stages only).
        var completedShareA: Decimal?
        var completedShareB: Decimal?
    }
    var a: CutDTO
    var b: CutDTO
    var groups: [GroupChange]
    var entities: [EntityChange]
}

enum CutRoutes {
    static func register(_ r: inout Router) {
        r.add("POST", "/v1/cuts", take)
        r.add("GET", "/v1/cuts", list)
        r.add("GET", "/v1/cuts/{id}", show)
        r.add("GET", "/v1/cuts/{id}/groups/{group}", frozenGroups)
        r.add("GET", "/v1/cuts/{id}/export", export)
        r.add("GET", "/v1/cuts/{id}/report", report)
        r.add("GET", "/v1/cuts/{a}/compare/{b}", compare)
    }

    static func dto(_ c: CutStore.CutRow, locked: [String]? = nil) -> CutDTO {
        CutDTO(id: c.id, plan: c.plan, period: c.period.description, label: c.label, catalogVersion: c.catalogVersion,
               createdAt: c.createdAt, createdBy: c.createdBy, lockedPeriods: locked)
    }

    /// What of a frozen cut a reader may see: the same scope as live dashboards, on the frozen columns.
    static func visible(_ e: CutStore.FrozenEntity, to p: Principal) -> Bool {
        switch p.role {
        case .central: return true
        case .coordinator: return e.regionCode.map(p.regions.contains) ?? false
        case .advisor: return e.advisorId == p.personId
        case .viewer:
            if !p.regions.isEmpty && !(e.regionCode.map(p.regions.contains) ?? false) { return false }
            if p.limitedToPartner && e.partnerCode != p.partnerCode { return false }
            return true
        }
    }

    static func take(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let body = try ctx.decode(CutRequestDTO.self)
        guard let period = Period.parseMonthOrQuarter(body.period) else {
            throw APIError.invalid(field: "period", "`period` debe ser AAAA-MM o AAAA-Qn.", found: body.period)
        }
        try ctx.refuseFuture(period, field: "period")
        let label = body.label.trimmingCharacters(in: .whitespacesAndNewlines)
        // Counted as PostgreSQL counts: code points, not grapheme clusters.
        guard (1...200).contains(label.unicodeScalars.count) else {
            throw APIError.invalid(field: "label", "`label` debe tener entre 1 y 200 caracteres.")
        }
        let caller = try ctx.caller
        let (cut, locked, national, regions) = try ctx.db.withTransaction { conn in
            let catalog = try CatalogStore.currentCatalog(conn, code: body.plan)
            try CutStore.serializeCuts(conn, plan: catalog.code)
            let (id, locked) = try CutStore.take(conn, catalog: catalog, period: period, label: label, by: caller.personId, now: ctx.now)
            let national = try ProgressRoutes.groupDTOs(conn, CutStore.groups(conn, cut: id, kind: .national, catalog: catalog), catalog: catalog)
            let regions = try ProgressRoutes.groupDTOs(conn, CutStore.groups(conn, cut: id, kind: .regions, catalog: catalog), catalog: catalog)
            return (try CutStore.cut(conn, id: id)!, locked, national.first, regions)
        }
        var d = dto(cut, locked: locked)
        d.national = national
        d.regions = regions
        return try .json(d, status: 201, headers: [("Location", "/v1/cuts/\(cut.id)")])
    }

    static func list(_ ctx: RequestContext) throws -> APIResponse {
        _ = try ctx.caller
        let plan = try ctx.query("plan")
        let cuts = try ctx.db.withConnection { try CutStore.cuts($0, plan: plan) }.map { dto($0) }
        if ctx.wantsTable {
            return .table(filename: "cortes") { sink in
                try sink.header(["id", "plan", "period", "label", "catalog_version", "created_at"])
                for c in cuts {
                    try sink.row([.id(c.id), .text(c.plan), .text(c.period), .text(c.label), .integer(c.catalogVersion),
                                  .text(ISO8601DateFormatter().string(from: c.createdAt))])
                }
            }
        }
        return try .json(ListResponse(items: cuts, total: cuts.count, nextCursor: nil))
    }

    static func show(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let (d, catalog) = try ctx.db.withConnection { conn -> (CutDTO, PlanCatalog) in
            let cut = try CutStore.requireCut(conn, id: ctx.param("id"))
            let catalog = try CutStore.catalog(conn, of: cut)
            var d = dto(cut)
            let kinds = CutExport.visibleGroupKinds(caller)
            if kinds.contains(.national) {
                d.national = try ProgressRoutes.groupDTOs(conn, CutStore.groups(conn, cut: cut.id, kind: .national, catalog: catalog), catalog: catalog).first
            }
            let regions = kinds.contains(.regions)
                ? CutExport.visibleGroups(try CutStore.groups(conn, cut: cut.id, kind: .regions, catalog: catalog), kind: .regions, to: caller) : []
            d.regions = try ProgressRoutes.groupDTOs(conn, regions, catalog: catalog)
            return (d, catalog)
        }
        if ctx.wantsTable {
            // The cut's groups with fixed columns (the generic JSON flattening made one column per listed entity).
            return .table(filename: "corte-\(d.id)-grupos") { sink in
                let groups = (d.national.map { [$0] } ?? []) + (d.regions ?? [])
                let kinds = (d.national == nil ? [] : [GroupKind.national.rawValue])
                    + Array(repeating: GroupKind.regions.rawValue, count: d.regions?.count ?? 0)
                try CutExport.groupSheet(sink, name: "Grupos", groups: groups, kinds: kinds, catalog: catalog)
            }
        }
        return try .json(d)
    }

    /// Every group of one kind as the cut froze it, in the live roll-ups' shape; the reader's scope applies.
    static func frozenGroups(_ ctx: RequestContext) throws -> APIResponse {
        if CutSetGroups.handles(ctx) { return try CutSetGroups.groups(ctx) }
        let caller = try ctx.caller
        let kind = try ProgressRoutes.groupKind(ctx)
        guard CutExport.visibleGroupKinds(caller).contains(kind) else {
            throw APIError.forbidden("Los grupos «\(kind.rawValue)» de un corte no están a su alcance.")
        }
        let (cut, catalog, items) = try ctx.db.withConnection { conn -> (CutStore.CutRow, PlanCatalog, [GroupDTO]) in
            let cut = try CutStore.requireCut(conn, id: ctx.param("id"))
            let catalog = try CutStore.catalog(conn, of: cut)
            let groups = CutExport.visibleGroups(try CutStore.groups(conn, cut: cut.id, kind: kind, catalog: catalog), kind: kind, to: caller)
            return (cut, catalog, try ProgressRoutes.groupDTOs(conn, groups, catalog: catalog))
        }
        if ctx.wantsTable {
            return .table(filename: "corte-\(cut.id)-\(kind.rawValue)") { sink in
                try CutExport.groupSheet(sink, name: CutExport.sheetNames[kind] ?? "Grupos", groups: items,
                                         kinds: Array(repeating: kind.rawValue, count: items.count), catalog: catalog)
            }
        }
        return try .json(GroupsResponseDTO(plan: cut.plan, catalogVersion: cut.catalogVersion, asOf: cut.period.description,
                                           group: kind.rawValue, items: items))
    }

    static func export(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let format = try ctx.query("format")?.lowercased()
        if let format, !["csv", "json", "xlsx"].contains(format) {
            throw APIError.badRequest("`format` debe ser csv, xlsx o json.", field: "format")
        }
        let (cut, catalog) = try ctx.db.withConnection { conn -> (CutStore.CutRow, PlanCatalog) in
            let cut = try CutStore.requireCut(conn, id: ctx.param("id"))
            let catalog = try CutStore.catalog(conn, of: cut)
            return (cut, catalog)
        }
        let pool = ctx.db
        if ctx.wantsTable {
            // The plain CSV keeps the columns it always had; a workbook, `lang` or `locale` get the full layout.
            let lang = try ctx.query("lang") ?? "", locale = try ctx.query("locale") ?? ""
            let legacy = ctx.tableKind == "csv" && lang.isEmpty && locale.isEmpty
            let export = CutExport(cut: cut, catalog: catalog, caller: caller, legacyColumns: legacy)
            return .table(filename: "corte-\(cut.id)-\(cut.plan)-\(cut.period)") { sink in
                try export.write(sink, pool: pool)
            }
        }
        var entities: [CutEntityDTO] = []
        try pool.withConnection { conn in
            try CutStore.entities(conn, cut: cut.id) { e in
                guard visible(e, to: caller) else { return }
                entities.append(CutEntityDTO(
                    code: e.code, name: e.name, type: e.type, departmentCode: e.departmentCode, department: e.departmentName,
                    regionCode: e.regionCode, region: e.regionName, advisorId: e.advisorId, advisor: e.advisorName,
                    partnerCode: e.partnerCode, total: e.total?.out,
                    phases: catalog.phases.map { p in
                        let v = e.phases[p.code] ?? nil
                        return PhaseProgressDTO(code: p.code, progress: v?.out, completed: v == 100)
                    },
                    milestones: e.milestones))
            }
        }
        return try .json(CutExportDTO(cut: dto(cut), entities: entities))
    }

    /// The cut report (informe del corte): the quarterly report's tables from the cut's frozen figures, with the
    /// change against the previous cut of the plan. JSON, or a workbook (`format=xlsx` / `Accept`).
    static func report(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let limit = try ctx.intQuery("lagging", default: 10, range: 1...100)
        let dto = try ctx.db.withConnection { conn -> CutReportDTO in
            let cut = try CutStore.requireCut(conn, id: ctx.param("id"))
            let catalog = try CutStore.catalog(conn, of: cut)
            return try CutReport.build(conn, cut: cut, catalog: catalog, caller: caller, lagging: limit)
        }
        if ctx.wantsTable {
            return .table(filename: "informe-corte-\(dto.cut.id)-\(dto.cut.plan)-\(dto.cut.period)") { sink in
                try CutReport.write(sink, dto)
            }
        }
        return try .json(dto)
    }

    static func compare(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        // Every group kind the reader sees in a cut, or the one asked for (`group`).
        var kinds = CutExport.visibleGroupKinds(caller)
        if let g = try ctx.query("group") {
            guard let kind = GroupKind(rawValue: g) else {
                throw APIError.badRequest("`group` debe ser national, regions, departments, advisors, partners o entity-types.", field: "group")
            }
            guard kinds.contains(kind) else {
                throw APIError.forbidden("Los grupos «\(g)» de un corte no están a su alcance.")
            }
            kinds = [kind]
        }
        let result = try ctx.db.withConnection { conn -> CutComparisonDTO in
            let a = try CutStore.requireCut(conn, id: ctx.param("a"), field: "a")
            let b = try CutStore.requireCut(conn, id: ctx.param("b"), field: "b")
            return try CutComparison.compare(conn, a: a, b: b, kinds: kinds, caller: caller)
        }
        if ctx.wantsTable {
            return .table(filename: "comparacion-\(result.a.id)-\(result.b.id)") { sink in
                try sink.header(["dane_code", "name", "total_a", "total_b", "change"])
                for e in result.entities {
                    try sink.row([.text(e.code), .text(e.name), .figure(e.totalA), .figure(e.totalB), .figure(e.change)])
                }
            }
        }
        return try .json(result)
    }
}
