// SQL of the figures read from a cut's (corte) frozen rows: milestone shares and stages, scoped roll-ups, the
// previous cut of a plan and the most lagging entities (issue 12, items 4–6).
import Foundation
import SetaDatabase
import SetaDomain

extension CutStore {
    /// A `rows_` CTE over the cut's frozen entity rows in the shape `ProgressStore.rollUp` reads: phases' progress and
    /// completion (`pp`, `pc`) in catalog position order and, per milestone in position order, whether its frozen
    /// status is done (`md`) and whether it applies (`ma`: anything but `not_applicable`), exactly as the maintained
    /// rows (`Schema/013_entity_progress.sql`) define them. Codes are bound, one column expression per code.
    /// `condition` (on `ce.`) narrows the rows: a reader's scope, a filter.
    /// `groups` replaces the kind's own key and name columns with `key`/`name` expressions over a join of
    /// `ce` (a group set's frozen groups, `GroupSetStore.freeze`).
    static func frozenRowsCTE(cut: Int64, kind: GroupKind, catalog: PlanCatalog, national: SQL? = nil,
                              condition: SQL? = nil, groups: (key: SQL, name: SQL, join: SQL)? = nil) -> SQL {
        let phases = catalog.phases.sorted { $0.position < $1.position }
        let milestones = catalog.milestones.sorted { $0.position < $1.position }
        func array(_ items: [SQL], type: String) -> SQL {
            guard !items.isEmpty else { return SQL(unsafe: "'{}'::\(type)[]") }
            return SQL(unsafe: "ARRAY[") + items.joined(separator: ", ") + SQL(unsafe: "]::\(type)[]")
        }
        let pp = array(phases.map { p -> SQL in "(ce.phases ->> \(p.code))::numeric" }, type: "numeric")
        let pc = array(phases.map { p -> SQL in "COALESCE((ce.completed ->> \(p.code))::boolean, false)" }, type: "boolean")
        let md = array(milestones.map { m -> SQL in "COALESCE(ce.milestones ->> \(m.code) = 'done', false)" }, type: "boolean")
        let ma = array(milestones.map { m -> SQL in "COALESCE(ce.milestones ->> \(m.code), 'not_started') <> 'not_applicable'" },
                       type: "boolean")
        // Overdue per milestone from the frozen overdue codes (017); cuts taken before it froze none.
        let od = array(milestones.map { m -> SQL in "COALESCE(\(m.code) = ANY(ce.overdue), false)" }, type: "boolean")
        let cols = frozenGroupColumns(kind)
        var sql: SQL = "WITH rows_ AS (SELECT ce.entity_code, ce.entity_name, ce.total, ce.expected, cardinality(ce.overdue) AS overdue_count, "
        sql.append(pp); sql.append(" AS pp, ")
        sql.append(pc); sql.append(" AS pc, ")
        sql.append(md); sql.append(" AS md, ")
        sql.append(ma); sql.append(" AS ma, ")
        sql.append(od); sql.append(" AS od, ")
        if let groups {
            sql.append(groups.key); sql.append(" AS gkey, ")
            sql.append(groups.name); sql.append(" AS gname")
        } else if kind == .national, let national {
            sql.append("'scope'::text AS gkey, (")
            sql.append(national)
            sql.append(")::text AS gname")
        } else {
            sql.append(SQL(unsafe: "\(cols.key) AS gkey, \(cols.name) AS gname"))
        }
        sql.append(" FROM cut_entities ce ")
        if let groups { sql.append(groups.join) }
        sql.append(" WHERE ce.cut_id = \(cut)")
        if let condition {
            sql.append(" AND (")
            sql.append(condition)
            sql.append(")")
        }
        sql.append(")")
        return sql
    }

