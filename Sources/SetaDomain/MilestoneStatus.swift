// MilestoneStatus: the four states an advisor reports for a milestone (hito) each month.

/// The status of one milestone of one entity in one monthly report. Raw values are the wire and
/// database spelling.
public enum MilestoneStatus: String, Codable, CaseIterable, Sendable {
    case notStarted = "not_started"
    case inProgress = "in_progress"
    case done
    /// The report's "cuando aplique" / "si aplica": the milestone does not count for this entity.
    case notApplicable = "not_applicable"

    /// SPEC rule 2: a milestone earns its full weight when done, nothing otherwise (SETA's "Sí" / "No").
    public var earnsWeight: Bool { self == .done }

    /// SPEC rule 3: not-applicable milestones leave the phase's denominator.
    public var isApplicable: Bool { self != .notApplicable }
}
