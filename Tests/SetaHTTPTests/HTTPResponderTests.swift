// Tests for HTTPResponder: what goes on the wire for bytes, HEAD, streams, failures and odd statuses.

import Foundation
import Testing
@testable import SetaHTTP

struct HTTPResponderTests {
    /// Runs `handler` for `request` and returns the outcome and the bytes written.
    private func respond(_ request: HTTPRequest, keepAlive: Bool = true,
                         _ handler: @escaping HTTPHandler) -> (ResponseOutcome, String) {
        let pair = SocketPair()
        let output = ConnectionOutput(highWaterMark: 1 << 20) {}
        let outcome = HTTPResponder(handler: handler, logger: nil)
            .respond(to: request, keepAlive: keepAlive, shuttingDown: { false }, output: output)
        _ = output.send(to: pair.serverEnd)
        return (outcome, String(decoding: pair.read(), as: UTF8.self))
    }

    private let get = HTTPRequest(method: "GET", target: "/", headers: ["Host": "h"])

    @Test("a bytes body gets Content-Length and the connection stays open")
    func bytesBody() {
        let (outcome, wire) = respond(get) { _ in HTTPResponse(status: 200, body: .bytes(Array("hi".utf8))) }
        #expect(outcome == ResponseOutcome(close: false))
        #expect(wire.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(wire.contains("Content-Length: 2\r\n"))
        #expect(wire.hasSuffix("\r\n\r\nhi"))
    }

    @Test("HEAD gets the Content-Length GET would get, and no body")
    func headHasLengthButNoBody() {
        let head = HTTPRequest(method: "HEAD", target: "/", headers: ["Host": "h"])
        let (_, wire) = respond(head) { _ in HTTPResponse(status: 200, body: .bytes(Array("hello".utf8))) }
        #expect(wire.contains("Content-Length: 5\r\n"))
        #expect(wire.hasSuffix("\r\n\r\n"))
    }

    @Test("HEAD of a stream never runs the stream")
    func headOfStreamDoesNotRunIt() {
        let head = HTTPRequest(method: "HEAD", target: "/", headers: ["Host": "h"])
        let runs = Counter()
        let (_, wire) = respond(head) { _ in
            HTTPResponse(status: 200, body: .stream { _ in runs.increment() })
        }
        #expect(runs.value == 0)
        #expect(wire.contains("Transfer-Encoding: chunked\r\n"))
        #expect(wire.hasSuffix("\r\n\r\n"))
    }

    @Test("a 204 has neither a body nor a Content-Length")
    func noContentHasNoLength() {
        let (_, wire) = respond(get) { _ in HTTPResponse(status: 204, body: .bytes(Array("ignored".utf8))) }
        #expect(!wire.contains("Content-Length"))
        #expect(!wire.contains("ignored"))
    }

    @Test("a handler's Connection: close closes the connection")
    func handlerCanClose() {
        let (outcome, wire) = respond(get) { _ in HTTPResponse(status: 200, headers: ["Connection": "close"]) }
        #expect(outcome.close)
        #expect(wire.contains("Connection: close\r\n"))
    }

    @Test("a request without keep-alive gets Connection: close")
    func noKeepAliveCloses() {
        let (outcome, wire) = respond(get, keepAlive: false) { _ in HTTPResponse(status: 200) }
        #expect(outcome.close)
        #expect(wire.contains("Connection: close\r\n"))
    }

    @Test("a stream is sent chunked on HTTP/1.1 and ends with the last chunk")
    func streamIsChunked() {
        let (outcome, wire) = respond(get) { _ in
            HTTPResponse(status: 200, body: .stream { writer in
                try writer.write("abc")
                try writer.write([])
                try writer.write("def")
            })
        }
        #expect(!outcome.close)
        #expect(wire.contains("Transfer-Encoding: chunked\r\n"))
        #expect(wire.hasSuffix("\r\n\r\n6\r\nabcdef\r\n0\r\n\r\n"))
    }

    @Test("a stream on HTTP/1.0 is delimited by closing the connection")
    func streamOnHTTP10Closes() {
        let request = HTTPRequest(method: "GET", target: "/", version: .http1_0, headers: ["Connection": "keep-alive"])
        let (outcome, wire) = respond(request) { _ in
            HTTPResponse(status: 200, body: .stream { writer in try writer.write("raw") })
        }
        #expect(outcome.close)
        #expect(!wire.contains("chunked"))
        #expect(wire.contains("Connection: close\r\n"))
        #expect(wire.hasSuffix("\r\n\r\nraw"))
    }

    @Test("a stream failing before sending anything becomes a 500")
    func earlyStreamFailureIs500() {
        struct Failure: Error {}
        let (outcome, wire) = respond(get) { _ in
            HTTPResponse(status: 200, body: .stream { writer in
                try writer.write("small, still buffered")
                throw Failure()
            })
        }
        #expect(outcome.close)
        #expect(!outcome.abort)
        #expect(wire.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
    }

    @Test("a stream failing after sending cuts the connection without the last chunk")
    func lateStreamFailureAborts() {
        struct Failure: Error {}
        let (outcome, wire) = respond(get) { _ in
            HTTPResponse(status: 200, body: .stream { writer in
                try writer.write([UInt8](repeating: 0x61, count: HTTPResponder.streamChunkBytes))
                throw Failure()
            })
        }
        #expect(outcome.abort)
        #expect(wire.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(!wire.hasSuffix("0\r\n\r\n"))
    }

    @Test("a status outside 200...599 from the handler is replaced by 500")
    func invalidStatusBecomes500() {
        let (_, wire) = respond(get) { _ in HTTPResponse(status: 101) }
        #expect(wire.hasPrefix("HTTP/1.1 500 "))
    }
}
