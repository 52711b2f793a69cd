// The golden figures of the Gobierno al Plan report, computed by the SQL engine through the API.
import Foundation
import Testing
@testable import SetaAPI

@Suite("Golden progress through the API")
struct GoldenProgressTests {
    /// Enrolls 05001 in the plan and writes one report for 2020-03 with the given statuses.
    static func report(_ h: APIHarness, plan: String, _ statuses: [String: String], period: String = "2020-03-01") throws {
        try h.database.pool.withTransaction { conn in
            try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) VALUES (\(plan), '05001', DATE '2020-01-01') ON CONFLICT DO NOTHING")
            try conn.execute("INSERT INTO reports (plan_code, entity_code, period, revision, first_received_at, updated_at) VALUES (\(plan), '05001', \(period)::date, 1, now(), now())")
            let codes = Array(statuses.keys), values = codes.map { statuses[$0]! }
            try conn.execute("""
                INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at)
                SELECT \(plan), '05001', \(period)::date, c, s, 1, now() FROM unnest(\(codes)::text[], \(values)::text[]) AS x(c, s)
                """)
        }
    }

    static func done(_ codes: ClosedRange<Int>) -> [String: String] {
        Dictionary(uniqueKeysWithValues: codes.map { ("H\($0)", "done") })
    }

    static func total(_ h: APIHarness, plan: String, asOf: String = "2020-06") throws -> TestResponse {
        try h.call("GET", "/v1/entities/05001/progress?plan=\(plan)&as_of=\(asOf)")
    }

    static func expectTotal(_ statuses: [String: String], plan: String = "gap-2020-f1", _ expected: String) throws {
        let h = try APIHarness()
        try report(h, plan: plan, statuses)
        let r = try total(h, plan: plan)
        #expect(r.status == 200)
        #expect(r.text.contains("\"total\":\(expected),") || r.text.contains("\"total\":\(expected)}"), "expected \(expected) in \(r.text.prefix(300))")
    }

    @Test("Fase I all done gives 100") func allDone() throws { try Self.expectTotal(Self.done(1...22), "100") }
    @Test("Fase I H1 to H7 done gives 20 (phase 1 complete)") func phaseOne() throws { try Self.expectTotal(Self.done(1...7), "20") }
    @Test("Fase I H1 to H11 done gives 50") func h1to11() throws { try Self.expectTotal(Self.done(1...11), "50") }
    @Test("Fase I only H9 gives 7.50") func onlyH9() throws { try Self.expectTotal(["H9": "done"], "7.5") }
    @Test("Fase I only H16 gives 3.33") func onlyH16() throws { try Self.expectTotal(["H16": "done"], "3.33") }
    @Test("Fase I everything but H21 gives 96") func allButH21() throws {
        var s = Self.done(1...22)
        s["H21"] = "not_started"
        try Self.expectTotal(s, "96")
    }
    @Test("Fase II H1 to H4 done gives 15") func faseII() throws { try Self.expectTotal(Self.done(1...4), plan: "gap-2020-f2", "15") }
    @Test("Fase II H14 alone gives 10") func faseIIH14() throws { try Self.expectTotal(["H14": "done"], plan: "gap-2020-f2", "10") }
    @Test("Fase II all done gives 100") func faseIIAll() throws { try Self.expectTotal(Self.done(1...22), plan: "gap-2020-f2", "100") }

    @Test("H16 not applicable with H17 and H18 done puts phase 4 at 100")
    func notApplicableRescales() throws {
        let h = try APIHarness()
        try Self.report(h, plan: "gap-2020-f1", ["H16": "not_applicable", "H17": "done", "H18": "done"])
        let r = try Self.total(h, plan: "gap-2020-f1")
        let phases = r.json["phases"] as? [[String: Any]] ?? []
        let f4 = try #require(phases.first { $0["code"] as? String == "F4" })
        #expect((f4["progress"] as? NSNumber)?.intValue == 100)
        #expect(f4["completed"] as? Bool == true)
    }

    @Test("done in 2020-03 and nothing later is done as of 2020-07 and not started as of 2020-02")
    func carriesForward() throws {
        let h = try APIHarness()
        try Self.report(h, plan: "gap-2020-f1", ["H9": "done"])
        let july = try Self.total(h, plan: "gap-2020-f1", asOf: "2020-07")
        let feb = try Self.total(h, plan: "gap-2020-f1", asOf: "2020-02")
        func status(_ r: TestResponse) -> String? {
            (r.json["milestones"] as? [[String: Any]])?.first { $0["code"] as? String == "H9" }?["status"] as? String
        }
        #expect(status(july) == "done")
        #expect(status(feb) == "not_started")
    }

    @Test("a future month is refused naming as_of; an unknown plan is 404")
    func refusesFutureAndUnknown() throws {
        let h = APIHarness.sharedReadOnly
        #expect(try Self.total(h, plan: "gap-2020-f1", asOf: "2030-01").status == 422)
        #expect(try Self.total(h, plan: "no-existe").status == 404)
        #expect(try h.call("GET", "/v1/entities/05001/progress?plan=gap-2020-f1&as_of=2020-13").status == 400)
    }

    @Test("a dashboard read before a report shows the report right after it (snapshots follow the data)")
    func snapshotsFollowWrites() throws {
        let h = try APIHarness()
        try Self.report(h, plan: "gap-2020-f1", ["H1": "done"], period: "2020-02-01")
        let before = try h.call("GET", "/v1/progress/national?plan=gap-2020-f1&as_of=2020-06")
        #expect(before.text.contains("\"mean_progress\":1,"))
        // A later report completes phase 1: the next read must not serve the stale snapshot.
        try Self.report(h, plan: "gap-2020-f1", Self.done(1...7))
        let after = try h.call("GET", "/v1/progress/national?plan=gap-2020-f1&as_of=2020-06")
        #expect(after.text.contains("\"mean_progress\":20,"), "\(after.text.prefix(300))")
        // Removing the later report (a statement the trigger also sees) goes back.
        try h.database.pool.withConnection { try $0.execute("DELETE FROM report_milestones WHERE plan_code = 'gap-2020-f1' AND period = DATE '2020-03-01'") }
        let reverted = try h.call("GET", "/v1/progress/national?plan=gap-2020-f1&as_of=2020-06")
        #expect(reverted.text.contains("\"mean_progress\":1,"))
    }
}

@Suite("Group cache")
struct GroupCacheTests {
    @Test("a second read is served the same figures, and moving a department shows at once")
    func cacheFollowsMembership() throws {
        let h = try APIHarness()
        try GoldenProgressTests.report(h, plan: "gap-2020-f1", GoldenProgressTests.done(1...7))
        let first = try h.call("GET", "/v1/progress/regions?plan=gap-2020-f1&as_of=2020-06")
        let second = try h.call("GET", "/v1/progress/regions?plan=gap-2020-f1&as_of=2020-06")
        #expect(first.status == 200)
        #expect(first.body == second.body)
        #expect(first.text.contains("\"key\":\"eje-cafetero-antioquia\""))
        // Antioquia moves to the Caribbean from 2020-01: June's roll-up must follow immediately.
        try h.database.pool.withConnection { conn in
            try conn.execute("INSERT INTO department_regions (department_code, region_code, valid_from) VALUES ('05', 'caribe', DATE '2020-01-01')")
        }
        let moved = try h.call("GET", "/v1/progress/regions?plan=gap-2020-f1&as_of=2020-06")
        #expect(!moved.text.contains("\"key\":\"eje-cafetero-antioquia\""))
        #expect(moved.text.contains("\"key\":\"caribe\""))
    }
}
