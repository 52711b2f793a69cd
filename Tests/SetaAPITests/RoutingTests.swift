// Routing and refusal shapes through the app's handler in process: 404, 405 with Allow, 400 for bad paths, 401.
import Foundation
import Testing
@testable import SetaAPI

@Suite("Routing in process")
struct RoutingTests {
    @Test("an unknown path is a 404 problem, answered without a worker")
    func unknownPathIs404() throws {
        let h = APIHarness.sharedReadOnly
        let r = try h.call("GET", "/v1/no-such-thing")
        #expect(r.status == 404)
        let problem = try r.problem()
        #expect(problem.status == 404 && problem.title == "No encontrado")
        #expect(problem.detail.contains("/v1/no-such-thing"))
    }

    @Test("a known path with a wrong method is a 405 whose Allow lists the methods it takes")
    func wrongMethodIs405WithAllow() throws {
        let h = APIHarness.sharedReadOnly
        for (method, path, allowed) in [("DELETE", "/v1/plans", ["GET", "POST"]),
                                        ("PATCH", "/v1/entities/05001", ["GET"]),
                                        ("DELETE", "/v1/entities/05001/history", ["GET"]),
                                        ("PUT", "/v1/people", ["GET", "POST"])] {
            let r = try h.call(method, path)
            #expect(r.status == 405, "\(method) \(path): \(r.status)")
            let allow = Set((r.header("Allow") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(allow.isSuperset(of: allowed), "\(method) \(path): Allow \(r.header("Allow") ?? "none")")
            #expect(try r.problem().status == 405)
        }
    }

    @Test("a path with control characters or an overlong segment is a 400 naming the path")
    func malformedPathsAre400() throws {
        let h = APIHarness.sharedReadOnly
        for path in ["/v1/entities/%00", "/v1/entities/" + String(repeating: "a", count: 201) + "%41"] {
            let r = try h.call("GET", path)
            #expect(r.status == 400, "\(path.prefix(40)): \(r.status)")
            #expect(try r.problem().fields == ["path"])
        }
    }

    @Test("a route that needs a token answers 401 without one, and /healthz answers without one")
    func authenticationIsPerRoute() throws {
        let h = APIHarness.sharedReadOnly
        #expect(try h.call("GET", "/v1/entities", token: .some(nil)).status == 401)
        #expect(try h.call("GET", "/v1/entities", token: .some("not-a-token")).status == 401)
        #expect(try h.call("GET", "/healthz", token: .some(nil)).status == 200)
    }

    @Test("a bad history cursor is a 400 naming it, and a plain revision id, as cursors were before, still pages")
    func historyCursors() throws {
        let h = APIHarness.sharedReadOnly
        let bad = try h.call("GET", "/v1/entities/05001/history?plan=gap-2020-f1&cursor=nope")
        #expect(bad.status == 400)
        #expect(try bad.problem().fields == ["cursor"])
        #expect(try h.call("GET", "/v1/entities/05001/history?plan=gap-2020-f1&cursor=12").status == 200)
    }

    @Test("every answer carries an X-Request-Id, echoing the caller's")
    func requestIdsAreEchoed() throws {
        let h = APIHarness.sharedReadOnly
        let r = try h.call("GET", "/v1/nada", headers: [("X-Request-Id", "abc-123")])
        #expect(r.header("X-Request-Id") == "abc-123")
    }
}
