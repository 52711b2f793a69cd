// The application: routes every HTTP request, authenticates, maps errors to problem+json, logs and measures.
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

public final class SetaApp: @unchecked Sendable {
    public let pool: ConnectionPool
    public let configuration: AppConfiguration
    let metrics = Metrics()
    private(set) var router = Router()
    /// Set by whoever runs the HTTP server, for /metrics.
    public var openConnections: @Sendable () -> Int = { 0 }
    /// Checked by /readyz: migrations still pending (empty when current).
    public var pendingMigrations: @Sendable () throws -> [String] = { [] }

    public init(pool: ConnectionPool, configuration: AppConfiguration = AppConfiguration()) {
        self.pool = pool
        self.configuration = configuration
        var r = Router()
        OperationsRoutes.register(&r)
        CatalogRoutes.register(&r)
        TerritoryRoutes.register(&r)
        PeopleRoutes.register(&r)
        ReportRoutes.register(&r)
        ProgressRoutes.register(&r)
        CutRoutes.register(&r)
        router = r
    }

    /// Every registered (method, pattern), for the contract check against openapi.yaml.
    public var registeredRoutes: [(method: String, pattern: String)] {
        router.routes.map { ($0.method, $0.pattern) }
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let started = DispatchTime.now().uptimeNanoseconds
        let requestId = SetaApp.requestId(from: request.headers["X-Request-Id"])
        let context = RequestContext(request: request, requestId: requestId, app: self)
        var routeName = "unmatched"
        var response: HTTPResponse
        do {
            let segments = try SetaApp.pathSegments(request.path)
            switch router.match(method: request.method, segments: segments) {
            case .notFound:
                throw APIError.notFound("No existe el recurso \(request.path).")
            case .methodNotAllowed(let allowed):
                throw APIError(status: 405, title: "Method Not Allowed",
                               detail: "El método \(request.method) no se admite aquí; use \(allowed.joined(separator: ", ")).",
                               headers: [("Allow", allowed.joined(separator: ", "))])
            case .found(let route, let params):
                routeName = route.pattern
                context.pathParameters = params
                if route.requiresAuth {
                    context.principal = try Auth.authenticate(context)
                }
                response = try render(route.handler(context), context: context)
            }
        } catch {
            response = problemResponse(for: error, context: context)
        }
        response.headers.set("X-Request-Id", requestId)
        if request.method == "HEAD", case .stream = response.body { response.body = .bytes([]) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        metrics.record(route: routeName, method: request.method, status: response.status, seconds: seconds)
        configuration.log.event("info", "request", [
            "request_id": requestId, "method": request.method, "route": routeName,
            "status": response.status, "duration_ms": (seconds * 1e5).rounded() / 100,
        ])
        return response
    }

    static func requestId(from header: String?) -> String {
        if let h = header, (1...64).contains(h.utf8.count),
           h.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }),
           h.allSatisfy({ $0.isASCII }) {
            return h
        }
        var g = SystemRandomNumberGenerator()
        return String(format: "%016llx", g.next() as UInt64)
    }

    static func pathSegments(_ path: String) throws -> [String] {
        guard path.hasPrefix("/") else { throw APIError.badRequest("Ruta inválida.", field: "path") }
        return try path.split(separator: "/", omittingEmptySubsequences: true).map { raw in
            guard let decoded = raw.removingPercentEncoding,
                  !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }),
                  decoded.utf8.count <= 200 else {
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

    func problemResponse(for error: any Error, context: RequestContext) -> HTTPResponse {
        let apiError: APIError
        switch error {
        case let e as APIError:
            apiError = e
        case let e as DatabaseError:
            apiError = SetaApp.map(e, context: context, log: configuration.log)
        default:
            configuration.log.event("error", "unhandled error", ["request_id": context.requestId, "error": String(describing: error)])
            apiError = APIError(status: 500, title: "Internal Server Error",
                                detail: "Error interno. Cite el identificador \(context.requestId) al reportarlo.")
        }
        var headers = HTTPHeaders([("Content-Type", "application/problem+json")])
        for (k, v) in apiError.headers { headers.add(k, v) }
        let body = (try? JSON.encode(apiError.problem(instance: "urn:seta:request:\(context.requestId)"))) ?? []
        return HTTPResponse(status: apiError.status, headers: headers, body: .bytes(body))
    }

    static func field(fromConstraint constraint: String?) -> String? {
        guard var c = constraint, !c.isEmpty else { return nil }
        for suffix in ["_check", "_fkey", "_not_null"] where c.hasSuffix(suffix) { c.removeLast(suffix.count) }
        let tables = ["plan_milestones_", "plan_phases_", "plan_stages_", "plan_versions_", "plans_", "people_", "regions_",
                      "partners_", "cuts_", "asesorias_", "assignments_", "enrollments_", "report_milestones_", "reports_",
                      "period_locks_", "entities_", "tokens_"]
        for t in tables where c.hasPrefix(t) { c.removeFirst(t.count); break }
        return c
    }

    static func map(_ e: DatabaseError, context: RequestContext, log: Log) -> APIError {
        if e.isUnavailable {
            log.event("warn", "database unavailable", ["request_id": context.requestId, "error": e.debugDescription])
            return .unavailable()
        }
        if e.isUniqueViolation {
            return .conflict("El recurso ya existe (conflicto de unicidad).")
        }
        if e.isSerializationFailure {
            return APIError(status: 503, title: "Service Unavailable", detail: "Conflicto de concurrencia; intente de nuevo.",
                            headers: [("Retry-After", "1")])
        }
        if e.isCheckViolation || e.isForeignKeyViolation || e.sqlState == "23502" {
            // A rule the database enforces (length, range, reference): name the field from the constraint
            // (`plans_name_check` → `name`) so the client can fix it; nothing was written.
            let field = SetaApp.field(fromConstraint: e.constraint) ?? "body"
            return .invalid(field: field, "Un valor no cumple una regla del modelo de datos (\(field)).")
        }
        if let state = e.sqlState, state.hasPrefix("22") {
            return .badRequest("Un valor de la solicitud no es válido para la base de datos.")
        }
        log.event("error", "database error", ["request_id": context.requestId, "error": e.debugDescription])
        return APIError(status: 500, title: "Internal Server Error",
                        detail: "Error interno. Cite el identificador \(context.requestId) al reportarlo.")
    }
}
