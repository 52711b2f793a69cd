// HTTPConnectionStateMachine: the life of one connection (reading, responding, timers, closing) as pure state.

/// Decides what a connection does next from what happened to it; the event loop performs the actions.
/// Pure (time comes in as `now`), so keep-alive, pipelining, timeouts and shutdown are tested without
/// sockets. One request at a time: while a response is being produced the connection does not read,
/// and pipelined bytes already received wait in the decoder.
struct HTTPConnectionStateMachine {
    typealias Instant = ContinuousClock.Instant

    enum State: Equatable {
        /// Waiting for the first byte of a request: the first one (`fresh`) or the next kept-alive one.
        case awaitingRequest(since: Instant, fresh: Bool)
        /// Part of the head has arrived; the header timer runs from `since` and is never reset.
        case readingHead(since: Instant)
        case readingBody(since: Instant)
        /// The head asked `Expect: 100-continue`; the application is deciding whether the body may be
        /// read (route, credentials). Nothing is read meanwhile.
        case awaitingPermission
        /// A worker is producing the response; `keepAlive` is what the request allows.
        case responding(keepAlive: Bool)
        /// An error response is queued; once it is flushed the connection closes.
        case closingAfterFlush
        /// Write side shut down; reading and discarding until the peer closes or `until`.
        case draining(until: Instant)
        case closed
    }

    enum Action {
        /// Queue `HTTP/1.1 100 Continue`.
        case sendContinue
        /// Ask the application whether this head's body may be read; answer with `permissionGranted`
        /// or `permissionDenied`. Only when the machine was made with `asksBodyPermission`.
        case askPermission(HTTPRequest)
        /// Run the handler for `request`; report back with `responseSent` once it is flushed.
        case dispatch(HTTPRequest, keepAlive: Bool)
        /// Queue an error response (with `Connection: close`); report `responseSent` once flushed.
        case sendError(status: Int, reason: String, isHead: Bool)
        /// Shut down the write side and start draining.
        case halfClose
        /// Close the socket now, without a response.
        case close
    }

    private(set) var state: State
    private(set) var decoder: HTTPRequestDecoder
    private(set) var isShuttingDown = false
    /// The peer shut down its write side: nothing more can be read, and nothing kept alive.
    private(set) var peerHasClosed = false
    private let headerReadTimeout: Duration
    private let bodyReadTimeout: Duration
    private let idleKeepAliveTimeout: Duration
    private let closeLingerTimeout: Duration
    /// Whether `Expect: 100-continue` waits for the application's verdict before `100 Continue`.
    private let asksBodyPermission: Bool

    init(configuration: HTTPServerConfiguration, now: Instant, asksBodyPermission: Bool = false) {
        self.asksBodyPermission = asksBodyPermission
        state = .awaitingRequest(since: now, fresh: true)
        decoder = HTTPRequestDecoder(configuration: configuration)
        headerReadTimeout = configuration.headerReadTimeout
        bodyReadTimeout = configuration.bodyReadTimeout
        idleKeepAliveTimeout = configuration.idleKeepAliveTimeout
        closeLingerTimeout = configuration.closeLingerTimeout
    }

    /// Whether the loop should read from the socket.
    var wantsRead: Bool {
        if peerHasClosed { return false }
        switch state {
        case .awaitingRequest, .readingHead, .readingBody, .draining: return true
        // Reading (and discarding) while an error response is queued keeps a client that is still
        // sending a large body from blocking both directions.
        case .closingAfterFlush: return true
        case .responding, .awaitingPermission, .closed: return false
        }
    }

    var isClosed: Bool { state == .closed }

    mutating func bytesReceived(_ bytes: UnsafeRawBufferPointer, now: Instant) -> [Action] {
        switch state {
        case .awaitingRequest, .readingHead, .readingBody:
            decoder.feed(bytes)
            return advance(now: now)
        case .responding, .awaitingPermission:
            // Pipelined bytes read before reading paused: keep them for after the response.
            decoder.feed(bytes)
            return []
        case .closingAfterFlush, .draining, .closed:
            return []
        }
    }

    /// The peer closed its write side (read returned 0).
    mutating func peerClosed(now: Instant) -> [Action] {
        peerHasClosed = true
        switch state {
        case .awaitingRequest:
            state = .closed
            return [.close]
        case .readingHead, .readingBody:
            // A truncated request: answer it in case the client only half-closed.
            state = .closingAfterFlush
            return [.sendError(status: 400, reason: "connection closed before the request was complete",
                               isHead: decoder.currentMethod == "HEAD")]
        case .draining:
            state = .closed
            return [.close]
        case .responding, .awaitingPermission, .closingAfterFlush, .closed:
            return []
        }
    }

