// SQL of monthly reports: the report head, milestone values, append-only revisions, carry-forward, scope and locks.
import Foundation
import SetaDatabase
import SetaDomain

/// The value an advisor reports for one milestone in one month. A mentioned milestone is replaced as a
/// whole: a field left out is empty afterwards (PUT semantics).
struct MilestoneValue: Sendable, Equatable {
    var status: MilestoneStatus
    var achievedOn: CalendarDay?
    var evidence: String?
    var comment: String?
}

/// One milestone of a report body, with its position in the body for field names (`milestones[3].comment`).
struct MilestoneWrite: Sendable {
    var index: Int
    var code: String
    var value: MilestoneValue
}

/// What an `If-Match` / `If-None-Match` header asks for: any current representation, or given revisions.
enum RevisionCondition: Sendable, Equatable {
    case any
    case revisions(Set<Int>)

    /// Parses `*` or a list of entity tags. `weak` tags (`W/"3"`) count only when `allowWeak` (If-None-Match
    /// uses weak comparison, If-Match strong). Returns nil when the header is absent.
    static func parse(_ header: String?, allowWeak: Bool) -> RevisionCondition? {
        guard let header else { return nil }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" { return .any }
        var revisions = Set<Int>()
        for part in trimmed.split(separator: ",") {
            var tag = part.trimmingCharacters(in: .whitespaces)
            if tag.hasPrefix("W/") {
                guard allowWeak else { continue }
                tag.removeFirst(2)
            }
            guard tag.count >= 2, tag.hasPrefix("\""), tag.hasSuffix("\""), let r = Int(tag.dropFirst().dropLast()) else { continue }
            revisions.insert(r)
        }
        return .revisions(revisions)
    }

    func matches(_ revision: Int?) -> Bool {
        guard let revision else { return false }
        switch self {
        case .any: return true
        case .revisions(let set): return set.contains(revision)
        }
    }
}

enum ReportStore {
    // MARK: - Entities, scope, enrollment

    /// The entity's name, or a 404 naming the field.
    static func requireEntity(_ conn: Connection, code: String, field: String = "entity") throws -> String {
        guard let row = try conn.query("SELECT name FROM entities WHERE code = \(code)").rows.first else {
            throw StoreError(kind: .notFound, detail: "No existe la entidad territorial «\(code)».",
                           errors: [FieldError(field: field, message: "Entidad desconocida.", found: code)])
        }
        return try row.decode("name")
    }

    /// Whether the entity is inside the caller's scope at `month` (Scope's rules: assignment for an
    /// advisor in `plan`, region for a coordinator, everything for the central team).
    static func inScope(_ conn: Connection, _ caller: Principal, entity: String, plan: String?, month: Period) throws -> Bool {
        let condition = Scope.condition(for: caller, entityColumn: "e.code", plan: plan, month: month)
        return try conn.query("SELECT (\(condition)) AS ok FROM (SELECT \(entity)::text AS code) e")
            .rows.first?.decode("ok", as: Bool.self) ?? false
    }

    /// SPEC "Rules for writes": an advisor only for entities assigned to them in that plan and month, a
    /// coordinator in their regions (as of that month), the central team anyone, a viewer never.
    static func requireWritable(_ conn: Connection, _ caller: Principal, entity: String, plan: String?, month: Period) throws {
        guard caller.role != .viewer,
              try inScope(conn, caller, entity: entity, plan: plan, month: month) else {
            throw StoreError.forbidden(caller.role == .advisor
                ? "La entidad \(entity) no le está asignada en \(plan ?? "ningún plan") para \(month)."
                : "La entidad \(entity) está fuera de su alcance para \(month).")
        }
    }

