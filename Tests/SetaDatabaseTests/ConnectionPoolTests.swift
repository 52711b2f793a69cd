// Tests of ConnectionPool: transactions, the bound and its timeout, and recovery from killed sessions.
import Foundation
import Synchronization
import SetaDatabase
import SetaTestSupport
import Testing

@Suite("ConnectionPool")
struct ConnectionPoolTests {
    struct Refused: Error, Equatable {}

    @Test("a transaction commits when its body returns")
    func transactionCommits() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { try $0.execute("CREATE TABLE t (n int)") }
        let value = try database.pool.withTransaction { connection in
            try connection.execute("INSERT INTO t VALUES (\(1)), (\(2))")
            return "done"
        }
        #expect(value == "done")
        #expect(try database.pool.withConnection { try $0.query("SELECT n FROM t").count } == 2)
    }

    @Test("a transaction rolls back when its body throws, and the error comes out unchanged")
    func transactionRollsBack() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { try $0.execute("CREATE TABLE t (n int)") }
        #expect(throws: Refused()) {
            try database.pool.withTransaction { connection in
                try connection.execute("INSERT INTO t VALUES (\(1))")
                throw Refused()
            }
        }
        #expect(try database.pool.withConnection { try $0.query("SELECT n FROM t").count } == 0)
        #expect(database.pool.stats.inUse == 0)
    }

    @Test("a transaction whose failed statement was swallowed is reported as not committed")
    func swallowedFailureIsNotSuccess() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { try $0.execute("CREATE TABLE t (n int PRIMARY KEY)") }
        let error = #expect(throws: DatabaseError.self) {
            try database.pool.withTransaction { connection in
                try connection.execute("INSERT INTO t VALUES (\(1))")
                _ = try? connection.execute("INSERT INTO t VALUES (\(1))")
            }
        }
        #expect(error?.sqlState == "25P02")
        #expect(try database.pool.withConnection { try $0.query("SELECT n FROM t").count } == 0)
    }

    @Test("the isolation level asked for is the one the transaction runs at")
    func isolationLevel() throws {
        let database = try TestDatabase.make()
        let level = try database.pool.withTransaction(isolation: .serializable) { connection in
            try connection.query("SELECT current_setting('transaction_isolation') AS level").rows[0].decode("level", as: String.self)
        }
        #expect(level == "serializable")
    }

    @Test("a serialization failure is retried until the transaction gets through")
    func serializationFailureIsRetried() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { try $0.execute("CREATE TABLE attempt (n int)") }
        let attempts = Counter()
        let result = try database.pool.withRetryingTransaction(maxAttempts: 4) { connection in
            try connection.execute("INSERT INTO attempt VALUES (\(attempts.next()))")
            if attempts.value < 3 {
                try connection.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
            }
            return attempts.value
        }
        #expect(result == 3)
        // Only the last attempt's row was committed.
        let rows = try database.pool.withConnection { try $0.query("SELECT n FROM attempt").rows.map { try $0.decode("n", as: Int.self) } }
        #expect(rows == [3])

        let exhausted = #expect(throws: DatabaseError.self) {
            try database.pool.withRetryingTransaction(maxAttempts: 2) { connection in
                try connection.execute("DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END $$")
            }
        }
        #expect(exhausted?.isSerializationFailure == true)
    }

    @Test("connections are opened lazily and the pool never holds more than its bound")
    func poolIsLazyAndBounded() throws {
        let database = try TestDatabase.make()
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 3, acquireTimeout: 5)
        defer { pool.close() }
        #expect(pool.stats.inUse == 0 && pool.stats.idle == 0 && pool.stats.max == 3)
        let peak = Counter()
        let active = Counter()
        DispatchQueue.concurrentPerform(iterations: 12) { _ in
            try? pool.withConnection { connection in
                peak.raise(to: active.next())
                _ = try connection.query("SELECT pg_sleep(0.05)")
                active.decrement()
            }
        }
        #expect(peak.value <= 3)
        #expect(pool.stats.inUse == 0)
        #expect(pool.stats.idle <= 3)
        let sessions = try database.pool.withConnection {
            try $0.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = \(database.name)").rows[0].decode("n", as: Int.self)
        }
        #expect(sessions <= 3 + 1)
    }

    @Test("a caller that finds every connection busy gets poolTimeout after the acquire timeout")
    func poolTimesOut() throws {
        let database = try TestDatabase.make()
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 2, acquireTimeout: 0.5)
        defer { pool.close() }
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for _ in 0..<2 {
            onNewThread(done) {
                try? pool.withConnection { _ in
                    holding.signal()
                    release.wait()
                }
            }
        }
        holding.wait()
        holding.wait()
        #expect(pool.stats.inUse == 2)
        let started = Date()
        let error = #expect(throws: DatabaseError.self) { try pool.withConnection { _ in } }
        let waited = Date().timeIntervalSince(started)
        #expect(error?.kind == .poolTimeout)
        #expect(waited >= 0.45 && waited < 3, "waited \(waited) s")

        // A waiter gets the first connection given back, well before its timeout.
        let patient = ConnectionPool(conninfo: database.conninfo, maxConnections: 1, acquireTimeout: 5)
        defer { patient.close() }
        let holdingOne = DispatchSemaphore(value: 0)
        onNewThread(done) {
            try? patient.withConnection { _ in
                holdingOne.signal()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        holdingOne.wait()
        let waitStart = Date()
        try patient.withConnection { connection in _ = try connection.query("SELECT 1") }
        #expect(Date().timeIntervalSince(waitStart) < 2)

        release.signal()
        release.signal()
        done.wait()
        #expect(pool.stats.inUse == 0)
        #expect(pool.stats.idle == 2)
    }

    @Test("after pg_terminate_backend of all its sessions the pool replaces them and requests succeed")
    func recoversFromTerminatedSessions() throws {
        let database = try TestDatabase.make()
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 3)
        defer { pool.close() }
        fill(pool, with: 3)
        #expect(pool.stats.idle == 3)
        let killed = try terminateSessions(of: database)
        #expect(killed == 3)
        Thread.sleep(forTimeInterval: 0.2)
        for _ in 0..<5 {
            let value = try pool.withConnection { try $0.query("SELECT 41 + 1 AS answer").rows[0].decode("answer", as: Int.self) }
            #expect(value == 42)
        }
        #expect(pool.ping())
    }

    @Test("a session killed mid-query fails with an unavailable error and the next request succeeds")
    func sessionKilledMidQuery() throws {
        let database = try TestDatabase.make()
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 1)
        defer { pool.close() }
        let outcome = Box<DatabaseError?>(nil)
        let finished = DispatchSemaphore(value: 0)
        onNewThread {
            do {
                try pool.withConnection { _ = try $0.query("SELECT pg_sleep(10)") }
            } catch let error as DatabaseError {
                outcome.value = error
            } catch {}
            finished.signal()
        }
        // Wait until the sleep is running, then kill it.
        var killed = 0
        for _ in 0..<50 where killed == 0 {
            Thread.sleep(forTimeInterval: 0.05)
            killed = try terminateSessions(of: database, runningQueryLike: "SELECT pg_sleep%")
        }
        #expect(killed == 1)
        #expect(finished.wait(timeout: .now() + 5) == .success)
        #expect(outcome.value?.isUnavailable == true, "\(String(reflecting: outcome.value))")
        #expect(pool.stats.idle == 0)
        #expect(try pool.withConnection { try $0.query("SELECT 1").count } == 1)
    }

    @Test("a transaction left open by a borrower is rolled back when the connection comes back")
    func openTransactionIsRolledBackOnReturn() throws {
        let database = try TestDatabase.make()
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 1)
        defer { pool.close() }
        try pool.withConnection { connection in
            try connection.execute("CREATE TABLE t (n int)")
            try connection.execute("BEGIN")
            try connection.execute("INSERT INTO t VALUES (\(1))")
        }
        try pool.withConnection { connection in
            let rows = try connection.query("SELECT n FROM t").count
            #expect(connection.transactionState == .idle)
            #expect(rows == 0)
        }
    }

    @Test("a pool on a server that is down fails fast, keeps no slot, and ping says false")
    func unreachableServer() throws {
        let pool = ConnectionPool(conninfo: "postgresql://seta@127.0.0.1:1/seta", maxConnections: 1, acquireTimeout: 1)
        defer { pool.close() }
        for _ in 0..<3 {
            let error = #expect(throws: DatabaseError.self) { try pool.withConnection { _ in } }
            #expect(error?.kind == .connectionFailed)
        }
        #expect(pool.stats.inUse == 0)
        #expect(!pool.ping())
    }

    @Test("a closed pool refuses new work with poolClosed")
    func closedPool() throws {
        let database = try TestDatabase.make()
        let pool = ConnectionPool(conninfo: database.conninfo)
        #expect(pool.ping())
        #expect(pool.stats.idle == 1)
        pool.close()
        #expect(pool.stats.idle == 0)
        let error = #expect(throws: DatabaseError.self) { try pool.withConnection { _ in } }
        #expect(error?.kind == .poolClosed)
        #expect(!pool.ping())
    }
}

