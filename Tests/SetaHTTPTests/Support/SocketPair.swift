// SocketPair: two connected local sockets, to drain a ConnectionOutput without a server.

#if canImport(Glibc)
import Glibc
#endif

final class SocketPair {
    /// The end the server side writes to.
    let serverEnd: Int32
    /// The end the test reads from.
    let clientEnd: Int32

    init() {
        var descriptors: [Int32] = [-1, -1]
        _ = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &descriptors)
        serverEnd = descriptors[0]
        clientEnd = descriptors[1]
        _ = fcntl(serverEnd, F_SETFL, fcntl(serverEnd, F_GETFL) | O_NONBLOCK)
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(clientEnd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(serverEnd)
        close(clientEnd)
    }

    /// Everything readable within `count` bytes (blocks up to the timeout for the first byte).
    func read(upTo count: Int = 1 << 20) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let received = recv(clientEnd, &bytes, count, 0)
        return received > 0 ? Array(bytes[0..<received]) : []
    }
}
