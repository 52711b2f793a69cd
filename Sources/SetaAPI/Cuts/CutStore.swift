// SQL of cuts (cortes): take one (entities, groups, locks in one transaction), read, export and compare.
import Foundation
import SetaDatabase
import SetaDomain

enum CutStore {
    struct CutRow: Sendable {
        var id: Int64
        var plan: String
        var period: Period
        var label: String
        var catalogVersion: Int
        var createdAt: Date
        var createdBy: Int64?
    }

    /// How each group kind reads its key and name from the frozen entity rows of a cut.
    static func frozenGroupColumns(_ kind: GroupKind) -> (key: String, name: String) {
        switch kind {
        case .national: return ("'national'::text", "'Nacional'::text")
        case .regions: return ("ce.region_code", "ce.region_name")
        case .departments: return ("ce.department_code", "ce.department_name")
        case .advisors: return ("ce.advisor_id::text", "ce.advisor_name")
        case .partners: return ("ce.partner_code", "(SELECT pa.name FROM partners pa WHERE pa.code = ce.partner_code)")
        case .entityTypes: return ("ce.entity_type", "ce.entity_type")
        }
    }

    /// Takes a cut: freezes every enrolled entity's progress, the group results and the catalog version,
    /// and locks the months up to the cut's. Returns the new id and the months it locked.
    static func take(_ conn: Connection, catalog: PlanCatalog, period: Period, label: String, by person: Int64,
                     now: Date) throws -> (Int64, [String]) {
        let m = period.firstDayString
        let id: Int64 = try conn.query("""
            INSERT INTO cuts (plan_code, period, label, catalog_version, created_by, created_at)
            VALUES (\(catalog.code), \(m)::date, \(label), \(catalog.version), \(person), \(now)) RETURNING id
            """).rows[0].decode("id")
        // Lock first, then read: the exclusive month locks wait for report writes in flight, so none can land
        // in a covered month after the cut has read it. A cut locks every month up to its own that has reports
        // or enrollments: with carry-forward, an edit to an earlier month would change what the cut froze.
        let months = try conn.query("""
            SELECT to_char(generate_series(
                       LEAST(\(m)::date, COALESCE((SELECT min(period) FROM reports WHERE plan_code = \(catalog.code)), \(m)::date),
                             COALESCE((SELECT min(from_period) FROM enrollments WHERE plan_code = \(catalog.code)), \(m)::date)),
                       \(m)::date, interval '1 month'), 'YYYY-MM') AS p
            """).rows.compactMap { Period(try $0.decode("p", as: String.self)) }
        let locked = try ReportStore.lock(conn, plan: catalog.code, periods: months, reason: "Corte «\(label)»",
                                          by: person, cutId: id, at: now).map(\.description)
        // Frozen from the maintained rows (013): the same figures the dashboards show, statuses included.
        var freeze: SQL = "WITH ent AS (SELECT entity_code FROM enrolled_at(\(catalog.code), \(m)::date)), prog AS ("
        freeze.append(ProgressStore.progressRows(plan: catalog.code, version: catalog.version, month: "\(m)::date",
                                                 milestones: true))
        freeze.append(")")
        // The schedule as of the cut's month (expected progress, overdue milestones), frozen with the figures.
        freeze.append(ProgressStore.scheduleCTEs(plan: catalog.code, version: catalog.version, month: "\(m)::date", source: "prog"))
        freeze.append("""

            INSERT INTO cut_entities (cut_id, entity_code, entity_name, entity_type, department_code, department_name,
                                      region_code, region_name, advisor_id, advisor_name, partner_code,
                                      total, phases, completed, milestones, expected, overdue)
            SELECT \(id), e.code, e.name, e.type, e.department_code, d.name, r.region_code, rg.name,
                   a.person_id, pe.name, pe.partner_code, p.total,
                   (SELECT jsonb_object_agg(c.code, c.v) FROM unnest(\(catalog.phases.map(\.code))::text[], p.pp) AS c(code, v)),
                   (SELECT jsonb_object_agg(c.code, c.v) FROM unnest(\(catalog.phases.map(\.code))::text[], p.pc) AS c(code, v)),
                   p.statuses, sc.expected, sc.overdue
              FROM prog p
              LEFT JOIN sched sc ON sc.entity_code = p.entity_code
              JOIN entities e ON e.code = p.entity_code
              JOIN departments d ON d.code = e.department_code
              LEFT JOIN entity_regions_at(\(m)::date) r ON r.entity_code = e.code
              LEFT JOIN regions rg ON rg.code = r.region_code
              LEFT JOIN assigned_at(\(catalog.code), \(m)::date) a ON a.entity_code = e.code
              LEFT JOIN people pe ON pe.id = a.person_id
            """)
        try conn.execute(freeze)
        // Each kind's groups with the live roll-up (`ProgressStore.rollUp`) over the rows just frozen: summary,
        // phase and milestone shares and stages (momentos), kept as the group's JSON, read back as they were.
        for kind in GroupKind.allCases {
            var sql = frozenRowsCTE(cut: id, kind: kind, catalog: catalog)
            sql.append(ProgressStore.rollUp(catalog))
            sql.append("""
                ) INSERT INTO cut_groups (cut_id, group_kind, group_key, group_name, summary)
                  SELECT \(id), \(kind.rawValue), agg.gkey, agg.gname, to_jsonb(agg) FROM agg WHERE agg.gkey IS NOT NULL
                """)
            try conn.execute(sql)
        }
        // Group sets (issue 15): the roll-ups of every set that exists now, kept even if the set is deleted later.
        try GroupSetStore.freeze(conn, cut: id, period: period, catalog: catalog)
        return (id, locked)
    }

