// SQL of the territory: entities (entidades territoriales), departments, regions and region membership by month.
import Foundation
import SetaDatabase
import SetaDomain

enum TerritoryStore {
    /// The seed's "since always" month for the default PND regions: shown to clients as no start month.
    static let sinceAlways = Period(year: 1900, month: 1)!

    static let entityTypes = ["municipality", "department", "district", "non_municipalised_area"]

    /// An entity as listed; encoded as is on the wire (`EntityDTO`).
    struct EntityRow: Encodable, Sendable {
        var code: String
        var name: String
        var type: String
        var departmentCode: String
        var departmentName: String
        var regionCode: String?
        var regionName: String?
        /// Attribute values by attribute code (atributos de la entidad, issue 15); filled by the list only.
        var attributes: [String: String] = [:]
    }

    struct EntityFilter: Sendable {
        var department: String?
        var region: String?
        var type: String?
        var plan: String?
        var q: String?
        var asOf: Period
        /// One group of a group set as of `asOf` (`set_group`, issue 15).
        var setGroup: SetGroupFilter?
        /// Attribute values that must all hold (`attr.<code>`, issue 15).
        var attributes: [AttributeFilter] = []
    }

    // MARK: Entities

    /// The entities matching `filter` and `scope`, a page after `after` (by code), and the total matching.
    static func entities(_ conn: Connection, _ f: EntityFilter, scope: SQL, after: String?, limit: Int?) throws -> (total: Int, rows: [EntityRow]) {
        let m = f.asOf.firstDayString
        var conditions: [SQL] = [scope]
        if let d = f.department { conditions.append("e.department_code = \(d)") }
        if let r = f.region { conditions.append("er.region_code = \(r)") }
        if let t = f.type { conditions.append("e.type = \(t)") }
        if let p = f.plan {
            conditions.append("""
                e.code IN (SELECT en.entity_code FROM enrolled_at(\(p), \(m)::date) en)
                """)
        }
        if let q = f.q {
            // search_key is stored folded (NameNormalizer.searchKey); LIKE wildcards in the query are literal.
            let key = NameNormalizer.searchKey(q)
            let pattern = LikePattern.containing(key)
            // Known alternative names (entity_names, the resolver's data) are searched too (issue 15).
            conditions.append("""
                (e.search_key LIKE \(pattern) ESCAPE '\\' OR e.code = \(q.trimmingCharacters(in: .whitespaces))
                 OR EXISTS (SELECT 1 FROM entity_names n WHERE n.entity_code = e.code AND n.search_key LIKE \(pattern) ESCAPE '\\'))
                """)
        }
        if let sg = f.setGroup {
            conditions.append("""
                e.code IN (SELECT x.entity_code FROM group_members_at(\(sg.set), \(m)::date) x WHERE x.group_code = \(sg.group))
                """)
        }
        if !f.attributes.isEmpty {
            var a: SQL = "true"
            a.append(AttributeFilter.condition(f.attributes, entityColumn: "e.code"))
            conditions.append(a)
        }
        let page = try KeysetPage.read(conn, matches: """
                SELECT e.code, e.name, e.type, e.department_code, d.name AS department_name,
                       er.region_code, r.name AS region_name
                  FROM entities e
                  JOIN departments d ON d.code = e.department_code
                  LEFT JOIN entity_regions_at(\(m)::date) er ON er.entity_code = e.code
                  LEFT JOIN regions r ON r.code = er.region_code
                 WHERE \(conditions.joined(separator: " AND "))
                """,
            after: "(\(after)::text IS NULL OR m.code > \(after))", order: "m.code", limit: limit, key: "code",
            extra: """
                , (SELECT jsonb_object_agg(av.attribute_code, av.value ORDER BY av.attribute_code)::text
                     FROM entity_attribute_values av WHERE av.entity_code = p.code) AS attributes
                """)
        let total = page.total
        let entities = try page.rows.map { r in
            var e = try entityRow(r)
            e.attributes = try ProgressStore.attributeMap(r.decode("attributes", as: String?.self))
            return e
        }
        return (total, entities)
    }

    static func entity(_ conn: Connection, code: String, asOf: Period) throws -> EntityRow? {
        try conn.query("""
            SELECT e.code, e.name, e.type, e.department_code, d.name AS department_name, er.region_code, r.name AS region_name
              FROM entities e
              JOIN departments d ON d.code = e.department_code
              LEFT JOIN entity_regions_at(\(asOf.firstDayString)::date) er ON er.entity_code = e.code
              LEFT JOIN regions r ON r.code = er.region_code
             WHERE e.code = \(code)
            """).rows.first.map(entityRow)
    }

