// EmbeddedPostgres: creates, starts and stops a private PostgreSQL cluster with initdb and pg_ctl.
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PostgreSQL cluster of our own in a folder, for development, demos and tests.
///
/// Layout under the folder: `pgdata/` (the cluster), `postgres.log`, `port` (the last port used, reused
/// when free so the conninfo stays the same across restarts) and `run/` (the Unix socket, when the path is
/// short enough). The cluster trusts local connections and listens on 127.0.0.1 only; its superuser and
/// its database are both `seta`.
///
/// PostgreSQL refuses to run as root, so as root the folder is given to the `postgres` user and initdb and
/// pg_ctl run through `runuser -u postgres --`. If `postgres` cannot reach the folder (a parent it may not
/// traverse, such as /root), the cluster lives in /var/tmp or /tmp instead, in a folder named after a
/// hash of the requested path; `log` says so.
public final class EmbeddedPostgres: Sendable {
    public static let superuser = "seta"
    public static let databaseName = "seta"

    /// The folder asked for.
    public let requestedDirectory: URL
    private let serverSettings: [String: String]
    private let limits: DatabaseLimits
    private let log: @Sendable (String) -> Void

    private struct State {
        var resolvedDirectory: URL?
        var currentPort: Int?
    }

    /// Held for the whole of `start` and `stop`, so two of them never interleave.
    private let state = Mutex(State())

    /// `serverSettings` are extra `-c name=value` options for the server (tests turn fsync off with them).
    public init(
        dataDirectory: URL,
        serverSettings: [String: String] = [:],
        limits: DatabaseLimits = .defaults,
        log: @escaping @Sendable (String) -> Void
    ) {
        requestedDirectory = dataDirectory.standardizedFileURL
        self.serverSettings = serverSettings
        self.limits = limits
        self.log = log
    }

    /// The folder really used (differs from `requestedDirectory` after the root fallback); nil before `start`.
    public var directory: URL? {
        state.withLock { $0.resolvedDirectory }
    }

    /// The port of the running server; nil before `start`.
    public var port: Int? {
        state.withLock { $0.currentPort }
    }

    /// A conninfo URL for a database of the running cluster.
    public func conninfo(database: String = EmbeddedPostgres.databaseName) -> String? {
        port.map { EmbeddedPostgres.conninfo(port: $0, database: database) }
    }

    static func conninfo(port: Int, database: String) -> String {
        "postgresql://\(superuser)@127.0.0.1:\(port)/\(database)"
    }

    private var runsAsPostgresUser: Bool { geteuid() == 0 }

    /// Creates the cluster on first use, starts it (or adopts the server already running in the folder),
    /// creates the `seta` database if missing and returns its conninfo URL.
    public func start() throws -> String {
        try state.withLock { state in try start(&state) }
    }

    private func start(_ state: inout State) throws -> String {
        let binaries = try EmbeddedPostgres.locateBinaries()
        let root = try prepareRoot()
        state.resolvedDirectory = root
        let dataDirectory = root.appendingPathComponent("pgdata")
        if !FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            try initialize(dataDirectory, binaries: binaries)
        }

