// HTTPServer: the public server: one epoll event loop per core (accepting, parsing, running non-blocking handlers), a worker pool for the rest.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SetaSync
import Synchronization

/// Produces the response for a request. Runs on a worker thread and may block (database calls).
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse

/// Answers a request on the event loop when it can do so without blocking (no database, no file,
/// no lock held for long), or returns nil to send it to `HTTPHandler` on a worker. Its response
/// body must be `.bytes`; a `.stream` is produced on a worker.
public typealias HTTPInlineHandler = @Sendable (HTTPRequest) -> HTTPResponse?

/// Decides, on a worker, whether the body of a request that asked `Expect: 100-continue` may be read
/// (the request has its head and an empty body). Nil lets it in (`100 Continue`); a response (with a
/// `.bytes` body) is sent as the final answer at once and the connection closes.
public typealias HTTPBodyPermission = @Sendable (HTTPRequest) -> HTTPResponse?

/// A strict HTTP/1.1 server: keep-alive, pipelining (answered in order, one request at a time per
/// connection), Content-Length and chunked bodies, `Expect: 100-continue`, streaming responses, every
/// limit from `HTTPServerConfiguration`, and a graceful shutdown. Malformed requests get a
/// problem+json 4xx/5xx with `Connection: close`.
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    private let handler: HTTPHandler
    private let inlineHandler: HTTPInlineHandler?
    private let bodyPermission: HTTPBodyPermission?

    private enum Lifecycle {
        case created, running, stopping, stopped
    }

    private struct State {
        var lifecycle = Lifecycle.created
        var boundPort = 0
        var loops: [HTTPEventLoop] = []
        var runningLoops = 0
        var pool: WorkerPool?
    }

    private let state = ConditionLock(State())
    private let connectionCounter = ConnectionCounter()

    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: @escaping HTTPHandler,
                inlineHandler: HTTPInlineHandler? = nil, bodyPermission: HTTPBodyPermission? = nil) {
        self.configuration = configuration
        self.handler = handler
        self.inlineHandler = inlineHandler
        self.bodyPermission = bodyPermission
    }

    /// Binds (port 0 picks a free port) and starts the event loops and the workers.
    public func start() throws {
        try state.withLock { state in try start(&state) }
    }

    private func start(_ state: inout State) throws {
        guard state.lifecycle == .created else { throw HTTPServerError.notStartable }
        let loopCount = max(1, configuration.eventLoopCount)
        // One listening socket per loop on the same port: the kernel spreads connections evenly, and
        // no loop wakes for another's accept.
        var listeners: [Int32] = []
        do {
            var port = configuration.port
            if loopCount > 1 {
                // SO_REUSEPORT would let another process of this user join a port in use without an
                // error; a plain bind first proves the port free (and picks it when 0). Another
                // process binding it with SO_REUSEPORT in the instant between is not excluded.
                let probe = try Socket.listen(host: configuration.host, port: port, backlog: 1)
                port = Socket.localPort(probe)
                Glibc.close(probe)
            }
            let first = try Socket.listen(host: configuration.host, port: port,
                                          backlog: configuration.listenBacklog, reusePort: loopCount > 1)
            listeners.append(first)
            for _ in 1..<loopCount {
                listeners.append(try Socket.listen(host: configuration.host, port: port,
                                                   backlog: configuration.listenBacklog, reusePort: true))
            }
        } catch {
            for listener in listeners { Glibc.close(listener) }
            throw error
        }
        let pool = WorkerPool(threadCount: configuration.workerCount, queueLimit: configuration.maxQueuedRequests)
        var loops: [HTTPEventLoop] = []
        for (index, listener) in listeners.enumerated() {
            do {
                loops.append(try HTTPEventLoop(
                    configuration: configuration, listener: listener, name: "seta-http-loop-\(index)", pool: pool,
                    connectionCounter: connectionCounter, handler: handler, inlineHandler: inlineHandler,
                    bodyPermission: bodyPermission
                ) { [weak self] in
                    self?.loopStopped()
                })
            } catch {
                // This loop and the later ones never took their listener; the earlier ones own theirs.
                for listener in listeners[index...] { Glibc.close(listener) }
                for loop in loops { loop.closeUnstarted() }
                pool.stop()
                throw error
            }
        }
        state.boundPort = Socket.localPort(listeners[0])
        state.loops = loops
        state.pool = pool
        state.runningLoops = loops.count
        state.lifecycle = .running
        for loop in loops { loop.start() }
    }

    /// The port actually listened on (0 before `start()`).
    public var port: Int {
        state.withLock { $0.boundPort }
    }

    /// Connections currently open (those answered 503 for being over the limit are not counted).
    public var openConnectionCount: Int {
        connectionCounter.value
    }

    /// Stops accepting (the listening socket is closed when this returns), closes idle connections,
    /// lets requests in flight finish for up to `shutdownGracePeriod`, then closes everything.
    /// Returns without waiting for that; see `waitUntilStopped()`. Idempotent.
    public func shutdown() {
        let loops = state.withLock { state -> [HTTPEventLoop] in
            switch state.lifecycle {
            case .created:
                state.lifecycle = .stopped
                return []
            case .running:
                state.lifecycle = .stopping
                return state.loops
            case .stopping, .stopped:
                return []
            }
        }
        state.broadcast()
        for loop in loops { loop.requestShutdown() }
        for loop in loops { loop.waitUntilListenerClosed() }
    }

    /// Blocks until the server has stopped after `shutdown()` (returns at once if never started).
    public func waitUntilStopped() {
        state.withLock(waitingUntil: { $0.lifecycle != .running && $0.lifecycle != .stopping }) { _, _ in }
    }

    /// Calls `shutdown()` when the process gets one of `signals` (their previous handlers are replaced).
    /// For a CLI: `server.shutdownOnSignals(); server.waitUntilStopped()`.
    public func shutdownOnSignals(_ signals: [Int32] = [SIGTERM, SIGINT]) {
        ShutdownSignals.register(self, for: signals)
    }

    /// Called by each loop as it ends; the last one stops the workers and the server.
    private func loopStopped() {
        let stopped = state.withLock { state -> Bool in
            state.runningLoops -= 1
            guard state.runningLoops == 0 else { return false }
            state.pool?.stop()
            state.pool = nil
            state.lifecycle = .stopped
            state.loops = []
            return true
        }
        if stopped { state.broadcast() }
    }
}

