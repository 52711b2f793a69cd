// Tests for HTTPRequestDecoder: requests decoded from string literals, framing, limits and refusals.

import Testing
@testable import SetaHTTP

struct HTTPRequestDecoderTests {
    private func decoder(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in }) -> HTTPRequestDecoder {
        var configuration = HTTPServerConfiguration()
        configure(&configuration)
        return HTTPRequestDecoder(configuration: configuration)
    }

    @Test("a GET request gives its method, target, path, query, version and headers")
    func getRequestIsDecoded() throws {
        var decoder = decoder()
        let events = decoder.events(after: "GET /api/v1/milestones?page=2&q=a%20b HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n")
        let request = try #require(events.first?.request)
        #expect(request.method == "GET")
        #expect(request.target == "/api/v1/milestones?page=2&q=a%20b")
        #expect(request.path == "/api/v1/milestones")
        #expect(request.query == "page=2&q=a%20b")
        #expect(request.version == .http1_1)
        #expect(request.headers["host"] == "localhost")
        #expect(request.headers["ACCEPT"] == "application/json")
        #expect(request.body.isEmpty)
        #expect(events.last?.isNeedMore == true)
    }

    @Test("a target without a query has a nil query, and an empty query is an empty string")
    func queryPresenceIsKept() throws {
        var decoder = decoder()
        let events = decoder.events(after: "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b? HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(events[0].request?.query == nil)
        #expect(events[1].request?.path == "/b")
        #expect(events[1].request?.query == "")
    }

    @Test("header values are trimmed of surrounding whitespace and keep UTF-8 bytes")
    func headerValuesAreTrimmed() throws {
        var decoder = decoder()
        let events = decoder.events(after: "GET / HTTP/1.1\r\nHost: h\r\nX-Name: \t Bogotá D.C. \t\r\nX-Empty:\r\n\r\n")
        let request = try #require(events.first?.request)
        #expect(request.headers["X-Name"] == "Bogotá D.C.")
        #expect(request.headers["X-Empty"] == "")
    }

    @Test("a body is read by Content-Length")
    func contentLengthBodyIsRead() throws {
        var decoder = decoder()
        let events = decoder.events(after: "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world")
        #expect(events.first?.request?.body == Array("hello world".utf8))
    }

    @Test("a request fed one byte at a time decodes the same as one fed at once")
    func byteByByteFeedingDecodes() throws {
        var decoder = decoder()
        let raw = "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\n\r\n"
        var request: HTTPRequest?
        for byte in raw.utf8 {
            #expect(request == nil)
            decoder.feed([byte])
            for event in decoder.drain() { request = event.request ?? request }
        }
        #expect(request?.body == Array("abcdefg".utf8))
    }

    @Test("a chunked body ignores chunk extensions and skips trailers")
    func chunkedBodyIsDecoded() throws {
        var decoder = decoder()
        let events = decoder.events(after: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n5 ;name=value;flag\r\nhello\r\nA\r\n, chunked!\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n")
        let request = try #require(events.first?.request)
        #expect(request.body == Array("hello, chunked!".utf8))
        #expect(request.headers["X-Checksum"] == nil)
    }

    @Test("pipelined requests come out one after the other, in order")
    func pipelinedRequestsAreDecodedInOrder() throws {
        var decoder = decoder()
        let events = decoder.events(after: "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: h\r\n\r\nGET /4 HT")
        #expect(events.compactMap(\.request).map(\.path) == ["/1", "/2", "/3"])
        #expect(decoder.phase == .head)
        decoder.feed(Array("TP/1.1\r\nHost: h\r\n\r\n".utf8))
        #expect(decoder.next().request?.path == "/4")
        #expect(decoder.phase == .idle)
    }

    @Test("Expect: 100-continue is signalled once, before the body arrives")
    func continueIsSignalledBeforeTheBody() throws {
        var decoder = decoder()
        let events = decoder.events(after: "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")
        #expect(events.count == 2)
        #expect(events[0].isContinueExpected)
        #expect(events[1].isNeedMore)
        #expect(decoder.events(after: "abc").first?.request?.body == Array("abc".utf8))
    }

    @Test("Expect: 100-continue is not signalled when the body came with the head")
    func continueIsNotSignalledWhenTheBodyArrived() throws {
        var decoder = decoder()
        let events = decoder.events(after: "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc")
        #expect(events.first?.request?.body == Array("abc".utf8))
    }

    @Test("two Authorization fields are refused with 400 naming the header")
    func twoAuthorizationFieldsAreRefused() {
        var decoder = decoder()
        let events = decoder.events(after: "POST / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\nContent-Length: 0\r\n\r\n")
        guard case .error(let status, let reason) = events.last else { Issue.record("no error: \(events)"); return }
        #expect(status == 400)
        #expect(reason.contains("Authorization"))
    }

    @Test("the head of a request waiting for its body is available, with an empty body")
    func currentHeadIsAvailableBeforeTheBody() {
        var decoder = decoder()
        _ = decoder.events(after: "PUT /v1/x?y=1 HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let head = decoder.currentHead
        #expect(head.method == "PUT")
        #expect(head.path == "/v1/x")
        #expect(head.headers["Content-Length"] == "4")
        #expect(head.body.isEmpty)
    }

    @Test("Expect is ignored in HTTP/1.0 requests")
    func expectIsIgnoredInHTTP10() throws {
        var decoder = decoder()
        let events = decoder.events(after: "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
        #expect(events.count == 1)
        #expect(events[0].isNeedMore)
    }

    @Test("a declared Content-Length over the body limit is refused with 413 before any body byte")
    func oversizedContentLengthIsRefusedEarly() throws {
        var decoder = decoder { $0.maxBodyBytes = 10 }
        let events = decoder.events(after: "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n")
        #expect(events.map(\.errorStatus) == [413])
    }

    @Test("a body exactly at the limit is accepted")
    func bodyAtTheLimitIsAccepted() throws {
        var decoder = decoder { $0.maxBodyBytes = 10 }
        let events = decoder.events(after: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789")
        #expect(events.first?.request?.body.count == 10)
    }

    @Test("chunks adding up past the body limit are refused with 413")
    func chunkedBodyOverTheLimitIsRefused() throws {
        var decoder = decoder { $0.maxBodyBytes = 10 }
        let events = decoder.events(after: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n")
        #expect(events.last?.errorStatus == 413)
    }

    @Test("a request line longer than the limit is refused with 414 even before its end arrives")
    func longRequestLineIsRefused() throws {
        var decoder = decoder { $0.maxRequestLineBytes = 32 }
        let events = decoder.events(after: "GET /" + String(repeating: "a", count: 40))
        #expect(events.map(\.errorStatus) == [414])
    }

    @Test("a request line exactly at the limit is accepted")
    func requestLineAtTheLimitIsAccepted() throws {
        var decoder = decoder { $0.maxRequestLineBytes = 32 }
        let line = "GET /" + String(repeating: "a", count: 32 - 16) + " HTTP/1.1\r\n"
        #expect(line.utf8.count == 32)
        let events = decoder.events(after: line + "Host: h\r\n\r\n")
        #expect(events.first?.request != nil)
    }

    @Test("too many header fields are refused with 431")
    func tooManyHeadersAreRefused() throws {
        var decoder = decoder { $0.maxHeaderCount = 3 }
        #expect(decoder.events(after: "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n").first?.request != nil)
        #expect(decoder.events(after: "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n").last?.errorStatus == 431)
    }

    @Test("a header section over the byte limit is refused with 431, even mid-line")
    func largeHeaderSectionIsRefused() throws {
        var decoder = decoder { $0.maxHeaderBytes = 64 }
        let events = decoder.events(after: "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + String(repeating: "x", count: 60))
        #expect(events.last?.errorStatus == 431)
    }

    @Test("identical repeated Content-Length values are accepted")
    func repeatedEqualContentLengthsAreAccepted() throws {
        var decoder = decoder()
        let events = decoder.events(after: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok")
        #expect(events.first?.request?.body == Array("ok".utf8))
    }

    @Test("HTTP/1.0 needs no Host header")
    func http10NeedsNoHost() throws {
        var decoder = decoder()
        let request = try #require(decoder.events(after: "GET / HTTP/1.0\r\n\r\n").first?.request)
        #expect(request.version == .http1_0)
        #expect(!request.wantsKeepAlive)
    }

    @Test("HTTP/1.x with a minor version above 1 is served as HTTP/1.1")
    func higherMinorVersionIsAccepted() throws {
        var decoder = decoder()
        let request = try #require(decoder.events(after: "GET / HTTP/1.2\r\nHost: h\r\n\r\n").first?.request)
        #expect(request.version.major == 1)
        #expect(request.wantsKeepAlive)
    }

    @Test("asterisk-form is accepted for OPTIONS and absolute-form for any method")
    func asteriskAndAbsoluteFormsAreAccepted() throws {
        var decoder = decoder()
        let events = decoder.events(after: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\nGET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\nGET https://example.com HTTP/1.1\r\nHost: h\r\n\r\n")
        let requests = events.compactMap(\.request)
        #expect(requests.count == 3)
        #expect(requests[0].path == "*")
        #expect(requests[1].path == "/a/b")
        #expect(requests[1].query == "c=d")
        #expect(requests[2].path == "/")
    }

    @Test("up to four empty lines before a request line are skipped")
    func leadingEmptyLinesAreSkipped() throws {
        var decoder = decoder()
        let events = decoder.events(after: "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(events.first?.request != nil)
    }

    @Test("the phase moves from idle to head to body and back to idle")
    func phaseFollowsTheRequest() throws {
        var decoder = decoder()
        #expect(decoder.phase == .idle)
        _ = decoder.events(after: "POST / HT")
        #expect(decoder.phase == .head)
        #expect(decoder.currentMethod == nil)
        _ = decoder.events(after: "TP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab")
        #expect(decoder.phase == .body)
        #expect(decoder.currentMethod == "POST")
        _ = decoder.events(after: "cd")
        #expect(decoder.phase == .idle)
    }

    @Test("after an error the decoder stays failed")
    func errorsAreSticky() throws {
        var decoder = decoder()
        #expect(decoder.events(after: "get / HTTP/1.1\r\n").last?.errorStatus == 400)
        #expect(decoder.events(after: "GET / HTTP/1.1\r\nHost: h\r\n\r\n").last?.errorStatus == 400)
        #expect(decoder.phase == .failed)
    }

    @Test("each malformed request is refused with its status", arguments: MalformedRequests.all)
    func malformedRequestIsRefused(_ malformed: MalformedRequest) throws {
        var decoder = decoder()
        let events = decoder.events(after: malformed.raw)
        #expect(events.last?.errorStatus == malformed.status, "\(malformed.name)")
        #expect(events.allSatisfy { $0.request == nil })
    }
}
