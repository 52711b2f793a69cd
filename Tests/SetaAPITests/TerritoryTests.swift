// The territory API: 1,155 entities found by code, department, region and name; regions with monthly history; enrollments.
import Foundation
import SetaDatabase
import SetaDomain
import Testing
@testable import SetaAPI

extension TestResponse {
    var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
    var total: Int? { json["total"] as? Int }
    var fieldErrors: [String] { (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String } }
}

extension APIHarness {
    /// Rows in a table, read straight from the database (to prove a refused request wrote nothing).
    func rowCount(_ table: String) throws -> Int {
        try database.pool.withConnection { try $0.query(SQL(unsafe: "SELECT count(*) AS n FROM \(table)")).rows[0].decode("n") }
    }

    /// The shipped DIVIPOLA file, as (code, department code, PND region name).
    static func divipola() throws -> [(code: String, department: String, region: String)] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("Data/divipola-municipios.csv"), encoding: .utf8)
        return try CSVReader.parse(text, expectedHeader: nil).map { ($0[0], $0[2], $0[4]) }
    }
}

@Suite("Territory API")
struct TerritoryTests {
    // MARK: Entities

    @Test("a fresh start has 1,155 entities: 1,123 municipality-level units and 32 gobernaciones")
    func entityCounts() throws {
        let h = APIHarness.sharedReadOnly
        #expect(try h.call("GET", "/v1/entities?limit=1").total == 1155)
        #expect(try h.call("GET", "/v1/entities?type=department&limit=1").total == 32)
        let municipalityLevel = try ["municipality", "district", "non_municipalised_area"].map {
            try h.call("GET", "/v1/entities?limit=1&type=\($0)").total ?? 0
        }
        #expect(municipalityLevel.reduce(0, +) == 1123)
        #expect(municipalityLevel[1] == 1)
    }

    @Test("an entity is read by code with its department, current region and type")
    func entityByCode() throws {
        let h = APIHarness.sharedReadOnly
        let r = try h.call("GET", "/v1/entities/11001")
        #expect(r.status == 200)
        #expect(r.json["type"] as? String == "district")
        #expect((r.json["department"] as? [String: Any])?["code"] as? String == "11")
        #expect((r.json["region"] as? [String: Any])?["code"] as? String == "centro-oriente")
        #expect(r.json["enrollments"] as? [Any] != nil && r.json["assignments"] as? [Any] != nil)
        let g = try h.call("GET", "/v1/entities/05")
        #expect(g.json["type"] as? String == "department")
        #expect(try h.call("GET", "/v1/entities/99999").status == 404)
    }

    @Test("q finds Bogotá D.C. written bogota, BOGOTÁ or Bogotá")
    func accentInsensitiveSearch() throws {
        let h = APIHarness.sharedReadOnly
        for q in ["bogota", "BOGOT%C3%81", "Bogot%C3%A1", "%20bogot%C3%A1%20"] {
            let r = try h.call("GET", "/v1/entities?q=\(q)")
            #expect(r.status == 200)
            #expect(r.items.contains { $0["code"] as? String == "11001" }, "q=\(q)")
        }
        // Nariño's gobernación is found without the tilde, and LIKE wildcards are literal.
        #expect(try h.call("GET", "/v1/entities?q=narino&type=department").items.first?["code"] as? String == "52")
        #expect(try h.call("GET", "/v1/entities?q=%25").total == 0)
    }

    @Test("department and region filters agree with the DIVIPOLA file, gobernaciones included")
    func filtersByDepartmentAndRegion() throws {
        let h = APIHarness.sharedReadOnly
        let rows = try APIHarness.divipola()
        let antioquia = rows.filter { $0.department == "05" }.count
        #expect(try h.call("GET", "/v1/entities?department=05&limit=1").total == antioquia + 1)
        let caribe = rows.filter { $0.region == "Región Caribe" }
        let caribeDepartments = Set(caribe.map(\.department)).subtracting(["11"])
        let r = try h.call("GET", "/v1/entities?region=caribe&limit=1")
        #expect(r.total == caribe.count + caribeDepartments.count)
        #expect(r.items.first?["region_code"] as? String == "caribe")
        let csv = try h.call("GET", "/v1/entities?department=91&format=csv")
        #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == rows.filter { $0.department == "91" }.count + 2)
    }

