// Progress routes: one entity, group roll-ups as of a month, the entity table, series and the advisor ranking.
import Foundation
import SetaFormats
import SetaDatabase
import SetaDomain

enum ProgressRoutes {
    static func register(_ r: inout Router) {
        // Each of these re-checks the caller inside its one statement (`StatementGuard`).
        r.add("GET", "/v1/entities/{code}/progress", verifiesCaller: true, entityProgress)
        r.add("GET", "/v1/progress/entities", verifiesCaller: true, entityTable)
        r.add("GET", "/v1/progress/{group}", verifiesCaller: true, groups)
        r.add("GET", "/v1/progress/{group}/series", verifiesCaller: true, series)
        r.add("GET", "/v1/rankings/advisors", verifiesCaller: true, advisorRanking)
    }

    static func asOf(_ ctx: RequestContext, _ name: String = "as_of") throws -> Period {
        let p = try ctx.period(name, required: false, default: Period.current(at: ctx.now))!
        try ctx.refuseFuture(p, field: name)
        return p
    }

    static func filter(_ ctx: RequestContext) throws -> ProgressFilter {
        var f = ProgressFilter()
        f.region = try ctx.query("region")
        f.department = try ctx.query("department")
        f.type = try ctx.query("type")
        if let a = try ctx.query("advisor") {
            guard let id = Int64(a), id > 0 else {
                throw APIError.badRequest("`advisor` debe ser el id numérico de una persona.", field: "advisor")
            }
            f.advisor = id
        }
        f.setGroup = try ctx.setGroupFilter()
        f.attributes = ctx.attributeFilters()
        if let t = f.type, !["municipality", "department", "district", "non_municipalised_area"].contains(t) {
            throw APIError.badRequest("`type` debe ser municipality, department, district o non_municipalised_area.", field: "type")
        }
        return f
    }

    static func phaseDTOs(_ catalog: PlanCatalog, progress: [String: Decimal?], completed: [String: Bool]) -> [PhaseProgressDTO] {
        catalog.phases.map { p in
            PhaseProgressDTO(code: p.code, name: p.name, weightInPlan: p.weightInPlan,
                             progress: (progress[p.code] ?? nil)?.out, completed: completed[p.code] ?? false)
        }
    }

    // MARK: one entity

    static func entityProgress(_ ctx: RequestContext) throws -> APIResponse {
        let code = ctx.param("code")
        if try ctx.query("cut") != nil { return try FrozenProgressRoutes.entityProgress(ctx) }
        _ = try ctx.caller  // the statement re-checks it: use `g.principal` below
        let month = try asOf(ctx)
        let dto = try ctx.guardedRead { conn, g, catalog -> EntityProgressDTO in
            guard let row = try ProgressStore.entityProgress(conn, guard: g, plan: catalog.code, version: catalog.version,
                                                             phases: catalog.phases.map(\.code), month: month,
                                                             entity: code, principal: g.principal) else {
                throw unknownEntity(code)
            }
            guard row.visible else {
                throw APIError.forbidden("La entidad \(code) está fuera de su alcance.")
            }
            return entityProgressDTO(row, catalog: catalog, month: month)
        }
        return try .json(dto)
    }

    /// 404 naming `code`: no entity has that DANE code.
    static func unknownEntity(_ code: String) -> APIError {
        APIError(status: 404, detail: "No existe la entidad «\(code)».",
                 errors: [FieldError(field: "code", message: "Entidad desconocida.", found: code)])
    }

