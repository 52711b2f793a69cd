// Bulk load of past reports: dry run, all-or-nothing, rejected rows with line and reason, idempotent re-import.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain

@Suite("Report import")
struct ReportImportTests {
    static let plan = "gap-2020-f1"
    static let header = "plan,entity,period,milestone,status,achieved_on,evidence,reported_at,advisor_email\n"

    static func setUp() throws -> APIHarness {
        let h = try APIHarness()
        try h.enroll(plan, ["05001", "05002", "76001"])
        _ = try h.person(role: "advisor", name: "Ana", email: "ana@dnp.gov.co")
        return h
    }

    static let good = header + """
        gap-2020-f1,05001,2021-01,H1,done,2021-01-20,Acta 12,2021-02-05,ana@dnp.gov.co
        gap-2020-f1,05001,2021-01,H2,in_progress,,,2021-02-05,ana@dnp.gov.co
        gap-2020-f1,05001,2021-02,H2,done,2021-02-11,"https://x.gov.co/a,b",2021-03-15T09:30:00,ANA@dnp.gov.co
        gap-2020-f1,5002,2021-02,H1,done,,,,
        gap-2020-f1,05001,2021-03,H1,in_progress,,,2021-04-02T10:00:00Z,

        """

    func post(_ h: APIHarness, _ csv: String, dryRun: Bool, token: String?? = .none) throws -> TestResponse {
        try h.send("POST", "/v1/imports/reports?dry_run=\(dryRun)", body: csv, contentType: "text/csv", token: token)
    }