    @Test("following next_cursor visits every entity once, in code order, and the total stays 1,155")
    func cursorPagination() throws {
        let h = APIHarness.sharedReadOnly
        var codes: [String] = []
        var path = "/v1/entities?limit=400"
        for _ in 0..<10 {
            let r = try h.call("GET", path)
            #expect(r.status == 200)
            #expect(r.total == 1155)
            codes += r.items.compactMap { $0["code"] as? String }
            guard let next = r.json["next_cursor"] as? String else { break }
            path = "/v1/entities?limit=400&cursor=\(next)"
        }
        #expect(codes.count == 1155)
        #expect(Set(codes).count == 1155)
        #expect(codes == codes.sorted())
        // A plain code works as a cursor too.
        #expect(try h.call("GET", "/v1/entities?limit=1&cursor=05001").items.first?["code"] as? String == "05002")
    }

    @Test("a bad cursor, type, department, region or plan in a filter is a 4xx naming the parameter")
    func badFilters() throws {
        let h = APIHarness.sharedReadOnly
        let cases: [(String, Int, String)] = [
            ("cursor=nope", 400, "cursor"), ("type=city", 400, "type"), ("department=77", 422, "department"),
            ("region=atlantida", 422, "region"), ("plan=nope", 422, "plan"), ("as_of=2020-13", 400, "as_of"), ("limit=0", 400, "limit"),
        ]
        for (query, status, field) in cases {
            let r = try h.call("GET", "/v1/entities?\(query)")
            #expect(r.status == status, "\(query)")
            #expect(r.fieldErrors.contains(field), "\(query): \(r.text)")
        }
    }

    @Test("an advisor sees only the entities assigned to them")
    func advisorScope() throws {
        let h = try APIHarness()
        let advisor = try h.person(role: "advisor")
        #expect(try h.call("POST", "/v1/plans/gap-2020-f1/enrollments", json: #"{"from":"2020-03","entities":["05001","05002"]}"#).status == 201)
        #expect(try h.call("POST", "/v1/assignments", json: #"{"plan":"gap-2020-f1","entity":"05001","advisor":\#(advisor.id),"from":"2020-03"}"#).status == 201)
        let r = try h.call("GET", "/v1/entities", token: advisor.token)
        #expect(r.items.compactMap { $0["code"] as? String } == ["05001"])
        #expect(try h.call("GET", "/v1/entities/05002", token: advisor.token).status == 403)
        #expect(try h.call("GET", "/v1/entities/05001", token: advisor.token).status == 200)
    }

    // MARK: Regions by month

