// StoreError: what a store refuses, in domain terms (no HTTP); SetaApp.problem(for:) is the one place it becomes problem+json.
import Foundation

/// A store's refusal. Stores (and the import) throw these, never `APIError`: they say what is wrong
/// with the data, and `SetaApp.problem(for:)` decides the status code.
struct StoreError: Error, Equatable {
    enum Kind: Equatable, Sendable {
        /// The thing named does not exist (404).
        case notFound
        /// The caller may not touch it: outside their scope or role (403).
        case forbidden
        /// A value breaks a rule of the domain (422), the fields in `errors`.
        case invalid
        /// The month is locked (bloqueado) to writes (423).
        case locked
        /// The caller's view is stale: the revision they sent is not the current one (412).
        case stale
        /// It exists already, or overlaps what exists (409).
        case conflict
    }

    var kind: Kind
    var detail: String
    var errors: [FieldError] = []

    static func notFound(_ detail: String, field: String? = nil, found: String? = nil) -> StoreError {
        StoreError(kind: .notFound, detail: detail,
                   errors: field.map { [FieldError(field: $0, message: detail, found: found)] } ?? [])
    }
    static func forbidden(_ detail: String) -> StoreError {
        StoreError(kind: .forbidden, detail: detail)
    }
    static func invalid(field: String, _ message: String, found: String? = nil) -> StoreError {
        StoreError(kind: .invalid, detail: message, errors: [FieldError(field: field, message: message, found: found)])
    }
    static func invalid(_ errors: [FieldError], detail: String) -> StoreError {
        StoreError(kind: .invalid, detail: detail, errors: errors)
    }
    static func locked(_ detail: String, field: String = "period") -> StoreError {
        StoreError(kind: .locked, detail: detail, errors: [FieldError(field: field, message: detail)])
    }
    static func stale(_ detail: String) -> StoreError {
        StoreError(kind: .stale, detail: detail)
    }
    static func conflict(_ detail: String, errors: [FieldError] = []) -> StoreError {
        StoreError(kind: .conflict, detail: detail, errors: errors)
    }
}
