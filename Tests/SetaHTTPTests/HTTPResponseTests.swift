// Tests for HTTPResponse: problem documents.

import Foundation
import Testing
@testable import SetaHTTP

struct HTTPResponseTests {
    @Test("a problem response is RFC 9457 JSON with the status's title")
    func problemIsJSON() throws {
        let response = HTTPResponse.problem(status: 404, detail: "No milestone \"7\"\n")
        #expect(response.status == 404)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        guard case .bytes(let body) = response.body else { Issue.record("not bytes"); return }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["type"] as? String == "about:blank")
        #expect(object["title"] as? String == "Not Found")
        #expect(object["status"] as? Int == 404)
        #expect(object["detail"] as? String == "No milestone \"7\"\n")
    }

    @Test("control characters are escaped in JSON strings")
    func controlCharactersAreEscaped() {
        #expect(HTTPResponse.jsonString("a\u{1}b\\") == #""a\u0001b\\""#)
    }
}
