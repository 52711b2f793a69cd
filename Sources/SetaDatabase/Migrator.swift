// Migrator: applies Schema/NNN_name.sql files once each, in order, under an advisory lock.
import Foundation

/// Applies the numbered SQL files of a directory (`001_init.sql`, `002_reports.sql`, …) in numeric order,
/// each in its own transaction, and records them in `schema_migrations` with a SHA-256 of their text.
///
/// The whole run holds `pg_advisory_lock(Migrator.advisoryLockKey)` on its own session, so two instances
/// starting together do not race: the second waits, then finds nothing left to do. A file that was
/// already applied and has changed since is an error naming the file; fix it with a new migration.
/// A file must not contain its own BEGIN/COMMIT, nor statements that cannot run in a transaction
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
public struct Migrator: Sendable {
    /// "SETA" in ASCII: the advisory lock key every migrator of this service takes.
    public static let advisoryLockKey: Int64 = 0x5345_5441

    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// One migration file.
    public struct Migration: Sendable, Equatable {
        public let version: Int
        /// The file name, e.g. `001_init.sql`; used in `schema_migrations.name` and in errors.
        public let name: String
        public let text: String
    }

    /// The migration files in the directory, in numeric order. Other files (README.md) are ignored; a
    /// `.sql` file without a `NNN_` prefix or two files with one number are errors.
    public func migrations() throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw DatabaseError(.migration, message: "cannot read the migrations directory \(directory.path): \(error)")
        }
        var found: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            let prefix = name.prefix { $0.isASCII && $0.isNumber }
            guard !prefix.isEmpty, name.dropFirst(prefix.count).first == "_", let version = Int(prefix) else {
                throw DatabaseError(.migration, message: "migration file \(name) is not named NNN_name.sql")
            }
            let url = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path),
                  let text = String(data: data, encoding: .utf8)
            else {
                throw DatabaseError(.migration, message: "cannot read migration file \(name) as UTF-8")
            }
            if let twin = found.first(where: { $0.version == version }) {
                throw DatabaseError(.migration, message: "migration files \(twin.name) and \(name) share version \(version)")
            }
            found.append(Migration(version: version, name: name, text: text))
        }
        return found.sorted { $0.version < $1.version }
    }

    /// Applies what is not applied yet and returns the names of the files it applied.
    @discardableResult
    public func migrate(conninfo: String) throws -> [String] {
        let files = try migrations()
        let connection = try Connection(conninfo: conninfo)
        defer { connection.close() }
        // Closing the session releases the lock too, should anything below throw.
        try connection.execute("SELECT pg_advisory_lock(\(Migrator.advisoryLockKey))")
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock(\(Migrator.advisoryLockKey))") }
        try connection.executeScript(unsafe: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version int PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = try appliedChecksums(connection)
        var appliedNow: [String] = []
        for file in files {
            let checksum = try Migrator.checksum(of: file.text, on: connection)
            if let recorded = applied[file.version] {
                guard recorded.checksum == checksum else {
                    throw DatabaseError(
                        .migration,
                        message: "migration \(file.name) changed after it was applied as \(recorded.name) "
                            + "(checksum \(recorded.checksum), file now \(checksum)); add a new migration instead")
                }
                continue
            }
            do {
                try connection.execute("BEGIN")
                try connection.executeScript(unsafe: file.text)
                try connection.execute("""
                    INSERT INTO schema_migrations (version, name, checksum) VALUES (\(file.version), \(file.name), \(checksum))
                    """)
                try connection.commit(file: #fileID, line: #line)
            } catch let error as DatabaseError {
                _ = try? connection.execute("ROLLBACK")
                var failure = error
                failure.message = "migration \(file.name) failed: \(error.serverMessage ?? error.message)"
                throw failure
            }
            appliedNow.append(file.name)
        }
        return appliedNow
    }

    /// The names of the files not applied yet (for a readiness check); all of them on an empty database.
    public func pending(conninfo: String) throws -> [String] {
        let files = try migrations()
        let connection = try Connection(conninfo: conninfo)
        defer { connection.close() }
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        guard try exists.first?.decode("present", as: Bool.self) == true else { return files.map(\.name) }
        let applied = try appliedChecksums(connection)
        return files.filter { applied[$0.version] == nil }.map(\.name)
    }

    private func appliedChecksums(_ connection: Connection) throws -> [Int: (name: String, checksum: String)] {
        var applied: [Int: (name: String, checksum: String)] = [:]
        for row in try connection.query("SELECT version, name, checksum FROM schema_migrations").rows {
            applied[try row.decode("version")] = (try row.decode("name"), try row.decode("checksum"))
        }
        return applied
    }

    /// SHA-256 (hex) of the file text, computed by PostgreSQL so the project needs no crypto code.
    static func checksum(of text: String, on connection: Connection) throws -> String {
        let result = try connection.query("SELECT encode(sha256(convert_to(\(text), 'UTF8')), 'hex') AS checksum")
        return try result.rows[0].decode("checksum")
    }

    /// Where the Schema directory is: `$SETA_SCHEMA_DIR` if set, else `./Schema`, else the first `Schema`
    /// folder found walking up from the executable's directory (covers `.build/debug/seta`).
    public static func locateSchemaDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        executable: URL? = Migrator.executableURL()
    ) -> URL? {
        if let configured = environment["SETA_SCHEMA_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        let local = currentDirectory.appendingPathComponent("Schema")
        if isDirectory(local) { return local }
        guard var folder = executable?.deletingLastPathComponent() else { return nil }
        while folder.path != "/" && !folder.path.isEmpty {
            let candidate = folder.appendingPathComponent("Schema")
            if isDirectory(candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    /// The running executable, symlinks resolved.
    public static func executableURL() -> URL? {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return Bundle.main.executableURL?.resolvingSymlinksInPath()
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