    /// Readers see a report when the entity is in their scope in the report's month or now; an advisor
    /// also sees the history of an entity they were ever assigned in the plan.
    static func requireReadable(_ conn: Connection, _ caller: Principal, entity: String, plan: String?,
                                months: [Period]) throws {
        for m in months where try inScope(conn, caller, entity: entity, plan: plan, month: m) { return }
        if caller.role == .advisor {
            let ever = try conn.query("""
                SELECT EXISTS (SELECT 1 FROM assignments WHERE person_id = \(caller.personId)
                                  AND (\(plan)::text IS NULL OR plan_code = \(plan)) AND entity_code = \(entity)) AS ok
                """).rows[0].decode("ok", as: Bool.self)
            if ever { return }
        }
        throw StoreError.forbidden("La entidad \(entity) está fuera de su alcance.")
    }

    // MARK: - Period locks

    /// The advisory lock of one (plan, month): writes take it shared, locking takes it exclusive.
    static func periodLockKey(plan: String, month: String) -> SQL {
        "\(LockKey.period)::int4, hashtext(\(plan) || '/' || \(month))"
    }

    /// Takes the month's lock shared, as every write does: a lock of the month waits for the write to end.
    static func lockPeriodShared(_ conn: Connection, plan: String, month: Period) throws {
        try conn.execute("SELECT pg_advisory_xact_lock_shared(\(periodLockKey(plan: plan, month: month.description)))")
    }

    /// Takes the month's lock shared and refuses the write with 423 and the lock's reason when it is locked
    /// (asesorías; a report write asks `ReportWriteChecks`, whose `period_locked` rule says the same).
    static func refuseLocked(_ conn: Connection, plan: String, month: Period) throws {
        try lockPeriodShared(conn, plan: plan, month: month)
        if let row = try conn.query("""
            SELECT reason FROM period_locks WHERE plan_code = \(plan) AND period = \(month.firstDayString)::date
            """).rows.first {
            let reason: String = try row.decode("reason")
            throw StoreError.locked("El periodo \(month) del plan \(plan) está bloqueado: \(reason)")
        }
    }

    /// Locks months of a plan (a cut does this; the central team can too) and records a `lock` event for
    /// each month not locked before. Months already locked keep their lock. Returns the months locked now.
    /// Pass the request's clock as `at` (nil uses the transaction's time).
    @discardableResult
    static func lock(_ conn: Connection, plan: String, periods: [Period], reason: String, by: Int64?, cutId: Int64?,
                     at: Date? = nil) throws -> [Period] {
        let months = Array(Set(periods)).sorted().map(\.firstDayString)
        guard !months.isEmpty else { return [] }
        // Exclusive, in month order (no deadlock between two lockers): waits for writes in flight.
        try conn.execute("""
            SELECT pg_advisory_xact_lock(\(LockKey.period)::int4, hashtext(\(plan) || '/' || to_char(s.m, 'YYYY-MM')))
              FROM (SELECT m FROM unnest(\(months)::date[]) AS m ORDER BY m) s
            """)
        let rows = try conn.query("""
            WITH added AS (
                INSERT INTO period_locks (plan_code, period, reason, locked_by, locked_at, cut_id)
                SELECT \(plan), m, \(reason), \(by), COALESCE(\(at)::timestamptz, now()), \(cutId)
                  FROM unnest(\(months)::date[]) AS m
                ON CONFLICT DO NOTHING
                RETURNING period
            ), events AS (
                INSERT INTO period_lock_events (plan_code, period, action, reason, person_id, cut_id, at)
                SELECT \(plan), period, 'lock', \(reason), \(by), \(cutId), COALESCE(\(at)::timestamptz, now()) FROM added
            )
            SELECT to_char(period, 'YYYY-MM') AS period FROM added ORDER BY period
            """).rows
        return try rows.compactMap { Period(try $0.decode("period", as: String.self)) }
    }

    /// Reopens a locked month, recording who and why; returns the event's id, nil when it was not locked.
    static func reopen(_ conn: Connection, plan: String, period: Period, reason: String, by: Int64?, at: Date) throws -> Int64? {
        try conn.execute("SELECT pg_advisory_xact_lock(\(periodLockKey(plan: plan, month: period.description)))")
        let rows = try conn.query("""
            WITH removed AS (
                DELETE FROM period_locks WHERE plan_code = \(plan) AND period = \(period.firstDayString)::date
                RETURNING plan_code, period, cut_id
            ), events AS (
                INSERT INTO period_lock_events (plan_code, period, action, reason, person_id, cut_id, at)
                SELECT plan_code, period, 'reopen', \(reason), \(by), cut_id, \(at) FROM removed
                RETURNING id
            )
            SELECT id FROM events
            """).rows
        return try rows.first?.decode("id", as: Int64.self)
    }

