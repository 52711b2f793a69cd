// What a roll-up groups by (a built-in kind, a group set or a category attribute), and the set/attribute filters.
import Foundation
import SetaDatabase

/// The `{group}` of `/v1/progress/{group}`: a built-in kind (`regions`), a group set (conjunto de agrupación,
/// `set:universos`) or a category attribute (`attr:categoria`). Sets and attributes are data, so their keys
/// carry a prefix that can never clash with a built-in kind. Attributes group when they are categories or booleans
/// (a yes/no split such as PDET); numbers and free text do not.
enum Grouping: Sendable, Equatable {
    case kind(GroupKind)
    case set(String)
    case attribute(String)

    static let setPrefix = "set:"
    static let attributePrefix = "attr:"

    init?(path: String) {
        if let k = GroupKind(rawValue: path) {
            self = .kind(k)
        } else if path.hasPrefix(Grouping.setPrefix), path.count > Grouping.setPrefix.count {
            self = .set(String(path.dropFirst(Grouping.setPrefix.count)))
        } else if path.hasPrefix(Grouping.attributePrefix), path.count > Grouping.attributePrefix.count {
            self = .attribute(String(path.dropFirst(Grouping.attributePrefix.count)))
        } else {
            return nil
        }
    }

    /// How the grouping is written in paths, cache keys and answers.
    var name: String {
        switch self {
        case .kind(let k): return k.rawValue
        case .set(let s): return Grouping.setPrefix + s
        case .attribute(let a): return Grouping.attributePrefix + a
        }
    }

    /// SQL selecting (entity_code, gkey, gname) for the entities of `source` as of `month`. An entity outside
    /// every group of the set, or without a value of the attribute, is in no group (as an unassigned entity is
    /// in no advisor's group).
    func membership(month: SQL, source: SQL = "ent", principal: Principal? = nil) -> SQL {
        switch self {
        case .kind(let k):
            return k.membership(month: month, source: source, principal: principal)
        case .set(let s):
            return """
                SELECT ent.entity_code, gm.group_code AS gkey, gg.name AS gname
                  FROM \(source) ent JOIN group_members_at(\(s), \(month)) gm ON gm.entity_code = ent.entity_code
                  JOIN group_set_groups gg ON gg.set_code = \(s) AND gg.code = gm.group_code
                """
        case .attribute(let a):
            return """
                SELECT ent.entity_code, av.value AS gkey, av.value AS gname
                  FROM \(source) ent JOIN entity_attribute_values av ON av.entity_code = ent.entity_code
                   AND av.attribute_code = \(a)
                  JOIN entity_attributes ea ON ea.code = av.attribute_code AND ea.type IN ('category', 'boolean')
                """
        }
    }
}

/// `set_group=<set>:<group>`: the entities in one group of a set as of the month asked.
struct SetGroupFilter: Sendable, Equatable {
    var set: String
    var group: String

    init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        set = String(parts[0]); group = String(parts[1])
    }
}

/// `attr.<code>=<value>`: entities whose attribute has that value. Numbers compare as numbers (`attr.poblacion=5000`
/// matches `5000.0`), categories without regard to case, everything else as canonical text (`true`/`false` for booleans).
struct AttributeFilter: Sendable, Equatable {
    var code: String
    var value: String

    static let parameterPrefix = "attr."

    /// The condition on `entityColumn` (a SQL column expression) for every filter, ANDed.
    static func condition(_ filters: [AttributeFilter], entityColumn: SQL) -> SQL {
        var sql: SQL = ""
        for f in filters {
            let number = Decimal(exactText: f.value).map { "\($0)" }
            let boolean = AttributeValue.boolean(f.value).map { $0 ? "true" : "false" }
            sql.append("""
                 AND \(entityColumn) IN (SELECT x.entity_code FROM entity_attribute_values x
                   JOIN entity_attributes xa ON xa.code = x.attribute_code WHERE x.attribute_code = \(f.code)
                   AND (x.value = \(f.value) OR (xa.type = 'boolean' AND x.value = \(boolean)::text)
                        OR (xa.type = 'category' AND lower(x.value) = lower(\(f.value)))
                        OR (xa.type = 'number' AND x.value_number = \(number)::numeric)))
                """)
        }
        return sql
    }
}

/// Parsing attribute values by type: shared by the import and the filters.
enum AttributeValue {
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "verdadero", "si", "sí", "1", "x", "yes": return true
        case "false", "falso", "no", "0": return false
        default: return nil
        }
    }

    /// The canonical text (and number, for numbers) of a value of an attribute, or why it is not one.
    static func canonical(type: String, categories: [String]?, text: String) -> (value: String, number: String?)? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.unicodeScalars.count <= 500 else { return nil }
        switch type {
        case "boolean":
            return boolean(t).map { ($0 ? "true" : "false", nil) }
        case "number":
            // A decimal comma is accepted (Colombian spreadsheets), never a thousands separator.
            guard let d = Decimal(exactText: t.replacingOccurrences(of: ",", with: ".")) else { return nil }
            return ("\(d)", "\(d)")
        case "category":
            guard let c = categories?.first(where: { $0.lowercased() == t.lowercased() }) else { return nil }
            return (c, nil)
        default:
            return (t, nil)
        }
    }

    /// What `canonical` expects, for messages.
    static func expected(type: String, categories: [String]?) -> String {
        switch type {
        case "boolean": return "true o false (también sí/no, 1/0)"
        case "number": return "un número (punto o coma decimal)"
        case "category": return "una de: " + (categories ?? []).joined(separator: ", ")
        default: return "un texto de 1 a 500 caracteres"
        }
    }
}

extension RequestContext {
    /// `set_group=<set>:<group>`, parsed (400 when not written so); shared by the progress and territory routes.
    func setGroupFilter() throws -> SetGroupFilter? {
        guard let sg = try query("set_group") else { return nil }
        guard let parsed = SetGroupFilter(sg) else {
            throw APIError.badRequest("`set_group` debe ser <conjunto>:<grupo>, p. ej. universos:A.", field: "set_group")
        }
        return parsed
    }

    /// Every `attr.<code>=<value>` of the query, in order.
    func attributeFilters() -> [AttributeFilter] {
        queryItems.filter { $0.0.hasPrefix(AttributeFilter.parameterPrefix) }
            .map { AttributeFilter(code: String($0.0.dropFirst(AttributeFilter.parameterPrefix.count)), value: $0.1) }
    }
}