    /// One entity's live progress as the wire shows it: phases in catalog order, milestones with due dates, the schedule.
    static func entityProgressDTO(_ row: ProgressStore.OneEntity, catalog: PlanCatalog, month: Period) -> EntityProgressDTO {
        let due = Dictionary(zip(row.milestones.map(\.code), row.dueOn), uniquingKeysWith: { a, _ in a })
        return EntityProgressDTO(
            entity: EntityRefDTO(code: row.code, name: row.name),
            plan: catalog.code, catalogVersion: catalog.version, asOf: month.description,
            enrolled: row.enrolled,
            total: row.total?.out,
            phases: phaseDTOs(catalog, progress: row.phases, completed: row.completed),
            milestones: row.milestones.map { s in
                let m = catalog.milestone(code: s.code)
                return MilestoneStatusDTO(code: s.code, name: m?.name ?? "", phaseCode: m?.phaseCode ?? "",
                                          status: s.status, reportedIn: s.reportedIn, dueOn: due[s.code] ?? nil)
            },
            expected: row.schedule.expected?.out, lag: row.schedule.lag?.out, behind: !row.schedule.overdue.isEmpty,
            overdue: overdueDTOs(catalog, codes: row.schedule.overdue, due: due, month: month))
    }

    /// The overdue milestones with their due dates and the days from each to the month's last day.
    static func overdueDTOs(_ catalog: PlanCatalog, codes: [String], due: [String: String?], month: Period) -> [OverdueMilestoneDTO] {
        codes.compactMap { code in
            guard let text = due[code] ?? nil, let day = CalendarDay(text) else { return nil }
            return OverdueMilestoneDTO(code: code, name: catalog.milestone(code: code)?.name ?? "", dueOn: text,
                                       daysOverdue: ScheduleEngine.days(from: day, to: month.lastDay))
        }
    }

    // MARK: groups

    static func groupKind(_ ctx: RequestContext) throws -> GroupKind {
        let g = ctx.param("group")
        guard let kind = GroupKind(rawValue: g) else {
            throw APIError(status: 404, title: "Not Found",
                           detail: "Grupo desconocido «\(g)»; use national, regions, departments, advisors, partners o entity-types.",
                           errors: [FieldError(field: "group", message: "Grupo desconocido.", found: g)])
        }
        return kind
    }

    /// `{group}` of the live roll-ups: a built-in kind, `set:<conjunto>` or `attr:<atributo de categoría>` (issue 15).
    static func grouping(_ ctx: RequestContext) throws -> Grouping {
        let g = ctx.param("group")
        guard let kind = Grouping(path: g) else {
            throw APIError(status: 404, title: "Not Found",
                           detail: "Grupo desconocido «\(g)»; use national, regions, departments, advisors, partners, entity-types, "
                                 + "set:<conjunto> o attr:<atributo de categoría>.",
                           errors: [FieldError(field: "group", message: "Grupo desconocido.", found: g)])
        }
        return kind
    }

    /// A read that came back empty may be empty because it named a set, group or attribute that does not
    /// exist: then 422 naming it. Checked only then, so a dashboard read stays one round trip.
    static func refuseUnknownReferences(_ ctx: RequestContext, grouping: Grouping?, filter: ProgressFilter) throws {
        if case .kind? = grouping, filter.setGroup == nil, filter.attributes.isEmpty { return }
        if grouping == nil, filter.setGroup == nil, filter.attributes.isEmpty { return }
        if let refusal = try ctx.db.withConnection({ try GroupSetStore.unknownReference($0, grouping: grouping, filter: filter) }) {
            throw refusal
        }
    }

    static func groupDTOs(_ conn: Connection, _ groups: [GroupResult], catalog: PlanCatalog) throws -> [GroupDTO] {
        var names: [String: String] = [:]
        for g in groups { names.merge(g.names) { a, _ in a } }
        // Groups read back from a cut's stored JSON carry no names: one query for those.
        let codes = Array(Set(groups.flatMap { $0.summary.lowest.prefix(10) + $0.summary.highest.prefix(10) })
            .filter { names[$0] == nil })
        if !codes.isEmpty {
            names.merge(try TerritoryStore.entityNames(conn, codes: codes)) { a, _ in a }
        }
        let stageNames = Dictionary(catalog.stages.map { ($0.code, $0.name) }, uniquingKeysWith: { a, _ in a })
        return groups.map { GroupDTO($0, phaseOrder: catalog.phases.map(\.code), names: names, stageNames: stageNames) }
    }

