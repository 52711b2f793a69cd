// SQL of the change log (registro de cambios): one page of audit_log rows matching the filters, and its total.
import Foundation
import SetaDatabase

enum AuditStore {
    /// What `GET /v1/audit` filters on; every field optional.
    struct Filter: Sendable {
        /// An entity's complete history: its own rows and its department's region moves.
        var entity: String?
        /// Rows about the person (their account, tokens, regions, assignments) or written by them.
        var person: Int64?
        var table: String?
        var from: Date?
        /// Exclusive upper bound.
        var until: Date?
        /// The id after which the page starts (newest first).
        var before: Int64?
    }

    /// One change (cambio): who, when, which row of which table, before and after.
    struct Entry: Encodable, Sendable {
        var id: Int64
        var at: Date
        /// nil: the system (CLI, seed, demo, migrations).
        var actor: PersonRef?
        var table: String
        var action: String
        var key: JSONValue
        var entity: String?
        var person: Int64?
        var before: JSONValue?
        var after: JSONValue?
    }

    /// The page and the total of matches, in one statement.
    static func page(_ conn: Connection, _ f: Filter, limit: Int) throws -> (entries: [Entry], total: Int) {
        let rows = try conn.query("""
            WITH matched AS (
                SELECT l.*
                  FROM audit_log l
                 WHERE (\(f.entity)::text IS NULL OR l.entity_code = \(f.entity)
                        OR (l.entity_code IS NULL AND l.table_name = 'department_regions' AND l.department_code = left(\(f.entity), 2)))
                   AND (\(f.person)::bigint IS NULL OR l.person_id = \(f.person) OR l.actor_id = \(f.person))
                   AND (\(f.table)::text IS NULL OR l.table_name = \(f.table))
                   AND (\(f.from)::timestamptz IS NULL OR l.at >= \(f.from))
                   AND (\(f.until)::timestamptz IS NULL OR l.at < \(f.until))
            )
            SELECT t.total, p.id, p.at, p.actor_id, a.name AS actor_name, p.table_name, p.action, p.row_key::text AS row_key,
                   p.entity_code, p.person_id, p.before::text AS before, p.after::text AS after
              FROM (SELECT count(*) AS total FROM matched) t
              LEFT JOIN LATERAL (
                    SELECT * FROM matched m WHERE \(f.before)::bigint IS NULL OR m.id < \(f.before)
                     ORDER BY m.id DESC LIMIT \(limit)
                   ) p ON true
              LEFT JOIN people a ON a.id = p.actor_id
             ORDER BY p.id DESC
            """).rows
        var total = 0
        var entries: [Entry] = []
        for r in rows {
            total = try r.decode("total")
            guard let id: Int64 = try r.decode("id") else { continue }
            let actorId: Int64? = try r.decode("actor_id")
            let actorName: String? = try r.decode("actor_name")
            entries.append(Entry(
                id: id, at: try r.decode("at"),
                actor: actorId.map { PersonRef(id: $0, name: actorName ?? "") },
                table: try r.decode("table_name"), action: try r.decode("action"),
                key: try JSONValue.parse(r.decode("row_key")) ?? .null,
                entity: try r.decode("entity_code"), person: try r.decode("person_id"),
                before: try JSONValue.parse(r.decode("before")), after: try JSONValue.parse(r.decode("after"))))
        }
        return (entries, total)
    }
}
