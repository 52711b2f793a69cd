// Writing and reading PostgreSQL one-dimensional array literals ({"a","b\"c",NULL}).
import Foundation

enum PostgresArrayLiteral {
    /// Every element is double-quoted with `\` and `"` escaped, so commas, braces, spaces and the word
    /// NULL inside a value stay data; a nil element is the bare NULL.
    static func format(_ elements: [String?]) -> String {
        var result = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { result += "," }
            guard let element else {
                result += "NULL"
                continue
            }
            result += "\""
            for character in element {
                if character == "\"" || character == "\\" { result += "\\" }
                result.append(character)
            }
            result += "\""
        }
        return result + "}"
    }

    /// Parses PostgreSQL's array output: quoted elements with backslash escapes, unquoted elements
    /// (trimmed, `NULL` case-insensitively meaning NULL), and an optional `[lower:upper]=` prefix.
    static func parse(_ text: String) throws -> [String?] {
        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "[" {
            guard let equals = scalars.firstIndex(of: "=") else {
                throw PostgresDecodingFailure("is not an array literal")
            }
            scalars = scalars[scalars.index(after: equals)...]
        }
        guard scalars.first == "{", scalars.last == "}" else {
            throw PostgresDecodingFailure("is not an array literal")
        }
        scalars = scalars.dropFirst().dropLast()
        var elements: [String?] = []
        if scalars.allSatisfy({ $0 == " " }) { return elements }

        var iterator = scalars.makeIterator()
        var pending = iterator.next()
        while true {
            // Skip whitespace before an element.
            while let scalar = pending, scalar == " " || scalar == "\t" || scalar == "\n" { pending = iterator.next() }
            guard let first = pending else {
                throw PostgresDecodingFailure("is an array literal with an empty element")
            }
            if first == "{" {
                throw PostgresDecodingFailure("is a multidimensional array, which is not supported")
            }
            var value = String.UnicodeScalarView()
            if first == "\"" {
                var closed = false
                while let scalar = iterator.next() {
                    if scalar == "\\" {
                        guard let escaped = iterator.next() else { break }
                        value.append(escaped)
                    } else if scalar == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(scalar)
                    }
                }
                guard closed else { throw PostgresDecodingFailure("is an array literal with an unclosed quote") }
                pending = iterator.next()
                while let scalar = pending, scalar == " " { pending = iterator.next() }
                elements.append(String(value))
            } else {
                var current: Unicode.Scalar? = first
                while let scalar = current, scalar != "," {
                    if scalar == "\\" {
                        guard let escaped = iterator.next() else { break }
                        value.append(escaped)
                    } else {
                        value.append(scalar)
                    }
                    current = iterator.next()
                }
                pending = current
                // Trimmed and compared in pure Swift: Foundation's trimmingCharacters and caseInsensitiveCompare
                // bridge through NSString and were most of the time of decoding a cut export (1,155 rows × 5 arrays).
                let element = PostgresArrayLiteral.trimmingWhitespace(value)
                guard !element.isEmpty else {
                    throw PostgresDecodingFailure("is an array literal with an empty element")
                }
                elements.append(PostgresArrayLiteral.isNull(element) ? nil : String(element))
            }
            guard let separator = pending else { break }
            guard separator == "," else {
                throw PostgresDecodingFailure("is an array literal with text after a quoted element")
            }
            pending = iterator.next()
        }
        return elements
    }

    /// Spaces (Unicode category Zs, as `CharacterSet.whitespaces`) and tabs removed from both ends.
    static func trimmingWhitespace(_ value: String.UnicodeScalarView) -> Substring.UnicodeScalarView {
        func isSpace(_ s: Unicode.Scalar) -> Bool { s == " " || s == "\t" || s.properties.generalCategory == .spaceSeparator }
        var view = Substring(String(value)).unicodeScalars
        while let f = view.first, isSpace(f) { view.removeFirst() }
        while let l = view.last, isSpace(l) { view.removeLast() }
        return view
    }

    /// `NULL` in any letter case.
    static func isNull(_ element: Substring.UnicodeScalarView) -> Bool {
        guard element.count == 4 else { return false }
        return zip(element, "null".unicodeScalars).allSatisfy { a, b in
            a == b || (a.value >= 65 && a.value <= 90 && a.value + 32 == b.value)
        }
    }
}
