// Exports the central team opens as is: the cut workbook, XLSX on every table route, es-CO CSV, Spanish
// headers, fixed group columns, and no text cell a spreadsheet would evaluate as a formula.
import Foundation
import Testing
import SetaDomain
import SetaTestSupport
@testable import SetaAPI

@Suite("Exports (CSV dialects, XLSX, formula neutralization)")
struct ExportTests {
    static let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    /// The routes that answer tables, besides the cut routes (which need a cut id).
    static let tableRoutes = [
        "/v1/plans", "/v1/partners", "/v1/regions", "/v1/departments", "/v1/entities?limit=5",
        "/v1/people?limit=500", "/v1/assignments?plan=gap-2020-f1&as_of=2021-03&limit=5",
        "/v1/plans/gap-2020-f1/enrollments?as_of=2021-03&limit=5", "/v1/locks",
        "/v1/asesorias?period=2021-03&limit=5", "/v1/asesorias/summary?period=2021-03&group=region",
        "/v1/timeliness?plan=gap-2020-f1&period=2021-03",
        "/v1/entities/05001/history?plan=gap-2020-f1",
        "/v1/progress/regions?plan=gap-2020-f1&as_of=2021-03", "/v1/progress/advisors?plan=gap-2020-f1&as_of=2021-03",
        "/v1/progress/partners?plan=gap-2020-f1&as_of=2021-03",
        "/v1/progress/entities?plan=gap-2020-f1&as_of=2021-03&limit=50",
        "/v1/progress/regions/series?plan=gap-2020-f1&from=2021-01&to=2021-03",
        "/v1/rankings/advisors?plan=gap-2020-f1&period=2021-03",
    ]

    /// The demo with a cut of 2021-Q1 ("Corte I trimestre 2021"), shared by every test of the process that only reads.
    static var shared: Result<(APIHarness, Int), any Error> { APIHarness.sharedDemo }

    /// A copy of the demo of its own with a cut of 2021-Q1, for a test that writes; returns the harness and the cut's id.
    static func demoWithCut(label: String = "Corte I trimestre 2021") throws -> (APIHarness, Int) {
        let h = try APIHarness(transport: .socket, template: APIHarness.demoTemplate)
        let r = try h.call("POST", "/v1/cuts", json: #"{"plan":"gap-2020-f1","period":"2021-Q1","label":"\#(label)"}"#)
        guard r.status == 201, let id = r.json["id"] as? Int else { throw TestHTTPClient.Failure(description: "cut: \(r.text)") }
        return (h, id)
    }

    static func sheets(_ body: [UInt8]) throws -> (names: [String], parts: [String: String]) {
        let parts = Dictionary(uniqueKeysWithValues: try ZipReading.entries(body).map { ($0.name, $0.text) })
        let workbook = parts["xl/workbook.xml"] ?? ""
        let names = workbook.components(separatedBy: "<sheet name=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        return (names, parts)
    }

    @Test("a cut's XLSX holds the Ficha, a sheet per group kind and the entities, codes as text and figures as numbers")
    func cutWorkbook_HasFichaGroupsAndEntities() throws {
        let (h, id) = try ExportTests.shared.get()
        let r = try h.call("GET", "/v1/cuts/\(id)/export?format=xlsx")
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == ExportTests.xlsx)
        #expect(r.header("Content-Disposition")?.hasSuffix(".xlsx\"") == true)
        let (names, parts) = try ExportTests.sheets(r.body)
        // One sheet per group set the cut froze (the demo's DEMO sets and the PND regions), by the set's name.
        let sets = try h.database.pool.withConnection { conn in
            try conn.query("SELECT set_name FROM cut_group_sets WHERE cut_id = \(Int64(id)) ORDER BY set_code").rows
                .map { String(try $0.decode("set_name", as: String.self).prefix(31)) }
        }
        #expect(names == ["Ficha", "Nacional", "Regiones", "Departamentos", "Asesores", "Aliados", "Tipos de entidad"] + sets
                + ["Hitos", "Entidades"])
        let ficha = inlineStrings(parts["xl/worksheets/sheet1.xml"]!)
        #expect(ficha.contains("Corte I trimestre 2021") && ficha.contains("2021-03") && ficha.contains("gap-2020-f1"))
        let entities = parts["xl/worksheets/sheet\(names.count).xml"]!
        #expect(entities.contains(#"t="inlineStr"><is><t>05001</t></is>"#), "DANE code as text with its zero")
        #expect(entities.contains(#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#))
        #expect(entities.contains("<autoFilter ref=\"A1:"))
        let header = inlineStrings(entities).prefix(40)
        #expect(header.contains("F1") && header.contains("total") && header.contains("H1"), "\(header)")
        #expect(entities.contains(#" s="1"><v>"#), "figures are number cells with the two-decimal style")
    }

