// TestPostgres and TestDatabase: one PostgreSQL server per test process, a fresh database per test.
import Foundation
import Synchronization
import SetaDatabase

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The PostgreSQL server the tests of this process use.
///
/// With `DATABASE_URL` set, databases are created on that server (its user needs CREATEDB). Otherwise an
/// `EmbeddedPostgres` is started in a fresh folder under /tmp (reachable by the `postgres` user when the
/// tests run as root), with fsync off for speed, and stopped and deleted when the process exits.
public enum TestPostgres {
    /// A conninfo with rights to create and drop databases.
    public static func adminConninfo() throws -> String {
        try TestServer.shared.admin().conninfo
    }

    /// The embedded server, when the tests started one (nil with `DATABASE_URL`).
    public static func embeddedServer() throws -> EmbeddedPostgres? {
        try TestServer.shared.admin().embedded
    }

    /// A pool on the admin conninfo, for creating and dropping databases.
    static func adminPool() throws -> ConnectionPool {
        try TestServer.shared.admin().pool
    }
}

/// A database template prepared once per test process (for instance: migrated and seeded).
public struct TemplateSpec: Sendable {
    /// The name asked for; the real database name adds the process id so concurrent runs never share one.
    public let name: String
    /// The template this one starts as a copy of (nil: an empty database).
    let base: Base?
    let prepare: @Sendable (String) throws -> Void

    /// A box, so a template can name another as its starting point.
    final class Base: Sendable {
        let spec: TemplateSpec
        init(_ spec: TemplateSpec) { self.spec = spec }
    }
}

/// A brand-new database for one test, dropped by `drop()` or when the value goes away.
public final class TestDatabase: Sendable {
    public let name: String
    /// Conninfo of this database (same server and credentials as the admin conninfo).
    public let conninfo: String
    /// A pool on this database.
    public let pool: ConnectionPool

    private let dropped = Atomic(false)

    private init(name: String, conninfo: String, pool: ConnectionPool) {
        self.name = name
        self.conninfo = conninfo
        self.pool = pool
    }

    deinit {
        drop()
    }

    /// A template built by `prepare(conninfo)` the first time a test asks for it in this process, starting
    /// empty or as a copy of `base`. Tests that need it meanwhile wait for it (tests that need another
    /// template do not). Templates are told apart by `name`: give different preparations different names.
    public static func template(named name: String, from base: TemplateSpec? = nil,
                                prepare: @escaping @Sendable (String) throws -> Void) -> TemplateSpec {
        TemplateSpec(name: name, base: base.map(TemplateSpec.Base.init), prepare: prepare)
    }

    /// A template with every migration of the repository's `Schema` folder applied.
    public static let migratedSchema = template(named: "seta_schema") { conninfo in
        try Migrator(directory: schemaDirectory).migrate(conninfo: conninfo)
    }

    /// Creates a uniquely named database, a copy of `template` when given (else of PostgreSQL's
    /// `template1`, i.e. empty).
    public static func make(template: TemplateSpec? = nil, maxConnections: Int = 5) throws -> TestDatabase {
        let admin = try TestPostgres.adminPool()
        let source = try template.map { try TemplateRegistry.shared.databaseName(for: $0, admin: admin) }
        let name = "seta_t_\(getpid())_\(TestServer.shared.nextNumber())"
        var create = "CREATE DATABASE \(quoted(name))"
        if let source { create += " TEMPLATE \(quoted(source))" }
        try admin.withConnection { try $0.execute(SQL(unsafe: create)) }
        let conninfo = try Conninfo.replacingDatabase(in: try TestPostgres.adminConninfo(), with: name)
        return TestDatabase(name: name, conninfo: conninfo, pool: ConnectionPool(conninfo: conninfo, maxConnections: maxConnections))
    }

    /// Closes the pool and drops the database, disconnecting anyone still on it. Safe to call twice.
    public func drop() {
        guard !dropped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pool.close()
        do {
            try TestPostgres.adminPool().withConnection {
                try $0.execute(SQL(unsafe: "DROP DATABASE IF EXISTS \(TestDatabase.quoted(name)) WITH (FORCE)"))
            }
        } catch {
            FileHandle.standardError.write(Data("TestDatabase: could not drop \(name): \(String(reflecting: error))\n".utf8))
        }
    }

