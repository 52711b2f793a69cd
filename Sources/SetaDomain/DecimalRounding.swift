// Exact decimal helpers: strict parsing of weights, rounding as PostgreSQL does, fixed-scale text.
import Foundation

extension Decimal {
    /// Rounded to `scale` decimals, half away from zero: the same as PostgreSQL's `round(numeric, scale)`,
    /// so a value rounded here and one rounded in SQL agree to the cent (2.345 → 2.35, −2.345 → −2.35).
    public func rounded(scale: Int) -> Decimal {
        var value = self
        var result = Decimal()
        NSDecimalRound(&result, &value, scale, .plain)
        return result
    }

    /// Fixed-point text with exactly `scale` decimals after rounding half away from zero, with a point as
    /// separator whatever the locale: `20` → "20.00", `3.333` → "3.33". This is how results are written out.
    public func fixedString(scale: Int) -> String {
        let rounded = self.rounded(scale: scale)
        var text = rounded.description
        // Decimal.description is plain notation with "." (no exponent, no grouping) on every platform.
        var sign = ""
        if text.hasPrefix("-") { sign = "-"; text.removeFirst() }
        var parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 { parts.append("") }
        guard scale > 0 else { return (rounded.isZero ? "" : sign) + parts[0] }
        let fraction = parts[1] + String(repeating: "0", count: max(0, scale - parts[1].count))
        return (rounded.isZero ? "" : sign) + parts[0] + "." + fraction
    }

    /// Strict decimal parsing for weights read from files and requests: optional sign, digits, optional
    /// fraction, optional exponent (`7.5`, `33.33`, `1E+1` as spreadsheets write 10). Refuses what
    /// `Decimal(string:)` silently accepts ("12abc" → 12), empty text, spaces, and comma separators.
    public init?(exactText text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        func skipDigits() -> Int {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        var digitCount = skipDigits()
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            digitCount += skipDigits()
        }
        guard digitCount > 0, digitCount <= 38 else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            let exponentDigits = skipDigits()
            guard exponentDigits > 0, exponentDigits <= 3 else { return nil }
        }
        guard index == bytes.count,
              let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")),
              !value.isNaN
        else { return nil }
        self = value
    }
}
