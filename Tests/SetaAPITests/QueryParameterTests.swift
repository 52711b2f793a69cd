// QueryParameter.check on its own: what a declared parameter admits, without a server.
import Foundation
import Testing
@testable import SetaAPI

@Suite("Query parameter check")
struct QueryParameterTests {
    static let declared = [
        QueryParameter(name: "as_of", kind: .string, pattern: "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"),
        QueryParameter(name: "format", kind: .string, values: ["json", "csv"]),
        QueryParameter(name: "limit", kind: .integer, minimum: 1, maximum: 1000),
        QueryParameter(name: "dry_run", kind: .boolean),
        QueryParameter(name: "q", kind: .string, minLength: 1, maxLength: 5),
    ]

    /// The parameter a refusal names, or nil when the query passes.
    static func refused(_ items: [(String, String)]) -> String? {
        do {
            try QueryParameter.check(items, declared: declared)
            return nil
        } catch let e as APIError {
            #expect(e.status == 400)
            return e.errors.first?.field
        } catch {
            return "?"
        }
    }

    @Test("declared parameters with admissible values pass")
    func admissibleValuesPass() {
        #expect(Self.refused([("as_of", "2021-06"), ("format", "csv"), ("limit", "1000"), ("dry_run", "false"), ("q", "ñandú")]) == nil)
        #expect(Self.refused([]) == nil)
    }

    @Test("an undeclared, repeated or empty parameter is refused by name")
    func shapeIsChecked() {
        #expect(Self.refused([("asof", "2021-06")]) == "asof")
        #expect(Self.refused([("limit", "5"), ("limit", "6")]) == "limit")
        #expect(Self.refused([("as_of", "")]) == "as_of")
        #expect(Self.refused([("q", "a\u{7}b")]) == "q")
    }

    @Test("values outside the declaration are refused by name")
    func valuesAreChecked() {
        #expect(Self.refused([("as_of", "0000-01")]) == "as_of")
        #expect(Self.refused([("as_of", "2021-13")]) == "as_of")
        #expect(Self.refused([("format", "AAA")]) == "format")
        #expect(Self.refused([("limit", "0")]) == "limit")
        #expect(Self.refused([("limit", "2147483648")]) == "limit")
        #expect(Self.refused([("limit", "1e3")]) == "limit")
        #expect(Self.refused([("dry_run", "yes")]) == "dry_run")
        #expect(Self.refused([("q", "seisss")]) == "q")
    }

    @Test("every route the app registers takes its parameters from the generated contract")
    func routesUseTheContract() throws {
        let declared = QueryParameter.declared(method: "GET", pattern: "/v1/entities/{code}/progress")
        #expect(declared.map(\.name) == ["plan", "as_of", "cut", "format", "locale", "lang"])
        #expect(QueryParameter.declared(method: "GET", pattern: "/v1/no-such-route").isEmpty)
    }
}
