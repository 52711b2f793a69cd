// Asesorías as the report counts them (issue 15 item 4): seven modalities, attendees, workshops, the monthly series, the recording lag.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase

@Suite("Asesorías as the report counts them")
struct AsesoriaReportTests {
    static let plan = "gap-2020-f1"
    static let (medellin, abejorral, abriaqui, cali) = ("05001", "05002", "05004", "76001")

    static func body(_ entities: [String], _ day: String, _ modality: String, extra: String = "") -> String {
        let list = entities.map { "\"\($0)\"" }.joined(separator: ", ")
        return "{\"entities\": [\(list)], \"plan\": \"\(plan)\", \"held_on\": \"\(day)\", \"modality\": \"\(modality)\"\(extra)}"
    }

    @Test("every modality the report counts is accepted, and an unknown one is still 422 naming the field")
    func modalities() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, [Self.medellin])
        for modality in ["virtual", "presencial", "telefonica", "whatsapp", "correo", "documental", "taller"] {
            let r = try h.call("POST", "/v1/asesorias", json: Self.body([Self.medellin], "2021-06-01", modality))
            #expect(r.status == 201, "\(modality): \(r.text)")
            #expect(r.json["modality"] as? String == modality)
        }
        let fax = try h.call("POST", "/v1/asesorias", json: Self.body([Self.medellin], "2021-06-01", "fax"))
        #expect(fax.status == 422)
        #expect(fax.text.contains("modality"))
        #expect(try h.call("GET", "/v1/asesorias?modality=whatsapp").json["total"] as? Int == 1)
        #expect(try h.call("GET", "/v1/asesorias?modality=fax").status == 400)
    }

    @Test("a workshop serves several entities with its attendees; the single-entity form is unchanged")
    func workshop() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, [Self.medellin, Self.abejorral, Self.abriaqui, Self.cali])
        let r = try h.call("POST", "/v1/asesorias", json: "{\"entity\": \"\(Self.medellin)\", \"entities\": [\"\(Self.abejorral)\", \"\(Self.abriaqui)\", \"\(Self.medellin)\"], \"plan\": \"\(Self.plan)\", \"held_on\": \"2021-05-20\", \"modality\": \"taller\", \"duration_minutes\": 180, \"attendees\": {\"count\": 42, \"roles\": [\"alcalde\", \"secretario de planeación\"]}}")
        #expect(r.status == 201, "\(r.text)")
        #expect(r.json["entity"] as? String == Self.medellin)
        #expect((r.json["entities"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == [Self.medellin, Self.abejorral, Self.abriaqui])
        #expect((r.json["attendees"] as? [String: Any])?["count"] as? Int == 42)
        #expect((r.json["attendees"] as? [String: Any])?["roles"] as? [String] == ["alcalde", "secretario de planeación"])
        // Found from any entity it served.
        #expect(try h.call("GET", "/v1/asesorias?entity=\(Self.abriaqui)").json["total"] as? Int == 1)
        // The single-entity form as before.
        let single = try h.call("POST", "/v1/asesorias", json: "{\"entity\": \"\(Self.cali)\", \"held_on\": \"2021-05-21\", \"modality\": \"telefonica\"}")
        #expect(single.status == 201)
        #expect((single.json["entities"] as? [[String: Any]])?.count == 1)
        #expect(single.json["attendees"] == nil)
        // Counted by entity: once in each entity served; in the total once, with its attendees once.
        let byEntity = try h.call("GET", "/v1/asesorias/summary?period=2021-05&group=entity")
        let items = byEntity.json["items"] as? [[String: Any]] ?? []
        #expect(Set(items.compactMap { $0["key"] as? String }) == [Self.medellin, Self.abejorral, Self.abriaqui, Self.cali])
        #expect(items.allSatisfy { $0["sessions"] as? Int == 1 })
        let total = byEntity.json["total"] as? [String: Any] ?? [:]
        #expect(total["sessions"] as? Int == 2)
        #expect(total["entities"] as? Int == 4)
        #expect(total["attendees"] as? Int == 42)
        #expect(total["minutes"] as? Int == 180)
        #expect(total["taller"] as? Int == 1)
        #expect(total["telefonica"] as? Int == 1)
        // Bad input names its field, nothing written.
        let before = try h.count("SELECT count(*) FROM asesorias")
        #expect(try h.call("POST", "/v1/asesorias", json: Self.body([Self.medellin, "99999"], "2021-05-20", "taller")).text.contains("entities[1]"))
        #expect(try h.call("POST", "/v1/asesorias", json: "{\"held_on\": \"2021-05-20\", \"modality\": \"taller\"}").status == 422)
        #expect(try h.call("POST", "/v1/asesorias", json: Self.body([Self.medellin], "2021-05-20", "taller", extra: ", \"attendees\": {\"count\": -1}")).text.contains("attendees.count"))
        #expect(try h.count("SELECT count(*) FROM asesorias") == before)
    }

    @Test("an advisor's workshop must be within their assignments for every entity, else 403 naming those outside")
    func workshopScope() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, [Self.medellin, Self.abejorral, Self.cali])
        let ana = try h.person(role: "advisor", name: "Ana")
        try h.assign(ana.id, Self.plan, [Self.medellin, Self.abejorral])
        #expect(try h.call("POST", "/v1/asesorias", json: Self.body([Self.medellin, Self.abejorral], "2021-06-01", "taller"), token: ana.token).status == 201)
        let refused = try h.call("POST", "/v1/asesorias", json: Self.body([Self.medellin, Self.cali], "2021-06-01", "taller"), token: ana.token)
        #expect(refused.status == 403)
        #expect(refused.text.contains(Self.cali))
        #expect(try h.count("SELECT count(*) FROM asesorias") == 1)
        // A coordinator of Cali's region sees the workshop only if it served an entity of theirs.
        let coordinator = try h.person(role: "coordinator", regions: [try h.region(of: Self.cali)])
        #expect(try h.call("GET", "/v1/asesorias?period=2021-06", token: coordinator.token).json["total"] as? Int == 0)
        // A workshop led from Cali that also served Medellín: Medellín's coordinator reads it, in the list and by id.
        let shared = try h.call("POST", "/v1/asesorias", json: Self.body([Self.cali, Self.medellin], "2021-06-02", "taller"))
        #expect(shared.status == 201)
        let antioquia = try h.person(role: "coordinator", regions: [try h.region(of: Self.medellin)])
        #expect(try h.call("GET", "/v1/asesorias?period=2021-06", token: antioquia.token).json["total"] as? Int == 2)
        #expect(try h.call("GET", "/v1/asesorias/\(shared.json["id"] as? Int ?? 0)", token: antioquia.token).status == 200)
        #expect(try h.call("GET", "/v1/asesorias/\(shared.json["id"] as? Int ?? 0)", token: try h.person(role: "coordinator", regions: [try h.region(of: "08001")]).token).status == 403)
    }

    @Test("the monthly series by region, advisor and modality, worked by hand, in one call")
    func series() throws {
        let h = try APIHarness()
        try h.enroll(Self.plan, [Self.medellin, Self.abejorral, Self.cali])
        let ana = try h.person(role: "advisor", name: "Ana")
        let beto = try h.person(role: "advisor", name: "Beto")
        try h.assign(ana.id, Self.plan, [Self.medellin, Self.abejorral])
        try h.assign(beto.id, Self.plan, [Self.cali])
        // April: Ana calls Medellín (10 min). May: Ana's workshop for Medellín and Abejorral (120 min, 30 people),
        // Beto's WhatsApp with Cali (5 min). June: nothing.
        for (entities, day, modality, extra, token) in [
            ([Self.medellin], "2021-04-05", "telefonica", ", \"duration_minutes\": 10", ana.token),
            ([Self.medellin, Self.abejorral], "2021-05-10", "taller", ", \"duration_minutes\": 120, \"attendees\": {\"count\": 30}", ana.token),
            ([Self.cali], "2021-05-11", "whatsapp", ", \"duration_minutes\": 5", beto.token),
        ] {
            #expect(try h.call("POST", "/v1/asesorias", json: Self.body(entities, day, modality, extra: extra), token: token).status == 201)
        }
        let r = try h.call("GET", "/v1/asesorias/series?from=2021-04&to=2021-06")
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["months"] as? [String] == ["2021-04", "2021-05", "2021-06"])
        func points(_ list: Any?) -> [[Int]] {
            (list as? [[String: Any]] ?? []).map { p in ["sessions", "entities", "attendees", "minutes"].map { p[$0] as? Int ?? -1 } }
        }
        func line(_ name: String, _ key: String) -> [[Int]] {
            points(((r.json[name] as? [[String: Any]]) ?? []).first { $0["key"] as? String == key }?["points"])
        }
        // [sessions, entities, attendees, minutes] per month.
        #expect(points(r.json["total"]) == [[1, 1, 0, 10], [2, 3, 30, 125], [0, 0, 0, 0]])
        #expect(line("by_advisor", String(ana.id)) == [[1, 1, 0, 10], [1, 2, 30, 120], [0, 0, 0, 0]])
        #expect(line("by_advisor", String(beto.id)) == [[0, 0, 0, 0], [1, 1, 0, 5], [0, 0, 0, 0]])
        #expect(line("by_modality", "taller") == [[0, 0, 0, 0], [1, 2, 30, 120], [0, 0, 0, 0]])
        #expect(line("by_modality", "whatsapp") == [[0, 0, 0, 0], [1, 1, 0, 5], [0, 0, 0, 0]])
        let antioquia = try h.region(of: Self.medellin), valle = try h.region(of: Self.cali)
        #expect(line("by_region", antioquia) == [[1, 1, 0, 10], [1, 2, 30, 120], [0, 0, 0, 0]])
        #expect(line("by_region", valle) == [[0, 0, 0, 0], [1, 1, 0, 5], [0, 0, 0, 0]])
        #expect((r.json["by_advisor"] as? [[String: Any]])?.first { $0["key"] as? String == String(ana.id) }?["name"] as? String == "Ana")
        // Ana sees only her sessions; bad ranges are 400.
        #expect(points(try h.call("GET", "/v1/asesorias/series?from=2021-04&to=2021-06", token: ana.token).json["total"]) == [[1, 1, 0, 10], [1, 2, 30, 120], [0, 0, 0, 0]])
        #expect(try h.call("GET", "/v1/asesorias/series?from=2021-06&to=2021-04").status == 422)
        #expect(try h.call("GET", "/v1/asesorias/series?from=2018-01&to=2021-06").status == 422)
        // A lone `from` long ago runs to the current month: too long is a rule between months, 422 naming `from` (schemathesis).
        #expect(try h.call("GET", "/v1/asesorias/series?from=2001-01").text.contains("\"field\":\"from\""))
        #expect(try h.call("GET", "/v1/asesorias/series?from=2001-01").status == 422)
    }

    @Test("the lag between a session and its recording is shown per advisor: who fills in at month end")
    func recordingLag() throws {
        let h = try APIHarness(now: TestClock.date("2021-05-31T20:00:00Z"))
        try h.enroll(Self.plan, [Self.medellin, Self.cali])
        let ana = try h.person(role: "advisor", name: "Ana")
        let beto = try h.person(role: "advisor", name: "Beto")
        try h.assign(ana.id, Self.plan, [Self.medellin])
        try h.assign(beto.id, Self.plan, [Self.cali])
        // Ana records three May sessions on 31 May (lags 30, 20, 0 days); Beto records his on the day.
        for day in ["2021-05-01", "2021-05-11", "2021-05-31"] {
            #expect(try h.call("POST", "/v1/asesorias", json: Self.body([Self.medellin], day, "virtual"), token: ana.token).status == 201)
        }
        h.clock.now = TestClock.date("2021-05-12T15:00:00Z")
        #expect(try h.call("POST", "/v1/asesorias", json: Self.body([Self.cali], "2021-05-12", "telefonica"), token: beto.token).status == 201)
        // And one April session Beto records in May: recorded after its month ended.
        #expect(try h.call("POST", "/v1/asesorias", json: Self.body([Self.cali], "2021-04-28", "telefonica"), token: beto.token).status == 201)
        let may = try h.call("GET", "/v1/asesorias/summary?period=2021-05&group=advisor")
        let items = may.json["items"] as? [[String: Any]] ?? []
        let a = items.first { $0["name"] as? String == "Ana" } ?? [:]
        #expect(a["median_lag_days"] as? Int == 20 || (a["median_lag_days"] as? Double) == 20)
        #expect(a["max_lag_days"] as? Int == 30)
        #expect(a["recorded_after_month"] as? Int == 0)
        let april = try h.call("GET", "/v1/asesorias/summary?period=2021-04&group=advisor")
        let b = (april.json["items"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "Beto" } ?? [:]
        #expect(b["max_lag_days"] as? Int == 14)
        #expect(b["recorded_after_month"] as? Int == 1)
        // Each session shows its own lag.
        let list = try h.call("GET", "/v1/asesorias?period=2021-05&advisor=\(ana.id)")
        #expect((list.json["items"] as? [[String: Any]])?.compactMap { $0["recording_lag_days"] as? Int } == [0, 20, 30])
    }
}
