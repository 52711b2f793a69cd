// Live tests of the event loop's limits and timeouts, over real sockets with short configured values.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
@testable import SetaHTTP

struct HTTPEventLoopTests {
    /// Sends `raw`, expects one response with `status` and `Connection: close`, then the close.
    private func expectRefusal(_ raw: String, status: Int, port: Int,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let client = try TestClient(port: port)
        try client.send(raw)
        let response = try client.readResponse()
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.headers["Connection"] == "close", sourceLocation: sourceLocation)
        #expect(response.headers["Content-Type"] == "application/problem+json", sourceLocation: sourceLocation)
        #expect(response.text.contains(#""status":\#(status)"#), sourceLocation: sourceLocation)
        #expect(response.headers["X-Request-Id"].map(HTTPRequestID.isSafe) == true, "no X-Request-Id",
                sourceLocation: sourceLocation)
        #expect(client.isClosedByPeer(), "connection left open", sourceLocation: sourceLocation)
    }

    @Test("each malformed request is answered with its status and the connection closed",
          arguments: MalformedRequests.all)
    func malformedRequestIsRefusedLive(_ malformed: MalformedRequest) throws {
        try withServer { server in
            try expectRefusal(malformed.raw, status: malformed.status, port: server.port)
        }
    }

    @Test("a request line over maxRequestLineBytes gets 414")
    func requestLineLimit() throws {
        try withServer({ $0.maxRequestLineBytes = 64 }) { server in
            try expectRefusal("GET /" + String(repeating: "x", count: 80) + " HTTP/1.1\r\nHost: h\r\n\r\n", status: 414, port: server.port)
        }
    }

    @Test("more than maxHeaderCount fields get 431")
    func headerCountLimit() throws {
        try withServer({ $0.maxHeaderCount = 5 }) { server in
            let fields = (0..<5).map { "X-\($0): v\r\n" }.joined()
            try expectRefusal("GET / HTTP/1.1\r\nHost: h\r\n\(fields)\r\n", status: 431, port: server.port)
        }
    }

    @Test("a header section over maxHeaderBytes gets 431")
    func headerBytesLimit() throws {
        try withServer({ $0.maxHeaderBytes = 256 }) { server in
            try expectRefusal("GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(String(repeating: "b", count: 300))\r\n\r\n", status: 431, port: server.port)
        }
    }

    @Test("a body over maxBodyBytes gets 413, by Content-Length or by chunks")
    func bodyLimit() throws {
        try withServer({ $0.maxBodyBytes = 1000 }) { server in
            try expectRefusal("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n", status: 413, port: server.port)
            let chunk = String(repeating: "c", count: 600)
            try expectRefusal("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n", status: 413, port: server.port)
        }
    }

    @Test("a 413 is readable even while the client keeps sending its body")
    func refusalSurvivesUnreadBody() throws {
        try withServer({ $0.maxBodyBytes = 1000 }) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000000\r\n\r\n")
            try? client.send([UInt8](repeating: 0x61, count: 1_000_000))
            #expect(try client.readResponse().status == 413)
        }
    }

    @Test("a head not complete within headerReadTimeout gets 408, even when a byte keeps arriving")
    func slowHeadGets408() throws {
        try withServer({ $0.headerReadTimeout = .milliseconds(400) }) { server in
            let client = try TestClient(port: server.port)
            let began = Date()
            try client.send("GET / HTTP/1.1\r\n")
            // Slowloris: a byte every 100 ms must not extend the deadline.
            for byte in "X-Slow: abcdefghijklmnopqrstuvwxyz".utf8 {
                guard (try? client.send([byte])) != nil else { break }
                Thread.sleep(forTimeInterval: 0.1)
                if client.hasPendingInput() || Date().timeIntervalSince(began) > 1.5 { break }
            }
            let response = try client.readResponse()
            #expect(response.status == 408)
            #expect(Date().timeIntervalSince(began) < 1.5)
            #expect(client.isClosedByPeer())
        }
    }

    @Test("a body not complete within bodyReadTimeout gets 408")
    func slowBodyGets408() throws {
        try withServer({ $0.bodyReadTimeout = .milliseconds(300) }) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
            let response = try client.readResponse()
            #expect(response.status == 408)
            #expect(client.isClosedByPeer())
        }
    }

    @Test("a new connection that sends nothing is closed silently after headerReadTimeout")
    func silentConnectionIsClosed() throws {
        try withServer({ $0.headerReadTimeout = .milliseconds(300) }) { server in
            let client = try TestClient(port: server.port)
            let began = Date()
            #expect(try client.readToEnd().isEmpty)
            #expect(Date().timeIntervalSince(began) < 2)
        }
    }

    @Test("an idle kept-alive connection is closed silently after idleKeepAliveTimeout")
    func idleConnectionIsClosed() throws {
        try withServer({ $0.idleKeepAliveTimeout = .milliseconds(300) }) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try client.readResponse().status == 200)
            #expect(server.openConnectionCount == 1)
            let began = Date()
            #expect(try client.readToEnd().isEmpty)
            let waited = Date().timeIntervalSince(began)
            #expect(waited > 0.2 && waited < 2)
            Thread.sleep(forTimeInterval: 0.05)
            #expect(server.openConnectionCount == 0)
        }
    }

    @Test("beyond maxConnections a connection is answered 503 and closed")
    func connectionLimit() throws {
        try withServer({ $0.maxConnections = 2 }) { server in
            let first = try TestClient(port: server.port)
            let second = try TestClient(port: server.port)
            for client in [first, second] {
                try client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
                #expect(try client.readResponse().status == 200)
            }
            #expect(server.openConnectionCount == 2)
            let third = try TestClient(port: server.port)
            try? third.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            let refused = try third.readResponse()
            #expect(refused.status == 503)
            #expect(refused.headers["Connection"] == "close")
            #expect(third.isClosedByPeer())
            #expect(server.openConnectionCount == 2)
            // A freed slot is usable again.
            first.shutdownWrite()
            #expect(first.isClosedByPeer())
            Thread.sleep(forTimeInterval: 0.1)
            let fourth = try TestClient(port: server.port)
            try fourth.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try fourth.readResponse().status == 200)
        }
    }

    @Test("with every worker busy and the queue full, a request gets 503")
    func fullQueueGets503() throws {
        let gate = Gate()
        try withServer({
            $0.workerCount = 1
            $0.maxQueuedRequests = 0
            $0.shutdownGracePeriod = .milliseconds(200)
        }, handler: { _ in
            gate.wait()
            return HTTPResponse(status: 200)
        }) { server in
            let busy = try TestClient(port: server.port)
            try busy.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            Thread.sleep(forTimeInterval: 0.2)
            try expectRefusal("GET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 503, port: server.port)
            gate.open()
            #expect(try busy.readResponse().status == 200)
        }
    }

    @Test("a client that stops reading a response is cut off after writeTimeout and its stream stops")
    func writeTimeoutClosesAndStopsTheStream() throws {
        let failed = Counter()
        try withServer({
            $0.writeTimeout = .milliseconds(300)
            $0.outputHighWaterMarkBytes = 64 * 1024
        }, handler: { _ in
            HTTPResponse(status: 200, body: .stream { writer in
                let block = [UInt8](repeating: 0x7A, count: 64 * 1024)
                do {
                    for _ in 0..<100_000 { try writer.write(block) }
                } catch {
                    failed.increment()
                    throw error
                }
            })
        }) { server in
            let client = try TestClient(port: server.port)
            var size: Int32 = 4096
            setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            try client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            let deadline = Date().addingTimeInterval(5)
            while failed.value == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            #expect(failed.value == 1)
            #expect(server.openConnectionCount == 0)
        }
    }

    @Test("the open connection count follows connections opening and closing")
    func openConnectionCountIsTracked() throws {
        try withServer { server in
            #expect(server.openConnectionCount == 0)
            var clients: [TestClient] = []
            for _ in 0..<5 {
                let client = try TestClient(port: server.port)
                try client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
                _ = try client.readResponse()
                clients.append(client)
            }
            #expect(server.openConnectionCount == 5)
            clients.removeAll()
            let deadline = Date().addingTimeInterval(2)
            while server.openConnectionCount > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(server.openConnectionCount == 0)
        }
    }

    @Test("protocol errors are logged without header values")
    func errorsAreLoggedWithoutValues() throws {
        let lines = LogLines()
        try withServer({ $0.logger = { lines.append($0) } }) { server in
            try expectRefusal("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer secret-token\u{1}\r\n\r\n", status: 400, port: server.port)
        }
        #expect(lines.all.contains { $0.contains("400") })
        #expect(!lines.all.contains { $0.contains("secret") })
    }
}

final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }
}
