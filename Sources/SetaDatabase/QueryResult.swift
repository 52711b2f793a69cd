// QueryResult and Row: a query's rows copied out of libpq, decoded by column name or index.
import Foundation

/// The rows of one query, copied out of libpq (the `PGresult` is freed before this is returned).
public struct QueryResult: Sendable {
    let storage: Storage
    /// Rows affected as PostgreSQL reported them (INSERT/UPDATE/DELETE/SELECT/COPY), 0 otherwise.
    public let affectedRows: Int

    init(storage: Storage, affectedRows: Int) {
        self.storage = storage
        self.affectedRows = affectedRows
    }

    public var columnNames: [String] { storage.columnNames }
    public var count: Int { storage.rowCount }
    public var isEmpty: Bool { storage.rowCount == 0 }
    public var rows: [Row] { (0..<storage.rowCount).map { Row(storage: storage, index: $0) } }
    public var first: Row? { storage.rowCount > 0 ? Row(storage: storage, index: 0) : nil }

    /// Result data shared by the rows; immutable once built.
    final class Storage: Sendable {
        let columnNames: [String]
        let columnIndex: [String: Int]
        let rowCount: Int
        /// Row-major values; nil is NULL.
        let values: [String?]

        init(columnNames: [String], rowCount: Int, values: [String?]) {
            self.columnNames = columnNames
            var index: [String: Int] = [:]
            // The first column of a name wins, as in PostgreSQL's own `PQfnumber`.
            for (position, name) in columnNames.enumerated() where index[name] == nil { index[name] = position }
            columnIndex = index
            self.rowCount = rowCount
            self.values = values
        }
    }
}

/// One row of a `QueryResult`.
public struct Row: Sendable {
    let storage: QueryResult.Storage
    /// Position of the row in its result, from 0.
    public let index: Int

    public var columnNames: [String] { storage.columnNames }

    /// The raw text PostgreSQL sent for a column; nil for NULL.
    public func text(_ column: String) throws -> String? {
        storage.values[index * storage.columnNames.count + (try position(of: column))]
    }

    public func isNull(_ column: String) throws -> Bool {
        try text(column) == nil
    }

    /// Decodes a column by name. Errors name the column, its index, the expected type and the raw text.
    public func decode<Value: PostgresDecodable>(
        _ column: String, as type: Value.Type = Value.self, file: String = #fileID, line: Int = #line
    ) throws -> Value {
        try decode(position(of: column, file: file, line: line), as: type, file: file, line: line)
    }

    /// Decodes a column by its index, from 0.
    public func decode<Value: PostgresDecodable>(
        _ column: Int, as type: Value.Type = Value.self, file: String = #fileID, line: Int = #line
    ) throws -> Value {
        guard storage.columnNames.indices.contains(column) else {
            throw DatabaseError(
                .decoding, message: "column index \(column) is out of range (the row has \(storage.columnNames.count) columns)",
                file: file, line: line)
        }
        let name = storage.columnNames[column]
        let raw = storage.values[index * storage.columnNames.count + column]
        do {
            return try Value.decode(postgresText: raw)
        } catch {
            let reason = (error as? PostgresDecodingFailure)?.reason ?? String(describing: error)
            let shown = raw.map { "\"\(Row.truncate($0))\"" } ?? "NULL"
            throw DatabaseError(
                .decoding,
                message: "column \"\(name)\" (index \(column)) as \(Value.self): value \(shown) \(reason)",
                column: name, file: file, line: line)
        }
    }

    private func position(of column: String, file: String = #fileID, line: Int = #line) throws -> Int {
        guard let position = storage.columnIndex[column] else {
            throw DatabaseError(
                .decoding,
                message: "no column \"\(column)\" in the result (columns: \(storage.columnNames.joined(separator: ", ")))",
                column: column, file: file, line: line)
        }
        return position
    }

    /// Raw values end up in logs: keep them short.
    private static func truncate(_ text: String) -> String {
        text.count <= 120 ? text : String(text.prefix(120)) + "…"
    }
}
