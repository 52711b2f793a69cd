// The strict contract (issue 14): every query parameter openapi.yaml declares is accepted, any other is refused,
// bodies are read as RFC 8259 says, and problems speak one language.
import Foundation
import Testing
@testable import SetaAPI

/// openapi.yaml as plain JSON values (PyYAML through python3, which the contract scripts already need).
enum OpenAPIDocument {
    static func load() throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c",
                             "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout, default=str)",
                             APIHarness.repositoryRoot.appendingPathComponent("openapi.yaml").path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Follows a `#/components/...` reference.
    static func resolve(_ node: Any, in doc: [String: Any]) -> [String: Any] {
        var node = node as? [String: Any] ?? [:]
        while let ref = node["$ref"] as? String {
            var target: Any = doc
            for part in ref.dropFirst(2).split(separator: "/") { target = (target as? [String: Any])?[String(part)] ?? [:] }
            node = target as? [String: Any] ?? [:]
        }
        return node
    }

    /// A value the parameter's schema admits: its example, its first enum value, or one of its type.
    static func sample(_ parameter: [String: Any], in doc: [String: Any]) -> String {
        if let example = parameter["example"] { return "\(example)" }
        var schema = resolve(parameter["schema"] ?? [:], in: doc)
        if let all = schema["allOf"] as? [Any], let first = all.first { schema = resolve(first, in: doc).merging(schema) { a, _ in a } }
        if let values = schema["enum"] as? [Any], let first = values.first { return "\(first)" }
        if let examples = schema["examples"] as? [Any], let first = examples.first { return "\(first)" }
        if let pattern = schema["pattern"] as? String { return pattern.contains("[0-9]{2}$") ? "05" : "2021-06" }
        switch schema["type"] as? String {
        case "integer": return "\(max(schema["minimum"] as? Int ?? 1, 1))"
        case "boolean": return "false"
        default: return "zz"
        }
    }
}

/// In process: these are routing and validation answers, so no socket is needed. Tests that are refused
/// (nothing written) share one database; the others copy their own.
@Suite("Strict contract")
struct StrictContractTests {
    /// Refused as not declared, as opposed to refused for its value or by the handler.
    static func refusedAsUndeclared(_ r: TestResponse, _ name: String) -> Bool {
        r.status == 400 && r.fieldErrors == [name] && r.text.contains("no se admite")
    }

