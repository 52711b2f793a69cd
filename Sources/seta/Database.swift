// Where the CLI's database comes from: DATABASE_URL, or the private embedded PostgreSQL of the project.
import Foundation
import Synchronization
import SetaAPI
import SetaDatabase

/// A database the command uses, and how to let go of it when done.
final class DatabaseHandle {
    let conninfo: String
    let embedded: EmbeddedPostgres?
    /// Only a cluster this process started is stopped by it; one already running (another `seta serve`) is left alone.
    let startedHere: Bool

    init(conninfo: String, embedded: EmbeddedPostgres?, startedHere: Bool) {
        self.conninfo = conninfo
        self.embedded = embedded
        self.startedHere = startedHere
    }

    static func open(log: Log) throws -> DatabaseHandle {
        let env = ProcessInfo.processInfo.environment
        if let url = env["DATABASE_URL"], !url.isEmpty {
            log.event("info", "using database", ["database": Log.redact(conninfo: url)])
            return DatabaseHandle(conninfo: url, embedded: nil, startedHere: false)
        }
        let folder = env["SETA_PGDATA"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".seta")
        let adopted = AdoptionFlag()
        let embedded = EmbeddedPostgres(dataDirectory: folder, log: { message in
            if message.contains("already running") { adopted.set() }
            log.event("info", message)
        })
        if geteuid() == 0 {
            log.event("info", "running as root: the embedded PostgreSQL runs as the unprivileged user `postgres`")
        }
        let conninfo = try embedded.start()
        log.event("info", "using embedded PostgreSQL", ["database": Log.redact(conninfo: conninfo),
                                                        "folder": embedded.directory?.path ?? folder.path])
        return DatabaseHandle(conninfo: conninfo, embedded: embedded, startedHere: !adopted.value)
    }

    func close(log: Log) {
        guard let embedded, startedHere else { return }
        do { try embedded.stop() } catch { log.event("error", "could not stop embedded PostgreSQL", ["error": "\(error)"]) }
    }
}

final class AdoptionFlag: Sendable {
    private let flag = Atomic(false)
    func set() { flag.store(true, ordering: .releasing) }
    var value: Bool { flag.load(ordering: .acquiring) }
}
