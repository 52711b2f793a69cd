// Calls the app's handler with a request value, no socket: what the server would hand it, and what it answered.
import Foundation
@testable import SetaAPI
import SetaHTTP

/// Sends requests straight to `SetaApp`, as the HTTP server would after parsing them: first the inline
/// handler (event-loop routes, unknown paths, wrong methods), then the worker handler. A streamed body is
/// collected whole. Framing the server adds on the wire (Date, Content-Length, chunking, HEAD without a
/// body) is not there: tests of those stay end to end on a socket.
enum InProcessClient {
    static func send(_ app: SetaApp, method: String, path: String, headers: [(String, String)] = [],
                     body: [UInt8] = []) throws -> TestResponse {
        let request = HTTPRequest(method: method, target: path, headers: HTTPHeaders(headers), body: body,
                                  remoteAddress: "127.0.0.1")
        let response = app.handleWithoutBlocking(request) ?? app.handle(request)
        var bytes: [UInt8]
        switch response.body {
        case .bytes(let b):
            bytes = b
        case .stream(let produce):
            let sink = CollectingWriter()
            try produce(sink)
            bytes = sink.bytes
        }
        if method == "HEAD" { bytes = [] }
        return TestResponse(status: response.status, headers: response.headers.map { ($0.name, $0.value) }, body: bytes)
    }

    /// A body writer that keeps what it is given (one thread: the test's).
    private final class CollectingWriter: HTTPBodyWriter {
        var bytes: [UInt8] = []
        func write(_ bytes: [UInt8]) throws { self.bytes += bytes }
    }
}

/// A problem+json answer, typed (RFC 9457 plus the per-field `errors`).
struct Problem: Decodable, Equatable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var errors: [FieldError]?

    /// The fields the problem names, in order.
    var fields: [String] { errors?.map(\.field) ?? [] }
}

extension TestResponse {
    /// The body decoded as `T`, with the service's snake_case keys and ISO 8601 dates.
    func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(body))
    }

    /// The body as a problem document; fails the test's `try` when it is not one.
    func problem() throws -> Problem {
        guard header("Content-Type")?.hasPrefix("application/problem+json") == true else {
            throw TestHTTPClient.Failure(description: "not problem+json (status \(status)): \(text.prefix(200))")
        }
        return try decode(Problem.self)
    }
}
