// The catalog of a plan: stages (momentos), phases (fases / interruptores) and milestones (hitos) with weights.
import Foundation

/// One weighted milestone table of a strategy, e.g. `gap-2020-f1` (Gobierno al Plan, Fase I).
/// Weights are exact decimals in percent; a milestone's weight in the plan is derived, never stored.
public struct PlanCatalog: Hashable, Codable, Sendable {
    public var code: String
    public var name: String
    /// Incremented by the central team on every correction, so a cut can name the version it used.
    public var version: Int
    public var stages: [Stage]
    public var phases: [Phase]
    public var milestones: [Milestone]

    public init(code: String, name: String, version: Int = 1,
                stages: [Stage] = [], phases: [Phase], milestones: [Milestone]) {
        self.code = code
        self.name = name
        self.version = version
        self.stages = stages
        self.phases = phases
        self.milestones = milestones
    }

    public func phase(code: String) -> Phase? { phases.first { $0.code == code } }
    public func milestone(code: String) -> Milestone? { milestones.first { $0.code == code } }
    public func stage(code: String) -> Stage? { stages.first { $0.code == code } }

    /// The phase's milestones in display order.
    public func milestones(inPhase phaseCode: String) -> [Milestone] {
        milestones.filter { $0.phaseCode == phaseCode }.sorted { $0.position < $1.position }
    }

    /// The stage's phases in display order.
    public func phases(inStage stageCode: String) -> [Phase] {
        phases.filter { $0.stageCode == stageCode }.sorted { $0.position < $1.position }
    }

    /// The report's "Porcentaje Hito sobre KIT": phase weight × milestone weight / 100 (H9 of Fase I: 7.5).
    /// Nil when the milestone or its phase is not in the plan.
    public func weightInPlan(of milestoneCode: String) -> Decimal? {
        guard let milestone = milestone(code: milestoneCode), let phase = phase(code: milestone.phaseCode)
        else { return nil }
        return milestone.weightInPlan(of: phase)
    }

    /// A stage has no weight of its own: its share is the sum of its phases' weights.
    public func weightInPlan(ofStage stageCode: String) -> Decimal {
        phases.filter { $0.stageCode == stageCode }.reduce(Decimal(0)) { $0 + $1.weightInPlan }
    }
}

/// A momento of Fase II: a label grouping phases, with no weight of its own.
public struct Stage: Hashable, Codable, Sendable {
    public var code: String
    public var name: String
    public var position: Int

    public init(code: String, name: String, position: Int) {
        self.code = code
        self.name = name
        self.position = position
    }
}

/// A phase (fase; "interruptor" in Fase II) with its share of the plan in percent.
public struct Phase: Hashable, Codable, Sendable {
    public var code: String
    public var name: String
    public var stageCode: String?
    public var weightInPlan: Decimal
    public var position: Int

    public init(code: String, name: String, stageCode: String? = nil, weightInPlan: Decimal, position: Int) {
        self.code = code
        self.name = name
        self.stageCode = stageCode
        self.weightInPlan = weightInPlan
        self.position = position
    }
}

/// A milestone (hito) with its share of its phase in percent.
public struct Milestone: Hashable, Codable, Sendable {
    public var code: String
    public var name: String
    public var phaseCode: String
    public var weightInPhase: Decimal
    public var position: Int
    /// Whether a report may say `not_applicable` ("no aplica") for it: the report's "(cuando aplique)" /
    /// "(si aplica)". Part of the catalog version, like the weights.
    public var notApplicableAllowed: Bool
    /// The milestone's deadline (plazo) in this catalog version, when the law or the programme sets one.
    public var dueOn: CalendarDay?

    public init(code: String, name: String, phaseCode: String, weightInPhase: Decimal, position: Int,
                notApplicableAllowed: Bool = false, dueOn: CalendarDay? = nil) {
        self.code = code
        self.name = name
        self.phaseCode = phaseCode
        self.weightInPhase = weightInPhase
        self.position = position
        self.notApplicableAllowed = notApplicableAllowed
        self.dueOn = dueOn
    }

    /// Phase weight × milestone weight / 100, exact (33.33 × 10 / 100 = 3.333).
    public func weightInPlan(of phase: Phase) -> Decimal {
        phase.weightInPlan * weightInPhase / 100
    }
}