    /// The frozen group results of one kind, as computed when the cut was taken, with their milestone shares and
    /// stages (item 4), frozen with them. Cuts taken before item 4 stored neither: for those (and only when `shares`)
    /// they are computed from the same cut's frozen statuses and catalog version (`computedGroups`), the same
    /// definition, so they can only be the figures of the frozen entities.
    static func groups(_ conn: Connection, cut: Int64, kind: GroupKind, catalog: PlanCatalog,
                       shares: Bool = true) throws -> [GroupResult] {
        var sql: SQL = """
            SELECT s.*, COALESCE(x.milestone_codes, '{}') AS milestone_codes, COALESCE(x.milestone_shares, '{}') AS milestone_shares,
                   COALESCE(x.stage_codes, '{}') AS stage_codes, COALESCE(x.stage_means, '{}') AS stage_means,
                   COALESCE(x.stage_shares, '{}') AS stage_shares, (x.milestone_codes IS NULL) AS shares_missing
              FROM cut_groups g
             CROSS JOIN LATERAL jsonb_to_record(g.summary) AS s(
            """
        sql.append(SQL(unsafe: ProgressStore.groupRecordColumns))
        sql.append("""
            )
             CROSS JOIN LATERAL jsonb_to_record(g.summary)
                   AS x(milestone_codes text[], milestone_shares text[], stage_codes text[], stage_means text[], stage_shares text[])
             WHERE g.cut_id = \(cut) AND g.group_kind = \(kind.rawValue)
            """)
        let rows = try conn.query(sql).rows
        if shares, try rows.contains(where: { try $0.decode("shares_missing", as: Bool.self) }) {
            return try computedGroups(conn, cut: cut, kind: kind, catalog: catalog)
        }
        return try ProgressStore.decodeGroups(rows)
    }

    /// The stored groups of a cut taken before item 4, with milestone shares and stages computed from its frozen
    /// statuses in the same statement.
    static func computedGroups(_ conn: Connection, cut: Int64, kind: GroupKind, catalog: PlanCatalog) throws -> [GroupResult] {
        var sql = frozenRowsCTE(cut: cut, kind: kind, catalog: catalog)
        sql.append(ProgressStore.rollUp(catalog))
        // Materialized: otherwise PostgreSQL may inline the roll-up into the join and run it once per stored group.
        sql.append("""
            ), aggm AS MATERIALIZED (SELECT * FROM agg)
            SELECT s.*, COALESCE(a.milestone_codes, '{}') AS milestone_codes, COALESCE(a.milestone_shares, '{}') AS milestone_shares,
                     COALESCE(a.stage_codes, '{}') AS stage_codes, COALESCE(a.stage_means, '{}') AS stage_means,
                     COALESCE(a.stage_shares, '{}') AS stage_shares
                FROM cut_groups g CROSS JOIN LATERAL jsonb_to_record(g.summary) AS s(
            """)
        sql.append(SQL(unsafe: ProgressStore.groupRecordColumns))
        sql.append(") LEFT JOIN aggm a ON a.gkey = s.gkey WHERE g.cut_id = \(cut) AND g.group_kind = \(kind.rawValue)")
        return try ProgressStore.decodeGroups(conn.query(sql).rows)
    }

    /// The SQL condition (on `ce.`, the frozen columns) of what a reader may see of a cut: the live scope
    /// (`Scope.condition`) on the columns frozen with the cut, as `CutRoutes.visible` applies it row by row.
    static func visibleCondition(_ p: Principal) -> SQL {
        switch p.role {
        case .central:
            return "true"
        case .coordinator:
            return "ce.region_code = ANY(\(p.regions)::text[])"
        case .advisor:
            return "ce.advisor_id = \(p.personId)"
        case .viewer:
            var sql: SQL = p.regions.isEmpty ? "true" : "ce.region_code = ANY(\(p.regions)::text[])"
            if p.limitedToPartner {
                sql.append(" AND ce.partner_code IS NOT DISTINCT FROM \(p.partnerCode)")
            }
            return sql
        }
    }

    /// The filters of the progress routes (`region`, `department`, `type`, `advisor`) on a cut's frozen columns.
    static func filterCondition(_ f: ProgressFilter) -> SQL {
        var sql: SQL = "true"
        if let r = f.region { sql.append(" AND ce.region_code = \(r)") }
        if let d = f.department { sql.append(" AND ce.department_code = \(d)") }
        if let t = f.type { sql.append(" AND ce.entity_type = \(t)") }
        if let a = f.advisor { sql.append(" AND ce.advisor_id = \(a)") }
        return sql
    }

