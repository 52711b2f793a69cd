// Plan rules and schedule through the API: which milestones may be "no aplica", Decreto 683, lag, agenda and /v1/me.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain

@Suite("Plan rules and schedule")
struct ScheduleTests {
    static let plan = "gap-2020-f1"

    static func path(_ entity: String = "05001", _ month: String = "2020-03") -> String {
        "/v1/reports/\(plan)/\(entity)/\(month)"
    }

    /// Writes one month's statuses for an entity straight in SQL (the API's rules are tested elsewhere).
    static func report(_ h: APIHarness, _ entity: String, _ period: String, _ statuses: [String: String]) throws {
        try h.database.pool.withTransaction { conn in
            try conn.execute("""
                INSERT INTO reports (plan_code, entity_code, period, revision, first_received_at, updated_at)
                VALUES (\(plan), \(entity), (\(period) || '-01')::date, 1, now(), now())
                """)
            let codes = Array(statuses.keys), values = codes.map { statuses[$0]! }
            try conn.execute("""
                INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at)
                SELECT \(plan), \(entity), (\(period) || '-01')::date, c, s, 1, now() FROM unnest(\(codes)::text[], \(values)::text[]) AS x(c, s)
                """)
        }
    }

    static let decreto683 = """
        {"reason": "Decreto 683 de 2020: presentación hasta 2020-06-15, aprobación hasta 2020-07-15",
         "due": {"H18": "2020-06-15", "H22": "2020-07-15"}, "departments": ["52"], "include_municipalities": true}
        """

    // MARK: - Not applicable

