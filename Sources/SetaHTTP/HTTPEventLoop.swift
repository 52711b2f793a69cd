// HTTPEventLoop: one event-loop thread and the sockets it owns: accepts, reads, answers non-blocking requests, writes, timers, shutdown.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import SetaSync

/// Open connections across every event loop, checked against `maxConnections`.
final class ConnectionCounter: Sendable {
    private let count = Mutex(0)

    var value: Int { count.withLock { $0 } }

    /// Counts one more connection unless `limit` are already open.
    func reserve(below limit: Int) -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() {
        count.withLock { $0 -= 1 }
    }
}

/// Messages from worker threads (and `shutdown()`) to the loop.
enum LoopMessage: Sendable {
    /// A connection's output has bytes to send.
    case send(UInt64)
    /// The worker finished the response for this connection.
    case responded(UInt64, ResponseOutcome)
    /// The application's verdict on reading this connection's body (nil: read it).
    case permission(UInt64, HTTPResponse?)
    case shutdown
}

/// The loop's inbox: a locked list plus a self-pipe so epoll wakes up when something arrives.
final class LoopMailbox: Sendable {
    private struct State {
        var messages: [LoopMessage] = []
        var wakePending = false
        var wakeDescriptor: Int32
    }

    private let state: Mutex<State>

    init(wakeDescriptor: Int32) {
        state = Mutex(State(wakeDescriptor: wakeDescriptor))
    }

    func post(_ message: LoopMessage) {
        state.withLock { state in
            state.messages.append(message)
            // Written under the lock so `close()` can never leave a worker writing to a reused descriptor.
            if !state.wakePending && state.wakeDescriptor >= 0 {
                state.wakePending = true
                var byte: UInt8 = 1
                _ = Glibc.write(state.wakeDescriptor, &byte, 1)
            }
        }
    }

    func drain() -> [LoopMessage] {
        state.withLock { state in
            let drained = state.messages
            state.messages.removeAll(keepingCapacity: true)
            state.wakePending = false
            return drained
        }
    }

    func close() {
        state.withLock { state in
            if state.wakeDescriptor >= 0 { Glibc.close(state.wakeDescriptor) }
            state.wakeDescriptor = -1
        }
    }
}

/// A flag set once and read by workers.
final class SharedFlag: Sendable {
    private let value = Atomic(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}

/// One accepted socket, touched only by the loop thread (its output is shared with one worker).
final class ClientConnection {
    let token: UInt64
    let fd: Int32
    let address: String
    var machine: HTTPConnectionStateMachine
    let output: ConnectionOutput
    var registeredEvents: UInt32
    /// The worker's verdict, applied once the output is flushed.
    var outcome: ResponseOutcome?
    /// Since when unsent output has made no progress (write timeout).
    var stalledSince: ContinuousClock.Instant?
    /// False for connections over `maxConnections` that were only answered 503.
    let countsTowardLimit: Bool

    init(token: UInt64, fd: Int32, address: String, machine: HTTPConnectionStateMachine,
         output: ConnectionOutput, registeredEvents: UInt32, countsTowardLimit: Bool) {
        self.token = token
        self.fd = fd
        self.address = address
        self.machine = machine
        self.output = output
        self.registeredEvents = registeredEvents
        self.countsTowardLimit = countsTowardLimit
    }
}

/// Unchecked Sendable, and the proof: the members other threads touch are all `let`s of Sendable types
/// (the mailbox, the shared flag, the worker pool, the connection counter, `listenerClosed`, the
/// configuration and handlers); every `var` (marked "Loop-thread state") is read and written only by
/// the loop thread that `start()` runs, and by `init`/`closeUnstarted()` before that thread exists.
final class HTTPEventLoop: @unchecked Sendable {
    typealias Instant = ContinuousClock.Instant

    private static let listenerToken: UInt64 = 0
    private static let wakeToken: UInt64 = 1
    private static let readChunkBytes = 64 * 1024
    private static let maxLingeringRejections = 256
    private static let acceptPause: Duration = .milliseconds(100)

    private let configuration: HTTPServerConfiguration
    private let responder: HTTPResponder
    private let inlineHandler: HTTPInlineHandler?
    private let bodyPermission: HTTPBodyPermission?
    private let poll: EventPoll
    private let pool: WorkerPool
    private let connectionCounter: ConnectionCounter
    private let name: String
    private let mailbox: LoopMailbox
    private let wakeReadDescriptor: Int32
    private let shuttingDown = SharedFlag()
    private let onStopped: @Sendable () -> Void
    private let tickInterval: Duration

