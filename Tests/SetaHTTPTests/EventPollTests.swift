// Tests for EventPoll: epoll loaded from the C library reports readiness with the registered token.

#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SetaHTTP

struct EventPollTests {
    @Test("a readable pipe is reported with its token, and not after it is removed")
    func readinessIsReported() throws {
        let poll = try EventPoll()
        var descriptors: [Int32] = [-1, -1]
        #expect(pipe(&descriptors) == 0)
        defer { close(descriptors[0]); close(descriptors[1]) }
        try poll.add(descriptors[0], token: 0xDEAD_BEEF_0042, events: EventPoll.readable)
        #expect(poll.wait(timeoutMilliseconds: 0).isEmpty)

        var byte: UInt8 = 7
        #expect(write(descriptors[1], &byte, 1) == 1)
        let events = poll.wait(timeoutMilliseconds: 1000)
        #expect(events.count == 1)
        #expect(events.first?.token == 0xDEAD_BEEF_0042)
        #expect((events.first?.events ?? 0) & EventPoll.readable != 0)

        try poll.modify(descriptors[0], token: 1, events: 0)
        #expect(poll.wait(timeoutMilliseconds: 0).isEmpty)
        poll.remove(descriptors[0])
        #expect(poll.wait(timeoutMilliseconds: 0).isEmpty)
    }

    @Test("registering a closed descriptor fails with the system call named")
    func badDescriptorFails() throws {
        let poll = try EventPoll()
        #expect(throws: HTTPServerError.systemCall("epoll_ctl(ADD)", errno: EBADF)) {
            try poll.add(-1, token: 1, events: EventPoll.readable)
        }
    }
}
