// Structured logging: one JSON object per line on standard output.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct Log: Sendable {
    public let write: @Sendable (String) -> Void

    public init(write: @escaping @Sendable (String) -> Void = Log.stdout) {
        self.write = write
    }

    public static let stdout: @Sendable (String) -> Void = { line in
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Commands whose standard output is their answer (a token, a summary) log to standard error.
    public static let stderr: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    public static let silent = Log(write: { _ in })

    /// Writes `fields` as one JSON line with a timestamp and level. Values must already be free of secrets.
    /// Written by hand (no JSONSerialization, no date formatter): it runs once per request.
    public func event(_ level: String = "info", _ message: String, _ fields: [String: any Sendable] = [:]) {
        var line = "{\"ts\":\"\(Log.timestamp())\",\"level\":\(Log.quote(level)),\"msg\":\(Log.quote(message))"
        for key in fields.keys.sorted() {
            line += ",\(Log.quote(key)):\(Log.value(fields[key]!))"
        }
        line += "}"
        write(line)
    }

    static func value(_ v: any Sendable) -> String {
        switch v {
        case let i as Int: return String(i)
        case let i as Int64: return String(i)
        case let d as Double: return d.isFinite ? String(d) : "null"
        case let b as Bool: return b ? "true" : "false"
        case let a as [String]: return "[" + a.map(quote).joined(separator: ",") + "]"
        default: return quote(String(describing: v))
        }
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// UTC, millisecond precision: `2026-11-22T03:24:11.819Z`.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ts.tv_nsec / 1_000_000))
    }

    /// `postgresql://user:secret@host/db` → `postgresql://user:***@host/db`; `password=x` → `password=***`.
    public static func redact(conninfo: String) -> String {
        var s = conninfo
        if let r = s.range(of: #"://([^:@/]*):([^@]*)@"#, options: .regularExpression) {
            let piece = String(s[r])
            let user = piece.dropFirst(3).split(separator: ":", maxSplits: 1).first ?? ""
            s.replaceSubrange(r, with: "://\(user):***@")
        }
        s = s.replacingOccurrences(of: #"password=[^\s&]*"#, with: "password=***", options: .regularExpression)
        return s
    }
}
