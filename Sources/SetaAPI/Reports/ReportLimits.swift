// Every limit of the reporting area (reports, asesorías, locks, imports) in one value with greppable names.

/// The limits of monthly reporting; each has one name so it can be found and changed in one place.
enum ReportLimits {
    /// Longest `evidence`, `comment`, asesoría `notes` and lock `reason`, in characters (Unicode scalars,
    /// as PostgreSQL's `length()` counts them).
    static let maxTextLength = 2000
    /// Most milestones one report body may mention (a plan has a few dozen).
    static let maxMilestonesPerReport = 500
    /// Rejected rows listed in an import summary; the count of rejected rows is always complete.
    static let maxImportErrorsListed = 1000
    /// Longest asesoría, in minutes (one day).
    static let maxAsesoriaMinutes = 1440
    /// Most milestone codes one asesoría may name.
    static let maxAsesoriaMilestones = 200
    /// Advisory-lock class taken (shared by writes, exclusive by locks) on a (plan, month), so a lock and
    /// a report write of the same month are serialized: a write never lands in a month locked meanwhile.
    static let periodLockClass: Int32 = 0x5345_5452   // "SETR"
    /// Advisory-lock key that serializes bulk imports with each other.
    static let importLockKey: Int64 = 0x5345_5449   // "SETI"
}
