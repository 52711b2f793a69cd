// SQL of group sets (conjuntos de agrupación): sets and groups, membership by month, its CSV import, cut freezing.
import Foundation
import SetaDatabase
import SetaDomain

enum GroupSetStore {
    struct Group: Codable, Sendable {
        var code: String
        var name: String
        /// Entities in the group as of the month asked (lists only).
        var entityCount: Int?
    }

    struct GroupSet: Codable, Sendable {
        var code: String
        var name: String
        var description: String?
        var groups: [Group]
    }

    /// Every set (or one) with its groups and each group's member count as of `month`, in one statement.
    static func sets(_ conn: Connection, code: String? = nil, month: Period) throws -> [GroupSet] {
        let rows = try conn.query("""
            SELECT s.code, s.name, s.description,
                   COALESCE(array_agg(g.code ORDER BY g.code) FILTER (WHERE g.code IS NOT NULL), '{}') AS group_codes,
                   COALESCE(array_agg(g.name ORDER BY g.code) FILTER (WHERE g.code IS NOT NULL), '{}') AS group_names,
                   COALESCE(array_agg((SELECT count(*) FROM group_members_at(s.code, \(month.firstDayString)::date) m
                                        WHERE m.group_code = g.code)::text ORDER BY g.code) FILTER (WHERE g.code IS NOT NULL), '{}') AS counts
              FROM group_sets s LEFT JOIN group_set_groups g ON g.set_code = s.code
             WHERE (\(code)::text IS NULL OR s.code = \(code))
             GROUP BY s.code, s.name, s.description ORDER BY s.code
            """).rows
        return try rows.map { r in
            let codes: [String] = try r.decode("group_codes"), names: [String] = try r.decode("group_names")
            let counts: [String] = try r.decode("counts")
            return GroupSet(code: try r.decode("code"), name: try r.decode("name"), description: try r.decode("description"),
                            groups: codes.indices.map { Group(code: codes[$0], name: names[$0], entityCount: Int(counts[$0])) })
        }
    }

    /// Creates a set with its groups, or (`replace`) renames an existing one and adds or renames the groups
    /// given; groups not named are kept (their members too). Two statements in the caller's transaction.
    static func upsert(_ conn: Connection, code: String, name: String, description: String?, groups: [Group], replace: Bool) throws {
        if replace {
            try conn.execute("UPDATE group_sets SET name = \(name), description = \(description) WHERE code = \(code)")
        } else {
            try conn.execute("INSERT INTO group_sets (code, name, description) VALUES (\(code), \(name), \(description))")
        }
        if !groups.isEmpty {
            try conn.execute("""
                INSERT INTO group_set_groups (set_code, code, name)
                SELECT \(code), g.code, g.name FROM unnest(\(groups.map(\.code))::text[], \(groups.map(\.name))::text[]) AS g(code, name)
                ON CONFLICT (set_code, code) DO UPDATE SET name = EXCLUDED.name
                """)
        }
    }

    static func exists(_ conn: Connection, code: String) throws -> Bool {
        try !conn.query("SELECT 1 FROM group_sets WHERE code = \(code)").rows.isEmpty
    }

    /// Deletes a set, its groups and memberships. Cuts keep their frozen copy (cut_groups, cut_group_sets).
    static func delete(_ conn: Connection, code: String) throws -> Bool {
        try conn.execute("DELETE FROM group_set_members WHERE set_code = \(code)")
        return try conn.execute("DELETE FROM group_sets WHERE code = \(code)") > 0
    }

    struct Member: Codable, Sendable {
        var entity: EntityRefDTO
        var group: String
        var groupName: String
    }

