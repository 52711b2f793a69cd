// Tests for HTTPResponseEncoder: heads, framing fields, chunks, error responses.

import Testing
@testable import SetaHTTP

struct HTTPResponseEncoderTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("a head has the status line, the handler's fields, Date and the framing field")
    func headIsComplete() {
        let head = text(HTTPResponseEncoder.head(status: 201, headers: ["Location": "/x"], framing: .contentLength(5), close: false))
        #expect(head.hasPrefix("HTTP/1.1 201 Created\r\nLocation: /x\r\nDate: "))
        #expect(head.hasSuffix("GMT\r\nContent-Length: 5\r\n\r\n"))
        #expect(!head.contains("Connection"))
    }

    @Test("the server's framing and connection fields replace the handler's")
    func serverOwnsFraming() {
        let headers: HTTPHeaders = ["Content-Length": "999", "Transfer-Encoding": "gzip", "Connection": "upgrade", "Keep-Alive": "timeout=5"]
        let head = text(HTTPResponseEncoder.head(status: 200, headers: headers, framing: .chunked, close: true))
        #expect(!head.contains("999"))
        #expect(!head.contains("gzip"))
        #expect(!head.contains("upgrade"))
        #expect(head.contains("Transfer-Encoding: chunked\r\n"))
        #expect(head.contains("Connection: close\r\n"))
    }

    @Test("a handler's Date is kept and not doubled")
    func handlerDateIsKept() {
        let head = text(HTTPResponseEncoder.head(status: 200, headers: ["Date": "Sun, 06 Nov 1994 08:49:37 GMT"], framing: .noBody, close: false))
        #expect(head.components(separatedBy: "Date:").count == 2)
        #expect(head.contains("1994"))
    }

    @Test("fields that could split the response are dropped")
    func unsafeFieldsAreDropped() {
        let headers: HTTPHeaders = ["X-Bad": "a\r\nSet-Cookie: evil=1", "Bad Name": "x", "X-Good": "ok"]
        let head = text(HTTPResponseEncoder.head(status: 200, headers: headers, framing: .contentLength(0), close: false))
        #expect(!head.contains("evil"))
        #expect(!head.contains("Bad Name"))
        #expect(head.contains("X-Good: ok\r\n"))
    }

    @Test("HTTP/1.0 keep-alive is announced")
    func keepAliveIsAnnouncedForHTTP10() {
        let head = text(HTTPResponseEncoder.head(status: 200, headers: [:], framing: .contentLength(0), close: false, keepAliveHTTP10: true))
        #expect(head.contains("Connection: keep-alive\r\n"))
    }

    @Test("a chunk is its hex size, CRLF, the bytes, CRLF")
    func chunkFraming() {
        #expect(text(HTTPResponseEncoder.chunk(Array(repeating: 0x61, count: 26))) == "1a\r\n" + String(repeating: "a", count: 26) + "\r\n")
    }

    @Test("an error response is problem+json, closes, and has no body for HEAD")
    func errorResponse() {
        let full = text(HTTPResponseEncoder.errorResponse(status: 431, reason: "too many"))
        #expect(full.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        #expect(full.contains("Content-Type: application/problem+json\r\n"))
        #expect(full.contains("Connection: close\r\n"))
        #expect(full.hasSuffix(#"{"type":"about:blank","title":"Request Header Fields Too Large","status":431,"detail":"too many"}"#))
        let head = text(HTTPResponseEncoder.errorResponse(status: 431, reason: "too many", isHead: true))
        #expect(head.hasSuffix("\r\n\r\n"))
        #expect(head.contains("Content-Length: "))
    }

    @Test("a 503 tells the client when to retry")
    func overloadHasRetryAfter() {
        #expect(text(HTTPResponseEncoder.errorResponse(status: 503, reason: "busy")).contains("Retry-After: 1\r\n"))
    }
}
