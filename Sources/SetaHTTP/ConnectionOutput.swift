// ConnectionOutput: one connection's unsent response bytes, filled by a worker and drained by the event loop.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SetaSync

/// The hand-over point between the worker producing a response and the event loop writing it.
/// Only the loop touches the socket; a worker appends and, for streams, waits while more than the
/// high-water mark is unsent, so a large export never sits in memory whole.
final class ConnectionOutput: Sendable {
    enum SendResult {
        case drained
        /// The socket buffer is full; wait for EPOLLOUT.
        case blocked(progress: Bool)
        case failed(errno: Int32)
    }

    private struct State {
        var chunks: [[UInt8]] = []
        var firstChunkOffset = 0
        var unsent = 0
        var closed = false
        var wakeRequested = false
    }

    private let state = ConditionLock(State())
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
        state.withLock { $0.unsent }
    }

    /// Appends bytes (worker side). With `waitForRoom`, blocks while the unsent bytes are above the
    /// high-water mark. Throws once the connection is closed.
    func enqueue(_ bytes: [UInt8], waitForRoom: Bool) throws {
        let wake = try state.withLock { state -> Bool in
            guard !state.closed else { throw HTTPServerError.connectionClosed }
            if !bytes.isEmpty {
                state.chunks.append(bytes)
                state.unsent += bytes.count
            }
            defer { state.wakeRequested = true }
            return !state.wakeRequested
        }
        if wake { requestSend() }

        guard waitForRoom else { return }
        let highWaterMark = self.highWaterMark
        let closed = state.withLock(waitingUntil: { $0.unsent <= highWaterMark || $0.closed }) { state, _ in state.closed }
        if closed { throw HTTPServerError.connectionClosed }
    }

    /// Appends bytes from the event loop itself (it sends right after, so no wake-up is needed).
    func enqueueFromLoop(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        state.withLock { state in
            guard !state.closed else { return }
            state.chunks.append(bytes)
            state.unsent += bytes.count
        }
    }

    /// Writes as much as the socket takes (event loop side).
    func send(to socket: Int32) -> SendResult {
        let lowWaterMark = self.lowWaterMark
        let (result, wakeWriter) = state.withLock { state -> (SendResult, Bool) in
            state.wakeRequested = false
            var progress = false
            while !state.chunks.isEmpty {
                let remaining = state.chunks[0].count - state.firstChunkOffset
                let offset = state.firstChunkOffset
                let written = state.chunks[0].withUnsafeBytes { raw in
                    Glibc.send(socket, raw.baseAddress! + offset, remaining, Int32(MSG_NOSIGNAL))
                }
                if written < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    let wake = progress && state.unsent <= lowWaterMark
                    if code == EAGAIN || code == EWOULDBLOCK { return (.blocked(progress: progress), wake) }
                    return (.failed(errno: code), wake)
                }
                progress = progress || written > 0
                state.unsent -= written
                if written == remaining {
                    state.chunks.removeFirst()
                    state.firstChunkOffset = 0
                } else {
                    state.firstChunkOffset += written
                }
            }
            return (.drained, progress && state.unsent <= lowWaterMark)
        }
        if wakeWriter { state.broadcast() }
        return result
    }

    /// The connection is gone: drop unsent bytes and release a waiting writer (event loop side).
    func close() {
        state.withLock { state in
            state.closed = true
            state.chunks.removeAll()
            state.unsent = 0
        }
        state.broadcast()
    }
}
