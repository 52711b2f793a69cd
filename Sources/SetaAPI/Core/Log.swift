// Structured logging: one JSON object per line on standard output.
import Foundation
import SetaHTTP
#if canImport(Glibc)
import Glibc
#endif

public struct Log: Sendable {
    public let write: @Sendable (String) -> Void

    public init(write: @escaping @Sendable (String) -> Void = Log.stdout) {
        self.write = write
    }

    public static let stdout: @Sendable (String) -> Void = { line in
        writeLine(line, to: STDOUT_FILENO)
    }

    /// One write(2) per line: a line under PIPE_BUF (4 KiB) reaches a pipe or file whole, so lines from
    /// concurrent threads never mix. (FileHandle with Data cost two allocations more per request.)
    static func writeLine(_ line: String, to descriptor: Int32) {
        var text = line
        text.append("\n")
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
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

    /// The line of one answered request, with the keys `event` would write, in the same (sorted) order.
    /// Built without the dictionary and existential casts of `event`: it runs once per request.
    public func request(level: String = "info", requestId: String, method: String, route: String, status: Int,
                        durationMs: Double, detail: String? = nil) {
        var line = "{\"ts\":\""
        line.reserveCapacity(200)
        line += Log.timestamp()
        line += "\",\"level\":"
        line += Log.quote(level)
        line += ",\"msg\":\"request\""
        if let detail {
            line += ",\"detail\":"
            line += Log.quote(detail)
        }
        line += ",\"duration_ms\":"
        line += durationMs.isFinite ? String(durationMs) : "null"
        line += ",\"method\":"
        line += Log.quote(method)
        line += ",\"request_id\":"
        line += Log.quote(requestId)
        line += ",\"route\":"
        line += Log.quote(route)
        line += ",\"status\":"
        line += String(status)
        line += "}"
        write(line)
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String { HTTPResponse.jsonString(s) }

    /// UTC, millisecond precision: `2026-11-22T03:24:11.819Z`. Digits written by hand (no `String(format:)`).
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        let fields: [(value: Int, width: Int, separator: UInt8)] = [
            (Int(parts.tm_year) + 1900, 4, 0x2D), (Int(parts.tm_mon) + 1, 2, 0x2D), (Int(parts.tm_mday), 2, 0x54),
            (Int(parts.tm_hour), 2, 0x3A), (Int(parts.tm_min), 2, 0x3A), (Int(parts.tm_sec), 2, 0x2E),
            (Int(ts.tv_nsec / 1_000_000), 3, 0x5A),
        ]
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            for field in fields {
                var value = field.value
                for position in (0..<field.width).reversed() {
                    buffer[index + position] = 0x30 + UInt8(value % 10)
                    value /= 10
                }
                index += field.width
                buffer[index] = field.separator
                index += 1
            }
            return index
        }
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
