// A SETA over its own fresh database, with a central-team token: on a real socket (port 0), or called in process.
import Foundation
@testable import SetaAPI
import SetaDatabase
import SetaHTTP
import SetaTestSupport
import Synchronization

/// "Now" for the service under test; tests move it to check timeliness and future periods.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ date: Date) { current = Mutex(date) }
    var now: Date {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
    static func date(_ iso: String) -> Date { ISO8601DateFormatter().date(from: iso)! }
}

final class APIHarness: Sendable {
    /// How `call` reaches the app: by handing it a request value (the default: routing, validation and
    /// answers, no socket), or through a live server on a socket (end to end: framing, chunking,
    /// 100-continue, the event loop). Suites that test the wire ask for `.socket`.
    enum Transport {
        case socket, inProcess

        /// The default: in process, unless `SETA_TEST_TRANSPORT=socket` runs every suite end to end
        /// (to compare wall times, or to check a change against the wire).
        static var standard: Transport {
            ProcessInfo.processInfo.environment["SETA_TEST_TRANSPORT"] == "socket" ? .socket : .inProcess
        }
    }

    let database: TestDatabase
    let app: SetaApp
    let transport: Transport
    let clock: TestClock
    let centralToken: String
    let centralId: Int64
    /// The live server: started with a `.socket` harness, or on first use of `port`/`server` by a test that
    /// talks to the wire itself (raw bytes) from an in-process harness.
    private let serverSlot = Mutex<HTTPServer?>(nil)

    var server: HTTPServer {
        serverSlot.withLock { slot in
            if let running = slot { return running }
            let started = Self.startServer(for: app)
            slot = started
            return started
        }
    }

    var port: Int { server.port }

    /// One in-process harness for a whole test process, for tests that only read or are refused (4xx:
    /// nothing written), so they share one database instead of copying the template each.
    static let sharedReadOnly: APIHarness = {
        do { return try APIHarness(transport: .inProcess) } catch { fatalError("shared harness: \(error)") }
    }()

    static var repositoryRoot: URL { TestDatabase.repositoryRoot }

    /// Migrated and seeded once per test process; each harness copies it into a database of its own.
    static let seededTemplate = TestDatabase.template(named: "seta_seeded") { conninfo in
        _ = try Migrator(directory: repositoryRoot.appendingPathComponent("Schema")).migrate(conninfo: conninfo)
        let pool = ConnectionPool(conninfo: conninfo, maxConnections: 2)
        defer { pool.close() }
        _ = try Seeder.seed(pool, dataDirectory: repositoryRoot.appendingPathComponent("Data"))
    }

    /// The national demo (`Demo.load`, seed `demoSeed`) over the seeded template, loaded once per test process;
    /// suites that need the demo copy it (`template: APIHarness.demoTemplate`) or, when they only read,
    /// share `sharedDemo`.
    static let demoTemplate = TestDatabase.template(named: "seta_demo", from: seededTemplate) { conninfo in
        let pool = ConnectionPool(conninfo: conninfo, maxConnections: 2)
        defer { pool.close() }
        _ = try Demo.load(pool, seed: demoSeed, log: .silent)
    }

    /// The one seed of the tests' demo. No test's expected figure depends on it: they compare the routes with
    /// the pure engine or with the database, or count what the seed does not decide (1155 entities, 170 PDET).
    static let demoSeed: UInt64 = 3

