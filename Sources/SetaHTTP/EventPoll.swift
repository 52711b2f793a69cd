// EventPoll: epoll for the event loop, declared through the CLinuxEvents C target (Swift's Glibc module lacks <sys/epoll.h>).

import CLinuxEvents
#if canImport(Glibc)
import Glibc
#endif

/// A level-triggered epoll instance. `epoll_event` comes from the C header, so its layout (packed on
/// x86_64, naturally aligned elsewhere) is the compiler's business, not ours.
final class EventPoll {
    struct Event {
        var token: UInt64
        var events: UInt32
    }

    static let readable: UInt32 = c_epoll_in
    static let writable: UInt32 = c_epoll_out
    static let error: UInt32 = c_epoll_err
    static let hangUp: UInt32 = c_epoll_hup
    static let peerHalfClosed: UInt32 = c_epoll_rdhup

    private let descriptor: Int32
    private var eventBuffer: UnsafeMutablePointer<epoll_event>
    private let capacity: Int

    init(capacity: Int = 256) throws {
        let descriptor = epoll_create1(c_epoll_cloexec)
        guard descriptor >= 0 else { throw HTTPServerError.systemCall("epoll_create1", errno: errno) }
        self.descriptor = descriptor
        self.capacity = capacity
        eventBuffer = .allocate(capacity: capacity)
    }

    deinit {
        eventBuffer.deallocate()
        Glibc.close(descriptor)
    }

    func add(_ fd: Int32, token: UInt64, events: UInt32) throws {
        try control(c_epoll_ctl_add, fd, token: token, events: events, name: "epoll_ctl(ADD)")
    }

    func modify(_ fd: Int32, token: UInt64, events: UInt32) throws {
        try control(c_epoll_ctl_mod, fd, token: token, events: events, name: "epoll_ctl(MOD)")
    }

    func remove(_ fd: Int32) {
        _ = epoll_ctl(descriptor, c_epoll_ctl_del, fd, nil)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) and returns the ready events.
    func wait(timeoutMilliseconds: Int32) -> [Event] {
        let count = epoll_wait(descriptor, eventBuffer, Int32(capacity), timeoutMilliseconds)
        guard count > 0 else { return [] }
        return (0..<Int(count)).map { index in
            Event(token: eventBuffer[index].data.u64, events: eventBuffer[index].events)
        }
    }

    private func control(_ operation: Int32, _ fd: Int32, token: UInt64, events: UInt32, name: String) throws {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        guard epoll_ctl(descriptor, operation, fd, &event) == 0 else {
            throw HTTPServerError.systemCall(name, errno: errno)
        }
    }
}
