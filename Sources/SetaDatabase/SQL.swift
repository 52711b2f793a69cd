// SQL: query text whose interpolated values become $N bound parameters, never spliced text.
import Foundation

/// A SQL command and its bound values.
///
/// Interpolating a value adds a `$N` placeholder and binds the value's text:
/// `"SELECT * FROM entity WHERE code = \(code)"` sends `… WHERE code = $1` with `code` as parameter 1.
/// Raw text goes in only through the `unsafe:` label, so it stands out in review. Fragments compose:
/// placeholders are numbered when the text is read, so appending one query to another renumbers them.
///
///     var sql: SQL = "SELECT code FROM entity WHERE true"
///     if let region { sql.append(" AND region = \(region)") }
public struct SQL: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    enum Piece: Sendable, Equatable {
        case text(String)
        case binding(String?)
    }

    private(set) var pieces: [Piece]

    /// Raw SQL text, taken as is. Never build it from input: use interpolation for values.
    public init(unsafe text: String) {
        pieces = text.isEmpty ? [] : [.text(text)]
    }

    public init(stringLiteral value: String) {
        self.init(unsafe: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        pieces = stringInterpolation.pieces
    }

    /// A double-quoted identifier (table, column, database name), with embedded quotes doubled.
    public init(identifier: String) {
        self.init(unsafe: SQL.quoteIdentifier(identifier))
    }

    /// The text sent to PostgreSQL, with `$1`, `$2`, … where the values go.
    public var text: String {
        var result = ""
        var number = 0
        for piece in pieces {
            switch piece {
            case .text(let text):
                result += text
            case .binding:
                number += 1
                result += "$\(number)"
            }
        }
        return result
    }

    /// The bound values in PostgreSQL's text format, in `$N` order; nil is NULL.
    public var bindings: [String?] {
        pieces.compactMap { piece in
            if case .binding(let value) = piece { return .some(value) }
            return nil
        }
    }

    /// The text only: printing a query never prints its values.
    public var description: String { text }

    public mutating func append(_ other: SQL) {
        pieces.append(contentsOf: other.pieces)
    }

    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var result = lhs
        result.append(rhs)
        return result
    }

    public static func += (lhs: inout SQL, rhs: SQL) {
        lhs.append(rhs)
    }

    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var pieces: [Piece] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(interpolationCount * 2 + 1)
        }

        public mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { pieces.append(.text(literal)) }
        }

        /// A bound value: becomes `$N`.
        public mutating func appendInterpolation<Value: PostgresBindable>(_ value: Value) {
            pieces.append(.binding(value.postgresText))
        }

        /// An optional value: NULL when nil. (Spelled out so the compiler does not warn about
        /// interpolating an optional.)
        public mutating func appendInterpolation<Value: PostgresBindable>(_ value: Value?) {
            pieces.append(.binding(value.postgresText))
        }

        /// Another query fragment, with its own bound values.
        public mutating func appendInterpolation(_ fragment: SQL) {
            pieces.append(contentsOf: fragment.pieces)
        }

        /// Raw text, for the rare case a fragment cannot be a value (ORDER BY direction from a whitelist).
        public mutating func appendInterpolation(unsafe text: String) {
            if !text.isEmpty { pieces.append(.text(text)) }
        }

        /// A double-quoted identifier.
        public mutating func appendInterpolation(identifier: String) {
            pieces.append(.text(SQL.quoteIdentifier(identifier)))
        }
    }
}

extension Sequence where Element == SQL {
    /// Joins fragments, e.g. WHERE conditions with `" AND "`, keeping every fragment's bound values.
    public func joined(separator: SQL) -> SQL {
        var result = SQL(unsafe: "")
        var first = true
        for fragment in self {
            if !first { result.append(separator) }
            result.append(fragment)
            first = false
        }
        return result
    }
}
