// SQL of progress as of a month: one entity, tables of entities, and group roll-ups (SPEC rules 1–5).
import Foundation
import SetaDatabase
import SetaDomain

/// The groups of SPEC rule 5 and how an entity maps to one as of a month.
enum GroupKind: String, CaseIterable, Sendable {
    case national, regions, departments, advisors, partners
    case entityTypes = "entity-types"

    /// SQL selecting (entity_code, gkey, gname) for the entities of `ent`; values bound, month as $m.
    func membership(month: SQL, source: SQL = "ent", principal: Principal? = nil) -> SQL {
        switch self {
        case .national:
            // A reader who sees only part of the country gets one group named by that scope, never "Nacional".
            if let p = principal, let scope = GroupKind.scopeLabel(p) {
                return "SELECT ent.entity_code, 'scope'::text AS gkey, (\(scope))::text AS gname FROM \(source) ent"
            }
            return "SELECT ent.entity_code, 'national'::text AS gkey, 'Nacional'::text AS gname FROM \(source) ent"
        case .regions:
            return """
                SELECT ent.entity_code, r.region_code AS gkey, rg.name AS gname
                  FROM \(source) ent JOIN entity_regions_at(\(month)) r ON r.entity_code = ent.entity_code
                  JOIN regions rg ON rg.code = r.region_code
                """
        case .departments:
            return """
                SELECT ent.entity_code, e.department_code AS gkey, d.name AS gname
                  FROM \(source) ent JOIN entities e ON e.code = ent.entity_code JOIN departments d ON d.code = e.department_code
                """
        case .entityTypes:
            return "SELECT ent.entity_code, e.type AS gkey, e.type AS gname FROM \(source) ent JOIN entities e ON e.code = ent.entity_code"
        case .advisors:
            return """
                SELECT ent.entity_code, a.person_id::text AS gkey, p.name AS gname
                  FROM \(source) ent JOIN assigned_at(NULL, \(month)) a ON a.entity_code = ent.entity_code
                   AND a.plan_code = (SELECT plan FROM params)
                  JOIN people p ON p.id = a.person_id
                """
        case .partners:
            return """
                SELECT ent.entity_code, p.partner_code AS gkey, pa.name AS gname
                  FROM \(source) ent JOIN assigned_at(NULL, \(month)) a ON a.entity_code = ent.entity_code
                   AND a.plan_code = (SELECT plan FROM params)
                  JOIN people p ON p.id = a.person_id JOIN partners pa ON pa.code = p.partner_code
                """
        }
    }
}

extension GroupKind {
    /// The name of a restricted reader's whole scope (SQL text expression), or nil for readers who see every
    /// entity: an advisor's "Mis entidades", a coordinator's regions, a viewer's regions or partner.
    static func scopeLabel(_ p: Principal) -> SQL? {
        switch p.role {
        case .central:
            return nil
        case .advisor:
            return "'Mis entidades'"
        case .coordinator:
            return "(SELECT COALESCE(string_agg(r.name, ', ' ORDER BY r.name), 'Mis regiones') FROM regions r WHERE r.code = ANY(\(p.regions)::text[]))"
        case .viewer:
            if !p.regions.isEmpty {
                return "(SELECT string_agg(r.name, ', ' ORDER BY r.name) FROM regions r WHERE r.code = ANY(\(p.regions)::text[]))"
            }
            if p.limitedToPartner, let partner = p.partnerCode {
                return "(SELECT COALESCE(max(pa.name), \(partner)) FROM partners pa WHERE pa.code = \(partner))"
            }
            return nil
        }
    }
}

/// Filters a reader may add to any progress query (always within their scope).
struct ProgressFilter: Sendable {
    var region: String?
    var department: String?
    var advisor: Int64?
    var type: String?
    /// One group of a group set as of the month (`set_group=<set>:<group>`, issue 15).
    var setGroup: SetGroupFilter?
    /// Attribute values (`attr.<code>=<value>`, issue 15), all of which must hold.
    var attributes: [AttributeFilter] = []
}

struct GroupResult: Sendable {
    var key: String
    var name: String
    var summary: GroupSummary
    /// Names of the lowest and highest entities the statement returned (the first ten of each).
    var names: [String: String] = [:]
    /// Per milestone in catalog order: percent of the group's entities that completed it, among those for which
    /// it applies (the report's "el 99,8 % presentó…"); absent when it applies to none.
    var milestoneShares: [(code: String, share: Decimal)] = []
    /// Per stage (momento) in catalog order: mean progress and percent of entities that completed the stage.
    var stages: [(code: String, mean: Decimal?, completedShare: Decimal?)] = []
    /// The schedule (issue 13): mean expected progress and mean lag (expected − actual) over the measured
    /// entities, how many have an overdue milestone (behind schedule), and per milestone in catalog order how many
    /// have it overdue. Nil / empty for groups read back from cuts taken before the schedule existed.
    var meanExpected: Decimal?
    var meanLag: Decimal?
    var behindCount: Int?
    var milestoneOverdue: [(code: String, count: Int)] = []
}

enum ProgressStore {
    /// `params` and `ent` CTEs: the plan, the month and the enrolled entities the reader may see.
    static func entitiesCTE(plan: String, month: Period, principal: Principal, filter: ProgressFilter) -> SQL {
        var sql: SQL = "WITH params AS (SELECT \(plan)::text AS plan), ent AS ("
        sql.append(enrolledVisible(plan: plan, month: "\(month.firstDayString)::date", principal: principal, filter: filter))
        sql.append(")")
        return sql
    }

