// MalformedRequests: raw requests the server must refuse, each with the status it must answer.

import Testing

struct MalformedRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var status: Int
    var testDescription: String { "\(name) → \(status)" }
}

enum MalformedRequests {
    static let longTarget = "/" + String(repeating: "a", count: 9000)
    static let manyHeaders = (0..<101).map { "X-H\($0): v\r\n" }.joined()
    static let bigHeaders = (0..<40).map { "X-Big\($0): " + String(repeating: "b", count: 1000) + "\r\n" }.joined()

    /// With the default configuration (8 KiB request line, 32 KiB / 100 headers, 16 MiB body).
    static let all: [MalformedRequest] = [
        // Credentials: which of two would count is up to each intermediary (issue 14)
        .init(name: "two Authorization fields", raw: "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\nAuthorization: Bearer y\r\n\r\n", status: 400),
        // Request line
        .init(name: "lowercase method", raw: "get / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "invalid character in method", raw: "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "unknown method", raw: "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", status: 501),
        .init(name: "CONNECT is not served", raw: "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", status: 501),
        .init(name: "two spaces after the method", raw: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "space before the method", raw: " GET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "trailing space after the version", raw: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", status: 400),
        .init(name: "tab as separator", raw: "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "missing version", raw: "GET /\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "space inside the target", raw: "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "lowercase protocol name", raw: "GET / http/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "two-digit minor version", raw: "GET / HTTP/1.10\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "HTTP/2.0", raw: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", status: 505),
        .init(name: "HTTP/0.9 version", raw: "GET / HTTP/0.9\r\n\r\n", status: 505),
        .init(name: "request line over 8 KiB", raw: "GET \(longTarget) HTTP/1.1\r\nHost: a\r\n\r\n", status: 414),
        .init(name: "too many empty lines before the request", raw: "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        // Request target
        .init(name: "target not in origin-form", raw: "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "authority-form target", raw: "GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "asterisk-form for GET", raw: "GET * HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "fragment in target", raw: "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "bad percent-encoding", raw: "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "truncated percent-encoding", raw: "GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "control byte in target", raw: "GET /a\u{01}b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "non-ASCII (UTF-8) in target", raw: "GET /café HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        .init(name: "absolute-form without authority", raw: "GET http:///a HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        // Header section
        .init(name: "missing Host in HTTP/1.1", raw: "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", status: 400),
        .init(name: "two Host fields", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400),
        .init(name: "Host with a space", raw: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", status: 400),
        .init(name: "whitespace between name and colon", raw: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", status: 400),
        .init(name: "obs-fold continuation line", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", status: 400),
        .init(name: "whitespace before the first field", raw: "GET / HTTP/1.1\r\n Host: a\r\n\r\n", status: 400),
        .init(name: "field without colon", raw: "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", status: 400),
        .init(name: "empty field name", raw: "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", status: 400),
        .init(name: "invalid character in field name", raw: "GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", status: 400),
        .init(name: "NUL in field value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u{0}c\r\n\r\n", status: 400),
        .init(name: "bare CR in field value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", status: 400),
        .init(name: "DEL in field value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u{7F}\r\n\r\n", status: 400),
        .init(name: "bare LF line endings", raw: "GET / HTTP/1.1\nHost: a\n\n", status: 400),
        .init(name: "bare LF after a header", raw: "GET / HTTP/1.1\r\nHost: a\n\r\n", status: 400),
        .init(name: "more than 100 fields", raw: "GET / HTTP/1.1\r\nHost: a\r\n\(manyHeaders)\r\n", status: 431),
        .init(name: "header section over 32 KiB", raw: "GET / HTTP/1.1\r\nHost: a\r\n\(bigHeaders)\r\n", status: 431),
        .init(name: "unsupported expectation", raw: "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", status: 417),
        // Framing
        .init(name: "Content-Length and Transfer-Encoding", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        .init(name: "Transfer-Encoding gzip only", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", status: 400),
        .init(name: "chunked not final", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400),
        .init(name: "chunked twice", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        .init(name: "gzip then chunked", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501),
        .init(name: "Transfer-Encoding in HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        .init(name: "non-digit Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", status: 400),
        .init(name: "negative Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", status: 400),
        .init(name: "signed Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", status: 400),
        .init(name: "hex Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", status: 400),
        .init(name: "empty Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", status: 400),
        .init(name: "differing Content-Length fields", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", status: 400),
        .init(name: "differing Content-Length list", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!", status: 400),
        .init(name: "Content-Length over the body limit", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", status: 413),
        .init(name: "non-hex chunk size", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", status: 400),
        .init(name: "negative chunk size", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", status: 400),
        .init(name: "garbage after chunk size", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n", status: 400),
        .init(name: "empty chunk size line", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n", status: 400),
        .init(name: "chunk longer than its size", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", status: 400),
        .init(name: "chunk size line with bare LF", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", status: 400),
        .init(name: "chunk size over the body limit", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n", status: 413),
        .init(name: "control byte in trailer", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\u{1}\r\n\r\n", status: 400),
    ]
}