    // Loop-thread state.
    private var listener: Int32
    private var connections: [UInt64: ClientConnection] = [:]
    private var nextToken: UInt64 = 2
    private var lingeringRejections = 0
    private var acceptPausedUntil: Instant?
    private var shutdownDeadline: Instant?
    private let readBuffer: UnsafeMutableRawBufferPointer

    // Shared with other threads.
    private let listenerClosed = ConditionLock(false)

    init(configuration: HTTPServerConfiguration, listener: Int32, name: String, pool: WorkerPool,
         connectionCounter: ConnectionCounter, handler: @escaping HTTPHandler,
         inlineHandler: HTTPInlineHandler? = nil, bodyPermission: HTTPBodyPermission? = nil,
         onStopped: @escaping @Sendable () -> Void) throws {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { throw HTTPServerError.systemCall("pipe", errno: errno) }
        for fd in descriptors {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            try? Socket.makeNonBlocking(fd)
        }
        do {
            poll = try EventPoll()
            try poll.add(listener, token: Self.listenerToken, events: EventPoll.readable)
            try poll.add(descriptors[0], token: Self.wakeToken, events: EventPoll.readable)
        } catch {
            Glibc.close(descriptors[0])
            Glibc.close(descriptors[1])
            throw error
        }
        self.configuration = configuration
        self.listener = listener
        self.onStopped = onStopped
        wakeReadDescriptor = descriptors[0]
        mailbox = LoopMailbox(wakeDescriptor: descriptors[1])
        responder = HTTPResponder(handler: handler, logger: configuration.logger)
        self.inlineHandler = inlineHandler
        self.bodyPermission = bodyPermission
        self.pool = pool
        self.connectionCounter = connectionCounter
        self.name = name
        readBuffer = .allocate(byteCount: Self.readChunkBytes, alignment: 16)
        let shortest = [configuration.headerReadTimeout, configuration.bodyReadTimeout,
                        configuration.idleKeepAliveTimeout, configuration.writeTimeout,
                        configuration.closeLingerTimeout].min() ?? .seconds(1)
        tickInterval = min(max(shortest / 10, .milliseconds(5)), .milliseconds(250))
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Releases the descriptors of a loop that was made but never started (another loop failed).
    func closeUnstarted() {
        mailbox.close()
        Glibc.close(wakeReadDescriptor)
        closeListener()
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Asks the loop to shut down; see `waitUntilListenerClosed()`.
    func requestShutdown() {
        mailbox.post(.shutdown)
    }

    /// Waits (briefly) until the loop has closed its listening socket, so a caller can rely on new
    /// connections being refused once every loop's is closed.
    func waitUntilListenerClosed() {
        listenerClosed.withLock(waitingUntil: { $0 }, deadline: Date().addingTimeInterval(2)) { _, _ in }
    }

    // MARK: - Loop

    private func run() {
        var nextTick = ContinuousClock.now + tickInterval
        while true {
            var wakeAt = nextTick
            if let resume = acceptPausedUntil { wakeAt = min(wakeAt, resume) }
            let wait = max(0, (wakeAt - .now) / .milliseconds(1))
            for event in poll.wait(timeoutMilliseconds: Int32(min(wait.rounded(.up), 1000))) {
                switch event.token {
                case Self.listenerToken: acceptConnections()
                case Self.wakeToken: handleMessages()
                default:
                    if let connection = connections[event.token] { handle(event.events, on: connection) }
                }
            }

            let now = ContinuousClock.now
            if now >= nextTick {
                checkTimers(now: now)
                nextTick = now + (shutdownDeadline == nil ? tickInterval : min(tickInterval, .milliseconds(20)))
            }
            if let resume = acceptPausedUntil, now >= resume, listener >= 0 {
                acceptPausedUntil = nil
                try? poll.add(listener, token: Self.listenerToken, events: EventPoll.readable)
            }
            if let deadline = shutdownDeadline {
                if connections.isEmpty && pool.isIdle { break }
                if now >= deadline {
                    configuration.logger?("shutdown grace period over; closing \(connections.count) connections")
                    for connection in Array(connections.values) { close(connection) }
                    break
                }
            }
        }
        mailbox.close()
        Glibc.close(wakeReadDescriptor)
        closeListener()
        onStopped()
    }

    private func handleMessages() {
        var scratch = [UInt8](repeating: 0, count: 64)
        while Glibc.read(wakeReadDescriptor, &scratch, scratch.count) > 0 {}
        for message in mailbox.drain() {
            switch message {
            case .send(let token):
                if let connection = connections[token] { sendOutput(connection) }
            case .permission(let token, let verdict):
                guard let connection = connections[token] else { continue }
                guard let refusal = verdict else {
                    perform(connection.machine.permissionGranted(now: .now), on: connection)
                    continue
                }
                connection.machine.permissionDenied()
                var response = refusal
                // The body stays unread, so the answer must be complete in itself.
                if case .stream = response.body { response.body = .bytes([]) }
                connection.outcome = responder.write(
                    response, for: connection.machine.decoder.currentHead, keepAlive: false, shuttingDown: true,
                    output: connection.output, onLoop: true)
                sendOutput(connection)
            case .responded(let token, let outcome):
                guard let connection = connections[token] else { continue }
                if outcome.abort {
                    close(connection)
                } else {
                    connection.outcome = outcome
                    sendOutput(connection)
                }
            case .shutdown:
                beginShutdown()
            }
        }
    }

    // MARK: - Accepting

    private func acceptConnections() {
        // Bounded so a connection flood cannot starve the connections already open.
        for _ in 0..<256 {
            guard listener >= 0 else { return }
            switch Socket.accept(listener) {
            case .wouldBlock:
                return
            case .retry:
                continue
            case .exhausted(let code):
                configuration.logger?("accept paused: out of descriptors or memory (errno \(code))")
                poll.remove(listener)
                acceptPausedUntil = .now + Self.acceptPause
                return
            case .failed(let code):
                configuration.logger?("accept failed: errno \(code)")
                return
            case .accepted(let fd, let address):
                if connectionCounter.reserve(below: configuration.maxConnections) {
                    if register(fd, address: address, countsTowardLimit: true) == nil { connectionCounter.release() }
                } else {
                    reject(fd, address: address)
                }
            }
        }
    }

    @discardableResult
    private func register(_ fd: Int32, address: String, countsTowardLimit: Bool) -> ClientConnection? {
        let token = nextToken
        nextToken += 1
        let mailbox = self.mailbox
        let output = ConnectionOutput(highWaterMark: configuration.outputHighWaterMarkBytes) {
            mailbox.post(.send(token))
        }
        let events = EventPoll.readable | EventPoll.peerHalfClosed
        do {
            try poll.add(fd, token: token, events: events)
        } catch {
            Glibc.close(fd)
            return nil
        }
        let connection = ClientConnection(
            token: token, fd: fd, address: address,
            machine: HTTPConnectionStateMachine(configuration: configuration, now: .now,
                                                asksBodyPermission: bodyPermission != nil),
            output: output, registeredEvents: events, countsTowardLimit: countsTowardLimit)
        connections[token] = connection
        if !countsTowardLimit { lingeringRejections += 1 }
        return connection
    }

    /// Over `maxConnections`: answer 503 at once, then only drain (or just close if too many drain).
    private func reject(_ fd: Int32, address: String) {
        let reason = "The server has too many open connections."
        let requestId = HTTPRequestID.generate()
        report(HTTPErrorResponseEvent(status: 503, reason: reason, requestId: requestId, method: nil, remoteAddress: address),
               log: "503 to \(address): more than \(configuration.maxConnections) connections")
        let response = HTTPResponseEncoder.errorResponse(status: 503, reason: reason, requestId: requestId)
        _ = response.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        guard lingeringRejections < Self.maxLingeringRejections else {
            Glibc.close(fd)
            return
        }
        // `register` closes the descriptor itself when it fails.
        guard let connection = register(fd, address: address, countsTowardLimit: false) else { return }
        Glibc.shutdown(fd, Int32(SHUT_WR))
        connection.machine.drainAfterRejection(now: .now)
    }

    // MARK: - Connections

    private func handle(_ events: UInt32, on connection: ClientConnection) {
        if events & EventPoll.error != 0 {
            close(connection)
            return
        }
        if events & (EventPoll.readable | EventPoll.peerHalfClosed | EventPoll.hangUp) != 0 && connection.machine.wantsRead {
            readFrom(connection)
        }
        guard isOpen(connection) else { return }
        if events & EventPoll.writable != 0 {
            sendOutput(connection)
        }
        guard isOpen(connection) else { return }
        if events & EventPoll.hangUp != 0 && !connection.machine.wantsRead {
            // Both directions are gone; nothing can be delivered.
            close(connection)
            return
        }
        // Read interest is dropped lazily: only once the socket reports input the connection does not
        // want now (pipelined bytes, a half-close while a worker answers).
        let unwantedInput = events & (EventPoll.readable | EventPoll.peerHalfClosed) != 0 && !connection.machine.wantsRead
        updateInterest(connection, dropUnwantedRead: unwantedInput)
    }

    private func readFrom(_ connection: ClientConnection) {
        // Bounded per wake-up for fairness; level-triggered epoll reports the rest next time.
        for _ in 0..<8 {
            let count = recv(connection.fd, readBuffer.baseAddress, readBuffer.count, 0)
            if count > 0 {
                let actions = connection.machine.bytesReceived(
                    UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), now: .now)
                perform(actions, on: connection)
                if !isOpen(connection) || !connection.machine.wantsRead || count < readBuffer.count { return }
            } else if count == 0 {
                perform(connection.machine.peerClosed(now: .now), on: connection)
                return
            } else {
                let code = errno
                if code == EINTR { continue }
                if code != EAGAIN && code != EWOULDBLOCK { close(connection) }
                return
            }
        }
    }

    /// Performs the machine's actions and the ones they lead to. Iterative, not recursive: an inline
    /// response flushed at once lets the next pipelined request be dispatched, and so on.
    private func perform(_ actions: [HTTPConnectionStateMachine.Action], on connection: ClientConnection) {
        var pending = actions[...]
        while let action = pending.popFirst() {
            guard isOpen(connection) else { return }
            switch action {
            case .sendContinue:
                connection.output.enqueueFromLoop(HTTPResponseEncoder.continueResponse)
                pending += flush(connection)
            case .dispatch(let request, let keepAlive):
                pending += dispatch(request, keepAlive: keepAlive, on: connection)
            case .askPermission(let head):
                pending += askPermission(head, on: connection)
            case .sendError(let status, let reason, let isHead):
                let decoder = connection.machine.decoder
                let requestId = HTTPRequestID.echoing(decoder.currentHeader(HTTPRequestID.headerName))
                report(HTTPErrorResponseEvent(status: status, reason: reason, requestId: requestId,
                                              method: decoder.currentMethod, remoteAddress: connection.address),
                       log: "\(status) to \(connection.address): \(reason)")
                connection.output.enqueueFromLoop(
                    HTTPResponseEncoder.errorResponse(status: status, reason: reason, isHead: isHead, requestId: requestId))
                pending += flush(connection)
            case .halfClose:
                Glibc.shutdown(connection.fd, Int32(SHUT_WR))
            case .close:
                close(connection)
            }
        }
        if isOpen(connection) { updateInterest(connection) }
    }

    /// An error response the server sends by itself: to the application's observer when there is one
    /// (it logs it as a request), otherwise a line to `logger`.
    private func report(_ event: HTTPErrorResponseEvent, log line: @autoclosure () -> String) {
        if let observer = configuration.errorResponseObserver {
            observer(event)
        } else {
            configuration.logger?(line())
        }
    }

    /// Answers on the loop when the inline handler can; otherwise queues the request for a worker.
    /// Returns the actions that follow an answer already flushed.
    private func dispatch(_ request: HTTPRequest, keepAlive: Bool,
                          on connection: ClientConnection) -> [HTTPConnectionStateMachine.Action] {
        var request = request
        request.remoteAddress = connection.address
        let shuttingDown = shutdownDeadline != nil
        var ready: HTTPResponse?
        if let inlineHandler, let response = inlineHandler(request) {
            if case .bytes = response.body {
                connection.outcome = responder.write(response, for: request, keepAlive: keepAlive,
                                                     shuttingDown: shuttingDown, output: connection.output, onLoop: true)
                return flush(connection)
            }
            ready = response
        }
        let job: WorkerPool.Job = { [request, ready, token = connection.token, output = connection.output, responder, mailbox, shuttingDown = self.shuttingDown] in
            let outcome: ResponseOutcome
            if let ready {
                outcome = responder.write(ready, for: request, keepAlive: keepAlive, shuttingDown: shuttingDown.isSet,
                                          output: output, onLoop: false)
            } else {
                outcome = responder.respond(to: request, keepAlive: keepAlive,
                                            shuttingDown: { shuttingDown.isSet }, output: output)
            }
            mailbox.post(.responded(token, outcome))
        }
        if pool.submit(job) { return [] }
        return overloaded(connection, method: request.method, requestId: request.headers[HTTPRequestID.headerName])
    }

    /// Asks the application (on a worker: it may look up credentials) whether the body may be read.
    private func askPermission(_ head: HTTPRequest, on connection: ClientConnection) -> [HTTPConnectionStateMachine.Action] {
        guard let bodyPermission else { return connection.machine.permissionGranted(now: .now) }
        var head = head
        head.remoteAddress = connection.address
        let job: WorkerPool.Job = { [head, token = connection.token, mailbox] in
            mailbox.post(.permission(token, bodyPermission(head)))
        }
        if pool.submit(job) { return [] }
        connection.machine.permissionDenied()
        return overloaded(connection, method: head.method, requestId: head.headers[HTTPRequestID.headerName])
    }

    /// The worker queue is full: 503 and close.
    private func overloaded(_ connection: ClientConnection, method: String, requestId header: String?) -> [HTTPConnectionStateMachine.Action] {
        let reason = "The server is overloaded; try again shortly."
        let requestId = HTTPRequestID.echoing(header)
        report(HTTPErrorResponseEvent(status: 503, reason: reason, requestId: requestId, method: method,
                                      remoteAddress: connection.address),
               log: "503 to \(connection.address): \(configuration.maxQueuedRequests) requests already queued")
        connection.output.enqueueFromLoop(HTTPResponseEncoder.errorResponse(
            status: 503, reason: reason, isHead: method == "HEAD", requestId: requestId))
        connection.outcome = ResponseOutcome(close: true)
        return flush(connection)
    }

    /// Open means still in the table: the state machine may already be `.closed` with the
    /// `.close` action not yet performed.
    private func isOpen(_ connection: ClientConnection) -> Bool {
        connections[connection.token] != nil
    }

    private func sendOutput(_ connection: ClientConnection) {
        guard isOpen(connection) else { return }
        perform(flush(connection), on: connection)
    }

    /// Writes what the socket takes; once a response is out, returns what the machine does next.
    private func flush(_ connection: ClientConnection) -> [HTTPConnectionStateMachine.Action] {
        guard isOpen(connection) else { return [] }
        switch connection.output.send(to: connection.fd) {
        case .failed:
            close(connection)
        case .blocked(let progress):
            if progress || connection.stalledSince == nil { connection.stalledSince = .now }
        case .drained:
            connection.stalledSince = nil
            if let outcome = connection.outcome {
                connection.outcome = nil
                return connection.machine.responseSent(closeRequested: outcome.close, now: .now)
            } else if connection.machine.state == .closingAfterFlush {
                return connection.machine.responseSent(closeRequested: true, now: .now)
            }
        }
        return []
    }

    /// Registers what the connection waits for. A connection that stops wanting input (a worker is
    /// answering) keeps its read interest until input actually arrives (`dropUnwantedRead`): most
    /// requests are not pipelined, and this saves two `epoll_ctl` per request handed to a worker.
    private func updateInterest(_ connection: ClientConnection, dropUnwantedRead: Bool = false) {
        guard isOpen(connection), !connection.machine.isClosed else { return }
        var events: UInt32 = 0
        let readInterest = EventPoll.readable | EventPoll.peerHalfClosed
        if connection.machine.wantsRead {
            events |= readInterest
        } else if !dropUnwantedRead {
            events |= connection.registeredEvents & readInterest
        }
        if connection.output.unsentByteCount > 0 { events |= EventPoll.writable }
        guard events != connection.registeredEvents else { return }
        do {
            try poll.modify(connection.fd, token: connection.token, events: events)
            connection.registeredEvents = events
        } catch {
            close(connection)
        }
    }

    private func checkTimers(now: Instant) {
        for connection in Array(connections.values) {
            if let stalled = connection.stalledSince, now - stalled >= configuration.writeTimeout {
                configuration.logger?("closing \(connection.address): response not read within \(configuration.writeTimeout)")
                close(connection)
                continue
            }
            let actions = connection.machine.tick(now: now)
            if !actions.isEmpty { perform(actions, on: connection) }
        }
    }

    private func close(_ connection: ClientConnection) {
        guard connections.removeValue(forKey: connection.token) != nil else { return }
        connection.machine.closedExternally()
        poll.remove(connection.fd)
        Glibc.close(connection.fd)
        connection.output.close()
        if connection.countsTowardLimit {
            connectionCounter.release()
        } else {
            lingeringRejections -= 1
        }
    }

    // MARK: - Shutdown

    private func beginShutdown() {
        guard shutdownDeadline == nil else { return }
        let now = ContinuousClock.now
        shuttingDown.set()
        closeListener()
        shutdownDeadline = now + configuration.shutdownGracePeriod
        for connection in Array(connections.values) {
            perform(connection.machine.shutdownRequested(now: now), on: connection)
        }
    }

    private func closeListener() {
        if listener >= 0 {
            if acceptPausedUntil == nil { poll.remove(listener) }
            Glibc.close(listener)
            listener = -1
        }
        listenerClosed.withLock { $0 = true }
        listenerClosed.broadcast()
    }
}
