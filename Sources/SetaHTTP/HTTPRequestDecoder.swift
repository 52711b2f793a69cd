// HTTPRequestDecoder: incremental, strict RFC 9112 parser from received bytes to requests, within the limits.

/// Turns bytes, fed as they arrive, into requests. Pure: no sockets, no clocks, so it is tested from
/// string literals. One decoder serves one connection; after `.request` it continues with any pipelined
/// bytes; after `.error` it stays failed (the connection must be answered and closed).
///
/// Strictness choices (RFC 9112 lets a server pick; this one picks the safe side to avoid
/// request-smuggling ambiguities):
/// - Lines end with CRLF only. A bare LF anywhere in the head, a chunk-size line or trailers → 400.
/// - Up to 4 empty lines before a request line are skipped (§2.2); more → 400.
/// - Request line: exactly `METHOD SP target SP HTTP/d.d`, single spaces. The method must be an
///   uppercase token (lowercase → 400); GET HEAD POST PUT PATCH DELETE OPTIONS are served, other
///   uppercase tokens → 501. Major version other than 1 → 505; `HTTP/1.x` with x > 1 is served as 1.1.
/// - Target: origin-form, `*` for OPTIONS, or absolute-form http(s); visible ASCII only, no `#`,
///   well-formed `%XX` escapes. Anything else → 400.
/// - Header fields: token names with no whitespace before the colon, no obs-fold, values without
///   CTLs (HTAB allowed; bytes ≥ 0x80 allowed as obs-text). HTTP/1.1 needs exactly one Host.
///   Two Authorization fields → 400: which credentials count would be up to each intermediary.
/// - Framing: Transfer-Encoding must be exactly `chunked` (chunked not final or repeated → 400, another
///   coding before it → 501), never with Content-Length, never in HTTP/1.0. Content-Length is 1*DIGIT;
///   repeated identical values are accepted, differing ones → 400. Chunk extensions are ignored and
///   trailers skipped.
public struct HTTPRequestDecoder: Sendable {
    public enum Event: Sendable {
        /// Not enough bytes yet.
        case needMore
        /// The head asked `Expect: 100-continue` and the body has not started: send
        /// `HTTP/1.1 100 Continue` now, then keep feeding. Signalled at most once per request.
        case continueExpected
        case request(HTTPRequest)
        /// The request is malformed or over a limit; answer `status` and close the connection.
        /// `reason` is safe to send and to log: it never quotes header values.
        case error(status: Int, reason: String)
    }

    /// Where the decoder is within the current request; drives the connection's timers.
    public enum Phase: Sendable, Equatable {
        /// No byte of the next request has arrived.
        case idle
        /// Some of the request line or header section has arrived.
        case head
        /// The head is complete and the body is being received.
        case body
        case failed
    }

    private enum State: Sendable {
        case requestLine
        case headerLines
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case failed(status: Int, reason: String)
    }

    private let maxRequestLineBytes: Int
    private let maxHeaderBytes: Int
    private let maxHeaderCount: Int
    private let maxBodyBytes: Int
    private let maxChunkLineBytes: Int

    private var buffer: [UInt8] = []
    /// First unconsumed byte of `buffer`.
    private var readIndex = 0
    /// Where the search for the end of the current line resumes, so a head arriving byte by byte
    /// is scanned once, not once per byte.
    private var scanIndex = 0
    private var state: State = .requestLine

