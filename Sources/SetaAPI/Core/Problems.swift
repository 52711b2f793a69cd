// The one mapping from errors to problem+json: APIError from routes, StoreError from stores, DatabaseError from PostgreSQL.
import Foundation
import SetaDatabase
import SetaHTTP

extension SetaApp {
    /// The problem+json answer for whatever a handler threw.
    func problemResponse(for error: any Error, context: RequestContext) -> HTTPResponse {
        let apiError = SetaApp.problem(for: error, requestId: context.requestId, log: configuration.log)
        var headers = HTTPHeaders([("Content-Type", "application/problem+json")])
        for (k, v) in apiError.headers { headers.add(k, v) }
        let body = (try? JSON.encode(apiError.problem(instance: "urn:seta:request:\(context.requestId)"))) ?? []
        return HTTPResponse(status: apiError.status, headers: headers, body: .bytes(body))
    }

    static func problem(for error: any Error, requestId: String, log: Log) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as StoreError:
            return problem(for: e)
        case let e as DatabaseError:
            return map(e, requestId: requestId, log: log)
        default:
            log.event("error", "unhandled error", ["request_id": requestId, "error": String(describing: error)])
            return APIError(status: 500, detail: "Error interno. Cite el identificador \(requestId) al reportarlo.")
        }
    }

    /// A store's refusal, as HTTP sees it.
    static func problem(for e: StoreError) -> APIError {
        let status: Int
        switch e.kind {
        case .notFound: status = 404
        case .forbidden: status = 403
        case .invalid: status = 422
        case .locked: status = 423
        case .stale: status = 412
        case .conflict: status = 409
        }
        return APIError(status: status, detail: e.detail, errors: e.errors)
    }

    /// The request field a refused constraint speaks of, derived by PostgreSQL's naming convention instead
    /// of a list of tables: a constraint named `<table>_<column>_check` (or `_fkey`, `_not_null`) names its
    /// column once the table the error reports (and the suffix) are taken off (`plans_name_check` → `name`),
    /// for every table, present and future. A constraint named otherwise is given as it is; none: nil.
    static func field(for e: DatabaseError) -> String? {
        guard var c = e.constraint, !c.isEmpty else { return nil }
        for suffix in ["_check", "_fkey", "_not_null"] where c.hasSuffix(suffix) {
            c.removeLast(suffix.count)
            break
        }
        if let table = e.table, !table.isEmpty, c.hasPrefix(table + "_") { c.removeFirst(table.count + 1) }
        return c
    }

    static func map(_ e: DatabaseError, requestId: String, log: Log) -> APIError {
        if e.isUnavailable {
            log.event("warn", "database unavailable", ["request_id": requestId, "error": e.debugDescription])
            return .unavailable()
        }
        if e.isUniqueViolation {
            return .conflict("El recurso ya existe (conflicto de unicidad).")
        }
        if e.isSerializationFailure {
            return APIError(status: 503, detail: "Conflicto de concurrencia; intente de nuevo.",
                            headers: [("Retry-After", "1")])
        }
        if e.isCheckViolation || e.isForeignKeyViolation || e.sqlState == "23502" {
            // A rule the database enforces (length, range, reference): name the field from the constraint
            // so the client can fix it; nothing was written.
            let field = SetaApp.field(for: e) ?? "body"
            return .invalid(field: field, "Un valor no cumple una regla del modelo de datos (\(field)).")
        }
        if let state = e.sqlState, state.hasPrefix("22") {
            return .badRequest("Un valor de la solicitud no es válido para la base de datos.")
        }
        log.event("error", "database error", ["request_id": requestId, "error": e.debugDescription])
        return APIError(status: 500, detail: "Error interno. Cite el identificador \(requestId) al reportarlo.")
    }
}
