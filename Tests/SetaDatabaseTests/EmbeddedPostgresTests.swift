// Tests of EmbeddedPostgres: create, start, stop, restart, adopt a running server, recover a pool.
import Foundation
import SetaDatabase
import SetaTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("EmbeddedPostgres")
struct EmbeddedPostgresTests {
    @Test("a cluster starts, stops and restarts on the same port with its data kept")
    func startStopRestart() throws {
        let folder = try temporaryFolder().appendingPathComponent("cluster")
        let messages = Box<[String]>([])
        let server = EmbeddedPostgres(dataDirectory: folder) { message in messages.mutate { $0.append(message) } }
        defer {
            try? server.stop()
            try? FileManager.default.removeItem(at: folder.deletingLastPathComponent())
        }
        let conninfo = try server.start()
        #expect(conninfo.hasPrefix("postgresql://seta@127.0.0.1:"))
        #expect(conninfo.hasSuffix("/seta"))
        #expect(server.isRunning)
        try withConnection(conninfo) { connection in
            try connection.execute("CREATE TABLE kept (note text)")
            try connection.execute("INSERT INTO kept VALUES (\("antes del reinicio"))")
            let settings = try connection.query("SELECT current_setting('fsync') AS fsync, current_setting('server_encoding') AS encoding").rows[0]
            #expect(try settings.decode("fsync", as: String.self) == "on")
            #expect(try settings.decode("encoding", as: String.self) == "UTF8")
        }

        // A second instance on the same folder adopts the running server.
        let twin = EmbeddedPostgres(dataDirectory: folder) { message in messages.mutate { $0.append(message) } }
        #expect(try twin.start() == conninfo)
        #expect(messages.value.contains { $0.contains("already running") })

        try server.stop()
        #expect(!server.isRunning)
        let refused = #expect(throws: DatabaseError.self) { try Connection(conninfo: conninfo) }
        #expect(refused?.kind == .connectionFailed)
        try server.stop()  // stopping a stopped server is fine

        // A postmaster.pid left by a crash does not block the next start.
        let dataDirectory = try #require(server.directory).appendingPathComponent("pgdata")
        try "999999\n\(dataDirectory.path)\n0\n\(server.port ?? 0)\n".write(
            to: dataDirectory.appendingPathComponent("postmaster.pid"), atomically: true, encoding: .utf8)

        #expect(try server.start() == conninfo)
        #expect(messages.value.contains { $0.contains("stale") })
        try withConnection(conninfo) { connection in
            let note = try connection.query("SELECT note FROM kept").rows[0]
            #expect(try note.decode("note", as: String.self) == "antes del reinicio")
        }
    }

    @Test("a pool keeps working after the server is stopped and started again, without being recreated")
    func poolRecoversAfterRestart() throws {
        let folder = try temporaryFolder().appendingPathComponent("cluster")
        // fsync off (and so initdb --no-sync): this test is about the pool, not durability.
        let server = EmbeddedPostgres(dataDirectory: folder, serverSettings: ["fsync": "off"]) { _ in }
        defer {
            try? server.stop()
            try? FileManager.default.removeItem(at: folder.deletingLastPathComponent())
        }
        let conninfo = try server.start()
        let pool = ConnectionPool(conninfo: conninfo, maxConnections: 3, acquireTimeout: 2)
        defer { pool.close() }
        try pool.withConnection { try $0.execute("CREATE TABLE progress (entity text, value numeric)") }
        fill(pool, with: 3)
        #expect(pool.stats.idle == 3)

        try server.stop()
        let down = #expect(throws: DatabaseError.self) {
            try pool.withTransaction { connection in
                try connection.execute("INSERT INTO progress VALUES (\("05001"), \(Decimal(20)))")
            }
        }
        #expect(down?.isUnavailable == true, "\(String(reflecting: down))")
        #expect(!pool.ping())
        #expect(pool.stats.inUse == 0)

