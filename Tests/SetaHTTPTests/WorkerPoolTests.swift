// Tests for WorkerPool: fixed concurrency, bounded queue, stopping.

import Foundation
import Testing
@testable import SetaHTTP

struct WorkerPoolTests {
    @Test("no more jobs run at once than there are threads")
    func concurrencyIsBounded() throws {
        let pool = WorkerPool(threadCount: 3, queueLimit: 100)
        defer { pool.stop() }
        let gauge = Gauge()
        let done = Counter()
        for _ in 0..<12 {
            let accepted = pool.submit {
                gauge.enter()
                Thread.sleep(forTimeInterval: 0.02)
                gauge.leave()
                done.increment()
            }
            #expect(accepted)
        }
        let deadline = Date().addingTimeInterval(5)
        while done.value < 12 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(done.value == 12)
        #expect(gauge.peak <= 3)
        #expect(pool.isIdle)
    }

    @Test("a full queue refuses new jobs")
    func fullQueueRefuses() throws {
        let pool = WorkerPool(threadCount: 1, queueLimit: 1)
        defer { pool.stop() }
        let gate = Gate()
        let block: WorkerPool.Job = { gate.wait() }
        #expect(pool.submit(block))
        Thread.sleep(forTimeInterval: 0.1)
        #expect(pool.submit(block))
        #expect(!pool.submit(block))
        gate.open()
    }

    @Test("stopping lets the threads finish queued jobs and exit")
    func stopLetsThreadsExit() throws {
        let pool = WorkerPool(threadCount: 2, queueLimit: 10)
        let done = Counter()
        for _ in 0..<4 { _ = pool.submit { Thread.sleep(forTimeInterval: 0.01); done.increment() } }
        pool.stop()
        #expect(pool.waitForThreads(until: Date().addingTimeInterval(3)))
        #expect(done.value == 4)
        #expect(!pool.submit {})
    }
}