    /// `SELECT en.entity_code` of the entities enrolled in `plan` at `month` (a SQL date expression: a bound
    /// value, or a column when a statement runs over several months) that the reader may see, filtered.
    static func enrolledVisible(plan: String, month: SQL, principal: Principal, filter: ProgressFilter) -> SQL {
        var sql: SQL = "SELECT en.entity_code FROM enrolled_at(\(plan), \(month)) en WHERE "
        sql.append(Scope.condition(for: principal, entityColumn: "en.entity_code", plan: plan, month: month))
        if let r = filter.region {
            sql.append(" AND en.entity_code IN (SELECT x.entity_code FROM entity_regions_at(\(month)) x WHERE x.region_code = \(r))")
        }
        if let d = filter.department {
            sql.append(" AND en.entity_code IN (SELECT x.code FROM entities x WHERE x.department_code = \(d))")
        }
        if let t = filter.type {
            sql.append(" AND en.entity_code IN (SELECT x.code FROM entities x WHERE x.type = \(t))")
        }
        if let a = filter.advisor {
            sql.append("""
                 AND en.entity_code IN (SELECT x.entity_code FROM assigned_at(\(plan), \(month)) x WHERE x.person_id = \(a))
                """)
        }
        if let sg = filter.setGroup {
            sql.append(" AND en.entity_code IN (SELECT x.entity_code FROM group_members_at(\(sg.set), \(month)) x WHERE x.group_code = \(sg.group))")
        }
        sql.append(AttributeFilter.condition(filter.attributes, entityColumn: "en.entity_code"))
        return sql
    }

    /// The maintained progress (`Schema/013_entity_progress.sql`) of the entities of CTE `ent` as of `month`:
    /// (entity_code, total, pp, pc, statuses), `pp`/`pc` the phases' progress and completion in catalog order.
    /// Rows are read at the earlier of `month` and the plan's horizon (nothing is reported after it) in one
    /// index range scan; an entity with no row there has no report up to that month: zero progress.
    /// `ent` may carry a `month` column (series): pass `perMonth` and the rows keep it.
    static func progressRows(plan: String, version: Int, month: SQL, entCTE: String = "ent", perMonth: Bool = false,
                             passThrough: String = "", statuses: Bool = true, milestones: Bool = false) -> SQL {
        let e = SQL(unsafe: entCTE)
        // Per month, `ent` carries `pm`, the month already resolved against the horizon (once per month, not per row).
        // Otherwise a scalar subquery: PostgreSQL computes it once (an InitPlan), not once per probed row.
        let at: SQL = perMonth ? SQL(unsafe: "\(entCTE).pm") : "(SELECT progress_month(\(plan), \(month)))"
        var extra = perMonth ? "\(entCTE).month, " : ""
        if !passThrough.isEmpty { extra += passThrough + ", " }
        // Roll-ups never read the statuses: leaving them out keeps the rows narrow through joins and sorts.
        var statusColumn = statuses ? ", COALESCE(ep.statuses, z.statuses) AS statuses" : ""
        if milestones {
            statusColumn += ", COALESCE(ep.milestone_done, z.milestone_done) AS md, COALESCE(ep.milestone_applicable, z.milestone_applicable) AS ma"
        }
        return """
            SELECT \(unsafe: extra)\(e).entity_code,
                   CASE WHEN ep.entity_code IS NULL THEN z.total ELSE ep.total END AS total,
                   COALESCE(ep.phase_progress, z.phase_progress) AS pp, COALESCE(ep.phase_completed, z.phase_completed) AS pc
                   \(unsafe: statusColumn)
              FROM \(e)
             CROSS JOIN zero_progress(\(plan), \(version)) z
              LEFT JOIN entity_progress ep
                ON ep.plan_code = \(plan) AND ep.version = \(version) AND ep.month = \(at)
               AND ep.entity_code = \(e).entity_code
            """
    }

    /// The group roll-up over a CTE `rows_` (entity_code, entity_name, total, pp, pc, md, ma, gkey, gname) of
    /// maintained rows: plain aggregates over the arrays, one column per phase, milestone and stage, no JSON parsed
    /// per row. Cuts freeze their groups with it too (`CutStore.take`), so live and frozen groups agree. Gives the
    /// report's headline figures: each milestone's share of entities that completed it (done among those for
    /// which it applies) and, where the plan has stages (momentos), each stage's mean progress and completion.
    static func rollUp(_ catalog: PlanCatalog) -> SQL {
        let phases = catalog.phases.sorted { $0.position < $1.position }
        let milestones = catalog.milestones.sorted { $0.position < $1.position }
        func share(_ hit: String, _ among: String) -> String {
            "COALESCE(((100 * count(*) FILTER (WHERE \(hit)))::numeric / NULLIF(count(*) FILTER (WHERE \(among)), 0))::text, '')"
        }
        let phaseShares = phases.indices.map { i in share("s.pc[\(i + 1)] AND s.pp[\(i + 1)] IS NOT NULL", "s.pp[\(i + 1)] IS NOT NULL") }
        let milestoneShares = milestones.indices.map { i in share("s.md[\(i + 1)]", "s.ma[\(i + 1)]") }
        let milestoneOverdue = milestones.indices.map { i in "count(*) FILTER (WHERE s.od[\(i + 1)])::int" }
        var sql: SQL = """
            , stats AS (
                SELECT r.*, min(r.total) OVER w AS gmin, max(r.total) OVER w AS gmax
                  FROM rows_ r WINDOW w AS (PARTITION BY r.gkey)
            ), agg AS (
            SELECT s.gkey, min(s.gname) AS gname, \(unsafe: summaryColumns)
                   \(phases.map(\.code))::text[] AS share_phases,
                   \(milestones.map(\.code))::text[] AS milestone_codes,
            """
        sql.append(SQL(unsafe: (phaseShares.isEmpty ? "'{}'::text[]" : "ARRAY[" + phaseShares.joined(separator: ", ") + "]")
                       + " AS share_values, "
                       + (milestoneShares.isEmpty ? "'{}'::text[]" : "ARRAY[" + milestoneShares.joined(separator: ", ") + "]")
                       + " AS milestone_shares, "
                       + (milestoneOverdue.isEmpty ? "'{}'::int[]" : "ARRAY[" + milestoneOverdue.joined(separator: ", ") + "]")
                       + " AS milestone_overdue, "))
        // Stages: progress = Σ weight × phase progress / Σ weight over the stage's phases that count (rule 4 within
        // the stage); completed when every counting phase of the stage is completed.
        var means: [SQL] = [], stageShares: [SQL] = []
        for stage in catalog.stages.sorted(by: { $0.position < $1.position }) {
            let members = phases.enumerated().filter { $0.element.stageCode == stage.code }
            guard !members.isEmpty else { continue }
            var num: SQL = "(0", den: SQL = "(0"
            var done = "true"
            for (i, ph) in members {
                num.append(" + COALESCE(\(ph.weightInPlan.description)::numeric * s.pp[\(unsafe: String(i + 1))], 0)")
                den.append(" + CASE WHEN s.pp[\(unsafe: String(i + 1))] IS NOT NULL THEN \(ph.weightInPlan.description)::numeric ELSE 0 END")
                done += " AND (s.pp[\(i + 1)] IS NULL OR s.pc[\(i + 1)])"
            }
            num.append(")"); den.append(")")
            var mean: SQL = "COALESCE(avg("
            mean.append(num); mean.append(" / NULLIF("); mean.append(den); mean.append(", 0))::text, '')")
            means.append(mean)
            var sh: SQL = "COALESCE(((100 * count(*) FILTER (WHERE "
            sh.append(den); sh.append(SQL(unsafe: " > 0 AND \(done)))::numeric / NULLIF(count(*) FILTER (WHERE "))
            sh.append(den); sh.append(" > 0), 0))::text, '')")
            stageShares.append(sh)
        }
        let stageCodes = catalog.stages.sorted(by: { $0.position < $1.position })
            .filter { st in phases.contains { $0.stageCode == st.code } }.map(\.code)
        sql.append("\(stageCodes)::text[] AS stage_codes, ")
        sql.append(means.isEmpty ? "'{}'::text[]" : SQL(unsafe: "ARRAY[") + means.joined(separator: ", ") + SQL(unsafe: "]"))
        sql.append(" AS stage_means, ")
        sql.append(stageShares.isEmpty ? "'{}'::text[]" : SQL(unsafe: "ARRAY[") + stageShares.joined(separator: ", ") + SQL(unsafe: "]"))
        sql.append(" AS stage_shares FROM stats s GROUP BY s.gkey ORDER BY s.gkey")
        return sql
    }

