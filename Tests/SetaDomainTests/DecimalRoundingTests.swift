// Tests of the exact decimal helpers: PostgreSQL-style rounding, fixed-scale text, strict parsing.
import Foundation
import Testing
@testable import SetaDomain

@Suite("Decimal rounding and parsing")
struct DecimalRoundingTests {
    @Test("Rounding to two decimals is half away from zero, like PostgreSQL round(numeric, 2)")
    func halfAwayFromZero() {
        #expect(dec("2.345").rounded(scale: 2) == dec("2.35"))
        #expect(dec("-2.345").rounded(scale: 2) == dec("-2.35"))
        #expect(dec("2.344").rounded(scale: 2) == dec("2.34"))
        #expect(dec("3.333").rounded(scale: 2) == dec("3.33"))
        #expect(dec("0.125").rounded(scale: 2) == dec("0.13"))
        #expect(dec("99.995").rounded(scale: 2) == 100)
    }

    @Test("Results are written with exactly two decimals")
    func fixedString() {
        #expect(Decimal(20).fixedString(scale: 2) == "20.00")
        #expect(dec("7.5").fixedString(scale: 2) == "7.50")
        #expect(dec("3.333").fixedString(scale: 2) == "3.33")
        #expect(dec("99.996").fixedString(scale: 2) == "100.00")
        #expect(dec("-0.001").fixedString(scale: 2) == "0.00")
        #expect(dec("-1.5").fixedString(scale: 2) == "-1.50")
        #expect(dec("1E+1").fixedString(scale: 0) == "10")
        #expect((Decimal(1) / 3).fixedString(scale: 4) == "0.3333")
    }

    @Test("Weights are parsed exactly, spreadsheet exponents included")
    func strictParsing() {
        #expect(Decimal(exactText: "33.33") == Decimal(3333) / 100)
        #expect(Decimal(exactText: "1E+1") == 10)
        #expect(Decimal(exactText: "7.5") == Decimal(75) / 10)
        #expect(Decimal(exactText: ".5") == Decimal(5) / 10)
        #expect(Decimal(exactText: "-3") == -3)
    }

    @Test("Text that is not entirely a number is refused",
          arguments: ["", "12abc", "33,33", " 5", "5 ", "1E", "E5", ".", "-", "1.2.3", "NaN", "1e+1234"])
    func malformedIsRefused(text: String) {
        #expect(Decimal(exactText: text) == nil)
    }
}