    // MARK: - Writing a report

    struct WriteOutcome {
        var created: Bool
        var changed: Bool
        var revision: Int
    }

    /// The value of each mentioned milestone before this write: the same month's row when there is one
    /// (then the write replaces it), otherwise the latest earlier month's (carried forward, SPEC rule 1), with
    /// the verdicts of the write rules that compare the two (Schema/022): `unchanged` (same month, same value:
    /// nothing to write) and `regression` (done → anything else).
    struct PriorValue {
        var value: MilestoneValue?
        var sameMonth: Bool
        var unchanged = false
        var regression = false
    }

    /// Writes one report in the caller's transaction. The head row is created or locked first, so two
    /// writers of the same report run one after the other and both land, each as its own revision.
    /// Checks of plan, entity, scope, enrollment, catalog and lock are the caller's (`ReportWriteChecks`);
    /// this checks the preconditions and the regression rule, and writes nothing when either fails.
    static func write(_ conn: Connection, plan: String, entity: String, period: Period, milestones: [MilestoneWrite],
                      ifMatch: RevisionCondition?, ifNoneMatch: RevisionCondition?, by: Int64, at: Date) throws -> WriteOutcome {
        let month = period.firstDayString
        // INSERT … ON CONFLICT DO NOTHING waits for a concurrent creator, then the SELECT locks the row.
        let inserted = try conn.query("""
            INSERT INTO reports (plan_code, entity_code, period, revision, first_received_at, updated_at, updated_by)
            VALUES (\(plan), \(entity), \(month)::date, 1, \(at), \(at), \(by))
            ON CONFLICT DO NOTHING
            RETURNING revision
            """).rows
        let created = !inserted.isEmpty
        let current: Int? = created ? nil : try conn.query("""
            SELECT revision FROM reports WHERE plan_code = \(plan) AND entity_code = \(entity) AND period = \(month)::date
               FOR UPDATE
            """).rows[0].decode("revision", as: Int.self)

        if let ifMatch, !ifMatch.matches(current) {
            throw StoreError.stale(current.map {
                "El reporte cambió: su revisión actual es \($0) (ETag \"\($0)\"). Léalo de nuevo y reenvíe sus cambios."
            } ?? "El reporte aún no existe; no envíe If-Match para crearlo.")
        }
        if let ifNoneMatch, ifNoneMatch.matches(current) {
            throw StoreError.stale("El reporte ya existe (revisión \(current ?? 0)).")
        }

        let prior = try priorValues(conn, plan: plan, entity: entity, period: period, milestones: milestones)
        var changes: [(write: MilestoneWrite, before: PriorValue, regression: Bool)] = []
        var errors: [FieldError] = []
        for m in milestones {
            let before = prior[m.code] ?? PriorValue(value: nil, sameMonth: false)
            if before.unchanged { continue }
            // The API asks a comment of a regression; the import, which brings none, only flags it.
            if before.regression && (m.value.comment ?? "").isEmpty {
                let p = ReportWriteRules.regressionWithoutComment(milestone: m.code, to: m.value.status)
                errors.append(FieldError(field: ReportWriteRules.bodyField(p.field, index: m.index), message: p.reason, found: p.found))
            }
            changes.append((m, before, before.regression))
        }
        if !errors.isEmpty {
            throw StoreError.invalid(errors, detail: "Un hito cumplido no puede retroceder sin comentario.")
        }
        if changes.isEmpty && !created {
            return WriteOutcome(created: false, changed: false, revision: current ?? 1)
        }

        let revision = (current ?? 0) + 1
        if !created {
            try conn.execute("""
                UPDATE reports SET revision = \(revision), updated_at = \(at), updated_by = \(by)
                 WHERE plan_code = \(plan) AND entity_code = \(entity) AND period = \(month)::date
                """)
        }
        guard !changes.isEmpty else { return WriteOutcome(created: true, changed: true, revision: revision) }

        let codes = changes.map(\.write.code)
        let statuses = changes.map(\.write.value.status.rawValue)
        let achieved = changes.map { $0.write.value.achievedOn?.description }
        let evidence = changes.map(\.write.value.evidence)
        let comments = changes.map(\.write.value.comment)
        let previousStatus = changes.map { $0.before.value?.status.rawValue }
        let previousAchieved = changes.map { $0.before.value?.achievedOn?.description }
        let previousEvidence = changes.map { $0.before.value?.evidence }
        let previousComment = changes.map { $0.before.value?.comment }
        let regressions = changes.map(\.regression)
        // One statement per table, the changed milestones passed as parallel arrays.
        try conn.execute("""
            INSERT INTO report_revisions (plan_code, entity_code, period, milestone_code, revision,
                                          previous_status, status, previous_achieved_on, achieved_on,
                                          previous_evidence, evidence, previous_comment, comment,
                                          is_regression, source, author_id, recorded_at)
            SELECT \(plan), \(entity), \(month)::date, c.code, \(revision),
                   c.previous_status, c.status, c.previous_achieved_on, c.achieved_on,
                   c.previous_evidence, c.evidence, c.previous_comment, c.comment,
                   c.regression, 'api', \(by), \(at)
              FROM unnest(\(codes)::text[], \(previousStatus)::text[], \(statuses)::text[],
                          \(previousAchieved)::date[], \(achieved)::date[],
                          \(previousEvidence)::text[], \(evidence)::text[],
                          \(previousComment)::text[], \(comments)::text[], \(regressions)::boolean[])
                   WITH ORDINALITY AS c(code, previous_status, status, previous_achieved_on, achieved_on,
                                        previous_evidence, evidence, previous_comment, comment, regression, n)
             ORDER BY c.n
            """)
        try conn.execute("""
            INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, achieved_on,
                                           evidence, comment, revision, updated_at, updated_by)
            SELECT \(plan), \(entity), \(month)::date, c.code, c.status, c.achieved_on, c.evidence, c.comment,
                   \(revision), \(at), \(by)
              FROM unnest(\(codes)::text[], \(statuses)::text[], \(achieved)::date[], \(evidence)::text[], \(comments)::text[])
                   AS c(code, status, achieved_on, evidence, comment)
            ON CONFLICT (plan_code, entity_code, milestone_code, period) DO UPDATE
               SET status = EXCLUDED.status, achieved_on = EXCLUDED.achieved_on, evidence = EXCLUDED.evidence,
                   comment = EXCLUDED.comment, revision = EXCLUDED.revision,
                   updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
            """)
        return WriteOutcome(created: created, changed: true, revision: revision)
    }