    /// The columns of a roll-up row (`rollUp`) kept as JSON in `progress_rollups`, for `jsonb_to_recordset`.
    static let rollUpRecordColumns = """
        gkey text, gname text, entity_count int, measured_count int, mean text, at_hundred int, min text, max text,
        lowest text[], highest text[], lowest_names text[], highest_names text[], share_phases text[], share_values text[],
        milestone_codes text[], milestone_shares text[], stage_codes text[], stage_means text[], stage_shares text[],
        mean_expected text, mean_lag text, behind_count int, milestone_overdue int[]
        """

    /// Part of every roll-up cache key: bumped whenever what a roll-up returns changes shape, so a result kept
    /// in `progress_rollups` under an older shape is never served (2: expected progress and lag, issue 13).
    static let rollUpShape = "shape2"

    /// A roll-up statement (`dataSQL`: CTEs up to `rows_`, then `rollUp`) answered from `progress_rollups` when the
    /// months it reads and the memberships are unchanged since it was kept, else computed (in the same statement)
    /// and kept by a second, small statement. `signature` is a SQL text expression naming the months read and their
    /// stamps. One round trip on a hit; the computation is never run then (the COALESCE reads it lazily).
    /// `q` is MATERIALIZED: inlined, its `result` is written twice in the final SELECT and a miss computed twice.
    static func cachedRollUp(_ conn: Connection, _ g: StatementGuard?, key: String, signature: SQL, dataSQL: SQL) throws -> [Row] {
        // `dataSQL` ends with the roll-up's SELECT: make it the `agg` CTE.
        var sql = dataSQL
        sql.append("""
            ), sig AS (SELECT (\(signature))::text AS data_sig, (SELECT stamp FROM membership_stamp WHERE id = 1) AS ms),
            hit AS (
              SELECT c.result FROM progress_rollups c, sig
               WHERE c.cache_key = \(key) AND c.data_sig = sig.data_sig AND c.membership_stamp = sig.ms
            ), q AS MATERIALIZED (
              SELECT (SELECT result FROM hit) AS cached,
                     COALESCE((SELECT result FROM hit), (SELECT COALESCE(jsonb_agg(to_jsonb(agg)), '[]'::jsonb) FROM agg)) AS result
            )
            SELECT r.*, (q.cached IS NOT NULL) AS from_cache, sig.data_sig, sig.ms AS membership_stamp,
                   CASE WHEN q.cached IS NULL AND row_number() OVER () = 1 THEN q.result::text END AS result_text
              FROM q CROSS JOIN sig CROSS JOIN LATERAL jsonb_to_recordset(q.result) AS r(\(unsafe: rollUpRecordColumns))
            """)
        let rows = try run(conn, g, sql)
        // A miss: keep the result for the next reader (a failure to keep it only costs the next one a computation).
        if let first = rows.first, let text = try first.decode("result_text", as: String?.self) {
            _ = try? conn.execute("""
                INSERT INTO progress_rollups (cache_key, data_sig, membership_stamp, result)
                VALUES (\(key), \(try first.decode("data_sig", as: String.self)), \(try first.decode("membership_stamp", as: Int64.self)), \(text)::jsonb)
                ON CONFLICT (cache_key) DO UPDATE SET data_sig = EXCLUDED.data_sig, membership_stamp = EXCLUDED.membership_stamp,
                   result = EXCLUDED.result, computed_at = now()
                """)
        }
        return rows
    }

