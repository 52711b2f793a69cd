// Progress routes: one entity, group roll-ups as of a month, the entity table, series and the advisor ranking.
import Foundation
import SetaFormats
import SetaDatabase
import SetaDomain

enum ProgressRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/entities/{code}/progress", entityProgress)
        r.add("GET", "/v1/progress/entities", entityTable)
        r.add("GET", "/v1/progress/{group}", groups)
        r.add("GET", "/v1/progress/{group}/series", series)
        r.add("GET", "/v1/rankings/advisors", advisorRanking)
    }

    /// The plan (query `plan`) and its current catalog, or a 404 naming `plan`.
    static func planAndCatalog(_ ctx: RequestContext, _ conn: Connection) throws -> PlanCatalog {
        let code = try ctx.requiredQuery("plan")
        return try CatalogStore.currentCatalog(conn, code: code)
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
        let caller = try ctx.caller
        let month = try asOf(ctx)
        let dto = try ctx.db.withConnection { conn -> EntityProgressDTO in
            let catalog = try planAndCatalog(ctx, conn)
            let entity = try conn.query("SELECT code, name FROM entities WHERE code = \(code)").rows
            guard let e = entity.first else {
                throw APIError(status: 404, title: "Not Found", detail: "No existe la entidad «\(code)».",
                               errors: [FieldError(field: "code", message: "Entidad desconocida.", found: code)])
            }
            var scope: SQL = "SELECT (EXISTS (SELECT 1 FROM enrolled_at(\(catalog.code), \(month.firstDayString)::date) x WHERE x.entity_code = \(code)))::bool AS enrolled, ("
            scope.append(Scope.condition(for: caller, entityColumn: "e.code", plan: catalog.code, month: month))
            scope.append(")::bool AS visible FROM entities e WHERE e.code = \(code)")
            let flags = try conn.query(scope).rows[0]
            guard try flags.decode("visible", as: Bool.self) else {
                throw APIError.forbidden("La entidad \(code) está fuera de su alcance.")
            }
            let progress = try conn.query("""
                SELECT total::text AS total, \(unsafe: ProgressStore.phaseArrays(""))
                  FROM entity_progress_at(\(catalog.code), \(catalog.version), \(month.firstDayString)::date, ARRAY[\(code)]::text[])
                """).rows[0]
            let (byPhase, completed) = try ProgressStore.decodePhases(progress)
            let statuses = try ProgressStore.milestoneStatuses(conn, plan: catalog.code, version: catalog.version, month: month, entity: code)
            return EntityProgressDTO(
                entity: EntityRefDTO(code: try e.decode("code"), name: try e.decode("name")),
                plan: catalog.code, catalogVersion: catalog.version, asOf: month.description,
                enrolled: try flags.decode("enrolled"),
                total: try progress.decode("total", as: String?.self).flatMap { Decimal(exactText: $0) }?.out,
                phases: phaseDTOs(catalog, progress: byPhase, completed: completed),
                milestones: statuses.map { s in
                    let m = catalog.milestone(code: s.code)
                    return MilestoneStatusDTO(code: s.code, name: m?.name ?? "", phaseCode: m?.phaseCode ?? "",
                                              status: s.status, reportedIn: s.reportedIn)
                })
        }
        return try .json(dto)
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

    static func groupDTOs(_ conn: Connection, _ groups: [GroupResult], catalog: PlanCatalog) throws -> [GroupDTO] {
        let codes = Array(Set(groups.flatMap { $0.summary.lowest.prefix(10) + $0.summary.highest.prefix(10) }))
        var names: [String: String] = [:]
        for r in try conn.query("SELECT code, name FROM entities WHERE code = ANY(\(codes)::text[])").rows {
            names[try r.decode("code")] = try r.decode("name")
        }
        return groups.map { GroupDTO($0, phaseOrder: catalog.phases.map(\.code), names: names) }
    }

    static func groups(_ ctx: RequestContext) throws -> APIResponse {
        let kind = try groupKind(ctx)
        let caller = try ctx.caller
        let month = try asOf(ctx)
        let f = try filter(ctx)
        let (catalog, items) = try ctx.db.withConnection { conn -> (PlanCatalog, [GroupDTO]) in
            let catalog = try planAndCatalog(ctx, conn)
            let g = try ProgressStore.groups(conn, kind: kind, plan: catalog.code, version: catalog.version,
                                             month: month, principal: caller, filter: f)
            return (catalog, try groupDTOs(conn, g, catalog: catalog))
        }
        if ctx.wantsTable {
            return .table(filename: "progreso-\(kind.rawValue)-\(month)") { sink in
                try sink.header(["key", "name", "entity_count", "mean_progress", "at_hundred", "min", "max"]
                                + catalog.phases.map { "completed_share_\($0.code)" })
                for g in items {
                    let shares = Dictionary(uniqueKeysWithValues: g.phaseCompletion.map { ($0.phaseCode, $0.completedShare) })
                    try sink.row([.text(g.key), .text(g.name), .integer(g.entityCount), .figure(g.meanProgress), .integer(g.atHundred),
                                  .figure(g.min), .figure(g.max)]
                                 + catalog.phases.map { .figure(shares[$0.code]) })
                }
            }
        }
        return try .json(GroupsResponseDTO(plan: catalog.code, catalogVersion: catalog.version, asOf: month.description,
                                           group: kind.rawValue, items: items))
    }

    static func series(_ ctx: RequestContext) throws -> APIResponse {
        let kind = try groupKind(ctx)
        let caller = try ctx.caller
        guard let from = try ctx.period("from"), let to = try ctx.period("to") else {
            throw APIError.badRequest("Faltan `from` y `to`.", field: "from")
        }
        try ctx.refuseFuture(to, field: "to")
        guard from <= to else { throw APIError.invalid(field: "from", "`from` debe ser anterior o igual a `to`.") }
        guard from.distance(to: to) < 120 else { throw APIError.invalid(field: "to", "La serie admite a lo sumo 120 meses.") }
        let f = try filter(ctx)
        let (catalog, points) = try ctx.db.withConnection { conn -> (PlanCatalog, [SeriesPointDTO]) in
            let catalog = try planAndCatalog(ctx, conn)
            let points = try Period.months(from: from, to: to).map { m in
                let g = try ProgressStore.groups(conn, kind: kind, plan: catalog.code, version: catalog.version,
                                                 month: m, principal: caller, filter: f)
                return SeriesPointDTO(period: m.description, items: try groupDTOs(conn, g, catalog: catalog))
            }
            return (catalog, points)
        }
        if ctx.wantsTable {
            return .table(filename: "serie-\(kind.rawValue)") { sink in
                try sink.header(["period", "key", "name", "entity_count", "mean_progress", "at_hundred"])
                for p in points {
                    for g in p.items {
                        try sink.row([.text(p.period), .text(g.key), .text(g.name), .integer(g.entityCount), .figure(g.meanProgress),
                                      .integer(g.atHundred)])
                    }
                }
            }
        }
        return try .json(SeriesResponseDTO(plan: catalog.code, group: kind.rawValue, from: from.description, to: to.description,
                                           points: points))
    }

    // MARK: entity table

    static func entityTable(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let month = try asOf(ctx)
        let f = try filter(ctx)
        var sortText = try ctx.query("sort") ?? "total"
        let descending = sortText.hasPrefix("-")
        if descending { sortText.removeFirst() }
        guard let sort = ProgressStore.EntitySort(rawValue: sortText) else {
            throw APIError.badRequest("`sort` debe ser total, code o name (con - para descendente).", field: "sort")
        }
        let limit = try ctx.intQuery("limit", default: ctx.wantsTable ? 5000 : ctx.app.configuration.defaultPageSize,
                                     range: 1...5000)
        let offset = try Cursor.offset(ctx)
        let (catalog, page) = try ctx.db.withConnection { conn in
            let catalog = try planAndCatalog(ctx, conn)
            let page = try ProgressStore.entities(conn, plan: catalog.code, version: catalog.version, month: month,
                                                  principal: caller, filter: f, sort: sort, descending: descending,
                                                  limit: limit, offset: offset)
            return (catalog, page)
        }
        let rows = page.rows.map { e in
            EntityTableRowDTO(code: e.code, name: e.name, type: e.type, departmentCode: e.departmentCode,
                              regionCode: e.regionCode, advisorId: e.advisorId, advisorName: e.advisorName,
                              partnerCode: e.partnerCode, total: e.total?.out,
                              phases: phaseDTOs(catalog, progress: e.phases, completed: e.completed)
                                .map { PhaseProgressDTO(code: $0.code, progress: $0.progress, completed: $0.completed) })
        }
        if ctx.wantsTable {
            return .table(filename: "entidades-\(catalog.code)-\(month)") { sink in
                try sink.header(["dane_code", "name", "type", "department_code", "region", "advisor", "partner"]
                             + catalog.phases.map(\.code) + ["total"])
                for r in rows {
                    try sink.row([.text(r.code), .text(r.name), .text(r.type), .text(r.departmentCode), .text(r.regionCode),
                                  .text(r.advisorName), .text(r.partnerCode)]
                                 + r.phases.map { .figure($0.progress) } + [.figure(r.total)])
                }
            }
        }
        let next = offset + rows.count < page.total ? Cursor.encode(offset: offset + rows.count) : nil
        return try .json(ListResponse(items: rows, total: page.total, nextCursor: next))
    }

    // MARK: ranking (SPEC rule 8)

    struct RankingRowDTO: Codable, Sendable {
        var rank: Int
        var advisor: EntityRefDTO
        var partnerCode: String?
        var entityCount: Int
        var meanProgress: Decimal?
        var previousMeanProgress: Decimal?
        var change: Decimal?
        var reportedOnTime: Int
        var reportedLate: Int
        var missing: Int
        var asesorias: Int
    }

    static func advisorRanking(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        guard let month = try ctx.period("period", required: false, default: Period.current(at: ctx.now)) else {
            throw APIError.badRequest("Falta `period`.", field: "period")
        }
        try ctx.refuseFuture(month, field: "period")
        let f = try filter(ctx)
        let (catalog, rows) = try ctx.db.withConnection { conn -> (PlanCatalog, [RankingRowDTO]) in
            let catalog = try planAndCatalog(ctx, conn)
            let m = month.firstDayString
            let prev = month.previous.firstDayString
            try ProgressStore.ensureSnapshot(conn, plan: catalog.code, version: catalog.version, month: month)
            try ProgressStore.ensureSnapshot(conn, plan: catalog.code, version: catalog.version, month: month.previous)
            var sql = ProgressStore.entitiesCTE(plan: catalog.code, month: month, principal: caller, filter: f)
            sql.append("""
                , cur AS (SELECT entity_code, total FROM progress_snapshots
                           WHERE plan_code = \(catalog.code) AND version = \(catalog.version) AND month = \(m)::date),
                prv AS (SELECT entity_code, total FROM progress_snapshots
                         WHERE plan_code = \(catalog.code) AND version = \(catalog.version) AND month = \(prev)::date),
                asg AS (
                  SELECT a.person_id, a.entity_code FROM assignments a JOIN ent ON ent.entity_code = a.entity_code
                   WHERE a.plan_code = \(catalog.code) AND a.from_period <= \(m)::date AND (a.to_period IS NULL OR a.to_period >= \(m)::date)
                ),
                deadline AS (
                  SELECT ((\(m)::date + interval '1 month' + make_interval(days => pl.on_time_day))::timestamp
                          AT TIME ZONE 'America/Bogota') AS at
                    FROM plans pl WHERE pl.code = \(catalog.code)
                ),
                ases AS (
                  SELECT s.person_id, count(*)::int AS n FROM asesorias s
                   WHERE s.held_on >= \(m)::date AND s.held_on < (\(m)::date + interval '1 month')
                     AND (s.plan_code IS NULL OR s.plan_code = \(catalog.code))
                   GROUP BY s.person_id
                )
                SELECT p.id, p.name, p.partner_code, count(*)::int AS entity_count,
                       avg(cur.total)::text AS mean, avg(prv.total)::text AS prev_mean,
                       count(*) FILTER (WHERE r.first_received_at < (SELECT at FROM deadline))::int AS on_time,
                       count(*) FILTER (WHERE r.first_received_at >= (SELECT at FROM deadline))::int AS late,
                       count(*) FILTER (WHERE r.first_received_at IS NULL)::int AS missing,
                       COALESCE(max(ases.n), 0)::int AS asesorias
                  FROM asg
                  JOIN people p ON p.id = asg.person_id
                  LEFT JOIN cur ON cur.entity_code = asg.entity_code
                  LEFT JOIN prv ON prv.entity_code = asg.entity_code
                  LEFT JOIN reports r ON r.plan_code = \(catalog.code) AND r.entity_code = asg.entity_code AND r.period = \(m)::date
                  LEFT JOIN ases ON ases.person_id = p.id
                 GROUP BY p.id, p.name, p.partner_code
                 ORDER BY avg(cur.total) DESC NULLS LAST, p.id
                """)
            let rows = try conn.query(sql).rows.enumerated().map { (i, r) -> RankingRowDTO in
                let mean = try r.decode("mean", as: String?.self).flatMap { Decimal(exactText: $0) }
                let prevMean = try r.decode("prev_mean", as: String?.self).flatMap { Decimal(exactText: $0) }
                return RankingRowDTO(
                    rank: i + 1,
                    advisor: EntityRefDTO(code: String(try r.decode("id", as: Int64.self)), name: try r.decode("name")),
                    partnerCode: try r.decode("partner_code"), entityCount: try r.decode("entity_count"),
                    meanProgress: mean?.out, previousMeanProgress: prevMean?.out,
                    change: (mean != nil && prevMean != nil) ? (mean! - prevMean!).out : nil,
                    reportedOnTime: try r.decode("on_time"), reportedLate: try r.decode("late"),
                    missing: try r.decode("missing"), asesorias: try r.decode("asesorias"))
            }
            return (catalog, rows)
        }
        if ctx.wantsTable {
            return .table(filename: "ranking-asesores-\(catalog.code)-\(month)") { sink in
                try sink.header(["rank", "advisor_id", "advisor", "partner", "entities", "mean_progress", "previous_mean_progress",
                              "change", "on_time", "late", "missing", "asesorias"])
                for r in rows {
                    try sink.row([.integer(r.rank), .text(r.advisor.code), .text(r.advisor.name), .text(r.partnerCode), .integer(r.entityCount),
                                  .figure(r.meanProgress), .figure(r.previousMeanProgress), .figure(r.change),
                                  .integer(r.reportedOnTime), .integer(r.reportedLate), .integer(r.missing), .integer(r.asesorias)])
                }
            }
        }
        return try .json(ListResponse(items: rows, total: rows.count, nextCursor: nil))
    }
}

/// Opaque page cursors (an offset, base64url) so clients never build them.
enum Cursor {
    static func encode(offset: Int) -> String {
        Data("o:\(offset)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func offset(_ ctx: RequestContext) throws -> Int {
        guard let c = try ctx.query("cursor"), !c.isEmpty else { return 0 }
        var b = c.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        guard let data = Data(base64Encoded: b), let text = String(data: data, encoding: .utf8), text.hasPrefix("o:"),
              let n = Int(text.dropFirst(2)), n >= 0, n < 10_000_000 else {
            throw APIError.badRequest("`cursor` no es válido.", field: "cursor")
        }
        return n
    }
}
