// Tests of Connection against a real PostgreSQL: bound values, NUL, numerics, errors, scripts, COPY.
import Foundation
import SetaDatabase
import SetaTestSupport
import Testing

@Suite("Connection")
struct ConnectionTests {
    @Test("values with quotes, SQL metacharacters and unicode are stored and read back unchanged")
    func hostileTextRoundTrips() throws {
        let database = try TestDatabase.make()
        let values = [
            "'; DROP TABLE note; --", "O'Brien", "\"quoted\"", "back\\slash", "$1", "%_", "",
            "Bogotá D.C. — ñandú, São Paulo 🇨🇴", "line\nbreak\ttab", "{\"json\": [1, 2]}", "NULL",
        ]
        try database.pool.withConnection { connection in
            try connection.execute("CREATE TABLE note (id int PRIMARY KEY, body text)")
            for (id, value) in values.enumerated() {
                try connection.execute("INSERT INTO note (id, body) VALUES (\(id), \(value))")
            }
            let rows = try connection.query("SELECT id, body FROM note ORDER BY id").rows
            #expect(try rows.map { try $0.decode("body", as: String.self) } == values)
            // The table is still there, and the text was matched as data.
            let match = try connection.query("SELECT count(*) AS n FROM note WHERE body = \("'; DROP TABLE note; --")")
            #expect(try match.rows[0].decode("n", as: Int.self) == 1)
        }
    }

    @Test("a NUL byte in a value is refused instead of being cut short, and nothing is written")
    func nulIsRefused() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            try connection.execute("CREATE TABLE note (body text)")
            let error = #expect(throws: DatabaseError.self) {
                try connection.execute("INSERT INTO note VALUES (\("before\u{0}after"))")
            }
            #expect(error?.kind == .query(sqlState: "22021"))
            #expect(error?.message.contains("$1") == true)
            #expect(try connection.query("SELECT count(*) AS n FROM note").rows[0].decode("n", as: Int.self) == 0)
            // The session is still fine.
            #expect(connection.isHealthy)
        }
    }

    @Test("numerics are exact: 0.1 + 0.2 is 0.3 and 20-digit fractions survive")
    func numericsAreExact() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            let tenth = try #require(Decimal(string: "0.1"))
            let fifth = try #require(Decimal(string: "0.2"))
            let sum = try connection.query("SELECT \(tenth)::numeric + \(fifth)::numeric AS total").rows[0]
            #expect(try sum.decode("total", as: Decimal.self) == Decimal(string: "0.3"))
            #expect(try sum.decode("total", as: String.self) == "0.3")

            let third = try #require(Decimal(string: "33.333333333333333333"))
            let echoed = try connection.query("SELECT \(third)::numeric AS x, \(third)::numeric * 3 AS y").rows[0]
            #expect(try echoed.decode("x", as: Decimal.self) == third)
            #expect(try echoed.decode("y", as: String.self) == "99.999999999999999999")
            #expect(try echoed.decode("y", as: Decimal.self) == Decimal(string: "99.999999999999999999"))

            let weights = try connection.query("SELECT sum(w) AS total FROM unnest(\(["12.5", "37.5", "50.00"])::numeric[]) AS w").rows[0]
            #expect(try weights.decode("total", as: Decimal.self) == 100)

            // More digits than Decimal holds: an error, not a rounded number.
            let tooLong = try connection.query("SELECT '1234567890123456789012345678901234567890.5'::numeric AS x, 'NaN'::numeric AS nan").rows[0]
            #expect(throws: DatabaseError.self) { try tooLong.decode("x", as: Decimal.self) }
            #expect(throws: DatabaseError.self) { try tooLong.decode("nan", as: Decimal.self) }
        }
    }

    @Test("every bindable type round-trips through PostgreSQL")
    func typesRoundTrip() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            let id = UUID()
            let moment = Date(timeIntervalSince1970: 1_709_647_629.123456)
            let nothing: Int? = nil
            let row = try connection.query("""
                SELECT \(Int.max)::bigint AS big, \(Int32.min)::int AS small, \(Int64(-42))::bigint AS int64,
                       \(true)::bool AS yes, \(false)::bool AS no, \(id)::uuid AS id, \(moment)::timestamptz AS moment,
                       \(nothing)::int AS nothing, \(["a", "b\"c", "d,e", "NULL", "x\\y"])::text[] AS tags,
                       \([3, 1, 2])::int[] AS numbers, \(PostgresJSON("{\"b\": [1, 2], \"a\": \"ñ\"}"))::jsonb AS document,
                       \("2024-03-05")::date AS day
                """).rows[0]
            #expect(try row.decode("big", as: Int.self) == Int.max)
            #expect(try row.decode("small", as: Int32.self) == Int32.min)
            #expect(try row.decode("int64", as: Int64.self) == -42)
            #expect(try row.decode("yes", as: Bool.self))
            #expect(try !row.decode("no", as: Bool.self))
            #expect(try row.decode("id", as: UUID.self) == id)
            let decoded = try row.decode("moment", as: Date.self)
            #expect(abs(decoded.timeIntervalSince(moment)) < 0.000_001)
            #expect(try row.decode("nothing", as: Int?.self) == nil)
            #expect(try row.decode("tags", as: [String].self) == ["a", "b\"c", "d,e", "NULL", "x\\y"])
            #expect(try row.decode("numbers", as: [Int].self) == [3, 1, 2])
            #expect(try row.decode("document", as: PostgresJSON.self).text == "{\"a\": \"ñ\", \"b\": [1, 2]}")
            #expect(try row.decode("day", as: Date.self) == Date(timeIntervalSince1970: 1_709_596_800))
        }
    }

    @Test("a unique violation carries SQLSTATE 23505 and the constraint name, not the value")
    func uniqueViolation() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            try connection.execute("CREATE TABLE entity (code text CONSTRAINT entity_code_key UNIQUE)")
            try connection.execute("INSERT INTO entity VALUES (\("05001"))")
            let error = #expect(throws: DatabaseError.self) {
                try connection.execute("INSERT INTO entity VALUES (\("05001"))")
            }
            #expect(error?.isUniqueViolation == true)
            #expect(error?.kind == .query(sqlState: "23505"))
            #expect(error?.constraint == "entity_code_key")
            #expect(error?.table == "entity")
            #expect(error?.query == "INSERT INTO entity VALUES ($1)")
            #expect(error?.file.hasSuffix("ConnectionTests.swift") == true)
            #expect(error?.description.contains("05001") == false)
        }
    }

    @Test("a prepared query runs again with new values, and is prepared anew after the session forgot it")
    func preparedQueriesAreReused() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            let first = try connection.queryPrepared("SELECT \(2)::int * 3 AS n").rows[0].decode("n", as: Int.self)
            let second = try connection.queryPrepared("SELECT \(5)::int * 3 AS n").rows[0].decode("n", as: Int.self)
            #expect(first == 6 && second == 15)
            #expect(try connection.query("SELECT count(*)::int AS n FROM pg_prepared_statements").rows[0].decode("n", as: Int.self) == 1)
            try connection.execute("DEALLOCATE ALL")
            #expect(try connection.queryPrepared("SELECT \(7)::int * 3 AS n").rows[0].decode("n", as: Int.self) == 21)
            #expect(throws: DatabaseError.self) { try connection.queryPrepared("SELECT 1 / \(0)::int AS n") }
            #expect(try connection.queryPrepared("SELECT \(1)::int AS n").rows[0].decode("n", as: Int.self) == 1)
        }
    }

    @Test("execute returns the number of rows affected")
    func executeCountsRows() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            try connection.execute("CREATE TABLE t (n int)")
            #expect(try connection.execute("INSERT INTO t SELECT generate_series(1, 25)") == 25)
            #expect(try connection.execute("UPDATE t SET n = n + 1 WHERE n <= \(10)") == 10)
            // 2…11 and 11…25 now: five rows above 20.
            #expect(try connection.execute("DELETE FROM t WHERE n > \(20)") == 5)
            let result = try connection.query("SELECT n FROM t")
            #expect(result.count == 20)
            #expect(result.affectedRows == 20)
        }
    }

    @Test("a bound query runs one statement only: a second statement is a syntax error")
    func oneStatementPerQuery() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            let error = #expect(throws: DatabaseError.self) {
                try connection.execute("SELECT \(1); SELECT 2")
            }
            #expect(error?.sqlState == "42601")
        }
    }

    @Test("a script runs many statements in one call")
    func scriptRunsManyStatements() throws {
        let database = try TestDatabase.make()
        let connection = try Connection(conninfo: database.conninfo)
        defer { connection.close() }
        try connection.executeScript(unsafe: """
            CREATE TABLE region (name text PRIMARY KEY);
            INSERT INTO region VALUES ('Caribe'), ('Pacífico');
            -- a comment; with a semicolon
            INSERT INTO region VALUES ('Llanos');
            """)
        #expect(try connection.query("SELECT name FROM region").count == 3)
        let error = #expect(throws: DatabaseError.self) {
            try connection.executeScript(unsafe: "INSERT INTO region VALUES ('Centro'); INSERT INTO nowhere VALUES (1)")
        }
        #expect(error?.sqlState == "42P01")
        // A multi-statement script without BEGIN runs as one implicit transaction: nothing of it stays.
        #expect(try connection.query("SELECT name FROM region").count == 3)
    }

    @Test("copyIn streams 10,000 CSV rows and reports how many were stored")
    func copyInTenThousandRows() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            try connection.execute("CREATE TABLE municipality (code text PRIMARY KEY, name text NOT NULL, weight numeric NOT NULL)")
            let rows = (1...10_000).lazy.map { number in
                "\(String(format: "%05d", number)),\"Municipio \"\"\(number)\"\", Colombia\",0.01"
            }
            let stored = try connection.copyIn("COPY municipality (code, name, weight) FROM STDIN (FORMAT csv)", rows: rows)
            #expect(stored == 10_000)
            let summary = try connection.query("SELECT count(*) AS n, sum(weight) AS total FROM municipality").rows[0]
            #expect(try summary.decode("n", as: Int.self) == 10_000)
            #expect(try summary.decode("total", as: Decimal.self) == 100)
            let one = try connection.query("SELECT name FROM municipality WHERE code = \("00042")").rows[0]
            #expect(try one.decode("name", as: String.self) == "Municipio \"42\", Colombia")
        }
    }

    @Test("a failing COPY stores nothing and leaves the session usable")
    func copyInFailure() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            try connection.execute("CREATE TABLE t (n int PRIMARY KEY)")
            let duplicate = #expect(throws: DatabaseError.self) {
                try connection.copyIn("COPY t FROM STDIN (FORMAT csv)", rows: ["1", "2", "2"])
            }
            #expect(duplicate?.isUniqueViolation == true)
            let nul = #expect(throws: DatabaseError.self) {
                try connection.copyIn("COPY t FROM STDIN (FORMAT csv)", rows: ["1", "2\u{0}", "3"])
            }
            #expect(nul?.kind == .query(sqlState: "22021"))
            let notCopy = #expect(throws: DatabaseError.self) {
                try connection.copyIn("SELECT 1", rows: ["1"])
            }
            #expect(notCopy != nil)
            #expect(try connection.query("SELECT n FROM t").count == 0)
            #expect(try connection.copyIn("COPY t FROM STDIN", rows: ["7\n", "8"]) == 2)
            // COPY through execute is refused without leaving the session stuck in COPY mode.
            for command in ["COPY t FROM STDIN", "COPY t TO STDOUT"] {
                let refused = #expect(throws: DatabaseError.self) { try connection.execute(SQL(unsafe: command)) }
                #expect(refused?.sqlState == "0A000")
            }
            #expect(try connection.query("SELECT n FROM t").count == 2)
        }
    }

    @Test("connecting to a server that is not there fails fast with connectionFailed")
    func connectFailsFast() throws {
        let started = Date()
        let error = #expect(throws: DatabaseError.self) {
            _ = try Connection(conninfo: "postgresql://seta@127.0.0.1:1/seta")
        }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.isUnavailable == true)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("the session runs in UTC with ISO dates whatever the server's own zone")
    func sessionIsUTC() throws {
        let database = try TestDatabase.make()
        try database.pool.withConnection { connection in
            let row = try connection.query("SELECT current_setting('TimeZone') AS zone, '2024-03-05 09:00-05'::timestamptz AS moment").rows[0]
            #expect(try row.decode("zone", as: String.self) == "UTC")
            #expect(try row.decode("moment", as: String.self) == "2024-03-05 14:00:00+00")
        }
    }

    @Test("a closed connection reports a lost connection instead of crashing")
    func closedConnection() throws {
        let database = try TestDatabase.make()
        let connection = try Connection(conninfo: database.conninfo)
        #expect(connection.isHealthy)
        #expect(connection.backendPID > 0)
        connection.close()
        connection.close()
        #expect(!connection.isHealthy)
        let error = #expect(throws: DatabaseError.self) { try connection.query("SELECT 1") }
        #expect(error?.kind == .connectionLost)
    }
}
