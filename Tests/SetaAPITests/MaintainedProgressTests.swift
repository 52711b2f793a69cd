// The progress rows maintained by writes (Schema/013) equal a from-scratch computation by the pure engine,
// for every entity at every month, after random sequences of writes of every kind.
import Foundation
import Synchronization
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain
import SetaTestSupport

@Suite("Maintained progress equals the pure engine", .serialized)
struct MaintainedProgressTests {
    static let central = Principal(personId: 0, name: "central", role: .central, partnerCode: nil, limitedToPartner: false,
                                   regions: [], tokenId: 0)

    /// Every milestone's history as stored (one current status per month), the pure engine's input.
    static func histories(_ conn: Connection, plan: String) throws -> [String: [String: ProgressEngine.History]] {
        var out: [String: [String: ProgressEngine.History]] = [:]
        for r in try conn.query("""
            SELECT entity_code, milestone_code, to_char(period, 'YYYY-MM') AS p, status FROM report_milestones
             WHERE plan_code = \(plan) ORDER BY period
            """).rows {
            let e: String = try r.decode("entity_code"), m: String = try r.decode("milestone_code")
            out[e, default: [:]][m, default: []].append((Period(try r.decode("p", as: String.self))!,
                                                         MilestoneStatus(rawValue: try r.decode("status"))!))
        }
        return out
    }

    /// Compares, at every month from before the first report to after the last, every enrolled entity's
    /// maintained figures with the pure engine over the stored histories, and the national roll-up.
    static func expectAgreement(_ db: TestDatabase, plan: PlanCatalog, enrolled: [String: ClosedRange<Period>],
                                step: String) throws -> Int {
        var compared = 0
        let history = try db.pool.withConnection { try histories($0, plan: plan.code) }
        for month in Period.months(from: Period("2019-11")!, to: Period("2021-03")!) {
            let sql = try db.pool.withConnection { conn in
                try ProgressStore.entities(conn, plan: plan.code, version: plan.version, month: month, principal: central,
                                           filter: ProgressFilter(), sort: .code, descending: false, limit: 5000, offset: 0)
            }
            let expectedCodes = enrolled.filter { $0.value.contains(month) }.keys.sorted()
            #expect(sql.rows.map(\.code) == expectedCodes, "\(step): enrolled entities as of \(month)")
            var swift: [(code: String, name: String, progress: EntityProgress)] = []
            for row in sql.rows {
                let expected = ProgressEngine.entityProgress(plan: plan, history: history[row.code] ?? [:], asOf: month)
                swift.append((row.code, row.code, expected))
                #expect(row.total?.rounded(scale: 10) == expected.total?.rounded(scale: 10), "\(step): \(row.code) as of \(month): rows \(String(describing: row.total)) engine \(String(describing: expected.total))")
                for p in expected.phases {
                    #expect((row.phases[p.code] ?? nil)?.rounded(scale: 10) == p.progress?.rounded(scale: 10), "\(step): \(row.code) \(p.code) as of \(month)")
                    #expect(row.completed[p.code] == p.completed, "\(step): \(row.code) \(p.code) completed as of \(month)")
                }
                compared += 1
            }
            guard !swift.isEmpty else { continue }
            let groups = try db.pool.withConnection { conn in
                try ProgressStore.groups(conn, kind: .national, plan: plan.code, version: plan.version, month: month,
                                         principal: central, filter: ProgressFilter())
            }
            let expected = GroupSummary.of(entities: swift, phaseCodes: plan.phases.map(\.code))
            let got = try #require(groups.first).summary
            #expect(got.meanProgress?.rounded(scale: 2) == expected.meanProgress?.rounded(scale: 2), "\(step): mean as of \(month)")
            #expect(got.atHundred == expected.atHundred, "\(step): at 100 as of \(month)")
            #expect(got.lowest == expected.lowest, "\(step): lowest as of \(month)")
        }
        return compared
    }