    /// The members of a set as of a month (optionally one group), by group then entity code.
    static func members(_ conn: Connection, set: String, group: String?, month: Period) throws -> [Member] {
        try conn.query("""
            SELECT e.code, e.name, g.code AS group_code, g.name AS group_name
              FROM group_members_at(\(set), \(month.firstDayString)::date) m
              JOIN group_set_groups g ON g.set_code = \(set) AND g.code = m.group_code
              JOIN entities e ON e.code = m.entity_code
             WHERE (\(group)::text IS NULL OR g.code = \(group))
             ORDER BY g.code, e.code
            """).rows.map { r in
            Member(entity: EntityRefDTO(code: try r.decode("code"), name: try r.decode("name")),
                   group: try r.decode("group_code"), groupName: try r.decode("group_name"))
        }
    }

    // MARK: Import

    /// One CSV line of a membership import: `set, group, entity, from` and optionally `group_name` (creates
    /// the group when it does not exist). An empty `group` takes the entity out of the set from `from`.
    struct StagedMember: Sendable {
        var line: Int
        var set: String
        var group: String
        var groupName: String
        var entity: String
        var from: Period?
        var formatReasons: [String] = []
    }

    /// Stages, checks and (when `apply` and nothing is rejected) writes: one statement per step.
    static func importMembers(_ conn: Connection, _ rows: [StagedMember], apply: Bool) throws -> [ImportStore.Outcome] {
        try conn.execute("SET LOCAL jit = off")
        try conn.execute("""
            CREATE TEMP TABLE import_group_members (
                line int PRIMARY KEY, set_code text, group_code text, group_name text, entity text, from_period date,
                bad_format boolean NOT NULL, status text
            ) ON COMMIT DROP
            """)
        try conn.execute("""
            INSERT INTO import_group_members (line, set_code, group_code, group_name, entity, from_period, bad_format)
            SELECT * FROM unnest(\(rows.map(\.line))::int[], \(rows.map(\.set))::text[], \(rows.map { $0.group.isEmpty ? nil : $0.group })::text[],
                                 \(rows.map { $0.groupName.isEmpty ? nil : $0.groupName })::text[], \(rows.map(\.entity))::text[],
                                 \(rows.map { $0.from?.firstDayString })::date[], \(rows.map { !$0.formatReasons.isEmpty })::boolean[])
            """)
        let outcomes = try ImportStore.classify(conn, table: "import_group_members", checks: """
                SELECT s.line, s.bad_format, cur.group_code AS cur_group, cur.found,
                       array_remove(ARRAY[
                         CASE WHEN NOT EXISTS (SELECT 1 FROM group_sets x WHERE x.code = s.set_code)
                              THEN 'set: conjunto desconocido «' || s.set_code || '»' END,
                         CASE WHEN s.group_code IS NOT NULL AND s.group_name IS NULL
                               AND EXISTS (SELECT 1 FROM group_sets x WHERE x.code = s.set_code)
                               AND NOT EXISTS (SELECT 1 FROM group_set_groups x WHERE x.set_code = s.set_code AND x.code = s.group_code)
                              THEN 'group: grupo desconocido «' || s.group_code || '» en el conjunto «' || s.set_code
                                   || '» (dé group_name para crearlo)' END,
                         CASE WHEN s.group_code IS NOT NULL AND s.group_code !~ '^[A-Za-z0-9_-]{1,60}$'
                              THEN 'group: el código «' || s.group_code || '» admite letras, dígitos, _ y - (hasta 60)' END,
                         CASE WHEN NOT EXISTS (SELECT 1 FROM entities e WHERE e.code = s.entity)
                              THEN 'entity: código DANE desconocido «' || s.entity || '»' END,
                         (SELECT 'entity: repite la línea ' || min(o.line) FROM import_group_members o
                           WHERE o.line < s.line AND o.set_code = s.set_code AND o.entity = s.entity
                             AND o.from_period IS NOT DISTINCT FROM s.from_period HAVING count(*) > 0)
                       ], NULL) AS reasons
                  FROM import_group_members s
                  LEFT JOIN LATERAL (SELECT m.group_code, true AS found FROM group_set_members m
                                      WHERE m.set_code = s.set_code AND m.entity_code = s.entity AND m.valid_from = s.from_period) cur ON true
            """, verdict: """
                WHEN c.found IS NULL THEN 'created'
                WHEN c.cur_group IS NOT DISTINCT FROM s.group_code THEN 'ignored'
                ELSE 'updated'
                """, lines: rows.map { ($0.line, $0.formatReasons) })
        if apply && !outcomes.contains(where: { $0.status == .rejected }) {
            try conn.execute("""
                INSERT INTO group_set_groups (set_code, code, name)
                SELECT DISTINCT ON (set_code, group_code) set_code, group_code, group_name FROM import_group_members
                 WHERE group_code IS NOT NULL AND group_name IS NOT NULL ORDER BY set_code, group_code, line
                ON CONFLICT (set_code, code) DO UPDATE SET name = EXCLUDED.name
                """)
            try conn.execute("""
                INSERT INTO group_set_members (set_code, entity_code, valid_from, group_code)
                SELECT set_code, entity, from_period, group_code FROM import_group_members WHERE status IN ('created', 'updated')
                ON CONFLICT (set_code, entity_code, valid_from) DO UPDATE SET group_code = EXCLUDED.group_code, recorded_at = now()
                """)
        }
        return outcomes
    }

