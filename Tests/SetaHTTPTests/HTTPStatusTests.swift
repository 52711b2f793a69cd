// Tests for HTTPStatus: reason phrases.

import Testing
@testable import SetaHTTP

struct HTTPStatusTests {
    @Test("registered codes have their RFC 9110 reason phrase")
    func registeredPhrases() {
        #expect(HTTPStatus.reasonPhrase(for: 200) == "OK")
        #expect(HTTPStatus.reasonPhrase(for: 413) == "Content Too Large")
        #expect(HTTPStatus.reasonPhrase(for: 431) == "Request Header Fields Too Large")
        #expect(HTTPStatus.reasonPhrase(for: 505) == "HTTP Version Not Supported")
    }

    @Test("unregistered codes get a phrase for their class")
    func unregisteredPhrases() {
        #expect(HTTPStatus.reasonPhrase(for: 299) == "Success")
        #expect(HTTPStatus.reasonPhrase(for: 499) == "Client Error")
    }
}