    private static func entityRow(_ r: Row) throws -> EntityRow {
        EntityRow(code: try r.decode("code"), name: try r.decode("name"), type: try r.decode("type"),
                  departmentCode: try r.decode("department_code"), departmentName: try r.decode("department_name"),
                  regionCode: try r.decode("region_code"), regionName: try r.decode("region_name"))
    }

    /// What an entity is beyond its region: its attribute values and the group of each group set it is in as of
    /// `asOf` (issue 15). One statement.
    static func entityGroupings(_ conn: Connection, code: String, asOf: Period) throws
        -> (attributes: [String: String], groups: [(set: String, setName: String, group: String, groupName: String)]) {
        let rows = try conn.query("""
            SELECT (SELECT jsonb_object_agg(av.attribute_code, av.value ORDER BY av.attribute_code)::text
                      FROM entity_attribute_values av WHERE av.entity_code = \(code)) AS attributes,
                   g.set_code, g.set_name, g.group_code, g.group_name
              FROM (SELECT 1) one
              -- Membership through group_members_at (migration 018), the one definition; the entity's condition is
              -- on its DISTINCT ON key, so the planner reads only this entity's rows of each set.
              LEFT JOIN (SELECT s.code AS set_code, s.name AS set_name, gm.group_code, gg.name AS group_name
                           FROM group_sets s
                          CROSS JOIN LATERAL group_members_at(s.code, \(asOf.firstDayString)::date) gm
                           JOIN group_set_groups gg ON gg.set_code = s.code AND gg.code = gm.group_code
                          WHERE gm.entity_code = \(code)) g ON true
             ORDER BY g.set_code
            """).rows
        let attributes = try ProgressStore.attributeMap(rows.first?.decode("attributes", as: String?.self))
        let groups = try rows.compactMap { r -> (String, String, String, String)? in
            guard let g: String = try r.decode("group_code") else { return nil }
            return (try r.decode("set_code"), try r.decode("set_name"), g, try r.decode("group_name"))
        }
        return (attributes, groups)
    }

    /// The entity, or a 404 naming it.
    static func requireEntity(_ conn: Connection, code: String, asOf: Period) throws -> EntityRow {
        guard let e = try entity(conn, code: code, asOf: asOf) else {
            throw StoreError(kind: .notFound, detail: "No existe la entidad «\(code)».",
                           errors: [FieldError(field: "code", message: "Código DANE desconocido.", found: code)])
        }
        return e
    }

    /// The codes of `codes` that are not entities, each with its position in the list.
    static func unknownEntities(_ conn: Connection, _ codes: [String]) throws -> [(index: Int, code: String)] {
        try conn.query("""
            SELECT u.i - 1 AS i, u.c FROM unnest(\(codes)::text[]) WITH ORDINALITY AS u(c, i)
             WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.code = u.c) ORDER BY u.i
            """).rows.map { (try $0.decode("i"), try $0.decode("c")) }
    }

    /// The region of an entity month by month: every month a decision (of its department or its own) took
    /// effect, with the region in force from then on. Consecutive equal regions are merged.
    static func regionHistory(_ conn: Connection, entity code: String) throws -> [(from: Period, region: String, name: String)] {
        let rows = try conn.query("""
            SELECT x.valid_from::text AS valid_from, er.region_code, r.name
              FROM (SELECT dr.valid_from FROM department_regions dr JOIN entities e ON e.department_code = dr.department_code
                     WHERE e.code = \(code)
                    UNION
                    SELECT valid_from FROM entity_regions WHERE entity_code = \(code)) x
              CROSS JOIN LATERAL (SELECT a.region_code FROM entity_regions_at(x.valid_from) a WHERE a.entity_code = \(code)) er
              JOIN regions r ON r.code = er.region_code
             ORDER BY x.valid_from
            """).rows
        return try mergeHistory(rows)
    }

    /// The region of a department month by month.
    static func regionHistory(_ conn: Connection, department code: String) throws -> [(from: Period, region: String, name: String)] {
        try mergeHistory(conn.query("""
            SELECT dr.valid_from::text AS valid_from, dr.region_code, r.name
              FROM department_regions dr JOIN regions r ON r.code = dr.region_code
             WHERE dr.department_code = \(code) ORDER BY dr.valid_from
            """).rows)
    }

