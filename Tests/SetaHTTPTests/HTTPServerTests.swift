// Live tests of HTTPServer on a real socket (port 0): requests, keep-alive, pipelining, bodies, streaming, shutdown.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
@testable import SetaHTTP

struct HTTPServerTests {
    @Test("a GET is answered with the handler's response, a Date and a Content-Length")
    func getIsAnswered() throws {
        try withServer { server in
            #expect(server.port > 0)
            let client = try TestClient(port: server.port)
            try client.send("GET /healthz?full=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "GET /healthz?full=1\n")
            #expect(response.headers["Date"]?.hasSuffix("GMT") == true)
            #expect(response.headers["Content-Length"] == "\(response.body.count)")
            #expect(response.headers["Connection"] == nil)
        }
    }

    @Test("the handler sees the peer's address")
    func remoteAddressIsSet() throws {
        try withServer(handler: { request in
            HTTPResponse(status: 200, body: .bytes(Array((request.remoteAddress ?? "none").utf8)))
        }) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try client.readResponse().text == "127.0.0.1")
        }
    }

    @Test("two requests are answered on one kept-alive connection")
    func keepAliveServesTwoRequests() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /one HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try client.readResponse().text == "GET /one\n")
            try client.send("GET /two HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try client.readResponse().text == "GET /two\n")
            #expect(server.openConnectionCount == 1)
        }
    }

    @Test("three pipelined requests in one write get three responses in order")
    func pipelinedRequestsAreAnsweredInOrder() throws {
        // Later requests are faster, so answering out of order would show.
        try withServer(handler: { request in
            if request.path == "/1" { Thread.sleep(forTimeInterval: 0.2) }
            return echoHandler(request)
        }) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            #expect(try client.readResponse().text == "GET /1\n")
            #expect(try client.readResponse().text == "POST /2\nbody")
            let last = try client.readResponse()
            #expect(last.text == "GET /3\n")
            #expect(last.headers["Connection"] == "close")
            #expect(client.isClosedByPeer())
        }
    }

    @Test("a chunked request body reaches the handler whole")
    func chunkedBodyIsReceived() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
            try client.send("6;ext=ignored\r\nhello \r\n")
            try client.send("5\r\nworld\r\n0\r\nX-Trailer: skipped\r\n\r\n")
            #expect(try client.readResponse().text == "POST /upload\nhello world")
        }
    }

    @Test("a large Content-Length body arriving in pieces is received")
    func largeBodyIsReceived() throws {
        try withServer(handler: { request in
            HTTPResponse(status: 200, body: .bytes(Array("\(request.body.count) \(request.body.reduce(0) { $0 &+ Int($1) })".utf8)))
        }) { server in
            let client = try TestClient(port: server.port)
            let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0) }
            try client.send("PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.count)\r\n\r\n")
            try client.send(body)
            #expect(try client.readResponse().text == "\(body.count) \(body.reduce(0) { $0 &+ Int($1) })")
        }
    }

    @Test("HTTP/1.0 closes after the response unless it asks for keep-alive")
    func http10ClosesByDefault() throws {
        try withServer { server in
            let plain = try TestClient(port: server.port)
            try plain.send("GET /a HTTP/1.0\r\n\r\n")
            let first = try plain.readResponse()
            #expect(first.headers["Connection"] == "close")
            #expect(plain.isClosedByPeer())

            let kept = try TestClient(port: server.port)
            try kept.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().headers["Connection"] == "keep-alive")
            try kept.send("GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().text == "GET /c\n")
        }
    }

    @Test("Expect: 100-continue gets 100 Continue before the body is sent")
    func continueIsSentBeforeTheBody() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = try client.readResponse()
            #expect(interim.status == 100)
            try client.send("12345")
            let final = try client.readResponse()
            #expect(final.status == 200)
            #expect(final.text == "POST /c\n12345")
        }
    }

    @Test("Expect: 100-continue with a body over the limit gets 413 without 100, and the connection closes")
    func continueWithOversizedBodyGets413() throws {
        try withServer({ $0.maxBodyBytes = 100 }) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(response.headers["Connection"] == "close")
            #expect(client.isClosedByPeer())
        }
    }

    @Test("Expect: 100-continue gets 100 Continue only after the application allowed the body")
    func continueWaitsForTheBodyPermission() throws {
        let asked = Counter()
        try withServer(bodyPermission: { head in
            #expect(head.path == "/c" && head.body.isEmpty)
            asked.increment()
            return nil
        }) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            #expect(try client.readResponse().status == 100)
            #expect(asked.value == 1)
            try client.send("12345")
            #expect(try client.readResponse().text == "POST /c\n12345")
        }
    }

    @Test("Expect: 100-continue refused by the application gets the final answer at once, without 100, and the connection closes")
    func refusedContinueGetsTheFinalAnswer() throws {
        try withServer(bodyPermission: { head in
            head.headers["Authorization"] == nil
                ? HTTPResponse.problem(status: 401, detail: "no credentials") : nil
        }) { server in
            let client = try TestClient(port: server.port)
            try client.send("PUT /r HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 401)
            #expect(response.headers["Connection"] == "close")
            #expect(client.isClosedByPeer())
        }
    }

    @Test("the inline handler answers what it can, and a request it passes on goes to a worker, in order")
    func inlineHandlerAnswersOnTheLoop() throws {
        let workerRequests = Counter()
        try withServer(handler: { request in
            workerRequests.increment()
            Thread.sleep(forTimeInterval: 0.1)
            return HTTPResponse(status: 200, body: .bytes(Array("worker \(request.path)".utf8)))
        }, inlineHandler: { request in
            request.path == "/fast" ? HTTPResponse(status: 200, body: .bytes(Array("inline /fast".utf8))) : nil
        }) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /fast HTTP/1.1\r\nHost: h\r\n\r\nGET /fast HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try client.readResponse().text == "worker /slow")
            #expect(try client.readResponse().text == "inline /fast")
            #expect(try client.readResponse().text == "inline /fast")
            #expect(workerRequests.value == 1)
        }
    }

    @Test("the server's own error answers carry the client's X-Request-Id when it is safe, and a new one otherwise")
    func serverErrorsCarryARequestId() throws {
        try withServer { server in
            let echoed = try TestClient(port: server.port)
            try echoed.send("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: abc-123\r\nBad Header: x\r\n\r\n")
            let first = try echoed.readResponse()
            #expect(first.status == 400)
            #expect(first.headers["X-Request-Id"] == "abc-123")

            let fresh = try TestClient(port: server.port)
            try fresh.send("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: no spaces allowed\r\nContent-Length: x\r\n\r\n")
            let second = try fresh.readResponse()
            #expect(second.status == 400)
            let id = try #require(second.headers["X-Request-Id"])
            #expect(id.utf8.count == 16 && HTTPRequestID.isSafe(id))
        }
    }

    @Test("each error answer of the server itself is reported to the observer with the request id it carried")
    func serverErrorsAreReported() throws {
        let reported = Reports()
        try withServer({ $0.errorResponseObserver = { reported.add($0) } }) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: r-1\r\nHost: again\r\n\r\n")
            #expect(try client.readResponse().status == 400)
            #expect(client.isClosedByPeer())
        }
        let events = reported.all
        #expect(events.count == 1)
        #expect(events.first?.status == 400)
        #expect(events.first?.requestId == "r-1")
        #expect(events.first?.method == "GET")
    }

    @Test("HEAD gets the GET headers with Content-Length and no body, and the connection stays usable")
    func headHasNoBody() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n")
            let head = try client.readResponse(toHead: true)
            #expect(head.status == 200)
            #expect(head.headers["Content-Length"] == "\("HEAD /h\n".utf8.count)")
            try client.send("GET /g HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try client.readResponse().text == "GET /g\n")
        }
    }

    @Test("a streamed response arrives chunked and complete over many chunks")
    func streamedResponseIsChunked() throws {
        let rows = 20_000
        try withServer(handler: { _ in
            HTTPResponse(status: 200, headers: ["Content-Type": "text/csv"], body: .stream { writer in
                for row in 0..<rows { try writer.write("\(row),municipio-\(row)\n") }
            })
        }) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /export HTTP/1.1\r\nHost: h\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.headers["Transfer-Encoding"] == "chunked")
            #expect(response.headers["Content-Length"] == nil)
            #expect(response.chunkSizes.count > 10)
            let lines = response.text.split(separator: "\n")
            #expect(lines.count == rows)
            #expect(lines.last == "\(rows - 1),municipio-\(rows - 1)")
            try client.send("GET /again HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
    }

    @Test("a streaming writer is held back while the client does not read")
    func streamIsBackPressured() throws {
        let produced = Counter()
        let total = 64 * 1024 * 1024
        try withServer({ $0.outputHighWaterMarkBytes = 256 * 1024 }, handler: { _ in
            HTTPResponse(status: 200, body: .stream { writer in
                let block = [UInt8](repeating: 0x78, count: 64 * 1024)
                for _ in 0..<(total / block.count) {
                    try writer.write(block)
                    produced.add(block.count)
                }
            })
        }) { server in
            let client = try TestClient(port: server.port, timeout: 10)
            try client.send("GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
            Thread.sleep(forTimeInterval: 0.5)
            // Socket buffers on both ends plus the high-water mark, far below the 64 MiB total.
            #expect(produced.value < 24 * 1024 * 1024)
            let response = try client.readResponse()
            #expect(response.body.count == total)
        }
    }

    @Test("shutdown lets an in-flight slow request finish, refuses new connections, then stops")
    func gracefulShutdown() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.shutdownGracePeriod = .seconds(5)
        let started = Gate()
        let server = HTTPServer(configuration: configuration) { request in
            guard request.path == "/slow" else { return HTTPResponse(status: 200) }
            started.open()
            Thread.sleep(forTimeInterval: 1)
            return HTTPResponse(status: 200, body: .bytes(Array("finished".utf8)))
        }
        try server.start()
        let port = server.port
        let slow = try TestClient(port: port)
        let idle = try TestClient(port: port)
        try idle.send("GET /fast HTTP/1.1\r\nHost: h\r\n\r\n")
        _ = try idle.readResponse()
        try slow.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
        started.wait()

        slow.setTimeout(5)
        let began = Date()
        server.shutdown()
        #expect(throws: TestClientError.self) { _ = try TestClient(port: port) }
        #expect(idle.isClosedByPeer())

        let response = try slow.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "finished")
        #expect(response.headers["Connection"] == "close")
        server.waitUntilStopped()
        #expect(Date().timeIntervalSince(began) < 4)
        #expect(server.openConnectionCount == 0)
    }

    @Test("shutdown closes everything once the grace period is over")
    func shutdownIsBoundedByGracePeriod() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.shutdownGracePeriod = .milliseconds(300)
        let gate = Gate()
        let server = HTTPServer(configuration: configuration) { _ in
            gate.wait()
            return HTTPResponse(status: 200)
        }
        try server.start()
        let client = try TestClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.1)
        let began = Date()
        server.shutdown()
        server.waitUntilStopped()
        #expect(Date().timeIntervalSince(began) < 2)
        #expect(client.isClosedByPeer())
        gate.open()
    }

    @Test("shutdown is idempotent and a server never started stops at once")
    func shutdownIsIdempotent() throws {
        let unstarted = HTTPServer { _ in HTTPResponse(status: 200) }
        unstarted.shutdown()
        unstarted.waitUntilStopped()
        #expect(throws: HTTPServerError.notStartable) { try unstarted.start() }

        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration) { _ in HTTPResponse(status: 200) }
        try server.start()
        #expect(throws: HTTPServerError.notStartable) { try server.start() }
        server.shutdown()
        server.shutdown()
        server.waitUntilStopped()
    }

    @Test("a host that cannot be resolved fails start with invalidAddress")
    func invalidHostFails() {
        var configuration = HTTPServerConfiguration()
        configuration.host = "not a host name"
        configuration.port = 0
        #expect(throws: HTTPServerError.invalidAddress("not a host name")) {
            try HTTPServer(configuration: configuration) { _ in HTTPResponse(status: 200) }.start()
        }
    }

    @Test("a port already in use fails start with a bind error")
    func portInUseFails() throws {
        try withServer { server in
            var configuration = HTTPServerConfiguration()
            configuration.port = server.port
            #expect(throws: HTTPServerError.systemCall("bind", errno: EADDRINUSE)) {
                try HTTPServer(configuration: configuration) { _ in HTTPResponse(status: 200) }.start()
            }
        }
    }
}

/// Error reports collected from the server's observer (called on the event loop).
final class Reports: Sendable {
    private let events = Mutex<[HTTPErrorResponseEvent]>([])

    var all: [HTTPErrorResponseEvent] {
        events.withLock { $0 }
    }

    func add(_ event: HTTPErrorResponseEvent) {
        events.withLock { $0.append(event) }
    }
}
