// Conninfo: parsing libpq connection strings and URLs to switch database or hide the password for logs.
import CLibPQ
import Foundation

/// Helpers over libpq connection strings (`host=… dbname=…`) and URLs (`postgresql://…`), parsed by
/// libpq itself so both forms behave exactly as a connection would read them.
public enum Conninfo {
    /// The settings the conninfo states (not libpq's defaults), keyword to value.
    public static func parse(_ conninfo: String) throws -> [String: String] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) }
            if let errorMessage { PQfreemem(errorMessage) }
            throw DatabaseError(.connectionFailed, message: "invalid conninfo: \(reason ?? "out of memory")")
        }
        defer { PQconninfoFree(options) }
        var settings: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { settings[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return settings
    }

    /// The same server and credentials, another database, as a `key='value'` conninfo.
    public static func replacingDatabase(in conninfo: String, with database: String) throws -> String {
        var settings = try parse(conninfo)
        settings["dbname"] = database
        return format(settings)
    }

    /// For logs: the conninfo with any password replaced by `***`.
    public static func redacted(_ conninfo: String) -> String {
        guard var settings = try? parse(conninfo) else { return "(invalid conninfo)" }
        if settings["password"] != nil { settings["password"] = "***" }
        return format(settings)
    }

    static func format(_ settings: [String: String]) -> String {
        settings.sorted { $0.key < $1.key }.map { key, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
    }
}
