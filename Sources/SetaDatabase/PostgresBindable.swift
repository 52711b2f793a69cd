// PostgresBindable: the Swift values that can be bound as query parameters, in PostgreSQL's text format.
import Foundation

/// A value that can be sent as a bound parameter. All parameters go in text format and PostgreSQL infers
/// their type from the query (add a cast such as `$1::int` where it cannot).
public protocol PostgresBindable: Sendable {
    /// The value in PostgreSQL's text input format; nil is SQL NULL.
    var postgresText: String? { get }
}

/// A value that may be an element of a bound array (`text[]`, `int[]`, …).
public protocol PostgresArrayElement: PostgresBindable {}

extension String: PostgresArrayElement {
    public var postgresText: String? { self }
}

extension Substring: PostgresBindable {
    public var postgresText: String? { String(self) }
}

extension Int: PostgresArrayElement {
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresArrayElement {
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresArrayElement {
    public var postgresText: String? { String(self) }
}

extension Bool: PostgresArrayElement {
    public var postgresText: String? { self ? "true" : "false" }
}

extension Decimal: PostgresArrayElement {
    /// The exact decimal digits; `Decimal.description` never goes through binary floating point.
    public var postgresText: String? { description }
}

extension UUID: PostgresArrayElement {
    public var postgresText: String? { uuidString.lowercased() }
}

extension Date: PostgresArrayElement {
    /// ISO 8601 with microseconds and an explicit UTC offset, read by PostgreSQL as `timestamptz`.
    public var postgresText: String? { PostgresTimestamp.format(self) }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public var postgresText: String? {
        switch self {
        case .some(let value): return value.postgresText
        case .none: return nil
        }
    }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {}

extension Array: PostgresBindable where Element: PostgresArrayElement {
    /// A one-dimensional array literal with every element quoted: `{"a","b\"c",NULL}`.
    public var postgresText: String? {
        PostgresArrayLiteral.format(map(\.postgresText))
    }
}

/// JSON text bound as is (cast with `$1::jsonb` where the type is not clear) and read back as text.
public struct PostgresJSON: PostgresBindable, PostgresDecodable, Hashable, Sendable {
    public var text: String

    public init(_ text: String) {
        self.text = text
    }

    /// Encodes a value with `JSONEncoder` (sorted keys, so equal values give equal text).
    public init<Value: Encodable>(encoding value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes the JSON text with `JSONDecoder`.
    public func decode<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(text.utf8))
    }

    public var postgresText: String? { text }

    public static func decode(postgresText text: String?) throws -> PostgresJSON {
        PostgresJSON(try PostgresDecodingFailure.nonNull(text))
    }
}
