// Names as people write them over the API (issue 15 item 5): the shipped data, q= search, list imports with suggestions.
import Foundation
import Testing
@testable import SetaAPI
@testable import SetaDomain
import SetaDatabase

@Suite("Names as people write them")
struct EntityNamesTests {
    @Test("entity_names holds exactly the rows of Data/divipola-nombres-alternativos.csv, keyed as search keys")
    func tableEqualsData() throws {
        let h = APIHarness.sharedReadOnly
        let text = try String(contentsOf: APIHarness.repositoryRoot.appendingPathComponent("Data/divipola-nombres-alternativos.csv"), encoding: .utf8)
        let rows = try CSVReader.parse(text, expectedHeader: ["dane_code", "name", "kind", "source"])
        let stored = try h.database.pool.withConnection { conn in
            try conn.query("SELECT entity_code, name, search_key, kind, source FROM entity_names ORDER BY entity_code, search_key").rows.map {
                [try $0.decode("entity_code", as: String.self), try $0.decode("name", as: String.self), try $0.decode("search_key", as: String.self),
                 try $0.decode("kind", as: String.self), try $0.decode("source", as: String.self)]
            }
        }
        let expected = rows.map { [$0[0], $0[1], NameNormalizer.searchKey($0[1]), $0[2], $0[3]] }
            .sorted { ($0[0], $0[2]) < ($1[0], $1[2]) }
        #expect(stored == expected)
        // Every code is a real entity.
        #expect(try h.count("SELECT count(*) FROM entity_names n WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.code = n.entity_code)") == 0)
    }

    @Test("q= finds an entity by a long, historical or seat name")
    func search() throws {
        let h = APIHarness.sharedReadOnly
        for (q, code) in [("leiva", "15407"), ("CHIBOLO", "47170"), ("Santiago%20de%20Cali", "76001"), ("la%20hormiga", "86865"), ("Mompox", "13468")] {
            let r = try h.call("GET", "/v1/entities?q=\(q)")
            #expect(r.status == 200)
            #expect(r.items.contains { $0["code"] as? String == code }, "q=\(q): \(r.text.prefix(300))")
        }
        // The official name still works as before.
        #expect(try h.call("GET", "/v1/entities?q=leyva").items.contains { $0["code"] as? String == "15407" })
    }

    @Test("a name list resolves long and historical names, and leaves a misspelt one unresolved with suggestions")
    func listImport() throws {
        let h = try APIHarness()
        let csv = "municipio,departamento\nVILLA DE LEIVA,BOYACA\nCHIBOLO,MAGDALENA\nCHIBOLA,MAGDALENA\n"
        let r = try h.send("POST", "/v1/imports/fase2-list", body: csv, contentType: "text/csv")
        #expect(r.status == 200, "\(r.text)")
        let rows = r.json["rows"] as? [[String: Any]] ?? []
        #expect(rows.count == 3)
        #expect(rows.first?["code"] as? String == "15407")
        #expect(rows.dropFirst().first?["code"] as? String == "47170")
        let miss = rows.last ?? [:]
        #expect(miss["status"] as? String == "unresolved")
        #expect(miss["code"] == nil)
        let suggestions = (miss["suggestions"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(suggestions.first == "47170", "\(miss)")
    }
}
