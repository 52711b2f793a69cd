// Advisory sessions (asesorías) over live HTTP: logging, who may log what, listing and counting in scope.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase

@Suite("Asesorías")
struct AsesoriaTests {
    static let plan = "gap-2020-f1"
    static let (medellin, abejorral, cali) = ("05001", "05002", "76001")

    static func body(_ entity: String, _ day: String, _ modality: String = "telefonica", extra: String = "") -> String {
        "{\"entity\": \"\(entity)\", \"plan\": \"\(plan)\", \"held_on\": \"\(day)\", \"modality\": \"\(modality)\"\(extra)}"
    }

    @Test("an advisor logs a call for an assigned entity in one request, and is refused elsewhere")
    func advisorLogsSessions() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, [Self.medellin, Self.abejorral, Self.cali])
        let advisor = try h.person(role: "advisor", name: "Ana")
        try h.assign(advisor.id, Self.plan, [Self.medellin, Self.abejorral])
        let r = try h.call("POST", "/v1/asesorias",
                           json: Self.body(Self.medellin, "2021-06-02", extra: ", \"milestones\": [\"H4\", \"H1\"], \"duration_minutes\": 15, \"notes\": \"Llamada sobre el KPT\""),
                           token: advisor.token)
        #expect(r.status == 201, "\(r.text)")
        #expect(r.json["milestones"] as? [String] == ["H1", "H4"])
        #expect((r.json["advisor"] as? [String: Any])?["name"] as? String == "Ana")
        #expect(r.json["period"] as? String == "2021-06")
        let location = try #require(r.header("Location"))
        #expect(try h.call("GET", location, token: advisor.token).status == 200)

        #expect(try h.call("POST", "/v1/asesorias", json: Self.body(Self.cali, "2021-06-02"), token: advisor.token).status == 403)
        #expect(try h.call("POST", "/v1/asesorias", json: Self.body(Self.medellin, "2021-06-02", extra: ", \"advisor\": \(h.centralId)"),
                           token: advisor.token).status == 403)
        let viewer = try h.person(role: "viewer")
        #expect(try h.call("POST", "/v1/asesorias", json: Self.body(Self.medellin, "2021-06-02"), token: viewer.token).status == 403)
        // The central team may log on behalf of an advisor.
        let onBehalf = try h.call("POST", "/v1/asesorias", json: Self.body(Self.abejorral, "2021-05-20", "presencial", extra: ", \"advisor\": \(advisor.id)"))
        #expect(onBehalf.status == 201)
        #expect((onBehalf.json["advisor"] as? [String: Any])?["id"] as? Int == Int(advisor.id))
    }

    @Test("a retry with the same Idempotency-Key logs the session once; the same key with another body is 422")
    func idempotentRetries() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, [Self.medellin])
        let advisor = try h.person(role: "advisor")
        try h.assign(advisor.id, Self.plan, [Self.medellin])
        let body = Self.body(Self.medellin, "2021-06-02")
        let key = [("Idempotency-Key", "llamada-0602-a")]
        let first = try h.call("POST", "/v1/asesorias", json: body, token: advisor.token, headers: key)
        #expect(first.status == 201)
        let again = try h.call("POST", "/v1/asesorias", json: body, token: advisor.token, headers: key)
        #expect(again.status == 200)
        #expect(again.header("Idempotent-Replayed") == "true")
        #expect(again.json["id"] as? Int == first.json["id"] as? Int)
        let other = try h.call("POST", "/v1/asesorias", json: Self.body(Self.medellin, "2021-06-03"), token: advisor.token, headers: key)
        #expect(other.status == 422)
        #expect(other.text.contains("Idempotency-Key"))
        let count: Int = try h.database.pool.withConnection {
            try $0.query("SELECT count(*)::int AS n FROM asesorias").rows[0].decode("n")
        }
        #expect(count == 1)
        // Without a key every POST is a new session.
        #expect(try h.call("POST", "/v1/asesorias", json: body, token: advisor.token).status == 201)
        #expect(try h.call("POST", "/v1/asesorias", json: body, token: advisor.token, headers: [("Idempotency-Key", "con espacio")]).status == 400)
    }

    @Test("simultaneous retries with one Idempotency-Key all get the saved session, and it is logged once")
    func simultaneousRetries() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, [Self.medellin])
        let advisor = try h.person(role: "advisor")
        try h.assign(advisor.id, Self.plan, [Self.medellin])
        let body = Self.body(Self.medellin, "2021-06-02")
        for round in 0..<3 {
            let key = [("Idempotency-Key", "simultanea-\(round)")]
            let answers = NSLock()
            nonisolated(unsafe) var results: [(status: Int, id: Int?)] = []
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                let r = try? h.call("POST", "/v1/asesorias", json: body, token: advisor.token, headers: key)
                answers.lock()
                results.append((r?.status ?? 0, r?.json["id"] as? Int))
                answers.unlock()
            }
            #expect(results.filter { $0.status == 201 }.count == 1, "round \(round): \(results)")
            #expect(results.filter { $0.status == 200 }.count == 5, "round \(round): \(results)")
            #expect(Set(results.map(\.id)).count == 1, "round \(round): \(results)")
        }
        let count: Int = try h.database.pool.withConnection {
            try $0.query("SELECT count(*)::int AS n FROM asesorias").rows[0].decode("n")
        }
        #expect(count == 3)
    }

    @Test("invalid sessions name their field")
    func validation() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, [Self.medellin])
        let cases: [(String, Int, String)] = [
            (Self.body(Self.medellin, "2021-07-01"), 422, "held_on"),
            (Self.body(Self.medellin, "2021-06-31"), 422, "held_on"),
            (Self.body(Self.medellin, "2021-06-01", "fax"), 422, "modality"),
            (Self.body(Self.medellin, "2021-06-01", extra: ", \"duration_minutes\": 0"), 422, "duration_minutes"),
            (Self.body(Self.medellin, "2021-06-01", extra: ", \"milestones\": [\"H1\", \"H77\"]"), 422, "milestones[1]"),
            (Self.body("99999", "2021-06-01"), 422, "entity"),
            ("{\"entity\": \"05001\", \"plan\": \"nope\", \"held_on\": \"2021-06-01\", \"modality\": \"virtual\"}", 422, "plan"),
            ("{\"entity\": \"05001\", \"held_on\": \"2021-06-01\", \"modality\": \"virtual\", \"milestones\": [\"H1\"]}", 422, "plan"),
            (Self.body(Self.medellin, "2021-06-01", extra: ", \"notes\": \"\(String(repeating: "n", count: 2001))\""), 422, "notes"),
            ("{\"entity\": \"05001\"}", 422, "held_on"),
        ]
        for (body, status, field) in cases {
            let r = try h.call("POST", "/v1/asesorias", json: body)
            #expect(r.status == status, "\(body.prefix(90)): \(r.text)")
            #expect(r.errorFields.contains(field), "\(body.prefix(90)): \(r.text)")
        }
        try h.database.pool.withConnection { conn in
            try conn.execute("INSERT INTO period_locks (plan_code, period, reason) VALUES ('gap-2020-f1', '2021-03-01', 'Corte')")
        }
        #expect(try h.call("POST", "/v1/asesorias", json: Self.body(Self.medellin, "2021-03-15")).status == 423)
        #expect(try h.count("SELECT count(*) FROM asesorias") == 0)
    }

    @Test("lists and counts by advisor, entity and region apply the reader's scope")
    func listsAndSummaries() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, [Self.medellin, Self.abejorral, Self.cali])
        let ana = try h.person(role: "advisor", name: "Ana")
        let beto = try h.person(role: "advisor", name: "Beto")
        try h.assign(ana.id, Self.plan, [Self.medellin, Self.abejorral])
        try h.assign(beto.id, Self.plan, [Self.cali])
        for (entity, day, modality, token) in [
            (Self.medellin, "2021-05-03", "virtual", ana.token), (Self.medellin, "2021-05-10", "telefonica", ana.token),
            (Self.abejorral, "2021-05-11", "presencial", ana.token), (Self.cali, "2021-05-12", "telefonica", beto.token),
            (Self.cali, "2021-04-30", "virtual", beto.token),
        ] {
            #expect(try h.call("POST", "/v1/asesorias", json: Self.body(entity, day, modality, extra: ", \"duration_minutes\": 30"), token: token).status == 201)
        }
        let all = try h.call("GET", "/v1/asesorias?period=2021-05")
        #expect(all.json["total"] as? Int == 4)
        let mine = try h.call("GET", "/v1/asesorias?period=2021-05", token: ana.token)
        #expect(mine.json["total"] as? Int == 3)
        #expect((mine.json["items"] as? [[String: Any]])?.first?["held_on"] as? String == "2021-05-11")
        #expect(try h.call("GET", "/v1/asesorias?entity=\(Self.cali)", token: ana.token).json["total"] as? Int == 0)
        #expect(try h.call("GET", "/v1/asesorias?entity=\(Self.cali)").json["total"] as? Int == 2)
        #expect(try h.call("GET", "/v1/asesorias?advisor=\(beto.id)&period=2021-04").json["total"] as? Int == 1)
        let region = try h.region(of: Self.medellin)
        #expect(try h.call("GET", "/v1/asesorias?region=\(region)&period=2021-05").json["total"] as? Int == 3)
        let coordinator = try h.person(role: "coordinator", regions: [try h.region(of: Self.cali)])
        #expect(try h.call("GET", "/v1/asesorias?period=2021-05", token: coordinator.token).json["total"] as? Int == 1)

        let paged = try h.call("GET", "/v1/asesorias?limit=2")
        let cursor = try #require(paged.json["next_cursor"] as? String)
        let rest = try h.call("GET", "/v1/asesorias?limit=2&cursor=\(cursor)")
        #expect((rest.json["items"] as? [[String: Any]])?.count == 2)

        let byAdvisor = try h.call("GET", "/v1/asesorias/summary?period=2021-05&group=advisor")
        #expect(byAdvisor.status == 200, "\(byAdvisor.text)")
        let groups = byAdvisor.json["items"] as? [[String: Any]] ?? []
        #expect(groups.map { $0["name"] as? String } == ["Ana", "Beto"])
        #expect(groups.first?["sessions"] as? Int == 3)
        #expect(groups.first?["minutes"] as? Int == 90)
        #expect(groups.first?["entities"] as? Int == 2)
        #expect((byAdvisor.json["total"] as? [String: Any])?["sessions"] as? Int == 4)
        #expect((byAdvisor.json["total"] as? [String: Any])?["telefonica"] as? Int == 2)
        let byEntity = try h.call("GET", "/v1/asesorias/summary?period=2021-05&group=entity", token: ana.token)
        #expect((byEntity.json["items"] as? [[String: Any]])?.map { $0["key"] as? String } == [Self.medellin, Self.abejorral])
        let byRegion = try h.call("GET", "/v1/asesorias/summary?period=2021-05&group=region")
        #expect((byRegion.json["items"] as? [[String: Any]])?.count == 2)
        #expect(try h.call("GET", "/v1/asesorias/summary?period=2021-05&group=planet").status == 400)
        #expect(try h.call("GET", "/v1/asesorias/summary").status == 400)
    }
}
