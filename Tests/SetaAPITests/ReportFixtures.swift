// Test fixtures of the reporting area: enrollments, assignments and counts written straight in SQL.
import Foundation
@testable import SetaAPI
import SetaDatabase

extension APIHarness {
    /// Enrolls entities in a plan from a month on (open-ended unless `to` is given).
    func enroll(_ plan: String, _ entities: [String], from: String = "2020-01", to: String? = nil) throws {
        try database.pool.withConnection { conn in
            try conn.execute("""
                INSERT INTO enrollments (plan_code, entity_code, from_period, to_period)
                SELECT \(plan), e, (\(from) || '-01')::date, (\(to) || '-01')::date FROM unnest(\(entities)::text[]) AS e
                """)
        }
    }

    /// Assigns entities of a plan to a person from a month on.
    func assign(_ person: Int64, _ plan: String, _ entities: [String], from: String = "2020-01", to: String? = nil) throws {
        try database.pool.withConnection { conn in
            try conn.execute("""
                INSERT INTO assignments (plan_code, entity_code, person_id, from_period, to_period)
                SELECT \(plan), e, \(person), (\(from) || '-01')::date, (\(to) || '-01')::date FROM unnest(\(entities)::text[]) AS e
                """)
        }
    }

    /// The region of an entity as of a month, as the seed set it.
    func region(of entity: String, at month: String = "2021-01") throws -> String {
        try database.pool.withConnection { conn in
            try conn.query("SELECT region_code FROM entity_regions_at((\(month) || '-01')::date) WHERE entity_code = \(entity)")
                .rows[0].decode("region_code")
        }
    }

    /// A single integer from a SQL query (counts).
    func count(_ sql: SQL) throws -> Int {
        try database.pool.withConnection { conn in try conn.query(sql).rows[0].decode(0, as: Int.self) }
    }

    /// One request with a body of any media type (CSV uploads); `token` as in `call`.
    func send(_ method: String, _ path: String, body: String, contentType: String, token: String?? = .none) throws -> TestResponse {
        var headers = [("Content-Type", contentType)]
        if let t = token ?? centralToken { headers.append(("Authorization", "Bearer \(t)")) }
        return try raw(method, path, headers: headers, body: Array(body.utf8))
    }

    /// A report body from (code, status) pairs.
    static func reportJSON(_ items: [(String, String)], extra: String = "") -> String {
        "{\"milestones\": [" + items.map { "{\"code\": \"\($0.0)\", \"status\": \"\($0.1)\"\(extra)}" }.joined(separator: ", ") + "]}"
    }
}

extension TestResponse {
    /// The `field` of every entry of a problem's `errors`.
    var errorFields: [String] {
        ((json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
    }
}