    @Test("after random reports, regressions, N/A, imports, deletions, enrollment ends, region moves and catalog corrections, every maintained row equals the engine")
    func maintainedRowsEqualTheEngine() throws {
        let db = try TestDatabase.make(template: APIHarness.seededTemplate)
        defer { db.drop() }
        var rng = DemoRandom(seed: 20_26_11)
        var plan = ProgressCrossCheckTests.randomPlan(90, &rng)
        let months = Period.months(from: Period("2020-01")!, to: Period("2020-12")!)
        let entities = try db.pool.withConnection { conn in
            try conn.query("SELECT code FROM entities ORDER BY md5(code) LIMIT 12").rows.map { try $0.decode("code", as: String.self) }
        }
        var enrolled: [String: ClosedRange<Period>] = [:]
        try db.pool.withTransaction { conn in
            try CatalogStore.create(conn, plan, onTimeDay: 10, by: nil)
            try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) SELECT \(plan.code), unnest(\(entities)::text[]), DATE '2020-01-01'")
        }
        for e in entities { enrolled[e] = Period("2020-01")!...Period("2099-12")! }
        var compared = try Self.expectAgreement(db, plan: plan, enrolled: enrolled, step: "no report yet")

        func status() -> MilestoneStatus {
            rng.chance(45) ? .done : (rng.chance(30) ? .notApplicable : MilestoneStatus.allCases[rng.below(4)])
        }
        /// One report write as the PUT route makes it: the report row, then its milestones (a regression when
        /// a done milestone goes back).
        func report(_ conn: Connection, entity: String, month: Period, count: Int) throws {
            try conn.execute("""
                INSERT INTO reports (plan_code, entity_code, period, revision, first_received_at, updated_at)
                VALUES (\(plan.code), \(entity), \(month.firstDayString)::date, 1, now(), now())
                ON CONFLICT (plan_code, entity_code, period) DO UPDATE SET revision = reports.revision + 1, updated_at = now()
                """)
            for _ in 0..<count {
                let m = plan.milestones[rng.below(plan.milestones.count)].code
                try conn.execute("""
                    INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at)
                    VALUES (\(plan.code), \(entity), \(month.firstDayString)::date, \(m), \(status().rawValue), 1, now())
                    ON CONFLICT (plan_code, entity_code, milestone_code, period) DO UPDATE SET status = EXCLUDED.status
                    """)
            }
        }