        let port: Int
        if let running = runningServer(dataDirectory) {
            port = running.port
            log("PostgreSQL is already running in \(dataDirectory.path) (pid \(running.pid), port \(port)): reusing it")
        } else {
            port = try startServer(dataDirectory, root: root, binaries: binaries, rememberedPort: state.currentPort)
        }
        state.currentPort = port
        try? String(port).write(to: root.appendingPathComponent("port"), atomically: true, encoding: .utf8)
        try createDatabaseIfMissing(port: port)
        return EmbeddedPostgres.conninfo(port: port, database: EmbeddedPostgres.databaseName)
    }

    /// Stops the server (`pg_ctl stop -m fast`: open sessions are disconnected, nothing is lost).
    /// Does nothing when it is not running. The port is kept, so a later `start` reuses it when free.
    public func stop() throws {
        try state.withLock { state in try stop(resolvedDirectory: state.resolvedDirectory) }
    }

    private func stop(resolvedDirectory: URL?) throws {
        guard let root = resolvedDirectory ?? (try? reachableRoot()) else { return }
        let dataDirectory = root.appendingPathComponent("pgdata")
        guard runningServer(dataDirectory) != nil else { return }
        let binaries = try EmbeddedPostgres.locateBinaries()
        let outcome = try run(
            binaries.appendingPathComponent("pg_ctl"),
            ["stop", "-D", dataDirectory.path, "-m", "fast", "-w", "-t", String(limits.embeddedServerStartTimeoutSeconds)],
            in: root)
        guard outcome.status == 0 else {
            throw DatabaseError(.embeddedServer, message: "pg_ctl stop failed: \(outcome.output)")
        }
        log("PostgreSQL in \(dataDirectory.path) stopped")
    }

    /// Whether a server is running in the folder.
    public var isRunning: Bool {
        guard let root = directory else { return false }
        return runningServer(root.appendingPathComponent("pgdata")) != nil
    }

    // MARK: - Binaries

    /// The folder with `initdb` and `pg_ctl`: `$SETA_PG_BIN`, else the highest /usr/lib/postgresql/N/bin,
    /// else the first on `PATH`.
    public static func locateBinaries(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        installRoot: String = "/usr/lib/postgresql"
    ) throws -> URL {
        func hasTools(_ folder: URL) -> Bool {
            ["initdb", "pg_ctl"].allSatisfy {
                FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent($0).path)
            }
        }
        if let configured = environment["SETA_PG_BIN"], !configured.isEmpty {
            let folder = URL(fileURLWithPath: configured)
            guard hasTools(folder) else {
                throw DatabaseError(.embeddedServer, message: "SETA_PG_BIN=\(configured) has no initdb and pg_ctl")
            }
            return folder
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: installRoot)) ?? []
        for version in versions.compactMap(Int.init).sorted(by: >) {
            let folder = URL(fileURLWithPath: "\(installRoot)/\(version)/bin")
            if hasTools(folder) { return folder }
        }
        for entry in (environment["PATH"] ?? "").split(separator: ":") {
            let folder = URL(fileURLWithPath: String(entry))
            if hasTools(folder) {
                // Follow a symlinked pg_ctl to the real bin folder, where postgres lives too.
                return folder.appendingPathComponent("pg_ctl").resolvingSymlinksInPath().deletingLastPathComponent()
            }
        }
        throw DatabaseError(
            .embeddedServer,
            message: "PostgreSQL server programs (initdb, pg_ctl) not found: install the Debian package postgresql "
                + "(apt-get install -y postgresql) or set SETA_PG_BIN to their folder")
    }

    // MARK: - Folder

    /// The folder the cluster lives in, created, and owned by `postgres` when we are root.
    private func prepareRoot() throws -> URL {
        let root = try reachableRoot()
        try createFolder(root)
        return root
    }

    /// `requestedDirectory`, or the fallback when the `postgres` user cannot reach it.
    private func reachableRoot() throws -> URL {
        guard runsAsPostgresUser else { return requestedDirectory }
        try createFolder(requestedDirectory)
        let check = try run(
            URL(fileURLWithPath: "/usr/bin/test"), ["-w", requestedDirectory.path, "-a", "-x", requestedDirectory.path],
            in: URL(fileURLWithPath: "/"))
        if check.status == 0 { return requestedDirectory }
        let base = FileManager.default.isWritableFile(atPath: "/var/tmp") ? "/var/tmp" : "/tmp"
        let fallback = URL(fileURLWithPath: "\(base)/seta-postgres-\(EmbeddedPostgres.hash(requestedDirectory.path))")
        log("the postgres user cannot reach \(requestedDirectory.path) (a parent folder is closed to it); "
            + "keeping the cluster in \(fallback.path) instead")
        return fallback
    }

    private func createFolder(_ folder: URL) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw DatabaseError(.embeddedServer, message: "cannot create \(folder.path): \(error)")
        }
        if runsAsPostgresUser {
            guard let account = getpwnam("postgres") else {
                throw DatabaseError(
                    .embeddedServer,
                    message: "running as root needs the postgres user to run PostgreSQL: install the Debian package "
                        + "postgresql (apt-get install -y postgresql)")
            }
            if chown(folder.path, account.pointee.pw_uid, account.pointee.pw_gid) != 0 {
                throw DatabaseError(.embeddedServer, message: "cannot give \(folder.path) to the postgres user (errno \(errno))")
            }
        }
    }

    // MARK: - initdb and pg_ctl

    private func initialize(_ dataDirectory: URL, binaries: URL) throws {
        if runsAsPostgresUser { log("running as root: initdb and pg_ctl run as the postgres user (runuser -u postgres)") }
        log("creating a PostgreSQL cluster in \(dataDirectory.path)")
        // A half-made cluster from an interrupted initdb would make initdb refuse the folder.
        if FileManager.default.fileExists(atPath: dataDirectory.path) {
            try? FileManager.default.removeItem(at: dataDirectory)
        }
        var common = ["-D", dataDirectory.path, "--auth=trust", "--username=\(EmbeddedPostgres.superuser)", "-E", "UTF8"]
        // A server told not to fsync holds throwaway data (tests): syncing its fresh cluster only costs time.
        if serverSettings["fsync"] == "off" { common.append("--no-sync") }
        // C.UTF-8 keeps byte-order sorting but knows the case of accented letters (lower('Á') = 'á').
        var outcome = try run(binaries.appendingPathComponent("initdb"), common + ["--locale=C.UTF-8"], in: dataDirectory.deletingLastPathComponent())
        if outcome.status != 0 {
            log("initdb with locale C.UTF-8 failed; retrying with locale C")
            try? FileManager.default.removeItem(at: dataDirectory)
            outcome = try run(binaries.appendingPathComponent("initdb"), common + ["--no-locale"], in: dataDirectory.deletingLastPathComponent())
        }
        guard outcome.status == 0 else {
            throw DatabaseError(.embeddedServer, message: "initdb failed: \(outcome.output)")
        }
    }

    private func startServer(_ dataDirectory: URL, root: URL, binaries: URL, rememberedPort: Int?) throws -> Int {
        let pidFile = dataDirectory.appendingPathComponent("postmaster.pid")
        if FileManager.default.fileExists(atPath: pidFile.path) {
            // runningServer said no server owns it: a crash or a kill left it behind.
            log("removing the stale \(pidFile.path)")
            try? FileManager.default.removeItem(at: pidFile)
        }
        let socketFolder = try socketDirectory(root)
        let logFile = root.appendingPathComponent("postgres.log")
        let remembered = rememberedPort ?? (try? String(contentsOf: root.appendingPathComponent("port"), encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        var candidates: [Int] = []
        if let remembered, EmbeddedPostgres.isPortFree(remembered) { candidates.append(remembered) }
        while candidates.count < 3 { candidates.append(try EmbeddedPostgres.freePort()) }

        var lastFailure = ""
        for port in candidates {
            var options = "-p \(port) -k \(EmbeddedPostgres.shellQuoted(socketFolder.path)) -c listen_addresses=127.0.0.1 -c fsync=on"
            for (name, value) in serverSettings.sorted(by: { $0.key < $1.key }) {
                options += " -c " + EmbeddedPostgres.shellQuoted("\(name)=\(value)")
            }
            let outcome = try run(
                binaries.appendingPathComponent("pg_ctl"),
                ["start", "-w", "-t", String(limits.embeddedServerStartTimeoutSeconds), "-D", dataDirectory.path,
                 "-l", logFile.path, "-o", options],
                in: root)
            if outcome.status == 0 {
                log("PostgreSQL started on 127.0.0.1:\(port) (data \(dataDirectory.path), log \(logFile.path))")
                return port
            }
            lastFailure = outcome.output + "\n" + EmbeddedPostgres.tail(of: logFile)
            // Someone may have taken the port between our check and the server's bind: try another.
            guard lastFailure.contains("could not bind") || lastFailure.contains("in use") else { break }
            log("port \(port) was taken; trying another")
        }
        throw DatabaseError(.embeddedServer, message: "pg_ctl start failed: \(lastFailure)")
    }

    /// `root/run` when short enough for a socket path (107 bytes), else a short folder in /tmp.
    private func socketDirectory(_ root: URL) throws -> URL {
        var folder = root.appendingPathComponent("run")
        if folder.path.utf8.count > 80 {
            folder = URL(fileURLWithPath: "/tmp/seta-pg-\(EmbeddedPostgres.hash(root.path))")
        }
        try createFolder(folder)
        return folder
    }

    private func createDatabaseIfMissing(port: Int) throws {
        let connection = try Connection(conninfo: EmbeddedPostgres.conninfo(port: port, database: "postgres"))
        defer { connection.close() }
        let existing = try connection.query("SELECT 1 FROM pg_database WHERE datname = \(EmbeddedPostgres.databaseName)")
        guard existing.isEmpty else { return }
        do {
            try connection.execute(SQL(unsafe: "CREATE DATABASE \(SQL.quoteIdentifier(EmbeddedPostgres.databaseName))"))
            log("created database \(EmbeddedPostgres.databaseName)")
        } catch let error as DatabaseError where error.sqlState == "42P04" {
            // Created meanwhile by another process: fine.
        }
    }

    /// The server owning `postmaster.pid`, if that process is alive and is PostgreSQL.
    private func runningServer(_ dataDirectory: URL) -> (pid: Int32, port: Int)? {
        guard let text = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8)
        else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard lines.count > 3, let pid = Int32(lines[0]), pid > 0, let port = Int(lines[3]) else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return nil }
        // A recycled pid belongs to some other program after a container restart.
        let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "postgres"
        guard command.hasPrefix("postgres") || command.hasPrefix("postmaster") else { return nil }
        return (pid, port)
    }

    // MARK: - Processes

    /// Runs a program (as `postgres` when we are root) and returns its exit status and combined output.
    private func run(_ program: URL, _ arguments: [String], in folder: URL) throws -> (status: Int32, output: String) {
        var executable = program.path
        var fullArguments = arguments
        if runsAsPostgresUser {
            let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
            guard let runuser else {
                throw DatabaseError(.embeddedServer, message: "running as root needs runuser (util-linux) to run PostgreSQL as postgres")
            }
            executable = runuser
            fullArguments = ["-u", "postgres", "--", program.path] + arguments
        }
        // The postgres user may not be able to enter our current directory.
        let workingFolder = FileManager.default.fileExists(atPath: folder.path) ? folder.path : "/"
        let outcome = try ChildProcess.run(executable, fullArguments, in: workingFolder)
        return (outcome.status, outcome.output)
    }

    // MARK: - Helpers

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// FNV-1a: a stable short name for a path, no crypto needed.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return String(value, radix: 16)
    }

    private static func tail(of file: URL) -> String {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// A port the kernel says is free on 127.0.0.1 now.
    static func freePort() throws -> Int {
        guard let port = bindLoopback(port: 0) else {
            throw DatabaseError(.embeddedServer, message: "cannot find a free port on 127.0.0.1 (errno \(errno))")
        }
        return port
    }

    static func isPortFree(_ port: Int) -> Bool {
        bindLoopback(port: port) != nil
    }

    /// Binds a TCP socket to 127.0.0.1:port the way PostgreSQL does (SO_REUSEADDR), returns the bound
    /// port, and closes it again.
    private static func bindLoopback(port: Int) -> Int? {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return nil }
        defer { _ = close(descriptor) }
        var reuse: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