    /// The cache key of a roll-up: everything the result depends on besides the stamps.
    static func rollUpKey(_ parts: [String], principal: Principal, filter: ProgressFilter) -> String {
        ([rollUpShape] + parts + [scopeKey(principal), filter.region ?? "", filter.department ?? "", filter.type ?? "",
                  filter.advisor.map(String.init) ?? "", filter.setGroup.map { $0.set + ":" + $0.group } ?? "",
                  filter.attributes.map { $0.code + "=" + $0.value }.sorted().joined(separator: "&")]).joined(separator: "|")
    }

    /// Who sees what, as part of a cache key: readers with the same scope share results.
    static func scopeKey(_ p: Principal) -> String {
        switch p.role {
        case .central: return "all"
        case .coordinator: return "regions:" + p.regions.sorted().joined(separator: ",")
        case .advisor: return "advisor:\(p.personId)"
        case .viewer:
            return "viewer:" + p.regions.sorted().joined(separator: ",") + "|" + (p.limitedToPartner ? (p.partnerCode ?? "-") : "")
        }
    }

    /// A catalog version, when the caller has none at hand (tests, tools).
    static func catalogOf(_ conn: Connection, plan: String, version: Int) throws -> PlanCatalog {
        guard let c = try CatalogStore.catalog(conn, code: plan, version: version) else {
            throw DatabaseError(.decoding, message: "no catalog version \(version) of plan \(plan)")
        }
        return c
    }

    /// Progress and completion by phase code from the `pp`/`pc` arrays (as text arrays `pp_text`, `pc_text`).
    static func decodePhaseArrays(_ r: Row, codes: [String]) throws -> (progress: [String: Decimal?], completed: [String: Bool]) {
        let values: [String?] = try r.decode("pp_text")
        let done: [String?] = try r.decode("pc_text")
        var progress: [String: Decimal?] = [:]
        var completed: [String: Bool] = [:]
        for (i, c) in codes.enumerated() where i < values.count {
            progress[c] = .some(values[i].flatMap { Decimal(postgresNumeric: $0) })
            completed[c] = i < done.count && (done[i] == "t" || done[i] == "true")
        }
        return (progress, completed)
    }

    /// What every roll-up reports from `stats s` (rows with their group's `gmin` and `gmax`): counts, mean,
    /// extremes and the entities at them, and the schedule (rows carry `expected` and `overdue_count`: mean
    /// expected, mean lag over the measured entities, entities behind schedule). One definition for live groups (`rollUp`) and frozen ones (cuts).
    static let summaryColumns = """
               count(*)::int AS entity_count,
               count(s.total)::int AS measured_count,
               avg(s.total)::text AS mean,
               count(*) FILTER (WHERE s.total = 100)::int AS at_hundred,
               min(s.total)::text AS min, max(s.total)::text AS max,
               array_agg(s.entity_code ORDER BY s.entity_code) FILTER (WHERE s.total = s.gmin) AS lowest,
               array_agg(s.entity_code ORDER BY s.entity_code) FILTER (WHERE s.total = s.gmax) AS highest,
               (array_agg(s.entity_name ORDER BY s.entity_code) FILTER (WHERE s.total = s.gmin))[1:10] AS lowest_names,
               (array_agg(s.entity_name ORDER BY s.entity_code) FILTER (WHERE s.total = s.gmax))[1:10] AS highest_names,
               avg(s.expected) FILTER (WHERE s.total IS NOT NULL)::text AS mean_expected,
               avg(s.expected - s.total)::text AS mean_lag,
               count(*) FILTER (WHERE s.overdue_count > 0)::int AS behind_count,
        """

    /// Groups in key order; keys that are numbers (advisor ids) in numeric order (9, 10, 100), not as text.
    static func decodeGroups(_ rows: [Row]) throws -> [GroupResult] {
        try rows.map { r in
            let phases: [String] = try r.decode("share_phases")
            let values: [String] = try r.decode("share_values")
            var shares: [String: Decimal] = [:]
            for (p, v) in zip(phases, values) { shares[p] = Decimal(postgresNumeric: v) }
            let summary = GroupSummary(
                entityCount: try r.decode("entity_count"), measuredCount: try r.decode("measured_count"),
                meanProgress: try r.decode("mean", as: Decimal?.self),
                atHundred: try r.decode("at_hundred"), phaseCompletionShare: shares,
                min: try r.decode("min", as: Decimal?.self),
                max: try r.decode("max", as: Decimal?.self),
                lowest: try r.decode("lowest", as: [String]?.self) ?? [],
                highest: try r.decode("highest", as: [String]?.self) ?? [])
            var names: [String: String] = [:]
            if r.columnNames.contains("lowest_names") {
                let lowNames = try r.decode("lowest_names", as: [String]?.self) ?? []
                let highNames = try r.decode("highest_names", as: [String]?.self) ?? []
                for (c, n) in zip(summary.lowest, lowNames) { names[c] = n }
                for (c, n) in zip(summary.highest, highNames) { names[c] = n }
            }
            var result = GroupResult(key: try r.decode("gkey"), name: try r.decode("gname", as: String?.self) ?? "",
                                     summary: summary, names: names)
            if r.columnNames.contains("milestone_codes") {
                let codes: [String] = try r.decode("milestone_codes")
                let values: [String] = try r.decode("milestone_shares")
                result.milestoneShares = zip(codes, values).compactMap { c, v in Decimal(postgresNumeric: v).map { (c, $0) } }
                let stages: [String] = try r.decode("stage_codes")
                let means: [String] = try r.decode("stage_means")
                let done: [String] = try r.decode("stage_shares")
                result.stages = stages.indices.map { i in
                    (stages[i], i < means.count ? Decimal(postgresNumeric: means[i]) : nil, i < done.count ? Decimal(postgresNumeric: done[i]) : nil)
                }
            }
            if r.columnNames.contains("mean_lag") {
                result.meanExpected = try r.decode("mean_expected", as: Decimal?.self)
                result.meanLag = try r.decode("mean_lag", as: Decimal?.self)
                result.behindCount = try r.decode("behind_count", as: Int?.self)
                if r.columnNames.contains("milestone_overdue"), r.columnNames.contains("milestone_codes"),
                   let overdue = try r.decode("milestone_overdue", as: [Int]?.self) {
                    let codes: [String] = try r.decode("milestone_codes")
                    result.milestoneOverdue = Array(zip(codes, overdue)).map { (code: $0.0, count: $0.1) }
                }
            }
            return result
        }.sorted(by: groupOrder)
    }

