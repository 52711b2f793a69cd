// The query parameters a route accepts, and the one check every request's query passes before its handler.
import Foundation
import Synchronization

/// One declared query parameter, as openapi.yaml states it (the table is generated: QueryContract.swift).
struct QueryParameter: Sendable, Equatable {
    enum Kind: Sendable { case string, integer, boolean }
    var name: String
    var kind: Kind
    var values: [String]? = nil
    var minLength: Int? = nil
    var maxLength: Int? = nil
    var minimum: Int64? = nil
    var maximum: Int64? = nil
    var pattern: String? = nil
    /// `name` is a prefix (`attr.`): the parameter stands for every `attr.<code>` (openapi.yaml: `x-seta-name-prefix`).
    var namePrefix: Bool = false

    /// The declared parameters of `METHOD pattern`; a route the contract does not list accepts none.
    static func declared(method: String, pattern: String) -> [QueryParameter] {
        let key = method + " " + pattern.replacingOccurrences(of: #"\{[^}/]*\}"#, with: "{}", options: .regularExpression)
        return contract[key] ?? []
    }

    /// Refuses, naming the parameter (400): one not declared, one given twice, one given empty, and a value
    /// its declaration does not admit. Handlers then read each parameter knowing it is present at most once.
    static func check(_ items: [(String, String)], declared: [QueryParameter]) throws {
        var seen = Set<String>()
        for (name, value) in items {
            guard let p = declared.first(where: { !$0.namePrefix && $0.name == name })
                    ?? declared.first(where: { $0.namePrefix && name.count > $0.name.count && name.hasPrefix($0.name) }) else {
                let names = declared.map { "`\($0.name)`" }.joined(separator: ", ")
                throw APIError.badRequest("El parámetro `\(name)` no se admite en esta ruta"
                                          + (names.isEmpty ? " (no admite ninguno)." : "; se admiten: \(names)."), field: name)
            }
            guard seen.insert(name).inserted else {
                throw APIError.badRequest("El parámetro `\(name)` se envió más de una vez.", field: name)
            }
            if value.hasPrefix("\u{FFFD}invalid") || value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw APIError.badRequest("El parámetro `\(name)` tiene caracteres inválidos.", field: name)
            }
            guard !value.isEmpty else {
                throw APIError.badRequest("El parámetro `\(name)` está vacío; omítalo o dele un valor.", field: name)
            }
            try p.admit(value)
        }
    }

    func admit(_ value: String) throws {
        func refuse(_ expected: String) -> APIError {
            APIError.badRequest("`\(name)` debe ser \(expected); se recibió «\(value.prefix(100))».", field: name)
        }
        switch kind {
        case .boolean:
            guard value == "true" || value == "false" else { throw refuse("true o false") }
        case .integer:
            guard let n = Int64(value) else { throw refuse("un número entero") }
            if let minimum, n < minimum { throw refuse("un entero desde \(minimum)") }
            if let maximum, n > maximum { throw refuse("un entero hasta \(maximum)") }
        case .string:
            if let values, !values.contains(value) { throw refuse(values.joined(separator: ", ")) }
            let length = value.unicodeScalars.count
            if let minLength, length < minLength { throw refuse("un texto de al menos \(minLength) caracteres") }
            if let maxLength, length > maxLength { throw refuse("un texto de a lo sumo \(maxLength) caracteres") }
            if let pattern {
                guard PatternCache.shared.matches(value, pattern) else {
                    throw refuse(QueryParameter.patternNames[pattern] ?? "un valor de la forma \(pattern)")
                }
            }
        }
    }

    /// How messages name the patterns the contract uses (one date format everywhere: AAAA-MM, AAAA-MM-DD).
    static let patternNames: [String: String] = [
        "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$": "un mes AAAA-MM (años 1900 a 9999)",
        "^[0-9]{2}$": "un código DANE de 2 dígitos",
        "^[^\\x00-\\x1F\\x7F]*$": "un texto sin caracteres de control",
    ]
}

/// Patterns compiled once each: compiling one costs about 90 µs, matching a short value about 1 µs. The compiled
/// regexes never leave the lock (they are not Sendable): matching happens inside it.
private final class PatternCache: Sendable {
    static let shared = PatternCache()
    private let compiled = Mutex<[String: Regex<AnyRegexOutput>]>([:])

    /// Whether `value` contains a match of `pattern`; false when the pattern does not compile.
    func matches(_ value: String, _ pattern: String) -> Bool {
        compiled.withLock { cache in
            if cache[pattern] == nil {
                guard let r = try? Regex(pattern) else { return false }
                cache[pattern] = r
            }
            return value.contains(cache[pattern]!)
        }
    }
}