    /// A live-shaped roll-up of a cut (`GET /v1/progress/{group}?cut=`): the same statement as the live one
    /// (`ProgressStore.rollUp`) over the frozen rows the reader may see, filtered, in the groups frozen with them.
    /// A restricted reader's national group is their scope (key `scope`), as live.
    static func scopedGroups(_ conn: Connection, cut: Int64, kind: GroupKind, catalog: PlanCatalog, principal: Principal,
                             filter: ProgressFilter) throws -> [GroupResult] {
        var condition = visibleCondition(principal)
        condition.append(" AND ")
        condition.append(filterCondition(filter))
        var sql = frozenRowsCTE(cut: cut, kind: kind, catalog: catalog, national: GroupKind.scopeLabel(principal),
                                condition: condition)
        sql.append(ProgressStore.rollUp(catalog))
        sql.append(") SELECT * FROM agg WHERE gkey IS NOT NULL")
        return try ProgressStore.decodeGroups(conn.query(sql).rows)
    }

    /// The cut of the same plan taken for the latest period before this one's (the latest taken, when several
    /// were taken for that period); nil when there is none.
    static func previousCut(_ conn: Connection, of cut: CutRow) throws -> CutRow? {
        try conn.query("""
            SELECT id, plan_code, to_char(period, 'YYYY-MM') AS period, label, catalog_version, created_at, created_by
              FROM cuts WHERE plan_code = \(cut.plan) AND period < \(cut.period.firstDayString)::date
             ORDER BY period DESC, id DESC LIMIT 1
            """).rows.first.map(cutRow)
    }

    /// One of the most lagging entities (más rezagadas) of a region in a cut, with its total in the previous cut.
    struct LaggingEntity: Sendable {
        var regionCode: String?
        var regionName: String?
        var rank: Int
        var code, name, type, departmentCode, departmentName: String
        var total: Decimal?
        var previousTotal: Decimal?
        var inPrevious: Bool
    }

    /// The `limit` entities with the lowest frozen total of each region (ties by DANE code; entities without a
    /// total, every phase "no aplica", are not ranked), among those the reader may see, with their total in the
    /// previous cut (`previous`) when they were in it. One statement; also the count of visible entities.
    static func lagging(_ conn: Connection, cut: Int64, previous: Int64?, principal: Principal,
                        limit: Int) throws -> (entities: [LaggingEntity], visibleCount: Int) {
        var sql: SQL = "WITH vis AS (SELECT ce.* FROM cut_entities ce WHERE ce.cut_id = \(cut) AND ("
        sql.append(visibleCondition(principal))
        sql.append("""
            )), ranked AS (
              SELECT v.*, row_number() OVER (PARTITION BY v.region_code ORDER BY v.total, v.entity_code)::int AS rank
                FROM vis v WHERE v.total IS NOT NULL
            )
            SELECT r.region_code, r.region_name, r.rank, r.entity_code, r.entity_name, r.entity_type, r.department_code,
                   r.department_name, r.total::text AS total, p.total::text AS previous_total, (p.entity_code IS NOT NULL) AS in_previous,
                   (SELECT count(*)::int FROM vis) AS visible_count
              FROM ranked r
              LEFT JOIN cut_entities p ON p.cut_id = \(previous) AND p.entity_code = r.entity_code
             WHERE r.rank <= \(limit)
             ORDER BY r.region_code NULLS LAST, r.rank
            """)
        let rows = try conn.query(sql).rows
        var count = 0
        let out = try rows.map { r -> LaggingEntity in
            count = try r.decode("visible_count")
            return LaggingEntity(
                regionCode: try r.decode("region_code"), regionName: try r.decode("region_name"), rank: try r.decode("rank"),
                code: try r.decode("entity_code"), name: try r.decode("entity_name"), type: try r.decode("entity_type"),
                departmentCode: try r.decode("department_code"), departmentName: try r.decode("department_name"),
                total: try r.decode("total", as: Decimal?.self),
                previousTotal: try r.decode("previous_total", as: Decimal?.self),
                inPrevious: try r.decode("in_previous"))
        }
        if rows.isEmpty {
            var countSQL: SQL = "SELECT count(*)::int AS n FROM cut_entities ce WHERE ce.cut_id = \(cut) AND ("
            countSQL.append(visibleCondition(principal))
            countSQL.append(")")
            count = try conn.query(countSQL).rows[0].decode("n")
        }
        return (out, count)
    }
}

