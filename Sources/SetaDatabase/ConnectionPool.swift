// ConnectionPool: a bounded, lazily filled set of connections with transactions and restart recovery.
import Foundation
import SetaSync

/// A bounded pool of `Connection`s shared by many threads.
///
/// - Connections are opened on demand, up to `maxConnections`; a caller that finds none free waits up to
///   `acquireTimeout` and then gets `.poolTimeout`.
/// - A connection that broke (its query failed with the session gone, or it was found closed when checked
///   out) is dropped and replaced by a new one on the next checkout, so after a PostgreSQL restart requests
///   succeed again without restarting the service.
public final class ConnectionPool: Sendable {
    public let maxConnections: Int
    public let acquireTimeout: TimeInterval
    public let limits: DatabaseLimits
    private let conninfo: String

    private struct State {
        var idle: [IdleConnection] = []
        /// Checked out plus being opened: the number that counts against `maxConnections` besides `idle`.
        var checkedOut = 0
        var closed = false
        /// Checkouts that found no free connection and waited, their total wait, and those that gave up.
        var waits = 0
        var waitSeconds = 0.0
        var timeouts = 0

        mutating func noteWait(since: Date?) {
            guard let since else { return }
            waits += 1
            waitSeconds += Date().timeIntervalSince(since)
        }
    }

    private let state = ConditionLock(State())

    private struct IdleConnection {
        let connection: Connection
        let since: TimeInterval
    }

    public init(
        conninfo: String,
        maxConnections: Int = DatabaseLimits.defaults.poolMaxConnections,
        acquireTimeout: TimeInterval = DatabaseLimits.defaults.poolAcquireTimeout,
        limits: DatabaseLimits = .defaults
    ) {
        precondition(maxConnections > 0, "a pool needs at least one connection")
        self.conninfo = conninfo
        self.maxConnections = maxConnections
        self.acquireTimeout = acquireTimeout
        self.limits = limits
    }

    deinit {
        close()
    }

    /// Connections checked out, connections idle in the pool, and the bound.
    public var stats: (inUse: Int, idle: Int, max: Int) {
        state.withLock { ($0.checkedOut, $0.idle.count, maxConnections) }
    }

    /// How often callers waited for a connection, for how long in all, and how often in vain (`/metrics`).
    public var waitStats: (waits: Int, seconds: Double, timeouts: Int) {
        state.withLock { ($0.waits, $0.waitSeconds, $0.timeouts) }
    }

    /// Lends a connection to `body` and takes it back afterwards, whatever happens.
    @discardableResult
    public func withConnection<T>(
        file: String = #fileID, line: Int = #line, _ body: (Connection) throws -> T
    ) throws -> T {
        let connection = try checkOut(file: file, line: line)
        defer { checkIn(connection) }
        return try body(connection)
    }

