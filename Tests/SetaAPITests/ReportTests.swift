// Monthly reports over live HTTP: writing, reading, ETags, idempotency, validation, regressions, history, concurrency.
import Foundation
import Synchronization
import Testing
@testable import SetaAPI
import SetaDatabase

@Suite("Monthly reports")
struct ReportTests {
    static let plan = "gap-2020-f1"
    static let medellin = "05001"
    static let abejorral = "05002"
    static let cali = "76001"

    /// A harness with three entities enrolled in Fase I and an advisor assigned Medellín and Abejorral.
    static func setUp() throws -> (APIHarness, advisor: (id: Int64, token: String)) {
        let h = try APIHarness()
        try h.enroll(plan, [medellin, abejorral, cali])
        let advisor = try h.person(role: "advisor", name: "Asesora Uno")
        try h.assign(advisor.id, plan, [medellin, abejorral])
        return (h, advisor)
    }

    static func path(_ entity: String = medellin, _ period: String = "2021-05", plan: String = plan) -> String {
        "/v1/reports/\(plan)/\(entity)/\(period)"
    }

    @Test("an advisor writes a report for an assigned entity and the history names them as author")
    func advisorWritesAssignedEntity() throws {
        let (h, advisor) = try Self.setUp()
        let put = try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H1", "done"), ("H2", "in_progress")]), token: advisor.token)
        #expect(put.status == 201, "\(put.text)")
        #expect(put.header("ETag") == "\"1\"")
        #expect(put.header("Location") == Self.path())
        #expect(put.json["changed"] as? Bool == true)
        #expect(put.json["revision"] as? Int == 1)

        let get = try h.call("GET", Self.path(), token: advisor.token)
        #expect(get.status == 200)
        #expect(get.header("ETag") == "\"1\"")
        let milestones = get.json["milestones"] as? [[String: Any]] ?? []
        #expect(milestones.map { $0["code"] as? String } == ["H1", "H2"])
        #expect((milestones.first?["updated_by"] as? [String: Any])?["name"] as? String == "Asesora Uno")

        let history = try h.call("GET", "/v1/entities/\(Self.medellin)/history?plan=\(Self.plan)", token: advisor.token)
        #expect(history.status == 200)
        let items = history.json["items"] as? [[String: Any]] ?? []
        #expect(items.count == 2)
        #expect(items.allSatisfy { ($0["author"] as? [String: Any])?["id"] as? Int == Int(advisor.id) })
        #expect(items.first?["previous_status"] == nil)
        #expect(items.first?["status"] as? String == "done")
    }

    @Test("an advisor is refused for an unassigned entity and nothing is written")
    func advisorRefusedForUnassignedEntity() throws {
        let (h, advisor) = try Self.setUp()
        let put = try h.call("PUT", Self.path(Self.cali), json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token)
        #expect(put.status == 403)
        #expect(try h.count("SELECT count(*) FROM reports") == 0)
        #expect(try h.count("SELECT count(*) FROM report_revisions") == 0)
        // The assignment runs from a month on: before it the advisor is refused too.
        let other = try h.person(role: "advisor")
        try h.assign(other.id, Self.plan, [Self.cali], from: "2021-05")
        #expect(try h.call("PUT", Self.path(Self.cali, "2021-04"), json: APIHarness.reportJSON([("H1", "done")]), token: other.token).status == 403)
        #expect(try h.call("PUT", Self.path(Self.cali, "2021-05"), json: APIHarness.reportJSON([("H1", "done")]), token: other.token).status == 201)
    }

    @Test("re-sending an identical report changes nothing and says so")
    func identicalResendIsIdempotent() throws {
        let (h, advisor) = try Self.setUp()
        let body = APIHarness.reportJSON([("H1", "done"), ("H16", "not_applicable")])
        #expect(try h.call("PUT", Self.path(), json: body, token: advisor.token).status == 201)
        let again = try h.call("PUT", Self.path(), json: body, token: advisor.token)
        #expect(again.status == 200)
        #expect(again.json["changed"] as? Bool == false)
        #expect(again.header("ETag") == "\"1\"")
        #expect(try h.count("SELECT count(*) FROM report_revisions") == 2)
        // Whitespace around text is not a change either.
        let spaced = "{\"milestones\": [{\"code\": \"H1\", \"status\": \"done\", \"evidence\": \"  \"}, {\"code\": \"H16\", \"status\": \"not_applicable\"}]}"
        #expect(try h.call("PUT", Self.path(), json: spaced, token: advisor.token).json["changed"] as? Bool == false)
    }