    static func cut(_ conn: Connection, id: Int64) throws -> CutRow? {
        try conn.query("""
            SELECT id, plan_code, to_char(period, 'YYYY-MM') AS period, label, catalog_version, created_at, created_by
              FROM cuts WHERE id = \(id)
            """).rows.first.map(cutRow)
    }

    static func requireCut(_ conn: Connection, id text: String, field: String = "id") throws -> CutRow {
        guard let id = Int64(text), id > 0, let c = try cut(conn, id: id) else {
            throw StoreError(kind: .notFound, detail: "No existe el corte «\(text)».",
                             errors: [FieldError(field: field, message: "Corte desconocido.", found: text)])
        }
        return c
    }

    /// The catalog version a cut froze its figures with (404 if it went missing: versions are never deleted).
    static func catalog(_ conn: Connection, of cut: CutRow) throws -> PlanCatalog {
        guard let catalog = try CatalogStore.catalog(conn, code: cut.plan, version: cut.catalogVersion) else {
            throw StoreError.notFound("Falta la versión \(cut.catalogVersion) del plan \(cut.plan).")
        }
        return catalog
    }

    /// Holds the plan's row until the transaction ends, so two cuts of one plan never interleave their locks.
    static func serializeCuts(_ conn: Connection, plan: String) throws {
        try conn.execute("SELECT 1 FROM plans WHERE code = \(plan) FOR UPDATE")
    }

    static func cuts(_ conn: Connection, plan: String?) throws -> [CutRow] {
        try conn.query("""
            SELECT id, plan_code, to_char(period, 'YYYY-MM') AS period, label, catalog_version, created_at, created_by
              FROM cuts WHERE (\(plan)::text IS NULL OR plan_code = \(plan)) ORDER BY id
            """).rows.map(cutRow)
    }

    static func cutRow(_ r: Row) throws -> CutRow {
        CutRow(id: try r.decode("id"), plan: try r.decode("plan_code"),
               period: Period(try r.decode("period", as: String.self))!, label: try r.decode("label"),
               catalogVersion: try r.decode("catalog_version"), createdAt: try r.decode("created_at"),
               createdBy: try r.decode("created_by"))
    }

    /// The name of the person who took a cut (for the export's Ficha).
    static func personName(_ conn: Connection, id: Int64) throws -> String? {
        try conn.query("SELECT name FROM people WHERE id = \(id)").rows.first?.decode("name")
    }

    struct FrozenEntity: Sendable {
        var code, name, type, departmentCode, departmentName: String
        var regionCode, regionName, advisorName, partnerCode: String?
        var advisorId: Int64?
        var total: Decimal?
        var phases: [String: Decimal?]
        var milestones: [String: String]
    }