    /// How strictly concurrent transactions are kept apart (PostgreSQL's `ISOLATION LEVEL`).
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws (and the error is
    /// rethrown). Success is returned only when PostgreSQL confirmed the COMMIT: a failed COMMIT, a COMMIT
    /// turned into ROLLBACK, or a connection lost on the way all throw.
    @discardableResult
    public func withTransaction<T>(
        isolation: IsolationLevel? = nil, file: String = #fileID, line: Int = #line,
        _ body: (Connection) throws -> T
    ) throws -> T {
        try withConnection(file: file, line: line) { connection in
            let begin = isolation.map { "BEGIN ISOLATION LEVEL \($0.rawValue)" } ?? "BEGIN"
            if TransactionActor.personId == nil {
                try connection.execute(SQL(unsafe: begin), file: file, line: line)
            } else {
                // Who the change log names (audit_log): sent with BEGIN, no extra round trip.
                try connection.executeScript(unsafe: TransactionActor.begin(begin), file: file, line: line)
            }
            let value: T
            do {
                value = try body(connection)
            } catch {
                // A rollback that fails leaves the session unusable; checkIn then drops it.
                _ = try? connection.execute("ROLLBACK", file: file, line: line)
                throw error
            }
            try connection.commit(file: file, line: line)
            return value
        }
    }

    /// `withTransaction`, run again (with a short growing pause) when PostgreSQL reports a serialization
    /// failure or a deadlock, up to `maxAttempts` times. `body` must be safe to run more than once.
    @discardableResult
    public func withRetryingTransaction<T>(
        isolation: IsolationLevel? = .serializable, maxAttempts: Int? = nil,
        file: String = #fileID, line: Int = #line, _ body: (Connection) throws -> T
    ) throws -> T {
        let attempts = max(1, maxAttempts ?? limits.serializationRetryAttempts)
        var attempt = 1
        while true {
            do {
                return try withTransaction(isolation: isolation, file: file, line: line, body)
            } catch let error as DatabaseError where error.isSerializationFailure && attempt < attempts {
                // Jitter keeps two colliding transactions from colliding again in lockstep.
                let pause = Double(attempt) * 0.005 + Double.random(in: 0..<0.005)
                Thread.sleep(forTimeInterval: pause)
                attempt += 1
            }
        }
    }

    /// Readiness check: a `SELECT 1` on a pooled connection.
    public func ping() -> Bool {
        (try? withConnection { connection in try connection.query("SELECT 1").count == 1 }) ?? false
    }

    /// Closes idle connections now and the others when they come back; waiting and later callers get
    /// `.poolClosed`.
    public func close() {
        let toClose = state.withLock { state -> [IdleConnection] in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        state.broadcast()
        toClose.forEach { $0.connection.close() }
    }

    // MARK: - Checkout

    private enum Checkout {
        case closed, timedOut, reuse(IdleConnection), open
    }

    private func checkOut(file: String, line: Int) throws -> Connection {
        let deadline = Date(timeIntervalSinceNow: acquireTimeout)
        let maxConnections = self.maxConnections
        var waitedSince: Date?
        while true {
            var checks = 0
            let started = Date()
            let step = state.withLock(waitingUntil: { state in
                checks += 1
                return state.closed || !state.idle.isEmpty || state.checkedOut < maxConnections
            }, deadline: deadline) { state, ready -> Checkout in
                if checks > 1, waitedSince == nil { waitedSince = started }
                guard ready else {
                    state.noteWait(since: waitedSince ?? started)
                    state.timeouts += 1
                    return .timedOut
                }
                if state.closed { return .closed }
                state.checkedOut += 1
                state.noteWait(since: waitedSince)
                if let candidate = state.idle.popLast() { return .reuse(candidate) }
                return .open
            }
            switch step {
            case .closed:
                throw DatabaseError(.poolClosed, message: "the connection pool is closed", file: file, line: line)
            case .timedOut:
                throw DatabaseError(
                    .poolTimeout,
                    message: "no database connection became free within \(acquireTimeout) s (all \(maxConnections) in use)",
                    file: file, line: line)
            case .reuse(let candidate):
                if isUsable(candidate) { return candidate.connection }
                candidate.connection.close()
                state.withLock { $0.checkedOut -= 1 }
            case .open:
                do {
                    return try openConnection(file: file, line: line)
                } catch {
                    state.withLock { $0.checkedOut -= 1 }
                    state.signal()
                    throw error
                }
            }
        }
    }

    /// A new session, with the statement timeout of `limits` so no statement holds a connection for long.
    private func openConnection(file: String, line: Int) throws -> Connection {
        let connection = try Connection(conninfo: conninfo, limits: limits, file: file, line: line)
        var settings = limits.sessionSettings
        if limits.statementTimeoutMilliseconds > 0 { settings["statement_timeout"] = String(limits.statementTimeoutMilliseconds) }
        guard !settings.isEmpty else { return connection }
        do {
            let names = settings.keys.sorted()
            let values = names.map { settings[$0]! }
            try connection.execute("SELECT set_config(n, v, false) FROM unnest(\(names)::text[], \(values)::text[]) AS s(n, v)")
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// A connection idle for long gets a real round trip; a recent one only the socket check.
    private func isUsable(_ candidate: IdleConnection) -> Bool {
        guard candidate.connection.isAliveAfterPoll() else { return false }
        if ProcessInfo.processInfo.systemUptime - candidate.since > limits.poolIdleCheckAfter {
            return (try? candidate.connection.query("SELECT 1")) != nil
        }
        return true
    }

    private func checkIn(_ connection: Connection) {
        var keep = connection.isHealthy
        if keep, connection.transactionState != .idle {
            // The borrower left a transaction open (or failed): end it so the next borrower starts clean.
            _ = try? connection.execute("ROLLBACK")
            keep = connection.isHealthy && connection.transactionState == .idle
        }
        let since = ProcessInfo.processInfo.systemUptime
        keep = state.withLock { state in
            state.checkedOut -= 1
            guard keep && !state.closed else { return false }
            state.idle.append(IdleConnection(connection: connection, since: since))
            return true
        }
        state.signal()
        if !keep { connection.close() }
    }
}
