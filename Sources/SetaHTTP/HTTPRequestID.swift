// HTTPRequestID: the X-Request-Id every response carries: the client's own when it is safe to echo, else a new one.

/// Request ids tie a response to its log line. The server's own error responses carry one too, so
/// a client can quote it whichever layer answered.
public enum HTTPRequestID {
    public static let headerName = "X-Request-Id"

    /// The client's value when it is 1 to 64 characters of `A-Z a-z 0-9 - _ .` (safe in headers and
    /// logs), otherwise a fresh id.
    public static func echoing(_ header: String?) -> String {
        if let header, isSafe(header) { return header }
        return generate()
    }

    public static func isSafe(_ value: String) -> Bool {
        let bytes = value.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
    }

    /// 16 lowercase hex digits from the system generator. Written by hand: `String(format:)` cost more
    /// than the rest of a /healthz request.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var value = generator.next() as UInt64
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for index in (0..<16).reversed() {
                buffer[index] = hexDigits[Int(value & 0xF)]
                value >>= 4
            }
            return 16
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