        #expect(try server.start() == conninfo)
        try pool.withTransaction { connection in
            try connection.execute("INSERT INTO progress VALUES (\("05001"), \(Decimal(string: "20.00")!))")
        }
        let stored = try pool.withConnection { try $0.query("SELECT value FROM progress").rows.map { try $0.decode("value", as: Decimal.self) } }
        #expect(stored == [20])
        #expect(pool.ping())
    }

    @Test("as root, a folder the postgres user cannot reach is swapped for one under /var/tmp and the log says so",
          .enabled(if: geteuid() == 0, "only root needs the fallback"))
    func unreachableFolderFallsBack() throws {
        let closed = try temporaryFolder()
        #expect(chmod(closed.path, 0o700) == 0)
        let requested = closed.appendingPathComponent("cluster")
        let messages = Box<[String]>([])
        let server = EmbeddedPostgres(dataDirectory: requested, serverSettings: ["fsync": "off"]) { message in
            messages.mutate { $0.append(message) }
        }
        defer {
            try? server.stop()
            if let used = server.directory { try? FileManager.default.removeItem(at: used) }
            try? FileManager.default.removeItem(at: closed)
        }
        let conninfo = try server.start()
        let used = try #require(server.directory)
        #expect(used.path.hasPrefix("/var/tmp/seta-postgres-") || used.path.hasPrefix("/tmp/seta-postgres-"))
        #expect(messages.value.contains { $0.contains(used.path) && $0.contains(requested.path) })
        #expect(messages.value.contains { $0.contains("runuser") })
        try withConnection(conninfo) { connection in
            let user = try connection.query("SELECT current_user AS who").rows[0].decode("who", as: String.self)
            #expect(user == "seta")
        }
    }

    @Test("without PostgreSQL programs the error says which Debian package to install")
    func missingBinaries() throws {
        let error = #expect(throws: DatabaseError.self) {
            try EmbeddedPostgres.locateBinaries(environment: ["PATH": "/nonexistent"], installRoot: "/nonexistent")
        }
        #expect(error?.kind == .embeddedServer)
        #expect(error?.message.contains("apt-get install -y postgresql") == true)
        let wrong = #expect(throws: DatabaseError.self) {
            try EmbeddedPostgres.locateBinaries(environment: ["SETA_PG_BIN": "/usr/bin"])
        }
        #expect(wrong?.message.contains("SETA_PG_BIN") == true)
        #expect(try EmbeddedPostgres.locateBinaries(environment: [:]).path.hasSuffix("/bin"))
    }

    @Test("the test server is shared by the whole process and hands out separate databases")
    func testDatabasesAreSeparate() throws {
        let first = try TestDatabase.make()
        let second = try TestDatabase.make()
        #expect(first.name != second.name)
        try first.pool.withConnection { try $0.execute("CREATE TABLE only_here (n int)") }
        let visible = try second.pool.withConnection {
            try $0.query("SELECT to_regclass('only_here') IS NOT NULL AS present").rows[0].decode("present", as: Bool.self)
        }
        #expect(!visible)
        let name = first.name
        first.drop()
        let exists = try Connection(conninfo: try TestPostgres.adminConninfo())
        defer { exists.close() }
        #expect(try exists.query("SELECT 1 FROM pg_database WHERE datname = \(name)").isEmpty)
    }

    @Test("a template is prepared once and every database made from it starts with its contents")
    func templatesArePreparedOnce() throws {
        let preparations = Counter()
        let template = TestDatabase.template(named: "seta_test_template") { conninfo in
            preparations.next()
            let pool = ConnectionPool(conninfo: conninfo, maxConnections: 2)
            // Left open on purpose: the template must still be usable.
            try pool.withConnection { try $0.executeScript(unsafe: "CREATE TABLE seeded (n int); INSERT INTO seeded VALUES (7)") }
        }
        let databases = try (0..<3).map { _ in try TestDatabase.make(template: template) }
        for database in databases {
            let value = try database.pool.withConnection { try $0.query("SELECT n FROM seeded").rows[0].decode("n", as: Int.self) }
            #expect(value == 7)
        }
        #expect(preparations.value == 1)
    }
}

private func withConnection(_ conninfo: String, _ body: (Connection) throws -> Void) throws {
    let connection = try Connection(conninfo: conninfo)
    defer { connection.close() }
    try body(connection)
}