    private static func mergeHistory(_ rows: [Row]) throws -> [(from: Period, region: String, name: String)] {
        var out: [(from: Period, region: String, name: String)] = []
        for r in rows {
            guard let from = Period.fromSQLDate(try r.decode("valid_from")) else { continue }
            let region: String = try r.decode("region_code")
            if out.last?.region == region { continue }
            out.append((from, region, try r.decode("name")))
        }
        return out
    }

    // MARK: Departments

    /// A department as listed; encoded as is on the wire (`DepartmentDTO`).
    struct DepartmentRow: Encodable, Sendable {
        var code: String
        var name: String
        var regionCode: String?
        var regionName: String?
        var gobernacionCode: String?
        var municipalityCount: Int
    }

    static func departments(_ conn: Connection, asOf: Period, region: String?) throws -> [DepartmentRow] {
        try conn.query("""
            SELECT d.code, d.name, dr.region_code, r.name AS region_name,
                   (SELECT g.code FROM entities g WHERE g.department_code = d.code AND g.type = 'department') AS gobernacion_code,
                   (SELECT count(*) FROM entities e WHERE e.department_code = d.code AND e.type <> 'department') AS municipality_count
              FROM departments d
              LEFT JOIN LATERAL (SELECT x.region_code FROM department_regions x
                                  WHERE x.department_code = d.code AND x.valid_from <= \(asOf.firstDayString)::date
                                  ORDER BY x.valid_from DESC LIMIT 1) dr ON true
              LEFT JOIN regions r ON r.code = dr.region_code
             WHERE (\(region)::text IS NULL OR dr.region_code = \(region))
             ORDER BY d.code
            """).rows.map { r in
            DepartmentRow(code: try r.decode("code"), name: try r.decode("name"), regionCode: try r.decode("region_code"),
                          regionName: try r.decode("region_name"), gobernacionCode: try r.decode("gobernacion_code"),
                          municipalityCount: try r.decode("municipality_count"))
        }
    }

    static func department(_ conn: Connection, code: String) throws -> (code: String, name: String)? {
        try conn.query("SELECT code, name FROM departments WHERE code = \(code)").rows.first.map {
            (try $0.decode("code"), try $0.decode("name"))
        }
    }

    /// Moves a department to a region from a month on (a second move in the same month replaces the first).
    static func moveDepartment(_ conn: Connection, code: String, region: String, from: Period) throws {
        try conn.execute("""
            INSERT INTO department_regions (department_code, region_code, valid_from)
            VALUES (\(code), \(region), \(from.firstDayString)::date)
            ON CONFLICT (department_code, valid_from) DO UPDATE SET region_code = EXCLUDED.region_code, recorded_at = now()
            """)
    }

    /// Moves one entity to a region from a month on, whatever its department's region.
    static func moveEntity(_ conn: Connection, code: String, region: String, from: Period) throws {
        try conn.execute("""
            INSERT INTO entity_regions (entity_code, region_code, valid_from)
            VALUES (\(code), \(region), \(from.firstDayString)::date)
            ON CONFLICT (entity_code, valid_from) DO UPDATE SET region_code = EXCLUDED.region_code, recorded_at = now()
            """)
    }

    // MARK: Regions

    struct RegionRow: Sendable {
        var code: String
        var name: String
        var active: Bool
        var departmentCodes: [String]
        var departmentNames: [String]
        var entityCount: Int
    }

    /// Regions as of a month: the active ones, and retired ones that still had members that month (so a past
    /// month's dashboard still names them).
    static func regions(_ conn: Connection, asOf: Period, code: String? = nil, includeRetired: Bool = false) throws -> [RegionRow] {
        let m = asOf.firstDayString
        return try conn.query("""
            WITH dr AS (
                SELECT DISTINCT ON (x.department_code) x.department_code, x.region_code
                  FROM department_regions x WHERE x.valid_from <= \(m)::date
                 ORDER BY x.department_code, x.valid_from DESC),
            er AS (SELECT a.region_code, count(*) AS n FROM entity_regions_at(\(m)::date) a GROUP BY a.region_code)
            SELECT r.code, r.name, r.active, COALESCE(er.n, 0) AS entity_count,
                   ARRAY(SELECT d.code FROM dr JOIN departments d ON d.code = dr.department_code
                          WHERE dr.region_code = r.code ORDER BY d.code) AS department_codes,
                   ARRAY(SELECT d.name FROM dr JOIN departments d ON d.code = dr.department_code
                          WHERE dr.region_code = r.code ORDER BY d.code) AS department_names
              FROM regions r LEFT JOIN er ON er.region_code = r.code
             WHERE (\(code)::text IS NULL OR r.code = \(code))
               AND (r.active OR COALESCE(er.n, 0) > 0 OR \(includeRetired) OR \(code)::text IS NOT NULL)
             ORDER BY r.code
            """).rows.map { r in
            RegionRow(code: try r.decode("code"), name: try r.decode("name"), active: try r.decode("active"),
                      departmentCodes: try r.decode("department_codes"), departmentNames: try r.decode("department_names"),
                      entityCount: try r.decode("entity_count"))
        }
    }

