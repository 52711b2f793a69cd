// Name normalization: accent-insensitive search keys, and the tokens used to match printed names.
import Foundation

/// One word of a name as used for matching: upper case, accent-free.
public struct NameToken: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    /// Written with a trailing period (`S.`, `V.`, `STA.`): an abbreviation by the writer's own mark.
    public let markedAbbreviation: Bool

    /// `text` as scalars, kept so that matching compares arrays instead of re-splitting strings.
    let scalars: [Unicode.Scalar]

    public init(_ text: String, markedAbbreviation: Bool = false) {
        self.text = text
        self.markedAbbreviation = markedAbbreviation
        self.scalars = Array(text.unicodeScalars)
    }

    public var description: String { markedAbbreviation ? text + "." : text }
}

public enum NameNormalizer {
    /// Canonical decomposition, then the combining marks dropped: "Nariño" → "Narino", "Bogotá" → "Bogota".
    public static func foldAccents(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars
        where scalar.properties.generalCategory != .nonspacingMark {
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// The key for accent- and case-insensitive search: lower case, accents dropped, runs of white space
    /// collapsed to one space, trimmed. `bogota`, `BOGOTÁ` and ` Bogotá ` all give "bogota". Punctuation is
    /// kept, so a key is still readable; compute it in Swift and store it beside the name.
    public static func searchKey(_ text: String) -> String {
        foldAccents(text).lowercased()
            .split(whereSeparator: { $0.isWhitespace })
            .joined(separator: " ")
    }

    /// Upper case, accents dropped, every run of characters other than letters and digits turned into one
    /// space: "S.MARTIN DE LOBA" → "S MARTIN DE LOBA".
    public static func matchKey(_ text: String) -> String {
        tokens(text).map(\.text).joined(separator: " ")
    }

    /// The words of a name for matching. Letters and digits form words; anything else separates them;
    /// a period right after a word marks it as an abbreviation.
    public static func tokens(_ text: String) -> [NameToken] {
        var result: [NameToken] = []
        var current = ""
        func flush(marked: Bool) {
            if !current.isEmpty { result.append(NameToken(current, markedAbbreviation: marked)) }
            current = ""
        }
        for character in foldAccents(text).uppercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else {
                flush(marked: character == ".")
            }
        }
        flush(marked: false)
        return result
    }
}
