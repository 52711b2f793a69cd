// DatabaseError: the one error type of the database layer, with SQLSTATE helpers.
import Foundation

/// Everything that can go wrong in the database layer.
///
/// `description` is deliberately generic so it can never leak a query, a value or a server message to a
/// client; `debugDescription` carries the details for logs. Bound values are never stored.
public struct DatabaseError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A new connection could not be opened (server down, wrong address, authentication refused).
        case connectionFailed
        /// The connection broke while a command was in flight. The outcome is unknown: the caller must
        /// treat any write as "not committed" and must not report success.
        case connectionLost
        /// PostgreSQL refused the command with this SQLSTATE (or the client refused it before sending,
        /// with the SQLSTATE PostgreSQL would have used).
        case query(sqlState: String)
        /// A result value could not be turned into the requested Swift type.
        case decoding
        /// No pooled connection became free within the acquire timeout.
        case poolTimeout
        /// The pool was closed.
        case poolClosed
        /// A migration file is missing, misnamed, changed after it was applied, or failed.
        case migration
        /// The embedded PostgreSQL server could not be found, created, started or stopped.
        case embeddedServer
    }

    public var kind: Kind
    /// Our own one-line account of what happened (no bound values).
    public var message: String
    /// The SQLSTATE PostgreSQL reported, if any (also set for `.connectionLost` when the server said why).
    public var sqlState: String?
    /// PostgreSQL's primary message.
    public var serverMessage: String?
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    public var table: String?
    /// The column a server error or a decoding error is about.
    public var column: String?
    /// The SQL text that failed: the `$N` placeholders, never the bound values.
    public var query: String?
    public var file: String
    public var line: Int

    public init(
        _ kind: Kind,
        message: String,
        sqlState: String? = nil,
        serverMessage: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        constraint: String? = nil,
        table: String? = nil,
        column: String? = nil,
        query: String? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.kind = kind
        self.message = message
        if let sqlState {
            self.sqlState = sqlState
        } else if case .query(let state) = kind {
            self.sqlState = state
        } else {
            self.sqlState = nil
        }
        self.serverMessage = serverMessage
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
        self.query = query
        self.file = file
        self.line = line
    }

    /// Safe to show anyone: says which kind of failure, nothing more.
    public var description: String {
        switch kind {
        case .connectionFailed, .connectionLost: return "The database is unavailable."
        case .query: return "A database command failed."
        case .decoding: return "A database result could not be read."
        case .poolTimeout: return "The database is busy."
        case .poolClosed: return "The database connection pool is closed."
        case .migration: return "The database schema could not be migrated."
        case .embeddedServer: return "The embedded database server failed."
        }
    }

    /// For logs: everything we know except bound values.
    public var debugDescription: String {
        var parts = ["DatabaseError.\(kindName): \(message)"]
        if let sqlState { parts.append("sqlState=\(sqlState)") }
        if let serverMessage, serverMessage != message { parts.append("server=\(serverMessage)") }
        if let detail { parts.append("detail=\(detail)") }
        if let hint { parts.append("hint=\(hint)") }
        if let constraint { parts.append("constraint=\(constraint)") }
        if let table { parts.append("table=\(table)") }
        if let column { parts.append("column=\(column)") }
        if let query { parts.append("query=\(query)") }
        parts.append("at \(file):\(line)")
        return parts.joined(separator: " | ")
    }

    private var kindName: String {
        switch kind {
        case .connectionFailed: return "connectionFailed"
        case .connectionLost: return "connectionLost"
        case .query(let state): return "query(\(state))"
        case .decoding: return "decoding"
        case .poolTimeout: return "poolTimeout"
        case .poolClosed: return "poolClosed"
        case .migration: return "migration"
        case .embeddedServer: return "embeddedServer"
        }
    }

    /// SQLSTATE 23505: a unique or primary-key constraint refused a duplicate.
    public var isUniqueViolation: Bool { sqlState == SQLState.uniqueViolation }
    /// SQLSTATE 23503: a row references a missing row, or a referenced row is still in use.
    public var isForeignKeyViolation: Bool { sqlState == SQLState.foreignKeyViolation }
    /// SQLSTATE 23514: a CHECK constraint refused a value.
    public var isCheckViolation: Bool { sqlState == SQLState.checkViolation }
    /// SQLSTATE 40001 or 40P01: the transaction lost a race and may simply be run again.
    public var isSerializationFailure: Bool {
        sqlState == SQLState.serializationFailure || sqlState == SQLState.deadlockDetected
    }
    /// The server cannot be reached or is shutting down: answer 503, try again later.
    public var isUnavailable: Bool {
        switch kind {
        // A pool with no free connection is saturation, not a fault: 503 with Retry-After, never 500.
        case .connectionFailed, .connectionLost, .poolTimeout: return true
        default: break
        }
        guard let sqlState else { return false }
        return sqlState == SQLState.adminShutdown || sqlState == SQLState.crashShutdown
            || sqlState == SQLState.cannotConnectNow || sqlState.hasPrefix("08")
            // statement_timeout: the statement was cancelled because the server is too busy to finish it in time.
            || sqlState == "57014"
    }
}

/// The SQLSTATE codes the service reacts to, by name.
public enum SQLState {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let checkViolation = "23514"
    public static let notNullViolation = "23502"
    public static let exclusionViolation = "23P01"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let adminShutdown = "57P01"
    public static let crashShutdown = "57P02"
    public static let cannotConnectNow = "57P03"
    /// "character not in repertoire": what PostgreSQL says about a NUL byte in text; used when we refuse one.
    public static let characterNotInRepertoire = "22021"
    /// "in failed SQL transaction": used when COMMIT turned into ROLLBACK.
    public static let inFailedTransaction = "25P02"
}
