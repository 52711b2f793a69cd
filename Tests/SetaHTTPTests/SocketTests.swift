// Tests for Socket: listening on an ephemeral port, non-blocking accept, peer addresses.

#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SetaHTTP

struct SocketTests {
    @Test("listening on port 0 binds a free port and accept does not block")
    func listensOnEphemeralPort() throws {
        let listener = try Socket.listen(host: "127.0.0.1", port: 0, backlog: 8)
        defer { close(listener) }
        let port = Socket.localPort(listener)
        #expect(port > 0)
        guard case .wouldBlock = Socket.accept(listener) else {
            Issue.record("accept should not find a connection")
            return
        }
        let client = try TestClient(port: port)
        var accepted: Socket.AcceptResult = .wouldBlock
        for _ in 0..<100 {
            accepted = Socket.accept(listener)
            if case .accepted = accepted { break }
            usleep(10_000)
        }
        guard case .accepted(let fd, let address) = accepted else {
            Issue.record("no connection accepted")
            return
        }
        defer { close(fd) }
        #expect(address == "127.0.0.1")
        #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
        _ = client
    }

    @Test("IPv6 loopback can be listened on")
    func listensOnIPv6() throws {
        guard let listener = try? Socket.listen(host: "::1", port: 0, backlog: 8) else { return } // no IPv6 here
        defer { close(listener) }
        #expect(Socket.localPort(listener) > 0)
    }

    @Test("an out-of-range port is an invalid address")
    func rejectsBadPort() {
        #expect(throws: HTTPServerError.invalidAddress("127.0.0.1")) {
            try Socket.listen(host: "127.0.0.1", port: 70000, backlog: 8)
        }
    }
}
