// WorkerPool: a fixed set of threads running queued jobs, with a bounded queue.

import Foundation
import SetaSync

/// Handlers that may block (libpq) run here, never on an event loop. The thread count is fixed
/// and the queue bounded: under overload `submit` refuses instead of piling up work.
final class WorkerPool: Sendable {
    typealias Job = @Sendable () -> Void

    private struct State {
        var queue: [Job] = []
        var queueHead = 0
        var running = 0
        var stopping = false
        var liveThreads = 0

        var isEmpty: Bool { queue.count == queueHead }

        /// The next job, compacting the queue now and then.
        mutating func take() -> Job {
            let job = queue[queueHead]
            queueHead += 1
            if queueHead == queue.count {
                queue.removeAll(keepingCapacity: true)
                queueHead = 0
            } else if queueHead > 1024 && queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            return job
        }
    }

    private let state: ConditionLock<State>
    private let queueLimit: Int

    init(threadCount: Int, queueLimit: Int, name: String = "seta-http-worker") {
        self.queueLimit = max(0, queueLimit)
        let count = max(1, threadCount)
        state = ConditionLock(State(liveThreads: count))
        for index in 0..<count {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Queues `job`; false when the queue is full or the pool is stopping.
    func submit(_ job: @escaping Job) -> Bool {
        let queued = state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            // A free thread takes the job at once, so idle threads do not count against the queue limit.
            guard state.queue.count - state.queueHead < queueLimit + max(0, state.liveThreads - state.running)
            else { return false }
            state.queue.append(job)
            return true
        }
        if queued { state.signal() }
        return queued
    }

    /// No job queued or running.
    var isIdle: Bool {
        state.withLock { $0.running == 0 && $0.isEmpty }
    }

    /// Lets the threads exit once the queue is empty; does not wait for them.
    func stop() {
        state.withLock { $0.stopping = true }
        state.broadcast()
    }

    /// Waits until every thread exited or `deadline` passed; true if they all exited.
    func waitForThreads(until deadline: Date) -> Bool {
        state.withLock(waitingUntil: { $0.liveThreads == 0 }, deadline: deadline) { _, exited in exited }
    }

    private func work() {
        while true {
            let job = state.withLock(waitingUntil: { !$0.isEmpty || $0.stopping }) { state, _ -> Job? in
                if state.isEmpty {
                    state.liveThreads -= 1
                    return nil
                }
                state.running += 1
                return state.take()
            }
            guard let job else {
                state.broadcast()
                return
            }
            job()
            state.withLock { $0.running -= 1 }
        }
    }
}