    /// The repository root: three levels up from this file (Tests/SetaTestSupport/TestDatabase.swift),
    /// symlinks resolved so a scratch package that links the folder still finds the real repository.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The repository's `Schema` folder of migrations.
    public static var schemaDirectory: URL {
        repositoryRoot.appendingPathComponent("Schema")
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Templates prepared in this process, by name.
private final class TemplateRegistry: Sendable {
    static let shared = TemplateRegistry()

    /// One template's outcome, behind its own lock: the first test to ask prepares it while the others that
    /// need the same template wait; tests that need another (already prepared) template go on meanwhile.
    private final class Slot: Sendable {
        let outcome = Mutex<Result<String, any Error>?>(nil)
    }

    private let slots = Mutex<[String: Slot]>([:])

    func databaseName(for spec: TemplateSpec, admin: ConnectionPool) throws -> String {
        let slot = slots.withLock { slots in
            if let known = slots[spec.name] { return known }
            let made = Slot()
            slots[spec.name] = made
            return made
        }
        return try slot.outcome.withLock { outcome in
            if let known = outcome { return try known.get() }
            let prepared = Result<String, any Error> { try prepare(spec, admin: admin) }
            outcome = prepared
            return try prepared.get()
        }
    }

    private func prepare(_ spec: TemplateSpec, admin: ConnectionPool) throws -> String {
        let name = "\(spec.name)_p\(getpid())"
        let quoted = TestDatabase.quoted(name)
        // The base first (its own lock; a base never names its child, so the order cannot deadlock).
        let base = try spec.base.map { try databaseName(for: $0.spec, admin: admin) }
        try admin.withConnection { connection in
            // A leftover of a crashed run whose pid came round again.
            try connection.execute(SQL(unsafe: "DROP DATABASE IF EXISTS \(quoted) WITH (FORCE)"))
            try connection.execute(SQL(unsafe: "CREATE DATABASE \(quoted)" + (base.map { " TEMPLATE \(TestDatabase.quoted($0))" } ?? "")))
        }
        TestServer.shared.remember(template: name)
        try spec.prepare(try Conninfo.replacingDatabase(in: try TestPostgres.adminConninfo(), with: name))
        // CREATE DATABASE … TEMPLATE fails while anyone is connected to the template: close the door and
        // disconnect whatever the preparation left open.
        try admin.withConnection { connection in
            try connection.execute(SQL(unsafe: "ALTER DATABASE \(quoted) ALLOW_CONNECTIONS false"))
            try connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(name)")
        }
        return name
    }
}

/// The process-wide server: started on first use, stopped at exit.
final class TestServer: Sendable {
    static let shared = TestServer()

    struct Admin {
        let conninfo: String
        let pool: ConnectionPool
        let embedded: EmbeddedPostgres?
        let folder: URL?
    }

    private struct State {
        var admin: Result<Admin, any Error>?
        var counter = 0
        var templates: [String] = []
    }

    private let state = Mutex(State())

    func nextNumber() -> Int {
        state.withLock { state in
            state.counter += 1
            return state.counter
        }
    }

    func remember(template: String) {
        state.withLock { $0.templates.append(template) }
    }

    func admin() throws -> Admin {
        try state.withLock { state in
            if let admin = state.admin { return try admin.get() }
            let outcome = Result<Admin, any Error> { try startServer() }
            state.admin = outcome
            if case .success = outcome { atexit { TestServer.shared.shutDown() } }
            return try outcome.get()
        }
    }

    private static let folderPrefix = "seta-test-postgres-"

    private func startServer() throws -> Admin {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            return Admin(conninfo: url, pool: ConnectionPool(conninfo: url, maxConnections: 4), embedded: nil, folder: nil)
        }
        TestServer.removeOrphans()
        let folder = URL(fileURLWithPath: "/tmp/\(TestServer.folderPrefix)\(getpid())-\(UUID().uuidString.prefix(8))")
        let server = EmbeddedPostgres(
            dataDirectory: folder,
            // Test data is thrown away: durability only costs time here.
            serverSettings: ["fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300"],
            log: { message in
                if ProcessInfo.processInfo.environment["SETA_TEST_LOG"] != nil {
                    FileHandle.standardError.write(Data("[test postgres] \(message)\n".utf8))
                }
            })
        let conninfo = try server.start()
        let admin = try Conninfo.replacingDatabase(in: conninfo, with: "postgres")
        return Admin(conninfo: admin, pool: ConnectionPool(conninfo: admin, maxConnections: 4), embedded: server, folder: folder)
    }

    /// Runs at exit: drops our templates on an external server, or stops and deletes the embedded one.
    func shutDown() {
        let (current, templates) = state.withLock { (try? $0.admin?.get(), $0.templates) }
        guard let current else { return }
        if current.embedded == nil {
            for template in templates {
                _ = try? current.pool.withConnection { connection in
                    try connection.execute(SQL(unsafe: "DROP DATABASE IF EXISTS \(TestDatabase.quoted(template)) WITH (FORCE)"))
                }
            }
        }
        current.pool.close()
        if let server = current.embedded {
            try? server.stop()
            if let folder = server.directory { try? FileManager.default.removeItem(at: folder) }
        }
    }

    /// Clusters left by test processes that died without running their exit handler: stop and delete them.
    private static func removeOrphans() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/tmp") else { return }
        for name in names where name.hasPrefix(folderPrefix) {
            let pidText = name.dropFirst(folderPrefix.count).prefix { $0.isNumber }
            guard let pid = Int32(pidText), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let folder = URL(fileURLWithPath: "/tmp/\(name)")
            try? EmbeddedPostgres(dataDirectory: folder, log: { _ in }).stop()
            try? FileManager.default.removeItem(at: folder)
        }
    }
}