extension CutStore {
    /// A page of a cut's frozen entities (`GET /v1/progress/entities?cut=`): the reader's scope and the filters on
    /// the frozen columns, sorted and paginated in SQL, with the count of all that match. One statement.
    static func entityPage(_ conn: Connection, cut: Int64, principal: Principal, filter: ProgressFilter,
                           sort: ProgressStore.EntitySort, descending: Bool, limit: Int,
                           offset: Int) throws -> (rows: [ProgressStore.EntityRow], total: Int) {
        var sql: SQL = """
            SELECT ce.entity_code AS code, ce.entity_name AS name, ce.entity_type AS type, ce.department_code, ce.region_code, ce.advisor_id,
                   ce.advisor_name, ce.partner_code, ce.total::text AS total,
                   ce.expected::text AS expected, (ce.expected - ce.total)::text AS lag, ce.overdue, NULL::text AS oldest_due,
            """
        sql.append(SQL(unsafe: ProgressStore.phaseArrays("ce")))
        sql.append(", count(*) OVER () AS full_count FROM cut_entities ce WHERE ce.cut_id = \(cut) AND (")
        sql.append(visibleCondition(principal))
        sql.append(") AND ")
        sql.append(filterCondition(filter))
        let direction = descending ? " DESC" : " ASC"
        switch sort {
        case .total: sql.append(SQL(unsafe: " ORDER BY ce.total\(direction) NULLS LAST, ce.entity_code"))
        case .code: sql.append(SQL(unsafe: " ORDER BY ce.entity_code\(direction)"))
        case .name: sql.append(SQL(unsafe: " ORDER BY ce.entity_name\(direction), ce.entity_code"))
        // As live: most behind first with `-lag`; the cut froze expected progress and the overdue codes (017).
        case .lag: sql.append(SQL(unsafe: " ORDER BY (ce.expected - ce.total)\(direction) NULLS LAST, ce.entity_code"))
        }
        sql.append(" LIMIT \(limit) OFFSET \(offset)")
        var total = 0
        let rows = try conn.query(sql).rows.map { r -> ProgressStore.EntityRow in
            total = Int(try r.decode("full_count", as: Int64.self))
            let (phases, completed) = try ProgressStore.decodePhases(r)
            return try ProgressStore.EntityRow(r, phases: phases, completed: completed, schedule: try ProgressStore.ScheduleFigures(r))
        }
        if rows.isEmpty && offset > 0 {
            var count: SQL = "SELECT count(*)::int AS n FROM cut_entities ce WHERE ce.cut_id = \(cut) AND ("
            count.append(visibleCondition(principal))
            count.append(") AND ")
            count.append(filterCondition(filter))
            total = try conn.query(count).rows[0].decode("n")
        }
        return (rows, total)
    }

    /// One entity as a cut froze it, whether the reader may see it, and whether it exists at all (nil: unknown
    /// entity; `inCut` false: it exists but the cut does not hold it).
    struct FrozenOne: Sendable {
        var code: String
        var name: String
        var inCut: Bool
        var visible: Bool
        var total: Decimal?
        var phases: [String: Decimal?]
        var completed: [String: Bool]
        var milestones: [String: String]
    }

    static func frozenEntity(_ conn: Connection, cut: Int64, entity: String, principal: Principal) throws -> FrozenOne? {
        var sql: SQL = """
            SELECT e.code, COALESCE(ce.entity_name, e.name) AS name, (ce.entity_code IS NOT NULL) AS in_cut, (
            """
        sql.append(visibleCondition(principal))
        sql.append(") IS TRUE AS visible, ce.total::text AS total, ")
        sql.append(SQL(unsafe: ProgressStore.phaseArrays("ce")))
        sql.append("""
            , ARRAY(SELECT k FROM jsonb_object_keys(ce.milestones) k ORDER BY k) AS milestone_codes,
              ARRAY(SELECT ce.milestones ->> k FROM jsonb_object_keys(ce.milestones) k ORDER BY k) AS milestone_values
              FROM entities e LEFT JOIN cut_entities ce ON ce.cut_id = \(cut) AND ce.entity_code = e.code
             WHERE e.code = \(entity)
            """)
        guard let r = try conn.query(sql).rows.first else { return nil }
        let inCut: Bool = try r.decode("in_cut")
        let (phases, completed) = inCut ? try ProgressStore.decodePhases(r) : ([:], [:])
        let codes: [String] = inCut ? try r.decode("milestone_codes") : []
        let values: [String] = inCut ? try r.decode("milestone_values") : []
        return FrozenOne(code: try r.decode("code"), name: try r.decode("name"), inCut: inCut, visible: try r.decode("visible"),
                         total: try r.decode("total", as: Decimal?.self),
                         phases: phases, completed: completed,
                         milestones: Dictionary(uniqueKeysWithValues: zip(codes, values)))
    }
}
