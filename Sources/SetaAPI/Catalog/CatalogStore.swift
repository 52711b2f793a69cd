// SQL of the catalog: plans (planes) and their immutable versions of stages, phases and milestones.
import Foundation
import Synchronization
import SetaDatabase
import SetaDomain

enum CatalogStore {
    struct PlanRow {
        var code: String
        var name: String
        var currentVersion: Int
        var onTimeDay: Int
        /// The months the plan runs (vigencia); nil until the central team sets it.
        var span: PlanSpan?
    }

    static func plans(_ conn: Connection) throws -> [PlanRow] {
        try conn.query("SELECT code, name, current_version, on_time_day, to_char(span_from, 'YYYY-MM') AS span_from, to_char(span_to, 'YYYY-MM') AS span_to FROM plans ORDER BY code").rows.map(planRow)
    }

    static func plan(_ conn: Connection, code: String) throws -> PlanRow? {
        try conn.query("SELECT code, name, current_version, on_time_day, to_char(span_from, 'YYYY-MM') AS span_from, to_char(span_to, 'YYYY-MM') AS span_to FROM plans WHERE code = \(code)").rows.first.map(planRow)
    }

    /// The plan row, or a 404 naming it.
    static func requirePlan(_ conn: Connection, code: String, field: String = "plan") throws -> PlanRow {
        guard let p = try plan(conn, code: code) else { throw unknownPlan(code, field: field) }
        return p
    }

    /// The refusal for a plan code that names no plan.
    static func unknownPlan(_ code: String, field: String = "plan") -> StoreError {
        StoreError(kind: .notFound, detail: "No existe el plan «\(code)».",
                   errors: [FieldError(field: field, message: "Plan desconocido.", found: code)])
    }

    private static func planRow(_ r: Row) throws -> PlanRow {
        let from = try r.decode("span_from", as: String?.self).flatMap(Period.init)
        let to = try r.decode("span_to", as: String?.self).flatMap(Period.init)
        return PlanRow(code: try r.decode("code"), name: try r.decode("name"),
                       currentVersion: try r.decode("current_version"), onTimeDay: try r.decode("on_time_day"),
                       span: from.flatMap { f in to.map { PlanSpan(from: f, to: $0) } })
    }

    /// Every plan with the size of its current version, in code order (the plan list).
    static func summaries(_ conn: Connection) throws -> [PlanSummary] {
        try conn.query("""
            SELECT p.code, p.name, p.current_version, p.on_time_day,
                   (SELECT count(*) FROM plan_phases f WHERE f.plan_code = p.code AND f.version = p.current_version) AS phase_count,
                   (SELECT count(*) FROM plan_milestones m WHERE m.plan_code = p.code AND m.version = p.current_version) AS milestone_count
              FROM plans p ORDER BY p.code
            """).rows.map { r in
            PlanSummary(code: try r.decode("code"), name: try r.decode("name"),
                        currentVersion: try r.decode("current_version"), onTimeDay: try r.decode("on_time_day"),
                        phaseCount: try r.decode("phase_count"), milestoneCount: try r.decode("milestone_count"))
        }
    }

    /// Starts a correction of the plan: lifts the statement timeout (the new version's progress is rebuilt
    /// at COMMIT, 013, longer than a read may take) and locks the plan's row so corrections of one plan
    /// run one after another. Returns its current version and on-time day.
    static func lockForCorrection(_ conn: Connection, code: String) throws -> (version: Int, onTimeDay: Int) {
        try conn.execute("SET LOCAL statement_timeout = 0")
        guard let row = try conn.query("SELECT current_version, on_time_day FROM plans WHERE code = \(code) FOR UPDATE").rows.first else {
            throw unknownPlan(code, field: "code")
        }
        return (try row.decode("current_version"), try row.decode("on_time_day"))
    }

    /// Makes `version` the plan's current one, with the name and on-time day it brings.
    static func makeCurrent(_ conn: Connection, code: String, version: Int, name: String, onTimeDay: Int) throws {
        try conn.execute("""
            UPDATE plans SET current_version = \(version), name = \(name), on_time_day = \(onTimeDay) WHERE code = \(code)
            """)
    }

    /// Plan versions are immutable once written (a trigger refuses updates and deletes), so a version read
    /// once may be kept: no instance can ever see it differ. Only "which version is current" is re-read.
    private static let cache = VersionCache()

