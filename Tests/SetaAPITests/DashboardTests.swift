// Dashboards over the national demo agree with the pure engine; cuts are frozen; exports keep accents.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain

@Suite("Dashboards and cuts over the national demo", .serialized)
struct DashboardTests {
    /// One copy of the demo, shared by the tests of this suite (they take cuts and correct a plan's weights).
    static let shared: APIHarness = try! APIHarness(transport: .socket, template: APIHarness.demoTemplate)

    /// The pure engine's view of every enrolled entity of a plan as of a month, from the raw report rows.
    static func pureProgress(_ h: APIHarness, plan: String, asOf: Period) throws -> (PlanCatalog, [String: EntityProgress]) {
        try h.database.pool.withConnection { conn in
            let catalog = try CatalogStore.currentCatalog(conn, code: plan)
            var history: [String: [String: ProgressEngine.History]] = [:]
            for r in try conn.query("""
                SELECT entity_code, milestone_code, to_char(period, 'YYYY-MM') AS p, status FROM report_milestones WHERE plan_code = \(plan)
                """).rows {
                let e: String = try r.decode("entity_code"), m: String = try r.decode("milestone_code")
                history[e, default: [:]][m, default: []].append((Period(try r.decode("p", as: String.self))!,
                                                                 MilestoneStatus(rawValue: try r.decode("status"))!))
            }
            let enrolled = try conn.query("SELECT entity_code FROM enrolled_at(\(plan), \(asOf.firstDayString)::date)").rows
                .map { try $0.decode("entity_code", as: String.self) }
            var out: [String: EntityProgress] = [:]
            for e in enrolled { out[e] = ProgressEngine.entityProgress(plan: catalog, history: history[e] ?? [:], asOf: asOf) }
            return (catalog, out)
        }
    }

    static func number(_ any: Any?) -> Decimal? {
        (any as? NSNumber).flatMap { Decimal(exactText: $0.stringValue) }
    }

    @Test("national, region and advisor figures agree with a direct computation by the pure engine")
    func groupsAgreeWithThePureEngine() throws {
        let h = Self.shared
        let asOf = Period("2021-06")!
        let (catalog, progress) = try Self.pureProgress(h, plan: "gap-2020-f1", asOf: asOf)
        #expect(progress.count == 1155)
        let phaseCodes = catalog.phases.map(\.code)
        let national = GroupSummary.of(entities: progress.map { ($0.key, $0.key, $0.value) }, phaseCodes: phaseCodes)
        let n = try h.call("GET", "/v1/progress/national?plan=gap-2020-f1&as_of=2021-06")
        let item = try #require((n.json["items"] as? [[String: Any]])?.first)
        #expect(item["entity_count"] as? Int == 1155)
        #expect(Self.number(item["mean_progress"]) == national.meanProgress?.rounded(scale: 2))
        #expect(item["at_hundred"] as? Int == national.atHundred)

        // Regions and advisors: membership read from the database, progress from the pure engine.
        let (regionOf, advisorOf) = try h.database.pool.withConnection { conn in
            (Dictionary(uniqueKeysWithValues: try conn.query("SELECT entity_code, region_code FROM entity_regions_at(DATE '2021-06-01')").rows
                .map { (try $0.decode("entity_code", as: String.self), try $0.decode("region_code", as: String.self)) }),
             Dictionary(uniqueKeysWithValues: try conn.query("""
                SELECT entity_code, person_id::text AS p FROM assignments WHERE plan_code = 'gap-2020-f1'
                   AND from_period <= DATE '2021-06-01' AND (to_period IS NULL OR to_period >= DATE '2021-06-01')
                """).rows.map { (try $0.decode("entity_code", as: String.self), try $0.decode("p", as: String.self)) }))
        }
        for (kind, membership) in [("regions", regionOf), ("advisors", advisorOf)] {
            let r = try h.call("GET", "/v1/progress/\(kind)?plan=gap-2020-f1&as_of=2021-06")
            let items = r.json["items"] as? [[String: Any]] ?? []
            let keys = Set(progress.keys.compactMap { membership[$0] })
            #expect(items.count == keys.count, "\(kind): one item per group")
            for item in items {
                let key = try #require(item["key"] as? String)
                let members = progress.filter { membership[$0.key] == key }.map { ($0.key, $0.key, $0.value) }
                let expected = GroupSummary.of(entities: members, phaseCodes: phaseCodes)
                #expect(item["entity_count"] as? Int == expected.entityCount, "\(kind) \(key) count")
                #expect(Self.number(item["mean_progress"]) == expected.meanProgress?.rounded(scale: 2), "\(kind) \(key) mean")
                #expect(Self.number(item["min"]) == expected.min?.rounded(scale: 2), "\(kind) \(key) min")
                #expect(item["lowest_count"] as? Int == expected.lowest.count, "\(kind) \(key) lowest")
            }
        }
    }