/// Signal handling through a self-pipe: the handler only writes a byte (async-signal-safe) and a
/// watcher thread calls `shutdown()`. (A DispatchSource would need the signal blocked in every
/// thread, which the loop and worker threads, already running, do not do.)
private enum ShutdownSignals {
    private struct Registry {
        var servers: [WeakServer] = []
        var installed: Set<Int32> = []
        var watcherStarted = false
    }

    private struct WeakServer {
        weak var server: HTTPServer?
    }

    private static let registry = Mutex(Registry())

    static func register(_ server: HTTPServer, for signals: [Int32]) {
        registry.withLock { registry in register(server, for: signals, in: &registry) }
    }

    private static func register(_ server: HTTPServer, for signals: [Int32], in registry: inout Registry) {
        registry.servers.append(WeakServer(server: server))
        if !registry.watcherStarted {
            var descriptors: [Int32] = [-1, -1]
            guard pipe(&descriptors) == 0 else { return }
            _ = fcntl(descriptors[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(descriptors[1], F_SETFD, FD_CLOEXEC)
            signalPipeWriteDescriptor.store(descriptors[1], ordering: .releasing)
            registry.watcherStarted = true
            let readDescriptor = descriptors[0]
            let thread = Thread { watch(readDescriptor) }
            thread.name = "seta-http-signals"
            thread.start()
        }
        for number in signals where !registry.installed.contains(number) {
            registry.installed.insert(number)
            signal(number, forwardSignalToPipe)
        }
    }

    private static func watch(_ descriptor: Int32) {
        var byte: UInt8 = 0
        while true {
            let count = read(descriptor, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return }
            let servers = registry.withLock { $0.servers.compactMap(\.server) }
            for server in servers { server.shutdown() }
        }
    }
}

/// Set once before any handler is installed, then only read (from the signal handler: an atomic load
/// is lock-free, so async-signal-safe).
private let signalPipeWriteDescriptor = Atomic<Int32>(-1)

private func forwardSignalToPipe(_ number: Int32) {
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteDescriptor.load(ordering: .acquiring), &byte, 1)
}
