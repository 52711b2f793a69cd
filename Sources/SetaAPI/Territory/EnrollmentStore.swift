// SQL of enrollments (inscripciones): which entities a plan serves, from which month and until which.
import Foundation
import SetaDatabase
import SetaDomain

enum EnrollmentStore {
    /// An enrollment (inscripción) as read; encoded as is on the wire (`EnrollmentDTO`), `plan_code` as `plan`.
    /// `to` absent means it is open-ended.
    struct EnrollmentRow: Encodable, Sendable {
        var id: Int64
        var planCode: String
        var entityCode: String
        var entityName: String
        var entityType: String
        var departmentCode: String
        var from: Period
        var to: Period?
        /// Only in the answer to ending an enrollment: the entity's assignments in the plan cut short with it.
        var assignmentsEnded: Int? = nil

        enum CodingKeys: String, CodingKey {
            case id, planCode = "plan", entityCode, entityName, entityType, departmentCode, from, to, assignmentsEnded
        }
    }

    struct ListFilter: Sendable {
        var plan: String
        /// Only enrollments covering this month; all of them when nil.
        var asOf: Period?
        var department: String?
        var region: String?
        /// The month regions and the reader's scope are taken at.
        var month: Period
    }

    static let columns: SQL = """
        en.id, en.plan_code, en.entity_code, e.name AS entity_name, e.type AS entity_type, e.department_code,
        en.from_period::text AS from_period, en.to_period::text AS to_period
        """

    static func row(_ r: Row) throws -> EnrollmentRow {
        EnrollmentRow(id: try r.decode("id"), planCode: try r.decode("plan_code"), entityCode: try r.decode("entity_code"),
                      entityName: try r.decode("entity_name"), entityType: try r.decode("entity_type"),
                      departmentCode: try r.decode("department_code"),
                      from: try period(r, "from_period")!, to: try period(r, "to_period"))
    }

    static func period(_ r: Row, _ column: String) throws -> Period? {
        guard let text: String = try r.decode(column) else { return nil }
        guard let p = Period.fromSQLDate(text) else {
            throw DatabaseError(.decoding, message: "column \(column) is not a month: \(text)", column: column)
        }
        return p
    }

    /// A page of a plan's enrollments ordered by entity and start month, after the key `entity|YYYY-MM`.
    static func list(_ conn: Connection, _ f: ListFilter, scope: SQL, after: (entity: String, from: Period)?, limit: Int?) throws -> (total: Int, rows: [EnrollmentRow]) {
        let m = f.month.firstDayString
        var conditions: [SQL] = ["en.plan_code = \(f.plan)", scope]
        if let a = f.asOf {
            conditions.append("month_span(en.from_period, en.to_period) @> \(a.firstDayString)::date")
        }
        if let d = f.department { conditions.append("e.department_code = \(d)") }
        if let r = f.region {
            conditions.append("en.entity_code IN (SELECT a.entity_code FROM entity_regions_at(\(m)::date) a WHERE a.region_code = \(r))")
        }
        let page = try KeysetPage.read(conn, matches: """
                SELECT \(columns), en.from_period AS from_date
                  FROM enrollments en JOIN entities e ON e.code = en.entity_code
                 WHERE \(conditions.joined(separator: " AND "))
                """,
            after: "(\(after?.entity)::text IS NULL OR (m.entity_code, m.from_date) > (\(after?.entity), \(after?.from.firstDayString)::date))",
            order: "m.entity_code, m.from_date", limit: limit, key: "id")
        return (page.total, try page.rows.map(row))
    }

    /// Every enrollment of one entity, in every plan.
    static func enrollments(_ conn: Connection, entity: String) throws -> [EnrollmentRow] {
        try conn.query("""
            SELECT \(columns) FROM enrollments en JOIN entities e ON e.code = en.entity_code
             WHERE en.entity_code = \(entity) ORDER BY en.plan_code, en.from_period
            """).rows.map(row)
    }

    /// Whether an entity is enrolled (inscrita) in a plan at a month: `enrolled_at` (Schema/007), the one
    /// definition the progress queries use too. The PUT of a report and assignments ask here.
    static func isEnrolled(_ conn: Connection, plan: String, entity: String, at month: Period) throws -> Bool {
        try conn.query("""
            SELECT 1 FROM enrolled_at(\(plan), \(month.firstDayString)::date) WHERE entity_code = \(entity)
            """).count > 0
    }

    /// One writer of a plan's enrollments at a time, so "skipped because it overlaps" is decided on what is
    /// really there (the exclusion constraint stays the last word).
    static func lockPlan(_ conn: Connection, plan: String) throws {
        try conn.execute("""
            SELECT pg_advisory_xact_lock_shared(\(LockKey.territoryImports)::int4, \(LockKey.enrollmentsImportKey)::int4),
                   pg_advisory_xact_lock(\(LockKey.enrollmentWriters)::int4, hashtext(\("enrollments/" + plan)))
            """)
    }

