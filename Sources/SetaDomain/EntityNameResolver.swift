// Resolves municipality names as printed in official lists (upper case, no accents, abbreviated,
// truncated) to DANE codes within their department.
import Foundation

/// A DIVIPOLA unit: a municipality (or Bogotá, or a non-municipalised area) and its department.
public struct Place: Hashable, Codable, Sendable {
    /// 5-digit DANE code, e.g. `05001`.
    public var code: String
    public var name: String
    /// 2-digit department code, e.g. `05`.
    public var departmentCode: String
    public var departmentName: String
    /// Other names people write for it (nombres alternativos): DIVIPOLA's official long name, historical
    /// names, the seat's name. Shipped as data with provenance (Data/divipola-nombres-alternativos.csv).
    public var alternativeNames: [String]

    public init(code: String, name: String, departmentCode: String, departmentName: String, alternativeNames: [String] = []) {
        self.code = code
        self.name = name
        self.departmentCode = departmentCode
        self.departmentName = departmentName
        self.alternativeNames = alternativeNames
    }
}

/// The outcome of resolving one printed name.
public enum NameResolution: Hashable, Sendable {
    /// `how` says which rule matched (see `EntityNameResolver.How`), so an import summary can show it.
    case resolved(code: String, how: String)
    /// Several places match equally well; nothing is chosen.
    case ambiguous(candidates: [String])
    /// No place matches; `suggestions` are the codes of the nearest names in the department (never chosen).
    case unresolved(reason: String, suggestions: [String] = [])

    public var code: String? {
        if case .resolved(let code, _) = self { return code }
        return nil
    }
}

/// Resolves printed names to places. General rules, no table of particular names:
///
/// 1. Names are compared as words: accents dropped, upper case, punctuation as separators; a word followed
///    by a period is a marked abbreviation (`S.MARTIN`, `SAN BERNARDO V.`).
/// 2. A character that survives folding but is not A–Z or 0–9 in the printed name (a mangled `Ñ` printed
///    as `Ð`) matches any one character.
/// 3. Connectors `DE`, `DEL` and `D`, and articles after the first word (`LA`, `EL`, `LOS`, `LAS`), are
///    optional on both sides (`CERRO S.ANTONIO` / "Cerro San Antonio", `SAN ANDRES D SOTAVEN` /
///    "San Andrés Sotavento", `CASTILLA NUEVA` / "Castilla la Nueva"). A leading article counts
///    ("La Unión" is not "Unión Panamericana").
/// 4. A marked abbreviation, a one-letter word, or a common unmarked one (`STA`, `STO`, `PTO`, `GRAL`)
///    matches a word it begins, or whose letters it keeps in order from the same first letter
///    (`S.` → SAN, `V.` → VIENTO, `PTO` → PUERTO). The last word of a name printed at the list's width
///    limit (`truncationLength`) may be cut short (`SOTAVEN` → SOTAVENTO).
/// 5. Alternative names: the place's known other names (`Place.alternativeNames`: official long names,
///    historical names, the seat's name, from data with provenance), a part in parentheses, each side of a hyphen or slash (`COLON-GENOVA`,
///    "Cuaspud (Carlosama)"), and for colonial names that begin with a saint (San, Santa, Santo,
///    Santiago, Santafé) the part after the first `de`/`del` ("Santiago de Tolú" → TOLU,
///    "San Andrés de Tumaco" → TUMACO, "Santafé de Bogotá" → BOGOTA).
///
/// Matches are ranked; the best rank with any match wins, and it must single out one place, else the
/// result is ambiguous: exact words → same letters ignoring spaces and optional words (`VILLA VIEJA` /
/// "Villavieja") → abbreviations → alternative names → the printed name is the beginning of a longer
/// one (`EL CARMEN` in Chocó / "El Carmen de Atrato").
public struct EntityNameResolver: Sendable {
    /// The `how` codes of a resolved name. `+unreadable_character` is appended when rule 2 was needed.
    public enum How {
        public static let daneCode = "dane_code"
        public static let exact = "exact"
        public static let ignoringSpaces = "ignoring_spaces"
        public static let abbreviation = "abbreviation"
        public static let alternativeName = "alternative_name"
        public static let namePrefix = "name_prefix"
        public static let unreadableCharacter = "+unreadable_character"
    }

