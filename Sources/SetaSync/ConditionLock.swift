// ConditionLock: state reachable only under a lock, with a condition to sleep on until another thread changes it.
import Foundation

/// `Mutex` with `wait`: for the few places where a thread must sleep until another changes the guarded
/// state (a worker waiting for a job, a writer waiting for room, a caller waiting for a free connection).
///
/// Unchecked Sendable, and the proof: the only stored state is `state`, and it is read or written only
/// inside `withLock`/`withLock(waitingUntil:)`, which hold `condition` for the whole access (a wait gives
/// the lock up and takes it back before `ready` or `body` look at `state` again). No reference to `state`
/// can escape: `body` gets it `inout`, and what it returns is the caller's own value. Values of a non-Sendable
/// `State` (the pool's idle database connections) are moved in and out whole, so one thread at a time owns each.
public final class ConditionLock<State>: @unchecked Sendable {
    private let condition = NSCondition()
    private var state: State

    public init(_ initial: State) {
        state = initial
    }

    /// Runs `body` with the state, the lock held.
    public func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        condition.lock()
        defer { condition.unlock() }
        return try body(&state)
    }

    /// Sleeps until `ready(state)` holds or `deadline` passes (nil: no deadline), then runs `body` with the
    /// lock still held; `body`'s second argument says whether `ready` held (false only after the deadline).
    public func withLock<Result>(waitingUntil ready: (State) -> Bool, deadline: Date? = nil,
                                 _ body: (inout State, Bool) throws -> Result) rethrows -> Result {
        condition.lock()
        defer { condition.unlock() }
        var isReady = ready(state)
        while !isReady {
            if let deadline {
                if !condition.wait(until: deadline) { isReady = ready(state); break }
            } else {
                condition.wait()
            }
            isReady = ready(state)
        }
        return try body(&state, isReady)
    }

    /// Wakes one sleeper. Safe without the lock held: every change a sleeper waits for is made under it.
    public func signal() {
        condition.signal()
    }

    /// Wakes every sleeper.
    public func broadcast() {
        condition.broadcast()
    }
}
