// Structured logging: one JSON object per line on standard output.
import Foundation

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
    public func event(_ level: String = "info", _ message: String, _ fields: [String: any Sendable] = [:]) {
        var object: [String: Any] = ["ts": Log.timestamp(), "level": level, "msg": message]
        for (k, v) in fields { object[k] = v }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]),
           let line = String(data: data, encoding: .utf8) {
            write(line)
        }
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
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