    /// Official lists print names in a fixed-width column; a name this long may have lost its end.
    public static let truncationLength = 20
    /// Optional words between the parts of a name.
    static let connectors: Set<String> = ["DE", "DEL", "D"]
    /// Articles, optional except as the first word.
    static let articles: Set<String> = ["LA", "EL", "LOS", "LAS"]
    /// Unmarked abbreviations common in Spanish place names (Santa, Santo, Puerto, General).
    static let commonAbbreviations: Set<String> = ["STA", "STO", "PTO", "GRAL"]
    /// First words of colonial names whose common name is the part after `de` (Santiago de Tolú → Tolú).
    static let saintPrefixes: Set<String> = ["SAN", "SANTA", "SANTO", "SANTIAGO", "SANTAFE"]
    /// Words dropped from department names before comparing them ("La Guajira" = "Guajira",
    /// "Archipiélago de San Andrés…" = "San Andrés…", "Bogotá D.C." = "Bogotá").
    static let departmentNoise: Set<String> = [
        "DE", "DEL", "D", "LA", "EL", "LOS", "LAS", "Y", "DEPARTAMENTO", "DPTO", "ARCHIPIELAGO", "C", "DISTRITO", "CAPITAL",
    ]

    private struct Candidate: Sendable {
        var place: Place
        var forms: [NameForm]
    }

    private let candidatesByDepartment: [String: [Candidate]]
    private let departments: [(code: String, name: String, key: [NameToken])]

    public init(places: [Place]) {
        var byDepartment: [String: [Candidate]] = [:]
        var departmentNames: [String: String] = [:]
        for place in places {
            var forms = Self.forms(of: place.name)
            for alternative in place.alternativeNames {
                for form in Self.forms(of: alternative) where !forms.contains(where: { $0.tokens == form.tokens }) {
                    forms.append(NameForm(tokens: form.tokens, isAlternative: true))
                }
            }
            byDepartment[place.departmentCode, default: []].append(Candidate(place: place, forms: forms))
            if departmentNames[place.departmentCode] == nil { departmentNames[place.departmentCode] = place.departmentName }
        }
        candidatesByDepartment = byDepartment
        departments = departmentNames.sorted { $0.key < $1.key }.map { code, name in
            (code: code, name: name, key: NameNormalizer.tokens(name).filter { !Self.departmentNoise.contains($0.text) })
        }
    }

    // MARK: Departments

    /// The codes of the departments a name (or 2-digit code) designates: one when it is clear, several when
    /// it is ambiguous, none when unknown. Accents, case, articles and "D.C." do not matter, and a name may be
    /// the beginning of the official one ("San Andrés" → "Archipiélago de San Andrés, Providencia y Santa
    /// Catalina"; "Valle" → "Valle del Cauca").
    public func resolveDepartment(_ name: String) -> [String] {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if let match = departments.first(where: { $0.code == trimmed }) { return [match.code] }
        let key = NameNormalizer.tokens(name).filter { !Self.departmentNoise.contains($0.text) }
        guard !key.isEmpty else { return [] }
        let exact = departments.filter { Self.equalWords(key, $0.key) != nil }
        if !exact.isEmpty { return exact.map(\.code) }
        let joined = departments.filter { Self.sameLetters(key, $0.key) != nil }
        if !joined.isEmpty { return joined.map(\.code) }
        let abbreviated = departments.filter {
            Self.wordsMatch(key, $0.key, truncated: false, prefixOfName: false) != nil
        }
        if !abbreviated.isEmpty { return abbreviated.map(\.code) }
        return departments.filter { Self.wordsMatch(key, $0.key, truncated: false, prefixOfName: true) != nil }.map(\.code)
    }

    // MARK: Places

