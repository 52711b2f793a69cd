// The database half of the report write rules: one SQL statement over any row source, run by the import and the PUT.
import Foundation
import SetaDatabase
import SetaDomain

/// The report write rules (reglas de escritura del reporte, `ReportWriteRules`) that need the database, as
/// ONE statement over a row source with the columns `plan text, entity text, period date, milestone text,
/// status text` (other columns pass through): plan known, entity known, entity enrolled in the plan at
/// the month (inscrita, `covers_month`), month not locked (bloqueado), milestone in the plan's current
/// catalog, `not_applicable` allowed there. Each row comes back with `problem`, the first rule it breaks
/// as `{rule, field, reason}` (NULL when none), and `milestone_position`, the milestone's place in the
/// catalog. The import runs it over a million staged rows; the PUT over the few milestones of its body.
enum ReportWriteChecks {
    typealias Rule = ReportWriteRules.Rule

    /// The statement over `source` (a table name or a parenthesised SELECT, aliased `s`). Set-based: every
    /// rule is a join, so a million rows are checked with hash joins in one pass. The enrollment join adds no
    /// rows: at most one enrollment covers a month (exclusion constraint).
    static func select(from source: SQL) -> SQL {
        """
        SELECT s.*, m.position AS milestone_position,
               CASE
                 WHEN p.code IS NULL
                      THEN ARRAY[\(Rule.planUnknown.rawValue), 'plan', 'No existe el plan «' || s.plan || '».']
                 WHEN e.code IS NULL
                      THEN ARRAY[\(Rule.entityUnknown.rawValue), 'entity', 'No existe la entidad territorial «' || s.entity || '».']
                 WHEN en.entity_code IS NULL
                      THEN ARRAY[\(Rule.notEnrolled.rawValue), 'entity', 'La entidad ' || s.entity || ' no está inscrita en el plan '
                                 || s.plan || ' en ' || to_char(s.period, 'YYYY-MM') || '.']
                 WHEN l.plan_code IS NOT NULL
                      THEN ARRAY[\(Rule.periodLocked.rawValue), 'period', 'El periodo ' || to_char(s.period, 'YYYY-MM') || ' del plan '
                                 || s.plan || ' está bloqueado: ' || l.reason]
                 WHEN s.milestone IS NOT NULL AND m.code IS NULL
                      THEN ARRAY[\(Rule.milestoneUnknown.rawValue), 'milestone', 'El hito ' || s.milestone
                                 || ' no está en el catálogo vigente del plan ' || s.plan || '.']
                 WHEN s.status = 'not_applicable' AND NOT m.not_applicable_allowed
                      THEN ARRAY[\(Rule.notApplicableRefused.rawValue), 'status', 'El hito ' || s.milestone || ' («' || m.name
                                 || '») no admite not_applicable en el plan ' || s.plan || '.']
               END AS problem
          FROM \(source) s
          LEFT JOIN plans p ON p.code = s.plan
          LEFT JOIN entities e ON e.code = s.entity
          LEFT JOIN enrollments en ON en.plan_code = s.plan AND en.entity_code = s.entity
                                  AND covers_month(en.from_period, en.to_period, s.period)
          LEFT JOIN period_locks l ON l.plan_code = s.plan AND l.period = s.period
          LEFT JOIN plan_milestones m ON m.plan_code = p.code AND m.version = p.current_version AND m.code = s.milestone
        """
    }

    /// What the database rules say of one PUT: the problems with the index of the body's milestone they are
    /// about, and each milestone's catalog position.
    struct Outcome: Sendable {
        var problems: [(index: Int?, problem: ReportWriteRules.Problem)]
        var positions: [String: Int]

        /// An unknown plan or entity in the path: 404 naming it. Asked before the caller's scope, so a
        /// report path that names nothing is a 404 for everyone.
        func requireTarget() throws {
            for (_, p) in problems where p.rule == .planUnknown || p.rule == .entityUnknown {
                throw StoreError.notFound(p.reason, field: p.field, found: p.found)
            }
        }

        /// The other rules, once the caller is known to be allowed: not enrolled (422 `entity`), a locked
        /// month (423 `period`), then every milestone that breaks a rule (422, each naming its body field).
        func requireValid() throws {
            if let (_, p) = problems.first(where: { $0.problem.rule == .notEnrolled }) {
                throw StoreError.invalid(field: p.field, p.reason, found: p.found)
            }
            if let (_, p) = problems.first(where: { $0.problem.rule == .periodLocked }) {
                throw StoreError.locked(p.reason, field: p.field)
            }
            let errors = problems.map { FieldError(field: ReportWriteRules.bodyField($0.problem.field, index: $0.index ?? 0),
                                                   message: $0.problem.reason, found: $0.problem.found) }
            guard errors.isEmpty else {
                throw StoreError.invalid(errors, detail: errors.count == 1 ? errors[0].message
                                                                           : "El reporte tiene \(errors.count) hitos inválidos.")
            }
        }
    }

    /// Runs the statement over one report's milestones (plan, entity and month bound once, the milestones
    /// as bound arrays) after taking the month's lock shared, so a lock of the month waits for this write
    /// and the `period_locks` row read here stays true until commit. A body with no milestones still
    /// checks the report's key (one row with no milestone).
    static func check(_ conn: Connection, plan: String, entity: String, period: Period,
                      milestones: [MilestoneWrite]) throws -> Outcome {
        try ReportStore.lockPeriodShared(conn, plan: plan, month: period)
        let source: SQL = """
            (SELECT k.plan, k.entity, k.period, u.milestone, u.status, u.n
               FROM (SELECT \(plan)::text AS plan, \(entity)::text AS entity, \(period.firstDayString)::date AS period) k
               LEFT JOIN unnest(\(milestones.map(\.code))::text[], \(milestones.map(\.value.status.rawValue))::text[],
                                \(milestones.map(\.index))::int[]) AS u(milestone, status, n) ON TRUE)
            """
        let rows = try conn.query("""
            SELECT c.n, c.milestone, c.milestone_position, c.problem[1] AS rule, c.problem[2] AS field, c.problem[3] AS reason
              FROM (\(select(from: source))) c
            """).rows
        var outcome = Outcome(problems: [], positions: [:])
        for r in rows {
            let index: Int? = try r.decode("n")
            if let code: String = try r.decode("milestone"), let position: Int = try r.decode("milestone_position") {
                outcome.positions[code] = position
            }
            guard let rule = try r.decode("rule", as: String?.self).flatMap(Rule.init(rawValue:)) else { continue }
            let found: String? = switch rule {
            case .planUnknown: plan
            case .entityUnknown, .notEnrolled: entity
            case .periodLocked: period.description
            default: try r.decode("milestone")
            }
            outcome.problems.append((index, ReportWriteRules.Problem(rule: rule, field: try r.decode("field"),
                                                                     reason: try r.decode("reason"), found: found)))
        }
        outcome.problems.sort { ($0.index ?? -1) < ($1.index ?? -1) }
        return outcome
    }
}