    @Test("H22 Aprobación de PDT marked not applicable is refused with a 422 naming it; H16 is accepted")
    func approvalCannotBeNotApplicable() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, ["05001"])
        let refused = try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H1", "done"), ("H22", "not_applicable")]))
        #expect(refused.status == 422)
        #expect(refused.errorFields == ["milestones[1].status"])
        #expect(refused.text.contains("H22"))
        #expect(try h.count("SELECT count(*) FROM report_revisions") == 0)
        let accepted = try h.call("PUT", Self.path(), json: APIHarness.reportJSON([("H16", "not_applicable"), ("H20", "not_applicable")]))
        #expect(accepted.status == 201, "\(accepted.text)")
    }

    @Test("done to not applicable without a comment is refused, with one it is recorded as a regression")
    func doneToNotApplicableIsARegression() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, ["05001"])
        #expect(try h.call("PUT", Self.path("05001", "2020-03"), json: APIHarness.reportJSON([("H16", "done")])).status == 201)
        let bare = try h.call("PUT", Self.path("05001", "2020-04"), json: APIHarness.reportJSON([("H16", "not_applicable")]))
        #expect(bare.status == 422)
        #expect(bare.errorFields == ["milestones[0].comment"])
        let explained = try h.call("PUT", Self.path("05001", "2020-04"), json: APIHarness.reportJSON(
            [("H16", "not_applicable")], extra: ", \"comment\": \"El concejo estaba en sesiones ordinarias\""))
        #expect(explained.status == 201, "\(explained.text)")
        #expect(try h.count("SELECT count(*) FROM report_revisions WHERE milestone_code = 'H16' AND is_regression") == 1)
    }

    @Test("an import marking H22 not applicable rejects that row and writes nothing")
    func importRefusesNotApplicable() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, ["05001"])
        let csv = "plan,entity,period,milestone,status\ngap-2020-f1,05001,2020-03,H16,not_applicable\ngap-2020-f1,05001,2020-03,H22,not_applicable\n"
        let r = try h.send("POST", "/v1/imports/reports?dry_run=false", body: csv, contentType: "text/csv")
        #expect(r.json["rejected"] as? Int == 1, "\(r.text)")
        let errors = r.json["errors"] as? [[String: Any]] ?? []
        #expect(errors.first?["line"] as? Int == 3)
        #expect(errors.first?["field"] as? String == "status")
        #expect(try h.count("SELECT count(*) FROM report_milestones") == 0)
    }

    @Test("an import taking a done milestone to not applicable flags it as a regression")
    func importFlagsDoneToNotApplicable() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, ["05001"])
        let csv = "plan,entity,period,milestone,status\ngap-2020-f1,05001,2020-03,H20,done\ngap-2020-f1,05001,2020-04,H20,not_applicable\n"
        let r = try h.send("POST", "/v1/imports/reports?dry_run=false", body: csv, contentType: "text/csv")
        #expect(r.json["committed"] as? Bool == true, "\(r.text)")
        #expect(try h.count("SELECT count(*) FROM report_revisions WHERE milestone_code = 'H20' AND period = '2020-04-01' AND is_regression") == 1)
    }

    @Test("a correction that takes the option away from H16 keeps its reports and says how many")
    func removingTheRuleCountsAffectedReports() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, ["05001"])
        try Self.report(h, "05001", "2020-03", ["H16": "not_applicable"])
        let current = try h.call("GET", "/v1/plans/\(Self.plan)")
        var body = current.json
        var phases = body["phases"] as! [[String: Any]]
        for (i, p) in phases.enumerated() {
            var ms = p["milestones"] as! [[String: Any]]
            for (k, m) in ms.enumerated() where m["code"] as? String == "H16" { ms[k]["not_applicable_allowed"] = false }
            phases[i]["milestones"] = ms
        }
        body = ["name": body["name"]!, "reason": "El concejo siempre sesiona", "phases": phases]
        let r = try h.call("PUT", "/v1/plans/\(Self.plan)", json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        #expect(r.status == 200, "\(r.text)")
        let removed = r.json["not_applicable_removed"] as? [[String: Any]] ?? []
        #expect(removed.first?["milestone"] as? String == "H16")
        #expect(removed.first?["not_applicable_reports"] as? Int == 1)
        #expect(try h.count("SELECT count(*) FROM report_milestones WHERE status = 'not_applicable'") == 1)
        // From now on H16 refuses it.
        #expect(try h.call("PUT", Self.path("05001", "2020-04"), json: APIHarness.reportJSON([("H16", "not_applicable")])).status == 422)
    }

    @Test("a due date outside the plan's span is refused, naming the milestone")
    func dueDateOutsideSpan() throws {
        let h = try APIHarness()
        let current = try h.call("GET", "/v1/plans/\(Self.plan)")
        #expect((current.json["span"] as? [String: Any])?["from"] as? String == "2020-01")
        var phases = current.json["phases"] as! [[String: Any]]
        var ms = phases[0]["milestones"] as! [[String: Any]]
        ms[0]["due_on"] = "2021-03-01"
        phases[0]["milestones"] = ms
        let body: [String: Any] = ["name": current.json["name"]!, "reason": "Plazo de prueba", "phases": phases]
        let r = try h.call("PUT", "/v1/plans/\(Self.plan)", json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        #expect(r.status == 422)
        #expect(r.errorFields == ["phases[F1].milestones[H1].due_on"])
    }

    // MARK: - Schedule and lag

    @Test("the 2020 calendar is readable by anyone: H11, H18 and H22 dated, H16 and H20 may be not applicable")
    func calendarIsReadable() throws {
        let h = try APIHarness()
        let viewer = try h.person(role: "viewer")
        let r = try h.call("GET", "/v1/plans/\(Self.plan)/schedule", token: viewer.token)
        #expect(r.status == 200)
        let items = r.json["milestones"] as? [[String: Any]] ?? []
        let dated = items.filter { $0["due_on"] != nil }.map { "\($0["code"]!)=\($0["due_on"]!)" }
        #expect(dated == ["H11=2020-02-29", "H18=2020-04-30", "H22=2020-05-31"])
        #expect(items.filter { $0["not_applicable_allowed"] as? Bool == true }.map { $0["code"] as? String } == ["H16", "H20"])
        #expect(items.first { $0["code"] as? String == "H12" }?["effective_due_on"] as? String == "2020-04-30")
        #expect(try h.call("POST", "/v1/plans/\(Self.plan)/schedule/exceptions", json: Self.decreto683, token: viewer.token).status == 403)
    }

    @Test("an entity under Decreto 683 is not behind in June 2020 while one without it is")
    func decreto683GoldenJune() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, ["05001", "52001", "52"])
        let applied = try h.call("POST", "/v1/plans/\(Self.plan)/schedule/exceptions", json: Self.decreto683)
        #expect(applied.status == 201, "\(applied.text)")
        #expect(applied.json["entities"] as? [String] == ["52", "52001"])
        // Both reported H1 to H18 done in May: phases 1 to 4 complete, 80.
        let done = Dictionary(uniqueKeysWithValues: (1...18).map { ("H\($0)", "done") })
        try Self.report(h, "05001", "2020-05", done)
        try Self.report(h, "52001", "2020-05", done)

        let medellin = try h.call("GET", "/v1/entities/05001/schedule?plan=\(Self.plan)&as_of=2020-06")
        #expect(medellin.status == 200, "\(medellin.text)")
        #expect(medellin.json["behind"] as? Bool == true)
        #expect(medellin.text.contains("\"expected\":96,"))
        #expect(medellin.text.contains("\"actual\":80,"))
        #expect(medellin.text.contains("\"lag\":16,"))
        #expect((medellin.json["overdue"] as? [[String: Any]])?.map { $0["code"] as? String } == ["H19", "H20", "H22"])

        let pasto = try h.call("GET", "/v1/entities/52001/schedule?plan=\(Self.plan)&as_of=2020-06")
        #expect(pasto.json["behind"] as? Bool == false, "\(pasto.text)")
        #expect(pasto.text.contains("\"expected\":80,"))
        #expect(pasto.text.contains("\"lag\":0,"))
        #expect((pasto.json["exceptions"] as? [[String: Any]])?.count == 2)
        // In July the decree's approval date has passed too.
        let july = try h.call("GET", "/v1/entities/52001/schedule?plan=\(Self.plan)&as_of=2020-07")
        #expect(july.json["behind"] as? Bool == true)
    }

    @Test("an exception for an entity not enrolled in the plan is refused, naming it, and nothing is written")
    func exceptionForUnenrolledEntity() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, ["05001"])
        let body = """
            {"reason": "Decreto 683", "due": {"H22": "2020-07-15"}, "entities": ["05001", "76001"]}
            """
        let r = try h.call("POST", "/v1/plans/\(Self.plan)/schedule/exceptions", json: body)
        #expect(r.status == 422)
        #expect(r.errorFields == ["entities[1]"])
        #expect(try h.count("SELECT count(*) FROM schedule_exceptions") == 0)
        let late = try h.call("POST", "/v1/plans/\(Self.plan)/schedule/exceptions", json: """
            {"reason": "Fuera de vigencia", "due": {"H22": "2021-07-15"}, "entities": ["05001"]}
            """)
        #expect(late.errorFields == ["due.H22"])
    }

    // MARK: - Me and agenda

    @Test("/v1/me tells an advisor who they are and which entities they serve this month")
    func meForAnAdvisor() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, ["05001", "05002"])
        let advisor = try h.person(role: "advisor", name: "Ana")
        try h.assign(advisor.id, Self.plan, ["05001", "05002"])
        let r = try h.call("GET", "/v1/me", token: advisor.token)
        #expect(r.status == 200, "\(r.text)")
        #expect((r.json["person"] as? [String: Any])?["id"] as? Int == Int(advisor.id))
        #expect((r.json["token"] as? [String: Any])?["expires_at"] != nil)
        let plans = r.json["assignments"] as? [[String: Any]] ?? []
        #expect(plans.first?["plan"] as? String == Self.plan)
        #expect(plans.first?["entity_count"] as? Int == 2)
        #expect(try h.call("GET", "/v1/me", token: .some(nil)).status == 401)
    }

    @Test("the agenda lists last month's missing reports with days left and overdue milestones worst first")
    func agendaForAnAdvisor() throws {
        let h = try APIHarness()
        h.clock.now = TestClock.date("2020-06-05T12:00:00Z")
        try h.enroll(Self.plan, ["05001", "05002"])
        let advisor = try h.person(role: "advisor", name: "Ana")
        try h.assign(advisor.id, Self.plan, ["05001", "05002"])
        try Self.report(h, "05001", "2020-05", Dictionary(uniqueKeysWithValues: (1...18).map { ("H\($0)", "done") }))
        let r = try h.call("GET", "/v1/agenda?as_of=2020-06", token: advisor.token)
        #expect(r.status == 200, "\(r.text)")
        let due = r.json["reports_due"] as? [[String: Any]] ?? []
        #expect(due.map { ($0["entity"] as? [String: Any])?["code"] as? String } == ["05002"])
        #expect(due.first?["deadline"] as? String == "2020-06-10")
        #expect(due.first?["days_left"] as? Int == 5)
        let overdue = r.json["overdue"] as? [[String: Any]] ?? []
        // 05002 never reported: everything from H1 on is overdue since February, so it comes first.
        #expect(overdue.map { ($0["entity"] as? [String: Any])?["code"] as? String } == ["05002", "05001"])
        #expect(r.json["by_advisor"] == nil)
        // Another advisor may not read Ana's agenda; the central team may.
        let other = try h.person(role: "advisor")
        #expect(try h.call("GET", "/v1/agenda?as_of=2020-06&person=\(advisor.id)", token: other.token).status == 403)
        let central = try h.call("GET", "/v1/agenda?as_of=2020-06&person=\(advisor.id)")
        #expect((central.json["reports_due"] as? [[String: Any]])?.count == 1)
    }

    @Test("a coordinator's agenda rolls their region up by advisor, and the quarter's open months are about to close")
    func agendaForACoordinator() throws {
        let h = try APIHarness()
        h.clock.now = TestClock.date("2020-07-03T12:00:00Z")
        try h.enroll(Self.plan, ["05001", "05002", "76001"])
        let ana = try h.person(role: "advisor", name: "Ana")
        let beto = try h.person(role: "advisor", name: "Beto")
        try h.assign(ana.id, Self.plan, ["05001"])
        try h.assign(beto.id, Self.plan, ["05002"])
        let coordinator = try h.person(role: "coordinator", regions: [try h.region(of: "05001")])
        try Self.report(h, "05001", "2020-06", Dictionary(uniqueKeysWithValues: (1...22).map { ("H\($0)", "done") }))
        let r = try h.call("GET", "/v1/agenda?as_of=2020-07", token: coordinator.token)
        #expect(r.status == 200, "\(r.text)")
        // Cali (76001) is in another region: not in this agenda.
        let due = r.json["reports_due"] as? [[String: Any]] ?? []
        #expect(due.map { ($0["entity"] as? [String: Any])?["code"] as? String } == ["05002"])
        let lines = r.json["by_advisor"] as? [[String: Any]] ?? []
        #expect(lines.map { ($0["advisor"] as? [String: Any])?["name"] as? String } == ["Beto", "Ana"])
        #expect(lines.first?["reports_due"] as? Int == 1)
        #expect(lines.last?["overdue_milestones"] as? Int == 0)
        // June closed Q2: April to June are not locked yet.
        let closing = r.json["closing_months"] as? [[String: Any]] ?? []
        #expect(closing.first?["months"] as? [String] == ["2020-04", "2020-05", "2020-06"])
        #expect(closing.first?["closes_after"] as? String == "2020-07-10")
        // CSV: the generic flattening gives a list.
        #expect(try h.call("GET", "/v1/agenda?as_of=2020-07&format=csv", token: coordinator.token).status == 200)
    }
}
