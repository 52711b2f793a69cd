// HTTPResponse, its body (bytes or a stream) and the writer a streaming body writes through.

/// Where a streaming body writes. `write` blocks while the connection's unsent output is above
/// `HTTPServerConfiguration.outputHighWaterMarkBytes`, and throws `HTTPServerError` once the
/// connection is gone, so a producer stops instead of filling memory.
public protocol HTTPBodyWriter {
    func write(_ bytes: [UInt8]) throws
}

extension HTTPBodyWriter {
    public func write(_ text: String) throws {
        try write(Array(text.utf8))
    }
}

public enum HTTPResponseBody: Sendable {
    /// A body known in full: the server adds `Content-Length`.
    case bytes([UInt8])
    /// A body produced while it is sent: chunked on HTTP/1.1, delimited by closing on HTTP/1.0.
    /// It runs on the worker thread; if it throws before anything was sent the client gets a 500,
    /// otherwise the connection is cut so the client sees a truncated message, not a complete one.
    case stream(@Sendable (any HTTPBodyWriter) throws -> Void)
}

/// What a handler returns. The server owns framing: it sets `Content-Length`/`Transfer-Encoding`,
/// `Date` (unless given) and `Connection`, ignoring any such framing fields from the handler
/// (a handler's `Connection: close` is honoured).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: HTTPResponseBody

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: HTTPResponseBody = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// An RFC 9457 problem document: `{"type":"about:blank","title":..,"status":..,"detail":..}`.
    /// The title is the reason phrase of `status` unless given.
    public static func problem(status: Int, title: String? = nil, detail: String) -> HTTPResponse {
        let title = title ?? HTTPStatus.reasonPhrase(for: status)
        let json = #"{"type":"about:blank","title":"# + jsonString(title) + #","status":\#(status),"detail":"#
            + jsonString(detail) + "}"
        return HTTPResponse(
            status: status,
            headers: ["Content-Type": "application/problem+json"],
            body: .bytes(Array(json.utf8))
        )
    }

    /// A JSON string literal (with quotes) for `text`: the one quoter of the package (SetaAPI's `Log` writes its
    /// lines with it too).
    public static func jsonString(_ text: String) -> String {
        // Most values (ids, routes, methods) need no escaping at all.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { return "\"" + text + "\"" }
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
