// The report write rules are one definition: the PUT and the import give the same field and reason for each rule.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain

@Suite("Report write rules, one definition")
struct ReportWriteRulesAPITests {
    static let plan = "gap-2020-f1"
    static let header = "plan,entity,period,milestone,status,achieved_on,evidence,reported_at,advisor_email\n"

    /// One fault, written both ways: a PUT (path and one-milestone body) and an import row with the same value.
    struct Case: Sendable, CustomStringConvertible {
        var rule: ReportWriteRules.Rule
        var plan = ReportWriteRulesAPITests.plan
        var entity = "05001"
        var period = "2021-05"
        var milestone = "H1"
        var status = "done"
        var achievedOn: String?
        var evidence: String?
        /// The PUT's answer (the import's is always a rejected row).
        var putStatus = 422

        var description: String { rule.rawValue }
        var putPath: String { "/v1/reports/\(plan)/\(entity)/\(period)" }
        var putBody: String {
            var item = "{\"code\": \"\(milestone)\", \"status\": \"\(status)\""
            if let achievedOn { item += ", \"achieved_on\": \"\(achievedOn)\"" }
            if let evidence { item += ", \"evidence\": \"\(evidence)\"" }
            return "{\"milestones\": [\(item + "}")]}"
        }
        var csvRow: String { "\(plan),\(entity),\(period),\(milestone),\(status),\(achievedOn ?? ""),\(evidence ?? ""),,\n" }
    }

    static let cases: [Case] = [
        Case(rule: .periodInFuture, period: "2021-07"),
        Case(rule: .statusUnknown, status: "finished"),
        Case(rule: .achievedAfterPeriod, achievedOn: "2021-06-01"),
        Case(rule: .achievedInFuture, period: "2021-06", achievedOn: "2021-06-20"),
        Case(rule: .evidenceTooLong, evidence: String(repeating: "x", count: 2001)),
        Case(rule: .planUnknown, plan: "no-such-plan", putStatus: 404),
        Case(rule: .entityUnknown, entity: "99999", putStatus: 404),
        Case(rule: .notEnrolled, entity: "11001"),
        Case(rule: .periodLocked, period: "2021-02", putStatus: 423),
        Case(rule: .milestoneUnknown, milestone: "H99"),
        Case(rule: .notApplicableRefused, milestone: "H22", status: "not_applicable"),
    ]

    /// Fase I with Medellín, Abejorral and Cali enrolled and February 2021 locked; nothing is ever written.
    /// In process (no socket): these answers need no wire.
    static let shared: APIHarness = {
        do {
            let h = try APIHarness(transport: .inProcess)
            try h.enroll(plan, ["05001", "05002", "76001"])
            try h.database.pool.withConnection { conn in
                try conn.execute("INSERT INTO period_locks (plan_code, period, reason) VALUES ('gap-2020-f1', '2021-02-01', 'Corte del primer trimestre')")
            }
            return h
        } catch { fatalError("write rules harness: \(error)") }
    }()

    func importErrors(_ h: APIHarness, _ csv: String) throws -> [[String: Any]] {
        let r = try h.send("POST", "/v1/imports/reports?dry_run=true", body: Self.header + csv, contentType: "text/csv")
        #expect(r.status == 200, "\(r.text)")
        return r.json["errors"] as? [[String: Any]] ?? []
    }

    @Test("each rule gives the PUT and the import the same field and the same reason", arguments: cases)
    func sameAnswer(_ c: Case) throws {
        let h = Self.shared
        let put = try h.call("PUT", c.putPath, json: c.putBody)
        #expect(put.status == c.putStatus, "\(put.text)")
        let putErrors = put.json["errors"] as? [[String: Any]] ?? []
        let errors = try importErrors(h, c.csvRow)
        #expect(errors.count == 1, "\(errors)")
        #expect(putErrors.count == 1, "\(put.text)")
        guard let row = errors.first, let answer = putErrors.first else { return }
        let field = try #require(row["field"] as? String)
        #expect(answer["field"] as? String == ReportWriteRules.bodyField(field, index: 0))
        #expect(answer["message"] as? String == row["reason"] as? String)
        #expect(put.json["detail"] as? String == row["reason"] as? String)
        #expect(try h.count("SELECT count(*) FROM report_revisions") == 0)
    }

    @Test("a milestone twice is refused by both with the same words, each saying where it came first")
    func repeated() throws {
        let h = Self.shared
        let put = try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-05",
                             json: APIHarness.reportJSON([("H1", "done"), ("H1", "in_progress")]))
        #expect(put.status == 422)
        #expect(put.errorFields == ["milestones[1].code"])
        #expect(put.json["detail"] as? String == "El hito H1 aparece dos veces (también en milestones[0]).")
        let errors = try importErrors(h, "gap-2020-f1,05001,2021-05,H1,done,,,,\ngap-2020-f1,05001,2021-05,H1,in_progress,,,,\n")
        #expect(errors.map { $0["field"] as? String } == ["milestone"])
        #expect(errors.first?["reason"] as? String == "El hito H1 aparece dos veces (también en la línea 2).")
    }

    @Test("several faults in one PUT: 404 before 403, then enrollment, then the lock, then every milestone at once")
    func putOrder() throws {
        let h = try APIHarness(transport: .inProcess)
        try h.enroll(Self.plan, ["05001"])
        try h.database.pool.withConnection { conn in
            try conn.execute("INSERT INTO period_locks (plan_code, period, reason) VALUES ('gap-2020-f1', '2021-02-01', 'Corte')")
        }
        let advisor = try h.person(role: "advisor")
        // An unknown entity is a 404 even for a caller it could never be assigned to.
        #expect(try h.call("PUT", "/v1/reports/\(Self.plan)/99999/2021-05", json: APIHarness.reportJSON([("H1", "done")]),
                           token: advisor.token).status == 404)
        // Outside the caller's scope, the other rules are not told.
        #expect(try h.call("PUT", "/v1/reports/\(Self.plan)/76001/2021-02", json: APIHarness.reportJSON([("H99", "done")]),
                           token: advisor.token).status == 403)
        let notEnrolled = try h.call("PUT", "/v1/reports/\(Self.plan)/76001/2021-02", json: APIHarness.reportJSON([("H99", "done")]))
        #expect(notEnrolled.status == 422)
        #expect(notEnrolled.errorFields == ["entity"])
        let locked = try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-02", json: APIHarness.reportJSON([("H99", "done")]))
        #expect(locked.status == 423)
        let both = try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-05",
                              json: APIHarness.reportJSON([("H99", "done"), ("H1", "done"), ("H22", "not_applicable")]))
        #expect(both.status == 422)
        #expect(both.errorFields == ["milestones[0].code", "milestones[2].status"])
        // A body that mentions no milestone still has its key checked.
        #expect(try h.call("PUT", "/v1/reports/\(Self.plan)/76001/2021-05", json: "{\"milestones\": []}").status == 422)
        #expect(try h.count("SELECT count(*) FROM reports") == 0)
    }

    @Test("a regression is refused by the PUT without a comment and flagged by the import, by the same SQL rule")
    func regression() throws {
        let h = try APIHarness(transport: .inProcess)
        try h.enroll(Self.plan, ["05001"])
        #expect(try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-03", json: APIHarness.reportJSON([("H1", "done")])).status == 201)
        let refused = try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-04", json: APIHarness.reportJSON([("H1", "in_progress")]))
        #expect(refused.status == 422)
        #expect(refused.errorFields == ["milestones[0].comment"])
        #expect(refused.json["errors"].flatMap { ($0 as? [[String: Any]])?.first?["message"] as? String }
                == ReportWriteRules.regressionWithoutComment(milestone: "H1", to: .inProgress).reason)
        let imported = try h.send("POST", "/v1/imports/reports", body: Self.header + "gap-2020-f1,05001,2021-04,H1,in_progress,,,,\n",
                                  contentType: "text/csv")
        #expect(imported.json["committed"] as? Bool == true, "\(imported.text)")
        #expect(try h.count("SELECT count(*) FROM report_revisions WHERE period = '2021-04-01' AND is_regression AND source = 'import'") == 1)
        #expect(try h.count("SELECT count(*) FROM report_revisions WHERE period = '2021-03-01' AND NOT is_regression") == 1)
    }

    @Test("a value the month already holds is unchanged for both writers: no revision, no new ETag")
    func unchanged() throws {
        let h = try APIHarness(transport: .inProcess)
        try h.enroll(Self.plan, ["05001"])
        let body = "{\"milestones\": [{\"code\": \"H1\", \"status\": \"done\", \"achieved_on\": \"2021-03-10\", \"evidence\": \"Acta 3\"}], \"comment\": \"Visita\"}"
        #expect(try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-03", json: body).status == 201)
        // The import brings no comment and keeps the month's, so the same status, date and evidence is no change.
        let again = try h.send("POST", "/v1/imports/reports", body: Self.header + "gap-2020-f1,05001,2021-03,H1,done,2021-03-10,Acta 3,,\n",
                               contentType: "text/csv")
        #expect(again.json["ignored"] as? Int == 1, "\(again.text)")
        let resent = try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-03", json: body)
        #expect(resent.status == 200)
        #expect(resent.json["changed"] as? Bool == false)
        #expect(resent.header("ETag") == "\"1\"")
        #expect(try h.count("SELECT count(*) FROM report_revisions") == 1)
        // Without its comment the PUT replaces the value (a PUT is the whole value): a change.
        let uncommented = try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-03",
                                     json: "{\"milestones\": [{\"code\": \"H1\", \"status\": \"done\", \"achieved_on\": \"2021-03-10\", \"evidence\": \"Acta 3\"}]}")
        #expect(uncommented.json["changed"] as? Bool == true)
    }
}
