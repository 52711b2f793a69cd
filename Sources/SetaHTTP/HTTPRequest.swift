// HTTPRequest and HTTPVersion: a fully received request as handed to the handler.

/// The protocol version from the request line. Only major version 1 reaches a handler.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// One request with its whole body in memory (bounded by `HTTPServerConfiguration.maxBodyBytes`).
public struct HTTPRequest: Sendable {
    /// The method token exactly as sent, e.g. "GET" (methods are case-sensitive).
    public var method: String
    /// The raw request-target (origin-form "/a/b?c", asterisk-form "*", or absolute-form).
    public var target: String {
        didSet { (path, query) = Self.split(target: target) }
    }
    /// The raw path of the target without the query, NOT percent-decoded.
    public private(set) var path: String
    /// The raw query string without the "?", nil when the target has no "?".
    public private(set) var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The peer's IP address when the request came from a socket.
    public var remoteAddress: String?

    public init(
        method: String,
        target: String,
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = [],
        remoteAddress: String? = nil
    ) {
        self.method = method
        self.target = target
        (self.path, self.query) = Self.split(target: target)
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// Whether the client asked to keep the connection open after this request:
    /// HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive` (RFC 9112 §9.3).
    public var wantsKeepAlive: Bool {
        if headers.containsToken("close", for: "Connection") { return false }
        if version.major == 1 && version.minor >= 1 { return true }
        return headers.containsToken("keep-alive", for: "Connection")
    }

    static func split(target: String) -> (path: String, query: String?) {
        var rest = Substring(target)
        // absolute-form: drop "scheme://authority" and keep what follows as the path.
        if !rest.hasPrefix("/"), let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            rest = rest[rest.index(colon, offsetBy: 3)...]
            rest = rest.firstIndex(where: { $0 == "/" || $0 == "?" }).map { rest[$0...] } ?? ""
            if !rest.hasPrefix("/") { rest = Substring("/" + rest) }
        }
        guard let mark = rest.firstIndex(of: "?") else { return (String(rest), nil) }
        return (String(rest[..<mark]), String(rest[rest.index(after: mark)...]))
    }
}
