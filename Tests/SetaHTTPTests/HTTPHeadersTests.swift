// Tests for HTTPHeaders: order, case-insensitive lookup, replacing, removing, token lists.

import Testing
@testable import SetaHTTP

struct HTTPHeadersTests {
    @Test("lookup ignores the case of the name and returns the first value")
    func lookupIsCaseInsensitive() {
        let headers = HTTPHeaders([("Content-Type", "a"), ("content-type", "b")])
        #expect(headers["CONTENT-TYPE"] == "a")
        #expect(headers.values(for: "Content-type") == ["a", "b"])
        #expect(headers["Missing"] == nil)
    }

    @Test("fields keep the order they were added in")
    func orderIsKept() {
        var headers = HTTPHeaders()
        headers.add("B", "1")
        headers.add("A", "2")
        headers.add("B", "3")
        #expect(headers.map(\.name) == ["B", "A", "B"])
        #expect(headers.map(\.value) == ["1", "2", "3"])
        #expect(headers.count == 3)
    }

    @Test("set replaces every field of that name")
    func setReplacesAll() {
        var headers: HTTPHeaders = ["X-A": "1", "Other": "o"]
        headers.add("x-a", "2")
        headers.set("X-A", "3")
        #expect(headers.values(for: "x-a") == ["3"])
        #expect(headers["Other"] == "o")
    }

    @Test("remove drops every field of that name")
    func removeDropsAll() {
        var headers = HTTPHeaders([("A", "1"), ("a", "2"), ("B", "3")])
        headers.remove("A")
        #expect(!headers.contains("a"))
        #expect(headers.count == 1)
    }

    @Test("a token is found in comma-separated lists across fields, ignoring case")
    func tokensAreFoundInLists() {
        let headers = HTTPHeaders([("Connection", "Upgrade"), ("connection", " keep-alive , Close")])
        #expect(headers.containsToken("close", for: "Connection"))
        #expect(headers.containsToken("KEEP-ALIVE", for: "connection"))
        #expect(!headers.containsToken("clos", for: "Connection"))
    }

    @Test("the description lists names only, never values")
    func descriptionHidesValues() {
        let headers: HTTPHeaders = ["Authorization": "Bearer secret-token"]
        #expect(!headers.description.contains("secret"))
        #expect(headers.description.contains("Authorization"))
    }

    @Test("names that differ only beyond ASCII case are different")
    func nonASCIINamesCompareExactly() {
        #expect(!HTTPHeaders.namesEqual("Ä", "ä"))
        #expect(HTTPHeaders.namesEqual("X-ID", "x-id"))
        #expect(!HTTPHeaders.namesEqual("X-ID", "X-IDS"))
    }
}
