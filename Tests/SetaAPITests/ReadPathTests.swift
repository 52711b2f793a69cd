// The dashboard read path under load and across hints: saturation is a 503 with Retry-After, a revoked token or a
// new catalog version is seen at the very next guarded read, and a read right after a write shows the write.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaHTTP
import SetaTestSupport

@Suite("Dashboard read path", .serialized)
struct ReadPathTests {
    static func get(_ app: SetaApp, _ target: String, token: String) -> HTTPResponse {
        app.handle(HTTPRequest(method: "GET", target: target, headers: HTTPHeaders([("Authorization", "Bearer \(token)")])))
    }

    /// The group keys of a roll-up answer.
    static func keys(_ response: HTTPResponse) -> [String] {
        guard case .bytes(let body) = response.body,
              let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return [] }
        return (json["items"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
    }

    @Test("a request that finds no free database connection in time is answered 503 with Retry-After, never 500")
    func saturationIsA503() throws {
        let h = try APIHarness()
        // A pool of one connection, held by someone else for longer than a request may wait.
        let pool = ConnectionPool(conninfo: h.database.conninfo, maxConnections: 1, acquireTimeout: 0.2)
        defer { pool.close() }
        var config = AppConfiguration()
        config.log = Log.silent
        let app = SetaApp(pool: pool, configuration: config)
        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? pool.withConnection { _ in held.signal(); release.wait() }
        }
        held.wait()
        let response = Self.get(app, "/v1/progress/regions?plan=gap-2020-f1&as_of=2021-06", token: h.centralToken)
        release.signal()
        #expect(response.status == 503)
        #expect(response.headers["Retry-After"] != nil)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(pool.waitStats.timeouts == 1)
    }

    @Test("a token revoked after a guarded read is refused at the next one, on an app that still holds its hint")
    func revocationIsSeenAtTheNextRead() throws {
        let h = try APIHarness()
        let person = try h.person(role: "central", name: "Lectora", email: "lectora@dnp.gov.co")
        let target = "/v1/progress/national?plan=gap-2020-f1&as_of=2021-06"
        #expect(Self.get(h.app, target, token: person.token).status == 200)
        #expect(Self.get(h.app, target, token: person.token).status == 200)  // from the hint now
        try h.database.pool.withConnection { conn in
            try conn.execute("UPDATE tokens SET revoked_at = now() WHERE person_id = \(person.id)")
        }
        #expect(Self.get(h.app, target, token: person.token).status == 401)
    }

    @Test("a coordinator whose regions change sees the new scope at the next guarded read")
    func scopeChangesAreSeenAtTheNextRead() throws {
        let h = try APIHarness()
        try h.database.pool.withConnection { conn in
            try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) SELECT 'gap-2020-f1', code, DATE '2020-01-01' FROM entities")
        }
        let person = try h.person(role: "coordinator", name: "Coordinadora", email: "coord@dnp.gov.co", regions: ["caribe"])
        let target = "/v1/progress/regions?plan=gap-2020-f1&as_of=2021-06"
        let before = Self.get(h.app, target, token: person.token)
        #expect(before.status == 200)
        #expect(Self.keys(before) == ["caribe"])
        try h.database.pool.withConnection { conn in
            try conn.execute("UPDATE person_regions SET region_code = 'pacifico' WHERE person_id = \(person.id)")
        }
        let after = Self.get(h.app, target, token: person.token)
        #expect(after.status == 200)
        #expect(Self.keys(after) == ["pacifico"])
    }

    @Test("a scoped reader's whole-country group is named by the scope, never Nacional; the central team keeps Nacional")
    func scopedGroupsAreNamedByTheScope() throws {
        let h = try APIHarness()
        try h.database.pool.withConnection { conn in
            try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) SELECT 'gap-2020-f1', code, DATE '2020-01-01' FROM entities")
        }
        let advisor = try h.person(role: "advisor", name: "Asesora", email: "asesora@dnp.gov.co")
        try h.database.pool.withConnection { conn in
            try conn.execute("""
                INSERT INTO assignments (plan_code, entity_code, person_id, from_period)
                SELECT 'gap-2020-f1', code, \(advisor.id), DATE '2020-01-01' FROM entities ORDER BY code LIMIT 3
                """)
        }
        let coordinator = try h.person(role: "coordinator", name: "Coordinador", email: "coordinador@dnp.gov.co", regions: ["caribe"])
        func national(_ token: String) throws -> (key: String, name: String, count: Int) {
            let r = Self.get(h.app, "/v1/progress/national?plan=gap-2020-f1&as_of=2021-06", token: token)
            guard case .bytes(let body) = r.body, let json = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                  let item = (json["items"] as? [[String: Any]])?.first else { return ("", "", 0) }
            return (item["key"] as? String ?? "", item["name"] as? String ?? "", item["entity_count"] as? Int ?? 0)
        }
        let mine = try national(advisor.token)
        #expect(mine.key == "scope" && mine.name == "Mis entidades" && mine.count == 3)
        let region = try national(coordinator.token)
        #expect(region.key == "scope" && region.name == "Región Caribe")
        let everyone = try national(h.centralToken)
        #expect(everyone.key == "national" && everyone.name == "Nacional" && everyone.count == 1_155)
    }
}
