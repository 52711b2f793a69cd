// Frozen figures and the cut report (issue 12, items 4–6): milestone shares and stages in cuts worked by hand,
// the report's JSON against the cut's own figures, its workbook read back, and `cut=` on the progress routes.
import Foundation
import Testing
import SetaDomain
import SetaTestSupport
@testable import SetaAPI

@Suite("Cut report and frozen figures")
struct CutReportTests {
    /// Fase II, three entities of Antioquia enrolled from 2020-07 (the scenario of HeadlineFiguresTests):
    /// - A (05001) has H1–H8 done in 2020-08: all of stage M1, so M1 is 100 and completed;
    /// - B (05002) has H1, H2 (I1 = 10 + 20 = 30 %) and H5 (I2 = 100 %): M1 = (15 × 30 + 5 × 100 + 5 × 0) / 25 = 38;
    /// - C (05004) has nothing: M1 = 0.
    /// Cut 1 (2020-09): M1's mean is (100 + 38 + 0) / 3 = 46, one entity in three completed it (33.33 %);
    /// H1 and H5 done by two of three (66.67 %), H3 by one (33.33 %), H9 by none.
    /// Then C reports H1 done in 2020-10 (I1 = 10 %, M1 = 15 × 10 / 25 = 6). Cut 2 (2020-Q4): H1 is 100 %
    /// (+33.33), M1's mean (100 + 38 + 6) / 3 = 48 (+2), C the most lagging of the region, then B.
    static func scenario() throws -> (APIHarness, cut1: Int, cut2: Int) {
        let h = try APIHarness()
        try h.database.pool.withTransaction { conn in
            try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) SELECT 'gap-2020-f2', unnest(ARRAY['05001','05002','05004']), DATE '2020-07-01'")
        }
        func report(_ entity: String, _ period: String, _ codes: [String]) throws {
            let r = try h.call("PUT", "/v1/reports/gap-2020-f2/\(entity)/\(period)",
                               json: APIHarness.reportJSON(codes.map { ($0, "done") }))
            guard r.status == 200 || r.status == 201 else { throw TestHTTPClient.Failure(description: "report: \(r.status) \(r.text)") }
        }
        try report("05001", "2020-08", ["H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8"])
        try report("05002", "2020-08", ["H1", "H2", "H5"])
        func cut(_ period: String) throws -> Int {
            let r = try h.call("POST", "/v1/cuts", json: #"{"plan":"gap-2020-f2","period":"\#(period)","label":"Corte \#(period)"}"#)
            guard r.status == 201, let id = r.json["id"] as? Int else { throw TestHTTPClient.Failure(description: "cut: \(r.text)") }
            return id
        }
        let first = try cut("2020-09")
        try report("05004", "2020-10", ["H1"])
        let second = try cut("2020-Q4")
        return (h, first, second)
    }