    static func region(_ conn: Connection, code: String) throws -> (code: String, name: String, active: Bool)? {
        try conn.query("SELECT code, name, active FROM regions WHERE code = \(code)").rows.first.map {
            (try $0.decode("code"), try $0.decode("name"), try $0.decode("active"))
        }
    }

    /// A region named in a request body or filter: unknown or (when `active`) retired is a 422 naming `field`.
    @discardableResult
    static func requireRegion(_ conn: Connection, code: String, field: String, active: Bool) throws -> (code: String, name: String, active: Bool) {
        guard let r = try region(conn, code: code) else {
            throw StoreError.invalid(field: field, "No existe la región «\(code)».", found: code)
        }
        if active && !r.active {
            throw StoreError.invalid(field: field, "La región «\(code)» fue eliminada; no admite miembros nuevos.", found: code)
        }
        return r
    }

    static func activeRegionNamed(_ conn: Connection, _ name: String, except code: String?) throws -> String? {
        try conn.query("""
            SELECT code FROM regions WHERE active AND lower(name) = lower(\(name)) AND (\(code)::text IS NULL OR code <> \(code))
            """).rows.first?.decode("code")
    }

    static func createRegion(_ conn: Connection, code: String, name: String) throws {
        try conn.execute("INSERT INTO regions (code, name) VALUES (\(code), \(name))")
    }

    static func renameRegion(_ conn: Connection, code: String, name: String) throws {
        try conn.execute("UPDATE regions SET name = \(name) WHERE code = \(code)")
    }

    /// What still ties a region to the present or the future: members in `current` month, moves into it
    /// dated later, and active people (coordinators, viewers) limited to it.
    static func regionTies(_ conn: Connection, code: String, current: Period) throws -> (members: Int, laterMoves: Int, people: Int) {
        let m = current.firstDayString
        let r = try conn.query("""
            SELECT (SELECT count(*) FROM entity_regions_at(\(m)::date) a WHERE a.region_code = \(code)) AS members,
                   (SELECT count(*) FROM department_regions x WHERE x.region_code = \(code) AND x.valid_from > \(m)::date)
                 + (SELECT count(*) FROM entity_regions x WHERE x.region_code = \(code) AND x.valid_from > \(m)::date) AS later_moves,
                   (SELECT count(*) FROM person_regions pr JOIN people p ON p.id = pr.person_id
                     WHERE pr.region_code = \(code) AND p.active) AS people
            """).rows[0]
        return (try r.decode("members"), try r.decode("later_moves"), try r.decode("people"))
    }

    static func retireRegion(_ conn: Connection, code: String) throws {
        try conn.execute("UPDATE regions SET active = false WHERE code = \(code)")
    }

    /// The names of the given entities, by DANE code (codes that are not entities are left out).
    static func entityNames(_ conn: Connection, codes: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for r in try conn.query("SELECT code, name FROM entities WHERE code = ANY(\(codes)::text[])").rows {
            out[try r.decode("code")] = try r.decode("name")
        }
        return out
    }

    /// A single entity outside the caller's scope (SPEC "Rules for writes": coordinators see their region,
    /// advisors their assigned entities) is refused; an entity that does not exist is outside every scope
    /// but the central team's. The scope itself is `ReportStore.inScope`, the one definition.
    static func requireInScope(_ conn: Connection, caller: Principal, entity: String, month: Period, plan: String? = nil) throws {
        guard caller.role != .central else { return }
        guard try ReportStore.inScope(conn, caller, entity: entity, plan: plan, month: month) else {
            throw StoreError.forbidden("La entidad \(entity) está fuera de su alcance.")
        }
    }
}