    @Test("Accept with the XLSX media type answers a workbook on every table route")
    func everyTableRoute_AnswersXLSX() throws {
        let (h, id) = try ExportTests.shared.get()
        for route in ExportTests.tableRoutes + ["/v1/cuts", "/v1/cuts/\(id)", "/v1/cuts/\(id)/compare/\(id)"] {
            let r = try h.call("GET", route, headers: [("Accept", ExportTests.xlsx)])
            #expect(r.status == 200, "\(route): \(r.status) \(r.text.prefix(200))")
            #expect(r.header("Content-Type") == ExportTests.xlsx, "\(route)")
            let (names, parts) = try ExportTests.sheets(r.body)
            #expect(names.count == 1, "\(route): \(names)")
            #expect(inlineStrings(parts["xl/worksheets/sheet1.xml"] ?? "").count > 1, "\(route): header and rows")
        }
    }

    @Test("the plain cut CSV keeps its historic columns and decimal points")
    func cutCSV_ByDefault_IsUnchanged() throws {
        let (h, id) = try ExportTests.shared.get()
        let text = try h.call("GET", "/v1/cuts/\(id)/export?format=csv").text
        let lines = text.dropFirst().components(separatedBy: "\r\n")
        #expect(lines[0].hasPrefix("dane_code,name,type,department,region,advisor,partner,F1 "))
        #expect(lines[0].hasSuffix(",total"))
        let medellin = try #require(lines.first { $0.hasPrefix("05001,") })
        #expect(medellin.range(of: #",\d+\.\d\d$"#, options: .regularExpression) != nil, "\(medellin)")
    }

    @Test("locale=es-CO answers semicolons, decimal commas and a BOM; lang=es names columns in Spanish and by plan codes")
    func cutCSV_Colombian_WithSpanishHeaders() throws {
        let (h, id) = try ExportTests.shared.get()
        let json = try h.call("GET", "/v1/cuts/\(id)/export?format=json").json
        let entities = json["entities"] as! [[String: Any]]
        let medellinTotal = try #require(entities.first { $0["code"] as? String == "05001" }?["total"] as? NSNumber)
        let r = try h.call("GET", "/v1/cuts/\(id)/export?format=csv&locale=es-CO&lang=es")
        #expect(Array(r.body.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let lines = r.text.dropFirst().components(separatedBy: "\r\n")
        #expect(lines[0].hasPrefix("codigo_dane;nombre;tipo;codigo_departamento;departamento;codigo_region;region;id_asesor;asesor;aliado;F1;"))
        #expect(lines[0].contains(";total;H1;"))
        let medellin = try #require(lines.first { $0.hasPrefix("05001;") }).components(separatedBy: ";")
        let total = Decimal(string: medellinTotal.description)!.fixedString(scale: 2).replacingOccurrences(of: ".", with: ",")
        #expect(medellin.contains(total), "\(medellin) has \(total)")
    }

