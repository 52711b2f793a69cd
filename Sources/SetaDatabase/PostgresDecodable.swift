// PostgresDecodable: the Swift types a result column can be read as, parsed from PostgreSQL's text format.
import Foundation

/// A type that can be built from a result value in PostgreSQL's text format.
public protocol PostgresDecodable {
    /// Builds a value from PostgreSQL's text; `text` is nil for SQL NULL. Throw `PostgresDecodingFailure`;
    /// `Row` adds the column, its index, the type and the raw text.
    static func decode(postgresText text: String?) throws -> Self
}

/// Why one value could not be decoded; `Row` turns it into a `DatabaseError` of kind `.decoding`.
public struct PostgresDecodingFailure: Error, Sendable, Equatable {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public static let unexpectedNull = PostgresDecodingFailure("is NULL but the type is not optional")

    /// The text of a non-optional value, or `.unexpectedNull`.
    public static func nonNull(_ text: String?) throws -> String {
        guard let text else { throw unexpectedNull }
        return text
    }
}

extension String: PostgresDecodable {
    public static func decode(postgresText text: String?) throws -> String {
        try PostgresDecodingFailure.nonNull(text)
    }
}

/// Integers of every width read alike: a whole number in decimal that the type can hold.
extension PostgresDecodable where Self: FixedWidthInteger {
    public static func decode(postgresText text: String?) throws -> Self {
        guard let value = Self(try PostgresDecodingFailure.nonNull(text)) else {
            throw PostgresDecodingFailure("is not an integer in range")
        }
        return value
    }
}

extension Int: PostgresDecodable {}
extension Int64: PostgresDecodable {}
extension Int32: PostgresDecodable {}

extension Bool: PostgresDecodable {
    public static func decode(postgresText text: String?) throws -> Bool {
        switch try PostgresDecodingFailure.nonNull(text) {
        case "t", "true": return true
        case "f", "false": return false
        default: throw PostgresDecodingFailure("is not a boolean (t or f)")
        }
    }
}

extension Decimal: PostgresDecodable {
    /// Parses `numeric` text digit for digit. A value Decimal cannot hold exactly (more than 38
    /// significant digits, NaN, Infinity) is an error rather than a silently rounded number.
    public static func decode(postgresText text: String?) throws -> Decimal {
        try PostgresNumeric.parse(try PostgresDecodingFailure.nonNull(text))
    }

    /// `numeric` text as PostgreSQL writes it anywhere: a column, an array element, jsonb's `->>`. This and
    /// `decode(postgresText:)` are the one numeric reader of the package (stores read `numeric` through them,
    /// never through `Decimal(string:)` or `Decimal(exactText:)`, which parse what people type). Nil for empty
    /// text (a figure that is absent) or anything that is not a finite number Decimal holds exactly.
    public init?(postgresNumeric text: String) {
        guard let value = try? PostgresNumeric.parse(text) else { return nil }
        self = value
    }
}

extension UUID: PostgresDecodable {
    public static func decode(postgresText text: String?) throws -> UUID {
        guard let value = UUID(uuidString: try PostgresDecodingFailure.nonNull(text)) else {
            throw PostgresDecodingFailure("is not a UUID")
        }
        return value
    }
}