    /// Each milestone's prior value and the verdicts `report_value_unchanged` and `report_regression` give
    /// on the new one (Schema/022, the same functions the import's statements call), in one statement.
    static func priorValues(_ conn: Connection, plan: String, entity: String, period: Period,
                            milestones: [MilestoneWrite]) throws -> [String: PriorValue] {
        guard !milestones.isEmpty else { return [:] }
        let month = period.firstDayString
        let rows = try conn.query("""
            SELECT c.code, x.status, x.achieved_on::text AS achieved_on, x.evidence, x.comment,
                   COALESCE(x.period = \(month)::date, false) AS same_month,
                   COALESCE(x.period = \(month)::date
                            AND report_value_unchanged(x.status, x.achieved_on, x.evidence, x.comment,
                                                       c.status, c.achieved_on, c.evidence, c.comment), false) AS unchanged,
                   report_regression(x.status, c.status) AS regression
              FROM unnest(\(milestones.map(\.code))::text[], \(milestones.map(\.value.status.rawValue))::text[],
                          \(milestones.map { $0.value.achievedOn?.description })::date[],
                          \(milestones.map(\.value.evidence))::text[], \(milestones.map(\.value.comment))::text[])
                   AS c(code, status, achieved_on, evidence, comment)
              LEFT JOIN LATERAL (
                    SELECT rm.status, rm.achieved_on, rm.evidence, rm.comment, rm.period
                      FROM report_milestones rm
                     WHERE rm.plan_code = \(plan) AND rm.entity_code = \(entity) AND rm.milestone_code = c.code
                       AND rm.period <= \(month)::date
                     ORDER BY rm.period DESC LIMIT 1
              ) x ON TRUE
            """).rows
        var out: [String: PriorValue] = [:]
        for r in rows {
            let code: String = try r.decode("code")
            guard let status = try r.decode("status", as: String?.self).flatMap(MilestoneStatus.init(rawValue:)) else {
                out[code] = PriorValue(value: nil, sameMonth: false)
                continue
            }
            let value = MilestoneValue(status: status,
                                       achievedOn: try r.decode("achieved_on", as: String?.self).flatMap(CalendarDay.init),
                                       evidence: try r.decode("evidence"), comment: try r.decode("comment"))
            out[code] = PriorValue(value: value, sameMonth: try r.decode("same_month", as: Bool.self),
                                   unchanged: try r.decode("unchanged", as: Bool.self),
                                   regression: try r.decode("regression", as: Bool.self))
        }
        return out
    }

