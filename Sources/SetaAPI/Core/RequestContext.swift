// One request as handlers see it: path and query parameters, body decoding, the caller, content negotiation.
import Foundation
import SetaDomain
import SetaHTTP
import SetaDatabase

/// The roles of SPEC "The people": asesor, coordinador/articulador regional, equipo central, lector.
public enum Role: String, Codable, Sendable, CaseIterable {
    case advisor, coordinator, central, viewer
}

/// The authenticated caller.
public struct Principal: Sendable {
    public var personId: Int64
    public var name: String
    public var role: Role
    public var partnerCode: String?
    public var limitedToPartner: Bool
    public var regions: [String]
    public var tokenId: Int64
}

/// Not Sendable: a context is made for one request by `SetaApp.respond` and used by that request's handler
/// on the thread running it; the compiler keeps it from being shared.
public final class RequestContext {
    public let request: HTTPRequest
    public let requestId: String
    let app: SetaApp
    var pathParameters: [String: String] = [:]
    var principal: Principal?
    /// The token whose earlier verification `principal` comes from; nil when this request looked it up.
    var principalFromHint: String?
    private(set) lazy var queryItems: [(String, String)] = RequestContext.parseQuery(request.query)

    init(request: HTTPRequest, requestId: String, app: SetaApp) {
        self.request = request
        self.requestId = requestId
        self.app = app
    }

    var db: ConnectionPool { app.pool }
    var now: Date { app.configuration.clock() }

    /// The caller; routes that need one are only reached with it set.
    var caller: Principal {
        get throws {
            guard let principal else { throw APIError.unauthorized() }
            return principal
        }
    }

    func param(_ name: String) -> String { pathParameters[name] ?? "" }

    /// Runs a read whose statements carry a `StatementGuard`: the caller (from a hint or this request's
    /// lookup) and the plan named by `plan` at the version last seen. In the steady state that is one round
    /// trip in all; when a hint went stale the caller and catalog are looked up again and `body` runs once more.
    func guardedRead<T>(_ body: (Connection, StatementGuard, PlanCatalog) throws -> T) throws -> T {
        let code = try requiredQuery("plan")
        for attempt in 0..<3 {
            do {
                return try db.withConnection { conn -> T in
                    let hint: (catalog: PlanCatalog, stamp: String)
                    if let known = app.catalogHints.get(code) {
                        hint = known
                    } else {
                        hint = try CatalogStore.currentCatalogStamped(conn, code: code)
                        app.catalogHints.put(code, hint)
                    }
                    let g = StatementGuard(token: principalFromHint, principal: try caller, now: now, plan: code,
                                           version: hint.catalog.version, versionStamp: hint.stamp)
                    return try body(conn, g, hint.catalog)
                }
            } catch is StaleHint where attempt < 2 {
                app.catalogHints.drop(code)
                if principalFromHint != nil {
                    principalFromHint = nil
                    principal = try Auth.authenticate(self)
                }
            }
        }
        throw APIError.unavailable("Los datos cambiaron durante la consulta; intente de nuevo.")
    }

    static func parseQuery(_ query: String?) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? "\u{FFFD}invalid"
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// A query parameter: declared for the route, given once, not empty and of its declared form
    /// (QueryParameter.check ran before the handler).
    func query(_ name: String) throws -> String? {
        queryItems.first(where: { $0.0 == name })?.1
    }

    func requiredQuery(_ name: String) throws -> String {
        guard let v = try query(name), !v.isEmpty else {
            throw APIError.badRequest("Falta el parámetro obligatorio `\(name)`.", field: name)
        }
        return v
    }

    func period(_ name: String, required: Bool = true, default fallback: Period? = nil) throws -> Period? {
        guard let text = try query(name), !text.isEmpty else {
            if required && fallback == nil {
                throw APIError.badRequest("Falta el parámetro obligatorio `\(name)` (un mes AAAA-MM).", field: name)
            }
            return fallback
        }
        guard let p = Period(text) else {
            throw APIError.badRequest("`\(name)` debe ser un mes AAAA-MM; se recibió «\(text)».", field: name)
        }
        return p
    }

    func intQuery(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = try query(name), !text.isEmpty else { return fallback }
        guard let v = Int(text), range.contains(v) else {
            throw APIError.badRequest("`\(name)` debe ser un entero entre \(range.lowerBound) y \(range.upperBound).", field: name)
        }
        return v
    }

    func boolQuery(_ name: String, default fallback: Bool = false) throws -> Bool {
        guard let text = try query(name), !text.isEmpty else { return fallback }
        switch text {
        case "true": return true
        case "false": return false
        default: throw APIError.badRequest("`\(name)` debe ser true o false.", field: name)
        }
    }

    /// Decodes a JSON body after checking its media type.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try requireBody({ $0 == "application/json" || $0.hasSuffix("+json") }, expected: "application/json")
        return try JSON.decode(T.self, from: request.body)
    }

    /// Refuses (415) a body whose media type `accepts` does not take, or that declares a charset other than
    /// UTF-8: every body is read as UTF-8 (RFC 8259 §8.1 for JSON), so another charset would be misread.
    func requireBody(_ accepts: (String) -> Bool, expected: String) throws {
        let contentType = request.headers["Content-Type"]?.lowercased() ?? ""
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard accepts(media) else {
            throw APIError.unsupportedMediaType("Se esperaba `Content-Type: \(expected)`.")
        }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0] == "charset", !["utf-8", "\"utf-8\"", "utf8"].contains(pair[1]) {
                throw APIError.unsupportedMediaType("El cuerpo debe ir en UTF-8; se declaró `charset=\(pair[1])`.")
            }
        }
    }

    /// The request body as UTF-8 text (CSV uploads).
    func bodyText() throws -> String {
        guard let text = String(validating: request.body, as: UTF8.self) else {
            throw APIError.badRequest("El cuerpo no es UTF-8 válido.", field: "body")
        }
        return text
    }

    /// The table format the client asked for, `csv` or `xlsx` (`?format=`, else `Accept: text/csv` or the XLSX
    /// media type), nil for JSON. Its options (`locale`, `lang`) are checked by `TableExport.requested`.
    var tableKind: String? {
        if let f = queryItems.last(where: { $0.0 == "format" })?.1.lowercased() {
            return f == "csv" || f == "xlsx" ? f : nil
        }
        let accept = request.headers["Accept"]?.lowercased() ?? ""
        if accept.contains(TableExport.xlsxMediaType) { return "xlsx" }
        return accept.contains("text/csv") ? "csv" : nil
    }

    /// True when the client asked for a table (CSV or XLSX) rather than JSON.
    var wantsTable: Bool { tableKind != nil }

    /// Spanish column names asked (`lang=es`), for routes that name columns after the plan's codes.
    var spanishColumns: Bool { queryItems.last(where: { $0.0 == "lang" })?.1.lowercased() == "es" }

    func requireRole(_ roles: Role...) throws {
        let c = try caller
        guard roles.contains(c.role) else { throw APIError.forbidden() }
    }

    func requireCentral() throws { try requireRole(.central) }
}
