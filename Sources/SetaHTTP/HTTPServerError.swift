// HTTPServerError: the one error type of SetaHTTP (starting the server, writing a streamed body).

public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `host` could not be resolved to an address to listen on.
    case invalidAddress(String)
    /// A system call failed; `errno` is the C error number.
    case systemCall(String, errno: Int32)
    /// `start()` was called on a server that is running or has been shut down.
    case notStartable
    /// A streamed body was written after its connection closed (client gone, write timeout, shutdown).
    case connectionClosed
    /// A streamed body writer was used after its stream closure returned.
    case streamFinished

    public var description: String {
        switch self {
        case .invalidAddress(let host): return "cannot listen on host '\(host)'"
        case .systemCall(let call, let code): return "\(call) failed: errno \(code)"
        case .notStartable: return "the server was already started or has been shut down"
        case .connectionClosed: return "the connection is closed"
        case .streamFinished: return "the response stream has already finished"
        }
    }
}