    // MARK: - Reading a report

    /// The report as the API returns it, or nil when the (plan, entity, month) was never reported.
    static func read(_ conn: Connection, plan: CatalogStore.PlanRow, entity: String, entityName: String,
                     period: Period) throws -> ReportDTO? {
        let month = period.firstDayString
        guard let head = try conn.query("""
            SELECT r.revision, r.first_received_at, r.updated_at, r.updated_by, p.name AS updated_by_name
              FROM reports r LEFT JOIN people p ON p.id = r.updated_by
             WHERE r.plan_code = \(plan.code) AND r.entity_code = \(entity) AND r.period = \(month)::date
            """).rows.first else { return nil }
        let milestones = try conn.query("""
            SELECT rm.milestone_code, rm.status, rm.achieved_on::text AS achieved_on, rm.evidence, rm.comment,
                   rm.revision, rm.updated_at, rm.updated_by, p.name AS updated_by_name
              FROM report_milestones rm
              LEFT JOIN people p ON p.id = rm.updated_by
              LEFT JOIN plan_milestones m ON m.plan_code = rm.plan_code AND m.version = \(plan.currentVersion) AND m.code = rm.milestone_code
             WHERE rm.plan_code = \(plan.code) AND rm.entity_code = \(entity) AND rm.period = \(month)::date
             ORDER BY m.position NULLS LAST, rm.milestone_code
            """).rows.map { r in
            ReportDTO.ReportedMilestone(
                code: try r.decode("milestone_code"), status: try r.decode("status"),
                achievedOn: try r.decode("achieved_on"), evidence: try r.decode("evidence"),
                comment: try r.decode("comment"), revision: try r.decode("revision"),
                updatedAt: try r.decode("updated_at"),
                updatedBy: try PersonRef(id: r.decode("updated_by"), name: r.decode("updated_by_name")))
        }
        let firstReceived: Date = try head.decode("first_received_at")
        let deadline = period.deadline(onTimeDay: plan.onTimeDay)
        return ReportDTO(
            plan: plan.code, entity: entity, entityName: entityName, period: period,
            revision: try head.decode("revision"), firstReceivedAt: firstReceived,
            onTime: CalendarDay(date: firstReceived) <= deadline, deadline: deadline,
            updatedAt: try head.decode("updated_at"),
            updatedBy: try PersonRef(id: head.decode("updated_by"), name: head.decode("updated_by_name")),
            milestones: milestones,
            carried: try carried(conn, plan: plan, entity: entity, period: period))
    }

