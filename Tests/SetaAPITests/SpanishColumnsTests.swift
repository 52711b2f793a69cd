// lang=es on every table route: no column comes out in English snake_case, whatever route wrote it.
import Foundation
import Testing
import SetaDatabase
import SetaDomain
import SetaTestSupport
@testable import SetaAPI

@Suite("Spanish column names on every table route", .serialized)
struct SpanishColumnsTests {
    /// A word of an English column name (`mean_progress`); codes (`F1`, `demo-pdet`, `2021-03`) do not look like one.
    static func isEnglishWord(_ part: String) -> Bool {
        part.range(of: "^[a-z]+(_[a-z0-9]+)*$", options: .regularExpression) != nil
    }

    /// The parts of a header cell that are column words: dotted JSON paths part by part, indices (`[0]`) dropped,
    /// nothing after a part that holds data keys (`attr.`, `attributes.`, an audit row's `before.`/`after.`).
    static func columnWords(_ column: String) -> [String] {
        var out: [String] = []
        var afterCodedList = false
        for raw in column.split(separator: ".", omittingEmptySubsequences: false) {
            let part = String(raw.prefix { $0 != "[" })
            // Lists of objects with a code are keyed by it (`phases.F1.progress`, `groups.caribe.name`): a code, not a word.
            if afterCodedList { afterCodedList = false; continue }
            out.append(part)
            if ColumnNames.dataParents.contains(part) { break }
            afterCodedList = Self.codedLists.contains(part)
        }
        return out
    }

    /// Parents whose children are keyed by a code in the generic flattening (JSONToTable).
    static let codedLists: Set<String> = ["phases", "groups", "milestones", "stages", "entities"]

    /// Every query of a GET route under /v1 the contract declares, written out with real ids of the demo.
    static func urls(_ h: APIHarness, cut: Int) throws -> [String: String] {
        let person = try h.person(role: "advisor", partner: nil).id  // with a token, so its token list has a row
        let (assignment, asesoria, report) = try h.database.pool.withConnection { conn in
            (
             try conn.query("SELECT min(id) AS id FROM assignments").rows[0].decode("id", as: Int64.self),
             try conn.query("SELECT min(id) AS id FROM asesorias WHERE modality = 'taller'").rows[0].decode("id", as: Int64?.self)
                ?? conn.query("SELECT min(id) AS id FROM asesorias").rows[0].decode("id", as: Int64.self),
             try conn.query("""
                SELECT plan_code || '/' || entity_code || '/' || to_char(period, 'YYYY-MM') AS p FROM reports
                 WHERE plan_code = 'gap-2020-f1' ORDER BY entity_code, period LIMIT 1
                """).rows[0].decode("p", as: String.self))
        }
        let p = "plan=gap-2020-f1"
        return [
            "GET /v1/version": "/v1/version",
            "GET /v1/plans": "/v1/plans",
            "GET /v1/plans/{}": "/v1/plans/gap-2020-f1",
            "GET /v1/plans/{}/versions": "/v1/plans/gap-2020-f1/versions",
            "GET /v1/entities/{}/progress": "/v1/entities/05001/progress?\(p)&as_of=2021-03",
            "GET /v1/progress/entities": "/v1/progress/entities?\(p)&as_of=2021-03&limit=20",
            "GET /v1/progress/{}": "/v1/progress/set:demo-pdet?\(p)&as_of=2021-03",
            "GET /v1/progress/{}/series": "/v1/progress/regions/series?\(p)&from=2021-01&to=2021-03",
            "GET /v1/rankings/advisors": "/v1/rankings/advisors?\(p)&period=2021-03",
            "GET /v1/cuts": "/v1/cuts",
            "GET /v1/cuts/{}/groups/{}": "/v1/cuts/\(cut)/groups/set:demo-universos",
            "GET /v1/cuts/{}": "/v1/cuts/\(cut)",
            "GET /v1/cuts/{}/export": "/v1/cuts/\(cut)/export",
            "GET /v1/cuts/{}/compare/{}": "/v1/cuts/\(cut)/compare/\(cut)",
            "GET /v1/audit": "/v1/audit",
            "GET /v1/cuts/{}/report": "/v1/cuts/\(cut)/report",
            "GET /v1/group-sets": "/v1/group-sets",
            "GET /v1/group-sets/{}": "/v1/group-sets/demo-universos",
            "GET /v1/group-sets/{}/members": "/v1/group-sets/demo-universos/members?group=A",
            "GET /v1/attributes": "/v1/attributes",
            "GET /v1/cuts/{}/group-sets": "/v1/cuts/\(cut)/group-sets",
            "GET /v1/cuts/{}/group-sets/{}": "/v1/cuts/\(cut)/group-sets/demo-pdet",
            "GET /v1/reports/{}/{}/{}": "/v1/reports/\(report)",
            "GET /v1/entities/{}/history": "/v1/entities/05001/history?\(p)",
            "GET /v1/asesorias": "/v1/asesorias?period=2021-06&modality=taller",  // workshops carry every field
            "GET /v1/asesorias/{}": "/v1/asesorias/\(asesoria)",
            "GET /v1/asesorias/summary": "/v1/asesorias/summary?period=2021-03&group=region",
            "GET /v1/asesorias/series": "/v1/asesorias/series?from=2021-01&to=2021-03",
            "GET /v1/timeliness": "/v1/timeliness?\(p)&period=2021-03",
            "GET /v1/locks": "/v1/locks",
            "GET /v1/locks/events": "/v1/locks/events?\(p)",
            "GET /v1/plans/{}/schedule": "/v1/plans/gap-2020-f1/schedule",
            "GET /v1/plans/{}/schedule/exceptions": "/v1/plans/gap-2020-f1/schedule/exceptions",
            "GET /v1/entities/{}/schedule": "/v1/entities/05001/schedule?\(p)&as_of=2021-03",
            "GET /v1/agenda": "/v1/agenda?as_of=2021-03&person=\(person)",
            "GET /v1/me": "/v1/me",
            "GET /v1/entities": "/v1/entities?limit=20",
            "GET /v1/entities/{}": "/v1/entities/05001?as_of=2021-03",
            "GET /v1/departments": "/v1/departments",
            "GET /v1/regions": "/v1/regions",
            "GET /v1/regions/{}": "/v1/regions/caribe",
            "GET /v1/plans/{}/enrollments": "/v1/plans/gap-2020-f1/enrollments?as_of=2021-03&limit=20",
            "GET /v1/assignments": "/v1/assignments?\(p)&as_of=2021-03&limit=20",
            "GET /v1/assignments/{}": "/v1/assignments/\(assignment)",
            "GET /v1/people": "/v1/people?limit=50",
            "GET /v1/people/{}": "/v1/people/\(person)",
            "GET /v1/people/{}/tokens": "/v1/people/\(person)/tokens",
            "GET /v1/partners": "/v1/partners",
            "GET /v1/partners/{}": "/v1/partners/\(try h.call("GET", "/v1/partners").json["items"].flatMap { ($0 as? [[String: Any]])?.first?["code"] as? String } ?? "x")",
        ]
    }