    /// Key order; keys that are numbers (advisor ids) in numeric order.
    static func groupOrder(_ a: GroupResult, _ b: GroupResult) -> Bool {
        if let x = Int64(a.key), let y = Int64(b.key) { return x < y }
        return a.key < b.key
    }

    /// The columns of one group result stored as JSON (cuts and the group cache), for `jsonb_to_recordset`.
    static let groupRecordColumns = """
        gkey text, gname text, entity_count int, measured_count int, mean text, at_hundred int, min text, max text,
        lowest text[], highest text[], share_phases text[], share_values text[],
        mean_expected text, mean_lag text, behind_count int
        """

    /// A read statement, guarded when the caller or catalog comes from a hint (one round trip either way).
    static func run(_ conn: Connection, _ g: StatementGuard?, _ sql: SQL) throws -> [Row] {
        if let g { return try g.rows(conn, sql) }
        return try conn.query(sql).rows
    }

    /// Group roll-up as of a month, in one statement over the maintained entity rows: no cache to go cold,
    /// a request right after a write costs what any other does.
    static func groups(_ conn: Connection, guard g: StatementGuard? = nil, kind: GroupKind, grouping: Grouping? = nil,
                       plan: String, version: Int,
                       catalog: PlanCatalog? = nil, month: Period, principal: Principal, filter: ProgressFilter) throws -> [GroupResult] {
        let grouping = grouping ?? .kind(kind)
        let cat = try catalog ?? catalogOf(conn, plan: plan, version: version)
        let m: SQL = "\(month.firstDayString)::date"
        var sql = entitiesCTE(plan: plan, month: month, principal: principal, filter: filter)
        sql.append(", prog AS (")
        sql.append(progressRows(plan: plan, version: version, month: m, statuses: false, milestones: true))
        sql.append(")")
        sql.append(scheduleCTEs(plan: plan, version: version, month: m, source: "prog"))
        sql.append(", grp AS (")
        sql.append(grouping.membership(month: m, principal: principal))
        sql.append("""
            ), rows_ AS (
              SELECT g.entity_code, e.name AS entity_name, p.total, p.pp, p.pc, p.md, p.ma, g.gkey, g.gname,
                     sc.expected, sc.overdue_count, sc.od
                FROM grp g JOIN prog p ON p.entity_code = g.entity_code JOIN entities e ON e.code = g.entity_code
                LEFT JOIN sched sc ON sc.entity_code = g.entity_code
            )
            """)
        sql.append(rollUp(cat))
        let key = rollUpKey(["groups", grouping.name, plan, String(version), month.description], principal: principal, filter: filter)
        let signature: SQL = """
            (SELECT pm::text || ':' || COALESCE((SELECT stamp FROM progress_month_stamps WHERE plan_code = \(plan) AND month = pm), 0)
               FROM progress_month(\(plan), \(m)) pm)
            """
        return try decodeGroups(try cachedRollUp(conn, g, key: key, signature: signature, dataSQL: sql))
    }

    /// Group roll-ups for every month of a series, in one statement: the months are a column, the group key
    /// of each row is `YYYY-MM|key`.
    static func groupSeries(_ conn: Connection, guard g: StatementGuard? = nil, kind: GroupKind, grouping: Grouping? = nil,
                            plan: String, version: Int,
                            catalog: PlanCatalog? = nil, from: Period, to: Period,
                            principal: Principal, filter: ProgressFilter) throws -> [(period: String, groups: [GroupResult])] {
        let cat = try catalog ?? catalogOf(conn, plan: plan, version: version)
        let grouping = grouping ?? .kind(kind)
        let mo: SQL = "mo.month"
        var sql: SQL = """
            WITH params AS (SELECT \(plan)::text AS plan),
            months AS (
              SELECT gs::date AS month, progress_month(\(plan), gs::date) AS pm
                FROM generate_series(\(from.firstDayString)::date, \(to.firstDayString)::date, interval '1 month') gs
            ),
            ent_all AS (
              SELECT mo.month, mo.pm, v.entity_code FROM months mo CROSS JOIN LATERAL (
            """
        sql.append(enrolledVisible(plan: plan, month: mo, principal: principal, filter: filter))
        // Membership first (the months' entities in their groups), then each row's progress, carrying the group.
        sql.append(") v), grp AS (SELECT mo.month, mo.pm, g.* FROM months mo CROSS JOIN LATERAL (")
        sql.append(grouping.membership(month: mo, source: "(SELECT entity_code FROM ent_all WHERE ent_all.month = mo.month)",
                                   principal: principal))
        sql.append(") g), prog AS (")
        sql.append(progressRows(plan: plan, version: version, month: "grp.month", entCTE: "grp", perMonth: true,
                                passThrough: "grp.gkey, grp.gname", statuses: false, milestones: true))
        // An entity may sit in several groups of a month: its schedule is computed once per (entity, month).
        sql.append("), prog1 AS (SELECT DISTINCT ON (p.month, p.entity_code) p.month, p.entity_code, p.md, p.ma FROM prog p)")
        sql.append(scheduleCTEs(plan: plan, version: version, month: "", source: "prog1", perMonth: true))
        sql.append("""
            , rows_ AS (
              SELECT p.entity_code, e.name AS entity_name, p.total, p.pp, p.pc, p.md, p.ma,
                     to_char(p.month, 'YYYY-MM') || '|' || p.gkey AS gkey, p.gname,
                     sc.expected, sc.overdue_count, sc.od
                FROM prog p JOIN entities e ON e.code = p.entity_code
                LEFT JOIN sched sc ON sc.entity_code = p.entity_code AND sc.month = p.month
            )
            """)
        sql.append(rollUp(cat))
        let key = rollUpKey(["series", grouping.name, plan, String(version), from.description, to.description],
                            principal: principal, filter: filter)
        let signature: SQL = """
            (SELECT string_agg(x.pm::text || ':' || COALESCE(st.stamp, 0), ',' ORDER BY x.month)
               FROM (SELECT gs::date AS month, progress_month(\(plan), gs::date) AS pm
                       FROM generate_series(\(from.firstDayString)::date, \(to.firstDayString)::date, interval '1 month') gs) x
               LEFT JOIN progress_month_stamps st ON st.plan_code = \(plan) AND st.month = x.pm)
            """
        var byMonth: [String: [GroupResult]] = [:]
        for var group in try decodeGroups(try cachedRollUp(conn, g, key: key, signature: signature, dataSQL: sql)) {
            let parts = group.key.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            group.key = String(parts[1])
            byMonth[String(parts[0]), default: []].append(group)
        }
        return Period.months(from: from, to: to).map { ($0.description, (byMonth[$0.description] ?? []).sorted(by: groupOrder)) }
    }