    final class VersionCache: Sendable {
        private let versions = Mutex<[String: PlanCatalog]>([:])
        func get(_ key: String) -> PlanCatalog? { versions.withLock { $0[key] } }
        func put(_ key: String, _ value: PlanCatalog) {
            versions.withLock { versions in
                if versions.count > 1_000 { versions.removeAll() }
                versions[key] = value
            }
        }
    }

    /// One version of a plan as the domain sees it, in display order.
    static func catalog(_ conn: Connection, code: String, version: Int) throws -> PlanCatalog? {
        // The key includes the version's creation instant, so two databases (tests) never share an entry.
        let head = try conn.query("""
            SELECT name, created_at::text AS stamp FROM plan_versions WHERE plan_code = \(code) AND version = \(version)
            """).rows
        guard let row = head.first else { return nil }
        return try cached(conn, code: code, version: version, head: row)
    }

    /// A version from the cache, or loaded and kept; `head` holds the version's `name` and `stamp`.
    private static func cached(_ conn: Connection, code: String, version: Int, head row: Row) throws -> PlanCatalog {
        let key = "\(code)#\(version)#\(try row.decode("stamp", as: String.self))"
        if let known = cache.get(key) { return known }
        let loaded = try loadCatalog(conn, code: code, version: version, name: try row.decode("name"))
        cache.put(key, loaded)
        return loaded
    }

    private static func loadCatalog(_ conn: Connection, code: String, version: Int, name: String) throws -> PlanCatalog {
        let stages = try conn.query("""
            SELECT code, name, position FROM plan_stages WHERE plan_code = \(code) AND version = \(version) ORDER BY position
            """).rows.map { r in
            Stage(code: try r.decode("code"), name: try r.decode("name"), position: try r.decode("position"))
        }
        let phases = try conn.query("""
            SELECT code, name, stage_code, weight_in_plan, position FROM plan_phases
             WHERE plan_code = \(code) AND version = \(version) ORDER BY position
            """).rows.map { r in
            Phase(code: try r.decode("code"), name: try r.decode("name"), stageCode: try r.decode("stage_code"),
                  weightInPlan: try r.decode("weight_in_plan"), position: try r.decode("position"))
        }
        let milestones = try conn.query("""
            SELECT code, name, phase_code, weight_in_phase, position, not_applicable_allowed, due_on::text AS due_on
              FROM plan_milestones
             WHERE plan_code = \(code) AND version = \(version) ORDER BY position
            """).rows.map { r in
            Milestone(code: try r.decode("code"), name: try r.decode("name"), phaseCode: try r.decode("phase_code"),
                      weightInPhase: try r.decode("weight_in_phase"), position: try r.decode("position"),
                      notApplicableAllowed: try r.decode("not_applicable_allowed"),
                      dueOn: try r.decode("due_on", as: String?.self).flatMap(CalendarDay.init))
        }
        return PlanCatalog(code: code, name: name, version: version, stages: stages, phases: phases, milestones: milestones)
    }

    /// The current version of a plan, or a 404 naming `plan`. One round trip when the version is cached.
    static func currentCatalog(_ conn: Connection, code: String) throws -> PlanCatalog {
        try currentCatalogStamped(conn, code: code).catalog
    }

    /// The current version with its stamp (the version's creation instant), for `CatalogHints`.
    static func currentCatalogStamped(_ conn: Connection, code: String) throws -> (catalog: PlanCatalog, stamp: String) {
        let rows = try conn.query("""
            SELECT p.current_version, v.name, v.created_at::text AS stamp
              FROM plans p JOIN plan_versions v ON v.plan_code = p.code AND v.version = p.current_version
             WHERE p.code = \(code)
            """).rows
        guard let row = rows.first else { throw unknownPlan(code) }
        return (try cached(conn, code: code, version: try row.decode("current_version"), head: row), try row.decode("stamp"))
    }

    static func versions(_ conn: Connection, code: String) throws -> [(version: Int, name: String, reason: String?, createdAt: Date)] {
        try conn.query("""
            SELECT version, name, reason, created_at FROM plan_versions WHERE plan_code = \(code) ORDER BY version
            """).rows.map { r in
            (try r.decode("version"), try r.decode("name"), try r.decode("reason"), try r.decode("created_at"))
        }
    }

