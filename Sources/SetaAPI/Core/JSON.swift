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
    /// RFC 8259 decides what is JSON (JSONScan): a key twice in one object is a 400 (the decoder would keep
    /// the last silently); a valid number its field cannot hold (`1E400`, `5e-324` for an integer) is a 422.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if bytes.isEmpty {
            throw APIError.badRequest("El cuerpo de la solicitud está vacío; se esperaba JSON.", field: "body")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw APIError.badRequest("El cuerpo no es UTF-8 válido.", field: "body")
        }
        let scan: JSONScan
        do {
            scan = try JSONScan.scan(bytes)
        } catch .duplicateKey(let path) {
            throw APIError.badRequest("El campo `\(path)` aparece más de una vez en el mismo objeto.", field: path)
        } catch .tooDeep {
            throw APIError.badRequest("El JSON anida más de \(JSONScan.maxDepth) niveles.", field: "body")
        } catch .syntax(let offset) {
            throw APIError.badRequest("El cuerpo no es JSON válido (byte \(offset)).", field: "body")
        }
        if !scan.nulStrings.isEmpty {
            throw APIError.invalid(scan.nulStrings.map { FieldError(field: $0, message: "El texto de `\($0)` contiene el carácter NUL (U+0000).") },
                                   detail: "El texto de `\(scan.nulStrings[0])` contiene el carácter NUL (U+0000).")
        }
        do {
            return try decoder().decode(T.self, from: Data(bytes))
        } catch DecodingError.dataCorrupted(let ctx) where ctx.codingPath.isEmpty {
            // The grammar is valid, so the decoder could not hold a number (it does not say which).
            throw unrepresentable(T.self, bytes, scan.numbers)
        } catch let error as DecodingError {
            throw mapDecodingError(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("El cuerpo no es JSON válido.", field: "body")
        }
    }

    /// Finds the numbers the decoder could not hold: each number that is not a plain integer is tried alone,
    /// every other such number set to 0. A plain integer within Int64 fits every numeric field SETA has.
    static func unrepresentable<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ numbers: [JSONScan.Number]) -> APIError {
        let candidates = numbers.filter { n in
            let text = String(decoding: bytes[n.range], as: UTF8.self)
            return Int64(text) == nil
        }.prefix(200)
        var errors: [FieldError] = []
        for n in candidates {
            var copy = bytes
            for other in candidates.reversed() where other.range != n.range {
                copy.replaceSubrange(other.range, with: [UInt8(ascii: "0")])
            }
            do {
                _ = try decoder().decode(T.self, from: Data(copy))
            } catch DecodingError.dataCorrupted(let ctx) where ctx.codingPath.isEmpty {
                let text = String(decoding: bytes[n.range], as: UTF8.self)
                errors.append(FieldError(field: n.path, message: "El número de `\(n.path)` está fuera del rango que admite el campo.",
                                         found: String(text.prefix(40))))
            } catch {}
        }
        if errors.isEmpty { return .badRequest("El cuerpo no es JSON válido.", field: "body") }
        return .invalid(errors, detail: errors[0].message)
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
