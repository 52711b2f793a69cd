// Tests of QueryResult and Row: columns, NULL, and decoding errors that name the column.
import Foundation
import SetaDatabase
import SetaTestSupport
import Testing

@Suite("QueryResult")
struct QueryResultTests {
    @Test("a decoding error names the column, its index, the expected type and the raw text")
    func decodingErrorNamesColumn() throws {
        let database = try TestDatabase.make()
        let row = try database.pool.withConnection { try $0.query("SELECT 1 AS a, 'doce' AS amount").rows[0] }
        let error = #expect(throws: DatabaseError.self) { try row.decode("amount", as: Int.self) }
        #expect(error?.kind == .decoding)
        #expect(error?.column == "amount")
        let message = error?.message ?? ""
        for part in ["\"amount\"", "index 1", "Int", "\"doce\""] {
            #expect(message.contains(part), "missing \(part) in \(message)")
        }
        #expect(error?.description == "A database result could not be read.")
    }

    @Test("NULL reads as nil into an optional and is an error naming the column otherwise")
    func nullHandling() throws {
        let database = try TestDatabase.make()
        let row = try database.pool.withConnection { try $0.query("SELECT NULL::int AS missing, 5 AS present").rows[0] }
        #expect(try row.decode("missing", as: Int?.self) == nil)
        #expect(try row.decode("present", as: Int?.self) == 5)
        #expect(try row.isNull("missing"))
        #expect(try row.text("present") == "5")
        let error = #expect(throws: DatabaseError.self) { try row.decode("missing", as: Int.self) }
        #expect(error?.message.contains("\"missing\"") == true)
        #expect(error?.message.contains("NULL") == true)
    }

    @Test("columns can be read by index and an unknown column lists the real ones")
    func columnsByIndexAndName() throws {
        let database = try TestDatabase.make()
        let result = try database.pool.withConnection { try $0.query("SELECT 'a' AS first, 2 AS second FROM generate_series(1, 3)") }
        #expect(result.columnNames == ["first", "second"])
        #expect(result.count == 3)
        #expect(result.first?.index == 0)
        let row = result.rows[2]
        #expect(try row.decode(0, as: String.self) == "a")
        #expect(try row.decode(1, as: Int.self) == 2)
        let unknown = #expect(throws: DatabaseError.self) { try row.decode("third", as: Int.self) }
        #expect(unknown?.message.contains("first, second") == true)
        #expect(throws: DatabaseError.self) { try row.decode(2, as: Int.self) }
    }

    @Test("an empty result has its columns and no rows")
    func emptyResult() throws {
        let database = try TestDatabase.make()
        let result = try database.pool.withConnection { try $0.query("SELECT 1 AS one WHERE false") }
        #expect(result.isEmpty)
        #expect(result.first == nil)
        #expect(result.columnNames == ["one"])
    }
}
