// SQL of the agenda (agenda del mes): whose entities, which reports are missing, which regressions wait, which months lock.
import Foundation
import SetaDatabase
import SetaDomain

/// One (plan, entity) a person is responsible for in a month, with its advisor.
struct AgendaEntity: Sendable {
    var plan: String
    var entity: String
    var name: String
    var advisorId: Int64?
    var advisorName: String?
}

/// A status that went back (regresión) and waits for a comment or a review; encoded as is in the agenda.
struct AgendaRegression: Encodable, Sendable {
    var plan: String
    var entity: String
    var milestone: String
    var period: Period
    var previousStatus: String?
    var status: String
    var comment: String?
    var recordedAt: Date
}

enum AgendaStore {
    /// Whose entities an agenda covers: an advisor's assignments, a coordinator's regions, everything.
    enum Subject {
        case advisor(Int64)
        case regions([String])
        case everyone
    }

    /// The (plan, entity) pairs enrolled at `month` in the subject's reach, with the advisor assigned then.
    static func entities(_ conn: Connection, subject: Subject, month: Period, plan: String?) throws -> [AgendaEntity] {
        let m = month.firstDayString
        var sql: SQL = """
            SELECT en.plan_code, e.code, e.name, a.person_id, p.name AS advisor_name
              FROM enrollments en
              JOIN entities e ON e.code = en.entity_code
              LEFT JOIN assigned_at(\(plan), \(m)::date) a ON a.plan_code = en.plan_code AND a.entity_code = en.entity_code
              LEFT JOIN people p ON p.id = a.person_id
             WHERE covers_month(en.from_period, en.to_period, \(m)::date)
               AND (\(plan)::text IS NULL OR en.plan_code = \(plan))
            """
        switch subject {
        case .advisor(let id):
            sql.append(" AND a.person_id = \(id)")
        case .regions(let regions):
            sql.append(" AND e.code IN (SELECT r.entity_code FROM entity_regions_at(\(m)::date) r WHERE r.region_code = ANY(\(regions)::text[]))")
        case .everyone:
            break
        }
        sql.append(" ORDER BY en.plan_code, e.code")
        return try conn.query(sql).rows.map { r in
            AgendaEntity(plan: try r.decode("plan_code"), entity: try r.decode("code"), name: try r.decode("name"),
                         advisorId: try r.decode("person_id"), advisorName: try r.decode("advisor_name"))
        }
    }

    /// The entities of `plan` among `entities` with no report for `period` yet.
    static func unreported(_ conn: Connection, plan: String, period: Period, entities: [String]) throws -> Set<String> {
        guard !entities.isEmpty else { return [] }
        return Set(try conn.query("""
            SELECT c.code FROM unnest(\(entities)::text[]) AS c(code)
             WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.plan_code = \(plan) AND r.entity_code = c.code
                                  AND r.period = \(period.firstDayString)::date)
            """).rows.map { try $0.decode("code", as: String.self) })
    }

    /// Regressions (a done milestone taken back) of the entities in months `from`…`to`, newest first.
    static func regressions(_ conn: Connection, plan: String, entities: [String], from: Period, to: Period,
                            limit: Int) throws -> [AgendaRegression] {
        guard !entities.isEmpty else { return [] }
        return try conn.query("""
            SELECT rv.plan_code, rv.entity_code, rv.milestone_code, to_char(rv.period, 'YYYY-MM') AS period,
                   rv.previous_status, rv.status, rv.comment, rv.recorded_at
              FROM report_revisions rv
             WHERE rv.plan_code = \(plan) AND rv.entity_code = ANY(\(entities)::text[]) AND rv.is_regression
               AND rv.period BETWEEN \(from.firstDayString)::date AND \(to.firstDayString)::date
             ORDER BY rv.recorded_at DESC, rv.id DESC
             LIMIT \(limit)
            """).rows.map { r in
            AgendaRegression(plan: try r.decode("plan_code"), entity: try r.decode("entity_code"),
                             milestone: try r.decode("milestone_code"), period: try r.period("period"),
                             previousStatus: try r.decode("previous_status"), status: try r.decode("status"),
                             comment: try r.decode("comment"), recordedAt: try r.decode("recorded_at"))
        }
    }

    /// Months among `months` of the plan that are not locked yet.
    static func unlocked(_ conn: Connection, plan: String, months: [Period]) throws -> [Period] {
        guard !months.isEmpty else { return [] }
        let locked = Set(try conn.query("""
            SELECT to_char(period, 'YYYY-MM') AS period FROM period_locks
             WHERE plan_code = \(plan) AND period = ANY(\(months.map(\.firstDayString))::date[])
            """).rows.map { try $0.period("period") })
        return months.filter { !locked.contains($0) }
    }

    /// Token expiry and this month's assignments per plan, for /v1/me.
    static func tokenExpiry(_ conn: Connection, tokenId: Int64) throws -> Date? {
        try conn.query("SELECT expires_at FROM tokens WHERE id = \(tokenId)").rows.first?.decode("expires_at")
    }

    static func regionNames(_ conn: Connection, codes: [String]) throws -> [(code: String, name: String)] {
        guard !codes.isEmpty else { return [] }
        return try conn.query("SELECT code, name FROM regions WHERE code = ANY(\(codes)::text[]) ORDER BY code").rows.map {
            (try $0.decode("code"), try $0.decode("name"))
        }
    }
}
