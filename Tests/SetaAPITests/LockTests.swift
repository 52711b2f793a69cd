// Period locks over live HTTP: locking, writes refused with the reason, reopening by the central team, the record.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain

@Suite("Period locks")
struct LockTests {
    static let plan = "gap-2020-f1"

    @Test("a locked month refuses writes with its reason until the central team reopens it with a reason")
    func lockAndReopen() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, ["05001"])
        let advisor = try h.person(role: "advisor")
        try h.assign(advisor.id, Self.plan, ["05001"])
        let lock = try h.call("POST", "/v1/locks", json: "{\"plan\": \"\(Self.plan)\", \"period\": \"2021-03\", \"reason\": \"Revisión de calidad\"}")
        #expect(lock.status == 201, "\(lock.text)")
        #expect(lock.json["reason"] as? String == "Revisión de calidad")
        #expect(try h.call("POST", "/v1/locks", json: "{\"plan\": \"\(Self.plan)\", \"period\": \"2021-03\", \"reason\": \"otra vez\"}").status == 409)

        let refused = try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-03", json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token)
        #expect(refused.status == 423)
        #expect((refused.json["detail"] as? String)?.contains("Revisión de calidad") == true)
        #expect(try h.call("GET", "/v1/locks?plan=\(Self.plan)", token: advisor.token).json["total"] as? Int == 1)

        let coordinator = try h.person(role: "coordinator", regions: [try h.region(of: "05001")])
        #expect(try h.call("POST", "/v1/locks/\(Self.plan)/2021-03/reopen", json: "{\"reason\": \"x\"}", token: coordinator.token).status == 403)
        #expect(try h.call("POST", "/v1/locks/\(Self.plan)/2021-03/reopen", json: "{\"reason\": \"  \"}").status == 422)
        #expect(try h.call("POST", "/v1/locks/\(Self.plan)/2021-03/reopen", json: "{}").status == 422)
        let reopen = try h.call("POST", "/v1/locks/\(Self.plan)/2021-03/reopen", json: "{\"reason\": \"Corrección pedida por la gobernación\"}")
        #expect(reopen.status == 200, "\(reopen.text)")
        #expect(reopen.json["action"] as? String == "reopen")
        #expect(try h.call("POST", "/v1/locks/\(Self.plan)/2021-03/reopen", json: "{\"reason\": \"de nuevo\"}").status == 404)
        #expect(try h.call("POST", "/v1/locks/nope/2021-03/reopen", json: "{\"reason\": \"x\"}").status == 404)
        #expect(try h.call("POST", "/v1/locks/\(Self.plan)/2021-3/reopen", json: "{\"reason\": \"x\"}").status == 400)
        #expect(try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-03", json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token).status == 201)

        let events = try h.call("GET", "/v1/locks/events?plan=\(Self.plan)&period=2021-03")
        let items = events.json["items"] as? [[String: Any]] ?? []
        #expect(items.map { $0["action"] as? String } == ["lock", "reopen"])
        #expect(items.last?["reason"] as? String == "Corrección pedida por la gobernación")
        #expect((items.last?["person"] as? [String: Any])?["id"] as? Int == Int(h.centralId))
    }

    @Test("locking needs the central team, a known plan, a past month and a reason")
    func lockValidation() throws {
        let h = try APIHarness()
        let advisor = try h.person(role: "advisor")
        #expect(try h.call("POST", "/v1/locks", json: "{\"plan\": \"\(Self.plan)\", \"period\": \"2021-03\", \"reason\": \"r\"}", token: advisor.token).status == 403)
        for (body, field) in [
            ("{\"plan\": \"nope\", \"period\": \"2021-03\", \"reason\": \"r\"}", "plan"),
            ("{\"plan\": \"\(Self.plan)\", \"period\": \"2021-13\", \"reason\": \"r\"}", "period"),
            ("{\"plan\": \"\(Self.plan)\", \"period\": \"2021-07\", \"reason\": \"r\"}", "period"),
            ("{\"plan\": \"\(Self.plan)\", \"period\": \"2021-03\", \"reason\": \"\"}", "reason"),
        ] {
            let r = try h.call("POST", "/v1/locks", json: body)
            #expect(r.status == 422, "\(body): \(r.text)")
            #expect(r.errorFields == [field])
        }
    }

    @Test("ReportStore.lock locks several months at once, keeps existing locks and records each new one")
    func storeLockForCuts() throws {
        let h = try APIHarness()
        let months = [Period("2021-01")!, Period("2021-02")!, Period("2021-03")!]
        let (first, second, events) = try h.database.pool.withTransaction { conn -> ([Period], [Period], Int) in
            let first = try ReportStore.lock(conn, plan: Self.plan, periods: Array(months.prefix(2)), reason: "Corte T1", by: h.centralId, cutId: nil)
            let second = try ReportStore.lock(conn, plan: Self.plan, periods: months, reason: "Corte T1 bis", by: nil, cutId: nil,
                                              at: TestClock.date("2021-04-02T00:00:00Z"))
            let events: Int = try conn.query("SELECT count(*) AS n FROM period_lock_events WHERE action = 'lock'").rows[0].decode("n")
            return (first, second, events)
        }
        #expect(first == Array(months.prefix(2)))
        #expect(second == [months[2]])
        #expect(events == 3)
    }
}
