// The catalog API shows the report's weighted tables, refuses bad weights and versions every correction.
import Foundation
import Testing
@testable import SetaAPI

@Suite("Catalog API")
struct CatalogAPITests {
    static func milestones(_ json: [String: Any]) -> [[String: Any]] {
        ((json["phases"] as? [[String: Any]]) ?? []).flatMap { ($0["milestones"] as? [[String: Any]]) ?? [] }
    }

    @Test("GET /v1/plans lists both 2020 plans")
    func listsPlans() throws {
        let h = APIHarness.sharedReadOnly
        let r = try h.call("GET", "/v1/plans")
        #expect(r.status == 200)
        let codes = (r.json["items"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(codes == ["gap-2020-f1", "gap-2020-f2"])
    }

    @Test("Fase I shows the report's table: H9 is 7.5 of the plan, H16 to H18 3.333/3.333/3.334, H22 before H21")
    func faseITable() throws {
        let h = APIHarness.sharedReadOnly
        let r = try h.call("GET", "/v1/plans/gap-2020-f1")
        #expect(r.status == 200)
        let text = r.text
        let ms = Self.milestones(r.json)
        #expect(ms.count == 22)
        #expect((r.json["phases"] as? [Any])?.count == 5)
        let codes = ms.compactMap { $0["code"] as? String }
        #expect(codes.firstIndex(of: "H22")! < codes.firstIndex(of: "H21")!)
        // Exact decimals on the wire, never binary floating point noise.
        #expect(text.contains("\"code\":\"H9\"") && text.contains("\"weight_in_plan\":7.5"))
        #expect(text.contains("\"weight_in_plan\":3.333"))
        #expect(text.contains("\"weight_in_plan\":3.334"))
        #expect(text.contains("\"weight_in_phase\":33.33"))
        #expect(!text.contains("0000000001"))
    }

    @Test("Fase II has 4 stages, 10 phases and 22 milestones")
    func faseIITable() throws {
        let h = APIHarness.sharedReadOnly
        let r = try h.call("GET", "/v1/plans/gap-2020-f2")
        #expect((r.json["stages"] as? [Any])?.count == 4)
        #expect((r.json["phases"] as? [Any])?.count == 10)
        #expect(Self.milestones(r.json).count == 22)
    }

    static let smallPlan = """
        {"code":"prueba","name":"Plan de prueba","phases":[
          {"code":"F1","name":"Uno","weight_in_plan":60,"milestones":[{"code":"H1","name":"a","weight_in_phase":50},{"code":"H2","name":"b","weight_in_phase":50}]},
          {"code":"F2","name":"Dos","weight_in_plan":40,"milestones":[{"code":"H3","name":"c","weight_in_phase":100}]}]}
        """

    @Test("a plan whose phase sums to 99 is refused with the phase and the sum named, and nothing is written")
    func refusesBadSums() throws {
        let h = APIHarness.sharedReadOnly
        let bad = Self.smallPlan.replacingOccurrences(of: "\"weight_in_phase\":50},{\"code\":\"H2\",\"name\":\"b\",\"weight_in_phase\":50",
                                                      with: "\"weight_in_phase\":49},{\"code\":\"H2\",\"name\":\"b\",\"weight_in_phase\":50")
        let r = try h.call("POST", "/v1/plans", json: bad)
        #expect(r.status == 422)
        #expect(r.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        #expect(r.text.contains("phases[F1].milestones"))
        #expect(r.text.contains("99"))
        #expect(try h.call("GET", "/v1/plans/prueba").status == 404)
    }

    @Test("a plan is created, then a weight correction makes version 2 and version 1 stays readable")
    func correctionMakesANewVersion() throws {
        let h = try APIHarness()
        #expect(try h.call("POST", "/v1/plans", json: Self.smallPlan).status == 201)
        let corrected = """
            {"name":"Plan de prueba","reason":"Corrección de pesos","phases":[
              {"code":"F1","name":"Uno","weight_in_plan":70,"milestones":[{"code":"H1","name":"a","weight_in_phase":50},{"code":"H2","name":"b","weight_in_phase":50}]},
              {"code":"F2","name":"Dos","weight_in_plan":30,"milestones":[{"code":"H3","name":"c","weight_in_phase":100}]}]}
            """
        let r = try h.call("PUT", "/v1/plans/prueba", json: corrected)
        #expect(r.status == 200)
        #expect(r.json["version"] as? Int == 2)
        let v1 = try h.call("GET", "/v1/plans/prueba?version=1")
        #expect(v1.text.contains("\"weight_in_plan\":60"))
        let now = try h.call("GET", "/v1/plans/prueba")
        #expect(now.text.contains("\"weight_in_plan\":70"))
        #expect(try h.call("GET", "/v1/plans/prueba/versions").json["total"] as? Int == 2)
    }

    @Test("dropping a milestone that has reports is refused with 409")
    func refusesOrphaningReports() throws {
        let h = try APIHarness()
        #expect(try h.call("POST", "/v1/plans", json: Self.smallPlan).status == 201)
        try h.database.pool.withConnection { conn in
            try conn.execute("INSERT INTO reports (plan_code, entity_code, period, revision, first_received_at, updated_at) VALUES ('prueba', '05001', DATE '2020-03-01', 1, now(), now())")
            try conn.execute("INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at) VALUES ('prueba', '05001', DATE '2020-03-01', 'H3', 'done', 1, now())")
        }
        let dropped = """
            {"name":"Plan de prueba","reason":"Quitar H3","phases":[
              {"code":"F1","name":"Uno","weight_in_plan":100,"milestones":[{"code":"H1","name":"a","weight_in_phase":50},{"code":"H2","name":"b","weight_in_phase":50}]}]}
            """
        let r = try h.call("PUT", "/v1/plans/prueba", json: dropped)
        #expect(r.status == 409)
        #expect(r.text.contains("H3"))
    }

    @Test("only the central team may create a plan")
    func onlyCentralCreates() throws {
        let h = try APIHarness()
        let advisor = try h.person(role: "advisor")
        #expect(try h.call("POST", "/v1/plans", json: Self.smallPlan, token: advisor.token).status == 403)
        #expect(try h.call("POST", "/v1/plans", json: Self.smallPlan, token: .some(nil)).status == 401)
    }

    @Test("a plan name longer than the database allows is a 422 naming the field, not a 500")
    func longNameIsRefusedWithItsField() throws {
        let h = APIHarness.sharedReadOnly
        let long = String(repeating: "n", count: 400)
        let r = try h.call("POST", "/v1/plans", json: Self.smallPlan.replacingOccurrences(of: "Plan de prueba", with: long))
        #expect(r.status == 422)
        #expect(r.text.contains("\"field\":\"name\""))
        #expect(try h.call("GET", "/v1/plans/prueba").status == 404)
    }

    @Test("a cut label of 150 combined characters (300 code points) is refused with 422")
    func cutLabelCountsCodePoints() throws {
        let h = APIHarness.sharedReadOnly
        let label = String(repeating: "e\u{0301}", count: 150)
        let r = try h.call("POST", "/v1/cuts", json: "{\"plan\":\"gap-2020-f1\",\"period\":\"2020-06\",\"label\":\"\(label)\"}")
        #expect(r.status == 422)
    }
}
