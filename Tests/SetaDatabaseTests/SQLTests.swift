// Tests of SQL: placeholders, bound values, composition, and the text format of each bindable type.
import Foundation
import SetaDatabase
import Testing

@Suite("SQL")
struct SQLTests {
    @Test("an interpolated value becomes a numbered placeholder and a bound value")
    func interpolatedValueBecomesPlaceholder() {
        let code = "05001"
        let year = 2024
        let sql: SQL = "SELECT * FROM entity WHERE code = \(code) AND year = \(year)"
        #expect(sql.text == "SELECT * FROM entity WHERE code = $1 AND year = $2")
        #expect(sql.bindings == ["05001", "2024"])
    }

    @Test("a value that looks like SQL stays a bound value and never reaches the text")
    func injectionStaysABinding() {
        let evil = "'; DROP TABLE entity; --"
        let sql: SQL = "SELECT \(evil)"
        #expect(sql.text == "SELECT $1")
        #expect(sql.bindings == [evil])
        #expect(!sql.description.contains("DROP"))
    }

    @Test("appending fragments renumbers their placeholders")
    func appendingRenumbers() {
        var sql: SQL = "SELECT code FROM entity WHERE region = \("Caribe")"
        sql.append(" AND department = \("08")")
        sql += " AND kind = \("municipality")"
        let more = sql + " LIMIT \(10)"
        #expect(more.text == "SELECT code FROM entity WHERE region = $1 AND department = $2 AND kind = $3 LIMIT $4")
        #expect(more.bindings == ["Caribe", "08", "municipality", "10"])
    }

    @Test("a fragment interpolated into another keeps its values in order")
    func nestedFragment() {
        let condition: SQL = "region = \("Pacífico")"
        let sql: SQL = "SELECT 1 WHERE \(condition) AND code = \("76001")"
        #expect(sql.text == "SELECT 1 WHERE region = $1 AND code = $2")
        #expect(sql.bindings == ["Pacífico", "76001"])
    }

    @Test("joined conditions keep every value and its place")
    func joinedConditions() {
        let conditions: [SQL] = ["a = \(1)", "b = \(2)", "c IS NULL"]
        let sql: SQL = "SELECT 1 WHERE " + conditions.joined(separator: " AND ")
        #expect(sql.text == "SELECT 1 WHERE a = $1 AND b = $2 AND c IS NULL")
        #expect(sql.bindings == ["1", "2"])
        #expect([SQL]().joined(separator: ",").text == "")
    }

    @Test("unsafe text and identifiers are the only ways to add raw text")
    func unsafeAndIdentifier() {
        let direction = "DESC"
        let sql: SQL = "SELECT \(identifier: "weird\"name") FROM t ORDER BY 1 \(unsafe: direction)"
        #expect(sql.text == "SELECT \"weird\"\"name\" FROM t ORDER BY 1 DESC")
        #expect(sql.bindings.isEmpty)
        #expect(SQL(unsafe: "SELECT 1").text == "SELECT 1")
        #expect(SQL(identifier: "seta_t_1").text == "\"seta_t_1\"")
    }

    @Test("nil and optionals bind as NULL")
    func optionalsBindAsNull() {
        let missing: String? = nil
        let present: Int? = 7
        let sql: SQL = "SELECT \(missing), \(present)"
        #expect(sql.bindings == [nil, "7"])
    }
}