    static func groups(_ ctx: RequestContext) throws -> APIResponse {
        let kind = try grouping(ctx)
        if try ctx.query("cut") != nil {
            // A cut froze the six kinds here; the group sets it froze are read at /v1/cuts/{id}/group-sets/{set}.
            guard case .kind(let frozenKind) = kind else {
                throw APIError.invalid(field: "cut", "Con `cut` el grupo debe ser uno de los seis tipos congelados; los conjuntos "
                                       + "congelados se leen en /v1/cuts/{id}/group-sets/{conjunto}.", found: kind.name)
            }
            return try FrozenProgressRoutes.groups(ctx, kind: frozenKind)
        }
        _ = try ctx.caller  // the statement re-checks it: use `g.principal` below
        let month = try asOf(ctx)
        let f = try filter(ctx)
        let (catalog, items) = try ctx.guardedRead { conn, g, catalog -> (PlanCatalog, [GroupDTO]) in
            let groups = try ProgressStore.groups(conn, guard: g, kind: .national, grouping: kind, plan: catalog.code, version: catalog.version,
                                                  catalog: catalog, month: month, principal: g.principal, filter: f)
            return (catalog, try groupDTOs(conn, groups, catalog: catalog))
        }
        if items.isEmpty { try refuseUnknownReferences(ctx, grouping: kind, filter: f) }
        if ctx.wantsTable {
            return .table(filename: "progreso-\(kind.name.replacingOccurrences(of: ":", with: "-"))-\(month)") { sink in
                try sink.header(GroupDTO.summaryColumns + GroupDTO.phaseShareColumns(catalog)
                                + ["mean_expected", "mean_lag", "behind_count"]
                                + catalog.milestones.map { "overdue_\($0.code)" })
                for g in items {
                    let overdue = Dictionary(g.milestoneOverdue.map { ($0.milestoneCode, $0.overdueCount) }, uniquingKeysWith: { a, _ in a })
                    try sink.row(g.summaryCells + g.phaseShareCells(catalog)
                                 + [.figure(g.meanExpected), .figure(g.meanLag), .integer(g.behindCount)]
                                 + catalog.milestones.map { m in .integer(overdue[m.code]) })
                }
            }
        }
        return try .json(GroupsResponseDTO(plan: catalog.code, catalogVersion: catalog.version, asOf: month.description,
                                           group: kind.name, items: items))
    }

    static func series(_ ctx: RequestContext) throws -> APIResponse {
        let kind = try grouping(ctx)
        _ = try ctx.caller  // the statement re-checks it: use `g.principal` below
        guard let from = try ctx.period("from"), let to = try ctx.period("to") else {
            throw APIError.badRequest("Faltan `from` y `to`.", field: "from")
        }
        try ctx.refuseFuture(to, field: "to")
        guard from <= to else { throw APIError.invalid(field: "from", "`from` debe ser anterior o igual a `to`.") }
        guard from.distance(to: to) < 120 else { throw APIError.invalid(field: "to", "La serie admite a lo sumo 120 meses.") }
        let f = try filter(ctx)
        let (catalog, points) = try ctx.guardedRead { conn, g, catalog -> (PlanCatalog, [SeriesPointDTO]) in
            let series = try ProgressStore.groupSeries(conn, guard: g, kind: .national, grouping: kind, plan: catalog.code, version: catalog.version,
                                                       catalog: catalog,
                                                       from: from, to: to, principal: g.principal, filter: f)
            let points = try series.map { p in
                SeriesPointDTO(period: p.period, items: try groupDTOs(conn, p.groups, catalog: catalog))
            }
            return (catalog, points)
        }
        if points.allSatisfy({ $0.items.isEmpty }) { try refuseUnknownReferences(ctx, grouping: kind, filter: f) }
        if ctx.wantsTable {
            return .table(filename: "serie-\(kind.name.replacingOccurrences(of: ":", with: "-"))") { sink in
                try sink.header(["period", "key", "name", "entity_count", "mean_progress", "at_hundred",
                                 "mean_expected", "mean_lag", "behind_count"])
                for p in points {
                    for g in p.items {
                        try sink.row([.text(p.period), .text(g.key), .text(g.name), .integer(g.entityCount), .figure(g.meanProgress),
                                      .integer(g.atHundred), .figure(g.meanExpected), .figure(g.meanLag),
                                      .integer(g.behindCount)])
                    }
                }
            }
        }
        return try .json(SeriesResponseDTO(plan: catalog.code, group: kind.name, from: from.description, to: to.description,
                                           points: points))
    }