    @Test("a dry run reports what would happen and writes nothing")
    func dryRun() throws {
        let h = try Self.setUp()
        let r = try post(h, Self.good, dryRun: true)
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["dry_run"] as? Bool == true)
        #expect(r.json["committed"] as? Bool == false)
        #expect([r.json["rows"], r.json["created"], r.json["updated"], r.json["ignored"], r.json["rejected"]].map { $0 as? Int } == [5, 5, 0, 0, 0])
        #expect(try h.count("SELECT count(*) FROM reports") == 0)
        #expect(try h.count("SELECT count(*) FROM report_revisions") == 0)
    }

    @Test("an import writes reports, revisions from the file's own history and first receipts, and re-importing ignores it")
    func importAndReimport() throws {
        let h = try Self.setUp()
        let r = try post(h, Self.good, dryRun: false)
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["committed"] as? Bool == true)
        #expect(r.json["created"] as? Int == 5)
        #expect(try h.count("SELECT count(*) FROM reports") == 4)
        #expect(try h.count("SELECT count(*) FROM report_revisions WHERE source = 'import'") == 5)
        // Leading zero restored; a report without reported_at was received at the import.
        #expect(try h.count("SELECT count(*) FROM reports WHERE entity_code = '05002'") == 1)
        // First receipt is the reported_at in Bogotá (date only: start of that day).
        let received = try h.database.pool.withConnection { conn in
            try conn.query("SELECT first_received_at FROM reports WHERE entity_code = '05001' AND period = '2021-02-01'").rows[0]
                .decode("first_received_at", as: Date.self)
        }
        #expect(received == TestClock.date("2021-03-15T14:30:00Z"))
        // March's H1 went back from February's done: flagged, previous value carried from the file's own rows.
        let history = try h.call("GET", "/v1/entities/05001/history?plan=\(Self.plan)&milestone=H1")
        let items = history.json["items"] as? [[String: Any]] ?? []
        #expect(items.map { $0["period"] as? String } == ["2021-01", "2021-03"])
        #expect(items.last?["previous_status"] as? String == "done")
        #expect(items.last?["is_regression"] as? Bool == true)
        #expect(items.first?["source"] as? String == "import")
        #expect((items.first?["author"] as? [String: Any])?["name"] as? String == "Ana")
        // Timeliness of the imported months: January received 5 Feb (on time); in February Medellín came
        // on 15 Mar and Abejorral's row had no reported_at (received at the import): both late.
        let january = try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-01")
        #expect((january.json["national"] as? [String: Any])?["on_time"] as? Int == 1)
        let february = try h.call("GET", "/v1/timeliness?plan=\(Self.plan)&period=2021-02")
        #expect((february.json["national"] as? [String: Any])?["late"] as? Int == 2)

        let again = try post(h, Self.good, dryRun: false)
        #expect(again.status == 200)
        #expect([again.json["created"], again.json["updated"], again.json["ignored"]].map { $0 as? Int } == [0, 0, 5])
        #expect(try h.count("SELECT count(*) FROM report_revisions") == 5)
        #expect(try h.count("SELECT max(revision) FROM reports") == 1)
    }

    @Test("an import that changes values bumps the report's revision and keeps the previous value")
    func importUpdates() throws {
        let h = try Self.setUp()
        let advisor = try h.person(role: "advisor")
        try h.assign(advisor.id, Self.plan, ["05001"])
        let body = "{\"milestones\": [{\"code\": \"H1\", \"status\": \"in_progress\", \"comment\": \"En curso\"}]}"
        #expect(try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-01", json: body, token: advisor.token).status == 201)
        let r = try post(h, Self.header + "gap-2020-f1,05001,2021-01,H1,done,2021-01-20,Acta,,\ngap-2020-f1,05001,2021-01,H3,done,,,,\n", dryRun: false)
        #expect(r.status == 200, "\(r.text)")
        #expect([r.json["created"], r.json["updated"]].map { $0 as? Int } == [1, 1])
        let get = try h.call("GET", "/v1/reports/\(Self.plan)/05001/2021-01")
        #expect(get.header("ETag") == "\"2\"")
        let h1 = (get.json["milestones"] as? [[String: Any]])?.first { $0["code"] as? String == "H1" }
        #expect(h1?["status"] as? String == "done")
        #expect(h1?["comment"] as? String == "En curso")
        let revision = try h.database.pool.withConnection { conn in
            try conn.query("SELECT previous_status, revision FROM report_revisions WHERE source = 'import' AND milestone_code = 'H1'").rows[0]
        }
        #expect(try revision.decode("previous_status", as: String.self) == "in_progress")
        #expect(try revision.decode("revision", as: Int.self) == 2)
        // The API's ETag moved: a stale write is refused.
        #expect(try h.call("PUT", "/v1/reports/\(Self.plan)/05001/2021-01", json: body, token: advisor.token,
                           headers: [("If-Match", "\"1\"")]).status == 412)
    }

    @Test("every bad row is rejected with its line, field and reason, and nothing is written")
    func rejectedRows() throws {
        let h = try Self.setUp()
        try h.database.pool.withConnection { conn in
            try conn.execute("INSERT INTO period_locks (plan_code, period, reason) VALUES ('gap-2020-f1', '2020-12-01', 'Corte 2020')")
        }
        let csv = Self.header + """
            gap-2020-f1,05001,2021-01,H1,done,,,,
            nope,05001,2021-01,H1,done,,,,
            gap-2020-f1,99999,2021-01,H1,done,,,,
            gap-2020-f1,05001,2021-01,H99,done,,,,
            gap-2020-f1,05001,2021-01,H2,finished,,,,
            gap-2020-f1,11001,2021-01,H1,done,,,,
            gap-2020-f1,05001,2020-12,H1,done,,,,
            gap-2020-f1,05001,2021-01,H3,done,2021-02-30,,,
            gap-2020-f1,05001,2021-01,H4,done,2021-02-01,,,
            gap-2020-f1,05001,2021-07,H1,done,,,,
            gap-2020-f1,05001,2021-1,H1,done,,,,
            gap-2020-f1,05001,2021-01,H1,in_progress,,,,
            gap-2020-f1,05001,2021-01,H5,done,,,,nadie@example.org
            gap-2020-f1,05001,2021-01,H6,done,,,ayer,
            gap-2020-f1,05001,2021-01,H7,done,,
            gap-2020-f1,05001,2021-01,H8,done,,,2021-09-01,
            gap-2020-f1,05001,2021-01,H9,done,,"multi
            line evidence",,
            gap-2020-f1,05001,2021-01,H10,done,,x"y,,

            """
        let expected: [(Int, String)] = [
            (3, "plan"), (4, "entity"), (5, "milestone"), (6, "status"), (7, "entity"), (8, "period"), (9, "achieved_on"),
            (10, "achieved_on"), (11, "period"), (12, "period"), (13, "milestone"), (14, "advisor_email"), (15, "reported_at"),
            (16, "line"), (17, "reported_at"), (20, "line"),
        ]
        for dryRun in [true, false] {
            let r = try post(h, csv, dryRun: dryRun)
            #expect(r.status == (dryRun ? 200 : 422), "\(r.text)")
            #expect(r.json["committed"] as? Bool == false)
            #expect(r.json["rows"] as? Int == 18)
            #expect(r.json["rejected"] as? Int == expected.count)
            let errors = r.json["errors"] as? [[String: Any]] ?? []
            #expect(errors.map { $0["line"] as? Int ?? 0 } == expected.map(\.0), "\(errors)")
            #expect(errors.map { $0["field"] as? String ?? "" } == expected.map(\.1), "\(errors)")
            #expect(errors.allSatisfy { !(($0["reason"] as? String) ?? "").isEmpty })
            #expect(r.json["created"] as? Int == 2)   // the valid rows, counted but not written
        }
        #expect(try h.count("SELECT count(*) FROM reports") == 0)
        #expect(try h.count("SELECT count(*) FROM report_milestones") == 0)
    }

    @Test("a header without the required columns, a body that is not CSV, and a caller outside the central team are refused")
    func refusedImports() throws {
        let h = try Self.setUp()
        let missing = try post(h, "plan,entity,period,status\n", dryRun: true)
        #expect(missing.status == 422)
        #expect(missing.errorFields == ["header"])
        #expect(try post(h, "plan,entity,period,milestone,status,colour\n", dryRun: true).errorFields == ["header"])
        #expect(try post(h, "", dryRun: true).status == 422)
        #expect(try h.call("POST", "/v1/imports/reports", json: "{}").status == 415)
        let advisor = try h.person(role: "advisor")
        #expect(try post(h, Self.good, dryRun: true, token: advisor.token).status == 403)
        #expect(try post(h, Self.good, dryRun: true, token: .some(nil)).status == 401)
    }

    @Test("the CLI entry point imports a file in any column order, with a BOM and CRLF line ends")
    func cliEntryPoint() throws {
        let h = try Self.setUp()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reports-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        let text = "\u{FEFF}status,milestone,period,entity,plan,advisor\r\ndone,H1,2021-01,05001,gap-2020-f1,ana@dnp.gov.co\r\n"
        try Data(text.utf8).write(to: url)
        let summary = try ReportImport.run(pool: h.database.pool, file: url, dryRun: false, by: h.centralId,
                                           now: TestClock.date("2021-06-15T12:00:00Z"))
        #expect(summary.committed)
        #expect(summary.created == 1)
        #expect(summary.errors.isEmpty)
    }

    @Test("timestamps are read with Bogotá as the default zone")
    func timestamps() {
        #expect(ImportParser.timestamp("2021-03-05") == "2021-03-05T00:00:00-05:00")
        #expect(ImportParser.timestamp("2021-03-05 14:07") == "2021-03-05T14:07:00-05:00")
        #expect(ImportParser.timestamp("2021-03-05T14:07:09.25Z") == "2021-03-05T14:07:09.25+00:00")
        #expect(ImportParser.timestamp("2021-03-05T14:07:09-0300") == "2021-03-05T14:07:09-03:00")
        #expect(ImportParser.timestamp("2021-02-30") == nil)
        #expect(ImportParser.timestamp("2021-03-05T25:00") == nil)
        #expect(ImportParser.timestamp("2021-03-05T10:00+05:00x") == nil)
    }
}