        for step in 1...36 {
            let kind = rng.below(10)
            let label = "step \(step) (kind \(kind))"
            try db.pool.withTransaction { conn in
                switch kind {
                case 0...3:  // one advisor's report
                    try report(conn, entity: entities[rng.below(entities.count)], month: months[rng.below(months.count)],
                               count: 1 + rng.below(4))
                case 4:  // an import: many entities and months in one statement
                    var rows: [String] = [], heads: [String] = []
                    var seen = Set<String>()
                    for e in entities where rng.chance(60) {
                        let mo = months[rng.below(months.count)]
                        if seen.insert("\(e)|\(mo)").inserted {
                            heads.append(CSVWriter.line([plan.code, e, mo.firstDayString, "1", "2021-01-01 00:00:00Z", "2021-01-01 00:00:00Z"]))
                            for m in plan.milestones where rng.chance(50) {
                                rows.append(CSVWriter.line([plan.code, e, mo.firstDayString, m.code, status().rawValue, "1", "2021-01-01 00:00:00Z"]))
                            }
                        }
                    }
                    try conn.execute("CREATE TEMP TABLE imp (LIKE report_milestones) ON COMMIT DROP")
                    try conn.execute("CREATE TEMP TABLE imph (LIKE reports) ON COMMIT DROP")
                    try conn.copyIn("COPY imph (plan_code, entity_code, period, revision, first_received_at, updated_at) FROM STDIN WITH (FORMAT csv)", rows: heads)
                    try conn.copyIn("COPY imp (plan_code, entity_code, period, milestone_code, status, revision, updated_at) FROM STDIN WITH (FORMAT csv)", rows: rows)
                    try conn.execute("INSERT INTO reports SELECT * FROM imph ON CONFLICT DO NOTHING")
                    try conn.execute("""
                        INSERT INTO report_milestones SELECT * FROM imp
                        ON CONFLICT (plan_code, entity_code, milestone_code, period) DO UPDATE SET status = EXCLUDED.status
                        """)
                case 5:  // a report's milestone removed (a correction of the data)
                    try conn.execute("""
                        DELETE FROM report_milestones WHERE ctid = (SELECT ctid FROM report_milestones WHERE plan_code = \(plan.code)
                         ORDER BY md5(entity_code || milestone_code || period::text || \(String(step))) LIMIT 1)
                        """)
                case 6:  // an enrollment ends
                    let e = entities[rng.below(entities.count)]
                    let end = months[rng.below(months.count)]
                    let r = enrolled[e]!
                    if r.upperBound > end && r.lowerBound <= end {
                        try conn.execute("""
                            UPDATE enrollments SET to_period = \(end.firstDayString)::date
                             WHERE plan_code = \(plan.code) AND entity_code = \(e)
                            """)
                        enrolled[e] = r.lowerBound...end
                    }
                case 7:  // a region move: membership only
                    let e = entities[rng.below(entities.count)]
                    try conn.execute("""
                        INSERT INTO entity_regions (entity_code, region_code, valid_from)
                        SELECT \(e), (SELECT code FROM regions ORDER BY md5(code || \(String(step))) LIMIT 1), DATE '2020-06-01'
                        ON CONFLICT DO NOTHING
                        """)
                default:  // a catalog correction: new weights, same milestones
                    var next = plan
                    next.version = plan.version + 1
                    let pw = ProgressCrossCheckTests.weights(plan.phases.count, &rng)
                    for i in next.phases.indices { next.phases[i].weightInPlan = pw[i] }
                    for ph in next.phases {
                        let idx = next.milestones.indices.filter { next.milestones[$0].phaseCode == ph.code }
                        let w = ProgressCrossCheckTests.weights(idx.count, &rng)
                        for (k, i) in idx.enumerated() { next.milestones[i].weightInPhase = w[k] }
                    }
                    try CatalogStore.insertVersion(conn, next, reason: "corrección \(step)", by: nil)
                    try conn.execute("UPDATE plans SET current_version = \(next.version) WHERE code = \(plan.code)")
                    plan = next
                }
            }
            if step % 4 == 0 || kind >= 8 {
                compared += try Self.expectAgreement(db, plan: plan, enrolled: enrolled, step: label)
            }
        }
        compared += try Self.expectAgreement(db, plan: plan, enrolled: enrolled, step: "end")
        // A series in one statement gives, month by month, what the single-month roll-up gives.
        for kind in [GroupKind.national, .regions, .departments] {
            let from = Period("2019-11")!, to = Period("2021-03")!
            let series = try db.pool.withConnection { conn in
                try ProgressStore.groupSeries(conn, kind: kind, plan: plan.code, version: plan.version, from: from, to: to,
                                              principal: Self.central, filter: ProgressFilter())
            }
            #expect(series.count == Period.months(from: from, to: to).count)
            for point in series {
                let single = try db.pool.withConnection { conn in
                    try ProgressStore.groups(conn, kind: kind, plan: plan.code, version: plan.version, month: Period(point.period)!,
                                             principal: Self.central, filter: ProgressFilter())
                }
                #expect(point.groups.map(\.key) == single.map(\.key), "\(kind) keys in \(point.period)")
                #expect(point.groups.map(\.summary) == single.map(\.summary), "\(kind) figures in \(point.period)")
            }
        }
        // Only the current version's rows are kept, and only for entities with reports.
        let stray = try db.pool.withConnection { conn in
            try conn.query("""
                SELECT count(*)::int AS n FROM entity_progress ep
                 WHERE ep.plan_code = \(plan.code) AND (ep.version <> \(plan.version) OR NOT EXISTS (
                       SELECT 1 FROM report_milestones r WHERE r.plan_code = ep.plan_code AND r.entity_code = ep.entity_code))
                """).rows[0].decode("n", as: Int.self)
        }
        #expect(stray == 0)
        #expect(compared > 1_000)
    }

    @Test("a write rejected by the database changes no maintained row")
    func aRejectedWriteChangesNothing() throws {
        let db = try TestDatabase.make(template: APIHarness.seededTemplate)
        defer { db.drop() }
        var rng = DemoRandom(seed: 7)
        let plan = ProgressCrossCheckTests.randomPlan(91, &rng)
        let entity = try db.pool.withConnection { try $0.query("SELECT code FROM entities ORDER BY code LIMIT 1").rows[0].decode("code", as: String.self) }
        try db.pool.withTransaction { conn in
            try CatalogStore.create(conn, plan, onTimeDay: 10, by: nil)
            try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) VALUES (\(plan.code), \(entity), DATE '2020-01-01')")
            try conn.execute("INSERT INTO reports VALUES (\(plan.code), \(entity), DATE '2020-03-01', 1, now(), now(), NULL)")
            try conn.execute("""
                INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at)
                VALUES (\(plan.code), \(entity), DATE '2020-03-01', \(plan.milestones[0].code), 'done', 1, now())
                """)
        }
        let before = try db.pool.withConnection { try $0.query("SELECT md5(string_agg(ep::text, ',' ORDER BY month)) AS h FROM entity_progress ep").rows[0].decode("h", as: String.self) }
        // The second statement fails (an unknown status): the first one's maintenance is rolled back with it.
        #expect(throws: DatabaseError.self) {
            try db.pool.withTransaction { conn in
                try conn.execute("""
                    UPDATE report_milestones SET status = 'not_started' WHERE plan_code = \(plan.code) AND entity_code = \(entity)
                    """)
                try conn.execute("""
                    INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at)
                    VALUES (\(plan.code), \(entity), DATE '2020-03-01', \(plan.milestones[0].code), 'hecho', 1, now())
                    """)
            }
        }
        let after = try db.pool.withConnection { try $0.query("SELECT md5(string_agg(ep::text, ',' ORDER BY month)) AS h FROM entity_progress ep").rows[0].decode("h", as: String.self) }
        #expect(before == after)
    }

    @Test("eight writers at once on the same entities and months leave every maintained row exact")
    func concurrentWritersKeepRowsExact() throws {
        let db = try TestDatabase.make(template: APIHarness.seededTemplate, maxConnections: 9)
        defer { db.drop() }
        var rng = DemoRandom(seed: 99)
        let plan = ProgressCrossCheckTests.randomPlan(92, &rng)
        let entities = try db.pool.withConnection { conn in
            try conn.query("SELECT code FROM entities ORDER BY md5(code) LIMIT 3").rows.map { try $0.decode("code", as: String.self) }
        }
        try db.pool.withTransaction { conn in
            try CatalogStore.create(conn, plan, onTimeDay: 10, by: nil)
            try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) SELECT \(plan.code), unnest(\(entities)::text[]), DATE '2020-01-01'")
        }
        let months = Period.months(from: Period("2020-01")!, to: Period("2021-12")!)
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { w in
            var r = DemoRandom(seed: UInt64(1_000 + w))
            for _ in 0..<12 {
                let e = entities[r.below(entities.count)], mo = months[r.below(months.count)]
                let m = plan.milestones[r.below(plan.milestones.count)].code
                let status = ["done", "in_progress", "not_applicable", "not_started"][r.below(4)]
                do {
                    try db.pool.withRetryingTransaction(isolation: .readCommitted) { conn in
                        try conn.execute("""
                            INSERT INTO reports (plan_code, entity_code, period, revision, first_received_at, updated_at)
                            VALUES (\(plan.code), \(e), \(mo.firstDayString)::date, 1, now(), now())
                            ON CONFLICT (plan_code, entity_code, period) DO UPDATE SET revision = reports.revision + 1
                            """)
                        try conn.execute("""
                            INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at)
                            VALUES (\(plan.code), \(e), \(mo.firstDayString)::date, \(m), \(status), 1, now())
                            ON CONFLICT (plan_code, entity_code, milestone_code, period) DO UPDATE SET status = EXCLUDED.status
                            """)
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        let drift = try db.pool.withConnection { try $0.query("SELECT progress_rows_drift(\(plan.code)) AS n").rows[0].decode("n", as: Int.self) }
        #expect(drift == 0)
        var enrolled: [String: ClosedRange<Period>] = [:]
        for e in entities { enrolled[e] = Period("2020-01")!...Period("2099-12")! }
        _ = try Self.expectAgreement(db, plan: plan, enrolled: enrolled, step: "after concurrent writers")
    }
}
