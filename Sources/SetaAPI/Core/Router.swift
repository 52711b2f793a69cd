// Route table: method + path pattern with {parameters}, matching with 404 and 405 (Allow).
import Foundation

/// What a handler returns; turned into bytes by the app.
public enum APIResponse: Sendable {
    case json(status: Int, body: [UInt8], headers: [(String, String)])
    case csv(filename: String?, body: @Sendable (CSVSink) throws -> Void)
    case empty(status: Int, headers: [(String, String)])
    case text(status: Int, contentType: String, body: [UInt8])

    static func json<T: Encodable>(_ value: T, status: Int = 200, headers: [(String, String)] = []) throws -> APIResponse {
        .json(status: status, body: try JSON.encode(value), headers: headers)
    }
}

/// Where a CSV body is written, row by row, so big exports stream.
public protocol CSVSink {
    func row(_ fields: [String]) throws
}

typealias Handler = @Sendable (RequestContext) throws -> APIResponse

struct Route: Sendable {
    enum Segment: Sendable, Equatable { case literal(String), parameter(String) }
    let method: String
    let pattern: String
    let segments: [Segment]
    let requiresAuth: Bool
    /// False for handlers that never block (no database, no file): they run on the HTTP event loop.
    let blocking: Bool
    let handler: Handler
}

struct Router: Sendable {
    private(set) var routes: [Route] = []
    /// Indices into `routes` by segment count, so a match only looks at routes of the right length.
    private var bySegmentCount: [[Int]] = []

    enum Match {
        case found(Route, [String: String])
        case methodNotAllowed([String])
        case notFound
    }

    mutating func add(_ method: String, _ pattern: String, auth: Bool = true, blocking: Bool = true,
                      _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: true).map { s -> Route.Segment in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(String(s))
        }
        routes.append(Route(method: method, pattern: pattern, segments: segments, requiresAuth: auth, blocking: blocking,
                            handler: handler))
        while bySegmentCount.count <= segments.count { bySegmentCount.append([]) }
        bySegmentCount[segments.count].append(routes.count - 1)
    }

    /// `segments` are already percent-decoded. A route with more literal segments beats one with
    /// parameters on the same path (`/v1/progress/entities` before `/v1/progress/{group}`).
    func match(method: String, segments: [String]) -> Match {
        var best: (route: Route, params: [String: String], score: Int)?
        // A few methods at most: an array avoids hashing on every request.
        var allowed: [String] = []
        guard segments.count < bySegmentCount.count else { return .notFound }
        for index in bySegmentCount[segments.count] {
            let route = routes[index]
            guard let (params, score) = Router.bind(route, segments) else { continue }
            if !allowed.contains(route.method) { allowed.append(route.method) }
            if route.method == "GET", !allowed.contains("HEAD") { allowed.append("HEAD") }
            let methodMatches = route.method == method || (method == "HEAD" && route.method == "GET")
            if methodMatches, best == nil || score > best!.score {
                best = (route, params, score)
            }
        }
        if let best { return .found(best.route, best.params) }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed.sorted())
    }

    private static func bind(_ route: Route, _ segments: [String]) -> ([String: String], Int)? {
        var params: [String: String] = [:]
        var score = 0
        for (pattern, actual) in zip(route.segments, segments) {
            switch pattern {
            case .literal(let l):
                guard l == actual else { return nil }
                score += 1
            case .parameter(let name):
                params[name] = actual
            }
        }
        return (params, score)
    }
}