    @Test("a cut taken, then a weight corrected, reads back with the same numbers; live figures change")
    func cutsAreFrozen() throws {
        let h = Self.shared
        let cut = try h.call("POST", "/v1/cuts", json: #"{"plan":"gap-2020-f2","period":"2021-Q2","label":"Corte II trimestre 2021"}"#)
        #expect(cut.status == 201, "\(cut.text)")
        let id = try #require(cut.json["id"] as? Int)
        #expect((cut.json["locked_periods"] as? [String])?.contains("2021-06") == true)
        let before = try h.call("GET", "/v1/cuts/\(id)/export?format=json")
        let liveBefore = try h.call("GET", "/v1/progress/national?plan=gap-2020-f2&as_of=2021-06")
        // Swap the weights of I1 (15) and I7 (20): a correction makes version 2.
        let plan = try h.call("GET", "/v1/plans/gap-2020-f2").json
        var phases = plan["phases"] as! [[String: Any]]
        for i in phases.indices {
            if phases[i]["code"] as? String == "I1" { phases[i]["weight_in_plan"] = 20 }
            if phases[i]["code"] as? String == "I7" { phases[i]["weight_in_plan"] = 15 }
            phases[i]["milestones"] = (phases[i]["milestones"] as! [[String: Any]]).map { m in
                var m = m; m.removeValue(forKey: "weight_in_plan"); return m
            }
        }
        let body: [String: Any] = ["name": plan["name"]!, "reason": "Corrección de pesos de interruptores",
                                   "stages": plan["stages"]!, "phases": phases]
        let put = try h.call("PUT", "/v1/plans/gap-2020-f2", json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        #expect(put.status == 200)
        #expect(put.json["version"] as? Int == 2)
        let after = try h.call("GET", "/v1/cuts/\(id)/export?format=json")
        #expect(after.body == before.body, "a cut never changes")
        #expect(after.json["cut"].flatMap { ($0 as? [String: Any])?["catalog_version"] as? Int } == 1)
        let liveAfter = try h.call("GET", "/v1/progress/national?plan=gap-2020-f2&as_of=2021-06")
        #expect(liveAfter.text != liveBefore.text, "live progress uses the corrected weights")
        // Every group kind the cut froze is readable, and matches what the live dashboards said before the correction.
        let frozenDepartments = try h.call("GET", "/v1/cuts/\(id)/groups/departments")
        #expect(frozenDepartments.status == 200)
        let items = frozenDepartments.json["items"] as? [[String: Any]] ?? []
        #expect(items.count == 33)
        #expect(items.reduce(0) { $0 + ($1["entity_count"] as? Int ?? 0) } == 1_155)
        let frozenNational = try h.call("GET", "/v1/cuts/\(id)/groups/national").json["items"] as? [[String: Any]]
        let liveNational = liveBefore.json["items"] as? [[String: Any]]
        #expect(frozenNational?.first?["mean_progress"] as? Double == liveNational?.first?["mean_progress"] as? Double)
        #expect(try h.call("GET", "/v1/cuts/\(id)/groups/municipios").status == 404)
    }

    @Test("the CSV export starts with a BOM and keeps accents intact, one row per entity")
    func csvKeepsAccents() throws {
        let h = Self.shared
        let cut = try h.call("POST", "/v1/cuts", json: #"{"plan":"gap-2020-f1","period":"2020-12","label":"Corte diciembre"}"#)
        let id = try #require(cut.json["id"] as? Int)
        let csv = try h.call("GET", "/v1/cuts/\(id)/export", headers: [("Accept", "text/csv")])
        #expect(csv.status == 200)
        #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(Array(csv.body.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let text = try #require(String(validating: csv.body, as: UTF8.self))
        #expect(text.contains("05001,Medellín,municipality,Antioquia"))
        #expect(text.contains("Región Caribe"))
        #expect(text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 1155 + 1)
    }

    @Test("writing into a month locked by a cut is refused, and the entity table sorts the lagging first")
    func lockedAndLagging() throws {
        let h = Self.shared
        let r = try h.call("GET", "/v1/progress/entities?plan=gap-2020-f1&as_of=2021-06&region=caribe&sort=total&limit=5")
        let items = r.json["items"] as? [[String: Any]] ?? []
        #expect(items.count == 5)
        let totals = items.compactMap { Self.number($0["total"]) }
        #expect(totals == totals.sorted())
        #expect(r.json["next_cursor"] as? String != nil)
        let csv = try h.call("GET", "/v1/progress/entities?plan=gap-2020-f1&as_of=2021-06&region=caribe", headers: [("Accept", "text/csv")])
        #expect(csv.header("Transfer-Encoding") == "chunked")
    }
}
