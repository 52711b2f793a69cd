// SQL of assignments (asignaciones): advisor X serves entity E in plan P from month M1 to M2 (or open).
import Foundation
import SetaDatabase
import SetaDomain

enum AssignmentStore {
    /// An assignment (asignación) as read; encoded as is on the wire (`AssignmentDTO`): `plan_code` as `plan`, the
    /// person as `advisor_id`, `advisor_name`. `to` absent means it is open-ended.
    struct AssignmentRow: Encodable, Sendable {
        var id: Int64
        var planCode: String
        var entityCode: String
        var entityName: String
        var personId: Int64
        var personName: String
        var from: Period
        var to: Period?
        var createdAt: Date
        /// Only in the answer to a transfer: the assignments it closed, as they are now.
        var closedPrevious: [AssignmentRow]? = nil

        enum CodingKeys: String, CodingKey {
            case id, planCode = "plan", entityCode, entityName, personId = "advisorId", personName = "advisorName"
            case from, to, createdAt, closedPrevious
        }
    }

    struct ListFilter: Sendable {
        var plan: String?
        var entity: String?
        var advisor: Int64?
        /// Only assignments covering this month; all of them when nil.
        var asOf: Period?
        /// The month the reader's scope is taken at.
        var month: Period

        init(month: Period) { self.month = month }
    }

    static let columns: SQL = """
        a.id, a.plan_code, a.entity_code, e.name AS entity_name, a.person_id, p.name AS person_name,
        a.from_period::text AS from_period, a.to_period::text AS to_period, a.created_at
        """
    static let tables: SQL = "assignments a JOIN entities e ON e.code = a.entity_code JOIN people p ON p.id = a.person_id"

    static func row(_ r: Row) throws -> AssignmentRow {
        AssignmentRow(id: try r.decode("id"), planCode: try r.decode("plan_code"), entityCode: try r.decode("entity_code"),
                      entityName: try r.decode("entity_name"), personId: try r.decode("person_id"),
                      personName: try r.decode("person_name"), from: try EnrollmentStore.period(r, "from_period")!,
                      to: try EnrollmentStore.period(r, "to_period"), createdAt: try r.decode("created_at"))
    }

    /// A page of assignments by id after `after`, and the total matching.
    static func list(_ conn: Connection, _ f: ListFilter, scope: SQL, after: Int64?, limit: Int?) throws -> (total: Int, rows: [AssignmentRow]) {
        var conditions: [SQL] = [scope]
        if let v = f.plan { conditions.append("a.plan_code = \(v)") }
        if let v = f.entity { conditions.append("a.entity_code = \(v)") }
        if let v = f.advisor { conditions.append("a.person_id = \(v)") }
        if let m = f.asOf { conditions.append("month_span(a.from_period, a.to_period) @> \(m.firstDayString)::date") }
        let page = try KeysetPage.read(conn, matches: "SELECT \(columns) FROM \(tables) WHERE \(conditions.joined(separator: " AND "))",
                                       after: "(\(after)::bigint IS NULL OR m.id > \(after))", order: "m.id", limit: limit, key: "id")
        return (page.total, try page.rows.map(row))
    }

    static func assignment(_ conn: Connection, id: Int64, forUpdate: Bool = false) throws -> AssignmentRow? {
        try conn.query("SELECT \(columns) FROM \(tables) WHERE a.id = \(id)" + SQL(unsafe: forUpdate ? " FOR UPDATE OF a" : "")).rows.first.map(row)
    }

    /// One writer of an entity's assignments in a plan at a time, so the overlap check sees what is there.
    static func lock(_ conn: Connection, plan: String, entity: String) throws {
        try conn.execute("""
            SELECT pg_advisory_xact_lock_shared(\(LockKey.territoryImports)::int4, \(LockKey.assignmentsImportKey)::int4),
                   pg_advisory_xact_lock(\(LockKey.assignmentWriters)::int4, hashtext(\(plan + "/" + entity)))
            """)
    }

    /// A CSV import of assignments excludes every other assignment writer while it runs (see `lock`).
    static func lockForImport(_ conn: Connection) throws {
        try conn.execute("SELECT pg_advisory_xact_lock(\(LockKey.territoryImports)::int4, \(LockKey.assignmentsImportKey)::int4)")
    }

    /// The entity's assignments in the plan that share a month with [from, to].
    static func overlapping(_ conn: Connection, plan: String, entity: String, from: Period, to: Period?) throws -> [AssignmentRow] {
        try conn.query("""
            SELECT \(columns) FROM \(tables)
             WHERE a.plan_code = \(plan) AND a.entity_code = \(entity)
               AND month_span(a.from_period, a.to_period) && month_span(\(from.firstDayString)::date, \(to?.firstDayString)::date)
             ORDER BY a.from_period
            """).rows.map(row)
    }

    static func insert(_ conn: Connection, plan: String, entity: String, person: Int64, from: Period, to: Period?, by: Int64) throws -> Int64 {
        try conn.query("""
            INSERT INTO assignments (plan_code, entity_code, person_id, from_period, to_period, created_by)
            VALUES (\(plan), \(entity), \(person), \(from.firstDayString)::date, \(to?.firstDayString)::date, \(by)) RETURNING id
            """).rows[0].decode("id")
    }

    /// Sets the last month of the given assignments.
    static func end(_ conn: Connection, ids: [Int64], at to: Period) throws {
        try conn.execute("UPDATE assignments SET to_period = \(to.firstDayString)::date WHERE id = ANY(\(ids)::bigint[])")
    }

    /// Whether the person may serve entities: an active advisor or coordinator.
    static func servingPerson(_ conn: Connection, id: Int64) throws -> (exists: Bool, active: Bool, role: String) {
        guard let r = try conn.query("SELECT active, role FROM people WHERE id = \(id)").rows.first else { return (false, false, "") }
        return (true, try r.decode("active"), try r.decode("role"))
    }
}