    @Test("every query parameter openapi.yaml declares is accepted, and an undeclared one refused, on every operation")
    func everyOperationAcceptsWhatItDeclares() throws {
        let h = try APIHarness(transport: .inProcess)
        let doc = try OpenAPIDocument.load()
        let paths = try #require(doc["paths"] as? [String: Any])
        var operations = 0
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            let item = item as? [String: Any] ?? [:]
            for method in ["get", "put", "post", "patch", "delete"] {
                guard let op = item[method] as? [String: Any] else { continue }
                operations += 1
                let parameters = ((item["parameters"] as? [Any] ?? []) + (op["parameters"] as? [Any] ?? []))
                    .map { OpenAPIDocument.resolve($0, in: doc) }
                // Path parameters name nothing that exists, so no write lands (and no token is revoked).
                var concrete = path
                for p in parameters where p["in"] as? String == "path" {
                    let schema = OpenAPIDocument.resolve(p["schema"] ?? [:], in: doc)
                    let value = schema["type"] as? String == "integer" ? "999999" : (schema["enum"] as? [String])?.first ?? "zz"
                    concrete = concrete.replacingOccurrences(of: "{\(p["name"] as? String ?? "")}", with: value)
                }
                for p in parameters where p["in"] as? String == "query" {
                    let name = try #require(p["name"] as? String)
                    let value = OpenAPIDocument.sample(p, in: doc)
                    let query = "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)"
                    let r = try h.call(method.uppercased(), "\(concrete)?\(query)")
                    #expect(!Self.refusedAsUndeclared(r, name), "\(method.uppercased()) \(path)?\(query): \(r.text.prefix(300))")
                    #expect(r.status < 500, "\(method.uppercased()) \(path)?\(query): \(r.status)")
                }
                let r = try h.call(method.uppercased(), "\(concrete)?no_declarado=1")
                #expect(Self.refusedAsUndeclared(r, "no_declarado"), "\(method.uppercased()) \(path): \(r.status) \(r.text.prefix(300))")
            }
        }
        #expect(operations > 50)
    }

    @Test("a misspelled, repeated or empty query parameter is a 400 naming it, never someone else's answer")
    func typosAreRefused() throws {
        let h = APIHarness.sharedReadOnly
        let cases: [(String, String)] = [
            ("/v1/entities?name=suan", "name"),
            ("/v1/entities/05001/progress?plan=gap-2020-f1&asof=2021-01", "asof"),
            ("/v1/entities?as_of=2021-06&as_of=2021-07", "as_of"),
            ("/v1/asesorias?period=", "period"),
            ("/v1/locks/events?period=", "period"),
            ("/v1/plans?format=AAA", "format"),
            ("/v1/people?format=AAA", "format"),
            ("/v1/entities?as_of=0000-01", "as_of"),
            ("/v1/plans/gap-2020-f1?version=2147483648", "version"),
            ("/v1/regions?include_retired=yes", "include_retired"),
        ]
        for (path, field) in cases {
            let r = try h.call("GET", path)
            #expect(r.status == 400, "\(path): \(r.status) \(r.text.prefix(200))")
            #expect(r.fieldErrors == [field], "\(path): \(r.text.prefix(200))")
            #expect(r.header("Content-Type") == "application/problem+json")
        }
        let fase2 = try h.call("POST", "/v1/imports/fase2-list?from=", json: nil)
        #expect(fase2.status == 400 && fase2.fieldErrors == ["from"], "\(fase2.text.prefix(200))")
    }

    @Test("a JSON key given twice is a 400 naming it, and nothing is written")
    func duplicateKeysAreRefused() throws {
        let h = APIHarness.sharedReadOnly
        let before = try h.rowCount("regions")
        let r = try h.call("POST", "/v1/regions", json: #"{"code": "dup", "name": "Una", "name": "Otra"}"#)
        #expect(r.status == 400, "\(r.text)")
        #expect(r.fieldErrors == ["name"])
        #expect(try h.rowCount("regions") == before)
    }

    @Test("a JSON text holding U+0000 is 422 naming its field, not a database error")
    func nulInTextIsNamed() throws {
        let h = APIHarness.sharedReadOnly
        let r = try h.call("POST", "/v1/regions", json: #"{"code": "nul", "name": "a\u0000b"}"#)
        #expect(r.status == 422, "\(r.text)")
        #expect(r.fieldErrors == ["name"])
    }

    @Test("valid JSON numbers a field cannot hold are 422 naming the field, not 'invalid JSON'")
    func outOfRangeNumbersNameTheirField() throws {
        let h = APIHarness.sharedReadOnly
        let person = #"{"name": "Número", "role": "advisor", "email": "numero@example.org", "#
        for (number, field) in [("5e-324", "expires_in_days"), ("1E400", "expires_in_days"), ("9223372036854775808", "expires_in_days")] {
            let r = try h.call("POST", "/v1/people/\(h.centralId)/tokens", json: #"{"label": "x", "expires_in_days": \#(number)}"#)
            #expect(r.status == 422, "\(number): \(r.text)")
            #expect(r.fieldErrors == [field], "\(number): \(r.text)")
        }
        let regions = try h.call("POST", "/v1/people", json: person + #""regions": [1E400]}"#)
        #expect(regions.status == 422, "\(regions.text)")
        #expect(regions.fieldErrors == ["regions[0]"], "\(regions.text)")
        // Truly malformed JSON stays a 400.
        #expect(try h.call("POST", "/v1/people", json: person + #""x": 01}"#).status == 400)
        #expect(try h.call("POST", "/v1/people", json: person + #""x": 1.}"#).status == 400)
    }

    @Test("a JSON body declared in a charset other than UTF-8 is 415")
    func otherCharsetsAreRefused() throws {
        let h = try APIHarness(transport: .inProcess)
        let body = Array(#"{"code": "cs", "name": "Charset"}"#.utf8)
        for (contentType, status) in [("application/json; charset=utf-16", 415), ("application/json; charset=ISO-8859-1", 415),
                                      ("application/json; charset=UTF-8", 201)] {
            let r = try h.raw("POST", "/v1/regions", headers: [("Authorization", "Bearer \(h.centralToken)"), ("Content-Type", contentType)],
                              body: body)
            #expect(r.status == status, "\(contentType): \(r.text)")
        }
    }

    @Test("a CSV upload declared in a charset other than UTF-8 is 415 too")
    func csvCharsetsAreChecked() throws {
        let h = APIHarness.sharedReadOnly
        let r = try h.send("POST", "/v1/imports/enrollments", body: "plan,entity,from\n", contentType: "text/csv; charset=ISO-8859-1")
        #expect(r.status == 415, "\(r.text)")
        let utf8 = try h.send("POST", "/v1/imports/enrollments", body: "plan,entity,from\n", contentType: "text/csv; charset=utf-8")
        #expect(utf8.status != 415, "\(utf8.text)")
    }

    @Test("problem titles are in Spanish, like their details")
    func titlesAreSpanish() throws {
        let h = APIHarness.sharedReadOnly
        #expect(try h.call("GET", "/v1/nada").problem().title == "No encontrado")
        #expect(try h.call("GET", "/v1/plans", token: .some(nil)).problem().title == "No autenticado")
        #expect(try h.call("GET", "/v1/plans?x=1").problem().title == "Solicitud incorrecta")
        #expect(try h.call("DELETE", "/v1/plans").problem().title == "Método no permitido")
    }

    @Test("advisor ids are integers in the ranking, and the advisors group is in numeric order of id")
    func advisorIdsAreNumbers() throws {
        let (h, _) = try APIHarness.sharedDemo.get()
        let ranking = try h.call("GET", "/v1/rankings/advisors?plan=gap-2020-f1&period=2021-06")
        let rows = try #require(ranking.json["items"] as? [[String: Any]])
        #expect(!rows.isEmpty)
        #expect(rows.allSatisfy { ($0["advisor"] as? [String: Any])?["id"] is Int }, "\(ranking.text.prefix(300))")
        let groups = try h.call("GET", "/v1/progress/advisors?plan=gap-2020-f1&as_of=2021-06")
        let keys = try #require(groups.json["items"] as? [[String: Any]]).compactMap { $0["key"] as? String }
        let ids = keys.compactMap { Int($0) }
        #expect(ids.count == keys.count && ids.count > 10)
        #expect(ids == ids.sorted(), "\(keys)")
        #expect(ids.last.map { String($0).count } ?? 0 > ids.first.map { String($0).count } ?? 0, "ids of more than one length")
    }
}
