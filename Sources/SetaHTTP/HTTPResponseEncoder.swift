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

    /// The status line and header section. `keepAliveHTTP10` adds `Connection: keep-alive`, which an
    /// HTTP/1.0 client needs to know the connection stays open.
    static func head(status: Int, headers: HTTPHeaders, framing: Framing, close: Bool,
                     keepAliveHTTP10: Bool = false) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(for: status))\r\n"
        var hasDate = false
        for field in headers where isSendable(field) {
            if serverOwnedFields.contains(where: { HTTPHeaders.namesEqual($0, field.name) }) { continue }
            if HTTPHeaders.namesEqual(field.name, "Date") { hasDate = true }
            text += field.name + ": " + field.value + "\r\n"
        }
        if !hasDate { text += "Date: " + HTTPDate.now() + "\r\n" }
        switch framing {
        case .contentLength(let length): text += "Content-Length: \(length)\r\n"
        case .chunked: text += "Transfer-Encoding: chunked\r\n"
        case .closeDelimited, .noBody: break
        }
        if close {
            text += "Connection: close\r\n"
        } else if keepAliveHTTP10 {
            text += "Connection: keep-alive\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// A header field is written only if it cannot break the framing (no CR/LF/CTL: response splitting).
    static func isSendable(_ field: HTTPHeaders.Element) -> Bool {
        !field.name.isEmpty
            && field.name.utf8.allSatisfy(HTTPRequestDecoder.isTokenByte)
            && !field.value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F })
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

    /// A complete problem+json error response that closes the connection.
    static func errorResponse(status: Int, reason: String, isHead: Bool = false) -> [UInt8] {
        let problem = HTTPResponse.problem(status: status, detail: reason)
        var headers = problem.headers
        if status == 503 || status == 429 { headers.add("Retry-After", "1") }
        guard case .bytes(let body) = problem.body else { return [] }
        let head = head(status: status, headers: headers, framing: .contentLength(body.count), close: true)
        return isHead ? head : head + body
    }
}