    /// The phases of a row with `phases` and `completed` jsonb (prefix `alias.`), as three parallel text
    /// arrays: JSON numbers stay exact text (no Double on the way), read back by `decodePhases`.
    static func phaseArrays(_ alias: String) -> String {
        let a = alias.isEmpty ? "" : alias + "."
        return """
            ARRAY(SELECT k FROM jsonb_object_keys(\(a)phases) k ORDER BY k) AS phase_codes,
            ARRAY(SELECT COALESCE(\(a)phases ->> k, '') FROM jsonb_object_keys(\(a)phases) k ORDER BY k) AS phase_values,
            ARRAY(SELECT COALESCE(\(a)completed ->> k, 'false') FROM jsonb_object_keys(\(a)phases) k ORDER BY k) AS phase_completed
            """
    }

    /// Progress (nil for a phase that drops out) and completion of each phase, by code.
    static func decodePhases(_ r: Row) throws -> (progress: [String: Decimal?], completed: [String: Bool]) {
        let codes: [String] = try r.decode("phase_codes")
        let values: [String] = try r.decode("phase_values")
        let done: [String] = try r.decode("phase_completed")
        var progress: [String: Decimal?] = [:]
        var completed: [String: Bool] = [:]
        for (i, c) in codes.enumerated() {
            progress[c] = .some(Decimal(postgresNumeric: values[i]))
            completed[c] = done[i] == "true"
        }
        return (progress, completed)
    }

    /// One line of the entity table, live or frozen: the entity (its department and region, its advisor and their
    /// partner) and its figures as read. Encodes the entity part only, under its wire names: the wire line
    /// (`EntityTableRowDTO`) writes it flat beside the figures it rounds.
    struct EntityRow: Encodable, Sendable {
        var code: String
        var name: String
        var type: String
        var departmentCode: String
        var regionCode: String?
        var advisorId: Int64?
        var advisorName: String?
        var partnerCode: String?
        var total: Decimal?
        var phases: [String: Decimal?]
        var completed: [String: Bool]
        /// Typed attribute values by attribute code, canonical text (issue 15).
        var attributes: [String: String] = [:]
        /// The schedule as of the month (issue 13): expected progress, lag = expected − total, and the overdue
        /// milestones, earliest due date first.
        var schedule: ScheduleFigures = ScheduleFigures()

        enum CodingKeys: String, CodingKey {
            case code, name, type, departmentCode, regionCode, advisorId, advisorName, partnerCode
        }

        /// Reads `code`, `name`, `type`, `department_code`, `region_code`, `advisor_id`, `advisor_name`,
        /// `partner_code` and `total` (text), the names the live table and a cut's frozen one both select.
        init(_ r: Row, phases: [String: Decimal?], completed: [String: Bool], attributes: [String: String] = [:],
             schedule: ScheduleFigures) throws {
            code = try r.decode("code")
            name = try r.decode("name")
            type = try r.decode("type")
            departmentCode = try r.decode("department_code")
            regionCode = try r.decode("region_code")
            advisorId = try r.decode("advisor_id")
            advisorName = try r.decode("advisor_name")
            partnerCode = try r.decode("partner_code")
            total = try r.decode("total", as: Decimal?.self)
            self.phases = phases
            self.completed = completed
            self.attributes = attributes
            self.schedule = schedule
        }
    }

    /// Expected progress, lag and overdue milestones of one entity as of a month (docs/progress.md).
    struct ScheduleFigures: Sendable {
        var expected: Decimal?
        var lag: Decimal?
        var overdue: [String] = []
        var oldestDue: String?

        /// Reads `expected`, `lag`, `overdue` and `oldest_due` (text) of a row.
        init(_ r: Row) throws {
            expected = try r.decode("expected", as: Decimal?.self)
            lag = try r.decode("lag", as: Decimal?.self)
            overdue = try r.decode("overdue", as: [String]?.self) ?? []
            oldestDue = try r.decode("oldest_due", as: String?.self)
        }

        init() {}
    }

    /// The columns `ScheduleFigures(_:)` reads, from a `sched` row `sc` and a progress row `p`.
    static let scheduleColumns: SQL = """
        sc.expected::text AS expected, (sc.expected - p.total)::text AS lag, sc.overdue,
        to_char(sc.oldest_due, 'YYYY-MM-DD') AS oldest_due
        """

    enum EntitySort: String, CaseIterable, Sendable {
        case total, code, name, lag
    }