    // MARK: entity table

    /// One row of the entity table, live or frozen (a cut froze no attributes: its rows have none).
    static func tableRow(_ e: ProgressStore.EntityRow, catalog: PlanCatalog) -> EntityTableRowDTO {
        EntityTableRowDTO(entity: e, total: e.total?.out,
                          phases: phaseDTOs(catalog, progress: e.phases, completed: e.completed)
                            .map { PhaseProgressDTO(code: $0.code, progress: $0.progress, completed: $0.completed) },
                          attributes: e.attributes,
                          expected: e.schedule.expected?.out, lag: e.schedule.lag?.out, behind: !e.schedule.overdue.isEmpty,
                          overdue: e.schedule.overdue, oldestDueOn: e.schedule.oldestDue)
    }

    /// The entity table's `sort` (`-` for descending), `limit` (a whole export by default) and `cursor`, live or frozen.
    static func tablePage(_ ctx: RequestContext) throws
        -> (sort: ProgressStore.EntitySort, descending: Bool, limit: Int, offset: Int) {
        var sortText = try ctx.query("sort") ?? "total"
        let descending = sortText.hasPrefix("-")
        if descending { sortText.removeFirst() }
        guard let sort = ProgressStore.EntitySort(rawValue: sortText) else {
            throw APIError.badRequest("`sort` debe ser total, code, name o lag (con - para descendente).", field: "sort")
        }
        let limit = try ctx.intQuery("limit", default: ctx.wantsTable ? 5000 : ctx.app.configuration.defaultPageSize,
                                     range: 1...5000)
        return (sort, descending, limit, try PageCursor.offset(ctx))
    }

    static func entityTable(_ ctx: RequestContext) throws -> APIResponse {
        if try ctx.query("cut") != nil { return try FrozenProgressRoutes.entityTable(ctx) }
        _ = try ctx.caller  // the statement re-checks it: use `g.principal` below
        let month = try asOf(ctx)
        let f = try filter(ctx)
        let (sort, descending, limit, offset) = try tablePage(ctx)
        let (catalog, page) = try ctx.guardedRead { conn, g, catalog in
            let page = try ProgressStore.entities(conn, guard: g, plan: catalog.code, version: catalog.version,
                                                  phases: catalog.phases.map(\.code), month: month,
                                                  principal: g.principal, filter: f, sort: sort, descending: descending,
                                                  limit: limit, offset: offset)
            return (catalog, page)
        }
        if page.total == 0 { try refuseUnknownReferences(ctx, grouping: nil, filter: f) }
        let rows = page.rows.map { tableRow($0, catalog: catalog) }
        // Attribute columns in the exports: one per attribute any row has, by code.
        let attributeCodes = Array(Set(rows.flatMap { $0.attributes.keys })).sorted()
        if ctx.wantsTable {
            return .table(filename: "entidades-\(catalog.code)-\(month)") { sink in
                try sink.header(["dane_code", "name", "type", "department_code", "region", "advisor", "partner"]
                             + catalog.phases.map(\.code) + ["total", "expected", "lag", "overdue_count", "overdue", "oldest_due_on"]
                             + attributeCodes.map { "attr.\($0)" })
                for r in rows {
                    try sink.row([.text(r.code), .text(r.name), .text(r.type), .text(r.departmentCode), .text(r.regionCode),
                                  .text(r.advisorName), .text(r.partnerCode)]
                                 + r.phases.map { .figure($0.progress) } + [.figure(r.total)]
                                 + [.figure(r.expected), .figure(r.lag), .integer(r.overdue.count),
                                    .text(r.overdue.joined(separator: " ")), .text(r.oldestDueOn)]
                                 + attributeCodes.map { .text(r.attributes[$0]) })
                }
            }
        }
        let next = offset + rows.count < page.total ? PageCursor.encode(offset: offset + rows.count) : nil
        return try .json(ListResponse(items: rows, total: page.total, nextCursor: next))
    }

