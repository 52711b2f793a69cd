// One statement for a page of a keyset list: the rows after a key, in key order, and the count of every match.
import SetaDatabase

enum KeysetPage {
    /// Reads, in one statement, the page of `matches` (a SELECT, named `m`) that starts where `after` (a condition
    /// on `m`, true for the first page) holds, in `order`, at most `limit` rows (nil: all), and the count of all the
    /// matches. `extra` adds columns computed for the page's rows only (the page row is `p`). The rows returned are
    /// those whose `key` column is not null: an empty page still returns one row, the total's.
    static func read(_ conn: Connection, matches: SQL, after: SQL, order: SQL, limit: Int?, key: String,
                     extra: SQL = "") throws -> (total: Int, rows: [Row]) {
        let rows = try conn.query("""
            WITH m AS (\(matches))
            SELECT t.total, p.*\(extra) FROM (SELECT count(*) AS total FROM m) t
              LEFT JOIN LATERAL (SELECT * FROM m WHERE \(after) ORDER BY \(order) LIMIT \(limit)) p ON true
            """).rows
        let total: Int = try rows.first?.decode("total") ?? 0
        return (total, try rows.filter { try !$0.isNull(key) })
    }
}
