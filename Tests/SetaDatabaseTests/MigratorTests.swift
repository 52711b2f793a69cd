// Tests of Migrator: numeric order, checksums, failures, concurrent instances, and finding Schema.
import Foundation
import SetaDatabase
import SetaTestSupport
import Testing

@Suite("Migrator")
struct MigratorTests {
    @Test("files are applied once each, in numeric order, and recorded with their checksum")
    func appliesInNumericOrder() throws {
        let database = try TestDatabase.make()
        let folder = try migrationFolder([
            "1_region.sql": "CREATE TABLE region (name text PRIMARY KEY);",
            "2_department.sql": """
                CREATE TABLE department (code text PRIMARY KEY, region text REFERENCES region);
                INSERT INTO region VALUES ('Caribe');
                """,
            "10_entity.sql": "CREATE TABLE entity (code text PRIMARY KEY, department text REFERENCES department);",
            "README.md": "not a migration",
        ])
        let migrator = Migrator(directory: folder)
        #expect(try migrator.pending(conninfo: database.conninfo) == ["1_region.sql", "2_department.sql", "10_entity.sql"])
        #expect(try migrator.migrate(conninfo: database.conninfo) == ["1_region.sql", "2_department.sql", "10_entity.sql"])
        #expect(try migrator.migrate(conninfo: database.conninfo) == [])
        #expect(try migrator.pending(conninfo: database.conninfo) == [])

        let rows = try database.pool.withConnection {
            try $0.query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version").rows
        }
        #expect(try rows.map { try $0.decode("version", as: Int.self) } == [1, 2, 10])
        #expect(try rows.map { try $0.decode("name", as: String.self) } == ["1_region.sql", "2_department.sql", "10_entity.sql"])
        // sha256 of the file text, as `printf '…' | sha256sum` prints it.
        #expect(try rows[0].decode("checksum", as: String.self) == "e14077dac815ce44e797b83d8d63a5f4307685511fb5e612ce2eec00a2a30bdd")
        #expect(try rows[0].decode("applied_at", as: Date.self).timeIntervalSinceNow > -60)

        // New files later are applied on the next run only.
        try "ALTER TABLE entity ADD COLUMN name text;".write(to: folder.appendingPathComponent("011_entity_name.sql"), atomically: true, encoding: .utf8)
        #expect(try migrator.pending(conninfo: database.conninfo) == ["011_entity_name.sql"])
        #expect(try migrator.migrate(conninfo: database.conninfo) == ["011_entity_name.sql"])
    }

    @Test("a file changed after it was applied is an error naming the file")
    func changedFileIsAnError() throws {
        let database = try TestDatabase.make()
        let folder = try migrationFolder(["001_init.sql": "CREATE TABLE t (n int);"])
        let migrator = Migrator(directory: folder)
        try migrator.migrate(conninfo: database.conninfo)
        try "CREATE TABLE t (n bigint);".write(to: folder.appendingPathComponent("001_init.sql"), atomically: true, encoding: .utf8)
        let error = #expect(throws: DatabaseError.self) { try migrator.migrate(conninfo: database.conninfo) }
        #expect(error?.kind == .migration)
        #expect(error?.message.contains("001_init.sql") == true)
    }

    @Test("a failing migration is rolled back entirely, names its file, and later files wait")
    func failingMigrationRollsBack() throws {
        let database = try TestDatabase.make()
        let folder = try migrationFolder([
            "001_ok.sql": "CREATE TABLE ok (n int);",
            "002_broken.sql": "CREATE TABLE half (n int);\nINSERT INTO missing VALUES (1);",
            "003_later.sql": "CREATE TABLE later (n int);",
        ])
        let migrator = Migrator(directory: folder)
        let error = #expect(throws: DatabaseError.self) { try migrator.migrate(conninfo: database.conninfo) }
        #expect(error?.message.contains("002_broken.sql") == true)
        #expect(error?.sqlState == "42P01")
        #expect(try migrator.pending(conninfo: database.conninfo) == ["002_broken.sql", "003_later.sql"])
        let tables = try database.pool.withConnection {
            try $0.query("SELECT to_regclass('ok') IS NOT NULL AS ok, to_regclass('half') IS NOT NULL AS half").rows[0]
        }
        #expect(try tables.decode("ok", as: Bool.self))
        #expect(try !tables.decode("half", as: Bool.self))
    }