    @Test("a department moved to another region from 2020-09 shows in the new region for 2020-09 and in the old one for 2020-08")
    func departmentMoveHistory() throws {
        let h = try APIHarness()
        let move = try h.call("PUT", "/v1/departments/05/region", json: #"{"region":"caribe","from":"2020-09"}"#)
        #expect(move.status == 200)
        #expect((move.json["region_history"] as? [[String: Any]])?.compactMap { $0["region_code"] as? String } == ["eje-cafetero-antioquia", "caribe"])

        func regionOf05(_ month: String) throws -> String? {
            try h.call("GET", "/v1/departments?as_of=\(month)").items.first { $0["code"] as? String == "05" }?["region_code"] as? String
        }
        #expect(try regionOf05("2020-09") == "caribe")
        #expect(try regionOf05("2020-08") == "eje-cafetero-antioquia")
        #expect(try regionOf05("2021-06") == "caribe")

        let antioquia = try APIHarness.divipola().filter { $0.department == "05" }.count + 1
        #expect(try h.call("GET", "/v1/entities?department=05&region=caribe&as_of=2020-09&limit=1").total == antioquia)
        #expect(try h.call("GET", "/v1/entities?department=05&region=caribe&as_of=2020-08&limit=1").total == 0)
        #expect(try h.call("GET", "/v1/entities?department=05&region=eje-cafetero-antioquia&as_of=2020-08&limit=1").total == antioquia)

        func departmentsOf(_ region: String, _ month: String) throws -> [String] {
            let g = try h.call("GET", "/v1/regions?as_of=\(month)").items.first { $0["code"] as? String == region }
            return (g?["departments"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        }
        #expect(try departmentsOf("caribe", "2020-09").contains("05"))
        #expect(try !departmentsOf("caribe", "2020-08").contains("05"))
        #expect(try departmentsOf("eje-cafetero-antioquia", "2020-08").contains("05"))

        let medellin = try h.call("GET", "/v1/entities/05001?as_of=2020-08")
        #expect((medellin.json["region"] as? [String: Any])?["code"] as? String == "eje-cafetero-antioquia")
        let spans = medellin.json["region_history"] as? [[String: Any]] ?? []
        #expect(spans.count == 2)
        #expect(spans.last?["from"] as? String == "2020-09")
        #expect(spans.first?["from"] == nil)
    }

    @Test("an entity moved alone changes region from its month on, and a later move of its department takes it along")
    func entityMove() throws {
        let h = try APIHarness()
        #expect(try h.call("PUT", "/v1/entities/05001/region", json: #"{"region":"pacifico","from":"2020-03"}"#).status == 200)
        func region(_ code: String, _ month: String) throws -> String? {
            (try h.call("GET", "/v1/entities/\(code)?as_of=\(month)").json["region"] as? [String: Any])?["code"] as? String
        }
        #expect(try region("05001", "2020-02") == "eje-cafetero-antioquia")
        #expect(try region("05001", "2020-03") == "pacifico")
        #expect(try region("05002", "2020-03") == "eje-cafetero-antioquia")
        #expect(try h.call("PUT", "/v1/departments/05/region", json: #"{"region":"caribe","from":"2020-09"}"#).status == 200)
        #expect(try region("05001", "2020-08") == "pacifico")
        #expect(try region("05001", "2020-09") == "caribe")
    }

    @Test("regions are created, renamed and deleted by the central team; deleting one with members is a 409")
    func regionLifecycle() throws {
        let h = try APIHarness()
        let created = try h.call("POST", "/v1/regions", json: #"{"code":"amazonia","name":"Región Amazonía"}"#)
        #expect(created.status == 201)
        #expect(created.header("Location") == "/v1/regions/amazonia")
        #expect(try h.call("POST", "/v1/regions", json: #"{"code":"amazonia","name":"Otra"}"#).fieldErrors == ["code"])
        #expect(try h.call("POST", "/v1/regions", json: #"{"code":"amazonia-2","name":"región amazonía"}"#).fieldErrors == ["name"])
        #expect(try h.call("POST", "/v1/regions", json: #"{"code":"Amazonía","name":"X"}"#).status == 422)
        let renamed = try h.call("PATCH", "/v1/regions/amazonia", json: #"{"name":"Amazonía"}"#)
        #expect(renamed.status == 200 && renamed.json["name"] as? String == "Amazonía")

        let blocked = try h.call("DELETE", "/v1/regions/caribe")
        #expect(blocked.status == 409)
        #expect(blocked.fieldErrors.contains("members"))

        // Amazonas joins the new region from 2021-01; the region cannot go while it has it.
        #expect(try h.call("PUT", "/v1/departments/91/region", json: #"{"region":"amazonia","from":"2021-01"}"#).status == 200)
        #expect(try h.call("DELETE", "/v1/regions/amazonia").status == 409)
        #expect(try h.call("PUT", "/v1/departments/91/region", json: #"{"region":"llano","from":"2021-01"}"#).status == 200)
        #expect(try h.call("DELETE", "/v1/regions/amazonia").status == 204)
        #expect(try !h.call("GET", "/v1/regions").items.contains { $0["code"] as? String == "amazonia" })
        #expect(try h.call("GET", "/v1/regions?include_retired=true").items.contains { $0["code"] as? String == "amazonia" && $0["active"] as? Bool == false })
        // A retired region takes no members, and a name can be reused once the region is gone.
        #expect(try h.call("PUT", "/v1/departments/91/region", json: #"{"region":"amazonia","from":"2021-02"}"#).fieldErrors == ["region"])
        #expect(try h.call("POST", "/v1/regions", json: #"{"code":"amazonia-2","name":"Amazonía"}"#).status == 201)
    }

    @Test("moving to a region that does not exist is a 422 naming region, and nothing is written")
    func unknownRegionWritesNothing() throws {
        let h = try APIHarness()
        let before = try h.rowCount("department_regions") + h.rowCount("entity_regions")
        let r = try h.call("PUT", "/v1/departments/05/region", json: #"{"region":"atlantida","from":"2020-09"}"#)
        #expect(r.status == 422)
        #expect(r.fieldErrors == ["region"])
        #expect(try h.call("PUT", "/v1/entities/05001/region", json: #"{"region":"atlantida","from":"2020-09"}"#).status == 422)
        #expect(try h.call("PUT", "/v1/entities/05001/region", json: #"{"region":"caribe","from":"2020-9"}"#).fieldErrors == ["from"])
        #expect(try h.call("PUT", "/v1/departments/77/region", json: #"{"region":"caribe","from":"2020-09"}"#).status == 404)
        #expect(try h.rowCount("department_regions") + h.rowCount("entity_regions") == before)
    }

    @Test("advisors and viewers get 403 on every territory write, and nothing is written")
    func writesNeedCentral() throws {
        let h = try APIHarness()
        let advisor = try h.person(role: "advisor"), viewer = try h.person(role: "viewer")
        let coordinator = try h.person(role: "coordinator", regions: ["caribe"])
        let writes: [(String, String, String)] = [
            ("POST", "/v1/regions", #"{"code":"x","name":"X"}"#),
            ("PATCH", "/v1/regions/caribe", #"{"name":"X"}"#),
            ("DELETE", "/v1/regions/caribe", ""),
            ("PUT", "/v1/departments/05/region", #"{"region":"caribe","from":"2020-09"}"#),
            ("PUT", "/v1/entities/05001/region", #"{"region":"caribe","from":"2020-09"}"#),
            ("POST", "/v1/plans/gap-2020-f1/enrollments", #"{"from":"2020-03","entities":["05001"]}"#),
            ("POST", "/v1/plans/gap-2020-f1/enrollments/05001/end", #"{"to":"2020-09"}"#),
        ]
        for who in [advisor, viewer, coordinator] {
            for (method, path, body) in writes {
                let r = try h.call(method, path, json: body.isEmpty ? nil : body, token: who.token)
                #expect(r.status == 403, "\(method) \(path)")
            }
        }
        #expect(try h.rowCount("regions") == 6)
        #expect(try h.rowCount("enrollments") == 0)
        #expect(try h.call("GET", "/v1/regions", token: .some(nil)).status == 401)
    }

    // MARK: Enrollments

    @Test("bulk enrollment by codes, department and region reports overlaps as skipped, so repeating it changes nothing")
    func bulkEnrollment() throws {
        let h = try APIHarness()
        let first = try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","entities":["05001","05002"]}"#)
        #expect(first.status == 201)
        #expect(first.json["created"] as? Int == 2)
        let again = try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-09","entities":["05001","05002"]}"#)
        #expect(again.status == 200)
        #expect(again.json["created"] as? Int == 0 && again.json["skipped"] as? Int == 2)
        #expect((again.json["skipped_entities"] as? [[String: Any]])?.first?["overlap_from"] as? String == "2020-07")

        let atlantico = try APIHarness.divipola().filter { $0.department == "08" }.count
        let byDepartment = try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","department":"08"}"#)
        #expect(byDepartment.json["created"] as? Int == atlantico)
        let withGobernacion = try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","department":"08","include_departments":true}"#)
        #expect(withGobernacion.json["created_entities"] as? [String] == ["08"])

        let llano = try APIHarness.divipola().filter { $0.region == "Región Llano" }.count
        let byRegion = try h.call("POST", "/v1/plans/gap-2020-f1/enrollments", json: #"{"from":"2020-03","to":"2020-12","region":"llano"}"#)
        #expect(byRegion.json["created"] as? Int == llano)
        #expect(try h.rowCount("enrollments") == 2 + atlantico + 1 + llano)

        // Plan filter on entities: enrolled at as_of.
        #expect(try h.call("GET", "/v1/entities?plan=gap-2020-f1&as_of=2020-06&limit=1").total == llano)
        #expect(try h.call("GET", "/v1/entities?plan=gap-2020-f1&as_of=2021-01&limit=1").total == 0)
    }

    @Test("unknown codes in a bulk enrollment are a 422 naming each, and nothing is enrolled")
    func bulkEnrollmentUnknownCodes() throws {
        let h = try APIHarness()
        let r = try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","entities":["05001","99999","05002","5001"]}"#)
        #expect(r.status == 422)
        #expect(r.fieldErrors == ["entities[1]", "entities[3]"])
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","department":"77"}"#).fieldErrors == ["department"])
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","region":"atlantida"}"#).fieldErrors == ["region"])
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07"}"#).fieldErrors == ["entities"])
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","to":"2020-06","entities":["05001"]}"#).fieldErrors == ["to"])
        #expect(try h.call("POST", "/v1/plans/nope/enrollments", json: #"{"from":"2020-07","entities":["05001"]}"#).status == 404)
        #expect(try h.rowCount("enrollments") == 0)
    }

    @Test("enrollments of a month are listed with a cursor; ending one closes it and its assignment with it")
    func listAndEndEnrollments() throws {
        let h = try APIHarness()
        let advisor = try h.person(role: "advisor")
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments", json: #"{"from":"2020-07","department":"05"}"#).status == 201)
        #expect(try h.call("POST", "/v1/assignments", json: #"{"plan":"gap-2020-f2","entity":"05001","advisor":\#(advisor.id),"from":"2020-07"}"#).status == 201)
        let page = try h.call("GET", "/v1/plans/gap-2020-f2/enrollments?as_of=2020-08&limit=100")
        #expect(page.total == 125 && page.items.count == 100)
        let cursor = try #require(page.json["next_cursor"] as? String)
        #expect(try h.call("GET", "/v1/plans/gap-2020-f2/enrollments?as_of=2020-08&limit=100&cursor=\(cursor)").items.count == 25)
        #expect(try h.call("GET", "/v1/plans/gap-2020-f2/enrollments?as_of=2020-06").total == 0)

        let ended = try h.call("POST", "/v1/plans/gap-2020-f2/enrollments/05001/end", json: #"{"to":"2020-12"}"#)
        #expect(ended.status == 200)
        #expect(ended.json["to"] as? String == "2020-12" && ended.json["assignments_ended"] as? Int == 1)
        #expect(try h.call("GET", "/v1/plans/gap-2020-f2/enrollments?as_of=2021-01").total == 124)
        let assignment = try h.call("GET", "/v1/assignments?entity=05001").items.first
        #expect(assignment?["to"] as? String == "2020-12")
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments/05001/end", json: #"{"to":"2021-03"}"#).status == 409)
        #expect(try h.call("POST", "/v1/plans/gap-2020-f2/enrollments/05001/end", json: #"{"to":"2020-01"}"#).fieldErrors == ["to"])
        #expect(try h.call("POST", "/v1/plans/gap-2020-f1/enrollments/05001/end", json: #"{"to":"2020-12"}"#).status == 404)
    }
}