    // The request being decoded.
    private var method = ""
    private var target = ""
    private var version = HTTPVersion.http1_1
    private var headers = HTTPHeaders()
    private var headerBytes = 0
    private var trailerBytes = 0
    private var trailerCount = 0
    private var body: [UInt8] = []
    private var leadingEmptyLines = 0
    private var continuePending = false

    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration()) {
        maxRequestLineBytes = max(16, configuration.maxRequestLineBytes)
        maxHeaderBytes = max(0, configuration.maxHeaderBytes)
        maxHeaderCount = max(0, configuration.maxHeaderCount)
        maxBodyBytes = max(0, configuration.maxBodyBytes)
        maxChunkLineBytes = max(3, configuration.maxChunkLineBytes)
    }

    /// Bytes received and not yet consumed by `next()` (pipelined requests wait here).
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public var phase: Phase {
        switch state {
        case .failed: return .failed
        case .requestLine: return bufferedByteCount == 0 && leadingEmptyLines == 0 ? .idle : .head
        case .headerLines: return .head
        case .fixedBody, .chunkSize, .chunkData, .chunkDataEnd, .trailers: return .body
        }
    }

    /// The method of the request whose head or body is being decoded, once its request line is read.
    public var currentMethod: String? {
        switch state {
        case .requestLine, .failed: return method.isEmpty ? nil : method
        default: return method
        }
    }

    /// The request whose head is complete and whose body is not yet read (method, target, version and
    /// headers; empty body), e.g. to decide on `Expect: 100-continue` before the body is let in.
    public var currentHead: HTTPRequest {
        HTTPRequest(method: method, target: target, version: version, headers: headers)
    }

    /// A field of the head being decoded, as far as it was read (for the server's own error answers).
    public func currentHeader(_ name: String) -> String? {
        headers[name]
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Decodes as far as the buffered bytes allow.
    public mutating func next() -> Event {
        while true {
            switch state {
            case .failed(let status, let reason):
                return .error(status: status, reason: reason)

            case .requestLine:
                switch takeLine(limit: maxRequestLineBytes) {
                case .needMore: return .needMore
                case .tooLong: return fail(414, "request line longer than \(maxRequestLineBytes) bytes")
                case .bareLF: return fail(400, "request line not terminated by CRLF")
                case .line(let range):
                    if let failure = parseRequestLine(range) { return failure }
                }

            case .headerLines:
                let budget = maxHeaderBytes - headerBytes
                switch takeLine(limit: budget) {
                case .needMore: return .needMore
                case .tooLong: return fail(431, "header section larger than \(maxHeaderBytes) bytes")
                case .bareLF: return fail(400, "header line not terminated by CRLF")
                case .line(let range):
                    if range.isEmpty {
                        if let event = finishHead() { return event }
                    } else if let failure = parseHeaderLine(range) {
                        return failure
                    }
                }

            case .fixedBody(let remaining):
                if continuePending {
                    continuePending = false
                    if bufferedByteCount == 0 { return .continueExpected }
                }
                let taken = takeBody(upTo: remaining)
                if taken == remaining { return complete() }
                state = .fixedBody(remaining: remaining - taken)
                return .needMore

            case .chunkSize:
                if continuePending {
                    continuePending = false
                    if bufferedByteCount == 0 { return .continueExpected }
                }
                switch takeLine(limit: maxChunkLineBytes) {
                case .needMore: return .needMore
                case .tooLong: return fail(400, "chunk size line longer than \(maxChunkLineBytes) bytes")
                case .bareLF: return fail(400, "chunk size line not terminated by CRLF")
                case .line(let range):
                    if let failure = parseChunkSize(range) { return failure }
                }

            case .chunkData(let remaining):
                let taken = takeBody(upTo: remaining)
                if taken < remaining {
                    state = .chunkData(remaining: remaining - taken)
                    return .needMore
                }
                state = .chunkDataEnd

            case .chunkDataEnd:
                guard bufferedByteCount >= 1 else { return .needMore }
                guard buffer[readIndex] == Self.cr else { return fail(400, "chunk data not followed by CRLF") }
                guard bufferedByteCount >= 2 else { return .needMore }
                guard buffer[readIndex + 1] == Self.lf else { return fail(400, "chunk data not followed by CRLF") }
                readIndex += 2
                scanIndex = readIndex
                state = .chunkSize

            case .trailers:
                switch takeLine(limit: maxHeaderBytes - trailerBytes) {
                case .needMore: return .needMore
                case .tooLong: return fail(431, "trailer section larger than \(maxHeaderBytes) bytes")
                case .bareLF: return fail(400, "trailer line not terminated by CRLF")
                case .line(let range):
                    if range.isEmpty { return complete() }
                    trailerBytes += range.count + 2
                    trailerCount += 1
                    if trailerCount > maxHeaderCount { return fail(431, "more than \(maxHeaderCount) trailer fields") }
                    // Trailers are skipped, but a CTL in one is still a broken message.
                    if buffer[range].contains(where: { ($0 < 0x20 && $0 != Self.tab) || $0 == 0x7F }) {
                        return fail(400, "invalid character in trailer field")
                    }
                }
            }
        }
    }

    // MARK: - Lines

    private enum LineResult {
        case line(Range<Int>)
        case needMore
        case tooLong
        case bareLF
    }

    /// The next CRLF-terminated line (range without the CRLF), consumed. `limit` counts the CRLF.
    private mutating func takeLine(limit: Int) -> LineResult {
        let end = buffer.count
        var index = scanIndex
        while index < end {
            if buffer[index] == Self.lf {
                if index + 1 - readIndex > limit { return .tooLong }
                guard index > readIndex, buffer[index - 1] == Self.cr else { return .bareLF }
                let range = readIndex..<(index - 1)
                readIndex = index + 1
                scanIndex = readIndex
                return .line(range)
            }
            index += 1
        }
        scanIndex = end
        // Without its LF yet, a line already `limit` bytes long cannot end within the limit.
        if end - readIndex >= limit { return .tooLong }
        return .needMore
    }

    private mutating func takeBody(upTo wanted: Int) -> Int {
        let taken = min(wanted, bufferedByteCount)
        if taken > 0 {
            body.append(contentsOf: buffer[readIndex..<(readIndex + taken)])
            readIndex += taken
            scanIndex = readIndex
        }
        return taken
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 256 * 1024)
        } else if readIndex >= 64 * 1024 || readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
        } else {
            return
        }
        scanIndex -= readIndex
        readIndex = 0
    }

    // MARK: - Head

    private mutating func parseRequestLine(_ range: Range<Int>) -> Event? {
        if range.isEmpty {
            leadingEmptyLines += 1
            return leadingEmptyLines > 4 ? fail(400, "too many empty lines before the request line") : nil
        }
        let malformed = "malformed request line (expected METHOD SP request-target SP HTTP-version)"
        guard let firstSpace = buffer[range].firstIndex(of: Self.space),
              let secondSpace = buffer[(firstSpace + 1)..<range.upperBound].firstIndex(of: Self.space),
              !buffer[(secondSpace + 1)..<range.upperBound].contains(Self.space)
        else { return fail(400, malformed) }
        let methodBytes = buffer[range.lowerBound..<firstSpace]
        let targetBytes = buffer[(firstSpace + 1)..<secondSpace]
        let versionBytes = buffer[(secondSpace + 1)..<range.upperBound]
        guard !methodBytes.isEmpty, !targetBytes.isEmpty, !versionBytes.isEmpty else { return fail(400, malformed) }

        guard methodBytes.allSatisfy(Self.isTokenByte) else { return fail(400, "invalid character in method") }
        guard !methodBytes.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) else {
            return fail(400, "method must be uppercase")
        }

        guard versionBytes.count == 8, versionBytes.starts(with: Self.httpSlash),
              let majorByte = versionBytes.dropFirst(5).first, Self.isDigit(majorByte),
              versionBytes.dropFirst(6).first == Self.dot,
              let minorByte = versionBytes.last, Self.isDigit(minorByte)
        else { return fail(400, "malformed HTTP version") }
        let major = Int(majorByte - 0x30), minor = Int(minorByte - 0x30)
        guard major == 1 else { return fail(505, "only HTTP/1.0 and HTTP/1.1 are supported") }

        method = String(decoding: methodBytes, as: UTF8.self)
        version = HTTPVersion(major: 1, minor: minor)
        guard Self.servedMethods.contains(method) else { return fail(501, "method not implemented") }
        if let failure = validateTarget(targetBytes) { return failure }
        target = String(decoding: targetBytes, as: UTF8.self)
        state = .headerLines
        return nil
    }

    private mutating func validateTarget(_ bytes: ArraySlice<UInt8>) -> Event? {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte <= Self.space || byte >= 0x7F {
                return fail(400, "invalid character in request-target")
            }
            if byte == Self.hash { return fail(400, "fragment in request-target") }
            if byte == Self.percent {
                guard index + 2 < bytes.endIndex, Self.hexValue(bytes[index + 1]) != nil,
                      Self.hexValue(bytes[index + 2]) != nil
                else { return fail(400, "invalid percent-encoding in request-target") }
                index += 2
            }
            index += 1
        }
        if bytes.first == Self.slash { return nil }
        if bytes.count == 1 && bytes.first == Self.asterisk {
            return method == "OPTIONS" ? nil : fail(400, "asterisk-form request-target is only for OPTIONS")
        }
        // absolute-form (RFC 9112 §3.2.2): servers must accept it; only http(s) makes sense here.
        let lowered = bytes.map(HTTPHeaders.asciiLowercased)
        for scheme in [Self.httpScheme, Self.httpsScheme] where lowered.starts(with: scheme) {
            let authority = lowered.dropFirst(scheme.count).prefix { $0 != Self.slash && $0 != Self.question }
            return authority.isEmpty || authority.contains(Self.at)
                ? fail(400, "invalid authority in absolute-form request-target") : nil
        }
        return fail(400, "request-target must be in origin-form")
    }

    private mutating func parseHeaderLine(_ range: Range<Int>) -> Event? {
        headerBytes += range.count + 2
        let first = buffer[range.lowerBound]
        if first == Self.space || first == Self.tab {
            return fail(400, headers.isEmpty
                ? "whitespace before the first header field" : "obsolete line folding in header section")
        }
        guard let colon = buffer[range].firstIndex(of: Self.colon) else {
            return fail(400, "header field without a colon")
        }
        let nameBytes = buffer[range.lowerBound..<colon]
        guard !nameBytes.isEmpty else { return fail(400, "empty header field name") }
        for byte in nameBytes where !Self.isTokenByte(byte) {
            return byte == Self.space || byte == Self.tab
                ? fail(400, "whitespace between header field name and colon")
                : fail(400, "invalid character in header field name")
        }
        var valueStart = colon + 1, valueEnd = range.upperBound
        while valueStart < valueEnd, buffer[valueStart] == Self.space || buffer[valueStart] == Self.tab {
            valueStart += 1
        }
        while valueEnd > valueStart, buffer[valueEnd - 1] == Self.space || buffer[valueEnd - 1] == Self.tab {
            valueEnd -= 1
        }
        let valueBytes = buffer[valueStart..<valueEnd]
        for byte in valueBytes where (byte < 0x20 && byte != Self.tab) || byte == 0x7F {
            return fail(400, "invalid character in header field value")
        }
        guard headers.count < maxHeaderCount else { return fail(431, "more than \(maxHeaderCount) header fields") }
        headers.add(String(decoding: nameBytes, as: UTF8.self), String(decoding: valueBytes, as: UTF8.self))
        return nil
    }

    private enum Framing {
        case none
        case length(Int)
        case chunked
    }

    /// Checks the head as a whole and sets up body decoding; returns an event to hand out, if any.
    private mutating func finishHead() -> Event? {
        let isHTTP11 = version.minor >= 1

        let hosts = headers.values(for: "Host")
        if hosts.count > 1 { return fail(400, "more than one Host header field") }
        if isHTTP11 && hosts.isEmpty { return fail(400, "missing Host header field") }
        if let host = hosts.first, host.utf8.contains(where: Self.forbiddenInHost.contains) {
            return fail(400, "invalid Host header field")
        }

        if headers.count(of: "Authorization") > 1 {
            return fail(400, "more than one Authorization header field")
        }

        let framing: Framing
        // `contains` first: most requests have neither field, and `values(for:)` builds an array.
        let transferEncodings = headers.contains("Transfer-Encoding") ? headers.values(for: "Transfer-Encoding") : []
        let contentLengths = headers.contains("Content-Length") ? headers.values(for: "Content-Length") : []
        if !transferEncodings.isEmpty {
            if !isHTTP11 { return fail(400, "Transfer-Encoding in an HTTP/1.0 request") }
            if !contentLengths.isEmpty { return fail(400, "both Content-Length and Transfer-Encoding") }
            let codings = transferEncodings
                .flatMap { $0.split(separator: ",") }
                .map { HTTPHeaders.trimmed($0).lowercased() }
                .filter { !$0.isEmpty }
            guard codings.last == "chunked" else { return fail(400, "chunked is not the final transfer coding") }
            if codings.count > 1 {
                return codings.dropLast().contains("chunked")
                    ? fail(400, "chunked transfer coding applied more than once")
                    : fail(501, "unsupported transfer coding")
            }
            framing = .chunked
        } else if !contentLengths.isEmpty {
            var length: Int?
            for value in contentLengths {
                for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let digits = HTTPHeaders.trimmed(element).utf8
                    guard !digits.isEmpty, digits.allSatisfy(Self.isDigit) else {
                        return fail(400, "invalid Content-Length")
                    }
                    var parsed = 0
                    for digit in digits {
                        // Anything past the body limit is answered 413 anyway; saturate instead of overflowing.
                        parsed = parsed > maxBodyBytes ? parsed : parsed * 10 + Int(digit - 0x30)
                    }
                    if let length, length != parsed { return fail(400, "conflicting Content-Length values") }
                    length = parsed
                }
            }
            let declared = length ?? 0
            if declared > maxBodyBytes { return fail(413, "body larger than \(maxBodyBytes) bytes") }
            framing = declared > 0 ? .length(declared) : .none
        } else {
            framing = .none
        }

        // Expect is ignored in HTTP/1.0 requests (RFC 9110 §10.1.1).
        var expectsContinue = false
        let expectations = headers.contains("Expect") ? headers.values(for: "Expect") : []
        if isHTTP11 && !expectations.isEmpty {
            let tokens = expectations.flatMap { $0.split(separator: ",") }.map { HTTPHeaders.trimmed($0) }
            guard tokens.allSatisfy({ HTTPHeaders.namesEqual($0, "100-continue") }) else {
                return fail(417, "only the 100-continue expectation is supported")
            }
            expectsContinue = true
        }

        switch framing {
        case .none:
            return complete()
        case .length(let length):
            body.reserveCapacity(length)
            state = .fixedBody(remaining: length)
        case .chunked:
            state = .chunkSize
        }
        continuePending = expectsContinue
        return nil
    }

    // MARK: - Chunked body

    private mutating func parseChunkSize(_ range: Range<Int>) -> Event? {
        var index = range.lowerBound
        var size = 0
        while index < range.upperBound, let digit = Self.hexValue(buffer[index]) {
            // Saturate: any size past the body limit is answered 413.
            size = size > maxBodyBytes ? size : size * 16 + digit
            index += 1
        }
        guard index > range.lowerBound else { return fail(400, "invalid chunk size") }
        if index < range.upperBound {
            // Only optional whitespace then `;` extensions may follow; extensions are ignored.
            while index < range.upperBound, buffer[index] == Self.space || buffer[index] == Self.tab { index += 1 }
            guard index < range.upperBound, buffer[index] == Self.semicolon else {
                return fail(400, "invalid chunk size")
            }
            if buffer[index..<range.upperBound].contains(where: { ($0 < 0x20 && $0 != Self.tab) || $0 == 0x7F }) {
                return fail(400, "invalid character in chunk extension")
            }
        }
        if size == 0 {
            state = .trailers
            trailerBytes = 0
            trailerCount = 0
            return nil
        }
        if size > maxBodyBytes - body.count { return fail(413, "body larger than \(maxBodyBytes) bytes") }
        state = .chunkData(remaining: size)
        return nil
    }

    // MARK: - Outcomes

    private mutating func complete() -> Event {
        var completed = [UInt8]()
        swap(&completed, &body)
        let request = HTTPRequest(method: method, target: target, version: version, headers: headers, body: completed)
        method = ""
        target = ""
        headers = HTTPHeaders()
        headerBytes = 0
        leadingEmptyLines = 0
        continuePending = false
        state = .requestLine
        return .request(request)
    }

    private mutating func fail(_ status: Int, _ reason: String) -> Event {
        state = .failed(status: status, reason: reason)
        return .error(status: status, reason: reason)
    }

    // MARK: - Bytes

    static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, space: UInt8 = 0x20, tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A, semicolon: UInt8 = 0x3B, slash: UInt8 = 0x2F, dot: UInt8 = 0x2E
    static let hash: UInt8 = 0x23, percent: UInt8 = 0x25, asterisk: UInt8 = 0x2A, question: UInt8 = 0x3F
    static let at: UInt8 = 0x40
    static let httpSlash = Array("HTTP/".utf8)
    static let httpScheme = Array("http://".utf8)
    static let httpsScheme = Array("https://".utf8)
    static let servedMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    /// Bytes that cannot appear in a host[:port] (whitespace, list separator, path, userinfo).
    static let forbiddenInHost: Set<UInt8> = [0x20, 0x09, 0x2C, 0x2F, 0x3F, 0x23, 0x40, 0x5C]

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }

    /// tchar of RFC 9110 §5.6.2.
    static func isTokenByte(_ byte: UInt8) -> Bool { tokenTable[Int(byte)] }

    private static let tokenTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        if isDigit(byte) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) { return true }
        return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
    }
}
