// WorkerPool: a fixed set of threads running queued jobs, with a bounded queue.

import Foundation

/// Handlers that may block (libpq) run here, never on an event loop. The thread count is fixed
/// and the queue bounded: under overload `submit` refuses instead of piling up work.
final class WorkerPool: @unchecked Sendable {
    typealias Job = @Sendable () -> Void

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var queueHead = 0
    private var running = 0
    private var stopping = false
    private var liveThreads = 0
    private let queueLimit: Int

    init(threadCount: Int, queueLimit: Int, name: String = "seta-http-worker") {
        self.queueLimit = max(0, queueLimit)
        let count = max(1, threadCount)
        liveThreads = count
        for index in 0..<count {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Queues `job`; false when the queue is full or the pool is stopping.
    func submit(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        // A free thread takes the job at once, so idle threads do not count against the queue limit.
        guard queue.count - queueHead < queueLimit + max(0, liveThreads - running) else { return false }
        queue.append(job)
        condition.signal()
        return true
    }

    /// No job queued or running.
    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return running == 0 && queue.count == queueHead
    }

    /// Lets the threads exit once the queue is empty; does not wait for them.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every thread exited or `deadline` passed; true if they all exited.
    func waitForThreads(until deadline: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while liveThreads > 0 {
            if !condition.wait(until: deadline) { return liveThreads == 0 }
        }
        return true
    }

    private func work() {
        condition.lock()
        while true {
            while queue.count == queueHead && !stopping {
                condition.wait()
            }
            if queue.count == queueHead {
                liveThreads -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = queue[queueHead]
            queueHead += 1
            if queueHead == queue.count {
                queue.removeAll(keepingCapacity: true)
                queueHead = 0
            } else if queueHead > 1024 && queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            running += 1
            condition.unlock()
            job()
            condition.lock()
            running -= 1
        }
    }
}
