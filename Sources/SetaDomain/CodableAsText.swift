// CodableAsText: a value written on the wire as its text and read back from it (a month, a day).

/// A value that JSON (and every Codable format) carries as its text, `description`, and reads back with `init?(_:)`:
/// a month `YYYY-MM` (`Period`), a day `YYYY-MM-DD` (`CalendarDay`). Text that does not parse is a decoding error
/// that says what was expected and what came.
public protocol CodableAsText: Codable, LosslessStringConvertible {
    /// What a decoder expected, as the error says it: «se esperaba un periodo AAAA-MM, …».
    static var expectedText: String { get }
}

extension CodableAsText {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "se esperaba \(Self.expectedText), se recibió \"\(text)\"")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
