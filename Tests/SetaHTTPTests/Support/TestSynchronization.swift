// TestSynchronization: small thread-safe helpers (counter, gauge, gate) for tests that use threads.

import Dispatch
import Synchronization

/// A thread-safe counter for tests.
final class Counter: Sendable {
    private let count = Mutex(0)

    var value: Int { count.withLock { $0 } }

    func increment() { count.withLock { $0 += 1 } }

    func add(_ amount: Int) { count.withLock { $0 += amount } }
}

/// Counts how many are inside at once and the most there ever were.
final class Gauge: Sendable {
    private let state = Mutex((inside: 0, most: 0))

    var peak: Int { state.withLock { $0.most } }

    func enter() {
        state.withLock { state in
            state.inside += 1
            state.most = max(state.most, state.inside)
        }
    }

    func leave() { state.withLock { $0.inside -= 1 } }
}

/// Blocks callers of `wait()` until `open()`.
final class Gate: Sendable {
    /// Entered once at creation and left once by the first `open()`: every waiter is released together.
    private let group = DispatchGroup()
    private let opened = Atomic(false)

    init() { group.enter() }

    func wait() { group.wait() }

    func open() {
        guard !opened.exchange(true, ordering: .acquiringAndReleasing) else { return }
        group.leave()
    }
}
