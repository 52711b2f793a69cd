// SQL of the schedule (cronograma): due dates per entity, exceptions (Decreto 683), expected progress and lag.
import Foundation
import SetaDatabase
import SetaDomain

/// One entity's standing against the schedule as SQL computes it (`expected_progress_at`, Schema/015).
struct ScheduleRow: Sendable {
    var entity: String
    var expected: Decimal?
    var actual: Decimal?
    var lag: Decimal?
    var overdueCount: Int
    var overdue: [String]
    var oldestDueOn: CalendarDay?
}

/// One milestone's due dates for one entity (`milestone_due_dates`).
struct DueDateRow: Sendable {
    var milestone: String
    var dueOn: CalendarDay?
    var effectiveDueOn: CalendarDay?
    var fromException: Bool
}

/// One entity's exception to a milestone's due date.
struct ScheduleExceptionDTO: Codable, Sendable {
    var entity: String
    var entityName: String?
    var milestone: String
    var dueOn: CalendarDay
    var reason: String
    var createdAt: Date?
}

enum ScheduleStore {
    /// Expected progress, actual, lag and overdue milestones of `entities` as of `month`.
    static func standings(_ conn: Connection, plan: String, version: Int, month: Period, entities: [String]) throws -> [ScheduleRow] {
        guard !entities.isEmpty else { return [] }
        return try conn.query("""
            SELECT entity_code, expected, actual, lag, overdue_count, overdue, oldest_due_on::text AS oldest_due_on
              FROM expected_progress_at(\(plan), \(version), \(month.firstDayString)::date, \(entities)::text[])
             ORDER BY entity_code
            """).rows.map { r in
            ScheduleRow(entity: try r.decode("entity_code"), expected: try r.decode("expected"), actual: try r.decode("actual"),
                        lag: try r.decode("lag"), overdueCount: try r.decode("overdue_count"),
                        overdue: try r.decode("overdue"),
                        oldestDueOn: try r.decode("oldest_due_on", as: String?.self).flatMap(CalendarDay.init))
        }
    }

    /// Each milestone's own and effective due date for one entity, in plan order.
    static func dueDates(_ conn: Connection, plan: String, version: Int, entity: String) throws -> [DueDateRow] {
        try conn.query("""
            SELECT milestone_code, due_on::text AS due_on, effective_due_on::text AS effective_due_on, from_exception
              FROM milestone_due_dates(\(plan), \(version), ARRAY[\(entity)::text])
             ORDER BY milestone_position
            """).rows.map { r in
            DueDateRow(milestone: try r.decode("milestone_code"),
                       dueOn: try r.decode("due_on", as: String?.self).flatMap(CalendarDay.init),
                       effectiveDueOn: try r.decode("effective_due_on", as: String?.self).flatMap(CalendarDay.init),
                       fromException: try r.decode("from_exception"))
        }
    }

    /// An entity's exceptions, keyed by milestone code (the engine's input).
    static func exceptionDates(_ conn: Connection, plan: String, entity: String) throws -> [String: CalendarDay] {
        var out: [String: CalendarDay] = [:]
        for e in try exceptions(conn, plan: plan, entities: [entity], limit: 1_000) { out[e.milestone] = e.dueOn }
        return out
    }

    /// Exceptions of a plan, optionally for some entities only, by entity then milestone.
    static func exceptions(_ conn: Connection, plan: String, entities: [String]?, limit: Int) throws -> [ScheduleExceptionDTO] {
        try conn.query("""
            SELECT x.entity_code, e.name, x.milestone_code, x.due_on::text AS due_on, x.reason, x.created_at
              FROM schedule_exceptions x JOIN entities e ON e.code = x.entity_code
             WHERE x.plan_code = \(plan) AND (\(entities)::text[] IS NULL OR x.entity_code = ANY(\(entities)::text[]))
             ORDER BY x.entity_code, x.milestone_code
             LIMIT \(limit)
            """).rows.map { r in
            ScheduleExceptionDTO(entity: try r.decode("entity_code"), entityName: try r.decode("name"),
                                 milestone: try r.decode("milestone_code"),
                                 dueOn: CalendarDay(try r.decode("due_on", as: String.self))!,
                                 reason: try r.decode("reason"), createdAt: try r.decode("created_at"))
        }
    }

    static func exceptionCount(_ conn: Connection, plan: String, entities: [String]?) throws -> Int {
        try conn.query("""
            SELECT count(*) AS n FROM schedule_exceptions
             WHERE plan_code = \(plan) AND (\(entities)::text[] IS NULL OR entity_code = ANY(\(entities)::text[]))
            """).rows[0].decode("n")
    }