    // MARK: Shipped data

    static let pndSetCode = "regiones-pnd"

    /// The group set `regiones-pnd`: the PND regions of the DIVIPOLA file as seeded (each department's region
    /// "since always", 1900-01), one group per region, every entity by its department. Later region moves do not
    /// change it: it is the regionalization as published. Run when the entities are first seeded; migration 018
    /// writes the same into databases seeded before it.
    static func seedPNDRegions(_ conn: Connection) throws {
        try conn.execute("""
            INSERT INTO group_sets (code, name, description)
            VALUES (\(pndSetCode), 'Regiones PND 2018-2022',
                    'Las 6 regiones del Plan Nacional de Desarrollo según el archivo DIVIPOLA que SETA distribuye (Data/divipola-municipios.csv).')
            ON CONFLICT DO NOTHING
            """)
        try conn.execute("""
            INSERT INTO group_set_groups (set_code, code, name)
            SELECT DISTINCT \(pndSetCode), r.code, r.name FROM department_regions dr JOIN regions r ON r.code = dr.region_code
             WHERE dr.valid_from = DATE '1900-01-01'
            ON CONFLICT DO NOTHING
            """)
        try conn.execute("""
            INSERT INTO group_set_members (set_code, entity_code, valid_from, group_code)
            SELECT \(pndSetCode), e.code, DATE '1900-01-01', dr.region_code
              FROM entities e JOIN department_regions dr ON dr.department_code = e.department_code AND dr.valid_from = DATE '1900-01-01'
            ON CONFLICT DO NOTHING
            """)
    }

    // MARK: Cuts

    /// Freezes the roll-ups of every set that exists when a cut is taken, from the cut's own frozen entity rows
    /// and the sets' membership at the cut's month: the same aggregation as the cut's other groups. Two statements.
    static func freeze(_ conn: Connection, cut: Int64, period: Period, catalog: PlanCatalog) throws {
        let m = period.firstDayString
        try conn.execute("INSERT INTO cut_group_sets (cut_id, set_code, set_name) SELECT \(cut), code, name FROM group_sets")
        // The same roll-up as the six kinds (`ProgressStore.rollUp` over the frozen rows), so a set's frozen groups
        // carry milestone shares, stages and the schedule like theirs. Memberships are resolved once per set.
        let join: SQL = """
            JOIN (SELECT gs.set_code, gm.entity_code, gm.group_code, gg.name
                    FROM cut_group_sets gs
                   CROSS JOIN LATERAL group_members_at(gs.set_code, \(m)::date) gm
                    JOIN group_set_groups gg ON gg.set_code = gs.set_code AND gg.code = gm.group_code
                   WHERE gs.cut_id = \(cut)) sm ON sm.entity_code = ce.entity_code
            """
        var sql = CutStore.frozenRowsCTE(cut: cut, kind: .national, catalog: catalog,
                                         groups: (key: "sm.set_code || '|' || sm.group_code", name: "sm.name", join: join))
        sql.append(ProgressStore.rollUp(catalog))
        sql.append("""
            ) INSERT INTO cut_groups (cut_id, group_kind, group_key, group_name, summary)
              SELECT \(cut), 'set:' || split_part(agg.gkey, '|', 1), split_part(agg.gkey, '|', 2), agg.gname,
                     to_jsonb(agg) || jsonb_build_object('gkey', split_part(agg.gkey, '|', 2))
                FROM agg
            """)
        try conn.execute(sql)
    }

