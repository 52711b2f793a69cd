// Every limit of the reporting area (reports, asesorías, locks, imports) in one value with greppable names.
import SetaDomain

/// The limits of monthly reporting; each has one name so it can be found and changed in one place.
enum ReportLimits {
    /// Longest `evidence`, `comment`, asesoría `notes` and lock `reason`, in characters (Unicode scalars,
    /// as PostgreSQL's `length()` counts them).
    static let maxTextLength = ReportWriteRules.maxTextLength
    /// Most milestones one report body may mention (a plan has a few dozen).
    static let maxMilestonesPerReport = 500
    /// Rejected rows listed in an import summary; the count of rejected rows is always complete.
    static let maxImportErrorsListed = 1000
    /// Longest asesoría, in minutes (one day).
    static let maxAsesoriaMinutes = 1440
    /// Most milestone codes one asesoría may name.
    static let maxAsesoriaMilestones = 200
}
