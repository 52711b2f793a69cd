// Socket: the few socket system calls the server makes, with errno turned into HTTPServerError.

#if canImport(Glibc)
import Glibc
#endif

enum Socket {
    /// A non-blocking listening socket bound to `host:port`. With `reusePort` several sockets share
    /// the port and the kernel spreads new connections over them (one per event loop).
    static func listen(host: String, port: Int, backlog: Int, reusePort: Bool = false) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard (0...65535).contains(port), getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw HTTPServerError.invalidAddress(host)
        }
        defer { freeaddrinfo(list) }

        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPServerError.systemCall("socket", errno: errno) }
        do {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
                throw HTTPServerError.systemCall("bind", errno: errno)
            }
            guard Glibc.listen(fd, Int32(clamping: max(1, backlog))) == 0 else {
                throw HTTPServerError.systemCall("listen", errno: errno)
            }
            try makeNonBlocking(fd)
            return fd
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// The port a socket is bound to.
    static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return 0 }
        return port(of: storage)
    }

    enum AcceptResult {
        case accepted(fd: Int32, address: String)
        case wouldBlock
        /// Out of descriptors or memory: stop accepting for a moment instead of spinning.
        case exhausted(errno: Int32)
        /// The connection was gone before accept, or the call was interrupted: try again.
        case retry
        case failed(errno: Int32)
    }

    static func accept(_ listener: Int32) -> AcceptResult {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) }
        }
        guard fd >= 0 else {
            let code = errno
            switch code {
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case EINTR, ECONNABORTED, EPROTO: return .retry
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .exhausted(errno: code)
            default: return .failed(errno: code)
            }
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        do {
            try makeNonBlocking(fd)
        } catch {
            Glibc.close(fd)
            return .retry
        }
        // Responses are written whole; Nagle would only delay the last segment.
        try? setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        return .accepted(fd: fd, address: address(of: storage))
    }

    static func makeNonBlocking(_ fd: Int32) throws {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw HTTPServerError.systemCall("fcntl", errno: errno)
        }
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw HTTPServerError.systemCall("setsockopt", errno: errno)
        }
    }

    static func address(of storage: sockaddr_storage) -> String {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = Int32(storage.ss_family)
        let converted: UnsafePointer<CChar>? = withUnsafePointer(to: &storage) { pointer in
            switch family {
            case AF_INET:
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var raw = address.pointee.sin_addr
                    return inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
                }
            case AF_INET6:
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var raw = address.pointee.sin6_addr
                    return inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
                }
            default:
                return nil
            }
        }
        guard converted != nil else { return "unknown" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func port(of storage: sockaddr_storage) -> Int {
        var storage = storage
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer in
            switch family {
            case AF_INET:
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6:
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            default:
                return 0
            }
        }
    }
}
