// The API layer's one error type, and its mapping to RFC 9457 problem+json.
import Foundation

/// A field that made a request invalid, named as the client wrote it (snake_case, dotted paths).
public struct FieldError: Codable, Sendable, Equatable {
    public var field: String
    public var message: String
    public var found: String?
    public init(field: String, message: String, found: String? = nil) {
        self.field = field
        self.message = message
        self.found = found
    }
}

/// Every failure a handler reports to a client. Anything else thrown becomes a bare 500.
/// Problems are written in Spanish, title and detail alike (docs/decisions.md, "Errors"): the title is the
/// status's Spanish name, from `titles`, so no call site can write one in another language.
public struct APIError: Error, Sendable {
    public var status: Int
    public var title: String { APIError.titles[status] ?? "Error" }
    public var detail: String
    public var type: String
    public var errors: [FieldError]
    public var headers: [(String, String)]

    /// `title` is accepted for the call sites that name it and ignored: the title follows the status.
    public init(status: Int, title: String? = nil, detail: String, type: String = "about:blank",
                errors: [FieldError] = [], headers: [(String, String)] = []) {
        self.status = status
        self.detail = detail
        self.type = type
        self.errors = errors
        self.headers = headers
    }

    public static func badRequest(_ detail: String, field: String? = nil) -> APIError {
        APIError(status: 400, detail: detail,
                 errors: field.map { [FieldError(field: $0, message: detail)] } ?? [])
    }
    public static func invalid(_ errors: [FieldError], detail: String = "La solicitud tiene campos inválidos.") -> APIError {
        APIError(status: 422, detail: detail, errors: errors)
    }
    public static func invalid(field: String, _ message: String, found: String? = nil) -> APIError {
        invalid([FieldError(field: field, message: message, found: found)], detail: message)
    }
    public static func notFound(_ detail: String) -> APIError {
        APIError(status: 404, detail: detail)
    }
    public static func conflict(_ detail: String, errors: [FieldError] = []) -> APIError {
        APIError(status: 409, detail: detail, errors: errors)
    }
    public static func forbidden(_ detail: String = "No tiene permiso para esta acción.") -> APIError {
        APIError(status: 403, detail: detail)
    }
    public static func unauthorized(_ detail: String = "Se requiere un token Bearer válido.") -> APIError {
        APIError(status: 401, detail: detail,
                 headers: [("WWW-Authenticate", "Bearer realm=\"seta\"")])
    }
    public static func unavailable(_ detail: String = "La base de datos no está disponible; intente de nuevo.") -> APIError {
        APIError(status: 503, detail: detail, headers: [("Retry-After", "5")])
    }
    public static func preconditionFailed(_ detail: String) -> APIError {
        APIError(status: 412, detail: detail)
    }
    public static func locked(_ detail: String, field: String = "period") -> APIError {
        APIError(status: 423, detail: detail, errors: [FieldError(field: field, message: detail)])
    }
    public static func unsupportedMediaType(_ detail: String) -> APIError {
        APIError(status: 415, detail: detail)
    }
    public static func notAcceptable(_ detail: String) -> APIError {
        APIError(status: 406, detail: detail)
    }

    /// The Spanish name of every status the API answers with.
    static let titles: [Int: String] = [
        400: "Solicitud incorrecta", 401: "No autenticado", 403: "Prohibido", 404: "No encontrado",
        405: "Método no permitido", 406: "No aceptable", 409: "Conflicto", 412: "Precondición fallida",
        413: "Contenido demasiado grande", 415: "Tipo de contenido no admitido", 422: "Contenido no procesable",
        423: "Bloqueado", 428: "Precondición requerida", 429: "Demasiadas solicitudes", 500: "Error interno del servidor",
        501: "No implementado", 503: "Servicio no disponible",
    ]

    /// The RFC 9457 body.
    struct Problem: Encodable, Sendable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var instance: String?
        var errors: [FieldError]?
    }

    func problem(instance: String?) -> Problem {
        Problem(type: type, title: title, status: status, detail: detail, instance: instance,
                errors: errors.isEmpty ? nil : errors)
    }
}
