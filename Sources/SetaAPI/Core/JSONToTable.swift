// Tables (CSV, XLSX) for every list answer: a JSON page (`items`, or the list a dashboard returns) flattened to columns.
import Foundation
import SetaFormats

/// Routes that build their own table (exports, dashboards) do so; every other list route gets this generic
/// flattening, so `Accept: text/csv` (or XLSX) works everywhere without a writer per route. Cells keep their
/// JSON type: strings are text (codes keep their zeros), numbers numbers, booleans booleans.
enum JSONToTable {
    /// The rows of a JSON answer, or nil when it holds no list of objects.
    static func table(_ body: [UInt8]) -> (header: [String], rows: [[Cell]])? {
        guard let top = try? JSONSerialization.jsonObject(with: Data(body)) else { return nil }
        let list: [[String: Any]]
        if let array = top as? [[String: Any]] {
            list = array
        } else if let object = top as? [String: Any] {
            if let items = object["items"] as? [[String: Any]] {
                list = items
            } else if let key = object.keys.sorted().first(where: { (object[$0] as? [[String: Any]])?.isEmpty == false }) {
                list = object[key] as! [[String: Any]]
            } else {
                return nil
            }
        } else {
            return nil
        }
        var header: [String] = []
        var seen = Set<String>()
        let flat = list.map { item -> [String: Cell] in
            var out: [(String, Cell)] = []
            flatten(item, prefix: "", into: &out)
            for (k, _) in out where seen.insert(k).inserted { header.append(k) }
            return Dictionary(out, uniquingKeysWith: { a, _ in a })
        }
        return (header, flat.map { row in header.map { row[$0] ?? .text(nil) } })
    }

    static func flatten(_ value: Any, prefix: String, into out: inout [(String, Cell)]) {
        switch value {
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                flatten(object[key]!, prefix: prefix.isEmpty ? key : "\(prefix).\(key)", into: &out)
            }
        case let array as [Any]:
            if let objects = array as? [[String: Any]], !objects.isEmpty,
               objects.allSatisfy({ $0["code"] is String && Set($0.keys).isSubset(of: ["code", "name"]) }) {
                // Entity references (the lowest and highest of a group): one column listing their codes. Keyed by
                // code they would make columns that differ from row to row (`highest.23.name`).
                out.append((prefix, .text(objects.map { $0["code"] as! String }.joined(separator: "; "))))
            } else if let objects = array as? [[String: Any]], objects.allSatisfy({ $0["code"] is String }) {
                // Phases and similar: keyed by their code (`phases.F1.progress`).
                for o in objects {
                    var rest = o
                    let code = rest.removeValue(forKey: "code") as! String
                    flatten(rest, prefix: "\(prefix).\(code)", into: &out)
                }
            } else if array.allSatisfy({ !($0 is [String: Any]) && !($0 is [Any]) }) {
                out.append((prefix, .text(array.map(text).joined(separator: "; "))))
            } else {
                for (i, element) in array.enumerated() { flatten(element, prefix: "\(prefix)[\(i)]", into: &out) }
            }
        default:
            out.append((prefix, scalar(value)))
        }
    }

    /// A JSON scalar as a typed cell.
    static func scalar(_ value: Any) -> Cell {
        if value is NSNull { return .text(nil) }
        if let s = value as? String { return .text(s) }
        if isBoolean(value) { return .boolean((value as? Bool) == true) }
        if let n = value as? NSNumber { return .numeral(String(describing: n)) }
        return .text(String(describing: value))
    }

    /// A JSON scalar as text, for lists of scalars joined in one cell.
    static func text(_ value: Any) -> String {
        if value is NSNull { return "" }
        if let s = value as? String { return s }
        if isBoolean(value) { return (value as? Bool) == true ? "true" : "false" }
        if let n = value as? NSNumber { return String(describing: n) }
        return String(describing: value)
    }

    static func isBoolean(_ value: Any) -> Bool {
        String(describing: type(of: value)) == "__NSCFBoolean" || type(of: value) == Bool.self
    }
}
