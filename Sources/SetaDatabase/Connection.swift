// Connection: one libpq session; bound queries, scripts, COPY FROM STDIN and health checks.
import CLibPQ
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One PostgreSQL session. Not thread-safe: use it from one thread at a time (the pool guarantees that).
///
/// Every session runs with `TimeZone = UTC` and `DateStyle = ISO, YMD`, which `Date` decoding relies on.
public final class Connection {
    private var handle: OpaquePointer?
    /// Statements prepared on this session by `queryPrepared`, by SQL text.
    private var preparedNames: [String: String] = [:]

    /// Opens a session. `conninfo` is a libpq connection string or `postgresql://` URL; when it names no
    /// `connect_timeout`, `limits.connectTimeoutSeconds` applies so a dead server fails fast.
    public init(conninfo: String, limits: DatabaseLimits = .defaults, file: String = #fileID, line: Int = #line) throws {
        // Keywords are applied in order and the expanded conninfo (dbname) comes after our defaults, so
        // anything the conninfo says wins; client_encoding comes last because text parsing relies on UTF-8.
        let keywords = ["connect_timeout", "fallback_application_name", "dbname", "client_encoding"]
        let values = [String(limits.connectTimeoutSeconds), "seta", conninfo, "UTF8"]
        let cKeywords = keywords.map { strdup($0) }
        let cValues = values.map { strdup($0) }
        defer {
            cKeywords.forEach { free($0) }
            cValues.forEach { free($0) }
        }
        var keywordPointers: [UnsafePointer<CChar>?] = cKeywords.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = cValues.map { UnsafePointer($0) } + [nil]
        let connection = keywordPointers.withUnsafeMutableBufferPointer { keys in
            valuePointers.withUnsafeMutableBufferPointer { vals in
                PQconnectdbParams(keys.baseAddress, vals.baseAddress, 1)
            }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let reason = connection.map { Connection.trimmed(PQerrorMessage($0)) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            throw DatabaseError(.connectionFailed, message: "could not connect: \(reason)", file: file, line: line)
        }
        handle = connection
        // Server notices (e.g. "relation already exists, skipping") would go to stderr; drop them.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        try executeScript(unsafe: "SET TIME ZONE 'UTC'; SET DateStyle TO 'ISO, YMD'", file: file, line: line)
    }

    deinit {
        close()
    }

    /// Ends the session. Safe to call twice.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// The session is open and libpq has not seen it break. A server that went away while the session was
    /// idle is only noticed on the next I/O: see `isAliveAfterPoll`.
    public var isHealthy: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server's process id for this session (for `pg_terminate_backend` and logs); 0 when closed.
    public var backendPID: Int32 {
        handle.map { PQbackendPID($0) } ?? 0
    }

    /// Where the session stands with respect to transactions.
    public enum TransactionState: Sendable, Equatable {
        case idle, active, inTransaction, inFailedTransaction, unknown
    }

    public var transactionState: TransactionState {
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inFailedTransaction
        default: return .unknown
        }
    }

    /// Runs a query with bound parameters (all sent as text) and returns its rows.
    @discardableResult
    public func query(_ sql: SQL, file: String = #fileID, line: Int = #line) throws -> QueryResult {
        let result = try run(sql, file: file, line: line)
        defer { PQclear(result) }
        return Connection.copyRows(result)
    }

    /// Runs a query as a prepared statement of this session (prepared on first use): the same SQL text runs
    /// again without being parsed and, once PostgreSQL settles on a generic plan, without being planned. For
    /// the hot dashboard statements, whose text depends only on the route and the caller's kind of scope.
    @discardableResult
    public func queryPrepared(_ sql: SQL, file: String = #fileID, line: Int = #line) throws -> QueryResult {
        let text = sql.text
        let handle = try openHandle(query: text, file: file, line: line)
        if preparedNames[text] == nil {
            if preparedNames.count >= 64 {
                // Bounded: a session never accumulates statements without limit.
                try execute("DEALLOCATE ALL", file: file, line: line)
                preparedNames.removeAll()
            }
            let name = "seta_\(preparedNames.count + 1)"
            try Connection.refuseNUL(text, what: "the SQL text", query: text, file: file, line: line)
            let result = PQprepare(handle, name, text, Int32(sql.bindings.count), nil)
            defer { if let result { PQclear(result) } }
            try check(result, query: text, file: file, line: line)
            preparedNames[text] = name
        }
        let name = preparedNames[text]!
        let result = try Connection.withParameters(sql.bindings, query: text, file: file, line: line) { count, values in
            PQexecPrepared(handle, name, count, values, nil, nil, 0)
        }
        do {
            try check(result, query: text, file: file, line: line)
        } catch let error as DatabaseError {
            if let result { PQclear(result) }
            // 26000: the statement is gone (DEALLOCATE or DISCARD ran on the session): prepare it again.
            if error.sqlState == "26000" {
                preparedNames.removeAll()
                return try queryPrepared(sql, file: file, line: line)
            }
            throw error
        }
        defer { PQclear(result) }
        return Connection.copyRows(result!)
    }