    /// The entities among `codes` that were never enrolled in the plan (any month), in the order given.
    static func notEnrolled(_ conn: Connection, plan: String, codes: [String]) throws -> [String] {
        guard !codes.isEmpty else { return [] }
        let enrolled = Set(try conn.query("""
            SELECT DISTINCT entity_code FROM enrollments WHERE plan_code = \(plan) AND entity_code = ANY(\(codes)::text[])
            """).rows.map { try $0.decode("entity_code", as: String.self) })
        return codes.filter { !enrolled.contains($0) }
    }

    /// Department codes among `codes` that do not exist.
    static func unknownDepartments(_ conn: Connection, codes: [String]) throws -> [String] {
        guard !codes.isEmpty else { return [] }
        let known = Set(try conn.query("SELECT code FROM departments WHERE code = ANY(\(codes)::text[])")
            .rows.map { try $0.decode("code", as: String.self) })
        return codes.filter { !known.contains($0) }
    }

    /// Every entity enrolled in the plan (any month) whose department is one of `departments`: the
    /// gobernación and its municipalities.
    static func enrolledInDepartments(_ conn: Connection, plan: String, departments: [String]) throws -> [String] {
        guard !departments.isEmpty else { return [] }
        return try conn.query("""
            SELECT DISTINCT e.code FROM entities e JOIN enrollments en ON en.entity_code = e.code AND en.plan_code = \(plan)
             WHERE e.department_code = ANY(\(departments)::text[])
             ORDER BY e.code
            """).rows.map { try $0.decode("code", as: String.self) }
    }

    /// Sets the same dates for every entity in one statement per table, logging each change. Returns the
    /// number of (entity, milestone) rows written.
    @discardableResult
    static func setExceptions(_ conn: Connection, plan: String, entities: [String], due: [String: CalendarDay],
                              reason: String, by: Int64?, at: Date) throws -> Int {
        let milestones = due.keys.sorted()
        let dates = milestones.map { due[$0]!.description }
        return try conn.execute("""
            WITH wanted AS (
                SELECT e.code AS entity_code, d.code AS milestone_code, d.due_on::date AS due_on
                  FROM unnest(\(entities)::text[]) AS e(code)
                 CROSS JOIN unnest(\(milestones)::text[], \(dates)::text[]) AS d(code, due_on)
            ), before AS (
                SELECT w.*, x.due_on AS previous_due_on
                  FROM wanted w
                  LEFT JOIN schedule_exceptions x
                         ON x.plan_code = \(plan) AND x.entity_code = w.entity_code AND x.milestone_code = w.milestone_code
            ), written AS (
                INSERT INTO schedule_exceptions (plan_code, entity_code, milestone_code, due_on, reason, created_by, created_at)
                SELECT \(plan), entity_code, milestone_code, due_on, \(reason), \(by), \(at) FROM wanted
                ON CONFLICT (plan_code, entity_code, milestone_code)
                DO UPDATE SET due_on = EXCLUDED.due_on, reason = EXCLUDED.reason,
                              created_by = EXCLUDED.created_by, created_at = EXCLUDED.created_at
                RETURNING entity_code
            )
            INSERT INTO schedule_exception_events (plan_code, entity_code, milestone_code, action, previous_due_on, due_on,
                                                   reason, person_id, at)
            SELECT \(plan), b.entity_code, b.milestone_code, 'set', b.previous_due_on, b.due_on, \(reason), \(by), \(at)
              FROM before b
            """)
    }

    /// Removes an entity's exceptions (all, or one milestone's), logging each. Returns how many were removed.
    static func removeExceptions(_ conn: Connection, plan: String, entity: String, milestone: String?,
                                 reason: String, by: Int64?, at: Date) throws -> Int {
        try conn.execute("""
            WITH removed AS (
                DELETE FROM schedule_exceptions
                 WHERE plan_code = \(plan) AND entity_code = \(entity)
                   AND (\(milestone)::text IS NULL OR milestone_code = \(milestone))
                RETURNING entity_code, milestone_code, due_on
            )
            INSERT INTO schedule_exception_events (plan_code, entity_code, milestone_code, action, previous_due_on, reason, person_id, at)
            SELECT \(plan), entity_code, milestone_code, 'remove', due_on, \(reason), \(by), \(at) FROM removed
            """)
    }
}
