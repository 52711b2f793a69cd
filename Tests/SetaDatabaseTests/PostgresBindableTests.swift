// Tests of PostgresBindable: the PostgreSQL text format each bindable Swift value is sent in.
import Foundation
import SetaDatabase
import Testing

@Suite("PostgresBindable")
struct PostgresBindableTests {
    @Test("each bindable type has PostgreSQL's text format")
    func textFormats() throws {
        #expect(true.postgresText == "true")
        #expect(false.postgresText == "false")
        #expect(Int64.max.postgresText == "9223372036854775807")
        #expect(Int32(-5).postgresText == "-5")
        #expect(Decimal(string: "33.333333333333333333")!.postgresText == "33.333333333333333333")
        let id = try #require(UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
        #expect(id.postgresText == "e621e1f8-c36c-495a-93fc-0c247a3e6e5f")
        #expect(Date(timeIntervalSince1970: 0).postgresText == "1970-01-01T00:00:00.000000+00:00")
        #expect(Date(timeIntervalSince1970: 1_709_647_629.123456).postgresText == "2024-03-05T14:07:09.123456+00:00")
        #expect(Date(timeIntervalSince1970: -1.5).postgresText == "1969-12-31T23:59:58.500000+00:00")
        #expect(PostgresJSON("{\"a\":1}").postgresText == "{\"a\":1}")
    }

    @Test("arrays bind as quoted array literals with quotes and backslashes escaped")
    func arraysBindAsLiterals() {
        #expect(["a", "b\"c"].postgresText == #"{"a","b\"c"}"#)
        #expect(["back\\slash", "with,comma", "{brace}", "NULL", ""].postgresText
            == #"{"back\\slash","with,comma","{brace}","NULL",""}"#)
        #expect([1, 2, 3].postgresText == #"{"1","2","3"}"#)
        #expect([String]().postgresText == "{}")
        #expect(["x", nil].postgresText == #"{"x",NULL}"#)
    }
}
