// CSV imports with a dry run (DHIS2-style summary, all-or-nothing) and the official Fase II list resolved by name.
import Foundation
import Testing
@testable import SetaAPI

extension APIHarness {
    /// Posts a CSV body (as bytes, so tests can send invalid UTF-8).
    func upload(_ path: String, bytes: [UInt8], contentType: String = "text/csv; charset=utf-8", token: String? = nil) throws -> TestResponse {
        try raw("POST", path, headers: [("Authorization", "Bearer \(token ?? centralToken)"), ("Content-Type", contentType)], body: bytes)
    }

    func upload(_ path: String, csv: String, token: String? = nil) throws -> TestResponse {
        try upload(path, bytes: Array(csv.utf8), token: token)
    }
}

@Suite("Import API")
struct ImportTests {
    static func statuses(_ r: TestResponse) -> [String] {
        (r.json["rows"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
    }

    static let mixedEnrollments = """
        plan,entity,from,to
        gap-2020-f2,05001,2020-07,
        gap-2020-f2,05002,2020-07,2020-12
        gap-2020-f2,5004,2020-07,
        gap-2020-f2,99999,2020-07,
        nope,05005,2020-07,
        gap-2020-f2,05021,2020-7,
        gap-2020-f2,05030,2020-07,2020-01
        gap-2020-f2,05031,2020-07,
        gap-2020-f2,05031,2020-09,
        gap-2020-f2,05001,2020-09,

        """

    @Test("an enrollment dry run reports each line created, updated, ignored or rejected with reasons, and writes nothing")
    func enrollmentDryRun() throws {
        let h = try APIHarness()
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","entities":["05001","05002"]}"#).status == 201)
        let before = try h.rowCount("enrollments")
        let r = try h.upload("/v1/imports/enrollments?dry_run=true", csv: Self.mixedEnrollments)
        #expect(r.status == 200)
        #expect(r.json["dry_run"] as? Bool == true)
        #expect(Self.statuses(r) == ["ignored", "updated", "created", "rejected", "rejected", "rejected", "rejected", "created", "rejected", "rejected"])
        #expect(r.json["created"] as? Int == 2 && r.json["updated"] as? Int == 1 && r.json["ignored"] as? Int == 1 && r.json["rejected"] as? Int == 6)
        let rows = r.json["rows"] as? [[String: Any]] ?? []
        #expect(rows.compactMap { $0["line"] as? Int } == Array(2...11))
        let reasons = rows.map { ($0["reasons"] as? [String] ?? []).joined(separator: " | ") }
        #expect(reasons[3].hasPrefix("entity:") && reasons[4].hasPrefix("plan:") && reasons[5].hasPrefix("from:") && reasons[6].hasPrefix("to:"))
        #expect(reasons[8].contains("línea 9") && reasons[9].contains("2020-07"))
        #expect(try h.rowCount("enrollments") == before)
    }

    @Test("a real run with a rejected line is a 422 with the same summary, and writes nothing")
    func enrollmentAllOrNothing() throws {
        let h = try APIHarness()
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","entities":["05001","05002"]}"#).status == 201)
        let before = try h.rowCount("enrollments")
        let r = try h.upload("/v1/imports/enrollments?dry_run=false", csv: Self.mixedEnrollments)
        #expect(r.status == 422)
        #expect(r.header("Content-Type") == "application/problem+json")
        #expect(r.json["dry_run"] as? Bool == false && r.json["rejected"] as? Int == 6 && r.json["created"] as? Int == 2)
        #expect(Set(r.fieldErrors).isSuperset(of: ["line[5].entity", "line[6].plan", "line[7].from", "line[8].to", "line[10].from", "line[11].from"]))
        #expect(try h.rowCount("enrollments") == before)
        let ends = try h.call("GET", "/v1/plans/gap-2020-f2/enrollments").items.map { $0["to"] as? String }
        #expect(ends == [nil, nil])
    }

    @Test("a clean real run writes every line in one go; running it again ignores them all")
    func enrollmentRealRun() throws {
        let h = try APIHarness()
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","entities":["05002"]}"#).status == 201)
        let csv = "plan,entity,from,to\r\ngap-2020-f2,05001,2020-07,\r\ngap-2020-f2,05002,2020-07,2020-12\r\ngap-2020-f2,5004,2020-07,\r\ngap-2020-f1,05001,2020-01,2020-06\r\n"
        let r = try h.upload("/v1/imports/enrollments?dry_run=false", csv: csv)
        #expect(r.status == 200)
        #expect(Self.statuses(r) == ["created", "updated", "created", "created"])
        #expect(try h.rowCount("enrollments") == 4)
        let f2 = try h.call("GET", "/v1/plans/gap-2020-f2/enrollments").items
        #expect(f2.compactMap { $0["entity_code"] as? String } == ["05001", "05002", "05004"])
        #expect(f2[1]["to"] as? String == "2020-12")
        let again = try h.upload("/v1/imports/enrollments?dry_run=false", csv: csv)
        #expect(Self.statuses(again) == ["ignored", "ignored", "ignored", "ignored"])
        #expect(try h.rowCount("enrollments") == 4)
    }

    @Test("assignments import by advisor email; an overlap is rejected unless close_previous transfers it")
    func assignmentImport() throws {
        let h = try APIHarness()
        let x = try h.person(role: "advisor", name: "Xiomara", email: "x@example.org")
        _ = try h.person(role: "advisor", name: "Yesid", email: "y@example.org")
        _ = try h.person(role: "viewer", email: "v@example.org")
        #expect(try h.call("POST", "/v1/plans/gap-2020-f1/enrollments", json: #"{"from":"2020-01","entities":["05001","05002"]}"#).status == 201)
        #expect(try h.call("POST", "/v1/assignments", json: #"{"plan":"gap-2020-f1","entity":"05001","advisor":\#(x.id),"from":"2020-01"}"#).status == 201)

        let withErrors = """
            plan,entity,advisor_email,from,to
            gap-2020-f1,05001,Y@EXAMPLE.org,2020-05,
            gap-2020-f1,05002,x@example.org,2020-01,2020-06
            gap-2020-f1,05002,y@example.org,2020-07,
            gap-2020-f1,05004,x@example.org,2020-01,
            gap-2020-f1,05002,nobody@example.org,2021-01,
            gap-2020-f1,05002,v@example.org,2021-01,
            """
        let r = try h.upload("/v1/imports/assignments?dry_run=false", csv: withErrors)
        #expect(r.status == 422)
        #expect(Self.statuses(r) == ["rejected", "created", "created", "rejected", "rejected", "rejected"])
        #expect(r.fieldErrors == ["line[2].from", "line[5].entity", "line[6].advisor_email", "line[6].from", "line[7].advisor_email", "line[7].from"])
        #expect(try h.rowCount("assignments") == 1)

        let clean = withErrors.split(separator: "\n").prefix(4).joined(separator: "\n")
        let dry = try h.upload("/v1/imports/assignments?dry_run=true&close_previous=true", csv: clean)
        #expect(Self.statuses(dry) == ["created", "created", "created"])
        #expect(try h.rowCount("assignments") == 1)
        let real = try h.upload("/v1/imports/assignments?dry_run=false&close_previous=true", csv: clean)
        #expect(real.status == 200)
        #expect(try h.rowCount("assignments") == 4)
        #expect(try h.call("GET", "/v1/assignments?entity=05001&as_of=2020-04").items.first?["advisor_name"] as? String == "Xiomara")
        #expect(try h.call("GET", "/v1/assignments?entity=05001&as_of=2020-05").items.first?["advisor_name"] as? String == "Yesid")
        #expect(try h.call("GET", "/v1/assignments?advisor=\(x.id)").items.compactMap { $0["to"] as? String } == ["2020-04", "2020-06"])
        #expect(Self.statuses(try h.upload("/v1/imports/assignments?dry_run=false&close_previous=true", csv: clean)) == ["ignored", "ignored", "ignored"])
    }

    @Test("malformed CSV (wrong columns, bad UTF-8, a quote left open, a short line) is a 400 naming line and field, and nothing is written")
    func malformedCSV() throws {
        let h = try APIHarness()
        let path = "/v1/imports/enrollments?dry_run=false"
        let wrongColumns = try h.upload(path, csv: "plan,entidad,from,to\ngap-2020-f2,05001,2020-07,\n")
        #expect(wrongColumns.status == 400)
        #expect(wrongColumns.fieldErrors == ["line[1].entidad", "line[1].entity"])

        var bytes = Array("plan,entity,from,to\ngap-2020-f2,05001,2020-07,\ngap-2020-f2,0500".utf8)
        bytes += [0xC3, 0x28] + Array("2,2020-07,\n".utf8)
        let badUTF8 = try h.upload(path, bytes: bytes)
        #expect(badUTF8.status == 400)
        #expect(badUTF8.fieldErrors == ["line[3].entity"])

        let openQuote = try h.upload(path, csv: "plan,entity,from,to\ngap-2020-f2,05001,2020-07,\ngap-2020-f2,\"05002,2020-07,\ngap-2020-f2,05004,2020-07,\n")
        #expect(openQuote.status == 400)
        #expect(openQuote.fieldErrors == ["line[3]"])

        let shortLine = try h.upload(path, csv: "plan,entity,from,to\ngap-2020-f2,05001,2020-07,\ngap-2020-f2,05002\n")
        #expect(shortLine.status == 400)
        #expect(shortLine.fieldErrors == ["line[3]"])

        #expect(try h.upload(path, csv: "plan,entity,from,to\n").fieldErrors == ["line[2]"])
        #expect(try h.upload(path, bytes: []).status == 400)
        #expect(try h.upload(path, bytes: Array("{}".utf8), contentType: "application/json").status == 415)
        #expect(try h.rowCount("enrollments") == 0)
    }

    @Test("imports are for the central team: advisors and viewers get 403, even for a dry run")
    func importsNeedCentral() throws {
        let h = try APIHarness()
        let advisor = try h.person(role: "advisor"), viewer = try h.person(role: "viewer")
        for who in [advisor, viewer] {
            for path in ["/v1/imports/enrollments?dry_run=true", "/v1/imports/assignments?dry_run=true", "/v1/imports/fase2-list"] {
                #expect(try h.upload(path, csv: "plan,entity,from,to\n", token: who.token).status == 403, "\(path)")
            }
        }
    }

    // MARK: The official Fase II list

    @Test("the Fase II list imports with a summary accounting for all 365 rows, and enrolls only when accepted")
    func faseIIList() throws {
        let h = try APIHarness()
        let preview = try h.call("POST", "/v1/imports/fase2-list?plan=gap-2020-f2")
        #expect(preview.status == 200)
        let rows = preview.json["rows"] as? [[String: Any]] ?? []
        let resolved = preview.json["resolved"] as? Int ?? -1
        let ambiguous = preview.json["ambiguous"] as? Int ?? -1
        let unresolved = preview.json["unresolved"] as? Int ?? -1
        #expect(preview.json["total_rows"] as? Int == 365)
        #expect(rows.count == 365)
        #expect(resolved + ambiguous + unresolved == 365)
        #expect(rows.compactMap { $0["line"] as? Int } == Array(2...366))
        // Every unresolved or ambiguous row is listed explicitly, with a reason or its candidates.
        for row in rows where row["status"] as? String != "resolved" {
            #expect(row["reason"] as? String != nil || row["candidates"] as? [Any] != nil, "\(row)")
        }
        let codes = rows.compactMap { $0["code"] as? String }
        #expect(codes.count == resolved && Set(codes).count == resolved)
        func code(_ name: String) -> String? { rows.first { $0["name"] as? String == name }?["code"] as? String }
        #expect(code("S.MARTIN DE LOBA") == "13667")
        #expect(code("SAN ANDRES D SOTAVEN") == "23670")
        #expect(code("CERRO S.ANTONIO") == "47161")
        #expect(code("VALLE DE S.JUAN") == "73854")
        #expect(code("LETICIA") == "91001")
        #expect(try h.rowCount("enrollments") == 0)
        print("Fase II list: resolved \(resolved), ambiguous \(ambiguous), unresolved \(unresolved)")

        #expect(try h.call("POST", "/v1/imports/fase2-list?accept=true").fieldErrors == ["from"])
        let accepted = try h.call("POST", "/v1/imports/fase2-list?plan=gap-2020-f2&from=2020-07&accept=true")
        #expect(accepted.status == 201)
        #expect(accepted.json["enrolled"] as? Int == resolved)
        #expect(accepted.json["gobernaciones_enrolled"] as? Int == 32)
        #expect(try h.call("GET", "/v1/plans/gap-2020-f2/enrollments?as_of=2020-07&limit=1").total == resolved + 32)
        let again = try h.call("POST", "/v1/imports/fase2-list?plan=gap-2020-f2&from=2020-07&accept=true")
        #expect(again.status == 200)
        #expect(again.json["enrolled"] as? Int == 0 && again.json["already_enrolled"] as? Int == resolved)
        #expect(try h.rowCount("enrollments") == resolved + 32)
    }

    @Test("an uploaded list resolves accents, abbreviations and department aliases, and lists what it cannot resolve")
    func uploadedNameList() throws {
        let h = try APIHarness()
        let csv = "municipio,departamento\nBOGOTA,Bogotá D.C.\nPTO ASIS,Putumayo\nSTA ROSA DE CABAL,Risaralda\nSAN PEDRO,Valle Del Cauca\nNARNIA,Nariño\nCALI,Atlántida\n"
        let r = try h.upload("/v1/imports/fase2-list?plan=gap-2020-f1", csv: csv)
        #expect(r.status == 200)
        let rows = r.json["rows"] as? [[String: Any]] ?? []
        #expect(rows.map { $0["status"] as? String } == ["resolved", "resolved", "resolved", "resolved", "unresolved", "unresolved"])
        #expect(rows.map { $0["code"] as? String } == ["11001", "86568", "66682", "76670", nil, nil])
        #expect(rows[1]["entity_name"] as? String == "Puerto Asís")
        #expect(try h.upload("/v1/imports/fase2-list?plan=nope", csv: csv).fieldErrors == ["plan"])
        #expect(try h.upload("/v1/imports/fase2-list", csv: "nombre,departamento\nX,Y\n").status == 400)
        #expect(try h.rowCount("enrollments") == 0)
    }

    @Test("ending an enrollment through the API and through the import refuses the same later assignment and cuts the same one short")
    func enrollmentEndIsOneRule() throws {
        // One definition (migration 023): assignments that start after the new end refuse it; those that ran past it end with it.
        func harness() throws -> APIHarness {
            let h = try APIHarness()
            let first = try h.person(role: "advisor"), second = try h.person(role: "advisor")
            #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","entities":["05001"]}"#).status == 201)
            #expect(try h.call("POST", "/v1/assignments", json: #"{"plan":"gap-2020-f2","entity":"05001","advisor":\#(first.id),"from":"2020-07","to":"2021-01"}"#).status == 201)
            #expect(try h.call("POST", "/v1/assignments", json: #"{"plan":"gap-2020-f2","entity":"05001","advisor":\#(second.id),"from":"2021-02"}"#).status == 201)
            return h
        }
        func ends(_ h: APIHarness) throws -> [String?] {
            try h.call("GET", "/v1/assignments?entity=05001").items.map { $0["to"] as? String }.sorted { ($0 ?? "~") < ($1 ?? "~") }
        }
        let api = try harness(), viaImport = try harness()

        // Ending before the second assignment starts: refused by both, nothing changed.
        #expect(try api.call("POST", "/v1/plans/gap-2020-f2/enrollments/05001/end", json: #"{"to":"2020-12"}"#).status == 409)
        let refused = try viaImport.upload("/v1/imports/enrollments?dry_run=false", csv: "plan,entity,from,to\ngap-2020-f2,05001,2020-07,2020-12\n")
        #expect(refused.status == 422)
        #expect(((refused.json["rows"] as? [[String: Any]])?.first?["reasons"] as? [String])?.first?.hasPrefix("to:") == true)
        #expect(try ends(api) == ["2021-01", nil] && ends(viaImport) == ["2021-01", nil])

        // Ending after it started: the running assignment ends with the enrollment, the finished one is untouched.
        let ended = try api.call("POST", "/v1/plans/gap-2020-f2/enrollments/05001/end", json: #"{"to":"2021-03"}"#)
        #expect(ended.status == 200 && ended.json["assignments_ended"] as? Int == 1)
        #expect(try viaImport.upload("/v1/imports/enrollments?dry_run=false", csv: "plan,entity,from,to\ngap-2020-f2,05001,2020-07,2021-03\n").status == 200)
        #expect(try ends(api) == ["2021-01", "2021-03"])
        #expect(try ends(viaImport) == ends(api))
    }
}
