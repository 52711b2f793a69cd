// HTTPResponseEncoder: the bytes of response heads, chunks, 100 Continue and error responses.

enum HTTPResponseEncoder {
    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    static let lastChunk = Array("0\r\n\r\n".utf8)

    /// How the body after the head is delimited.
    enum Framing: Equatable {
        case contentLength(Int)
        case chunked
        /// HTTP/1.0 streaming: the end of the body is the end of the connection.
        case closeDelimited
        /// 204 and 304 have no body and no length.
        case noBody
    }

    /// Fields the server writes itself; a handler's copies are dropped.
    static let serverOwnedFields = ["Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive"]

    /// The status line and header section, followed by `body` when given (one buffer, one send).
    /// `keepAliveHTTP10` adds `Connection: keep-alive`, which an HTTP/1.0 client needs to know the
    /// connection stays open. Built as bytes, not by String concatenation: it runs once per response.
    static func head(status: Int, headers: HTTPHeaders, framing: Framing, close: Bool,
                     keepAliveHTTP10: Bool = false, body: [UInt8]? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + headers.count * 48 + (body?.count ?? 0))
        out += statusLine(status)
        var hasDate = false
        for field in headers where isSendable(field) {
            if isServerOwned(field.name) { continue }
            if HTTPHeaders.namesEqual(field.name, "Date") { hasDate = true }
            out += field.name.utf8
            out += colonSpace
            out += field.value.utf8
            out += crlf
        }
        if !hasDate {
            out += dateName
            out += HTTPDate.now().utf8
            out += crlf
        }
        switch framing {
        case .contentLength(let length):
            out += contentLengthName
            appendDecimal(length, to: &out)
            out += crlf
        case .chunked: out += chunkedField
        case .closeDelimited, .noBody: break
        }
        if close {
            out += connectionClose
        } else if keepAliveHTTP10 {
            out += connectionKeepAlive
        }
        out += crlf
        if let body { out += body }
        return out
    }

    private static let colonSpace: [UInt8] = [0x3A, 0x20]
    private static let crlf: [UInt8] = [0x0D, 0x0A]
    private static let dateName = Array("Date: ".utf8)
    private static let contentLengthName = Array("Content-Length: ".utf8)
    private static let chunkedField = Array("Transfer-Encoding: chunked\r\n".utf8)
    private static let connectionClose = Array("Connection: close\r\n".utf8)
    private static let connectionKeepAlive = Array("Connection: keep-alive\r\n".utf8)
    /// Status lines of the statuses the service sends, built once.
    private static let commonStatusLines: [Int: [UInt8]] = Dictionary(uniqueKeysWithValues:
        [200, 201, 204, 304, 400, 401, 403, 404, 405, 408, 409, 412, 413, 414, 417, 422, 423, 431, 500, 501, 503, 505]
            .map { ($0, Array("HTTP/1.1 \($0) \(HTTPStatus.reasonPhrase(for: $0))\r\n".utf8)) })

    static func statusLine(_ status: Int) -> [UInt8] {
        commonStatusLines[status] ?? Array("HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(for: status))\r\n".utf8)
    }

    static func isServerOwned(_ name: String) -> Bool {
        serverOwnedFields.contains(where: { HTTPHeaders.namesEqual($0, name) })
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 10 {
            out.append(0x30 + UInt8(value))
            return
        }
        var digits: [UInt8] = []
        var rest = value
        while rest > 0 {
            digits.append(0x30 + UInt8(rest % 10))
            rest /= 10
        }
        out += digits.reversed()
    }

    /// A header field is written only if it cannot break the framing (no CR/LF/CTL: response splitting).
    static func isSendable(_ field: HTTPHeaders.Element) -> Bool {
        // Scanned as contiguous UTF-8 buffers: this runs for every field of every response.
        var name = field.name, value = field.value
        return !name.isEmpty
            && name.withUTF8 { $0.allSatisfy(HTTPRequestDecoder.isTokenByte) }
            && !value.withUTF8 { $0.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) }
    }

    /// One chunk of a chunked body; `bytes` must not be empty (an empty chunk ends the body).
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(String(bytes.count, radix: 16).utf8)
        out.reserveCapacity(out.count + bytes.count + 4)
        out += [0x0D, 0x0A]
        out += bytes
        out += [0x0D, 0x0A]
        return out
    }

    /// A complete problem+json error response that closes the connection, with its X-Request-Id.
    static func errorResponse(status: Int, reason: String, isHead: Bool = false,
                              requestId: String = HTTPRequestID.generate()) -> [UInt8] {
        let problem = HTTPResponse.problem(status: status, detail: reason)
        var headers = problem.headers
        headers.add(HTTPRequestID.headerName, requestId)
        if status == 503 || status == 429 { headers.add("Retry-After", "1") }
        guard case .bytes(let body) = problem.body else { return [] }
        let head = head(status: status, headers: headers, framing: .contentLength(body.count), close: true)
        return isHead ? head : head + body
    }
}