    /// Writes a new plan (version 1). The caller has validated it.
    static func create(_ conn: Connection, _ plan: PlanCatalog, onTimeDay: Int, by person: Int64?) throws {
        try conn.execute("""
            INSERT INTO plans (code, name, current_version, on_time_day) VALUES (\(plan.code), \(plan.name), 1, \(onTimeDay))
            """)
        var v = plan
        v.version = 1
        try insertVersion(conn, v, reason: "Creación del plan", by: person)
    }

    /// Writes every row of one version; versions are never updated afterwards.
    static func insertVersion(_ conn: Connection, _ plan: PlanCatalog, reason: String?, by person: Int64?) throws {
        try conn.execute("""
            INSERT INTO plan_versions (plan_code, version, name, reason, created_by)
            VALUES (\(plan.code), \(plan.version), \(plan.name), \(reason), \(person))
            """)
        // One statement per level, the rows passed as parallel arrays.
        try conn.execute("""
            INSERT INTO plan_stages (plan_code, version, code, name, position)
            SELECT \(plan.code), \(plan.version), s.code, s.name, s.position
              FROM unnest(\(plan.stages.map(\.code))::text[], \(plan.stages.map(\.name))::text[], \(plan.stages.map(\.position))::int[])
                   AS s(code, name, position)
            """)
        try conn.execute("""
            INSERT INTO plan_phases (plan_code, version, code, name, stage_code, weight_in_plan, position)
            SELECT \(plan.code), \(plan.version), p.code, p.name, NULLIF(p.stage_code, ''), p.weight::numeric, p.position
              FROM unnest(\(plan.phases.map(\.code))::text[], \(plan.phases.map(\.name))::text[],
                          \(plan.phases.map { $0.stageCode ?? "" })::text[], \(plan.phases.map { "\($0.weightInPlan)" })::text[],
                          \(plan.phases.map(\.position))::int[])
                   AS p(code, name, stage_code, weight, position)
            """)
        try conn.execute("""
            INSERT INTO plan_milestones (plan_code, version, code, name, phase_code, weight_in_phase, position,
                                         not_applicable_allowed, due_on)
            SELECT \(plan.code), \(plan.version), m.code, m.name, m.phase_code, m.weight::numeric, m.position,
                   m.na_allowed, m.due_on::date
              FROM unnest(\(plan.milestones.map(\.code))::text[], \(plan.milestones.map(\.name))::text[],
                          \(plan.milestones.map(\.phaseCode))::text[], \(plan.milestones.map { "\($0.weightInPhase)" })::text[],
                          \(plan.milestones.map(\.position))::int[], \(plan.milestones.map(\.notApplicableAllowed))::boolean[],
                          \(plan.milestones.map { $0.dueOn?.description })::text[])
                   AS m(code, name, phase_code, weight, position, na_allowed, due_on)
            """)
    }

    /// Sets the plan's span (vigencia); nil leaves it as it is.
    static func setSpan(_ conn: Connection, plan: String, span: PlanSpan?) throws {
        guard let span else { return }
        try conn.execute("""
            UPDATE plans SET span_from = \(span.from.firstDayString)::date, span_to = \(span.to.firstDayString)::date
             WHERE code = \(plan)
            """)
    }

    /// How many reported milestone values say not_applicable, per milestone code: a correction that takes
    /// the option away from a milestone answers with these counts (the reports stay as they were).
    static func notApplicableReports(_ conn: Connection, plan: String, codes: [String]) throws -> [String: Int] {
        guard !codes.isEmpty else { return [:] }
        var out: [String: Int] = [:]
        for r in try conn.query("""
            SELECT milestone_code, count(*) AS n FROM report_milestones
             WHERE plan_code = \(plan) AND status = 'not_applicable' AND milestone_code = ANY(\(codes)::text[])
             GROUP BY milestone_code
            """).rows {
            out[try r.decode("milestone_code")] = try r.decode("n", as: Int.self)
        }
        return out
    }

    /// Milestone codes of the plan that reports reference: a correction may not drop them.
    static func reportedMilestones(_ conn: Connection, plan: String) throws -> Set<String> {
        Set(try conn.query("""
            SELECT DISTINCT milestone_code FROM report_milestones WHERE plan_code = \(plan)
            """).rows.map { try $0.decode("milestone_code", as: String.self) })
    }
}
