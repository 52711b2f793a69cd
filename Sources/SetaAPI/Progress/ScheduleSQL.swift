// SQL of expected progress, lag and overdue milestones (avance esperado, rezago, hitos vencidos) over maintained rows.
import SetaDatabase

extension ProgressStore {
    /// CTEs computing the schedule standing of every row of CTE `source` (entity_code, md, ma; plus `month` when
    /// `perMonth`), set-based in the statement that reads them: `<prefix>sched` with (entity_code, [month,] expected,
    /// od, overdue, overdue_count, oldest_due). `od` is per milestone in catalog order (applicable, due, not done).
    ///
    /// Same rules as `expected_progress_at` (Schema/015) and `ScheduleEngine` (docs/progress.md "Expected progress
    /// and lag"): an entity's exception replaces the catalog's due date; the effective due date is the earliest due
    /// date at or after the milestone in plan order; due when it is on or before the month's last day; expected is
    /// the progress formula with "done" replaced by "due" over the milestones not reported N/A. The catalog's
    /// schedule is computed once per statement; only entities with exceptions get their own.
    /// `month` is the calendar month (not the horizon): due dates pass even when nothing is reported.
    /// `sched` is MATERIALIZED: referenced once it would be inlined, and with poor estimates the planner may put
    /// its aggregation on the inner side of a nested loop and run it again for every row of the outer side.
    static func scheduleCTEs(plan: String, version: Int, month: SQL, source: String, perMonth: Bool = false,
                             prefix: String = "") -> SQL {
        let src = SQL(unsafe: source)
        let p = prefix
        let mcol = perMonth ? "s.month, " : ""
        let mgroup = perMonth ? ", month" : ""
        let monthExpr: SQL = perMonth ? "s.month" : month
        return """
            , \(unsafe: p)sm AS (
              SELECT pm.code, pm.position, (row_number() OVER (ORDER BY pm.position))::int AS i, pm.weight_in_phase,
                     ph.position AS phase_pos, ph.weight_in_plan AS phase_weight, pm.due_on
                FROM plan_milestones pm
                JOIN plan_phases ph ON ph.plan_code = pm.plan_code AND ph.version = pm.version AND ph.code = pm.phase_code
               WHERE pm.plan_code = \(plan) AND pm.version = \(version)
            ), \(unsafe: p)sx AS (
              SELECT x.entity_code, x.milestone_code, x.due_on FROM schedule_exceptions x
               WHERE x.plan_code = \(plan) AND x.entity_code IN (SELECT entity_code FROM \(src))
            ), \(unsafe: p)sd AS (
              SELECT k.k, sm.i,
                     min(COALESCE(sx.due_on, sm.due_on)) OVER (PARTITION BY k.k ORDER BY sm.position DESC
                                                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS eff
                FROM (SELECT ''::text AS k UNION SELECT DISTINCT entity_code FROM \(unsafe: p)sx) k
               CROSS JOIN \(unsafe: p)sm sm
                LEFT JOIN \(unsafe: p)sx sx ON sx.entity_code = k.k AND sx.milestone_code = sm.code
            ), \(unsafe: p)sme AS (
              SELECT s.entity_code, \(unsafe: mcol)sm.code, sm.position, sm.phase_pos, sm.phase_weight, sm.weight_in_phase, sd.eff,
                     COALESCE(s.ma[sm.i], true) AS app, COALESCE(s.md[sm.i], false) AS done,
                     COALESCE(sd.eff < (\(monthExpr) + interval '1 month')::date, false) AS due
                FROM \(src) s
               CROSS JOIN \(unsafe: p)sm sm
                JOIN \(unsafe: p)sd sd ON sd.i = sm.i
                 AND sd.k = CASE WHEN s.entity_code IN (SELECT entity_code FROM \(unsafe: p)sx) THEN s.entity_code ELSE '' END
            ), \(unsafe: p)sph AS (
              SELECT entity_code\(unsafe: mgroup), phase_pos, phase_weight,
                     sum(weight_in_phase) FILTER (WHERE app) AS applicable,
                     COALESCE(sum(weight_in_phase) FILTER (WHERE app AND due), 0) AS due_weight
                FROM \(unsafe: p)sme GROUP BY entity_code\(unsafe: mgroup), phase_pos, phase_weight
            ), \(unsafe: p)sexp AS (
              SELECT entity_code\(unsafe: mgroup),
                     sum(phase_weight * (due_weight * 100 / applicable)) FILTER (WHERE applicable > 0)
                         / NULLIF(sum(phase_weight) FILTER (WHERE applicable > 0), 0) AS expected
                FROM \(unsafe: p)sph GROUP BY entity_code\(unsafe: mgroup)
            ), \(unsafe: p)sov AS (
              SELECT entity_code\(unsafe: mgroup),
                     array_agg(app AND due AND NOT done ORDER BY position) AS od,
                     array_agg(COALESCE(to_char(eff, 'YYYY-MM-DD'), '') ORDER BY position) AS eff_dates,
                     COALESCE(array_agg(code ORDER BY eff, position) FILTER (WHERE app AND due AND NOT done), '{}'::text[]) AS overdue,
                     (count(*) FILTER (WHERE app AND due AND NOT done))::int AS overdue_count,
                     min(eff) FILTER (WHERE app AND due AND NOT done) AS oldest_due
                FROM \(unsafe: p)sme GROUP BY entity_code\(unsafe: mgroup)
            ), \(unsafe: p)sched AS MATERIALIZED (
              SELECT o.*, x.expected FROM \(unsafe: p)sov o
                JOIN \(unsafe: p)sexp x ON x.entity_code = o.entity_code\(unsafe: perMonth ? " AND x.month = o.month" : "")
            )
            """
    }
}
