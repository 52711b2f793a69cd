// Period locks (bloqueos de periodo) as they stand and their record of lock and reopen events.
import Foundation
import SetaDatabase
import SetaDomain

enum LockStore {
    /// The locked months, of one plan or all, of one month or all, in plan and month order.
    static func locks(_ conn: Connection, plan: String?, period: Period?) throws -> [LockDTO] {
        var sql: SQL = """
            SELECT l.plan_code, to_char(l.period, 'YYYY-MM') AS period, l.reason, l.locked_by, p.name AS locked_by_name,
                   l.locked_at, l.cut_id
              FROM period_locks l LEFT JOIN people p ON p.id = l.locked_by
             WHERE (\(plan)::text IS NULL OR l.plan_code = \(plan))
            """
        if let period { sql.append(" AND l.period = \(period.firstDayString)::date") }
        sql.append(" ORDER BY l.plan_code, l.period")
        return try conn.query(sql).rows.map { r in
            LockDTO(plan: try r.decode("plan_code"), period: try r.period("period"),
                    reason: try r.decode("reason"),
                    lockedBy: try PersonRef(id: r.decode("locked_by"), name: r.decode("locked_by_name")),
                    lockedAt: try r.decode("locked_at"), cutId: try r.decode("cut_id"))
        }
    }

    /// Every lock and reopen, oldest first.
    static func events(_ conn: Connection, plan: String?, period: Period?) throws -> [LockEventDTO] {
        var sql: SQL = """
            SELECT e.id, e.plan_code, to_char(e.period, 'YYYY-MM') AS period, e.action, e.reason,
                   e.person_id, p.name AS person_name, e.cut_id, e.at
              FROM period_lock_events e LEFT JOIN people p ON p.id = e.person_id
             WHERE (\(plan)::text IS NULL OR e.plan_code = \(plan))
            """
        if let period { sql.append(" AND e.period = \(period.firstDayString)::date") }
        sql.append(" ORDER BY e.at, e.id")
        return try conn.query(sql).rows.map { r in
            LockEventDTO(id: try r.decode("id"), plan: try r.decode("plan_code"),
                         period: try r.period("period"),
                         action: try r.decode("action"), reason: try r.decode("reason"),
                         person: try PersonRef(id: r.decode("person_id"), name: r.decode("person_name")),
                         cutId: try r.decode("cut_id"), at: try r.decode("at"))
        }
    }
}
