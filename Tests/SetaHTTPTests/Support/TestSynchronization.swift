// TestSynchronization: small thread-safe helpers (counter, gauge, gate) for tests that use threads.

import Foundation

/// A thread-safe counter for tests.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    func add(_ amount: Int) {
        lock.lock()
        count += amount
        lock.unlock()
    }
}

/// Counts how many are inside at once and the most there ever were.
final class Gauge: @unchecked Sendable {
    private let lock = NSLock()
    private var inside = 0
    private var most = 0

    var peak: Int {
        lock.lock()
        defer { lock.unlock() }
        return most
    }

    func enter() {
        lock.lock()
        inside += 1
        most = max(most, inside)
        lock.unlock()
    }

    func leave() {
        lock.lock()
        inside -= 1
        lock.unlock()
    }
}

/// Blocks callers of `wait()` until `open()`.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false

    func wait() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}