    /// Runs a command with bound parameters and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: SQL, file: String = #fileID, line: Int = #line) throws -> Int {
        let result = try run(sql, file: file, line: line)
        defer { PQclear(result) }
        return Connection.affectedRows(result)
    }

    /// Runs SQL text that may hold many statements (a migration, a seed file) with no parameters.
    /// The text is sent as is: never build it from input.
    public func executeScript(unsafe script: String, file: String = #fileID, line: Int = #line) throws {
        let handle = try openHandle(query: script, file: file, line: line)
        try Connection.refuseNUL(script, what: "the SQL text", query: "(script)", file: file, line: line)
        let result = PQexec(handle, script)
        defer { if let result { PQclear(result) } }
        try check(result, query: Connection.scriptSummary(script), file: file, line: line)
    }

    /// Streams rows to `COPY … FROM STDIN` (one text or CSV line per element; a newline is added when
    /// missing) and returns the rows PostgreSQL stored. A line with a NUL byte aborts the whole COPY.
    @discardableResult
    public func copyIn(
        _ copySQL: String, rows: some Sequence<String>, limits: DatabaseLimits = .defaults,
        file: String = #fileID, line: Int = #line
    ) throws -> Int {
        let handle = try openHandle(query: copySQL, file: file, line: line)
        let start = PQexec(handle, copySQL)
        if PQresultStatus(start) != PGRES_COPY_IN {
            defer { if let start { PQclear(start) } }
            try check(start, query: copySQL, file: file, line: line)
            throw DatabaseError(
                .query(sqlState: "42601"), message: "copyIn needs a COPY … FROM STDIN command", query: copySQL,
                file: file, line: line)
        }
        PQclear(start)

        var buffer: [UInt8] = []
        buffer.reserveCapacity(limits.copyBufferBytes + 1024)
        var failure: DatabaseError?
        func flush() -> Bool {
            let sent = buffer.withUnsafeBufferPointer { bytes in
                bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    PQputCopyData(handle, $0, Int32(bytes.count))
                }
            }
            buffer.removeAll(keepingCapacity: true)
            return sent == 1
        }
        var lineNumber = 0
        for row in rows {
            lineNumber += 1
            if row.utf8.contains(0) {
                failure = DatabaseError(
                    .query(sqlState: SQLState.characterNotInRepertoire),
                    message: "COPY line \(lineNumber) contains a NUL byte, which PostgreSQL text cannot hold",
                    query: copySQL, file: file, line: line)
                break
            }
            buffer.append(contentsOf: row.utf8)
            if buffer.last != UInt8(ascii: "\n") { buffer.append(UInt8(ascii: "\n")) }
            if buffer.count >= limits.copyBufferBytes, !flush() { break }
        }
        if failure == nil, !buffer.isEmpty { _ = flush() }
        _ = PQputCopyEnd(handle, failure == nil ? nil : "aborted by the client")

        // Drain every result: the COPY's own outcome comes first.
        var outcome: Result<Int, DatabaseError>?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if outcome != nil { continue }
            do {
                try check(result, query: copySQL, file: file, line: line)
                outcome = .success(Connection.affectedRows(result))
            } catch let error as DatabaseError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(DatabaseError(.query(sqlState: "XX000"), message: "\(error)", query: copySQL))
            }
        }
        if let failure { throw failure }
        switch outcome {
        case .success(let count)?: return count
        case .failure(let error)?: throw error
        case nil: throw lostOrFailed(message: "COPY ended without a result", query: copySQL, file: file, line: line)
        }
    }

    /// Cheap liveness check for a pooled session that was idle: one non-blocking `poll`. An idle session
    /// has nothing to read unless the server is closing it (restart, `pg_terminate_backend`: a FATAL
    /// message, then end of file). libpq would only notice on a later read, so anything readable means
    /// "do not use" (we never LISTEN, so no notification can be pending).
    func isAliveAfterPoll() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        let socket = PQsocket(handle)
        guard socket >= 0 else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    /// Runs COMMIT and confirms PostgreSQL committed: COMMIT of a transaction that had a failed statement
    /// "succeeds" with the tag ROLLBACK, which must not be reported as success.
    func commit(file: String, line: Int) throws {
        let result = try run("COMMIT", file: file, line: line)
        defer { PQclear(result) }
        let tag = String(cString: PQcmdStatus(result))
        guard tag == "COMMIT" else {
            throw DatabaseError(
                .query(sqlState: SQLState.inFailedTransaction),
                message: "COMMIT was answered with \(tag): a statement in the transaction had failed, nothing was committed",
                query: "COMMIT", file: file, line: line)
        }
    }

    // MARK: - libpq plumbing

    private func openHandle(query: String, file: String, line: Int) throws -> OpaquePointer {
        guard let handle else {
            throw DatabaseError(.connectionLost, message: "the connection is closed", query: query, file: file, line: line)
        }
        return handle
    }

    /// Sends one statement with its parameters; returns a successful result the caller must `PQclear`.
    private func run(_ sql: SQL, file: String, line: Int) throws -> OpaquePointer {
        let text = sql.text
        let handle = try openHandle(query: text, file: file, line: line)
        // libpq takes C strings: a NUL would silently cut the value short. PostgreSQL text cannot hold NUL
        // anyway, so refuse it with the SQLSTATE the server uses for it.
        try Connection.refuseNUL(text, what: "the SQL text", query: text, file: file, line: line)
        let result = try Connection.withParameters(sql.bindings, query: text, file: file, line: line) { count, values in
            PQexecParams(handle, text, count, nil, values, nil, nil, 0)
        }
        do {
            try check(result, query: text, file: file, line: line)
        } catch {
            if let result { PQclear(result) }
            throw error
        }
        return result!
    }

    /// Throws the right `DatabaseError` unless `result` is a success.
    private func check(_ result: OpaquePointer?, query: String, file: String, line: Int) throws {
        guard let result else {
            throw lostOrFailed(message: "no result from the server", query: query, file: file, line: line)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // A COPY sent through query/execute would leave the session stuck in COPY mode.
            abandonCopy()
            throw DatabaseError(
                .query(sqlState: "0A000"), message: "COPY … FROM STDIN goes through copyIn; COPY … TO STDOUT is not supported",
                query: query, file: file, line: line)
        default:
            break
        }
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        let serverMessage = field("M") ?? Connection.trimmed(PQresultErrorMessage(result))
        let lost = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
        let kind: DatabaseError.Kind
        if lost {
            kind = .connectionLost
        } else if let sqlState {
            kind = .query(sqlState: sqlState)
        } else {
            // libpq-side failures carry no SQLSTATE; PostgreSQL's "internal error" class is the closest.
            kind = .query(sqlState: "XX000")
        }
        throw DatabaseError(
            kind,
            message: lost ? "the connection broke during the command: its outcome is unknown" : serverMessage,
            sqlState: sqlState, serverMessage: serverMessage, detail: field("D"), hint: field("H"),
            constraint: field("n"), table: field("t"), column: field("c"), query: query, file: file, line: line)
    }

    /// Ends a COPY the caller did not ask for and drains its results, so the session is usable again.
    private func abandonCopy() {
        guard let handle else { return }
        _ = PQputCopyEnd(handle, "not accepted through query/execute")
        var buffer: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(handle, &buffer, 0) > 0 {
            PQfreemem(buffer)
            buffer = nil
        }
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    private func lostOrFailed(message: String, query: String, file: String, line: Int) -> DatabaseError {
        let reason = handle.map { Connection.trimmed(PQerrorMessage($0)) } ?? "closed"
        let lost = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
        return DatabaseError(
            lost ? .connectionLost : .query(sqlState: "XX000"), message: "\(message): \(reason)", query: query,
            file: file, line: line)
    }

    /// Hands libpq the bound values as C strings (NULL for nil), refusing a value with a NUL first (see `run`);
    /// the strings live until `send` returns.
    private static func withParameters(_ bindings: [String?], query: String, file: String, line: Int,
                                       _ send: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> OpaquePointer?) throws -> OpaquePointer? {
        for (position, value) in bindings.enumerated() {
            if let value {
                try refuseNUL(value, what: "parameter $\(position + 1)", query: query, file: file, line: line)
            }
        }
        let cValues = bindings.map { $0.map { strdup($0) } ?? nil }
        defer { cValues.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = cValues.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { send(Int32(bindings.count), $0.baseAddress) }
    }

    private static func refuseNUL(_ text: String, what: String, query: String, file: String, line: Int) throws {
        guard text.utf8.contains(0) else { return }
        throw DatabaseError(
            .query(sqlState: SQLState.characterNotInRepertoire),
            message: "\(what) contains a NUL byte (0x00), which PostgreSQL text cannot hold", query: query,
            file: file, line: line)
    }

    private static func copyRows(_ result: OpaquePointer) -> QueryResult {
        let columns = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let names = (0..<columns).map { String(cString: PQfname(result, Int32($0))) }
        var values: [String?] = []
        values.reserveCapacity(columns * rowCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columns) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let bytes = UnsafeRawPointer(PQgetvalue(result, row, column)!)
                    values.append(String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self))
                }
            }
        }
        return QueryResult(
            storage: QueryResult.Storage(columnNames: names, rowCount: rowCount, values: values),
            affectedRows: affectedRows(result))
    }

    private static func affectedRows(_ result: OpaquePointer) -> Int {
        Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Scripts can be long: the error keeps their first line as the query.
    private static func scriptSummary(_ script: String) -> String {
        let firstLine = script.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        return firstLine.count > 200 ? String(firstLine.prefix(200)) + "…" : firstLine
    }
}
