// Tests for HTTPRequest: target splitting and keep-alive wishes.

import Testing
@testable import SetaHTTP

struct HTTPRequestTests {
    @Test("the path and query are split from the raw target without decoding")
    func targetIsSplit() {
        let request = HTTPRequest(method: "GET", target: "/a%2Fb/c?x=1&y=%20")
        #expect(request.path == "/a%2Fb/c")
        #expect(request.query == "x=1&y=%20")
    }

    @Test("changing the target updates the path and query")
    func targetChangeUpdatesPath() {
        var request = HTTPRequest(method: "GET", target: "/a?b")
        request.target = "/c"
        #expect(request.path == "/c")
        #expect(request.query == nil)
    }

    @Test("an absolute-form target yields its path and query")
    func absoluteFormIsSplit() {
        #expect(HTTPRequest(method: "GET", target: "http://h:1/p?q").path == "/p")
        #expect(HTTPRequest(method: "GET", target: "http://h:1/p?q").query == "q")
        #expect(HTTPRequest(method: "GET", target: "http://h?q").path == "/")
        #expect(HTTPRequest(method: "GET", target: "http://h?q").query == "q")
    }

    @Test("HTTP/1.1 keeps alive unless Connection: close, HTTP/1.0 only with Connection: keep-alive")
    func keepAliveFollowsVersionAndConnection() {
        #expect(HTTPRequest(method: "GET", target: "/").wantsKeepAlive)
        #expect(!HTTPRequest(method: "GET", target: "/", headers: ["Connection": "close"]).wantsKeepAlive)
        #expect(!HTTPRequest(method: "GET", target: "/", version: .http1_0).wantsKeepAlive)
        #expect(HTTPRequest(method: "GET", target: "/", version: .http1_0, headers: ["Connection": "Keep-Alive"]).wantsKeepAlive)
    }
}