    /// The application lets the body in: `100 Continue` goes out and the body timer starts.
    mutating func permissionGranted(now: Instant) -> [Action] {
        guard state == .awaitingPermission else { return [] }
        state = .readingBody(since: now)
        return [.sendContinue] + advance(now: now)
    }

    /// The application refused the body: its final answer is sent (the loop queues it), then the
    /// connection closes, since the unread body would otherwise be taken for the next request.
    mutating func permissionDenied() {
        guard state == .awaitingPermission else { return }
        state = .responding(keepAlive: false)
    }

    /// The queued response was written out completely. `closeRequested` is set when the response
    /// itself ended the connection (handler's `Connection: close`, HTTP/1.0 stream, overload).
    mutating func responseSent(closeRequested: Bool, now: Instant) -> [Action] {
        if peerHasClosed, state != .closed {
            state = .closed
            return [.close]
        }
        switch state {
        case .responding(let keepAlive):
            if keepAlive && !closeRequested && !isShuttingDown {
                state = .awaitingRequest(since: now, fresh: false)
                return advance(now: now)
            }
            state = .draining(until: now + closeLingerTimeout)
            return [.halfClose]
        case .closingAfterFlush:
            state = .draining(until: now + closeLingerTimeout)
            return [.halfClose]
        default:
            return []
        }
    }

    /// Checks the timers.
    mutating func tick(now: Instant) -> [Action] {
        switch state {
        case .awaitingRequest(let since, let fresh):
            // A connection that never sent a byte gets no response, just like an idle kept-alive one.
            if now - since >= (fresh ? headerReadTimeout : idleKeepAliveTimeout) {
                state = .closed
                return [.close]
            }
        case .readingHead(let since):
            if now - since >= headerReadTimeout {
                state = .closingAfterFlush
                return [.sendError(status: 408, reason: "request head not received within \(headerReadTimeout)",
                                   isHead: decoder.currentMethod == "HEAD")]
            }
        case .readingBody(let since):
            if now - since >= bodyReadTimeout {
                state = .closingAfterFlush
                return [.sendError(status: 408, reason: "request body not received within \(bodyReadTimeout)",
                                   isHead: decoder.currentMethod == "HEAD")]
            }
        case .draining(let until):
            if now >= until {
                state = .closed
                return [.close]
            }
        case .responding, .awaitingPermission, .closingAfterFlush, .closed:
            break
        }
        return []
    }

    /// The server is shutting down: idle connections close now, the others after their response.
    mutating func shutdownRequested(now: Instant) -> [Action] {
        isShuttingDown = true
        if case .awaitingRequest = state {
            state = .closed
            return [.close]
        }
        return []
    }

    /// A connection accepted beyond `maxConnections` that was answered 503 at once: it only drains.
    mutating func drainAfterRejection(now: Instant) {
        state = .draining(until: now + closeLingerTimeout)
    }

    /// The connection was closed from outside (socket error, write timeout, forced shutdown).
    mutating func closedExternally() {
        state = .closed
    }

    private mutating func advance(now: Instant) -> [Action] {
        var actions: [Action] = []
        while true {
            switch decoder.next() {
            case .needMore:
                switch (decoder.phase, state) {
                case (.head, .awaitingRequest):
                    state = .readingHead(since: now)
                case (.body, .awaitingRequest), (.body, .readingHead):
                    state = .readingBody(since: now)
                default:
                    break
                }
                return actions
            case .continueExpected:
                if asksBodyPermission {
                    state = .awaitingPermission
                    actions.append(.askPermission(decoder.currentHead))
                    return actions
                }
                // The body timer starts when the client is told to send the body.
                state = .readingBody(since: now)
                actions.append(.sendContinue)
            case .request(let request):
                let keepAlive = request.wantsKeepAlive && !isShuttingDown
                state = .responding(keepAlive: keepAlive)
                actions.append(.dispatch(request, keepAlive: keepAlive))
                return actions
            case .error(let status, let reason):
                state = .closingAfterFlush
                actions.append(.sendError(status: status, reason: reason, isHead: decoder.currentMethod == "HEAD"))
                return actions
            }
        }
    }
}
