// PersonRef: a person (persona) as other resources mention them: reports, locks, asesorías, audit, rankings.

/// A person as other resources mention them.
struct PersonRef: Codable, Sendable, Equatable {
    var id: Int64
    var name: String

    init(id: Int64, name: String) {
        self.id = id
        self.name = name
    }

    /// Nil when the column was NULL (a row written by the system, e.g. the seed).
    init?(id: Int64?, name: String?) {
        guard let id else { return nil }
        self.id = id
        self.name = name ?? ""
    }
}