    /// The demo with a cut of 2021-Q1 ("Corte I trimestre 2021", gap-2020-f1), one database for the whole test
    /// process, on a socket: for tests that only read it (or are refused). Returns the harness and the cut's id.
    static let sharedDemo = Result(catching: { () throws -> (APIHarness, Int) in
        let h = try APIHarness(transport: .socket, template: demoTemplate)
        let r = try h.call("POST", "/v1/cuts", json: #"{"plan":"gap-2020-f1","period":"2021-Q1","label":"Corte I trimestre 2021"}"#)
        guard r.status == 201, let id = r.json["id"] as? Int else { throw TestHTTPClient.Failure(description: "cut: \(r.text)") }
        return (h, id)
    })

    init(now: Date = TestClock.date("2021-06-15T12:00:00Z"), log: Log = Log.silent, transport: Transport = .standard,
         template: TemplateSpec = APIHarness.seededTemplate) throws {
        self.transport = transport
        clock = TestClock(now)
        database = try TestDatabase.make(template: template)
        var config = AppConfiguration()
        let clock = self.clock
        config.clock = { clock.now }
        config.log = log
        app = SetaApp(pool: database.pool, configuration: config)
        let central = try Self.person(in: database, clock: clock, role: "central", name: "Equipo Central", email: "central@dnp.gov.co")
        centralId = central.id
        centralToken = central.token
        if transport == .socket { _ = server }
    }

    deinit {
        serverSlot.withLock { $0?.shutdown() }
        database.drop()
    }

    /// A server on port 0, wired as `seta serve` wires it: inline answers, body permission, the server's
    /// own errors logged and counted.
    private static func startServer(for app: SetaApp) -> HTTPServer {
        var http = HTTPServerConfiguration()
        http.port = 0
        http.errorResponseObserver = { app.recordServerError($0) }
        let server = HTTPServer(configuration: http, handler: { app.handle($0) },
                                inlineHandler: { app.handleWithoutBlocking($0) }, bodyPermission: { app.mayReadBody($0) })
        do { try server.start() } catch { fatalError("test server: \(error)") }
        return server
    }

    /// Creates a person straight in the database and issues a token for them.
    func person(role: String, name: String? = nil, email: String? = nil, partner: String? = nil,
                regions: [String] = [], limitedToPartner: Bool = false) throws -> (id: Int64, token: String) {
        try Self.person(in: database, clock: clock, role: role, name: name, email: email, partner: partner,
                        regions: regions, limitedToPartner: limitedToPartner)
    }

    private static func person(in database: TestDatabase, clock: TestClock, role: String, name: String? = nil,
                               email: String? = nil, partner: String? = nil, regions: [String] = [],
                               limitedToPartner: Bool = false) throws -> (id: Int64, token: String) {
        let mail = email ?? "\(role)-\(UUID().uuidString.prefix(8))@example.org"
        return try database.pool.withTransaction { conn in
            let id: Int64 = try conn.query("""
                INSERT INTO people (name, email, role, partner_code, limited_to_partner)
                VALUES (\(name ?? "Persona \(role)"), \(mail), \(role), \(partner), \(limitedToPartner)) RETURNING id
                """).rows[0].decode("id")
            for r in regions {
                try conn.execute("INSERT INTO person_regions (person_id, region_code) VALUES (\(id), \(r))")
            }
            let token = try TestTokens.issue(conn, personId: id, expiresAt: clock.now.addingTimeInterval(86_400 * 365))
            return (id, token)
        }
    }

    /// One request; `token` nil sends no Authorization header, the default is the central team's.
    @discardableResult
    func call(_ method: String, _ path: String, json: String? = nil, token: String?? = .none,
              headers: [(String, String)] = []) throws -> TestResponse {
        var h = headers
        let t: String? = token ?? centralToken
        if let t { h.append(("Authorization", "Bearer \(t)")) }
        if json != nil { h.append(("Content-Type", "application/json")) }
        return try raw(method, path, headers: h, body: Array((json ?? "").utf8))
    }

    /// One request exactly as given (no token added), over this harness's transport.
    func raw(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8] = []) throws -> TestResponse {
        switch transport {
        case .socket:
            return try TestHTTPClient.send(port: port, method: method, path: path, headers: headers, body: body)
        case .inProcess:
            return try InProcessClient.send(app, method: method, path: path, headers: headers, body: body)
        }
    }
}

/// Token issuing for tests goes through the same code path as the service's.
enum TestTokens {
    static func issue(_ conn: Connection, personId: Int64, expiresAt: Date) throws -> String {
        try Auth.issue(conn, personId: personId, label: "test", expiresAt: expiresAt).1
    }
}
