// JSON coders for the wire (snake_case) and the mapping of decoding failures to field errors.
import Foundation

enum JSON {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .iso8601
        return d
    }

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try encoder().encode(value))
    }

    /// Decodes a request body; every failure is a 400 or 422 naming the field as the client wrote it.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if bytes.isEmpty {
            throw APIError.badRequest("El cuerpo de la solicitud está vacío; se esperaba JSON.", field: "body")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw APIError.badRequest("El cuerpo no es UTF-8 válido.", field: "body")
        }
        do {
            return try decoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw mapDecodingError(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("El cuerpo no es JSON válido.", field: "body")
        }
    }

    static func path(_ codingPath: [any CodingKey], appending key: (any CodingKey)? = nil) -> String {
        var parts: [String] = []
        for k in codingPath + (key.map { [$0] } ?? []) {
            if let i = k.intValue { parts.append("[\(i)]") } else {
                let name = snakeCase(k.stringValue)
                parts.append(parts.isEmpty ? name : "." + name)
            }
        }
        return parts.isEmpty ? "body" : parts.joined()
    }

    static func mapDecodingError(_ error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let ctx):
            let field = path(ctx.codingPath, appending: key)
            return .invalid(field: field, "Falta el campo obligatorio `\(field)`.")
        case .typeMismatch(let type, let ctx):
            let field = path(ctx.codingPath)
            return .invalid(field: field, "El campo `\(field)` tiene un tipo inválido (se esperaba \(typeName(type))).")
        case .valueNotFound(let type, let ctx):
            let field = path(ctx.codingPath)
            return .invalid(field: field, "El campo `\(field)` no puede ser null (se esperaba \(typeName(type))).")
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty {
                return .badRequest("El cuerpo no es JSON válido.", field: "body")
            }
            let field = path(ctx.codingPath)
            return .invalid(field: field, "El campo `\(field)` es inválido: \(ctx.debugDescription)")
        @unknown default:
            return .badRequest("El cuerpo no es JSON válido.", field: "body")
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "texto"
        case is Int.Type, is Int64.Type: return "entero"
        case is Decimal.Type, is Double.Type: return "número"
        case is Bool.Type: return "booleano"
        default:
            let s = String(describing: type)
            return s.hasPrefix("Array") ? "lista" : (s.hasPrefix("Dictionary") ? "objeto" : "un valor válido")
        }
    }

    static func snakeCase(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(contentsOf: ch.lowercased())
            } else {
                out.append(ch)
            }
        }
        return out
    }
}
