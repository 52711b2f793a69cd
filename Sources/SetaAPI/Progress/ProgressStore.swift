// SQL of progress as of a month: one entity, tables of entities, and group roll-ups (SPEC rules 1–5).
import Foundation
import SetaDatabase
import SetaDomain

/// The groups of SPEC rule 5 and how an entity maps to one as of a month.
enum GroupKind: String, CaseIterable, Sendable {
    case national, regions, departments, advisors, partners
    case entityTypes = "entity-types"

    /// SQL selecting (entity_code, gkey, gname) for the entities of `ent`; values bound, month as $m.
    func membership(month: String) -> SQL {
        switch self {
        case .national:
            return "SELECT ent.entity_code, 'national'::text AS gkey, 'Nacional'::text AS gname FROM ent"
        case .regions:
            return """
                SELECT ent.entity_code, r.region_code AS gkey, rg.name AS gname
                  FROM ent JOIN entity_regions_at(\(month)::date) r ON r.entity_code = ent.entity_code
                  JOIN regions rg ON rg.code = r.region_code
                """
        case .departments:
            return """
                SELECT ent.entity_code, e.department_code AS gkey, d.name AS gname
                  FROM ent JOIN entities e ON e.code = ent.entity_code JOIN departments d ON d.code = e.department_code
                """
        case .entityTypes:
            return "SELECT ent.entity_code, e.type AS gkey, e.type AS gname FROM ent JOIN entities e ON e.code = ent.entity_code"
        case .advisors:
            return """
                SELECT ent.entity_code, a.person_id::text AS gkey, p.name AS gname
                  FROM ent JOIN assignments a ON a.entity_code = ent.entity_code AND a.plan_code = (SELECT plan FROM params)
                   AND a.from_period <= \(month)::date AND (a.to_period IS NULL OR a.to_period >= \(month)::date)
                  JOIN people p ON p.id = a.person_id
                """
        case .partners:
            return """
                SELECT ent.entity_code, p.partner_code AS gkey, pa.name AS gname
                  FROM ent JOIN assignments a ON a.entity_code = ent.entity_code AND a.plan_code = (SELECT plan FROM params)
                   AND a.from_period <= \(month)::date AND (a.to_period IS NULL OR a.to_period >= \(month)::date)
                  JOIN people p ON p.id = a.person_id JOIN partners pa ON pa.code = p.partner_code
                """
        }
    }
}

/// Filters a reader may add to any progress query (always within their scope).
struct ProgressFilter: Sendable {
    var region: String?
    var department: String?
    var advisor: Int64?
    var type: String?
}

struct GroupResult: Sendable {
    var key: String
    var name: String
    var summary: GroupSummary
}

enum ProgressStore {
    /// `params` and `ent` CTEs: the plan, the month and the enrolled entities the reader may see.
    static func entitiesCTE(plan: String, month: Period, principal: Principal, filter: ProgressFilter) -> SQL {
        let m = month.firstDayString
        var sql: SQL = """
            WITH params AS (SELECT \(plan)::text AS plan),
            ent AS (
              SELECT en.entity_code FROM enrolled_at(\(plan), \(m)::date) en
               WHERE
            """
        sql.append(" ")
        sql.append(Scope.condition(for: principal, entityColumn: "en.entity_code", plan: plan, month: month))
        if let r = filter.region {
            sql.append(" AND en.entity_code IN (SELECT x.entity_code FROM entity_regions_at(\(m)::date) x WHERE x.region_code = \(r))")
        }
        if let d = filter.department {
            sql.append(" AND en.entity_code IN (SELECT x.code FROM entities x WHERE x.department_code = \(d))")
        }
        if let t = filter.type {
            sql.append(" AND en.entity_code IN (SELECT x.code FROM entities x WHERE x.type = \(t))")
        }
        if let a = filter.advisor {
            sql.append("""
                 AND en.entity_code IN (SELECT x.entity_code FROM assignments x WHERE x.plan_code = \(plan) AND x.person_id = \(a)
                 AND x.from_period <= \(m)::date AND (x.to_period IS NULL OR x.to_period >= \(m)::date))
                """)
        }
        sql.append(")")
        return sql
    }