    @Test("an unknown or empty locale or lang is a 400 naming the parameter; locale is ignored for a workbook")
    func unknownLocale_IsRefused() throws {
        let h = try APIHarness(transport: .socket)
        let r = try h.call("GET", "/v1/regions?format=csv&locale=fr-FR")
        #expect(r.status == 400)
        #expect(r.text.contains("locale"))
        #expect(try h.call("GET", "/v1/regions?format=csv&lang=de").status == 400)
        #expect(try h.call("GET", "/v1/regions?format=csv&locale=").status == 400)
        // A workbook holds numbers: the CSV dialect does not apply, and a schema-valid request is not refused.
        #expect(try h.call("GET", "/v1/regions?format=xlsx&locale=es-CO").status == 200)
    }

    @Test("the cut's group table has the same columns on every row")
    func cutGroupsCSV_HasFixedColumns() throws {
        let (h, id) = try ExportTests.shared.get()
        let text = try h.call("GET", "/v1/cuts/\(id)", headers: [("Accept", "text/csv")]).text
        let table = try CSVReader.table(text, expectedHeader: nil)
        #expect(table.header.prefix(4) == ["group", "key", "name", "entity_count"])
        #expect(!table.header.contains { $0.contains(".") }, "\(table.header)")
        #expect(table.records.count == 7, "national and six regions")
    }

    @Test("hostile names in every text column of every CSV and XLSX route come out neutralized; negative numbers stay numbers")
    func everyExport_NeutralizesFormulas() throws {
        let hostile = #"=HYPERLINK(\"http://evil.example\",\"clic\")"#
        let (h, _) = try ExportTests.demoWithCut()
        #expect(try h.call("PATCH", "/v1/regions/caribe", json: #"{"name":"\#(hostile)"}"#).status == 200)
        #expect(try h.call("POST", "/v1/partners", json: #"{"code":"EVIL","name":"+cmd|' /C calc'!A0"}"#).status == 201)
        let advisors = try h.call("GET", "/v1/people?role=advisor&limit=1").json["items"] as! [[String: Any]]
        let advisor = advisors[0]["id"] as! Int
        #expect(try h.call("PATCH", "/v1/people/\(advisor)", json: #"{"name":"@SUM(1+1)","partner":"EVIL"}"#).status == 200)
        let cut = try h.call("POST", "/v1/cuts", json: #"{"plan":"gap-2020-f2","period":"2021-Q1","label":"-2+3 \#(hostile)"}"#)
        #expect(cut.status == 201, "\(cut.text)")
        let id = cut.json["id"] as? Int ?? 0
        let routes = ExportTests.tableRoutes.map { $0.replacingOccurrences(of: "gap-2020-f1", with: "gap-2020-f2") }
            + ["/v1/cuts", "/v1/cuts/\(id)", "/v1/cuts/\(id)/export", "/v1/cuts/\(id)/compare/\(id)", "/v1/cuts/\(id)/report",
               "/v1/progress/partners?plan=gap-2020-f2&as_of=2021-03"]
        let triggers: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]
        var neutralized = Set<String>()
        for route in routes {
            let sep = route.contains("?") ? "&" : "?"
            let csv = try h.call("GET", route + sep + "format=csv")
            #expect(csv.status == 200, "\(route)")
            for record in try CSVReader.records(csv.text) {
                for field in record.fields {
                    if field.hasPrefix("'") { neutralized.insert(String(field.dropFirst().prefix(5))) }
                    guard let first = field.first, triggers.contains(first) else { continue }
                    #expect(Double(field) != nil, "\(route) line \(record.line): «\(field)» would be evaluated")
                }
            }
            let book = try h.call("GET", route + sep + "format=xlsx")
            #expect(book.status == 200, "\(route)")
            let (_, parts) = try ExportTests.sheets(book.body)
            for (name, xml) in parts where name.hasPrefix("xl/worksheets/") {
                for text in inlineStrings(xml) {
                    #expect(!(text.first.map(triggers.contains) ?? false), "\(route) \(name): «\(text)» would be evaluated")
                }
            }
        }
        #expect(neutralized.isSuperset(of: ["=HYPE", "+cmd|", "@SUM(", "-2+3 "]), "\(neutralized)")
    }
}
