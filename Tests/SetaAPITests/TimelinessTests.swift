// Timeliness over live HTTP with a controlled clock: on time, late and missing per advisor, region and nation.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain

@Suite("Timeliness")
struct TimelinessTests {
    static let plan = "gap-2020-f1"
    // Two in Antioquia, one in Valle, one gobernación (Antioquia's).
    static let (medellin, abejorral, cali, antioquia) = ("05001", "05002", "76001", "05")

    func counts(_ object: Any?) -> [Int] {
        let c = (object as? [String: Any])?["counts"] as? [String: Any] ?? (object as? [String: Any]) ?? [:]
        return ["entities", "on_time", "late", "missing"].map { c[$0] as? Int ?? -1 }
    }

    @Test("a month's reports are on time until the end of day 10 of the next month in Bogotá, late after, missing without one")
    func onTimeLateAndMissing() throws {
        let h = try APIHarness(now: TestClock.date("2021-05-01T12:00:00Z"))
        try h.enroll(Self.plan, [Self.medellin, Self.abejorral, Self.cali, Self.antioquia])
        let ana = try h.person(role: "advisor", name: "Ana")
        let beto = try h.person(role: "advisor", name: "Beto")
        try h.assign(ana.id, Self.plan, [Self.medellin, Self.abejorral])
        try h.assign(beto.id, Self.plan, [Self.cali])
        let body = APIHarness.reportJSON([("H1", "done")])
        func report(_ entity: String, at iso: String, token: String) throws {
            h.clock.now = TestClock.date(iso)
            let r = try h.call("PUT", "/v1/reports/\(Self.plan)/\(entity)/2021-04", json: body, token: token)
            #expect(r.status == 201 || r.status == 200, "\(r.text)")
        }
        // 23:59 on 10 May in Bogotá is 04:59 UTC on the 11th: still on time.
        try report(Self.medellin, at: "2021-05-10T23:59:00-05:00", token: ana.token)
        // A minute past midnight in Bogotá: late.
        try report(Self.abejorral, at: "2021-05-11T00:01:00-05:00", token: ana.token)
        // A later correction does not move the first receipt.
        h.clock.now = TestClock.date("2021-05-20T12:00:00Z")
        #expect(try h.call("PUT", "/v1/reports/\(Self.plan)/\(Self.medellin)/2021-04",
                           json: APIHarness.reportJSON([("H1", "done"), ("H2", "done")]), token: ana.token).status == 200)

        let t = try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-04")
        #expect(t.status == 200, "\(t.text)")
        #expect(t.json["deadline"] as? String == "2021-05-10")
        #expect(t.json["deadline_passed"] as? Bool == true)
        let advisors = t.json["advisors"] as? [[String: Any]] ?? []
        let byName = Dictionary(uniqueKeysWithValues: advisors.map { (($0["advisor"] as? [String: Any])?["name"] as? String ?? "-", $0) })
        #expect(counts(byName["Ana"]) == [2, 1, 1, 0])
        #expect(byName["Ana"]?["late_entities"] as? [String] == [Self.abejorral])
        #expect(counts(byName["Beto"]) == [1, 0, 0, 1])
        #expect(byName["Beto"]?["missing_entities"] as? [String] == [Self.cali])
        #expect(counts(byName["-"]) == [1, 0, 0, 1])   // the gobernación, with no advisor
        #expect(counts(t.json["national"]) == [4, 1, 1, 2])
        #expect((t.json["national"] as? [String: Any])?["on_time_percent"] as? Double == 25)
        let regions = t.json["regions"] as? [[String: Any]] ?? []
        let antioquiaRegion = try h.region(of: Self.medellin)
        let region = regions.first { $0["region"] as? String == antioquiaRegion }
        #expect(counts(region) == [3, 1, 1, 1])

        // Filters, and the reader's scope.
        let onlyAna = try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-04&advisor=\(ana.id)")
        #expect(counts(onlyAna.json["national"]) == [2, 1, 1, 0])
        let valle = try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-04&region=\(try h.region(of: Self.cali))")
        #expect(counts(valle.json["national"]) == [1, 0, 0, 1])
        let asBeto = try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-04", token: beto.token)
        #expect(counts(asBeto.json["national"]) == [1, 0, 0, 1])
        let coordinator = try h.person(role: "coordinator", regions: [antioquiaRegion])
        let asCoordinator = try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-04", token: coordinator.token)
        #expect(counts(asCoordinator.json["national"]) == [3, 1, 1, 1])

        // The on-time day is the plan's: at day 5, Medellín is late too.
        try h.database.pool.withConnection { conn in
            try conn.execute("UPDATE plans SET on_time_day = 5 WHERE code = \(Self.plan)")
        }
        let strict = try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-04")
        #expect(counts(strict.json["national"]) == [4, 0, 2, 2])
        #expect(strict.json["deadline"] as? String == "2021-05-05")
    }

    @Test("before the deadline passes, reports not yet received are missing and the answer says the window is open")
    func windowStillOpen() throws {
        let h = try APIHarness(now: TestClock.date("2021-05-03T12:00:00Z"))
        try h.enroll(Self.plan, [Self.medellin])
        let t = try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-04")
        #expect(t.json["deadline_passed"] as? Bool == false)
        #expect(counts(t.json["national"]) == [1, 0, 0, 1])
        #expect(try h.call("GET", "/v1/timeliness?plan=nope&period=2021-04").status == 404)
        #expect(try h.call("GET", "/v1/timeliness?plan=\(Self.plan)").status == 400)
        #expect(try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-4").status == 400)
    }

    @Test("the deadline closes at 05:00 UTC of the day after the on-time day")
    func deadlineInstant() {
        let end = TimelinessStore.deadlineEnd(CalendarDayFixture.day(2021, 5, 10))
        #expect(end == TestClock.date("2021-05-11T05:00:00Z"))
        let february = TimelinessStore.deadlineEnd(CalendarDayFixture.day(2021, 2, 28))
        #expect(february == TestClock.date("2021-03-01T05:00:00Z"))
    }
}

enum CalendarDayFixture {
    static func day(_ y: Int, _ m: Int, _ d: Int) -> CalendarDay { CalendarDay(year: y, month: m, day: d)! }
}
