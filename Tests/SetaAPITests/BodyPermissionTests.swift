// Issue 14, HTTP side: a request body is let in only for a known route and a valid token; two Authorization headers are refused.
import Foundation
import Synchronization
import Testing
@testable import SetaAPI
import SetaHTTP

@Suite("Body permission and duplicated credentials")
struct BodyPermissionTests {
    /// Sends only the head of a PUT that asks `Expect: 100-continue` and reads until the server closes.
    /// A server that answered `100 Continue` would wait for the body and this would time out.
    private func headOnly(_ h: APIHarness, path: String, authorization: String?) throws -> TestResponse {
        var raw = "PUT \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\nExpect: 100-continue\r\n"
        if let authorization { raw += "Authorization: \(authorization)\r\n" }
        raw += "\r\n"
        return try TestHTTPClient.parse(TestHTTPClient.exchange(port: h.port, bytes: Array(raw.utf8), timeoutSeconds: 5),
                                        method: "PUT")
    }

    @Test("a body for a route that needs a token gets 401 at once, without 100 Continue, when the token is missing or unknown")
    func bodyWithoutValidTokenIsRefusedBeforeItIsSent() throws {
        let h = try APIHarness(transport: .socket)
        let unknown = "Bearer seta_" + String(repeating: "0", count: 64)
        for authorization in [nil, unknown] {
            let response = try headOnly(h, path: "/v1/reports/gap-2020-f1/05001/2021-05", authorization: authorization)
            #expect(response.status == 401)
            #expect(response.header("Connection") == "close")
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.header("X-Request-Id") != nil)
        }
    }

    @Test("a body for a route that does not exist gets 404 at once, without 100 Continue")
    func bodyForUnknownRouteIsRefusedBeforeItIsSent() throws {
        let h = try APIHarness(transport: .socket)
        let response = try headOnly(h, path: "/v1/nothing-here", authorization: "Bearer \(h.centralToken)")
        #expect(response.status == 404)
        #expect(response.header("Connection") == "close")
    }

    @Test("a body for a known route with a valid token is let in")
    func bodyWithValidTokenIsLetIn() throws {
        let h = try APIHarness(transport: .socket)
        let head = HTTPRequest(method: "PUT", target: "/v1/reports/gap-2020-f1/05001/2021-05",
                               headers: ["Host": "x", "Authorization": "Bearer \(h.centralToken)", "Expect": "100-continue"])
        #expect(h.app.mayReadBody(head) == nil)
    }

    @Test("two Authorization headers get 400 problem+json naming the header, on the wire and in process")
    func twoAuthorizationHeadersAreRefused() throws {
        let h = try APIHarness(transport: .socket)
        let wire = try h.call("GET", "/v1/regions", headers: [("Authorization", "Bearer \(h.centralToken)")])
        #expect(wire.status == 400)
        #expect(wire.header("Content-Type") == "application/problem+json")
        #expect(wire.text.contains("Authorization"))

        var headers = HTTPHeaders([("Host", "x")])
        headers.add("Authorization", "Bearer \(h.centralToken)")
        headers.add("Authorization", "Bearer \(h.centralToken)")
        let inProcess = h.app.handle(HTTPRequest(method: "GET", target: "/v1/regions", headers: headers))
        #expect(inProcess.status == 400)
        guard case .bytes(let body) = inProcess.body else { Issue.record("no body"); return }
        #expect(String(decoding: body, as: UTF8.self).contains("Authorization"))
    }
}

@Suite("One log line per answer")
struct RequestLogTests {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        /// The decoded lines whose request_id is `id`.
        func requests(withId id: String) -> [[String: Any]] {
            lines.withLock { $0 }
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { $0["request_id"] as? String == id }
        }
    }

    @Test("/healthz answers on the event loop with its body, the caller's X-Request-Id and one log line")
    func healthzIsAnsweredAndLoggedOnce() throws {
        let lines = Lines()
        let h = try APIHarness(log: Log(write: { lines.add($0) }), transport: .socket)
        let response = try h.call("GET", "/healthz", token: .some(nil), headers: [("X-Request-Id", "health-1")])
        #expect(response.status == 200)
        #expect(response.text == #"{"status":"ok"}"#)
        #expect(response.header("X-Request-Id") == "health-1")
        let logged = lines.requests(withId: "health-1")
        #expect(logged.count == 1)
        #expect(logged.first?["route"] as? String == "/healthz")
        #expect(logged.first?["status"] as? Int == 200)
    }

    @Test("a request the HTTP layer refuses carries an X-Request-Id, is logged once with it and is counted")
    func serverRefusalIsLoggedAndCounted() throws {
        let lines = Lines()
        let h = try APIHarness(log: Log(write: { lines.add($0) }), transport: .socket)
        let raw = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: bad-1\r\nBad Header: y\r\n\r\n"
        let response = try TestHTTPClient.parse(TestHTTPClient.exchange(port: h.port, bytes: Array(raw.utf8)), method: "GET")
        #expect(response.status == 400)
        #expect(response.header("X-Request-Id") == "bad-1")
        let logged = lines.requests(withId: "bad-1")
        #expect(logged.count == 1)
        #expect(logged.first?["status"] as? Int == 400)
        #expect(logged.first?["route"] as? String == "(http)")
        let metrics = try h.call("GET", "/metrics", token: .some(nil)).text
        #expect(metrics.contains(#"seta_http_requests_total{route="(http)",method="GET",status="400"} 1"#))
    }
}