    /// Every milestone of the plan's current catalog with its status as of the month (SPEC rule 1).
    static func carried(_ conn: Connection, plan: CatalogStore.PlanRow, entity: String, period: Period) throws -> [ReportDTO.CarriedMilestone] {
        try conn.query("""
            SELECT m.code, m.name, m.phase_code, COALESCE(s.status, 'not_started') AS status,
                   to_char(s.period, 'YYYY-MM') AS reported_in
              FROM plan_milestones m
              LEFT JOIN milestone_statuses_at(\(plan.code), \(period.firstDayString)::date, ARRAY[\(entity)::text]) s
                     ON s.milestone_code = m.code
             WHERE m.plan_code = \(plan.code) AND m.version = \(plan.currentVersion)
             ORDER BY m.position
            """).rows.map { r in
            ReportDTO.CarriedMilestone(code: try r.decode("code"), name: try r.decode("name"),
                                       phase: try r.decode("phase_code"), status: try r.decode("status"),
                                       reportedIn: try r.decode("reported_in", as: String?.self).flatMap(Period.init))
        }
    }

    // MARK: - History

    /// How many revisions the history holds under the same filters (the list's `total`).
    static func historyCount(_ conn: Connection, plan: String, entity: String, milestone: String?, period: Period?) throws -> Int {
        var count: SQL = "SELECT count(*) AS n FROM report_revisions WHERE plan_code = \(plan) AND entity_code = \(entity)"
        if let milestone { count.append(" AND milestone_code = \(milestone)") }
        if let period { count.append(" AND period = \(period.firstDayString)::date") }
        return try conn.query(count).rows[0].decode("n")
    }

    /// Every revision of an entity's milestones in a plan, oldest first, a page at a time (keyset on id
    /// order within recorded_at).
    static func history(_ conn: Connection, plan: String, entity: String, milestone: String?, period: Period?,
                        after: Int64?, limit: Int) throws -> [RevisionDTO] {
        var sql: SQL = """
            SELECT rv.id, to_char(rv.period, 'YYYY-MM') AS period, rv.milestone_code, rv.revision,
                   rv.previous_status, rv.status, rv.previous_achieved_on::text AS previous_achieved_on,
                   rv.achieved_on::text AS achieved_on, rv.previous_evidence, rv.evidence,
                   rv.previous_comment, rv.comment, rv.is_regression, rv.source,
                   rv.author_id, p.name AS author_name, rv.recorded_at
              FROM report_revisions rv
              LEFT JOIN people p ON p.id = rv.author_id
             WHERE rv.plan_code = \(plan) AND rv.entity_code = \(entity)
            """
        if let milestone { sql.append(" AND rv.milestone_code = \(milestone)") }
        if let period { sql.append(" AND rv.period = \(period.firstDayString)::date") }
        if let after {
            sql.append(" AND (rv.recorded_at, rv.id) > (SELECT x.recorded_at, x.id FROM report_revisions x WHERE x.id = \(after))")
        }
        sql.append(" ORDER BY rv.recorded_at, rv.id LIMIT \(limit)")
        return try conn.query(sql).rows.map { r in
            RevisionDTO(
                id: try r.decode("id"), period: try r.period("period"),
                milestone: try r.decode("milestone_code"), revision: try r.decode("revision"),
                previousStatus: try r.decode("previous_status"), status: try r.decode("status"),
                previousAchievedOn: try r.decode("previous_achieved_on"), achievedOn: try r.decode("achieved_on"),
                previousEvidence: try r.decode("previous_evidence"), evidence: try r.decode("evidence"),
                previousComment: try r.decode("previous_comment"), comment: try r.decode("comment"),
                isRegression: try r.decode("is_regression"), source: try r.decode("source"),
                author: try PersonRef(id: r.decode("author_id"), name: r.decode("author_name")),
                recordedAt: try r.decode("recorded_at"))
        }
    }
}

extension Row {
    /// A month column written as `YYYY-MM` (to_char) or as the date of its first day.
    func period(_ column: String) throws -> Period {
        let text: String = try decode(column)
        guard let p = Period(String(text.prefix(7))) else {
            throw DatabaseError(.decoding, message: "column \"\(column)\" is not a month", column: column)
        }
        return p
    }
}
