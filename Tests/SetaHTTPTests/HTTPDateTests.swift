// Tests for HTTPDate: IMF-fixdate formatting.

import Testing
@testable import SetaHTTP

struct HTTPDateTests {
    @Test("a time formats as the RFC 9110 example IMF-fixdate")
    func formatsIMFFixdate() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test("the current date has the IMF-fixdate shape")
    func currentDateShape() {
        let now = HTTPDate.now()
        #expect(now.utf8.count == 29)
        #expect(now.hasSuffix(" GMT"))
    }
}