    // MARK: ranking (SPEC rule 8)

    struct RankingRowDTO: Codable, Sendable {
        var rank: Int
        var advisor: PersonRef
        var partnerCode: String?
        var entityCount: Int
        var meanProgress: Decimal?
        var previousMeanProgress: Decimal?
        var change: Decimal?
        var reportedOnTime: Int
        var reportedLate: Int
        var missing: Int
        var asesorias: Int
        /// Mean lag (expected − actual) of the advisor's entities and how many are behind schedule.
        var meanLag: Decimal? = nil
        var behind: Int = 0
    }

    static func advisorRanking(_ ctx: RequestContext) throws -> APIResponse {
        _ = try ctx.caller  // the statement re-checks it: use `g.principal` below
        guard let month = try ctx.period("period", required: false, default: Period.current(at: ctx.now)) else {
            throw APIError.badRequest("Falta `period`.", field: "period")
        }
        try ctx.refuseFuture(month, field: "period")
        let f = try filter(ctx)
        let (catalog, rows) = try ctx.guardedRead { conn, g, catalog -> (PlanCatalog, [RankingRowDTO]) in
            let rows = try ProgressStore.advisorRanking(conn, guard: g, plan: catalog.code, version: catalog.version, month: month,
                                                        principal: g.principal, filter: f).enumerated().map { (i, r) in
                RankingRowDTO(
                    rank: i + 1, advisor: PersonRef(id: r.personId, name: r.name), partnerCode: r.partnerCode,
                    entityCount: r.entityCount, meanProgress: r.mean?.out, previousMeanProgress: r.previousMean?.out,
                    change: (r.mean != nil && r.previousMean != nil) ? (r.mean! - r.previousMean!).out : nil,
                    reportedOnTime: r.onTime, reportedLate: r.late, missing: r.missing, asesorias: r.asesorias,
                    meanLag: r.meanLag?.out, behind: r.behind)
            }
            return (catalog, rows)
        }
        if rows.isEmpty { try refuseUnknownReferences(ctx, grouping: nil, filter: f) }
        if ctx.wantsTable {
            return .table(filename: "ranking-asesores-\(catalog.code)-\(month)") { sink in
                try sink.header(["rank", "advisor_id", "advisor", "partner", "entities", "mean_progress", "previous_mean_progress",
                              "change", "on_time", "late", "missing", "asesorias", "mean_lag", "behind"])
                for r in rows {
                    try sink.row([.integer(r.rank), .integer(Int(r.advisor.id)), .text(r.advisor.name), .text(r.partnerCode), .integer(r.entityCount),
                                  .figure(r.meanProgress), .figure(r.previousMeanProgress), .figure(r.change),
                                  .integer(r.reportedOnTime), .integer(r.reportedLate), .integer(r.missing), .integer(r.asesorias),
                                  .figure(r.meanLag), .integer(r.behind)])
                }
            }
        }
        return try .json(ListResponse(items: rows, total: rows.count, nextCursor: nil))
    }
}

/// The columns every group table starts with (live and frozen roll-ups, frozen group sets).
extension GroupDTO {
    static let summaryColumns = ["key", "name", "entity_count", "mean_progress", "at_hundred", "min", "max"]

    var summaryCells: [Cell] {
        [.text(key), .text(name), .integer(figures.entityCount), .figure(figures.meanProgress), .integer(figures.atHundred),
         .figure(figures.min), .figure(figures.max)]
    }

    /// `completed_share_<phase>`, in catalog order.
    static func phaseShareColumns(_ catalog: PlanCatalog) -> [String] {
        catalog.phases.map { "completed_share_\($0.code)" }
    }

    func phaseShareCells(_ catalog: PlanCatalog) -> [Cell] {
        let shares = Dictionary(uniqueKeysWithValues: phaseCompletion.map { ($0.phaseCode, $0.completedShare) })
        return catalog.phases.map { .figure(shares[$0.code]) }
    }
}
