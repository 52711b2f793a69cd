// Tests of PostgresDecodable: parsing PostgreSQL's text format for each supported type.
import Foundation
@testable import SetaDatabase
import Testing

@Suite("PostgresDecodable")
struct PostgresDecodableTests {
    @Test("numeric text becomes the exact Decimal, digit for digit")
    func decimalIsExact() throws {
        #expect(try Decimal.decode(postgresText: "0.3") == Decimal(string: "0.3"))
        #expect(try Decimal.decode(postgresText: "33.333333333333333333").description == "33.333333333333333333")
        #expect(try Decimal.decode(postgresText: "-0.000100") == Decimal(string: "-0.0001"))
        #expect(try Decimal.decode(postgresText: "100.00") == 100)
        #expect(try Decimal.decode(postgresText: "0") == 0)
        #expect(try Decimal.decode(postgresText: "12345678901234567890123456789012345678").description
            == "12345678901234567890123456789012345678")
        for bad in ["", "12abc", "1.2.3", "NaN", "Infinity", "-Infinity", "123456789012345678901234567890123456789"] {
            #expect(throws: PostgresDecodingFailure.self, "\(bad)") { try Decimal.decode(postgresText: bad) }
        }
        #expect(throws: PostgresDecodingFailure.unexpectedNull) { try Decimal.decode(postgresText: nil) }
    }

    @Test("short numeric text reads to the same Decimal, in the same form, as the general path; empty text is no number")
    func numericFastPathAgrees() throws {
        for text in ["57.14", "-3.5", "100", "100.00", "0.000100", "-0", "0.00", "999999999999999999", "12.3400"] {
            let fast = try #require(PostgresNumeric.plain(text), "\(text)")
            let general = try #require(Decimal(string: text))
            #expect(fast == general, "\(text)")
            #expect(fast.description == (try Decimal.decode(postgresText: text + "e0")).description, "\(text)")
        }
        for text in ["1e2", "+5", "1.2.3", "123456789012345678901234567890123456789", "", "-", "."] {
            #expect(PostgresNumeric.plain(text) == nil, "\(text)")
        }
        #expect(Decimal(postgresNumeric: "") == nil)
        #expect(Decimal(postgresNumeric: "33.33") == Decimal(string: "33.33"))
    }

    @Test("long numeric text (19 to 38 digits: the means and shares of a cut) reads by the fast path to the general path's value and form")
    func numericFastPathLongValues() throws {
        for text in ["33.3333333333333333", "57.142857142857142857", "-0.00000000000000000001234", "1234567890123456789",
                     "12345678901234567890123456789012345678", "99999999999999999999999999999999999999",
                     "18446744073709551616", "100.00000000000000000000", "0.00000000000000000000000000000000000001",
                     "000000000000000000000000000000000000000000012.5"] {
            let fast = try #require(PostgresNumeric.plain(text), "\(text)")
            let general = try Decimal.decode(postgresText: text + "e0")
            #expect(fast == general, "\(text)")
            #expect(fast.description == general.description, "\(text)")
        }
    }

    @Test("integers and booleans refuse text that is not theirs")
    func integersAndBooleans() throws {
        #expect(try Int.decode(postgresText: "-17") == -17)
        #expect(throws: PostgresDecodingFailure.self) { try Int32.decode(postgresText: "3000000000") }
        #expect(throws: PostgresDecodingFailure.self) { try Int.decode(postgresText: "1.5") }
        #expect(try Bool.decode(postgresText: "t"))
        #expect(try !Bool.decode(postgresText: "f"))
        #expect(throws: PostgresDecodingFailure.self) { try Bool.decode(postgresText: "yes") }
    }

    @Test("timestamps with any offset, plain timestamps and dates become the right instant")
    func timestamps() throws {
        let expected = Date(timeIntervalSince1970: 1_709_647_629.5)
        #expect(try Date.decode(postgresText: "2024-03-05 14:07:09.5+00") == expected)
        #expect(try Date.decode(postgresText: "2024-03-05 09:07:09.5-05") == expected)
        #expect(try Date.decode(postgresText: "2024-03-05 19:37:09.5+05:30") == expected)
        #expect(try Date.decode(postgresText: "2024-03-05T14:07:09.500000Z") == expected)
        #expect(try Date.decode(postgresText: "2024-03-05 14:07:09.5") == expected)
        #expect(try Date.decode(postgresText: "2024-03-05") == Date(timeIntervalSince1970: 1_709_596_800))
        #expect(try Date.decode(postgresText: "1969-12-31 23:59:59+00") == Date(timeIntervalSince1970: -1))
        #expect(abs(try Date.decode(postgresText: "2000-02-29 00:00:00.000001+00").timeIntervalSince1970 - 951_782_400.000001) < 0.000_000_1)
        for bad in ["infinity", "2024-13-01", "2024-03-05 25", "05/03/2024", "2024-03-05 14:07:09+00 BC"] {
            #expect(throws: PostgresDecodingFailure.self, "\(bad)") { try Date.decode(postgresText: bad) }
        }
    }

    @Test("a formatted date is read back to the microsecond")
    func dateRoundTripsThroughText() throws {
        for seconds in [0, 1_709_647_629.123456, -86_400.25, 4_102_444_799.999999] {
            let date = Date(timeIntervalSince1970: seconds)
            let back = try Date.decode(postgresText: date.postgresText)
            #expect(abs(back.timeIntervalSince(date)) < 0.000_001)
        }
    }

    @Test("array literals with quotes, escapes, NULL and bounds are parsed")
    func arrayLiterals() throws {
        #expect(try [String].decode(postgresText: #"{a,"b\"c","d,e",NULL2," x "}"#) == ["a", "b\"c", "d,e", "NULL2", " x "])
        #expect(try [String?].decode(postgresText: #"{a,NULL,"NULL",null}"#) == ["a", nil, "NULL", nil])
        #expect(try [String].decode(postgresText: "{}") == [])
        #expect(try [String].decode(postgresText: #"{"back\\slash","{brace}"}"#) == ["back\\slash", "{brace}"])
        #expect(try [Int].decode(postgresText: "[0:2]={1,2,3}") == [1, 2, 3])
        #expect(try [String].decode(postgresText: #"{"ñandú 🇨🇴",Bogotá}"#) == ["ñandú 🇨🇴", "Bogotá"])
        let nullElement = #expect(throws: PostgresDecodingFailure.self) { try [String].decode(postgresText: "{a,NULL}") }
        #expect(nullElement?.reason.contains("element 2") == true)
        for bad in ["a,b", "{{1,2},{3,4}}", #"{"open}"#, #"{"a"b}"#, "{a,,b}"] {
            #expect(throws: PostgresDecodingFailure.self, "\(bad)") { try [String].decode(postgresText: bad) }
        }
    }

    @Test("UUIDs, JSON and optional wrappers decode")
    func otherTypes() throws {
        #expect(try UUID.decode(postgresText: "e621e1f8-c36c-495a-93fc-0c247a3e6e5f") == UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
        #expect(throws: PostgresDecodingFailure.self) { try UUID.decode(postgresText: "nope") }
        struct Payload: Codable, Equatable { var name: String; var weight: Decimal }
        let json = try PostgresJSON(encoding: Payload(name: "H1", weight: Decimal(string: "2.5")!))
        #expect(json.text == #"{"name":"H1","weight":2.5}"#)
        #expect(try json.decode(Payload.self) == Payload(name: "H1", weight: Decimal(string: "2.5")!))
        #expect(try String?.decode(postgresText: nil) == nil)
        #expect(try Int??.decode(postgresText: "3") == 3)
    }

    @Test("array literals: unquoted elements are trimmed of spaces, NULL in any case is nil, a quoted \"NULL\" is text")
    func arrayLiteral_TrimsAndReadsNull() throws {
        #expect(try [String?].decode(postgresText: #"{ a ,null,NuLl,"NULL",b}"#) == ["a", nil, nil, "NULL", "b"])
        #expect(try [String?].decode(postgresText: "{\u{00A0}x\u{00A0},\ty}") == ["x", "y"])
        #expect(throws: PostgresDecodingFailure.self) { try [String?].decode(postgresText: "{a,  ,b}") }
    }
}
