// TestClient: a plain blocking Glibc socket client that speaks just enough HTTP/1.1 to check the server.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import SetaHTTP

enum TestClientError: Error, Equatable {
    case connectFailed(Int32)
    case timedOut
    case closedByPeer
    case malformedResponse(String)
}

/// A response as the client parsed it.
struct TestResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    /// Sizes of the chunks when the body was chunked.
    var chunkSizes: [Int] = []
}

final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; reads give up after `timeout` seconds.
    init(port: Int, timeout: Double = 3) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestClientError.connectFailed(code)
        }
        setTimeout(timeout)
    }

    deinit {
        Glibc.close(fd)
    }

    func setTimeout(_ seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw TestClientError.closedByPeer
            }
            offset += written
        }
    }

    /// Whether bytes (or EOF) are waiting to be read, without waiting.
    func hasPendingInput() -> Bool {
        if !buffer.isEmpty { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    func shutdownWrite() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Reads more bytes into the buffer; false on EOF or reset.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count > 0 {
                buffer += chunk[0..<count]
                return true
            }
            if count == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw TestClientError.timedOut }
            return false
        }
    }

    private func readLine() throws -> String {
        while true {
            if let lf = buffer.firstIndex(of: 0x0A), lf > 0, buffer[lf - 1] == 0x0D {
                let line = String(decoding: buffer[0..<(lf - 1)], as: UTF8.self)
                buffer.removeFirst(lf + 1)
                return line
            }
            guard try fill() else { throw TestClientError.closedByPeer }
        }
    }

    private func readExactly(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw TestClientError.closedByPeer }
        }
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// Reads one response (interim 1xx responses included: call again for the final one).
    /// `toHead`: the request was HEAD, so no body follows whatever the headers say.
    func readResponse(toHead: Bool = false) throws -> TestResponse {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            throw TestClientError.malformedResponse(statusLine)
        }
        var headers = HTTPHeaders()
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw TestClientError.malformedResponse(line) }
            headers.add(String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        var response = TestResponse(status: status, headers: headers, body: [])
        if toHead || (100..<200).contains(status) || status == 204 || status == 304 { return response }
        if headers["Transfer-Encoding"] == "chunked" {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine, radix: 16) else { throw TestClientError.malformedResponse(sizeLine) }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                response.body += try readExactly(size)
                response.chunkSizes.append(size)
                guard try readExactly(2) == [0x0D, 0x0A] else { throw TestClientError.malformedResponse("chunk end") }
            }
        } else if let length = headers["Content-Length"].flatMap(Int.init) {
            response.body = try readExactly(length)
        } else {
            response.body = try readToEnd()
        }
        return response
    }

    /// Everything until the peer closes (or the read timeout).
    func readToEnd() throws -> [UInt8] {
        while try fill() {}
        let bytes = buffer
        buffer.removeAll()
        return bytes
    }

    /// Whether the peer closed the connection (EOF or reset) within the read timeout, with no
    /// further bytes before that.
    func isClosedByPeer() -> Bool {
        guard buffer.isEmpty else { return false }
        do {
            return try !fill()
        } catch {
            return false
        }
    }
}

/// A server on an ephemeral port with short limits, shut down when `body` returns.
func withServer(
    _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    handler: @escaping HTTPHandler = echoHandler,
    inlineHandler: HTTPInlineHandler? = nil,
    bodyPermission: HTTPBodyPermission? = nil,
    _ body: (HTTPServer) throws -> Void
) throws {
    var configuration = HTTPServerConfiguration()
    configuration.port = 0
    configuration.workerCount = 4
    configuration.shutdownGracePeriod = .milliseconds(500)
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, handler: handler, inlineHandler: inlineHandler,
                            bodyPermission: bodyPermission)
    try server.start()
    defer {
        server.shutdown()
        server.waitUntilStopped()
    }
    try body(server)
}

/// Answers with the method, path, query and body it got, so tests can see what arrived.
let echoHandler: HTTPHandler = { request in
    var text = "\(request.method) \(request.path)"
    if let query = request.query { text += "?\(query)" }
    text += "\n" + String(decoding: request.body, as: UTF8.self)
    return HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: .bytes(Array(text.utf8)))
}

extension HTTPRequestDecoder {
    /// Feeds `text` and returns every event up to `.needMore` or an error.
    mutating func events(after text: String) -> [Event] {
        feed(Array(text.utf8))
        return drain()
    }

    mutating func drain() -> [Event] {
        var events: [Event] = []
        while true {
            let event = next()
            events.append(event)
            switch event {
            case .needMore, .error: return events
            case .request, .continueExpected: continue
            }
        }
    }
}

extension HTTPRequestDecoder.Event {
    var request: HTTPRequest? {
        if case .request(let request) = self { return request }
        return nil
    }

    var errorStatus: Int? {
        if case .error(let status, _) = self { return status }
        return nil
    }

    var isNeedMore: Bool {
        if case .needMore = self { return true }
        return false
    }

    var isContinueExpected: Bool {
        if case .continueExpected = self { return true }
        return false
    }
}
