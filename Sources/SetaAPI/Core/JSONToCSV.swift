// CSV for every list answer: a JSON page (`items`, or the list a dashboard returns) flattened to columns.
import Foundation

/// Routes that build their own CSV (exports, dashboards) do so; every other list route gets this generic
/// flattening, so `Accept: text/csv` works everywhere without a CSV writer per route.
enum JSONToCSV {
    /// The rows of a JSON answer, or nil when it holds no list of objects.
    static func table(_ body: [UInt8]) -> (header: [String], rows: [[String]])? {
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
        let flat = list.map { item -> [String: String] in
            var out: [(String, String)] = []
            flatten(item, prefix: "", into: &out)
            for (k, _) in out where seen.insert(k).inserted { header.append(k) }
            return Dictionary(out, uniquingKeysWith: { a, _ in a })
        }
        return (header, flat.map { row in header.map { row[$0] ?? "" } })
    }

    static func flatten(_ value: Any, prefix: String, into out: inout [(String, String)]) {
        switch value {
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                flatten(object[key]!, prefix: prefix.isEmpty ? key : "\(prefix).\(key)", into: &out)
            }
        case let array as [Any]:
            if let objects = array as? [[String: Any]], objects.allSatisfy({ $0["code"] is String }) {
                // Phases and similar: keyed by their code (`phases.F1.progress`).
                for o in objects {
                    var rest = o
                    let code = rest.removeValue(forKey: "code") as! String
                    flatten(rest, prefix: "\(prefix).\(code)", into: &out)
                }
            } else if array.allSatisfy({ !($0 is [String: Any]) && !($0 is [Any]) }) {
                out.append((prefix, array.map(scalar).joined(separator: "; ")))
            } else {
                for (i, element) in array.enumerated() { flatten(element, prefix: "\(prefix)[\(i)]", into: &out) }
            }
        default:
            out.append((prefix, scalar(value)))
        }
    }

    static func scalar(_ value: Any) -> String {
        if value is NSNull { return "" }
        if let s = value as? String { return s }
        if String(describing: type(of: value)) == "__NSCFBoolean" || type(of: value) == Bool.self {
            return (value as? Bool) == true ? "true" : "false"
        }
        if let n = value as? NSNumber { return String(describing: n) }
        return String(describing: value)
    }
}