extension Date: PostgresDecodable {
    /// Reads `timestamptz`, `timestamp` (taken as UTC) and `date` (midnight UTC) in ISO DateStyle, which
    /// every `Connection` sets for its session.
    public static func decode(postgresText text: String?) throws -> Date {
        try PostgresTimestamp.parse(try PostgresDecodingFailure.nonNull(text))
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText text: String?) throws -> Wrapped? {
        guard let text else { return nil }
        return try Wrapped.decode(postgresText: text)
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Reads a one-dimensional array literal (`{a,"b c",NULL}`); each element is decoded as `Element`, so a
    /// NULL element needs an optional element type.
    public static func decode(postgresText text: String?) throws -> [Element] {
        let elements = try PostgresArrayLiteral.parse(try PostgresDecodingFailure.nonNull(text))
        return try elements.enumerated().map { index, element in
            do {
                return try Element.decode(postgresText: element)
            } catch let failure as PostgresDecodingFailure {
                throw PostgresDecodingFailure("element \(index + 1) \(failure.reason)")
            }
        }
    }
}

/// Exact parsing of PostgreSQL `numeric` text into `Decimal`.
enum PostgresNumeric {
    /// The common case, a plain number (`57.14`, `-3.5`, `100`, `33.3333333333333333`: no sign but `-`, no
    /// exponent) of at most 38 significant digits, built from its digits in 128-bit arithmetic: many times
    /// faster than going through Foundation's parser, which a cut export of every entity felt (its means and
    /// shares carry 16 to 20 decimals). The value has the same form as the general path's (trailing zeros
    /// moved into the exponent). Nil otherwise, and the general path decides.
    static func plain(_ text: String) -> Decimal? {
        var significand: UInt128 = 0, digits = 0, exponent = 0, negative = false, afterPoint = false, sawDigit = false
        for (i, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where i == 0: negative = true
            case UInt8(ascii: ".") where !afterPoint: afterPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                sawDigit = true
                // Leading zeros are not significant: they never reach the 38-digit bound.
                if significand != 0 || byte != UInt8(ascii: "0") { digits += 1 }
                if digits > 38 { return nil }
                significand = significand * 10 + UInt128(byte - UInt8(ascii: "0"))
                if afterPoint { exponent -= 1 }
            default: return nil
            }
        }
        guard sawDigit else { return nil }
        if significand == 0 { return Decimal(0) }
        while significand % 10 == 0 {
            significand /= 10
            exponent += 1
        }
        guard exponent >= -128, exponent <= 127 else { return nil }
        let whole: Decimal
        if significand <= UInt128(UInt64.max) {
            whole = Decimal(UInt64(significand))
        } else {
            // Two exact halves: Decimal's own arithmetic is exact within its 38 digits.
            let (high, low) = significand.quotientAndRemainder(dividingBy: 10_000_000_000_000_000_000)
            whole = Decimal(UInt64(high)) * Decimal(sign: .plus, exponent: 19, significand: 1) + Decimal(UInt64(low))
        }
        return Decimal(sign: negative ? .minus : .plus, exponent: exponent, significand: whole)
    }

    static func parse(_ text: String) throws -> Decimal {
        if let value = plain(text) { return value }
        var digits = ""
        var exponent = 0
        var negative = false
        var seenPoint = false
        var seenDigit = false
        var index = text.startIndex
        if index < text.endIndex, text[index] == "-" || text[index] == "+" {
            negative = text[index] == "-"
            index = text.index(after: index)
        }
        while index < text.endIndex {
            let character = text[index]
            if let digit = character.wholeNumberValue, character.isASCII {
                seenDigit = true
                digits.append(Character(String(digit)))
                if seenPoint { exponent -= 1 }
            } else if character == ".", !seenPoint {
                seenPoint = true
            } else if character == "e" || character == "E", seenDigit {
                guard let value = Int(text[text.index(after: index)...]) else {
                    throw PostgresDecodingFailure("is not a decimal number")
                }
                exponent += value
                index = text.endIndex
                break
            } else {
                throw PostgresDecodingFailure("is not a finite decimal number")
            }
            index = text.index(after: index)
        }
        guard seenDigit else { throw PostgresDecodingFailure("is not a decimal number") }
        // Significand without leading zeros and without trailing zeros (moved into the exponent).
        var significand = Substring(digits.drop { $0 == "0" })
        while significand.last == "0" {
            significand = significand.dropLast()
            exponent += 1
        }
        if significand.isEmpty { return Decimal(0) }
        // Decimal holds a 128-bit significand (38 digits always fit) and an 8-bit exponent.
        guard significand.count <= 38, exponent >= -128, exponent <= 127 else {
            throw PostgresDecodingFailure("has more precision than Decimal can hold exactly")
        }
        let normalized = (negative ? "-" : "") + significand + "e" + String(exponent)
        guard let value = Decimal(string: normalized, locale: Locale(identifier: "en_US_POSIX")) else {
            throw PostgresDecodingFailure("is not a decimal number")
        }
        return value
    }
}