    @Test("a stale If-Match gets 412 and writes nothing; the current one applies")
    func staleIfMatchIsRefused() throws {
        let (h, advisor) = try Self.setUp()
        // If-Match on a report that does not exist yet fails: there is no current representation.
        let early = try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token,
                               headers: [("If-Match", "\"1\"")])
        #expect(early.status == 412)
        #expect(try h.count("SELECT count(*) FROM reports") == 0)

        #expect(try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token).status == 201)
        #expect(try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H2", "done")]), token: advisor.token,
                           headers: [("If-Match", "\"1\"")]).header("ETag") == "\"2\"")
        let stale = try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H3", "done")]), token: advisor.token,
                               headers: [("If-Match", "\"1\"")])
        #expect(stale.status == 412)
        #expect(stale.header("Content-Type") == "application/problem+json")
        #expect(try h.count("SELECT count(*) FROM report_revisions WHERE milestone_code = 'H3'") == 0)
        #expect(try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H3", "done")]), token: advisor.token,
                           headers: [("If-Match", "W/\"2\", \"2\"")]).status == 200)
        // If-None-Match: * creates only.
        #expect(try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H4", "done")]), token: advisor.token,
                           headers: [("If-None-Match", "*")]).status == 412)
    }

    @Test("a partial report keeps the carried-forward status of the milestones it does not mention")
    func partialReportCarriesForward() throws {
        let (h, advisor) = try Self.setUp()
        #expect(try h.call("PUT", Self.path(Self.medellin, "2021-03"), json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token).status == 201)
        #expect(try h.call("PUT", Self.path(Self.medellin, "2021-05"), json: APIHarness.reportJSON([("H2", "in_progress")]), token: advisor.token).status == 201)
        let get = try h.call("GET", Self.path(Self.medellin, "2021-05"), token: advisor.token)
        let carried = Dictionary(uniqueKeysWithValues: (get.json["carried"] as? [[String: Any]] ?? []).map { ($0["code"] as! String, $0) })
        #expect(carried.count == 22)
        #expect(carried["H1"]?["status"] as? String == "done")
        #expect(carried["H1"]?["reported_in"] as? String == "2021-03")
        #expect(carried["H2"]?["status"] as? String == "in_progress")
        #expect(carried["H4"]?["status"] as? String == "not_started")
        #expect(carried["H4"]?["reported_in"] == nil)
        #expect((get.json["milestones"] as? [[String: Any]])?.count == 1)
    }

    @Test("a done milestone going back needs a comment and is flagged as a regression")
    func regressionNeedsComment() throws {
        let (h, advisor) = try Self.setUp()
        #expect(try h.call("PUT", Self.path(Self.medellin, "2021-04"), json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token).status == 201)
        let refused = try h.call("PUT", Self.path(Self.medellin, "2021-05"),
                                 json: APIHarness.reportJSON([("H2", "done"), ("H1", "not_started")]), token: advisor.token)
        #expect(refused.status == 422)
        #expect(refused.errorFields == ["milestones[1].comment"])
        #expect(try h.count("SELECT count(*) FROM reports WHERE period = '2021-05-01'") == 0)

        let body = "{\"milestones\": [{\"code\": \"H1\", \"status\": \"not_started\", \"comment\": \"El acta se anuló\"}]}"
        #expect(try h.call("PUT", Self.path(Self.medellin, "2021-05"), json: body, token: advisor.token).status == 201)
        let history = try h.call("GET", "/v1/entities/\(Self.medellin)/history?plan=\(Self.plan)&milestone=H1", token: advisor.token)
        let items = history.json["items"] as? [[String: Any]] ?? []
        #expect(items.map { $0["period"] as? String } == ["2021-04", "2021-05"])
        #expect(items.map { $0["is_regression"] as? Bool } == [false, true])
        #expect(items.last?["previous_status"] as? String == "done")
        #expect(items.last?["comment"] as? String == "El acta se anuló")

        // A report-level comment serves the milestones that bring none.
        #expect(try h.call("PUT", Self.path(Self.abejorral, "2021-04"), json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token).status == 201)
        let withReportComment = "{\"comment\": \"Cambio de administración\", \"milestones\": [{\"code\": \"H1\", \"status\": \"in_progress\"}]}"
        #expect(try h.call("PUT", Self.path(Self.abejorral, "2021-05"), json: withReportComment, token: advisor.token).status == 201)
    }

    @Test("every invalid request names its field and writes nothing")
    func validationNamesTheField() throws {
        let (h, advisor) = try Self.setUp()
        let long = String(repeating: "x", count: 2001)
        try h.database.pool.withConnection { conn in
            try conn.execute("INSERT INTO period_locks (plan_code, period, reason) VALUES ('gap-2020-f1', '2021-02-01', 'Corte del primer trimestre')")
        }
        let cases: [(String, String, Int, String)] = [
            (Self.path(plan: "no-such-plan"), APIHarness.reportJSON([("H1", "done")]), 404, "plan"),
            (Self.path("99999"), APIHarness.reportJSON([("H1", "done")]), 404, "entity"),
            (Self.path("11001"), APIHarness.reportJSON([("H1", "done")]), 422, "entity"),   // central, not enrolled
            (Self.path(), APIHarness.reportJSON([("H99", "done")]), 422, "milestones[0].code"),
            (Self.path(), APIHarness.reportJSON([("H1", "finished")]), 422, "milestones[0].status"),
            (Self.path(), APIHarness.reportJSON([("H1", "done"), ("H1", "in_progress")]), 422, "milestones[1].code"),
            (Self.path(), "{\"milestones\": [{\"code\": \"H1\", \"status\": \"done\", \"achieved_on\": \"2021-06-01\"}]}", 422, "milestones[0].achieved_on"),
            (Self.path(Self.medellin, "2021-06"), "{\"milestones\": [{\"code\": \"H1\", \"status\": \"done\", \"achieved_on\": \"2021-06-20\"}]}", 422, "milestones[0].achieved_on"),
            (Self.path(), "{\"milestones\": [{\"code\": \"H1\", \"status\": \"done\", \"achieved_on\": \"2021-02-30\"}]}", 422, "milestones[0].achieved_on"),
            (Self.path(Self.medellin, "2021-5"), APIHarness.reportJSON([("H1", "done")]), 400, "period"),
            (Self.path(Self.medellin, "2021-07"), APIHarness.reportJSON([("H1", "done")]), 422, "period"),
            (Self.path(Self.medellin, "2021-02"), APIHarness.reportJSON([("H1", "done")]), 423, "period"),
            (Self.path(), "{\"milestones\": [{\"code\": \"H1\", \"status\": \"done\", \"evidence\": \"\(long)\"}]}", 422, "milestones[0].evidence"),
            (Self.path(), "{\"milestones\": [{\"code\": \"H1\", \"status\": \"done\", \"comment\": \"\(long)\"}]}", 422, "milestones[0].comment"),
            (Self.path(), "{\"milestones\": [{\"code\": \"H1\"}]}", 422, "milestones[0].status"),
            (Self.path(), "{\"milestones\": 3}", 422, "milestones"),
        ]
        for (path, body, status, field) in cases {
            let token = path.contains("11001") ? h.centralToken : advisor.token
            let r = try h.call("PUT", path, json: body, token: token)
            #expect(r.status == status, "\(path) \(body.prefix(80)): \(r.text)")
            #expect(r.errorFields.contains(field), "\(path) \(body.prefix(80)): \(r.text)")
            #expect(r.header("Content-Type") == "application/problem+json")
        }
        let locked = try h.call("PUT", Self.path(Self.medellin, "2021-02"), json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token)
        #expect((locked.json["detail"] as? String)?.contains("Corte del primer trimestre") == true)
        #expect(try h.count("SELECT count(*) FROM reports") == 0)
        #expect(try h.count("SELECT count(*) FROM report_revisions") == 0)
        #expect(try h.count("SELECT count(*) FROM report_milestones") == 0)
    }

    @Test("a viewer never writes; coordinators write only in their regions")
    func rolesOtherThanAdvisor() throws {
        let (h, _) = try Self.setUp()
        let viewer = try h.person(role: "viewer")
        #expect(try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H1", "done")]), token: viewer.token).status == 403)
        let antioquia = try h.region(of: Self.medellin)
        let valle = try h.region(of: Self.cali)
        #expect(antioquia != valle)
        let coordinator = try h.person(role: "coordinator", regions: [antioquia])
        #expect(try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H1", "done")]), token: coordinator.token).status == 201)
        #expect(try h.call("PUT", Self.path(Self.cali), json: APIHarness.reportJSON([("H1", "done")]), token: coordinator.token).status == 403)
        #expect(try h.call("PUT", Self.path(Self.cali), json: APIHarness.reportJSON([("H1", "done")])).status == 201)   // central
        // Reading: the coordinator of another region is refused, the viewer reads.
        let other = try h.person(role: "coordinator", regions: [valle])
        #expect(try h.call("GET", Self.path(), token: other.token).status == 403)
        #expect(try h.call("GET", Self.path(), token: viewer.token).status == 200)
    }

    @Test("reading a report never sent is 404, and If-None-Match gives 304")
    func readingReports() throws {
        let (h, advisor) = try Self.setUp()
        let missing = try h.call("GET", Self.path(), token: advisor.token)
        #expect(missing.status == 404)
        #expect(missing.errorFields == ["period"])
        #expect(try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token).status == 201)
        let cached = try h.call("GET", Self.path(), token: advisor.token, headers: [("If-None-Match", "\"1\"")])
        #expect(cached.status == 304)
        #expect(cached.header("ETag") == "\"1\"")
        #expect(try h.call("GET", Self.path(), token: advisor.token, headers: [("If-None-Match", "\"0\"")]).status == 200)
        #expect(try h.call("GET", Self.path(), token: .some(nil)).status == 401)
    }

    @Test("no route or statement updates or deletes a revision")
    func revisionsAreAppendOnly() throws {
        let (h, advisor) = try Self.setUp()
        #expect(try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H1", "done")]), token: advisor.token).status == 201)
        #expect(try h.call("DELETE", "/v1/entities/\(Self.medellin)/history?plan=\(Self.plan)").status == 405)
        #expect(try h.call("DELETE", Self.path()).status == 405)
        #expect(throws: DatabaseError.self) {
            try h.database.pool.withConnection { conn in try conn.execute("UPDATE report_revisions SET status = 'done'") }
        }
        #expect(throws: DatabaseError.self) {
            try h.database.pool.withConnection { conn in try conn.execute("DELETE FROM report_revisions") }
        }
    }

    @Test("history pages oldest first and is filtered by milestone and period")
    func historyPages() throws {
        let (h, advisor) = try Self.setUp()
        // H16 and H20 are the Fase I milestones that may be "no aplica"; leaving done for it needs a comment.
        for (month, status) in [("2021-01", "in_progress"), ("2021-02", "done"), ("2021-03", "not_applicable")] {
            let body = APIHarness.reportJSON([("H16", status), ("H20", status)], extra: ", \"comment\": \"La corporación sesiona sin citación\"")
            #expect(try h.call("PUT", Self.path(Self.medellin, month), json: body, token: advisor.token).status == 201)
        }
        let first = try h.call("GET", "/v1/entities/\(Self.medellin)/history?plan=\(Self.plan)&milestone=H16&limit=2", token: advisor.token)
        #expect(first.json["total"] as? Int == 3)
        let page1 = first.json["items"] as? [[String: Any]] ?? []
        #expect(page1.map { $0["status"] as? String } == ["in_progress", "done"])
        let cursor = try #require(first.json["next_cursor"] as? String)
        let second = try h.call("GET", "/v1/entities/\(Self.medellin)/history?plan=\(Self.plan)&milestone=H16&limit=2&cursor=\(cursor)", token: advisor.token)
        #expect((second.json["items"] as? [[String: Any]])?.map { $0["status"] as? String } == ["not_applicable"])
        #expect((second.json["items"] as? [[String: Any]])?.first?["previous_status"] as? String == "done")
        let february = try h.call("GET", "/v1/entities/\(Self.medellin)/history?plan=\(Self.plan)&period=2021-02", token: advisor.token)
        #expect(february.json["total"] as? Int == 2)
        #expect(try h.call("GET", "/v1/entities/\(Self.medellin)/history", token: advisor.token).status == 400)
        #expect(try h.call("GET", "/v1/entities/\(Self.cali)/history?plan=\(Self.plan)", token: advisor.token).status == 403)
    }

    @Test("fifty concurrent writers at one report: every accepted change is in the history exactly once")
    func fiftyConcurrentWriters() throws {
        let (h, advisor) = try Self.setUp()
        // Assignments are exclusive, so the second writer of the report is the region's coordinator.
        let coordinator = try h.person(role: "coordinator", regions: [try h.region(of: Self.medellin)])
        // H16 may be "no aplica", so it carries the chain of status changes; the other 21 get one write each.
        let codes = (1...22).filter { $0 != 16 }.map { "H\($0)" }
        let writers = 50
        let statuses = ["in_progress", "not_applicable", "not_started"]
        let results = StatusBoard(count: writers)
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for i in 0..<writers {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                start.wait()
                // Writers 0…20 each set a different milestone; 21…49 keep changing H16's status and evidence.
                let body: String
                if i < 21 {
                    body = "{\"milestones\": [{\"code\": \"\(codes[i])\", \"status\": \"in_progress\", \"evidence\": \"w\(i)\"}]}"
                } else {
                    body = "{\"milestones\": [{\"code\": \"H16\", \"status\": \"\(statuses[i % 3])\", \"evidence\": \"w\(i)\"}]}"
                }
                let token = i % 2 == 0 ? advisor.token : coordinator.token
                let status = (try? h.call("PUT", Self.path(), json: body, token: token).status) ?? -1
                results.set(i, status)
            }
            thread.start()
        }
        for _ in 0..<writers { start.signal() }
        done.wait()
        let statusesSeen = results.values
        #expect(statusesSeen.allSatisfy { $0 == 200 || $0 == 201 }, "\(statusesSeen)")
        #expect(statusesSeen.filter { $0 == 201 }.count == 1)

        let rows = try h.database.pool.withConnection { conn in
            try conn.query("""
                SELECT revision, milestone_code, evidence, previous_evidence FROM report_revisions
                 WHERE entity_code = \(Self.medellin) ORDER BY revision
                """).rows.map { r in
                (try r.decode("revision", as: Int.self), try r.decode("milestone_code", as: String.self),
                 try r.decode("evidence", as: String.self), try r.decode("previous_evidence", as: String?.self))
            }
        }
        #expect(rows.map(\.0) == Array(1...writers))   // strictly increasing, no gaps, one per write
        #expect(Set(rows.map(\.2)) == Set((0..<writers).map { "w\($0)" }))   // every change exactly once
        // H16's chain: each revision saw the one before it, so no write was lost or overwritten silently.
        let chain = rows.filter { $0.1 == "H16" }
        #expect(chain.count == 29)
        for (before, after) in zip(chain, chain.dropFirst()) {
            #expect(after.3 == before.2)
        }
        #expect(try h.count("SELECT revision FROM reports WHERE entity_code = '05001'") == writers)
        #expect(try h.count("SELECT count(*) FROM report_milestones WHERE entity_code = '05001'") == 22)
        // The maintained progress rows equal a computation from scratch after all fifty.
        #expect(try h.count("SELECT progress_rows_drift('gap-2020-f1')") == 0)
    }
}

/// HTTP statuses collected from many threads.
final class StatusBoard: Sendable {
    private let statuses: Mutex<[Int]>
    init(count: Int) { statuses = Mutex(Array(repeating: 0, count: count)) }
    func set(_ i: Int, _ status: Int) { statuses.withLock { $0[i] = status } }
    var values: [Int] { statuses.withLock { $0 } }
}
