// Tests for HTTPConnectionStateMachine: keep-alive, pipelining, timers on a mock clock, closing, shutdown.

import Testing
@testable import SetaHTTP

struct HTTPConnectionStateMachineTests {
    typealias Machine = HTTPConnectionStateMachine
    let start = ContinuousClock.now

    private func machine(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in }) -> Machine {
        var configuration = HTTPServerConfiguration()
        configuration.headerReadTimeout = .seconds(10)
        configuration.bodyReadTimeout = .seconds(30)
        configuration.idleKeepAliveTimeout = .seconds(30)
        configuration.closeLingerTimeout = .seconds(2)
        configure(&configuration)
        return Machine(configuration: configuration, now: start)
    }

    private func machineAskingBodyPermission() -> Machine {
        Machine(configuration: HTTPServerConfiguration(), now: start, asksBodyPermission: true)
    }

    private func at(_ seconds: Double) -> ContinuousClock.Instant {
        start + .milliseconds(Int(seconds * 1000))
    }

    private func receive(_ machine: inout Machine, _ text: String, at seconds: Double) -> [Machine.Action] {
        Array(text.utf8).withUnsafeBytes { machine.bytesReceived($0, now: at(seconds)) }
    }

    private func dispatchedPaths(_ actions: [Machine.Action]) -> [String] {
        actions.compactMap { if case .dispatch(let request, _) = $0 { request.path } else { nil } }
    }

    private func errorStatus(_ actions: [Machine.Action]) -> Int? {
        for action in actions { if case .sendError(let status, _, _) = action { return status } }
        return nil
    }

    private func closes(_ actions: [Machine.Action]) -> Bool {
        actions.contains { if case .close = $0 { true } else { false } }
    }

    private func halfCloses(_ actions: [Machine.Action]) -> Bool {
        actions.contains { if case .halfClose = $0 { true } else { false } }
    }

    @Test("a new connection that sends nothing is closed silently after the header timeout")
    func silentNewConnectionIsClosed() {
        var machine = machine()
        #expect(machine.tick(now: at(9.9)).isEmpty)
        #expect(closes(machine.tick(now: at(10))))
        #expect(machine.isClosed)
    }

    @Test("the header timer runs from the first byte and is not reset by later bytes")
    func headerTimerIsNotResetByBytes() {
        var machine = machine()
        _ = receive(&machine, "G", at: 1)
        for second in 2...10 {
            #expect(receive(&machine, "E", at: Double(second) + 0.5).isEmpty || second > 2)
            #expect(machine.tick(now: at(Double(second) + 0.5)).isEmpty)
        }
        #expect(errorStatus(machine.tick(now: at(11))) == 408)
        #expect(machine.state == .closingAfterFlush)
    }

    @Test("a body that does not finish within the body timeout gets 408")
    func slowBodyTimesOut() {
        var machine = machine()
        _ = receive(&machine, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc", at: 0)
        #expect(machine.state == .readingBody(since: at(0)))
        #expect(machine.tick(now: at(29)).isEmpty)
        #expect(errorStatus(machine.tick(now: at(30))) == 408)
    }

    @Test("a complete request is dispatched and reading pauses until its response is sent")
    func requestIsDispatchedAndReadingPauses() {
        var machine = machine()
        let actions = receive(&machine, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", at: 0)
        #expect(dispatchedPaths(actions) == ["/a"])
        #expect(!machine.wantsRead)
        #expect(machine.tick(now: at(100)).isEmpty)
        #expect(machine.responseSent(closeRequested: false, now: at(100)).isEmpty)
        #expect(machine.wantsRead)
        #expect(machine.state == .awaitingRequest(since: at(100), fresh: false))
    }

    @Test("pipelined requests are dispatched one at a time, each after the previous response")
    func pipelinedRequestsWaitTheirTurn() {
        var machine = machine()
        let first = receive(&machine, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n", at: 0)
        #expect(dispatchedPaths(first) == ["/1"])
        #expect(dispatchedPaths(machine.responseSent(closeRequested: false, now: at(1))) == ["/2"])
        #expect(dispatchedPaths(machine.responseSent(closeRequested: false, now: at(2))) == ["/3"])
        #expect(machine.responseSent(closeRequested: false, now: at(3)).isEmpty)
    }

    @Test("an idle kept-alive connection is closed silently after the idle timeout")
    func idleKeepAliveConnectionIsClosed() {
        var machine = machine { $0.idleKeepAliveTimeout = .seconds(5) }
        _ = receive(&machine, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", at: 0)
        _ = machine.responseSent(closeRequested: false, now: at(1))
        #expect(machine.tick(now: at(5.9)).isEmpty)
        let actions = machine.tick(now: at(6))
        #expect(closes(actions))
        #expect(errorStatus(actions) == nil)
    }

    @Test("Connection: close half-closes after the response, then drains until the linger ends")
    func connectionCloseDrains() {
        var machine = machine()
        _ = receive(&machine, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n", at: 0)
        #expect(halfCloses(machine.responseSent(closeRequested: false, now: at(1))))
        #expect(machine.wantsRead)
        #expect(receive(&machine, "more bytes are discarded", at: 1.5).isEmpty)
        #expect(machine.tick(now: at(2.9)).isEmpty)
        #expect(closes(machine.tick(now: at(3))))
    }

    @Test("a response that asks to close ends a kept-alive connection")
    func responseCanClose() {
        var machine = machine()
        _ = receive(&machine, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", at: 0)
        #expect(halfCloses(machine.responseSent(closeRequested: true, now: at(1))))
    }

    @Test("a malformed request gets its error, then the connection closes after the flush")
    func malformedRequestCloses() {
        var machine = machine()
        #expect(errorStatus(receive(&machine, "GET / HTTP/1.1\r\nHost : h\r\n\r\n", at: 0)) == 400)
        #expect(halfCloses(machine.responseSent(closeRequested: true, now: at(0.1))))
        #expect(closes(machine.peerClosed(now: at(0.2))))
    }

    @Test("Expect: 100-continue asks for the interim response before dispatching")
    func continueComesFirst() {
        var machine = machine()
        let actions = receive(&machine, "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", at: 0)
        #expect(actions.count == 1)
        if case .sendContinue = actions.first {} else { Issue.record("expected sendContinue, got \(actions)") }
        #expect(dispatchedPaths(receive(&machine, "ok", at: 1)) == ["/"])
    }

    @Test("with body permission, Expect: 100-continue asks the application first and reads nothing meanwhile")
    func continueWaitsForPermission() {
        var machine = machineAskingBodyPermission()
        let actions = receive(&machine, "PUT /r HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", at: 0)
        guard actions.count == 1, case .askPermission(let head) = actions[0] else {
            Issue.record("expected askPermission, got \(actions)")
            return
        }
        #expect(head.path == "/r")
        #expect(!machine.wantsRead)
        let granted = machine.permissionGranted(now: at(1))
        if case .sendContinue = granted.first {} else { Issue.record("expected sendContinue, got \(granted)") }
        #expect(machine.wantsRead)
        #expect(dispatchedPaths(receive(&machine, "ok", at: 2)) == ["/r"])
    }

    @Test("a refused body is answered and then the connection closes instead of reading it as a request")
    func refusedBodyClosesTheConnection() {
        var machine = machineAskingBodyPermission()
        _ = receive(&machine, "PUT /r HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", at: 0)
        machine.permissionDenied()
        #expect(halfCloses(machine.responseSent(closeRequested: true, now: at(1))))
        #expect(receive(&machine, "ok", at: 1.5).isEmpty)
    }

    @Test("a peer closing mid-request gets a 400 for the truncated request")
    func truncatedRequestGets400() {
        var machine = machine()
        _ = receive(&machine, "GET / HTTP/1.1\r\nHo", at: 0)
        #expect(errorStatus(machine.peerClosed(now: at(1))) == 400)
        #expect(!machine.wantsRead)
        #expect(closes(machine.responseSent(closeRequested: true, now: at(1.1))))
    }

    @Test("a peer closing between requests closes the connection")
    func peerCloseBetweenRequests() {
        var machine = machine()
        #expect(closes(machine.peerClosed(now: at(1))))
    }

    @Test("shutdown closes an idle connection at once and lets a busy one finish with close")
    func shutdownClosesIdleAndFinishesBusy() {
        var idle = machine()
        #expect(closes(idle.shutdownRequested(now: at(1))))

        var busy = machine()
        _ = receive(&busy, "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n", at: 0)
        #expect(busy.shutdownRequested(now: at(1)).isEmpty)
        let after = busy.responseSent(closeRequested: false, now: at(2))
        #expect(halfCloses(after))
        #expect(dispatchedPaths(after).isEmpty)
    }

    @Test("a request read during shutdown is dispatched without keep-alive")
    func requestDuringShutdownIsNotKeptAlive() {
        var machine = machine()
        _ = receive(&machine, "GET / HT", at: 0)
        _ = machine.shutdownRequested(now: at(0.5))
        let actions = receive(&machine, "TP/1.1\r\nHost: h\r\n\r\n", at: 1)
        guard case .dispatch(_, let keepAlive) = actions.first else { Issue.record("no dispatch"); return }
        #expect(!keepAlive)
    }
}
