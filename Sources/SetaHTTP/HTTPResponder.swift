// HTTPResponder: runs the handler for one request (on a worker, or inline on the loop) and queues the encoded response.

/// What the event loop does after the response's bytes are flushed.
struct ResponseOutcome: Sendable, Equatable {
    /// Close (after flushing) instead of keeping the connection alive.
    var close: Bool
    /// Cut the connection without flushing: a stream failed midway and the client must see it truncated.
    var abort: Bool = false
}

struct HTTPResponder: Sendable {
    let handler: HTTPHandler
    let logger: (@Sendable (String) -> Void)?
    /// Coalescing small stream writes into chunks of about this size saves syscalls and framing.
    static let streamChunkBytes = 16 * 1024

    /// Calls the handler and queues its response on `output`. `keepAlive` is what the request and the
    /// server allow; the response may still close (handler's `Connection: close`, HTTP/1.0 stream).
    func respond(to request: HTTPRequest, keepAlive: Bool, shuttingDown: @Sendable () -> Bool,
                 output: ConnectionOutput) -> ResponseOutcome {
        write(handler(request), for: request, keepAlive: keepAlive, shuttingDown: shuttingDown(),
              output: output, onLoop: false)
    }

    /// Queues `response` to `request` on `output`. On the event loop (`onLoop`) only `.bytes` bodies
    /// may be written: a stream can block on the high-water mark, which only the loop itself drains.
    func write(_ response: HTTPResponse, for request: HTTPRequest, keepAlive: Bool, shuttingDown: Bool,
               output: ConnectionOutput, onLoop: Bool) -> ResponseOutcome {
        var response = response
        if !(200...599).contains(response.status) {
            logger?("handler returned status \(response.status) for \(request.method); sent 500 instead")
            response = HTTPResponse.problem(status: 500, detail: "The server failed to produce a response.")
            response.headers.add(HTTPRequestID.headerName, HTTPRequestID.echoing(request.headers[HTTPRequestID.headerName]))
        }
        let isHTTP10 = request.version.minor == 0
        let isHead = request.method == "HEAD"
        let bodyless = response.status == 204 || response.status == 304
        var close = !keepAlive || shuttingDown || response.headers.containsToken("close", for: "Connection")
        func enqueue(_ bytes: [UInt8], waitForRoom: Bool) throws {
            if onLoop { output.enqueueFromLoop(bytes) } else { try output.enqueue(bytes, waitForRoom: waitForRoom) }
        }

        do {
            switch response.body {
            case .bytes(let bytes):
                let framing: HTTPResponseEncoder.Framing = bodyless ? .noBody : .contentLength(bytes.count)
                let message = HTTPResponseEncoder.head(status: response.status, headers: response.headers,
                                                       framing: framing, close: close,
                                                       keepAliveHTTP10: isHTTP10 && !close,
                                                       body: isHead || bodyless ? nil : bytes)
                try enqueue(message, waitForRoom: false)
                return ResponseOutcome(close: close)

            case .stream(let produce):
                precondition(!onLoop, "a streaming body must be produced on a worker")
                if isHTTP10 { close = true }
                let framing: HTTPResponseEncoder.Framing = bodyless ? .noBody : (isHTTP10 ? .closeDelimited : .chunked)
                let head = HTTPResponseEncoder.head(status: response.status, headers: response.headers,
                                                    framing: framing, close: close,
                                                    keepAliveHTTP10: isHTTP10 && !close)
                if isHead || bodyless {
                    // HEAD gets the head GET would get; the body is never produced.
                    try enqueue(head, waitForRoom: false)
                    return ResponseOutcome(close: close)
                }
                let writer = BodyStreamWriter(output: output, head: head, chunked: !isHTTP10)
                do {
                    try produce(writer)
                    try writer.finish()
                    return ResponseOutcome(close: close)
                } catch {
                    writer.invalidate()
                    if case HTTPServerError.connectionClosed = error { return ResponseOutcome(close: true, abort: true) }
                    // Only the error's type: its text may carry data the log must not hold.
                    logger?("stream for \(request.method) failed with \(type(of: error))")
                    if writer.headSent { return ResponseOutcome(close: true, abort: true) }
                    let failure = HTTPResponseEncoder.errorResponse(
                        status: 500, reason: "The server failed while producing the response.",
                        requestId: HTTPRequestID.echoing(request.headers[HTTPRequestID.headerName]))
                    try enqueue(failure, waitForRoom: false)
                    return ResponseOutcome(close: true)
                }
            }
        } catch {
            // The connection closed under us; nothing left to send.
            return ResponseOutcome(close: true, abort: true)
        }
    }
}

/// The writer a streaming body gets. Not thread-safe: use it on the thread that called the stream.
final class BodyStreamWriter: HTTPBodyWriter {
    private let output: ConnectionOutput
    private var head: [UInt8]?
    private let chunked: Bool
    private var pending: [UInt8] = []
    private var finished = false

    init(output: ConnectionOutput, head: [UInt8], chunked: Bool) {
        self.output = output
        self.head = head
        self.chunked = chunked
    }

    /// Whether any byte of the response reached the output (after that a failure can only cut it).
    var headSent: Bool { head == nil }

    func write(_ bytes: [UInt8]) throws {
        guard !finished else { throw HTTPServerError.streamFinished }
        guard !bytes.isEmpty else { return }
        pending += bytes
        if pending.count >= HTTPResponder.streamChunkBytes { try emit() }
    }

    func finish() throws {
        guard !finished else { return }
        if !pending.isEmpty { try emit() }
        finished = true
        var out = head ?? []
        head = nil
        if chunked { out += HTTPResponseEncoder.lastChunk }
        try output.enqueue(out, waitForRoom: false)
    }

    func invalidate() {
        finished = true
    }

    private func emit() throws {
        var out = head ?? []
        head = nil
        out += chunked ? HTTPResponseEncoder.chunk(pending) : pending
        pending.removeAll(keepingCapacity: true)
        try output.enqueue(out, waitForRoom: true)
    }
}