/// Terminates the sessions on a test database (except the caller's), optionally only those running a query.
func terminateSessions(of database: TestDatabase, runningQueryLike pattern: String = "%") throws -> Int {
    let admin = try Connection(conninfo: try TestPostgres.adminConninfo())
    defer { admin.close() }
    let result = try admin.query("""
        SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE datname = \(database.name) AND pid <> pg_backend_pid() AND query LIKE \(pattern)
        """)
    return result.count
}

/// Runs `work` on a thread of its own: Dispatch's global queue runs only as many blocking items at once
/// as there are cores, which is not "at the same time" on a 2-core machine.
func onNewThread(_ group: DispatchGroup? = nil, _ work: @escaping @Sendable () -> Void) {
    group?.enter()
    let thread = Thread {
        work()
        group?.leave()
    }
    thread.start()
}

/// Opens `count` connections at once and gives them back, leaving them idle in the pool.
func fill(_ pool: ConnectionPool, with count: Int) {
    let arrived = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    for _ in 0..<count {
        onNewThread(done) {
            try? pool.withConnection { _ in
                arrived.signal()
                release.wait()
            }
        }
    }
    for _ in 0..<count { arrived.wait() }
    for _ in 0..<count { release.signal() }
    done.wait()
}

/// A thread-safe counter for tests that run work on many threads.
final class Counter: Sendable {
    private let current = Mutex(0)

    var value: Int { current.withLock { $0 } }

    @discardableResult
    func next() -> Int {
        current.withLock { current in
            current += 1
            return current
        }
    }

    func decrement() { current.withLock { $0 -= 1 } }

    func raise(to candidate: Int) { current.withLock { $0 = max($0, candidate) } }
}

/// A value shared with a background thread under a lock.
final class Box<Value: Sendable>: Sendable {
    private let stored: Mutex<Value>

    init(_ value: Value) {
        stored = Mutex(value)
    }

    func mutate(_ body: (inout Value) -> Void) {
        stored.withLock { body(&$0) }
    }

    var value: Value {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
