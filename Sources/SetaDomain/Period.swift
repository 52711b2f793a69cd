// Period (periodo): a calendar month written `YYYY-MM`, and CalendarDay, a civil date without a clock.
import Foundation

/// A reporting month (periodo), written `YYYY-MM`. Quarters (`YYYY-Qn`) are named by their last month
/// because a quarterly cut (corte trimestral) is taken "as of" the end of that month.
///
/// Values are plain numbers: nothing here reads a clock or a time-zone database.
public struct Period: Hashable, Comparable, Strideable, CodableAsText, Sendable {
    /// The years a period may name when parsed or built with `init?(year:month:)`.
    public static let validYears: ClosedRange<Int> = 1900...9999

    public let year: Int
    /// 1 (January) … 12 (December).
    public let month: Int

    /// A period from its parts; nil when the month is not 1…12 or the year is outside `validYears`.
    public init?(year: Int, month: Int) {
        guard Self.validYears.contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    /// Used by arithmetic, which may step outside `validYears` without trapping.
    init(uncheckedYear year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// Strict `YYYY-MM`: exactly four digits, a hyphen, two digits. `2020-3`, `2020-13`, `20-03` and
    /// ` 2020-03` are refused, so a typo in a request is an error and not some other month.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"),
              let year = Self.digits(bytes[0..<4]), let month = Self.digits(bytes[5..<7])
        else { return nil }
        self.init(year: year, month: month)
    }

    /// Accepts a month (`2020-03`) or a quarter (`2020-Q2`, Q1…Q4); a quarter yields its last month
    /// (`2020-Q2` → `2020-06`).
    public static func parseMonthOrQuarter(_ text: String) -> Period? {
        if let month = Period(text) { return month }
        let bytes = Array(text.utf8)
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"), bytes[5] == UInt8(ascii: "Q"),
              let year = digits(bytes[0..<4]), let quarter = digits(bytes[6..<7]), (1...4).contains(quarter)
        else { return nil }
        return Period(year: year, month: quarter * 3)
    }

    private static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// The month containing `date` on the wall clock of `timeZone` (Bogotá, UTC−5, by default).
    /// Pure computation: the caller passes the instant, so tests need no clock.
    public init(date: Date, timeZone: TimeZone = .bogota) {
        let day = CalendarDay(date: date, timeZone: timeZone)
        self.init(uncheckedYear: day.year, month: day.month)
    }

    public var description: String {
        Self.pad(year, 4) + "-" + Self.pad(month, 2)
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    // MARK: Arithmetic

    /// Months counted from year 0, so that arithmetic is a plain integer operation.
    private var monthIndex: Int { year * 12 + (month - 1) }

    public func advanced(by months: Int) -> Period {
        let index = monthIndex + months
        let year = index >= 0 ? index / 12 : (index - 11) / 12
        return Period(uncheckedYear: year, month: index - year * 12 + 1)
    }

    public func distance(to other: Period) -> Int { other.monthIndex - monthIndex }

    public var next: Period { advanced(by: 1) }
    public var previous: Period { advanced(by: -1) }

    public static func < (lhs: Period, rhs: Period) -> Bool { lhs.monthIndex < rhs.monthIndex }

    /// Every month from `from` to `to`, both included; empty when `from` is after `to`.
    public static func months(from: Period, to: Period) -> [Period] {
        guard from <= to else { return [] }
        return Array(from...to)
    }

    // MARK: Days and quarters

    /// 1…4.
    public var quarter: Int { (month - 1) / 3 + 1 }
    /// `2020-Q2`.
    public var quarterLabel: String { Self.pad(year, 4) + "-Q" + String(quarter) }

    public var numberOfDays: Int { CalendarDay.daysIn(year: year, month: month) }
    public var firstDay: CalendarDay { CalendarDay(uncheckedYear: year, month: month, day: 1) }
    public var lastDay: CalendarDay { CalendarDay(uncheckedYear: year, month: month, day: numberOfDays) }

    /// The last day a report for this month is on time: day `onTimeDay` of the next month (SPEC rule 7,
    /// "due by the 10th"). A day past the end of that month means its last day (31 in February → 28/29),
    /// and a day below 1 means the 1st, so a misconfigured plan still gets a real date.
    public func deadline(onTimeDay: Int) -> CalendarDay {
        let month = next
        let day = min(max(onTimeDay, 1), month.numberOfDays)
        return CalendarDay(uncheckedYear: month.year, month: month.month, day: day)
    }

    /// Whether a report for this month received on `day` (Bogotá date) is on time.
    public func isOnTime(receivedOn day: CalendarDay, onTimeDay: Int) -> Bool {
        day <= deadline(onTimeDay: onTimeDay)
    }

    // MARK: Codable as "YYYY-MM"

    public static let expectedText = "un periodo AAAA-MM"
}

extension TimeZone {
    /// Colombia's civil time: UTC−5 all year (no daylight saving since 1993), so a fixed offset is exact
    /// and needs no tz database.
    public static let bogota = TimeZone(secondsFromGMT: -5 * 3600)!
}

/// A civil date (year, month, day) with no time and no zone, written `YYYY-MM-DD`: the day a milestone
/// was achieved, an advisory session took place, or a report is due.
public struct CalendarDay: Hashable, Comparable, CodableAsText, Sendable {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil unless it is a real date of a year in `Period.validYears`.
    public init?(year: Int, month: Int, day: Int) {
        guard Period.validYears.contains(year), (1...12).contains(month),
              (1...Self.daysIn(year: year, month: month)).contains(day)
        else { return nil }
        self.init(uncheckedYear: year, month: month, day: day)
    }

    init(uncheckedYear year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Strict `YYYY-MM-DD` (`2020-02-30` and `2020-2-3` are refused).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let period = Period(String(decoding: bytes[0..<7], as: UTF8.self)),
              let day = Int(String(decoding: bytes[8..<10], as: UTF8.self)),
              bytes[8...9].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        self.init(year: period.year, month: period.month, day: day)
    }

    /// The wall-clock date of `date` in `timeZone` (Bogotá by default); pure arithmetic on the instant.
    public init(date: Date, timeZone: TimeZone = .bogota) {
        let offset = timeZone.secondsFromGMT(for: date)
        let seconds = Int((date.timeIntervalSince1970).rounded(.down)) + offset
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        self = Self.civil(fromDaysSinceEpoch: days)
    }

    /// The month this day belongs to.
    public var period: Period { Period(uncheckedYear: year, month: month) }

    public var description: String {
        Period.pad(year, 4) + "-" + Period.pad(month, 2) + "-" + Period.pad(day, 2)
    }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's `civil_from_days`: proleptic Gregorian date of a day count from 1970-01-01.
    static func civil(fromDaysSinceEpoch days: Int) -> CalendarDay {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return CalendarDay(uncheckedYear: year, month: month, day: day)
    }

    // MARK: Codable as "YYYY-MM-DD"

    public static let expectedText = "una fecha AAAA-MM-DD"
}