    /// The group aggregation over a CTE `rows_` (entity_code, entity_name, total, phases, completed, gkey, gname),
    /// shared by live dashboards and cuts so both compute a group the same way: these CTEs, then `aggregateSelect`.
    static let aggregateCTEs = SQL(unsafe: """
        , stats AS (
            SELECT r.*, min(r.total) OVER w AS gmin, max(r.total) OVER w AS gmax
              FROM rows_ r WINDOW w AS (PARTITION BY r.gkey)
        ), share AS (
            SELECT r.gkey, ph.key AS phase,
                   (100 * count(*) FILTER (WHERE (r.completed ->> ph.key)::boolean))::numeric / count(*) AS share
              FROM rows_ r CROSS JOIN LATERAL jsonb_each(r.phases) ph
             WHERE jsonb_typeof(ph.value) <> 'null'
             GROUP BY r.gkey, ph.key
        ), shares AS (
            SELECT gkey, array_agg(phase ORDER BY phase) AS share_phases, array_agg(share::text ORDER BY phase) AS share_values
              FROM share GROUP BY gkey
        )
        """)

    static let aggregateSelect = SQL(unsafe: """
        SELECT s.gkey, min(s.gname) AS gname,
               count(*)::int AS entity_count,
               count(s.total)::int AS measured_count,
               avg(s.total)::text AS mean,
               count(*) FILTER (WHERE s.total = 100)::int AS at_hundred,
               min(s.total)::text AS min, max(s.total)::text AS max,
               array_agg(s.entity_code ORDER BY s.entity_code) FILTER (WHERE s.total = s.gmin) AS lowest,
               array_agg(s.entity_code ORDER BY s.entity_code) FILTER (WHERE s.total = s.gmax) AS highest,
               COALESCE(sh.share_phases, '{}') AS share_phases, COALESCE(sh.share_values, '{}') AS share_values
          FROM stats s LEFT JOIN shares sh ON sh.gkey = s.gkey
         GROUP BY s.gkey, sh.share_phases, sh.share_values
         ORDER BY s.gkey
        """)

    /// Brings the stored snapshot of (plan, version, month) up to date with the plan's data stamp
    /// (`Schema/010_progress_snapshots.sql`); recomputed only after reports or enrollments changed.
    static func ensureSnapshot(_ conn: Connection, plan: String, version: Int, month: Period) throws {
        try conn.query("SELECT ensure_progress_snapshot(\(plan), \(version), \(month.firstDayString)::date) AS stamp")
    }

    /// Groups in key order; keys that are numbers (advisor ids) in numeric order (9, 10, 100), not as text.
    static func decodeGroups(_ rows: [Row]) throws -> [GroupResult] {
        try rows.map { r in
            let phases: [String] = try r.decode("share_phases")
            let values: [String] = try r.decode("share_values")
            var shares: [String: Decimal] = [:]
            for (p, v) in zip(phases, values) { shares[p] = Decimal(exactText: v) }
            let summary = GroupSummary(
                entityCount: try r.decode("entity_count"), measuredCount: try r.decode("measured_count"),
                meanProgress: try r.decode("mean", as: String?.self).flatMap { Decimal(exactText: $0) },
                atHundred: try r.decode("at_hundred"), phaseCompletionShare: shares,
                min: try r.decode("min", as: String?.self).flatMap { Decimal(exactText: $0) },
                max: try r.decode("max", as: String?.self).flatMap { Decimal(exactText: $0) },
                lowest: try r.decode("lowest", as: [String]?.self) ?? [],
                highest: try r.decode("highest", as: [String]?.self) ?? [])
            return GroupResult(key: try r.decode("gkey"), name: try r.decode("gname", as: String?.self) ?? "", summary: summary)
        }.sorted { a, b in
            if let x = Int64(a.key), let y = Int64(b.key) { return x < y }
            return a.key < b.key
        }
    }

    /// The columns of one group result stored as JSON (cuts and the group cache), for `jsonb_to_recordset`.
    static let groupRecordColumns = """
        gkey text, gname text, entity_count int, measured_count int, mean text, at_hundred int, min text, max text,
        lowest text[], highest text[], share_phases text[], share_values text[]
        """