    /// Resolves a printed municipality name within its department (a name or a code). A 5-digit DANE code
    /// of that department is accepted as is.
    public func resolve(name: String, department: String) -> NameResolution {
        let departmentCodes = resolveDepartment(department)
        guard !departmentCodes.isEmpty else {
            return .unresolved(reason: "departamento desconocido: \"\(department)\"")
        }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        let pool = departmentCodes.flatMap { candidatesByDepartment[$0] ?? [] }
        if trimmed.count == 5, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) {
            if pool.contains(where: { $0.place.code == trimmed }) { return .resolved(code: trimmed, how: How.daneCode) }
            return .unresolved(reason: "el código \(trimmed) no es de \(department)")
        }
        let queryForms = Self.forms(of: trimmed)
        guard let main = queryForms.first, !main.tokens.isEmpty else {
            return .unresolved(reason: "nombre vacío")
        }
        let truncated = trimmed.count >= Self.truncationLength

        // The best rank of each candidate.
        var best: [(rank: Rank, wildcard: Bool, code: String)] = []
        for candidate in pool {
            var candidateBest: (rank: Rank, wildcard: Bool)?
            for queryForm in queryForms {
                for candidateForm in candidate.forms {
                    guard let match = Self.rank(queryForm, candidateForm, truncated: truncated && !queryForm.isAlternative)
                    else { continue }
                    if candidateBest == nil || match.rank < candidateBest!.rank { candidateBest = match }
                }
            }
            if let found = candidateBest { best.append((found.rank, found.wildcard, candidate.place.code)) }
        }
        guard let topRank = best.map(\.rank).min() else {
            let elsewhere = otherDepartments(for: queryForms, excluding: Set(departmentCodes))
            let hint = elsewhere.isEmpty ? "" : "; con ese nombre hay \(elsewhere.joined(separator: ", ")) en otros departamentos"
            let near = nearest(to: main, in: pool)
            let suggestion = near.isEmpty ? "" : "; los más parecidos: " + near.map { "\($0.code) \($0.name)" }.joined(separator: ", ")
            return .unresolved(reason: "ningún municipio de \(department) coincide con \"\(trimmed)\"" + hint + suggestion,
                               suggestions: near.map(\.code))
        }
        let winners = best.filter { $0.rank == topRank }
        let winnerCodes = Array(Set(winners.map(\.code))).sorted()
        guard winnerCodes.count == 1 else { return .ambiguous(candidates: winnerCodes) }
        let how = topRank.how + (winners.contains { $0.wildcard } ? How.unreadableCharacter : "")
        return .resolved(code: winnerCodes[0], how: how)
    }

    /// Resolves a whole list, then refuses to let two rows claim one place: both rows become unresolved,
    /// naming the other, since at least one of them is wrong.
    public func resolveList(_ rows: [(name: String, department: String)]) -> NameResolutionSummary {
        var results = rows.map { resolve(name: $0.name, department: $0.department) }
        var rowsByCode: [String: [Int]] = [:]
        for (index, result) in results.enumerated() {
            if let code = result.code { rowsByCode[code, default: []].append(index) }
        }
        for (code, indices) in rowsByCode where indices.count > 1 {
            for index in indices {
                let others = indices.filter { $0 != index }.map { "\"\(rows[$0].name)\" (\(rows[$0].department))" }
                results[index] = .unresolved(reason: "\(code) también corresponde a \(others.joined(separator: ", "))", suggestions: [code])
            }
        }
        return NameResolutionSummary(rows: rows.indices.map {
            NameResolutionSummary.Row(index: $0, name: rows[$0].name, department: rows[$0].department, resolution: results[$0])
        })
    }

    /// At most `limit` places whose name (or a known alternative) is nearest to the printed one by edit
    /// distance over letters, within half the name's length: suggestions, never an answer.
    private func nearest(to query: NameForm, in pool: [Candidate], limit: Int = 3) -> [Place] {
        let q = query.coreLetters
        guard !q.isEmpty else { return [] }
        let bound = max(2, q.count / 2)
        let scored = pool.compactMap { candidate -> (distance: Int, place: Place)? in
            let d = candidate.forms.map { Self.editDistance(q, $0.coreLetters) }.min() ?? Int.max
            return d <= bound ? (d, candidate.place) : nil
        }
        return scored.sorted { ($0.distance, $0.place.code) < ($1.distance, $1.place.code) }.prefix(limit).map(\.place)
    }

    /// Levenshtein distance between two letter sequences.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    private func otherDepartments(for queryForms: [NameForm], excluding: Set<String>) -> [String] {
        var found: [String] = []
        for (code, candidates) in candidatesByDepartment where !excluding.contains(code) {
            for candidate in candidates {
                let exact = candidate.forms.contains { form in
                    queryForms.contains { Self.rank($0, form, truncated: false)?.rank == .exact }
                }
                if exact { found.append("\(candidate.place.code) \(candidate.place.name)") }
            }
        }
        return found.sorted()
    }

    // MARK: Forms and ranks

    /// A way of writing a name: its words, and whether it is an alternative rather than the name itself.
    struct NameForm: Hashable, Sendable {
        let tokens: [NameToken]
        let isAlternative: Bool
        /// The words without connectors and without articles after the first word.
        let core: [NameToken]
        /// The letters of `core`, without spaces.
        let coreLetters: [Unicode.Scalar]

        init(tokens: [NameToken], isAlternative: Bool) {
            self.tokens = tokens
            self.isAlternative = isAlternative
            core = tokens.enumerated().filter { index, token in
                !EntityNameResolver.connectors.contains(token.text)
                    && (index == 0 || !EntityNameResolver.articles.contains(token.text))
            }.map(\.element)
            coreLetters = core.flatMap(\.scalars)
        }
    }

    /// The name itself first, then its alternatives (rule 5).
    static func forms(of name: String) -> [NameForm] {
        var outside = ""
        var insides: [String] = []
        var depth = 0
        var inside = ""
        for character in name {
            if character == "(" {
                depth += 1
                if depth == 1 { inside = ""; outside.append(" ") }
                continue
            }
            if character == ")" && depth > 0 {
                depth -= 1
                if depth == 0 { insides.append(inside) }
                continue
            }
            if depth > 0 { inside.append(character) } else { outside.append(character) }
        }
        if depth > 0 { insides.append(inside) }

        var forms = [NameForm(tokens: NameNormalizer.tokens(outside), isAlternative: false)]
        func addAlternative(_ tokens: [NameToken]) {
            guard !tokens.isEmpty, !forms.contains(where: { $0.tokens == tokens }) else { return }
            forms.append(NameForm(tokens: tokens, isAlternative: true))
        }
        let parts = outside.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "–" })
        if parts.count > 1 {
            for part in parts { addAlternative(NameNormalizer.tokens(String(part))) }
        }
        for part in insides { addAlternative(NameNormalizer.tokens(part)) }
        let words = forms[0].tokens
        if let first = words.first, saintPrefixes.contains(first.text),
           let connector = words.dropFirst(1).firstIndex(where: { $0.text == "DE" || $0.text == "DEL" }),
           connector + 1 < words.count {
            addAlternative(Array(words[(connector + 1)...]))
        }
        return forms
    }

    /// Match quality, best first.
    enum Rank: Int, Comparable, Sendable {
        case exact, ignoringSpaces, abbreviation, alternativeName, namePrefix

        static func < (lhs: Rank, rhs: Rank) -> Bool { lhs.rawValue < rhs.rawValue }

        var how: String {
            switch self {
            case .exact: How.exact
            case .ignoringSpaces: How.ignoringSpaces
            case .abbreviation: How.abbreviation
            case .alternativeName: How.alternativeName
            case .namePrefix: How.namePrefix
            }
        }
    }

    /// How a printed form matches a candidate's form, or nil. The Bool says whether a wildcard was used.
    static func rank(_ query: NameForm, _ candidate: NameForm, truncated: Bool) -> (rank: Rank, wildcard: Bool)? {
        let alternative = query.isAlternative || candidate.isAlternative
        if let wildcard = equalWords(query.tokens, candidate.tokens) {
            return (alternative ? .alternativeName : .exact, wildcard)
        }
        let queryCore = query.core, candidateCore = candidate.core
        if let wildcard = charactersMatch(query.coreLetters, candidate.coreLetters) {
            return (alternative ? .alternativeName : .ignoringSpaces, wildcard)
        }
        if let wildcard = wordsMatch(queryCore, candidateCore, truncated: truncated, prefixOfName: false) {
            return (alternative ? .alternativeName : .abbreviation, wildcard)
        }
        if !alternative, let wildcard = wordsMatch(queryCore, candidateCore, truncated: truncated, prefixOfName: true) {
            return (.namePrefix, wildcard)
        }
        return nil
    }

    /// Same words, in order.
    static func equalWords(_ query: [NameToken], _ candidate: [NameToken]) -> Bool? {
        guard query.count == candidate.count else { return nil }
        var wildcard = false
        for (q, c) in zip(query, candidate) {
            guard let used = charactersMatch(q.scalars, c.scalars) else { return nil }
            wildcard = wildcard || used
        }
        return wildcard
    }

    /// Same letters once spaces are removed ("VILLA VIEJA" / "VILLAVIEJA").
    static func sameLetters(_ query: [NameToken], _ candidate: [NameToken]) -> Bool? {
        charactersMatch(query.flatMap(\.scalars), candidate.flatMap(\.scalars))
    }

    /// Word by word with abbreviations (rule 4); with `prefixOfName` the candidate may have more words.
    /// (Names equal word for word are caught by the earlier ranks before this one is tried.)
    static func wordsMatch(_ query: [NameToken], _ candidate: [NameToken], truncated: Bool, prefixOfName: Bool) -> Bool? {
        guard !query.isEmpty else { return nil }
        if prefixOfName { guard query.count < candidate.count else { return nil } }
        else { guard query.count == candidate.count else { return nil } }
        var wildcard = false
        for (index, (q, c)) in zip(query, candidate).enumerated() {
            let qText = q.scalars, cText = c.scalars
            if let used = charactersMatch(qText, cText) { wildcard = wildcard || used; continue }
            let mayAbbreviate = q.markedAbbreviation || qText.count == 1 || commonAbbreviations.contains(q.text)
            let mayBeCut = truncated && index == query.count - 1
            if mayAbbreviate || mayBeCut, let used = isPrefix(qText, of: cText) { wildcard = wildcard || used; continue }
            if mayAbbreviate, qText.count > 1, let used = isContraction(qText, of: cText) { wildcard = wildcard || used; continue }
            return nil
        }
        return wildcard
    }

    /// Equal length and characters; an unreadable query character (not A–Z, 0–9) matches anything.
    /// Returns whether such a wildcard was used, nil when different.
    static func charactersMatch(_ query: [Unicode.Scalar], _ candidate: [Unicode.Scalar]) -> Bool? {
        guard query.count == candidate.count else { return nil }
        var wildcard = false
        for (q, c) in zip(query, candidate) where q != c {
            guard isUnreadable(q) else { return nil }
            wildcard = true
        }
        return wildcard
    }

    static func isPrefix(_ query: [Unicode.Scalar], of candidate: [Unicode.Scalar]) -> Bool? {
        guard query.count <= candidate.count else { return nil }
        return charactersMatch(query, Array(candidate[..<query.count]))
    }

    /// Same first letter, and the rest in order (`PTO` → PUERTO, `STA` → SANTA).
    static func isContraction(_ query: [Unicode.Scalar], of candidate: [Unicode.Scalar]) -> Bool? {
        guard let first = query.first, first == candidate.first else { return nil }
        var position = 1
        for q in query.dropFirst() {
            while position < candidate.count, candidate[position] != q { position += 1 }
            guard position < candidate.count else { return nil }
            position += 1
        }
        return false
    }

    static func isUnreadable(_ scalar: Unicode.Scalar) -> Bool {
        !(("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
    }
}

/// The result of resolving a whole list, for an import summary.
public struct NameResolutionSummary: Sendable {
    public struct Row: Hashable, Sendable {
        /// 0-based position in the list (add 2 for the line of a CSV with a header).
        public var index: Int
        public var name: String
        public var department: String
        public var resolution: NameResolution
    }

    public var rows: [Row]

    public var resolved: [Row] { rows.filter { if case .resolved = $0.resolution { true } else { false } } }
    public var ambiguous: [Row] { rows.filter { if case .ambiguous = $0.resolution { true } else { false } } }
    public var unresolved: [Row] { rows.filter { if case .unresolved = $0.resolution { true } else { false } } }
}
