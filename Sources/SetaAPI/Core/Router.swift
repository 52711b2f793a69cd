// Route table: method + path pattern with {parameters}, matching with 404 and 405 (Allow).
import Foundation
import SetaFormats

/// What a handler returns; turned into bytes by the app.
public enum APIResponse: Sendable {
    case json(status: Int, body: [UInt8], headers: [(String, String)])
    /// A table export (CSV or XLSX, as the client asked): `filename` without extension; `body` writes the
    /// sheets through the sink while the answer streams.
    case table(filename: String, body: @Sendable (TableSink) throws -> Void)
    case empty(status: Int, headers: [(String, String)])
    case text(status: Int, contentType: String, body: [UInt8])

    static func json<T: Encodable>(_ value: T, status: Int = 200, headers: [(String, String)] = []) throws -> APIResponse {
        .json(status: status, body: try JSON.encode(value), headers: headers)
    }
}

typealias Handler = @Sendable (RequestContext) throws -> APIResponse

struct Route: Sendable {
    enum Segment: Sendable, Equatable { case literal(String), parameter(String) }
    let method: String
    let pattern: String
    let segments: [Segment]
    let requiresAuth: Bool
    let handler: Handler
}

struct Router: Sendable {
    private(set) var routes: [Route] = []

    enum Match {
        case found(Route, [String: String])
        case methodNotAllowed([String])
        case notFound
    }

    mutating func add(_ method: String, _ pattern: String, auth: Bool = true, _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: true).map { s -> Route.Segment in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(String(s))
        }
        routes.append(Route(method: method, pattern: pattern, segments: segments, requiresAuth: auth, handler: handler))
    }

    /// `segments` are already percent-decoded. A route with more literal segments beats one with
    /// parameters on the same path (`/v1/progress/entities` before `/v1/progress/{group}`).
    func match(method: String, segments: [String]) -> Match {
        var best: (route: Route, params: [String: String], score: Int)?
        var allowed = Set<String>()
        for route in routes where route.segments.count == segments.count {
            guard let (params, score) = Router.bind(route, segments) else { continue }
            allowed.insert(route.method)
            if route.method == "GET" { allowed.insert("HEAD") }
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
