// EventPoll: epoll for the event loop, loaded from the C library because Swift's Glibc module lacks <sys/epoll.h>.

#if canImport(Glibc)
import Glibc
#endif

/// A level-triggered epoll instance. The functions come from `dlsym` (they are ordinary glibc symbols)
/// since the project takes no C shim target; `epoll_event` is laid out by hand for the same reason.
final class EventPoll {
    struct Event {
        var token: UInt64
        var events: UInt32
    }

    static let readable: UInt32 = 0x001      // EPOLLIN
    static let writable: UInt32 = 0x004      // EPOLLOUT
    static let error: UInt32 = 0x008         // EPOLLERR
    static let hangUp: UInt32 = 0x010        // EPOLLHUP
    static let peerHalfClosed: UInt32 = 0x2000 // EPOLLRDHUP

    private typealias Create = @convention(c) (Int32) -> Int32
    private typealias Control = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    private typealias Wait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32

    private struct Functions {
        let create: Create
        let control: Control
        let wait: Wait
    }

    private static let functions: Functions? = {
        guard let library = dlopen(nil, RTLD_NOW),
              let create = dlsym(library, "epoll_create1"),
              let control = dlsym(library, "epoll_ctl"),
              let wait = dlsym(library, "epoll_wait")
        else { return nil }
        return Functions(create: unsafeBitCast(create, to: Create.self),
                         control: unsafeBitCast(control, to: Control.self),
                         wait: unsafeBitCast(wait, to: Wait.self))
    }()

    // struct epoll_event is packed on x86_64 (12 bytes), naturally aligned elsewhere (16 bytes).
    #if arch(x86_64)
    private static let eventSize = 12
    private static let dataOffset = 4
    #else
    private static let eventSize = 16
    private static let dataOffset = 8
    #endif

    private static let controlAdd: Int32 = 1, controlDelete: Int32 = 2, controlModify: Int32 = 3
    private static let closeOnExec: Int32 = 0o2000000

    private let functions: Functions
    private let descriptor: Int32
    private var eventBuffer: UnsafeMutableRawPointer
    private let capacity: Int

    init(capacity: Int = 256) throws {
        guard let functions = Self.functions else { throw HTTPServerError.eventPollingUnavailable }
        let descriptor = functions.create(Self.closeOnExec)
        guard descriptor >= 0 else { throw HTTPServerError.systemCall("epoll_create1", errno: errno) }
        self.functions = functions
        self.descriptor = descriptor
        self.capacity = capacity
        eventBuffer = .allocate(byteCount: capacity * Self.eventSize, alignment: 8)
    }

    deinit {
        eventBuffer.deallocate()
        Glibc.close(descriptor)
    }

    func add(_ fd: Int32, token: UInt64, events: UInt32) throws {
        try control(Self.controlAdd, fd, token: token, events: events, name: "epoll_ctl(ADD)")
    }

    func modify(_ fd: Int32, token: UInt64, events: UInt32) throws {
        try control(Self.controlModify, fd, token: token, events: events, name: "epoll_ctl(MOD)")
    }

    func remove(_ fd: Int32) {
        _ = functions.control(descriptor, Self.controlDelete, fd, nil)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) and returns the ready events.
    func wait(timeoutMilliseconds: Int32) -> [Event] {
        let count = functions.wait(descriptor, eventBuffer, Int32(capacity), timeoutMilliseconds)
        guard count > 0 else { return [] }
        var events: [Event] = []
        events.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            let base = index * Self.eventSize
            events.append(Event(
                token: eventBuffer.loadUnaligned(fromByteOffset: base + Self.dataOffset, as: UInt64.self),
                events: eventBuffer.loadUnaligned(fromByteOffset: base, as: UInt32.self)))
        }
        return events
    }

    private func control(_ operation: Int32, _ fd: Int32, token: UInt64, events: UInt32, name: String) throws {
        var raw = [UInt8](repeating: 0, count: Self.eventSize)
        let result = raw.withUnsafeMutableBytes { pointer -> Int32 in
            pointer.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            pointer.storeBytes(of: token, toByteOffset: Self.dataOffset, as: UInt64.self)
            return functions.control(descriptor, operation, fd, pointer.baseAddress)
        }
        guard result == 0 else { throw HTTPServerError.systemCall(name, errno: errno) }
    }
}