    /// A CSV import of enrollments excludes every other enrollment writer while it runs (they hold the
    /// shared side of the same lock), however many plans and entities its lines name.
    static func lockForImport(_ conn: Connection) throws {
        try conn.execute("SELECT pg_advisory_xact_lock(\(LockKey.territoryImports)::int4, \(LockKey.enrollmentsImportKey)::int4)")
    }

    struct Selection: Sendable {
        var entities: [String] = []
        var department: String?
        var region: String?
        /// Whether the gobernaciones of the selected department or region are enrolled too.
        var includeDepartments = false
    }

    struct BulkOutcome: Sendable {
        var created: [String] = []
        /// Entities left as they were because an enrollment of theirs already covers part of the span.
        var skipped: [(code: String, from: Period, to: Period?)] = []
    }

    /// Enrolls the selection from `from` to `to` in one INSERT … SELECT; entities with an overlapping
    /// enrollment are skipped and reported (so repeating a request changes nothing).
    static func enroll(_ conn: Connection, plan: String, selection s: Selection, from: Period, to: Period?) throws -> BulkOutcome {
        let f = from.firstDayString, t = to?.firstDayString
        let rows = try conn.query("""
            WITH sel AS (
                SELECT e.code FROM entities e
                 WHERE e.code = ANY(\(s.entities)::text[])
                    OR (\(s.department)::text IS NOT NULL AND e.department_code = \(s.department)
                        AND (e.type <> 'department' OR \(s.includeDepartments)))
                    OR (\(s.region)::text IS NOT NULL
                        AND e.code IN (SELECT a.entity_code FROM entity_regions_at(\(f)::date) a WHERE a.region_code = \(s.region))
                        AND (e.type <> 'department' OR \(s.includeDepartments)))
            ),
            ins AS (
                INSERT INTO enrollments (plan_code, entity_code, from_period, to_period)
                SELECT \(plan), sel.code, \(f)::date, \(t)::date FROM sel
                 WHERE NOT EXISTS (SELECT 1 FROM enrollments x WHERE x.plan_code = \(plan) AND x.entity_code = sel.code
                                      AND month_span(x.from_period, x.to_period) && month_span(\(f)::date, \(t)::date))
                RETURNING entity_code
            )
            SELECT sel.code, EXISTS (SELECT 1 FROM ins WHERE ins.entity_code = sel.code) AS created,
                   o.from_period::text AS overlap_from, o.to_period::text AS overlap_to
              FROM sel
              LEFT JOIN LATERAL (SELECT x.from_period, x.to_period FROM enrollments x
                                  WHERE x.plan_code = \(plan) AND x.entity_code = sel.code
                                    AND month_span(x.from_period, x.to_period) && month_span(\(f)::date, \(t)::date)
                                  ORDER BY x.from_period LIMIT 1) o ON true
             ORDER BY sel.code
            """).rows
        var out = BulkOutcome()
        for r in rows {
            let code: String = try r.decode("code")
            if try r.decode("created", as: Bool.self) {
                out.created.append(code)
            } else if let from = try period(r, "overlap_from") {
                out.skipped.append((code, from, try period(r, "overlap_to")))
            }
        }
        return out
    }

    /// The enrollment of an entity in a plan that starts latest at or before `month`.
    static func latest(_ conn: Connection, plan: String, entity: String, notAfter month: Period) throws -> EnrollmentRow? {
        try conn.query("""
            SELECT \(columns) FROM enrollments en JOIN entities e ON e.code = en.entity_code
             WHERE en.plan_code = \(plan) AND en.entity_code = \(entity) AND en.from_period <= \(month.firstDayString)::date
             ORDER BY en.from_period DESC LIMIT 1 FOR UPDATE OF en
            """).rows.first.map(row)
    }

    /// Assignments of the entity in the plan that start after `to`: ending the enrollment (which started at
    /// `from`) there would leave them serving an entity the plan no longer serves (migration 023).
    static func assignmentsStartingAfter(_ conn: Connection, plan: String, entity: String, from: Period, to: Period) throws -> [Int64] {
        try conn.query("""
            SELECT id FROM assignments_outliving_enrollment(\(plan), \(entity), \(from.firstDayString)::date, \(to.firstDayString)::date)
            """).rows.map { try $0.decode("id") }
    }

    /// Ends an enrollment at `to`, and the entity's assignments in the plan that ran past it with it (migration 023,
    /// the same definition as the enrollment import). Returns how many assignments were cut short.
    static func end(_ conn: Connection, id: Int64, plan: String, entity: String, from: Period, to: Period) throws -> Int {
        let t = to.firstDayString
        try conn.execute("UPDATE enrollments SET to_period = \(t)::date WHERE id = \(id)")
        return try conn.query("""
            SELECT end_enrollment_assignments(\(plan), \(entity), \(from.firstDayString)::date, \(t)::date) AS n
            """).rows[0].decode("n")
    }
}
