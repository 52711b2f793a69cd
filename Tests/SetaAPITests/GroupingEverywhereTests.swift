// Group sets and attributes where a region goes: the entity list and card, frozen set groups of a cut, the cut workbook.
import Foundation
import Testing
import SetaDatabase
import SetaDomain
import SetaTestSupport
@testable import SetaAPI

@Suite("Group sets and attributes everywhere a region is", .serialized)
struct GroupingEverywhereTests {
    /// The demo (with its DEMO groupings) and a cut of 2021-Q1, shared by every test of the process that only reads.
    static var shared: Result<(APIHarness, Int), any Error> { APIHarness.sharedDemo }

    static func codes(_ h: APIHarness, _ sql: SQL) throws -> [String] {
        try h.database.pool.withConnection { conn in try conn.query(sql).rows.map { try $0.decode("code", as: String.self) } }
    }

    static func listed(_ r: TestResponse) -> [[String: Any]] { r.json["items"] as? [[String: Any]] ?? [] }

    @Test("the entity list filtered by set_group lists exactly the group's members that month, each with its attributes")
    func entityList_BySetGroup_ListsTheMembers() throws {
        let (h, _) = try Self.shared.get()
        let expected = try Self.codes(h, "SELECT entity_code AS code FROM group_members_at('demo-pdet', DATE '2021-06-01') WHERE group_code = 'pdet' ORDER BY 1")
        let r = try h.call("GET", "/v1/entities?set_group=demo-pdet:pdet&as_of=2021-06&limit=1000")
        #expect(r.status == 200, "\(r.text.prefix(300))")
        let items = Self.listed(r)
        #expect(r.json["total"] as? Int == expected.count)
        #expect(items.map { $0["code"] as? String ?? "" } == expected)
        #expect(items.allSatisfy { ($0["attributes"] as? [String: String])?["demo-pdet"] == "true" }, "every PDET member carries demo-pdet=true")
    }

    @Test("attr. filters on the entity list match as on the progress routes: categories without case, booleans as sí/no, ANDed with set_group")
    func entityList_ByAttributes_MatchesTheValues() throws {
        let (h, _) = try Self.shared.get()
        let categoryE = try h.call("GET", "/v1/entities?attr.demo-categoria=e&limit=1000")
        #expect(categoryE.status == 200, "\(categoryE.text.prefix(300))")
        #expect(Set(Self.listed(categoryE).map { $0["code"] as? String ?? "" }) == ["11001", "05001", "76001", "08001", "13001"])
        let expected = try Self.codes(h, """
            SELECT g.entity_code AS code FROM group_members_at('demo-universos', DATE '2021-06-01') g
              JOIN entity_attribute_values v ON v.entity_code = g.entity_code AND v.attribute_code = 'demo-kpt' AND v.value = 'true'
             WHERE g.group_code = 'A' ORDER BY 1
            """)
        let both = try h.call("GET", "/v1/entities?set_group=demo-universos:A&attr.demo-kpt=s%C3%AD&as_of=2021-06&limit=1000")
        #expect(both.status == 200, "\(both.text.prefix(300))")
        #expect(Self.listed(both).map { $0["code"] as? String ?? "" } == expected)
        #expect(!expected.isEmpty)
    }

    @Test("an unknown set, group or attribute, or a value of the wrong type, on the entity list is a 422 naming it")
    func entityList_UnknownReferences_Are422() throws {
        let (h, _) = try Self.shared.get()
        let cases: [(String, String, String)] = [
            ("set_group=no-existe:A", "set_group", "no-existe"),
            ("set_group=demo-pdet:quizas", "set_group", "quizas"),
            ("attr.no-existe=1", "attr.no-existe", "no-existe"),
            ("attr.demo-pdet=quizas", "attr.demo-pdet", "quizas"),
            ("attr.demo-categoria=9", "attr.demo-categoria", "9"),
        ]
        for (query, field, found) in cases {
            let r = try h.call("GET", "/v1/entities?\(query)")
            #expect(r.status == 422, "\(query): \(r.status) \(r.text.prefix(200))")
            let errors = r.json["errors"] as? [[String: Any]] ?? []
            #expect(errors.first?["field"] as? String == field, "\(query): \(r.text.prefix(300))")
            #expect(errors.first?["found"] as? String == found, "\(query): \(r.text.prefix(300))")
        }
        #expect(try h.call("GET", "/v1/entities?set_group=sin-dos-puntos").status == 400)
    }