    static func shares(_ group: [String: Any]) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: (group["milestone_completion"] as? [[String: Any]] ?? []).map {
            ($0["milestone_code"] as! String, ($0["completed_share"] as! NSNumber).doubleValue)
        })
    }

    static func stage(_ group: [String: Any], _ code: String) -> [String: Any]? {
        (group["stages"] as? [[String: Any]])?.first { $0["code"] as? String == code }
    }

    @Test("a cut's groups carry milestone shares and stage progress worked by hand, in every view of the cut")
    func frozenShares_WorkedByHand() throws {
        let (h, cut1, _) = try CutReportTests.scenario()
        let national = try #require((try h.call("GET", "/v1/cuts/\(cut1)/groups/national").json["items"] as? [[String: Any]])?.first)
        let s = CutReportTests.shares(national)
        #expect(s["H1"] == 66.67 && s["H5"] == 66.67 && s["H3"] == 33.33 && s["H9"] == 0, "\(s)")
        #expect(s.count == 22)
        let m1 = try #require(CutReportTests.stage(national, "M1"))
        #expect((m1["mean_progress"] as? NSNumber)?.doubleValue == 46)
        #expect((m1["completed_share"] as? NSNumber)?.doubleValue == 33.33)
        #expect((CutReportTests.stage(national, "M2")?["mean_progress"] as? NSNumber)?.doubleValue == 0)
        // GET /v1/cuts/{id} shows the same figures, and so do the regions.
        let cut = try h.call("GET", "/v1/cuts/\(cut1)").json
        #expect(CutReportTests.shares(cut["national"] as! [String: Any]) == s)
        let region = try #require((cut["regions"] as? [[String: Any]])?.first)
        #expect(CutReportTests.shares(region) == s, "the three entities are one region")
        // The cut's workbook has a Hitos sheet with the same shares.
        let book = try h.call("GET", "/v1/cuts/\(cut1)/export?format=xlsx")
        let sheets = try CutReportTests.workbook(book.body)
        let hitos = try #require(sheets["Hitos"])
        let h1 = try #require(hitos.first { $0["code"] == "H1" && $0["key"] == "national" })
        #expect(h1["completed_share"] == "66.67", "\(h1)")
    }

    @Test("a cut taken before item 4 (no shares stored with its groups) gets the same ones from its frozen statuses")
    func olderCut_SharesComputedFromFrozenStatuses() throws {
        let (h, cut1, _) = try CutReportTests.scenario()
        // An older cut: the same frozen rows, its groups stored without milestone shares and stages.
        let legacy: Int64 = try h.database.pool.withTransaction { conn in
            let id: Int64 = try conn.query("""
                INSERT INTO cuts (plan_code, period, label, catalog_version, created_by, created_at)
                SELECT plan_code, period, label, catalog_version, created_by, created_at FROM cuts WHERE id = \(cut1) RETURNING id
                """).rows[0].decode("id")
            try conn.execute("""
                INSERT INTO cut_entities SELECT \(id), entity_code, entity_name, entity_type, department_code, department_name,
                       region_code, region_name, advisor_id, advisor_name, partner_code, total, phases, completed, milestones
                  FROM cut_entities WHERE cut_id = \(cut1)
                """)
            try conn.execute("""
                INSERT INTO cut_groups SELECT \(id), group_kind, group_key, group_name,
                       summary - 'milestone_codes' - 'milestone_shares' - 'stage_codes' - 'stage_means' - 'stage_shares'
                  FROM cut_groups WHERE cut_id = \(cut1)
                """)
            return id
        }
        for kind in ["national", "regions", "departments", "entity-types"] {
            let stored = try h.call("GET", "/v1/cuts/\(cut1)/groups/\(kind)").text
            let computed = try h.call("GET", "/v1/cuts/\(legacy)/groups/\(kind)").text
            #expect(stored == computed, "\(kind)")
            #expect(stored.contains("milestone_completion"))
        }
    }

    @Test("compare covers each group's phases, stages and milestone shares; a kind outside the reader's view is 403")
    func compare_CoversSharesAndStages() throws {
        let (h, cut1, cut2) = try CutReportTests.scenario()
        let r = try h.call("GET", "/v1/cuts/\(cut1)/compare/\(cut2)?group=national")
        #expect(r.status == 200, "\(r.text)")
        let g = try #require((r.json["groups"] as? [[String: Any]])?.first)
        #expect(g["key"] as? String == "national")
        let h1 = try #require((g["milestones"] as? [[String: Any]])?.first { $0["code"] as? String == "H1" })
        #expect((h1["a"] as? NSNumber)?.doubleValue == 66.67 && (h1["b"] as? NSNumber)?.doubleValue == 100)
        #expect((h1["change"] as? NSNumber)?.doubleValue == 33.33)
        let m1 = try #require((g["stages"] as? [[String: Any]])?.first { $0["code"] as? String == "M1" })
        #expect((m1["a"] as? NSNumber)?.doubleValue == 46 && (m1["b"] as? NSNumber)?.doubleValue == 48)
        #expect((m1["completed_share_a"] as? NSNumber)?.doubleValue == 33.33)
        #expect((g["phases"] as? [Any])?.isEmpty == false)
        let all = try h.call("GET", "/v1/cuts/\(cut1)/compare/\(cut2)").json["groups"] as? [[String: Any]] ?? []
        #expect(Set(all.compactMap { $0["group"] as? String }) == ["national", "regions", "departments", "entity-types"],
                "no advisors or partners in this scenario")
        let coordinator = try h.person(role: "coordinator", regions: ["eje-cafetero-antioquia"])
        let refused = try h.call("GET", "/v1/cuts/\(cut1)/compare/\(cut2)?group=national", token: coordinator.token)
        #expect(refused.status == 403)
    }

    @Test("the progress routes read a cut with cut=: the live shapes, the reader's scope, unknown cuts refused naming cut")
    func progressRoutes_ReadACut() throws {
        let (h, cut1, _) = try CutReportTests.scenario()
        let frozen = try h.call("GET", "/v1/cuts/\(cut1)/groups/regions").json
        let viaProgress = try h.call("GET", "/v1/progress/regions?plan=gap-2020-f2&cut=\(cut1)")
        #expect(viaProgress.status == 200, "\(viaProgress.text)")
        #expect(viaProgress.json["as_of"] as? String == "2020-09")
        let a = frozen["items"] as! [[String: Any]], b = viaProgress.json["items"] as! [[String: Any]]
        #expect(a.count == b.count && a.count == 1)
        #expect(a[0]["mean_progress"] as? NSNumber == b[0]["mean_progress"] as? NSNumber)
        #expect(CutReportTests.shares(a[0]) == CutReportTests.shares(b[0]))
        // A later report does not move the cut's figures (it cannot land in a locked month, so write after it).
        let unknown = try h.call("GET", "/v1/progress/regions?plan=gap-2020-f2&cut=999")
        #expect(unknown.status == 404 && unknown.text.contains("\"cut\""), "\(unknown.text)")
        let otherPlan = try h.call("GET", "/v1/progress/regions?plan=gap-2020-f1&cut=\(cut1)")
        #expect(otherPlan.status == 422 && otherPlan.text.contains("\"plan\""), "\(otherPlan.text)")
        // The entity table and one entity read from the cut: the frozen totals and statuses.
        let export = try h.call("GET", "/v1/cuts/\(cut1)/export?format=json").json["entities"] as! [[String: Any]]
        let table = try h.call("GET", "/v1/progress/entities?plan=gap-2020-f2&cut=\(cut1)&sort=code")
        #expect(table.status == 200 && table.json["total"] as? Int == 3, "\(table.text)")
        let rows = table.json["items"] as? [[String: Any]] ?? []
        #expect(rows.map { $0["code"] as! String } == export.map { $0["code"] as! String })
        #expect(rows.map { ($0["total"] as? NSNumber)?.doubleValue } == export.map { ($0["total"] as? NSNumber)?.doubleValue })
        let lowest = try h.call("GET", "/v1/progress/entities?plan=gap-2020-f2&cut=\(cut1)&limit=1").json["items"] as? [[String: Any]]
        #expect(lowest?.first?["code"] as? String == "05004")
        let one = try h.call("GET", "/v1/entities/05004/progress?plan=gap-2020-f2&cut=\(cut1)")
        #expect(one.status == 200 && one.json["as_of"] as? String == "2020-09", "\(one.text)")
        let h1 = (one.json["milestones"] as? [[String: Any]])?.first { $0["code"] as? String == "H1" }
        #expect(h1?["status"] as? String == "not_started", "reported in 2020-10, after the cut")
        let outside = try h.call("GET", "/v1/entities/05045/progress?plan=gap-2020-f2&cut=\(cut1)")
        #expect(outside.status == 404 && outside.errorFields == ["code"], "\(outside.text)")
        // An advisor with no entities in the cut sees an empty roll-up, not the region.
        let advisor = try h.person(role: "advisor")
        let mine = try h.call("GET", "/v1/progress/regions?plan=gap-2020-f2&cut=\(cut1)", token: advisor.token)
        #expect(mine.status == 200 && (mine.json["items"] as? [Any])?.isEmpty == true, "\(mine.text)")
    }

    @Test("the report's JSON is the cut's frozen figures, with the change against the previous cut")
    func reportJSON_MatchesTheCut() throws {
        let (h, cut1, cut2) = try CutReportTests.scenario()
        let r = try h.call("GET", "/v1/cuts/\(cut2)/report?lagging=2")
        #expect(r.status == 200, "\(r.text)")
        let report = r.json
        #expect((report["cut"] as? [String: Any])?["id"] as? Int == cut2)
        #expect((report["previous_cut"] as? [String: Any])?["id"] as? Int == cut1)
        #expect(report["entity_count"] as? Int == 3)
        let cut = try h.call("GET", "/v1/cuts/\(cut2)").json
        let cutNational = cut["national"] as! [String: Any]
        let national = try #require(report["national"] as? [String: Any])
        #expect(national["mean_progress"] as? NSNumber == cutNational["mean_progress"] as? NSNumber)
        #expect(national["at_hundred"] as? Int == cutNational["at_hundred"] as? Int)
        let before = try h.call("GET", "/v1/cuts/\(cut1)").json["national"] as! [String: Any]
        let expected = (cutNational["mean_progress"] as! NSNumber).doubleValue - (before["mean_progress"] as! NSNumber).doubleValue
        #expect(abs((national["change"] as! NSNumber).doubleValue - expected) <= 0.011, "\(national)")
        // Completion per milestone and stage, worked by hand.
        let completion = try #require((report["completion"] as? [[String: Any]])?.first)
        #expect(completion["key"] as? String == "national")
        let h1 = try #require((completion["milestones"] as? [[String: Any]])?.first { $0["code"] as? String == "H1" })
        #expect((h1["completed_share"] as? NSNumber)?.doubleValue == 100)
        #expect((h1["previous_completed_share"] as? NSNumber)?.doubleValue == 66.67)
        #expect((h1["change"] as? NSNumber)?.doubleValue == 33.33)
        let m1 = try #require((completion["stages"] as? [[String: Any]])?.first { $0["code"] as? String == "M1" })
        #expect((m1["mean_progress"] as? NSNumber)?.doubleValue == 48)
        #expect((m1["change"] as? NSNumber)?.doubleValue == 2)
        // Phase shares are the cut's own.
        let phases = Dictionary(uniqueKeysWithValues: (cutNational["phase_completion"] as! [[String: Any]]).map {
            ($0["phase_code"] as! String, ($0["completed_share"] as! NSNumber).doubleValue)
        })
        for p in completion["phases"] as! [[String: Any]] {
            #expect((p["completed_share"] as? NSNumber)?.doubleValue == phases[p["code"] as! String])
        }
        // The two most lagging of the region: C, then B.
        let lagging = try #require((report["lagging"] as? [[String: Any]])?.first)
        let codes = (lagging["entities"] as! [[String: Any]]).map { $0["code"] as! String }
        #expect(codes == ["05004", "05002"], "\(codes)")
        // The first cut has no previous one: every change is null.
        let first = try h.call("GET", "/v1/cuts/\(cut1)/report").json
        #expect(first["previous_cut"] == nil || first["previous_cut"] is NSNull)
        let firstNational = try #require(first["national"] as? [String: Any])
        #expect(firstNational["change"] == nil || firstNational["change"] is NSNull)
        #expect(((first["sources"] as? [String: String])?["national"]) == "/v1/cuts/\(cut1)/groups/national")
    }

    @Test("the report as a workbook holds the same figures as its JSON, codes as text and figures as numbers")
    func reportWorkbook_ReadBack() throws {
        let (h, _, cut2) = try CutReportTests.scenario()
        let json = try h.call("GET", "/v1/cuts/\(cut2)/report").json
        let r = try h.call("GET", "/v1/cuts/\(cut2)/report", headers: [("Accept", ExportTests.xlsx)])
        #expect(r.status == 200 && r.header("Content-Type") == ExportTests.xlsx)
        let (names, parts) = try ExportTests.sheets(r.body)
        #expect(names == ["Ficha", "Nacional", "Regiones", "Aliados", "Fases", "Momentos", "Hitos", "Rezagadas"], "\(names)")
        let sheets = try CutReportTests.workbook(r.body)
        let national = try #require(sheets["Nacional"]?.first)
        let n = json["national"] as! [String: Any]
        #expect(Double(national["mean_progress"] ?? "") == (n["mean_progress"] as! NSNumber).doubleValue)
        let completion = (json["completion"] as! [[String: Any]])[0]
        for m in completion["milestones"] as! [[String: Any]] {
            let row = sheets["Hitos"]?.first { $0["code"] == m["code"] as? String }
            #expect(Double(row?["completed_share"] ?? "") == (m["completed_share"] as! NSNumber).doubleValue, "\(m)")
        }
        let lagging = try #require(sheets["Rezagadas"])
        #expect(lagging.map { $0["dane_code"] } == ["05004", "05002", "05001"])
        let xml = parts["xl/worksheets/sheet8.xml"] ?? ""
        #expect(xml.contains(#"t="inlineStr"><is><t>05004</t></is>"#), "DANE code as text with its zero")
        // CSV: the group lines.
        let csv = try h.call("GET", "/v1/cuts/\(cut2)/report?format=csv")
        #expect(csv.status == 200 && csv.text.contains("national"), "\(csv.text.prefix(300))")
    }

    /// A workbook's sheets by name, each row keyed by its header (cells as their text or number text).
    static func workbook(_ body: [UInt8]) throws -> [String: [[String: String]]] {
        let (names, parts) = try ExportTests.sheets(body)
        var out: [String: [[String: String]]] = [:]
        for (i, name) in names.enumerated() {
            let rows = cells(parts["xl/worksheets/sheet\(i + 1).xml"] ?? "")
            guard let header = rows.first else { continue }
            out[name] = rows.dropFirst().map { row in
                var d: [String: String] = [:]
                for (column, value) in row { if let k = header[column] { d[k] = value } }
                return d
            }
        }
        return out
    }

    /// Each row of a worksheet as column letters → text (inline strings) or value (numbers).
    static func cells(_ xml: String) -> [[String: String]] {
        xml.components(separatedBy: "<row ").dropFirst().map { row in
            var d: [String: String] = [:]
            for cell in row.components(separatedBy: "<c r=\"").dropFirst() {
                let ref = String(cell.prefix { $0.isLetter })
                var value = ""
                if let t = cell.range(of: "<t"), let gt = cell[t.upperBound...].firstIndex(of: ">"),
                   let end = cell.range(of: "</t>") {
                    value = String(cell[cell.index(after: gt)..<end.lowerBound])
                        .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                        .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
                } else if let v = cell.range(of: "<v>"), let end = cell.range(of: "</v>") {
                    value = String(cell[v.upperBound..<end.lowerBound])
                }
                d[ref] = value
            }
            return d
        }
    }
}
