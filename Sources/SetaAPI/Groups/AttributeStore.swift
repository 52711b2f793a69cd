// SQL of typed entity attributes (atributos de entidad): definitions, values and their CSV import.
import Foundation
import SetaDatabase
import SetaDomain

enum AttributeStore {
    /// An attribute the central team defined: boolean, number, text or category (with its values).
    struct Attribute: Codable, Sendable {
        var code: String
        var name: String
        var type: String
        var categories: [String]?
        /// Entities with a value (lists only).
        var valueCount: Int?
    }

    static let types = ["boolean", "number", "text", "category"]

    static func attributes(_ conn: Connection, code: String? = nil) throws -> [Attribute] {
        try conn.query("""
            SELECT a.code, a.name, a.type, a.categories,
                   (SELECT count(*)::int FROM entity_attribute_values v WHERE v.attribute_code = a.code) AS n
              FROM entity_attributes a WHERE (\(code)::text IS NULL OR a.code = \(code)) ORDER BY a.code
            """).rows.map { r in
            Attribute(code: try r.decode("code"), name: try r.decode("name"), type: try r.decode("type"),
                      categories: try r.decode("categories"), valueCount: try r.decode("n"))
        }
    }

    static func attribute(_ conn: Connection, code: String) throws -> Attribute? {
        try attributes(conn, code: code).first
    }

    /// Creates an attribute, or (`replace`) renames it and sets its categories. Changing the type of an
    /// attribute with values would leave values of the wrong type: refused by the caller (409).
    static func upsert(_ conn: Connection, _ a: Attribute, replace: Bool) throws {
        if replace {
            try conn.execute("UPDATE entity_attributes SET name = \(a.name), categories = \(a.categories)::text[] WHERE code = \(a.code)")
        } else {
            try conn.execute("""
                INSERT INTO entity_attributes (code, name, type, categories) VALUES (\(a.code), \(a.name), \(a.type), \(a.categories)::text[])
                """)
        }
    }

    /// Values of a category attribute outside a new list of categories (a replace must not orphan them).
    static func valuesOutside(_ conn: Connection, code: String, categories: [String]) throws -> [String] {
        try conn.query("""
            SELECT DISTINCT value FROM entity_attribute_values WHERE attribute_code = \(code) AND value <> ALL(\(categories)::text[]) ORDER BY value
            """).rows.map { try $0.decode("value") }
    }

    static func delete(_ conn: Connection, code: String) throws -> Bool {
        try conn.execute("DELETE FROM entity_attributes WHERE code = \(code)") > 0
    }

    /// The attribute values of some entities, as `{code: value}` per entity (numbers and booleans in canonical text).
    static func values(_ conn: Connection, entities: [String]) throws -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for r in try conn.query("""
            SELECT entity_code, attribute_code, value FROM entity_attribute_values WHERE entity_code = ANY(\(entities)::text[])
            """).rows {
            out[try r.decode("entity_code"), default: [:]][try r.decode("attribute_code")] = try r.decode("value")
        }
        return out
    }

    // MARK: Import

    /// One CSV line: `entity, attribute, value`. An empty value removes the entity's value.
    struct StagedValue: Sendable {
        var line: Int
        var entity: String
        var attribute: String
        var value: String
        var number: String?
        var formatReasons: [String] = []
    }

    /// Checks every line's type in Swift against the definitions (one query), the entities in SQL, then writes
    /// all or nothing: one statement each. A wrong-typed value is rejected naming its line and `value`.
    static func importValues(_ conn: Connection, _ input: [StagedValue], apply: Bool) throws -> [ImportStore.Outcome] {
        let defs = Dictionary(try attributes(conn).map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        var rows = input
        var seen: [String: Int] = [:]
        for i in rows.indices {
            let raw = rows[i].value
            if let first = seen[rows[i].entity + "|" + rows[i].attribute] {
                rows[i].formatReasons.append("attribute: repite la línea \(first) (misma entidad y atributo)")
            } else {
                seen[rows[i].entity + "|" + rows[i].attribute] = rows[i].line
            }
            guard let def = defs[rows[i].attribute] else {
                rows[i].formatReasons.append("attribute: atributo desconocido «\(rows[i].attribute)»")
                continue
            }
            if raw.isEmpty { continue }
            if let canonical = AttributeValue.canonical(type: def.type, categories: def.categories, text: raw) {
                rows[i].value = canonical.value
                rows[i].number = canonical.number
            } else {
                rows[i].formatReasons.append("value: «\(raw.prefix(100))» no es válido para \(def.code) (\(def.type)); se espera "
                                             + AttributeValue.expected(type: def.type, categories: def.categories))
            }
        }
        try conn.execute("SET LOCAL jit = off")
        try conn.execute("""
            CREATE TEMP TABLE import_attribute_values (
                line int PRIMARY KEY, entity text, attribute text, value text, value_number numeric, bad_format boolean NOT NULL, status text
            ) ON COMMIT DROP
            """)
        try conn.execute("""
            INSERT INTO import_attribute_values (line, entity, attribute, value, value_number, bad_format)
            SELECT * FROM unnest(\(rows.map(\.line))::int[], \(rows.map(\.entity))::text[], \(rows.map(\.attribute))::text[],
                                 \(rows.map { $0.value.isEmpty ? nil : $0.value })::text[], \(rows.map(\.number))::numeric[],
                                 \(rows.map { !$0.formatReasons.isEmpty })::boolean[])
            """)
        let outcomes = try ImportStore.classify(conn, table: "import_attribute_values", checks: """
                SELECT s.line, s.bad_format, cur.value AS cur_value,
                       array_remove(ARRAY[
                         CASE WHEN NOT EXISTS (SELECT 1 FROM entities e WHERE e.code = s.entity)
                              THEN 'entity: código DANE desconocido «' || s.entity || '»' END
                       ], NULL) AS reasons
                  FROM import_attribute_values s
                  LEFT JOIN entity_attribute_values cur ON cur.attribute_code = s.attribute AND cur.entity_code = s.entity
            """, verdict: """
                WHEN c.cur_value IS NULL AND s.value IS NULL THEN 'ignored'
                WHEN c.cur_value IS NULL THEN 'created'
                WHEN c.cur_value IS NOT DISTINCT FROM s.value THEN 'ignored'
                ELSE 'updated'
                """, lines: rows.map { ($0.line, $0.formatReasons) })
        if apply && !outcomes.contains(where: { $0.status == .rejected }) {
            try conn.execute("""
                DELETE FROM entity_attribute_values v USING import_attribute_values s
                 WHERE s.status = 'updated' AND s.value IS NULL AND v.attribute_code = s.attribute AND v.entity_code = s.entity
                """)
            try conn.execute("""
                INSERT INTO entity_attribute_values (attribute_code, entity_code, value, value_number)
                SELECT attribute, entity, value, value_number FROM import_attribute_values
                 WHERE status IN ('created', 'updated') AND value IS NOT NULL
                ON CONFLICT (attribute_code, entity_code) DO UPDATE
                   SET value = EXCLUDED.value, value_number = EXCLUDED.value_number, recorded_at = now()
                """)
        }
        return outcomes
    }
}