    @Test("the entity list's CSV ends with one attr. column per attribute, and the entity card shows attributes and groups")
    func entityCSVAndCard_ShowAttributesAndGroups() throws {
        let (h, _) = try Self.shared.get()
        let text = try h.call("GET", "/v1/entities?format=csv&attr.demo-categoria=E").text
        let table = try CSVReader.table(String(text.dropFirst()), expectedHeader: nil)
        #expect(Array(table.header.prefix(7)) == ["code", "name", "type", "department_code", "department_name", "region_code", "region_name"])
        #expect(Array(table.header.dropFirst(7)) == ["attr.demo-categoria", "attr.demo-kpt", "attr.demo-pdet"])
        #expect(table.records.allSatisfy { $0.fields[7] == "E" })
        let spanish = try h.call("GET", "/v1/entities?format=csv&lang=es&attr.demo-categoria=E").text
        #expect(spanish.dropFirst().hasPrefix("codigo,nombre,tipo,codigo_departamento,departamento,codigo_region,region,atributo.demo-categoria,"))

        let card = try h.call("GET", "/v1/entities/05001?as_of=2021-06")
        #expect(card.status == 200)
        #expect((card.json["attributes"] as? [String: String])?["demo-categoria"] == "E")
        let groups = card.json["groups"] as? [[String: Any]] ?? []
        let universe = try Self.codes(h, "SELECT group_code AS code FROM group_members_at('demo-universos', DATE '2021-06-01') WHERE entity_code = '05001'")
        #expect(groups.first { $0["set"] as? String == "demo-universos" }?["group"] as? String == universe.first)
        #expect(groups.map { $0["set"] as? String ?? "" } == groups.map { $0["set"] as? String ?? "" }.sorted(), "by set code")
        #expect(groups.allSatisfy { ($0["set_name"] as? String)?.isEmpty == false && ($0["group_name"] as? String)?.isEmpty == false })
    }

    @Test("GET /v1/cuts/{id}/groups/set:<code> answers the set's frozen groups, like /v1/cuts/{id}/group-sets/{set}")
    func cutGroups_BySet_AnswerTheFrozenGroups() throws {
        let (h, id) = try Self.shared.get()
        let r = try h.call("GET", "/v1/cuts/\(id)/groups/set:demo-universos")
        #expect(r.status == 200, "\(r.text.prefix(300))")
        #expect(r.json["group"] as? String == "set:demo-universos")
        #expect(r.json["as_of"] as? String == "2021-03")
        let frozen = try h.call("GET", "/v1/cuts/\(id)/group-sets/demo-universos")
        let a = Self.listed(r), b = Self.listed(frozen)
        #expect(a.map { $0["key"] as? String } == ["A", "B", "C", "D", "E", "F", "G", "H"])
        #expect(a.map { $0["key"] as? String } == b.map { $0["key"] as? String })
        #expect(a.map { $0["entity_count"] as? Int } == b.map { $0["entity_count"] as? Int })
        #expect(a.map { DashboardTests.number($0["mean_progress"]) } == b.map { DashboardTests.number($0["mean_progress"]) })
        let csv = try h.call("GET", "/v1/cuts/\(id)/groups/set:demo-pdet?format=csv").text
        #expect(csv.dropFirst().hasPrefix("group,key,name,entity_count,"))
        #expect(try h.call("GET", "/v1/cuts/\(id)/groups/set:no-existe").status == 404)
        #expect(try h.call("GET", "/v1/cuts/\(id)/groups/attr:demo-pdet").status == 404)
        let coordinator = try h.person(role: "coordinator", regions: ["caribe"])
        #expect(try h.call("GET", "/v1/cuts/\(id)/groups/set:demo-pdet", token: coordinator.token).status == 403)
    }