    /// One entity of a cut as exports write it: phase figures and milestone statuses in the catalog's order.
    struct ExportRow: Sendable {
        var entity: FrozenEntity
        var phases: [Decimal?]
        var milestones: [String?]
        /// The frozen schedule (017): expected progress, lag (expected − total) and the overdue milestones' codes.
        /// Nil / empty for cuts taken before the schedule existed.
        var expected: Decimal? = nil
        var lag: Decimal? = nil
        var overdue: [String] = []
    }

    /// Every entity of a cut for an export, in code order. Each phase and milestone is its own column
    /// (`phases ->> 'F1'`, codes bound), so PostgreSQL does no per-row subquery and Swift parses no array
    /// literal: this is the national export's hot path (issue 12: within 3 × a COPY of the same rows).
    static func exportRows(_ conn: Connection, cut: Int64, phaseCodes: [String], milestoneCodes: [String],
                           visit: (ExportRow) throws -> Void) throws {
        var sql: SQL = """
            SELECT entity_code, entity_name, entity_type, department_code, department_name, region_code, region_name,
                   advisor_id, advisor_name, partner_code, total::text AS total,
                   round(expected, 2)::text AS expected, round(expected - total, 2)::text AS lag, overdue
            """
        // Rounded to two decimals in SQL (round(numeric) is half away from zero, as the exports round), so the
        // figures are short and parse on the fast path of the numeric reader (`PostgresNumeric.plain`).
        for (i, code) in phaseCodes.enumerated() {
            sql.append(", round((phases ->> \(code))::numeric, 2)::text")
            sql.append(SQL(unsafe: " AS p\(i)"))
        }
        for (i, code) in milestoneCodes.enumerated() {
            sql.append(", milestones ->> \(code)")
            sql.append(SQL(unsafe: " AS m\(i)"))
        }
        sql.append(" FROM cut_entities WHERE cut_id = \(cut) ORDER BY entity_code")
        for r in try conn.query(sql).rows {
            let entity = try frozenEntity(r, phases: [:], milestones: [:])
            let phases = try phaseCodes.indices.map { i in
                try r.decode("p\(i)", as: Decimal?.self)
            }
            let milestones = try milestoneCodes.indices.map { i in try r.decode("m\(i)", as: String?.self) }
            try visit(ExportRow(entity: entity, phases: phases, milestones: milestones,
                                expected: try r.decode("expected", as: Decimal?.self),
                                lag: try r.decode("lag", as: Decimal?.self),
                                overdue: try r.decode("overdue", as: [String]?.self) ?? []))
        }
    }

    /// Every entity of a cut, in code order; `visit` is called row by row.
    static func entities(_ conn: Connection, cut: Int64, visit: (FrozenEntity) throws -> Void) throws {
        let rows = try conn.query("""
            SELECT entity_code, entity_name, entity_type, department_code, department_name, region_code, region_name,
                   advisor_id, advisor_name, partner_code, total::text AS total,
                   \(unsafe: ProgressStore.phaseArrays("")),
                   ARRAY(SELECT k FROM jsonb_object_keys(milestones) k ORDER BY k) AS milestone_codes,
                   ARRAY(SELECT milestones ->> k FROM jsonb_object_keys(milestones) k ORDER BY k) AS milestone_values
              FROM cut_entities WHERE cut_id = \(cut) ORDER BY entity_code
            """).rows
        for r in rows {
            let mc: [String] = try r.decode("milestone_codes"), mv: [String] = try r.decode("milestone_values")
            let phases = try ProgressStore.decodePhases(r).progress
            try visit(try frozenEntity(r, phases: phases, milestones: Dictionary(uniqueKeysWithValues: zip(mc, mv))))
        }
    }

    /// A `cut_entities` row's columns (`total` as text) as a `FrozenEntity`, with the phases and milestones read apart.
    static func frozenEntity(_ r: Row, phases: [String: Decimal?], milestones: [String: String]) throws -> FrozenEntity {
        FrozenEntity(
            code: try r.decode("entity_code"), name: try r.decode("entity_name"), type: try r.decode("entity_type"),
            departmentCode: try r.decode("department_code"), departmentName: try r.decode("department_name"),
            regionCode: try r.decode("region_code"), regionName: try r.decode("region_name"),
            advisorName: try r.decode("advisor_name"), partnerCode: try r.decode("partner_code"),
            advisorId: try r.decode("advisor_id"),
            total: try r.decode("total", as: Decimal?.self),
            phases: phases, milestones: milestones)
    }
}
