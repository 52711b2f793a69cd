// ConnectionOutput: one connection's unsent response bytes, filled by a worker and drained by the event loop.

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The hand-over point between the worker producing a response and the event loop writing it.
/// Only the loop touches the socket; a worker appends and, for streams, waits while more than the
/// high-water mark is unsent, so a large export never sits in memory whole.
final class ConnectionOutput: @unchecked Sendable {
    enum SendResult {
        case drained
        /// The socket buffer is full; wait for EPOLLOUT.
        case blocked(progress: Bool)
        case failed(errno: Int32)
    }

    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var firstChunkOffset = 0
    private var unsent = 0
    private var closed = false
    private var wakeRequested = false
    private let highWaterMark: Int
    private let lowWaterMark: Int
    /// Asks the event loop to send; called without the lock held, at most once per drain.
    private let requestSend: @Sendable () -> Void

    init(highWaterMark: Int, requestSend: @escaping @Sendable () -> Void) {
        self.highWaterMark = max(1, highWaterMark)
        self.lowWaterMark = max(1, highWaterMark / 4)
        self.requestSend = requestSend
    }

    var unsentByteCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return unsent
    }

    /// Appends bytes (worker side). With `waitForRoom`, blocks while the unsent bytes are above the
    /// high-water mark. Throws once the connection is closed.
    func enqueue(_ bytes: [UInt8], waitForRoom: Bool) throws {
        condition.lock()
        guard !closed else {
            condition.unlock()
            throw HTTPServerError.connectionClosed
        }
        if !bytes.isEmpty {
            chunks.append(bytes)
            unsent += bytes.count
        }
        let wake = !wakeRequested
        wakeRequested = true
        condition.unlock()
        if wake { requestSend() }

        guard waitForRoom else { return }
        condition.lock()
        defer { condition.unlock() }
        while unsent > highWaterMark && !closed {
            condition.wait()
        }
        if closed { throw HTTPServerError.connectionClosed }
    }

    /// Appends bytes from the event loop itself (it sends right after, so no wake-up is needed).
    func enqueueFromLoop(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return }
        chunks.append(bytes)
        unsent += bytes.count
    }

    /// Writes as much as the socket takes (event loop side).
    func send(to socket: Int32) -> SendResult {
        condition.lock()
        defer { condition.unlock() }
        wakeRequested = false
        var progress = false
        defer {
            if progress && unsent <= lowWaterMark { condition.broadcast() }
        }
        while !chunks.isEmpty {
            let chunk = chunks[0]
            let remaining = chunk.count - firstChunkOffset
            let written = chunk.withUnsafeBytes { raw in
                Glibc.send(socket, raw.baseAddress! + firstChunkOffset, remaining, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return .blocked(progress: progress) }
                return .failed(errno: code)
            }
            progress = progress || written > 0
            unsent -= written
            if written == remaining {
                chunks.removeFirst()
                firstChunkOffset = 0
            } else {
                firstChunkOffset += written
            }
        }
        return .drained
    }

    /// The connection is gone: drop unsent bytes and release a waiting writer (event loop side).
    func close() {
        condition.lock()
        closed = true
        chunks.removeAll()
        unsent = 0
        condition.broadcast()
        condition.unlock()
    }
}