    /// The entity table as of a month, sorted and paginated in SQL.
    static func entities(_ conn: Connection, guard g: StatementGuard? = nil, plan: String, version: Int,
                         phases: [String]? = nil, month: Period, principal: Principal,
                         filter: ProgressFilter, sort: EntitySort, descending: Bool, limit: Int, offset: Int,
                         entityCodes: [String]? = nil) throws -> (rows: [EntityRow], total: Int) {
        let m = month.firstDayString
        let phaseCodes = try phases ?? catalogOf(conn, plan: plan, version: version).phases.map(\.code)
        var sql = entitiesCTE(plan: plan, month: month, principal: principal, filter: filter)
        if let codes = entityCodes {
            sql.append(", ent2 AS (SELECT entity_code FROM ent WHERE entity_code = ANY(\(codes)::text[]))")
        } else {
            sql.append(", ent2 AS (SELECT entity_code FROM ent)")
        }
        sql.append(", prog AS (")
        sql.append(progressRows(plan: plan, version: version, month: "\(m)::date", entCTE: "ent2", statuses: false,
                                milestones: true))
        sql.append(")")
        sql.append(scheduleCTEs(plan: plan, version: version, month: "\(m)::date", source: "prog"))
        sql.append("""

            SELECT e.code, e.name, e.type, e.department_code, r.region_code, a.person_id AS advisor_id, pe.name AS advisor_name,
                   pe.partner_code, p.total::text AS total, p.pp::text[] AS pp_text, p.pc::text[] AS pc_text,
            """)
        sql.append(scheduleColumns)
        sql.append("""
            ,
                   count(*) OVER () AS full_count,
                   (SELECT jsonb_object_agg(av.attribute_code, av.value ORDER BY av.attribute_code)::text
                      FROM entity_attribute_values av WHERE av.entity_code = e.code) AS attributes
              FROM prog p
              LEFT JOIN sched sc ON sc.entity_code = p.entity_code
              JOIN entities e ON e.code = p.entity_code
              LEFT JOIN entity_regions_at(\(m)::date) r ON r.entity_code = e.code
              LEFT JOIN assigned_at(\(plan), \(m)::date) a ON a.entity_code = e.code
              LEFT JOIN people pe ON pe.id = a.person_id
            """)
        let direction = descending ? " DESC" : " ASC"
        switch sort {
        case .total: sql.append(SQL(unsafe: " ORDER BY p.total\(direction) NULLS LAST, e.code"))
        case .code: sql.append(SQL(unsafe: " ORDER BY e.code\(direction)"))
        case .name: sql.append(SQL(unsafe: " ORDER BY e.name\(direction), e.code"))
        // Most behind first with `-lag`; ties by the oldest missed deadline, then code. No lag (no phase counts) last.
        case .lag: sql.append(SQL(unsafe: " ORDER BY (sc.expected - p.total)\(direction) NULLS LAST, sc.oldest_due NULLS LAST, e.code"))
        }
        sql.append(" LIMIT \(limit) OFFSET \(offset)")
        let rows = try run(conn, g, sql)
        var total = 0
        let out = try rows.map { r -> EntityRow in
            total = Int(try r.decode("full_count", as: Int64.self))
            let (phases, completed) = try decodePhaseArrays(r, codes: phaseCodes)
            return try EntityRow(r, phases: phases, completed: completed,
                                 attributes: try attributeMap(r.decode("attributes", as: String?.self)),
                                 schedule: try ScheduleFigures(r))
        }
        if out.isEmpty && offset > 0 {
            // Past the end: still say how many there are.
            var countSQL = entitiesCTE(plan: plan, month: month, principal: principal, filter: filter)
            countSQL.append(" SELECT count(*)::int AS n FROM ent")
            total = try conn.query(countSQL).rows[0].decode("n")
        }
        return (out, total)
    }

    /// `{"pdet": "true"}` as written by `jsonb_object_agg` (values are always strings).
    static func attributeMap(_ text: String?) throws -> [String: String] {
        guard let text else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }

    /// One advisor's line of the ranking (SPEC rule 8): their entities' mean progress this month and the previous
    /// one, the month's reports on time, late and missing, and the asesorías held.
    struct RankingRow: Sendable {
        var personId: Int64
        var name: String
        var partnerCode: String?
        var entityCount: Int
        var mean: Decimal?
        var previousMean: Decimal?
        var onTime: Int
        var late: Int
        var missing: Int
        var asesorias: Int
        /// Mean lag (expected − actual) of the advisor's entities this month, and how many are behind schedule.
        var meanLag: Decimal?
        var behind: Int = 0
    }

