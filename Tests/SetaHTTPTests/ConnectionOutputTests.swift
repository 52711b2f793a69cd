// Tests for ConnectionOutput: sending queued bytes, back-pressure on a streaming writer, closing.

import Foundation
import Testing
@testable import SetaHTTP

struct ConnectionOutputTests {
    @Test("queued bytes are sent in order and a send is requested once per drain")
    func bytesAreSentInOrder() throws {
        let pair = SocketPair()
        let requests = Counter()
        let output = ConnectionOutput(highWaterMark: 1024) { requests.increment() }
        try output.enqueue(Array("hello ".utf8), waitForRoom: false)
        try output.enqueue(Array("world".utf8), waitForRoom: false)
        #expect(requests.value == 1)
        #expect(output.unsentByteCount == 11)
        guard case .drained = output.send(to: pair.serverEnd) else { Issue.record("not drained"); return }
        #expect(String(decoding: pair.read(), as: UTF8.self) == "hello world")
        try output.enqueue([1], waitForRoom: false)
        #expect(requests.value == 2)
    }

    @Test("a writer waiting for room blocks above the high-water mark until bytes are sent")
    func writerBlocksAboveHighWaterMark() throws {
        let pair = SocketPair()
        let output = ConnectionOutput(highWaterMark: 1000) {}
        let finished = Counter()
        let thread = Thread {
            try? output.enqueue([UInt8](repeating: 1, count: 5000), waitForRoom: true)
            finished.increment()
        }
        thread.start()
        Thread.sleep(forTimeInterval: 0.2)
        #expect(finished.value == 0)
        _ = output.send(to: pair.serverEnd)
        let deadline = Date().addingTimeInterval(3)
        while finished.value == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(finished.value == 1)
    }

    @Test("closing releases a blocked writer with connectionClosed, and later writes throw")
    func closeReleasesWriter() throws {
        let output = ConnectionOutput(highWaterMark: 10) {}
        let failures = Counter()
        let thread = Thread {
            do { try output.enqueue([UInt8](repeating: 1, count: 100), waitForRoom: true) } catch { failures.increment() }
        }
        thread.start()
        Thread.sleep(forTimeInterval: 0.1)
        output.close()
        let deadline = Date().addingTimeInterval(3)
        while failures.value == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(failures.value == 1)
        #expect(throws: HTTPServerError.connectionClosed) { try output.enqueue([1], waitForRoom: false) }
    }
}
