// The application: routes every HTTP request (inline or on a worker), gates request bodies, authenticates, maps errors to problem+json, logs and measures.
import Foundation
import SetaDatabase
import SetaFormats
import SetaHTTP

public struct AppConfiguration: Sendable {
    /// The service's clock; tests replace it to control "now" (timeliness, future periods).
    public var clock: @Sendable () -> Date = { Date() }
    public var log: Log = Log()
    /// Page size limits for list routes.
    public var defaultPageSize = 100
    public var maxPageSize = 1000
    public var version = SetaVersion.current
    public init() {}
}

public enum SetaVersion {
    public static let current = "0.1.0"
}

public final class SetaApp: Sendable {
    public let pool: ConnectionPool
    public let configuration: AppConfiguration
    let metrics = Metrics()
    /// Callers and current catalogs verified before, re-checked inside guarded statements (`StatementGuard`).
    let principalHints = PrincipalHints()
    let catalogHints = CatalogHints()
    let router: Router
    /// Given by whoever runs the HTTP server, for /metrics.
    public let openConnections: @Sendable () -> Int
    /// Checked by /readyz: migrations still pending (empty when current).
    public let pendingMigrations: @Sendable () throws -> [String]

    public init(pool: ConnectionPool, configuration: AppConfiguration = AppConfiguration(),
                pendingMigrations: @escaping @Sendable () throws -> [String] = { [] },
                openConnections: @escaping @Sendable () -> Int = { 0 }) {
        self.pool = pool
        self.configuration = configuration
        self.pendingMigrations = pendingMigrations
        self.openConnections = openConnections
        var r = Router()
        OperationsRoutes.register(&r)
        CatalogRoutes.register(&r)
        TerritoryRoutes.register(&r)
        PeopleRoutes.register(&r)
        ReportRoutes.register(&r)
        ProgressRoutes.register(&r)
        CutRoutes.register(&r)
        ScheduleRoutes.register(&r)
        AgendaRoutes.register(&r)
        MeRoutes.register(&r)
        AuditRoutes.register(&r)
        GroupSetRoutes.register(&r)
        router = r
    }

    /// Every registered (method, pattern), for the contract check against openapi.yaml.
    public var registeredRoutes: [(method: String, pattern: String)] {
        router.routes.map { ($0.method, $0.pattern) }
    }

