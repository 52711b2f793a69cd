// The SQL progress engine agrees with the pure Swift one, to the cent, on random plans, histories and N/A patterns.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain
import SetaTestSupport

@Suite("Progress in SQL and in Swift", .serialized)
struct ProgressCrossCheckTests {
    /// Weights in hundredths that sum to exactly 100, some with two decimals (33.33 + 33.33 + 33.34).
    static func weights(_ n: Int, _ rng: inout DemoRandom) -> [Decimal] {
        var cuts = Set<Int>()
        while cuts.count < n - 1 { cuts.insert(1 + rng.below(9_999)) }
        let bounds = [0] + cuts.sorted() + [10_000]
        return (0..<n).map { Decimal(bounds[$0 + 1] - bounds[$0]) / 100 }
    }

    static func randomPlan(_ i: Int, _ rng: inout DemoRandom) -> PlanCatalog {
        let phaseCount = 1 + rng.below(5)
        let pw = weights(phaseCount, &rng)
        var phases: [Phase] = [], milestones: [Milestone] = []
        var position = 0
        for p in 0..<phaseCount {
            phases.append(Phase(code: "F\(p + 1)", name: "Fase \(p + 1)", weightInPlan: pw[p], position: p + 1))
            let n = 1 + rng.below(6)
            for (k, w) in weights(n, &rng).enumerated() {
                position += 1
                milestones.append(Milestone(code: "H\(position)", name: "Hito \(position)", phaseCode: "F\(p + 1)",
                                            weightInPhase: w, position: position + k * 0))
            }
        }
        return PlanCatalog(code: "azar-\(i)", name: "Plan aleatorio \(i)", version: 1, stages: [], phases: phases, milestones: milestones)
    }

    @Test("random plans, histories and not-applicable patterns give identical results in SQL and Swift")
    func sqlAgreesWithSwift() throws {
        let db = try TestDatabase.make(template: APIHarness.seededTemplate)
        defer { db.drop() }
        var rng = DemoRandom(seed: 20_201)
        let statuses = MilestoneStatus.allCases
        let months = Period.months(from: Period("2020-01")!, to: Period("2020-12")!)
        let central = Principal(personId: 0, name: "central", role: .central, partnerCode: nil, limitedToPartner: false, regions: [], tokenId: 0)
        var compared = 0
        for i in 1...25 {
            let plan = Self.randomPlan(i, &rng)
            #expect(CatalogValidator.validate(plan).isEmpty, "generated plan \(i) must be valid")
            let entities = try db.pool.withConnection { conn in
                try conn.query("SELECT code FROM entities ORDER BY md5(code || \(String(i))) LIMIT 15").rows.map { try $0.decode("code", as: String.self) }
            }
            // History per entity and milestone: a few reports at random months.
            var history: [String: [String: ProgressEngine.History]] = [:]
            var heads = Set<String>(), rows: [String] = [], headRows: [String] = []
            for e in entities {
                for m in plan.milestones {
                    var used = Set<Int>()
                    for _ in 0..<rng.below(4) {
                        let k = rng.below(months.count)
                        guard used.insert(k).inserted else { continue }
                        // Bias towards done and not_applicable so phases drop out now and then.
                        let s = rng.chance(40) ? MilestoneStatus.done : (rng.chance(30) ? .notApplicable : statuses[rng.below(statuses.count)])
                        history[e, default: [:]][m.code, default: []].append((months[k], s))
                        if heads.insert("\(e)|\(k)").inserted {
                            headRows.append(CSVWriter.line([plan.code, e, months[k].firstDayString, "1", "2021-01-01 00:00:00Z", "2021-01-01 00:00:00Z"]))
                        }
                        rows.append(CSVWriter.line([plan.code, e, months[k].firstDayString, m.code, s.rawValue, "1", "2021-01-01 00:00:00Z"]))
                    }
                }
            }
            try db.pool.withTransaction { conn in
                try CatalogStore.create(conn, plan, onTimeDay: 10, by: nil)
                try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) SELECT \(plan.code), unnest(\(entities)::text[]), DATE '2020-01-01'")
                try conn.copyIn("COPY reports (plan_code, entity_code, period, revision, first_received_at, updated_at) FROM STDIN WITH (FORMAT csv)", rows: headRows)
                try conn.copyIn("COPY report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at) FROM STDIN WITH (FORMAT csv)", rows: rows)
            }
            for asOf in [Period("2020-03")!, Period("2020-08")!, Period("2020-12")!] {
                var swift: [(code: String, name: String, progress: EntityProgress)] = []
                for e in entities {
                    swift.append((e, e, ProgressEngine.entityProgress(plan: plan, history: history[e] ?? [:], asOf: asOf)))
                }
                let sql = try db.pool.withConnection { conn in
                    try ProgressStore.entities(conn, plan: plan.code, version: 1, month: asOf, principal: central,
                                               filter: ProgressFilter(), sort: .code, descending: false, limit: 1000, offset: 0)
                }
                #expect(sql.total == entities.count)
                for row in sql.rows {
                    let expected = swift.first { $0.code == row.code }!.progress
                    #expect(row.total?.rounded(scale: 2) == expected.total?.rounded(scale: 2),
                            "plan \(i) entity \(row.code) as of \(asOf): SQL \(String(describing: row.total)) Swift \(String(describing: expected.total))")
                    for p in expected.phases {
                        let got = row.phases[p.code] ?? nil
                        #expect(got?.rounded(scale: 2) == p.progress?.rounded(scale: 2), "plan \(i) \(row.code) phase \(p.code)")
                        #expect(row.completed[p.code] == p.completed, "plan \(i) \(row.code) phase \(p.code) completed")
                    }
                    compared += 1
                }
                // The national roll-up agrees with GroupSummary over the same entities.
                let groups = try db.pool.withConnection { conn in
                    try ProgressStore.groups(conn, kind: .national, plan: plan.code, version: 1, month: asOf,
                                             principal: central, filter: ProgressFilter())
                }
                let expected = GroupSummary.of(entities: swift, phaseCodes: plan.phases.map(\.code))
                let got = try #require(groups.first).summary
                #expect(got.entityCount == expected.entityCount)
                #expect(got.measuredCount == expected.measuredCount)
                #expect(got.meanProgress?.rounded(scale: 2) == expected.meanProgress?.rounded(scale: 2), "plan \(i) mean as of \(asOf)")
                #expect(got.atHundred == expected.atHundred)
                #expect(got.min?.rounded(scale: 2) == expected.min?.rounded(scale: 2))
                #expect(got.max?.rounded(scale: 2) == expected.max?.rounded(scale: 2))
                #expect(got.lowest == expected.lowest, "plan \(i) lowest as of \(asOf)")
                #expect(got.highest == expected.highest, "plan \(i) highest as of \(asOf)")
                for (phase, share) in expected.phaseCompletionShare {
                    #expect(got.phaseCompletionShare[phase]?.rounded(scale: 2) == share.rounded(scale: 2), "plan \(i) share \(phase)")
                }
                #expect(Set(got.phaseCompletionShare.keys) == Set(expected.phaseCompletionShare.keys))
            }
        }
        #expect(compared == 25 * 3 * 15)
    }
}