    @Test("every column any table route writes has a Spanish name: asked with lang=es, no header is left in English snake_case")
    func everyTableRoute_TranslatesEveryColumn() throws {
        let (h, cut) = try GroupingEverywhereTests.shared.get()
        // An audited write, a lock and a schedule exception, so those lists have rows.
        _ = try h.call("POST", "/v1/group-sets", json: #"{"code": "zonas-es", "name": "Zonas", "groups": [{"code": "a", "name": "A"}]}"#)
        _ = try h.call("POST", "/v1/locks", json: #"{"plan": "gap-2020-f1", "period": "2020-01", "reason": "Cierre de prueba"}"#)
        let urls = try Self.urls(h, cut: cut)
        // The enumeration is the contract's: a new table route without a URL here fails this test.
        let routes = QueryParameter.contract.keys.filter { $0.hasPrefix("GET /v1/") }
        #expect(Set(routes).subtracting(urls.keys).isEmpty, "routes without a URL in this test: \(Set(routes).subtracting(urls.keys).sorted())")

        var untranslated: [String: Set<String>] = [:]
        var tables = 0
        for (route, url) in urls.sorted(by: { $0.key < $1.key }) {
            let sep = url.contains("?") ? "&" : "?"
            // The cut export's plain CSV keeps its historic columns: `lang=en` asks for the full layout in English.
            let english = try h.call("GET", url + sep + "format=csv" + (route == "GET /v1/cuts/{}/export" ? "&lang=en" : ""))
            let spanish = try h.call("GET", url + sep + "format=csv&lang=es")
            #expect(english.status == 200 && spanish.status == 200, "\(route): \(english.status) \(english.text.prefix(200))")
            guard english.header("Content-Type")?.hasPrefix("text/csv") == true else { continue }  // no list: JSON
            tables += 1
            let en = Self.header(english.text), es = Self.header(spanish.text)
            #expect(!en.isEmpty, "\(route): a header")
            #expect(en.count == es.count, "\(route): same columns in both languages")
            for (column, translated) in zip(en, es) {
                let words = Self.columnWords(column)
                let missing = words.filter { Self.isEnglishWord($0) && ColumnNames.spanish[$0] == nil }
                if !missing.isEmpty { untranslated[route, default: []].formUnion(missing) }
                // A translated column differs unless every word is the same in both languages (`total`, `plan`).
                if words.allSatisfy({ !Self.isEnglishWord($0) || ColumnNames.spanish[$0] == $0 }) { continue }
                #expect(translated != column, "\(route): «\(column)» came out untranslated")
            }
        }
        #expect(untranslated.isEmpty, "columns without a Spanish name: \(untranslated.mapValues { $0.sorted() }.sorted { $0.key < $1.key })")
        #expect(tables > 30, "most routes answer tables (\(tables))")
    }

    /// The first line of a CSV answer, split (names hold no commas).
    static func header(_ text: String) -> [String] {
        let first = text.drop { $0 == "\u{FEFF}" }.components(separatedBy: "\r\n").first ?? ""
        return first.isEmpty ? [] : first.components(separatedBy: ",")
    }

    @Test("attribute columns keep their code under a Spanish prefix, and data keys after attributes. are never translated")
    func attributeColumns_KeepTheirCode() {
        #expect(ColumnNames.spanish("attr.type") == "atributo.type")
        #expect(ColumnNames.spanish("attributes.type") == "atributos.type")
        #expect(ColumnNames.spanish("phases.F1.progress") == "fases.F1.avance")
        #expect(ColumnNames.spanish("mean_lag") == "rezago_promedio")
        #expect(ColumnNames.spanish("completed_share_F2") == "porcentaje_completo_F2")
    }
}
