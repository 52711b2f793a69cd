// Tests of Period (YYYY-MM months, quarters, deadlines) and CalendarDay.
import Foundation
import Testing
@testable import SetaDomain

@Suite("Period")
struct PeriodTests {
    @Test("A well-formed month is read", arguments: ["2020-03", "1900-01", "9999-12"])
    func wellFormedIsRead(text: String) throws {
        let period = try #require(Period(text))
        #expect(period.description == text)
    }

    @Test("Anything but four digits, a hyphen and a real month is refused",
          arguments: ["2020-3", "2020-13", "2020-00", "20-03", " 2020-03", "2020-03 ", "2020/03", "1899-12",
                      "2020-Q1", "", "２０２０-03", "+020-03", "2020-0a"])
    func malformedIsRefused(text: String) {
        #expect(Period(text) == nil)
    }

    @Test("A quarter is read as its last month")
    func quarterIsItsLastMonth() {
        #expect(Period.parseMonthOrQuarter("2020-Q2") == Period("2020-06"))
        #expect(Period.parseMonthOrQuarter("2020-Q1") == Period("2020-03"))
        #expect(Period.parseMonthOrQuarter("2020-Q4") == Period("2020-12"))
        #expect(Period.parseMonthOrQuarter("2020-05") == Period("2020-05"))
        #expect(Period.parseMonthOrQuarter("2020-Q5") == nil)
        #expect(Period.parseMonthOrQuarter("2020-Q0") == nil)
        #expect(Period.parseMonthOrQuarter("2020-q2") == nil)
    }

    @Test("A month knows its quarter")
    func monthKnowsItsQuarter() {
        #expect(Period("2020-05")!.quarter == 2)
        #expect(Period("2020-12")!.quarterLabel == "2020-Q4")
    }

    @Test("Next and previous cross year boundaries")
    func nextAndPrevious() {
        #expect(Period("2020-12")!.next == Period("2021-01"))
        #expect(Period("2021-01")!.previous == Period("2020-12"))
        #expect(Period("2020-03")!.advanced(by: -15) == Period("2018-12"))
        #expect(Period("2020-03")!.advanced(by: 24) == Period("2022-03"))
        #expect(Period("2020-03")!.distance(to: Period("2021-02")!) == 11)
    }

    @Test("Months are ordered by time, not by text")
    func ordering() {
        #expect(Period("2019-12")! < Period("2020-01")!)
        #expect(Period("2020-02")! < Period("2020-10")!)
    }

    @Test("Months from one period to another include both ends; backwards is empty")
    func monthsFromTo() {
        let months = Period.months(from: Period("2020-11")!, to: Period("2021-02")!)
        #expect(months.map(\.description) == ["2020-11", "2020-12", "2021-01", "2021-02"])
        #expect(Period.months(from: Period("2020-05")!, to: Period("2020-05")!).count == 1)
        #expect(Period.months(from: Period("2020-05")!, to: Period("2020-04")!).isEmpty)
    }

    @Test("First and last days, leap years included")
    func firstAndLastDays() {
        #expect(Period("2020-02")!.lastDay.description == "2020-02-29")
        #expect(Period("2021-02")!.lastDay.description == "2021-02-28")
        #expect(Period("1900-02")!.lastDay.day == 28)
        #expect(Period("2000-02")!.lastDay.day == 29)
        #expect(Period("2020-04")!.lastDay.day == 30)
        #expect(Period("2020-04")!.firstDay.description == "2020-04-01")
    }

    @Test("A report for March is due on the 10th of April")
    func deadlineIsInNextMonth() {
        let deadline = Period("2020-03")!.deadline(onTimeDay: 10)
        #expect((deadline.year, deadline.month, deadline.day) == (2020, 4, 10))
        #expect(Period("2020-12")!.deadline(onTimeDay: 10).description == "2021-01-10")
    }

    @Test("A deadline day past the end of the next month is that month's last day")
    func deadlineIsClamped() {
        #expect(Period("2021-01")!.deadline(onTimeDay: 31).description == "2021-02-28")
        #expect(Period("2020-01")!.deadline(onTimeDay: 0).description == "2020-02-01")
    }

    @Test("A report received on the 10th is on time; on the 11th it is late")
    func timeliness() {
        let march = Period("2020-03")!
        #expect(march.isOnTime(receivedOn: CalendarDay("2020-04-10")!, onTimeDay: 10))
        #expect(march.isOnTime(receivedOn: CalendarDay("2020-03-31")!, onTimeDay: 10))
        #expect(!march.isOnTime(receivedOn: CalendarDay("2020-04-11")!, onTimeDay: 10))
    }

    @Test("An instant belongs to the month of Bogotá's wall clock, UTC−5")
    func monthOfAnInstantInBogota() {
        // 2020-04-01T03:00:00Z is still 31 March, 22:00 in Bogotá.
        let instant = Date(timeIntervalSince1970: 1_585_710_000)
        #expect(Period(date: instant) == Period("2020-03"))
        #expect(Period(date: instant, timeZone: TimeZone(secondsFromGMT: 0)!) == Period("2020-04"))
        #expect(CalendarDay(date: instant).description == "2020-03-31")
        // 2020-04-01T05:00:00Z is midnight in Bogotá.
        #expect(CalendarDay(date: Date(timeIntervalSince1970: 1_585_717_200)).description == "2020-04-01")
        #expect(CalendarDay(date: Date(timeIntervalSince1970: 0), timeZone: TimeZone(secondsFromGMT: 0)!).description == "1970-01-01")
        #expect(CalendarDay(date: Date(timeIntervalSince1970: -1), timeZone: TimeZone(secondsFromGMT: 0)!).description == "1969-12-31")
    }

    @Test("A period is encoded and decoded as its YYYY-MM text")
    func codableAsText() throws {
        let data = try JSONEncoder().encode(["period": Period("2020-03")!])
        #expect(String(decoding: data, as: UTF8.self) == #"{"period":"2020-03"}"#)
        let decoded = try JSONDecoder().decode([String: Period].self, from: Data(#"{"p":"2021-11"}"#.utf8))
        #expect(decoded["p"] == Period("2021-11"))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([String: Period].self, from: Data(#"{"p":"2021-1"}"#.utf8))
        }
    }

    @Test("Periods can be iterated as a range")
    func strideable() {
        let range = Period("2020-01")!...Period("2020-03")!
        #expect(range.map(\.month) == [1, 2, 3])
    }
}

@Suite("Calendar day")
struct CalendarDayTests {
    @Test("A real date is read; impossible or malformed ones are refused")
    func strictParsing() {
        #expect(CalendarDay("2020-02-29")?.day == 29)
        #expect(CalendarDay("2021-02-29") == nil)
        #expect(CalendarDay("2020-2-03") == nil)
        #expect(CalendarDay("2020-02-3x") == nil)
        #expect(CalendarDay("2020-04-31") == nil)
        #expect(CalendarDay("2020-04-30")?.period == Period("2020-04"))
    }

    @Test("Days are ordered and encoded as YYYY-MM-DD")
    func orderedAndCodable() throws {
        #expect(CalendarDay("2020-03-31")! < CalendarDay("2020-04-01")!)
        let data = try JSONEncoder().encode([CalendarDay("2020-03-05")!])
        #expect(String(decoding: data, as: UTF8.self) == #"["2020-03-05"]"#)
    }
}