    @Test("two migrators started together apply each file exactly once")
    func concurrentMigratorsApplyOnce() throws {
        let database = try TestDatabase.make()
        let folder = try migrationFolder([
            "001_slow.sql": "SELECT pg_sleep(0.5); CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);",
            "002_more.sql": "UPDATE counter SET n = n + 1;",
        ])
        let results = Box<[Result<[String], any Error>]>([])
        let group = DispatchGroup()
        for _ in 0..<2 {
            onNewThread(group) {
                let outcome = Result { try Migrator(directory: folder).migrate(conninfo: database.conninfo) }
                results.mutate { $0.append(outcome) }
            }
        }
        group.wait()
        let applied = try results.value.map { try $0.get() }
        #expect(applied.flatMap { $0 }.sorted() == ["001_slow.sql", "002_more.sql"])
        #expect(applied.contains([]))
        let counter = try database.pool.withConnection { try $0.query("SELECT n FROM counter").rows.map { try $0.decode("n", as: Int.self) } }
        #expect(counter == [2])
    }

    @Test("misnamed and duplicate-numbered files are refused before anything runs")
    func badFileNames() throws {
        let misnamed = try migrationFolder(["init.sql": "SELECT 1;"])
        let error = #expect(throws: DatabaseError.self) { try Migrator(directory: misnamed).migrations() }
        #expect(error?.message.contains("init.sql") == true)
        let twins = try migrationFolder(["001_a.sql": "SELECT 1;", "1_b.sql": "SELECT 1;"])
        #expect(throws: DatabaseError.self) { try Migrator(directory: twins).migrations() }
        let missing = URL(fileURLWithPath: "/nonexistent/seta/Schema")
        #expect(throws: DatabaseError.self) { try Migrator(directory: missing).migrations() }
    }

    @Test("the repository's Schema migrations apply to a database made from the migrated template, with none pending")
    func repositorySchemaApplies() throws {
        let database = try TestDatabase.make(template: TestDatabase.migratedSchema)
        let migrator = Migrator(directory: TestDatabase.schemaDirectory)
        #expect(try migrator.pending(conninfo: database.conninfo) == [])
        #expect(try migrator.migrate(conninfo: database.conninfo) == [])
        let recorded = try database.pool.withConnection { try $0.query("SELECT name FROM schema_migrations ORDER BY version").count }
        #expect(recorded == (try migrator.migrations().count))
    }

    @Test("the Schema folder is found from the environment, the current folder, or above the executable")
    func locatesSchemaDirectory() throws {
        let root = try temporaryFolder()
        let schema = root.appendingPathComponent("Schema")
        try FileManager.default.createDirectory(at: schema, withIntermediateDirectories: true)
        let binary = root.appendingPathComponent(".build/debug/seta")
        let elsewhere = URL(fileURLWithPath: "/")
        #expect(Migrator.locateSchemaDirectory(environment: ["SETA_SCHEMA_DIR": "/srv/schema"], currentDirectory: root, executable: binary)?.path == "/srv/schema")
        #expect(Migrator.locateSchemaDirectory(environment: [:], currentDirectory: root, executable: nil)?.path == schema.path)
        #expect(Migrator.locateSchemaDirectory(environment: [:], currentDirectory: elsewhere, executable: binary)?.path == schema.path)
        #expect(Migrator.locateSchemaDirectory(environment: [:], currentDirectory: elsewhere, executable: URL(fileURLWithPath: "/usr/bin/seta")) == nil)
    }
}

/// A fresh folder under this process's scratch folder in /tmp, which is deleted at exit.
func temporaryFolder() throws -> URL {
    let folder = scratchRoot.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

private let scratchRoot: URL = {
    atexit { try? FileManager.default.removeItem(atPath: scratchRootPath()) }
    return URL(fileURLWithPath: scratchRootPath())
}()

private func scratchRootPath() -> String {
    NSTemporaryDirectory() + "seta-db-tests-\(getpid())"
}

/// A fresh folder holding the given files.
func migrationFolder(_ files: [String: String]) throws -> URL {
    let folder = try temporaryFolder()
    for (name, text) in files {
        try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return folder
}
