// Every limit and timeout of the database layer, each with a default and a greppable name.
import Foundation

/// The limits and timeouts of the database layer in one place.
///
/// The defaults are used by `Connection`, `ConnectionPool` and `EmbeddedPostgres` when the caller
/// does not pass its own values.
public struct DatabaseLimits: Sendable, Equatable {
    /// Seconds libpq waits for a server to accept a connection (`connect_timeout`) when the conninfo does
    /// not say. Kept short so a stopped server fails a request fast instead of hanging it.
    public var connectTimeoutSeconds: Int
    /// Most connections a pool opens.
    public var poolMaxConnections: Int
    /// Seconds a caller waits for a free pooled connection before `.poolTimeout`.
    public var poolAcquireTimeout: TimeInterval
    /// A pooled connection idle longer than this is checked with `SELECT 1` before it is handed out; a
    /// connection idle for less is only checked for a closed socket (one `poll` call).
    public var poolIdleCheckAfter: TimeInterval
    /// Attempts `withRetryingTransaction` makes when PostgreSQL reports a serialization failure or deadlock.
    public var serializationRetryAttempts: Int
    /// Rows of `COPY … FROM STDIN` data collected before one `PQputCopyData` call, in bytes.
    public var copyBufferBytes: Int
    /// `statement_timeout` set on every pooled session, in milliseconds (0: none). Work that is meant to run
    /// long (imports, catalog rebuilds) lifts it for its own transaction with `SET LOCAL`.
    public var statementTimeoutMilliseconds: Int
    /// Other settings for every pooled session (`set_config(name, value, false)`), e.g. `jit` off for
    /// short dashboard statements whose cost estimates would otherwise trigger JIT compilation.
    public var sessionSettings: [String: String]
    /// Seconds `pg_ctl` waits for the embedded server to start or stop.
    public var embeddedServerStartTimeoutSeconds: Int

    public init(
        connectTimeoutSeconds: Int = 3,
        poolMaxConnections: Int = 10,
        poolAcquireTimeout: TimeInterval = 5,
        poolIdleCheckAfter: TimeInterval = 30,
        serializationRetryAttempts: Int = 5,
        copyBufferBytes: Int = 64 * 1024,
        embeddedServerStartTimeoutSeconds: Int = 60,
        statementTimeoutMilliseconds: Int = 0,
        sessionSettings: [String: String] = [:]
    ) {
        self.sessionSettings = sessionSettings
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.poolMaxConnections = poolMaxConnections
        self.poolAcquireTimeout = poolAcquireTimeout
        self.poolIdleCheckAfter = poolIdleCheckAfter
        self.serializationRetryAttempts = serializationRetryAttempts
        self.copyBufferBytes = copyBufferBytes
        self.embeddedServerStartTimeoutSeconds = embeddedServerStartTimeoutSeconds
    }

    /// The values used when nobody says otherwise.
    public static let defaults = DatabaseLimits()
}
