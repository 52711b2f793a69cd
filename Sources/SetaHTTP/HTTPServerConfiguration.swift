// HTTPServerConfiguration: every limit and timeout of the HTTP server, with its default.

import Foundation

/// One value with every limit and timeout, so they can be found by name (grep `maxHeaderBytes`).
/// The status a client gets when a limit is crossed is noted on each.
public struct HTTPServerConfiguration: Sendable {
    /// Address to listen on; a name is resolved with getaddrinfo ("0.0.0.0" / "::" for all).
    public var host: String = "127.0.0.1"
    /// Port to listen on; 0 picks a free one (read it back from `HTTPServer.port`).
    public var port: Int = 8080
    /// Pending connections the kernel may queue before `accept`.
    public var listenBacklog: Int = 1024

    /// Longest request line, CRLF included → 414.
    public var maxRequestLineBytes: Int = 8 * 1024
    /// Total bytes of the header section (field lines with their CRLFs) → 431.
    /// Chunked trailers get the same budget.
    public var maxHeaderBytes: Int = 32 * 1024
    /// Number of header fields → 431.
    public var maxHeaderCount: Int = 100
    /// Request body size, by Content-Length (answered before reading the body) or chunk sum → 413.
    public var maxBodyBytes: Int = 16 * 1024 * 1024
    /// Longest chunk-size line (size plus ignored extensions) → 400.
    public var maxChunkLineBytes: Int = 4 * 1024

    /// From the first byte of a request head to its last; not reset by each byte (slowloris) → 408.
    /// A new connection that sends nothing at all within this time is closed silently.
    public var headerReadTimeout: Duration = .seconds(10)
    /// From the end of the head (or the 100 Continue) to the last body byte, in total → 408.
    public var bodyReadTimeout: Duration = .seconds(30)
    /// A kept-alive connection with no request started is closed silently after this.
    public var idleKeepAliveTimeout: Duration = .seconds(30)
    /// A connection whose unsent output makes no progress for this long is closed.
    public var writeTimeout: Duration = .seconds(30)
    /// After the last response on a closing connection the server half-closes and reads (discarding)
    /// for up to this long, so the client can read the response instead of getting a reset.
    public var closeLingerTimeout: Duration = .seconds(2)

    /// Open connections; one more is accepted, answered 503 and closed.
    public var maxConnections: Int = 4096
    /// Event-loop threads, each with its own listening socket on the port (SO_REUSEPORT) and its own
    /// connections; they parse and run inline handlers, so one per core.
    public var eventLoopCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Threads that run handlers (handlers block, e.g. on libpq).
    public var workerCount: Int = 16
    /// Requests waiting for a worker; beyond it a request is answered 503 and its connection closed.
    public var maxQueuedRequests: Int = 1024
    /// How long `shutdown()` lets in-flight requests finish before closing everything.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// Unsent response bytes per connection above which a streaming body's `write` blocks.
    public var outputHighWaterMarkBytes: Int = 256 * 1024

    /// Receives protocol-level events (timeouts, accept failures; bad requests when
    /// `errorResponseObserver` is nil). Lines never contain header values or bodies, which may carry credentials.
    public var logger: (@Sendable (String) -> Void)?
    /// Told of every error response the server sends by itself (400, 408, 413, 414, 417, 431, 501,
    /// 503, 505), so the application can log it like any other request, with its X-Request-Id.
    /// Called on the event loop: it must not block.
    public var errorResponseObserver: (@Sendable (HTTPErrorResponseEvent) -> Void)?

    public init() {}
}

/// One error response the server sent by itself (see `HTTPServerConfiguration.errorResponseObserver`).
public struct HTTPErrorResponseEvent: Sendable {
    public var status: Int
    /// Safe to log: never quotes header values or body bytes.
    public var reason: String
    /// The X-Request-Id the response carried.
    public var requestId: String
    /// The request's method when its request line was read.
    public var method: String?
    public var remoteAddress: String
}
