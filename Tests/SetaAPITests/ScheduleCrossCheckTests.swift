// Expected progress, lag and overdue milestones in SQL (expected_progress_at) agree with ScheduleEngine on random plans.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain
import SetaTestSupport

@Suite("Schedule in SQL and in Swift", .serialized)
struct ScheduleCrossCheckTests {
    @Test("random plans, due dates, exceptions and N/A patterns give identical expected, actual, lag and overdue, per entity, in the entity table, the national group and the series")
    func sqlAgreesWithSwift() throws {
        let db = try TestDatabase.make(template: APIHarness.seededTemplate)
        defer { db.drop() }
        var rng = DemoRandom(seed: 20_683)
        let statuses = MilestoneStatus.allCases
        let months = Period.months(from: Period("2020-01")!, to: Period("2020-12")!)
        func randomDay() -> CalendarDay {
            let m = months[rng.below(months.count)]
            return CalendarDay(year: m.year, month: m.month, day: 1 + rng.below(m.numberOfDays))!
        }
        var compared = 0
        for i in 1...20 {
            var plan = ProgressCrossCheckTests.randomPlan(i, &rng)
            plan.code = "cronograma-\(i)"
            // About a third of the milestones dated, some N/A-able (the SQL side does not enforce the rule).
            for k in plan.milestones.indices where rng.chance(35) { plan.milestones[k].dueOn = randomDay() }
            let entities = try db.pool.withConnection { conn in
                try conn.query("SELECT code FROM entities ORDER BY md5(code || \(String(i))) LIMIT 12").rows.map { try $0.decode("code", as: String.self) }
            }
            var history: [String: [String: ProgressEngine.History]] = [:]
            var exceptions: [String: [String: CalendarDay]] = [:]
            var heads = Set<String>(), rows: [String] = [], headRows: [String] = [], exceptionRows: [String] = []
            for e in entities {
                for m in plan.milestones {
                    if rng.chance(15) {
                        let d = randomDay()
                        exceptions[e, default: [:]][m.code] = d
                        exceptionRows.append(CSVWriter.line([plan.code, e, m.code, d.description, "Excepción de prueba"]))
                    }
                    var used = Set<Int>()
                    for _ in 0..<rng.below(4) {
                        let k = rng.below(months.count)
                        guard used.insert(k).inserted else { continue }
                        let s = rng.chance(40) ? MilestoneStatus.done : (rng.chance(20) ? .notApplicable : statuses[rng.below(statuses.count)])
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
                try conn.copyIn("COPY reports (plan_code, entity_code, period, revision, first_received_at, updated_at) FROM STDIN WITH (FORMAT csv)", rows: headRows)
                try conn.copyIn("COPY report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at) FROM STDIN WITH (FORMAT csv)", rows: rows)
                try conn.copyIn("COPY schedule_exceptions (plan_code, entity_code, milestone_code, due_on, reason) FROM STDIN WITH (FORMAT csv)", rows: exceptionRows)
                try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) SELECT \(plan.code), unnest(\(entities)::text[]), DATE '2020-01-01'")
            }
            let central = Principal(personId: 0, name: "central", role: .central, partnerCode: nil, limitedToPartner: false, regions: [], tokenId: 0)
            for asOf in [Period("2020-02")!, Period("2020-07")!, Period("2020-12")!] {
                let sql = try db.pool.withConnection { conn in
                    try ScheduleStore.standings(conn, plan: plan.code, version: 1, month: asOf, entities: entities)
                }
                #expect(sql.count == entities.count)
                for row in sql {
                    let swift = ScheduleEngine.standing(plan: plan, history: history[row.entity] ?? [:],
                                                        exceptions: exceptions[row.entity] ?? [:], asOf: asOf)
                    let label = "plan \(i) entity \(row.entity) as of \(asOf)"
                    #expect(row.expected?.rounded(scale: 2) == swift.expected?.rounded(scale: 2), "\(label): expected")
                    #expect(row.actual?.rounded(scale: 2) == swift.actual?.rounded(scale: 2), "\(label): actual")
                    #expect(row.lag?.rounded(scale: 2) == swift.lag?.rounded(scale: 2), "\(label): lag")
                    #expect(row.overdue == swift.overdue.map(\.code), "\(label): overdue")
                    #expect(row.oldestDueOn == swift.overdue.first?.effectiveDueOn, "\(label): oldest due")
                    compared += 1
                }
                // The dashboards read the same figures from the maintained rows (ScheduleSQL), set-based: the entity
                // table row by row, and the national group's mean lag, behind count and overdue count per milestone.
                let standings = Dictionary(uniqueKeysWithValues: entities.map { e in
                    (e, ScheduleEngine.standing(plan: plan, history: history[e] ?? [:], exceptions: exceptions[e] ?? [:], asOf: asOf))
                })
                let table = try db.pool.withConnection { conn in
                    try ProgressStore.entities(conn, plan: plan.code, version: 1, month: asOf, principal: central,
                                               filter: ProgressFilter(), sort: .lag, descending: true, limit: 100, offset: 0)
                }
                #expect(table.rows.count == entities.count)
                for row in table.rows {
                    let swift = standings[row.code]!
                    let label = "table: plan \(i) entity \(row.code) as of \(asOf)"
                    #expect(row.schedule.expected?.rounded(scale: 2) == swift.expected?.rounded(scale: 2), "\(label): expected")
                    #expect(row.schedule.lag?.rounded(scale: 2) == swift.lag?.rounded(scale: 2), "\(label): lag")
                    #expect(row.schedule.overdue == swift.overdue.map(\.code), "\(label): overdue")
                    #expect(row.schedule.oldestDue == swift.overdue.first?.effectiveDueOn.description, "\(label): oldest due")
                }
                // Sorted by lag, most behind first, no lag last.
                let lags = table.rows.compactMap { $0.schedule.lag }
                #expect(lags == lags.sorted(by: >), "table sorted by -lag: plan \(i) as of \(asOf)")
                let groups = try db.pool.withConnection { conn in
                    try ProgressStore.groups(conn, kind: .national, plan: plan.code, version: 1, month: asOf,
                                             principal: central, filter: ProgressFilter())
                }
                let national = try #require(groups.first)
                let measured = standings.values.compactMap(\.lag)
                let meanLag: Decimal? = measured.isEmpty ? nil : measured.reduce(0, +) / Decimal(measured.count)
                #expect(national.meanLag?.rounded(scale: 2) == meanLag?.rounded(scale: 2), "group: plan \(i) as of \(asOf): mean lag")
                #expect(national.behindCount == standings.values.filter(\.isBehind).count, "group: plan \(i) as of \(asOf): behind")
                let perMilestone = plan.milestones.sorted { $0.position < $1.position }.map { m in
                    (m.code, standings.values.filter { $0.overdue.contains { $0.code == m.code } }.count)
                }
                #expect(national.milestoneOverdue.map(\.code) == perMilestone.map(\.0), "group: plan \(i): milestone order")
                #expect(national.milestoneOverdue.map(\.count) == perMilestone.map(\.1), "group: plan \(i) as of \(asOf): overdue per milestone")
            }
            // The series computes each month like the group of that month.
            let series = try db.pool.withConnection { conn in
                try ProgressStore.groupSeries(conn, kind: .national, plan: plan.code, version: 1, from: Period("2020-01")!,
                                              to: Period("2020-12")!, principal: central, filter: ProgressFilter())
            }
            for point in series {
                let asOf = Period(point.period)!
                let standings = entities.map { e in
                    ScheduleEngine.standing(plan: plan, history: history[e] ?? [:], exceptions: exceptions[e] ?? [:], asOf: asOf)
                }
                let measured = standings.compactMap(\.lag)
                let meanLag: Decimal? = measured.isEmpty ? nil : measured.reduce(0, +) / Decimal(measured.count)
                let national = try #require(point.groups.first)
                #expect(national.meanLag?.rounded(scale: 2) == meanLag?.rounded(scale: 2), "series: plan \(i) \(asOf): mean lag")
                #expect(national.behindCount == standings.filter(\.isBehind).count, "series: plan \(i) \(asOf): behind")
            }
        }
        #expect(compared == 20 * 3 * 12)
    }
}
