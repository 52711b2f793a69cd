// A minimal blocking HTTP/1.1 client over a real socket, for tests that talk to the live server.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct TestResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object (or array, wrapped under "items").
    var json: [String: Any] {
        guard let v = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else { return [:] }
        if let d = v as? [String: Any] { return d }
        return ["items": v]
    }
}

enum TestHTTPClient {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Sends one request on a fresh connection (`Connection: close`) and reads the whole response.
    static func send(port: Int, method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> TestResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let raw = try exchange(port: port, bytes: Array(head.utf8) + body)
        return try parse(raw, method: method)
    }

    static func exchange(port: Int, bytes: [UInt8], timeoutSeconds: Int = 30) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw Failure(description: "connect() failed: \(errno)") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send() failed: \(errno)") }
            sent += n
        }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { out.append(contentsOf: buf[0..<n]) } else if n == 0 { break } else {
                if errno == EINTR { continue }
                if errno == ECONNRESET { break }
                throw Failure(description: "recv() failed: \(errno)")
            }
        }
        return out
    }

    static func parse(_ raw: [UInt8], method: String) throws -> TestResponse {
        guard let split = find(Array("\r\n\r\n".utf8), in: raw) else {
            throw Failure(description: "no response head in \(raw.count) bytes: \(String(decoding: raw.prefix(200), as: UTF8.self))")
        }
        let head = String(decoding: raw[0..<split], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure(description: "bad status line") }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let c = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<c]), line[line.index(after: c)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(raw[(split + 4)...])
        if method == "HEAD" { body = [] }
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            body = try dechunk(body)
        }
        return TestResponse(status: status, headers: headers, body: body)
    }

    /// The body of a chunked answer, in one pass (an export streams megabytes in many chunks).
    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            guard let lineEnd = find(Array("\r\n".utf8), in: bytes, from: i) else { break }
            let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw Failure(description: "bad chunk size")
            }
            i = lineEnd + 2
            if size == 0 { break }
            out.append(contentsOf: bytes[i..<min(bytes.count, i + size)])
            i += size + 2
        }
        return out
    }

    /// The index of the first `needle` in `hay` at or after `from`.
    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int = 0) -> Int? {
        guard !needle.isEmpty, hay.count >= needle.count, from <= hay.count - needle.count else { return nil }
        for i in from...(hay.count - needle.count) where hay[i] == needle[0] {
            var k = 1
            while k < needle.count && hay[i + k] == needle[k] { k += 1 }
            if k == needle.count { return i }
        }
        return nil
    }
}