    /// The HTTP handler (on a worker thread; may block on the database).
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        respond(to: request, onEventLoop: false)!
    }

    /// The HTTP server's inline handler: answers on the event loop what needs no database (routes
    /// registered `blocking: false`, unknown paths, wrong methods, malformed paths); nil sends the
    /// request to `handle` on a worker.
    public func handleWithoutBlocking(_ request: HTTPRequest) -> HTTPResponse? {
        respond(to: request, onEventLoop: true)
    }

    private func respond(to request: HTTPRequest, onEventLoop: Bool) -> HTTPResponse? {
        let started = DispatchTime.now().uptimeNanoseconds
        let lookup = Result { try SetaApp.route(for: request, in: router) }
        if onEventLoop, case .success(let found) = lookup, found.route.blocking { return nil }
        let requestId = HTTPRequestID.echoing(request.headers[HTTPRequestID.headerName])
        let context = RequestContext(request: request, requestId: requestId, app: self)
        var routeName = "unmatched"
        var response: HTTPResponse
        do {
            let (route, params) = try lookup.get()
            routeName = route.pattern
            context.pathParameters = params
            if route.requiresAuth {
                if route.verifiesCaller, let token = Auth.bearer(from: context.request.headers["Authorization"]),
                   let hint = principalHints.get(token, now: context.now) {
                    context.principal = hint
                    context.principalFromHint = token
                } else {
                    context.principal = try Auth.authenticate(context)
                }
            }
            // The one place query parameters are checked: a typo or a repeat is refused, never ignored.
            try QueryParameter.check(context.queryItems, declared: route.query)
            // The caller is the change log's actor for every transaction the handler opens (audit_log).
            response = try TransactionActor.$personId.withValue(context.principal?.personId) {
                try render(route.handler(context), context: context)
            }
        } catch {
            response = problemResponse(for: error, context: context)
        }
        return finish(response, to: request, requestId: requestId, route: routeName, started: started)
    }

    /// The HTTP server's body permission (issue 14): a request that sent `Expect: 100-continue` gets
    /// `100 Continue` only if its route exists and, when the route needs one, its token is valid.
    /// Otherwise the final 4xx (logged and counted like any answer) goes out at once. Role and scope
    /// checks stay in the handlers, which need the body's contents.
    public func mayReadBody(_ head: HTTPRequest) -> HTTPResponse? {
        let started = DispatchTime.now().uptimeNanoseconds
        let requestId = HTTPRequestID.echoing(head.headers[HTTPRequestID.headerName])
        let context = RequestContext(request: head, requestId: requestId, app: self)
        var routeName = "unmatched"
        do {
            let (route, _) = try SetaApp.route(for: head, in: router)
            routeName = route.pattern
            if route.requiresAuth { _ = try Auth.authenticate(context) }
            return nil
        } catch {
            return finish(problemResponse(for: error, context: context), to: head, requestId: requestId,
                          route: routeName, started: started)
        }
    }

    /// The HTTP server's own error answers (malformed request, limits, timeouts, overload): logged
    /// and counted like the application's, under route `(http)`, with the X-Request-Id they carried.
    public func recordServerError(_ event: HTTPErrorResponseEvent) {
        let method = event.method.map { SetaApp.knownMethods.contains($0) ? $0 : "other" } ?? "-"
        metrics.record(route: "(http)", method: method, status: event.status, seconds: 0)
        configuration.log.request(level: "warn", requestId: event.requestId, method: method, route: "(http)",
                                  status: event.status, durationMs: 0, detail: event.reason)
    }

    /// Methods kept as metric labels; anything else is `other` (labels must stay few).
    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// The route for `request`: 404 for an unknown path, 405 (with Allow) for a wrong method, 400 for
    /// a malformed path or two Authorization fields (which credentials would count is ambiguous).
    static func route(for request: HTTPRequest, in router: Router) throws -> (route: Route, params: [String: String]) {
        if request.headers.count(of: "Authorization") > 1 {
            throw APIError.badRequest("La solicitud trae más de un encabezado Authorization.", field: "Authorization")
        }
        let segments = try pathSegments(request.path)
        switch router.match(method: request.method, segments: segments) {
        case .notFound:
            throw APIError.notFound("No existe el recurso \(request.path).")
        case .methodNotAllowed(let allowed):
            throw APIError(status: 405,
                           detail: "El método \(request.method) no se admite aquí; use \(allowed.joined(separator: ", ")).",
                           headers: [("Allow", allowed.joined(separator: ", "))])
        case .found(let route, let params):
            return (route, params)
        }
    }

    /// Stamps the request id, then counts and logs the answer: one log line per request.
    private func finish(_ response: HTTPResponse, to request: HTTPRequest, requestId: String, route: String,
                        started: UInt64) -> HTTPResponse {
        var response = response
        response.headers.set(HTTPRequestID.headerName, requestId)
        if request.method == "HEAD", case .stream = response.body { response.body = .bytes([]) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        metrics.record(route: route, method: request.method, status: response.status, seconds: seconds)
        configuration.log.request(requestId: requestId, method: request.method, route: route,
                                  status: response.status, durationMs: (seconds * 1e5).rounded() / 100)
        return response
    }

    /// Characters in one path segment (openapi.yaml says the same of every path parameter).
    static let maxPathSegmentLength = 200

    static func pathSegments(_ path: String) throws -> [String] {
        guard path.hasPrefix("/") else { throw APIError.badRequest("Ruta inválida.", field: "path") }
        // Split on the bytes: splitting the String itself walks grapheme clusters, which cost more than
        // the rest of routing.
        return try path.utf8.split(separator: 0x2F, omittingEmptySubsequences: true).map { bytes in
            let raw = Substring(bytes)
            // Without `%` there is nothing to decode (the common case: no Foundation call per segment).
            if bytes.count <= 200, !bytes.contains(where: { $0 == 0x25 || $0 < 0x20 || $0 == 0x7F }) {
                return String(raw)
            }
            guard let decoded = raw.removingPercentEncoding,
                  !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }),
                  decoded.unicodeScalars.count <= SetaApp.maxPathSegmentLength else {
                throw APIError.badRequest("La ruta tiene caracteres inválidos.", field: "path")
            }
            return decoded
        }
    }

    private func render(_ response: APIResponse, context: RequestContext) throws -> HTTPResponse {
        switch response {
        case .json(let status, let body, let headers):
            if context.wantsTable, status == 200, let table = JSONToTable.table(body) {
                return try render(.table(filename: "datos") { sink in
                    try sink.header(table.header)
                    for row in table.rows { try sink.row(row) }
                }, context: context)
            }
            var h = HTTPHeaders([("Content-Type", "application/json; charset=utf-8")])
            for (k, v) in headers { h.add(k, v) }
            return HTTPResponse(status: status, headers: h, body: .bytes(body))
        case .empty(let status, let headers):
            return HTTPResponse(status: status, headers: HTTPHeaders(headers), body: .bytes([]))
        case .text(let status, let contentType, let body):
            return HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: .bytes(body))
        case .table(let filename, let produce):
            // A table answer is always 200; a bad `locale`/`lang` is refused before anything streams.
            let export = try TableExport.requested(by: context) ?? TableExport(format: .csv(.rfc4180), spanish: false)
            let h = HTTPHeaders([("Content-Type", export.contentType),
                                 ("Content-Disposition", "attachment; filename=\"\(filename).\(export.fileExtension)\"")])
            let modified = context.now
            return HTTPResponse(status: 200, headers: h, body: .stream({ writer in
                try export.write(to: writer, sheetName: filename, modified: modified, produce)
            }))
        }
    }
}
