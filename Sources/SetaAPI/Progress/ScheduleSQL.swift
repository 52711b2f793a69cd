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
    /// the progress formula with "done" replaced by "due" over the milestones not reported N/A.
    ///
    /// The work is done once per distinct (exception profile, month, done pattern, applicable pattern), not per
    /// entity: entities without exceptions share the catalog's dates, those under one decree share one profile
    /// (its dates), and entities that advance in plan order share few patterns. Each row then joins its result.
    /// `month` is the calendar month (not the horizon): due dates pass even when nothing is reported.
    /// Each row carries its combination as one text key (`cid`), so it finds its result by a single-column hash
    /// join: a join back on the arrays is estimated at one row and planned as a nested loop (seconds).
    /// `sres` and `sched` are MATERIALIZED: referenced once they would be inlined, and with poor estimates the
    /// planner may put their aggregations on the inner side of a nested loop and run them again for every outer row.
    static func scheduleCTEs(plan: String, version: Int, month: SQL, source: String, perMonth: Bool = false,
                             prefix: String = "") -> SQL {
        let src = SQL(unsafe: source)
        let p = prefix
        // Per month, the combinations carry the month; the due test reads it from them.
        let mcol = perMonth ? "month, " : ""
        let smcol = perMonth ? "s.month, " : ""
        let monthExpr: SQL = perMonth ? "c.month" : month
        return """
            , \(unsafe: p)sm AS (
              SELECT pm.code, pm.position, (row_number() OVER (ORDER BY pm.position))::int AS i, pm.weight_in_phase,
                     ph.position AS phase_pos, ph.weight_in_plan AS phase_weight, pm.due_on
                FROM plan_milestones pm
                JOIN plan_phases ph ON ph.plan_code = pm.plan_code AND ph.version = pm.version AND ph.code = pm.phase_code
               WHERE pm.plan_code = \(plan) AND pm.version = \(version)
            ), \(unsafe: p)sprof AS (
              SELECT x.entity_code, string_agg(x.milestone_code || '=' || x.due_on::text, ',' ORDER BY x.milestone_code) AS k
                FROM schedule_exceptions x
               WHERE x.plan_code = \(plan) AND x.entity_code IN (SELECT entity_code FROM \(src))
               GROUP BY x.entity_code
            ), \(unsafe: p)sxp AS (
              SELECT DISTINCT ON (pr.k, x.milestone_code) pr.k, x.milestone_code, x.due_on
                FROM \(unsafe: p)sprof pr
                JOIN schedule_exceptions x ON x.plan_code = \(plan) AND x.entity_code = pr.entity_code
            ), \(unsafe: p)sd AS (
              SELECT k.k, sm.i,
                     min(COALESCE(sx.due_on, sm.due_on)) OVER (PARTITION BY k.k ORDER BY sm.position DESC
                                                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS eff
                FROM (SELECT ''::text AS k UNION SELECT k FROM \(unsafe: p)sprof) k
               CROSS JOIN \(unsafe: p)sm sm
                LEFT JOIN \(unsafe: p)sxp sx ON sx.k = k.k AND sx.milestone_code = sm.code
            ), \(unsafe: p)skey AS MATERIALIZED (
              SELECT s.entity_code, \(unsafe: smcol)s.md, s.ma, COALESCE(pr.k, '') AS k,
                     COALESCE(pr.k, '') || '|' || \(unsafe: perMonth ? "s.month::text || '|' || " : "")s.md::text || s.ma::text AS cid
                FROM \(src) s LEFT JOIN \(unsafe: p)sprof pr ON pr.entity_code = s.entity_code
            ), \(unsafe: p)scomb AS MATERIALIZED (
              SELECT cid, k, \(unsafe: mcol)md, ma FROM \(unsafe: p)skey GROUP BY cid, k, \(unsafe: mcol)md, ma
            ), \(unsafe: p)sme AS (
              SELECT c.cid, sm.code, sm.position, sm.phase_pos, sm.phase_weight, sm.weight_in_phase,
                     sd.eff, COALESCE(c.ma[sm.i], true) AS app, COALESCE(c.md[sm.i], false) AS done,
                     COALESCE(sd.eff < (\(monthExpr) + interval '1 month')::date, false) AS due
                FROM \(unsafe: p)scomb c
               CROSS JOIN \(unsafe: p)sm sm
                JOIN \(unsafe: p)sd sd ON sd.k = c.k AND sd.i = sm.i
            ), \(unsafe: p)sph AS (
              SELECT cid, phase_pos, phase_weight,
                     sum(weight_in_phase) FILTER (WHERE app) AS applicable,
                     COALESCE(sum(weight_in_phase) FILTER (WHERE app AND due), 0) AS due_weight
                FROM \(unsafe: p)sme GROUP BY cid, phase_pos, phase_weight
            ), \(unsafe: p)sexp AS (
              SELECT cid,
                     sum(phase_weight * (due_weight * 100 / applicable)) FILTER (WHERE applicable > 0)
                         / NULLIF(sum(phase_weight) FILTER (WHERE applicable > 0), 0) AS expected
                FROM \(unsafe: p)sph GROUP BY cid
            ), \(unsafe: p)sov AS (
              SELECT cid,
                     array_agg(app AND due AND NOT done ORDER BY position) AS od,
                     array_agg(COALESCE(to_char(eff, 'YYYY-MM-DD'), '') ORDER BY position) AS eff_dates,
                     COALESCE(array_agg(code ORDER BY eff, position) FILTER (WHERE app AND due AND NOT done), '{}'::text[]) AS overdue,
                     (count(*) FILTER (WHERE app AND due AND NOT done))::int AS overdue_count,
                     min(eff) FILTER (WHERE app AND due AND NOT done) AS oldest_due
                FROM \(unsafe: p)sme GROUP BY cid
            ), \(unsafe: p)sres AS MATERIALIZED (
              SELECT o.*, x.expected FROM \(unsafe: p)sov o
                JOIN \(unsafe: p)sexp x ON x.cid = o.cid
            ), \(unsafe: p)sched AS MATERIALIZED (
              SELECT sk.entity_code, \(unsafe: perMonth ? "sk.month, " : "")r.od, r.eff_dates, r.overdue, r.overdue_count,
                     r.oldest_due, r.expected
                FROM \(unsafe: p)skey sk
                JOIN \(unsafe: p)sres r ON r.cid = sk.cid
            )
            """
    }
}
