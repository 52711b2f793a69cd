// Converting Date to and from PostgreSQL's ISO timestamp text, to the microsecond, without a calendar.
import Foundation

enum PostgresTimestamp {
    /// `2024-03-05T14:07:09.123456+00:00`: PostgreSQL keeps microseconds, so we send them.
    static func format(_ date: Date) -> String {
        var micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        if !micros.isFinite { micros = 0 }
        let totalMicros = Int64(micros)
        var seconds = totalMicros / 1_000_000
        var fraction = totalMicros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)
        let hour = secondOfDay / 3600
        let minute = secondOfDay / 60 % 60
        let second = secondOfDay % 60
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(hour, 2) + ":" + pad(minute, 2)
            + ":" + pad(second, 2) + "." + pad(fraction, 6) + "+00:00"
    }

    /// Reads `YYYY-MM-DD`, optionally followed by ` HH:MM:SS[.ffffff]` and an offset `±HH[:MM[:SS]]`.
    /// No offset means UTC (a `timestamp` or `date` column).
    static func parse(_ text: String) throws -> Date {
        var reader = Reader(Array(text.utf8))
        guard let year = reader.number(digits: 4...), reader.take(UInt8(ascii: "-")),
              let month = reader.number(digits: 2...2), reader.take(UInt8(ascii: "-")),
              let day = reader.number(digits: 2...2), (1...12).contains(month), (1...31).contains(day)
        else { throw invalid }
        var secondsOfDay: Int64 = 0
        var micros: Int64 = 0
        var offset: Int64 = 0
        if reader.take(UInt8(ascii: " ")) || reader.take(UInt8(ascii: "T")) {
            guard let hour = reader.number(digits: 2...2), reader.take(UInt8(ascii: ":")),
                  let minute = reader.number(digits: 2...2), reader.take(UInt8(ascii: ":")),
                  let second = reader.number(digits: 2...2), hour <= 24, minute < 60, second < 61
            else { throw invalid }
            secondsOfDay = hour * 3600 + minute * 60 + second
            if reader.take(UInt8(ascii: ".")) {
                let start = reader.position
                guard let fraction = reader.number(digits: 1...9) else { throw invalid }
                let count = reader.position - start
                var scaled = fraction
                if count < 6 { for _ in count..<6 { scaled *= 10 } }
                if count > 6 { for _ in 6..<count { scaled /= 10 } }
                micros = scaled
            }
            if let sign = reader.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                reader.position += 1
                guard let hours = reader.number(digits: 2...2) else { throw invalid }
                var total = hours * 3600
                if reader.take(UInt8(ascii: ":")) {
                    guard let minutes = reader.number(digits: 2...2) else { throw invalid }
                    total += minutes * 60
                    if reader.take(UInt8(ascii: ":")) {
                        guard let seconds = reader.number(digits: 2...2) else { throw invalid }
                        total += seconds
                    }
                }
                offset = sign == UInt8(ascii: "-") ? -total : total
            } else {
                _ = reader.take(UInt8(ascii: "Z"))
            }
        }
        guard reader.atEnd else { throw invalid }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + secondsOfDay - offset
        // Integer seconds first, then the fraction, so the Double is as close as it can be.
        return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(micros) / 1_000_000)
    }

    private static let invalid = PostgresDecodingFailure("is not an ISO date or timestamp (e.g. 2024-03-05 14:07:09+00)")

    private struct Reader {
        let bytes: [UInt8]
        var position = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { position == bytes.count }
        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }
        mutating func take(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            position += 1
            return true
        }
        mutating func number(digits allowed: PartialRangeFrom<Int>) -> Int64? {
            number(digits: allowed.lowerBound...18)
        }
        mutating func number(digits allowed: ClosedRange<Int>) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < allowed.upperBound {
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                count += 1
                position += 1
            }
            return allowed.contains(count) ? value : nil
        }
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    // Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian, day 0 = 1970-01-01.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