    @Test("the cut workbook has one sheet per frozen group set, and its Entidades sheet ends with expected, lag and overdue")
    func cutWorkbook_HasSetSheetsAndTheSchedule() throws {
        let (h, id) = try Self.shared.get()
        let r = try h.call("GET", "/v1/cuts/\(id)/export?format=xlsx")
        #expect(r.status == 200)
        let (names, parts) = try ExportTests.sheets(r.body)
        let sets = try h.database.pool.withConnection { conn in
            try conn.query("SELECT set_name FROM cut_group_sets WHERE cut_id = \(Int64(id)) ORDER BY set_code").rows
                .map { try $0.decode("set_name", as: String.self) }
        }
        #expect(sets.contains("DEMO · PDET"))
        let kinds = ["Ficha", "Nacional", "Regiones", "Departamentos", "Asesores", "Aliados", "Tipos de entidad"]
        #expect(names == kinds + sets.map { String($0.prefix(31)) } + ["Hitos", "Entidades"], "\(names)")
        let pdet = inlineStrings(parts["xl/worksheets/sheet\(kinds.count + 1 + sets.firstIndex(of: "DEMO · PDET")!).xml"]!)
        #expect(Array(pdet.prefix(3)) == ["key", "name", "entity_count"])
        #expect(pdet.contains("DEMO · No PDET"))
        let entities = inlineStrings(parts["xl/worksheets/sheet\(names.count).xml"]!)
        let header = Array(entities.prefix { $0 != "05001" && !$0.hasPrefix("0") })
        #expect(Array(header.suffix(3)) == ["expected", "lag", "overdue"], "\(header)")

        // The es-CO layout gains them too (in Spanish with lang=es); the plain CSV keeps its historic last column.
        let spanish = try h.call("GET", "/v1/cuts/\(id)/export?format=csv&locale=es-CO&lang=es").text
        let first = spanish.dropFirst().components(separatedBy: "\r\n")[0]
        #expect(first.hasSuffix(";avance_esperado;rezago;hitos_vencidos"), "\(first)")
        let plain = try h.call("GET", "/v1/cuts/\(id)/export?format=csv").text
        #expect(plain.dropFirst().components(separatedBy: "\r\n")[0].hasSuffix(",total"))
        // Lag is expected − total, as frozen.
        let frozen = try h.database.pool.withConnection { conn in
            try conn.query("""
                SELECT round(expected, 2)::text AS e, round(expected - total, 2)::text AS l FROM cut_entities
                 WHERE cut_id = \(Int64(id)) AND entity_code = '05001'
                """).rows[0]
        }
        let row = try #require(spanish.components(separatedBy: "\r\n").first { $0.hasPrefix("05001;") }).components(separatedBy: ";")
        let e: String? = try frozen.decode("e"), l: String? = try frozen.decode("l")
        #expect(row[row.count - 3] == (e ?? "").replacingOccurrences(of: ".", with: ","), "\(row.suffix(3))")
        #expect(row[row.count - 2] == (l ?? "").replacingOccurrences(of: ".", with: ","), "\(row.suffix(3))")
    }

    @Test("the demo holds labelled regional workshops serving several entities with attendees, and sessions in the newer modalities")
    func demo_HasWorkshopsAndNewerModalities() throws {
        let (h, _) = try Self.shared.get()
        let workshops = Self.listed(try h.call("GET", "/v1/asesorias?period=2021-06&modality=taller&limit=100"))
        #expect(!workshops.isEmpty)
        for w in workshops {
            #expect((w["notes"] as? String)?.hasPrefix("DEMO · Taller regional") == true, "\(w["notes"] ?? "-")")
            #expect(((w["entities"] as? [[String: Any]])?.count ?? 0) >= 3, "a workshop serves several entities")
            #expect(((w["attendees"] as? [String: Any])?["count"] as? Int ?? 0) > 0)
        }
        let total = try h.call("GET", "/v1/asesorias/summary?period=2021-06&group=region").json["total"] as? [String: Any] ?? [:]
        for modality in ["taller", "whatsapp", "correo", "documental", "virtual", "presencial", "telefonica"] {
            #expect((total[modality] as? Int ?? 0) > 0, "\(modality) in the June 2021 summary: \(total)")
        }
        #expect((total["attendees"] as? Int ?? 0) > 0)
        #expect((total["recorded_after_month"] as? Int ?? 0) > 0, "some sessions recorded after their month")
    }
}