    /// Who sees what, as a cache key: readers with the same scope share results.
    static func scopeKey(_ p: Principal) -> String {
        switch p.role {
        case .central: return "all"
        case .coordinator: return "regions:" + p.regions.sorted().joined(separator: ",")
        case .advisor: return "advisor:\(p.personId)"
        case .viewer:
            return "viewer:" + p.regions.sorted().joined(separator: ",") + "|" + (p.limitedToPartner ? (p.partnerCode ?? "-") : "")
        }
    }

    /// Group roll-up as of a month, in one statement. Unfiltered roll-ups (the dashboards) are kept in
    /// `progress_group_cache` with the stamps read in the same statement as the data, and served from there
    /// while neither the plan's data nor any membership changed.
    static func groups(_ conn: Connection, kind: GroupKind, plan: String, version: Int, month: Period,
                       principal: Principal, filter: ProgressFilter) throws -> [GroupResult] {
        let m = month.firstDayString
        let cacheable = filter.region == nil && filter.department == nil && filter.type == nil && filter.advisor == nil
        let key = "\(kind.rawValue)|\(plan)|\(version)|\(m)|\(scopeKey(principal))"
        if cacheable {
            var hit: SQL = """
                SELECT c.cache_key, s.* FROM progress_group_cache c
                  LEFT JOIN LATERAL jsonb_to_recordset(c.result) AS s(
                """
            hit.append(SQL(unsafe: groupRecordColumns))
            hit.append("""
                ) ON true
                 WHERE c.cache_key = \(key)
                   AND c.progress_stamp = COALESCE((SELECT stamp FROM progress_stamps WHERE plan_code = \(plan)), 0)
                   AND c.membership_stamp = (SELECT stamp FROM membership_stamp WHERE id = 1)
                 ORDER BY s.gkey
                """)
            let rows = try conn.query(hit).rows
            if !rows.isEmpty {
                return try decodeGroups(rows.filter { try !$0.isNull("gkey") })
            }
        }
        // A miss: bring the entity snapshot up to date, then roll it up (and keep the result when cacheable).
        try ensureSnapshot(conn, plan: plan, version: version, month: month)
        var sql = entitiesCTE(plan: plan, month: month, principal: principal, filter: filter)
        sql.append("""
            , stamps AS (
              SELECT COALESCE((SELECT stamp FROM progress_stamps WHERE plan_code = \(plan)), 0) AS ps,
                     (SELECT stamp FROM membership_stamp WHERE id = 1) AS ms
            ), prog AS (
              SELECT s.entity_code, s.total, s.phases, s.completed FROM progress_snapshots s JOIN ent ON ent.entity_code = s.entity_code
               WHERE s.plan_code = \(plan) AND s.version = \(version) AND s.month = \(m)::date
            ), grp AS (
            """)
        sql.append(kind.membership(month: m))
        sql.append("""
            ), rows_ AS (
              SELECT g.entity_code, e.name AS entity_name, p.total, p.phases, p.completed, g.gkey, g.gname
                FROM grp g JOIN prog p ON p.entity_code = g.entity_code JOIN entities e ON e.code = g.entity_code
            )
            """)
        sql.append(aggregateCTEs)
        sql.append(", agg AS (")
        sql.append(aggregateSelect)
        sql.append(")")
        if cacheable {
            sql.append("""
                , store AS (
                  INSERT INTO progress_group_cache (cache_key, progress_stamp, membership_stamp, result)
                  SELECT \(key), stamps.ps, stamps.ms, COALESCE((SELECT jsonb_agg(to_jsonb(agg)) FROM agg), '[]'::jsonb) FROM stamps
                  ON CONFLICT (cache_key) DO UPDATE SET progress_stamp = EXCLUDED.progress_stamp,
                     membership_stamp = EXCLUDED.membership_stamp, result = EXCLUDED.result, computed_at = now()
                )
                """)
        }
        sql.append(" SELECT * FROM agg ORDER BY gkey")
        return try decodeGroups(try conn.query(sql).rows)
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
            progress[c] = .some(Decimal(exactText: values[i]))
            completed[c] = done[i] == "true"
        }
        return (progress, completed)
    }

    struct EntityRow: Sendable {
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
    }

    enum EntitySort: String, CaseIterable, Sendable {
        case total, code, name
    }

    /// The entity table as of a month, sorted and paginated in SQL.
    static func entities(_ conn: Connection, plan: String, version: Int, month: Period, principal: Principal,
                         filter: ProgressFilter, sort: EntitySort, descending: Bool, limit: Int, offset: Int,
                         entityCodes: [String]? = nil) throws -> (rows: [EntityRow], total: Int) {
        let m = month.firstDayString
        try ensureSnapshot(conn, plan: plan, version: version, month: month)
        var sql = entitiesCTE(plan: plan, month: month, principal: principal, filter: filter)
        if let codes = entityCodes {
            sql.append(", ent2 AS (SELECT entity_code FROM ent WHERE entity_code = ANY(\(codes)::text[]))")
        } else {
            sql.append(", ent2 AS (SELECT entity_code FROM ent)")
        }
        sql.append("""
            , prog AS (
              SELECT s.entity_code, s.total, s.phases, s.completed FROM progress_snapshots s JOIN ent2 ON ent2.entity_code = s.entity_code
               WHERE s.plan_code = \(plan) AND s.version = \(version) AND s.month = \(m)::date
            )
            SELECT e.code, e.name, e.type, e.department_code, r.region_code, a.person_id, pe.name AS advisor_name,
                   pe.partner_code, p.total::text AS total,
                   \(unsafe: phaseArrays("p")),
                   count(*) OVER () AS full_count
              FROM prog p
              JOIN entities e ON e.code = p.entity_code
              LEFT JOIN entity_regions_at(\(m)::date) r ON r.entity_code = e.code
              LEFT JOIN assignments a ON a.entity_code = e.code AND a.plan_code = \(plan)
                    AND a.from_period <= \(m)::date AND (a.to_period IS NULL OR a.to_period >= \(m)::date)
              LEFT JOIN people pe ON pe.id = a.person_id
            """)
        let direction = descending ? " DESC" : " ASC"
        switch sort {
        case .total: sql.append(SQL(unsafe: " ORDER BY p.total\(direction) NULLS LAST, e.code"))
        case .code: sql.append(SQL(unsafe: " ORDER BY e.code\(direction)"))
        case .name: sql.append(SQL(unsafe: " ORDER BY e.name\(direction), e.code"))
        }
        sql.append(" LIMIT \(limit) OFFSET \(offset)")
        let rows = try conn.query(sql).rows
        var total = 0
        let out = try rows.map { r -> EntityRow in
            total = Int(try r.decode("full_count", as: Int64.self))
            let (phases, completed) = try decodePhases(r)
            return EntityRow(code: try r.decode("code"), name: try r.decode("name"), type: try r.decode("type"),
                             departmentCode: try r.decode("department_code"), regionCode: try r.decode("region_code"),
                             advisorId: try r.decode("person_id"), advisorName: try r.decode("advisor_name"),
                             partnerCode: try r.decode("partner_code"),
                             total: try r.decode("total", as: String?.self).flatMap { Decimal(exactText: $0) },
                             phases: phases, completed: completed)
        }
        if out.isEmpty && offset > 0 {
            // Past the end: still say how many there are.
            var countSQL = entitiesCTE(plan: plan, month: month, principal: principal, filter: filter)
            countSQL.append(" SELECT count(*)::int AS n FROM ent")
            total = try conn.query(countSQL).rows[0].decode("n")
        }
        return (out, total)
    }

    /// Status of every milestone of an entity as of a month, with the month it was last reported.
    static func milestoneStatuses(_ conn: Connection, plan: String, version: Int, month: Period, entity: String) throws
        -> [(code: String, status: String, reportedIn: String?)] {
        try conn.query("""
            SELECT m.code, COALESCE(s.status, 'not_started') AS status, to_char(s.period, 'YYYY-MM') AS reported_in
              FROM plan_milestones m
              LEFT JOIN milestone_statuses_at(\(plan), \(month.firstDayString)::date, ARRAY[\(entity)]::text[]) s
                ON s.milestone_code = m.code
             WHERE m.plan_code = \(plan) AND m.version = \(version)
             ORDER BY m.position
            """).rows.map { (try $0.decode("code"), try $0.decode("status"), try $0.decode("reported_in")) }
    }
}