    /// The advisor ranking as of a month, best mean first, in one statement.
    static func advisorRanking(_ conn: Connection, guard g: StatementGuard? = nil, plan: String, version: Int, month: Period,
                               principal: Principal, filter: ProgressFilter) throws -> [RankingRow] {
        let m = month.firstDayString
        let prev = month.previous.firstDayString
        var sql = entitiesCTE(plan: plan, month: month, principal: principal, filter: filter)
        sql.append(", cur AS (")
        sql.append(progressRows(plan: plan, version: version, month: "\(m)::date", statuses: false, milestones: true))
        sql.append(")")
        sql.append(scheduleCTEs(plan: plan, version: version, month: "\(m)::date", source: "cur"))
        // The previous month counts the entities that were enrolled then, as its own dashboard did.
        sql.append(", ent_prev AS (SELECT entity_code FROM ent WHERE entity_code IN (SELECT x.entity_code FROM enrolled_at(\(plan), \(prev)::date) x)), prv AS (")
        sql.append(progressRows(plan: plan, version: version, month: "\(prev)::date", entCTE: "ent_prev",
                                              statuses: false))
        sql.append("""
            ),
            asg AS (
              SELECT a.person_id, a.entity_code FROM assigned_at(\(plan), \(m)::date) a JOIN ent ON ent.entity_code = a.entity_code
            ),
            deadline AS (
              SELECT ((\(m)::date + interval '1 month' + make_interval(days => pl.on_time_day))::timestamp
                      AT TIME ZONE 'America/Bogota') AS at
                FROM plans pl WHERE pl.code = \(plan)
            ),
            ases AS (
              SELECT s.person_id, count(*)::int AS n FROM asesorias s
               WHERE s.held_on >= \(m)::date AND s.held_on < (\(m)::date + interval '1 month')
                 AND (s.plan_code IS NULL OR s.plan_code = \(plan))
               GROUP BY s.person_id
            )
            SELECT p.id, p.name, p.partner_code, count(*)::int AS entity_count,
                   avg(cur.total)::text AS mean, avg(prv.total)::text AS prev_mean,
                   count(*) FILTER (WHERE r.first_received_at < (SELECT at FROM deadline))::int AS on_time,
                   count(*) FILTER (WHERE r.first_received_at >= (SELECT at FROM deadline))::int AS late,
                   count(*) FILTER (WHERE r.first_received_at IS NULL)::int AS missing,
                   COALESCE(max(ases.n), 0)::int AS asesorias,
                   avg(sc.expected - cur.total)::text AS mean_lag,
                   count(*) FILTER (WHERE sc.overdue_count > 0)::int AS behind
              FROM asg
              JOIN people p ON p.id = asg.person_id
              LEFT JOIN cur ON cur.entity_code = asg.entity_code
              LEFT JOIN sched sc ON sc.entity_code = asg.entity_code
              LEFT JOIN prv ON prv.entity_code = asg.entity_code
              LEFT JOIN reports r ON r.plan_code = \(plan) AND r.entity_code = asg.entity_code AND r.period = \(m)::date
              LEFT JOIN ases ON ases.person_id = p.id
             GROUP BY p.id, p.name, p.partner_code
             ORDER BY avg(cur.total) DESC NULLS LAST, p.id
            """)
        return try run(conn, g, sql).map { r in
            RankingRow(personId: try r.decode("id"), name: try r.decode("name"), partnerCode: try r.decode("partner_code"),
                       entityCount: try r.decode("entity_count"),
                       mean: try r.decode("mean", as: Decimal?.self),
                       previousMean: try r.decode("prev_mean", as: Decimal?.self),
                       onTime: try r.decode("on_time"), late: try r.decode("late"), missing: try r.decode("missing"),
                       asesorias: try r.decode("asesorias"),
                       meanLag: try r.decode("mean_lag", as: Decimal?.self),
                       behind: try r.decode("behind"))
        }
    }

    /// One entity's progress as of a month, with what the route needs to answer, in one statement.
    struct OneEntity: Sendable {
        var code: String
        var name: String
        var enrolled: Bool
        var visible: Bool
        var total: Decimal?
        var phases: [String: Decimal?]
        var completed: [String: Bool]
        var milestones: [(code: String, status: String, reportedIn: String?)]
        var schedule: ScheduleFigures = ScheduleFigures()
        /// Each milestone's effective due date (catalog order, `YYYY-MM-DD`), nil when never due.
        var dueOn: [String?] = []
    }

    /// Nil when the entity does not exist. The figures come from the maintained rows; each milestone's
    /// status carries the month it was last reported.
    static func entityProgress(_ conn: Connection, guard g: StatementGuard? = nil, plan: String, version: Int,
                               phases: [String], month: Period, entity: String, principal: Principal) throws -> OneEntity? {
        let m: SQL = "\(month.firstDayString)::date"
        var sql: SQL = "WITH ent AS (SELECT \(entity)::text AS entity_code), prog AS ("
        sql.append(progressRows(plan: plan, version: version, month: m, milestones: true))
        sql.append(")")
        sql.append(scheduleCTEs(plan: plan, version: version, month: m, source: "prog"))
        sql.append("""

            SELECT e.code, e.name, sc.eff_dates,
            """)
        sql.append(scheduleColumns)
        sql.append("""
            ,
                   EXISTS (SELECT 1 FROM enrolled_at(\(plan), \(m)) x WHERE x.entity_code = e.code) AS enrolled,
                   (
            """)
        sql.append(Scope.condition(for: principal, entityColumn: "e.code", plan: plan, month: m))
        sql.append("""
            )::bool AS visible,
                   p.total::text AS total, p.pp::text[] AS pp_text, p.pc::text[] AS pc_text,
                   ARRAY(SELECT pm.code FROM plan_milestones pm WHERE pm.plan_code = \(plan) AND pm.version = \(version) ORDER BY pm.position) AS ms_codes,
                   ARRAY(SELECT COALESCE(p.statuses ->> pm.code, 'not_started') FROM plan_milestones pm
                          WHERE pm.plan_code = \(plan) AND pm.version = \(version) ORDER BY pm.position) AS ms_statuses,
                   ARRAY(SELECT COALESCE(to_char(s.period, 'YYYY-MM'), '') FROM plan_milestones pm
                           LEFT JOIN milestone_statuses_at(\(plan), \(m), ARRAY[e.code]) s ON s.milestone_code = pm.code
                          WHERE pm.plan_code = \(plan) AND pm.version = \(version) ORDER BY pm.position) AS ms_reported
              FROM entities e JOIN prog p ON p.entity_code = e.code
              LEFT JOIN sched sc ON sc.entity_code = e.code
             WHERE e.code = \(entity)
            """)
        guard let r = try run(conn, g, sql).first else { return nil }
        let (progress, completed) = try decodePhaseArrays(r, codes: phases)
        let codes: [String] = try r.decode("ms_codes")
        let statuses: [String] = try r.decode("ms_statuses")
        let reported: [String] = try r.decode("ms_reported")
        return OneEntity(
            code: try r.decode("code"), name: try r.decode("name"), enrolled: try r.decode("enrolled"),
            visible: try r.decode("visible"),
            total: try r.decode("total", as: Decimal?.self),
            phases: progress, completed: completed,
            milestones: codes.indices.map { (codes[$0], statuses[$0], reported[$0].isEmpty ? nil : reported[$0]) },
            schedule: try ScheduleFigures(r),
            dueOn: (try r.decode("eff_dates", as: [String]?.self) ?? []).map { $0.isEmpty ? nil : $0 })
    }
}