    /// The sets a cut froze (code and name as they were).
    static func frozenSets(_ conn: Connection, cut: Int64) throws -> [(code: String, name: String)] {
        try conn.query("SELECT set_code, set_name FROM cut_group_sets WHERE cut_id = \(cut) ORDER BY set_code").rows.map {
            (try $0.decode("set_code"), try $0.decode("set_name"))
        }
    }

    /// The frozen groups of one set of a cut; nil when the cut did not freeze that set.
    static func frozenGroups(_ conn: Connection, cut: Int64, set: String) throws -> (name: String, groups: [GroupResult])? {
        var sql: SQL = """
            SELECT gs.set_name, s.* FROM cut_group_sets gs
              LEFT JOIN cut_groups g ON g.cut_id = gs.cut_id AND g.group_kind = 'set:' || gs.set_code
              LEFT JOIN LATERAL jsonb_to_record(g.summary) AS s(
            """
        sql.append(SQL(unsafe: ProgressStore.groupRecordColumns))
        sql.append(") ON true WHERE gs.cut_id = \(cut) AND gs.set_code = \(set) ORDER BY g.group_key")
        let rows = try conn.query(sql).rows
        guard let first = rows.first else { return nil }
        let name: String = try first.decode("set_name")
        let withGroups = try rows.filter { try $0.decode("gkey", as: String?.self) != nil }
        return (name, try ProgressStore.decodeGroups(withGroups))
    }

    // MARK: References

    /// Why a grouping or a filter names something that does not exist (422 naming it), or nil. Called only when a
    /// read came back empty, so a normal dashboard read stays one round trip.
    static func unknownReference(_ conn: Connection, grouping: Grouping?, filter: ProgressFilter) throws -> StoreError? {
        if case .set(let s)? = grouping, try !exists(conn, code: s) {
            return .invalid(field: "group", "No existe el conjunto de agrupación «\(s)».", found: s)
        }
        if case .attribute(let a)? = grouping {
            guard let attr = try AttributeStore.attribute(conn, code: a) else {
                return .invalid(field: "group", "No existe el atributo «\(a)».", found: a)
            }
            if attr.type != "category" && attr.type != "boolean" {
                return .invalid(field: "group", "Solo se agrupa por atributos category o boolean; «\(a)» es \(attr.type).", found: a)
            }
        }
        if let sg = filter.setGroup {
            if try !exists(conn, code: sg.set) {
                return .invalid(field: "set_group", "No existe el conjunto de agrupación «\(sg.set)».", found: sg.set)
            }
            if try conn.query("SELECT 1 FROM group_set_groups WHERE set_code = \(sg.set) AND code = \(sg.group)").rows.isEmpty {
                return .invalid(field: "set_group", "No existe el grupo «\(sg.group)» en el conjunto «\(sg.set)».", found: sg.group)
            }
        }
        for f in filter.attributes {
            let field = AttributeFilter.parameterPrefix + f.code
            guard let attr = try AttributeStore.attribute(conn, code: f.code) else {
                return .invalid(field: field, "No existe el atributo «\(f.code)».", found: f.code)
            }
            if AttributeValue.canonical(type: attr.type, categories: attr.categories, text: f.value) == nil {
                return .invalid(field: field, "`\(field)` debe ser \(AttributeValue.expected(type: attr.type, categories: attr.categories)).",
                                found: f.value)
            }
        }
        return nil
    }
}
