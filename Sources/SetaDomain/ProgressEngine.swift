// Progress of an entity in a plan (SPEC "How progress is computed", rules 1 to 4 and 6), in exact decimals.
import Foundation

/// One phase's result for one entity.
public struct PhaseProgress: Hashable, Codable, Sendable {
    public var code: String
    /// Percent, unrounded. Nil when every milestone of the phase is not applicable: the phase drops out
    /// and the other phases' weights are rescaled (rule 3).
    public var progress: Decimal?
    /// Every applicable milestone is done. False for a phase that dropped out (it has nothing to complete;
    /// group summaries leave such entities out of that phase's share, see `GroupSummary`).
    public var completed: Bool

    public init(code: String, progress: Decimal?, completed: Bool) {
        self.code = code
        self.progress = progress
        self.completed = completed
    }

    /// Whether the phase counts for this entity (it has at least one applicable milestone).
    public var counts: Bool { progress != nil }
}

/// One entity's result in one plan.
public struct EntityProgress: Hashable, Codable, Sendable {
    /// Percent, unrounded; round only when writing out (`total?.fixedString(scale: 2)`).
    /// Nil when every phase dropped out (all milestones not applicable): the plan does not apply to the
    /// entity ("no aplica"), which is neither 0 nor 100, and group means leave it out.
    public var total: Decimal?
    /// In the plan's phase order.
    public var phases: [PhaseProgress]

    public init(total: Decimal?, phases: [PhaseProgress]) {
        self.total = total
        self.phases = phases
    }

    public func phase(_ code: String) -> PhaseProgress? { phases.first { $0.code == code } }
}

/// The progress rules. Pure functions of the catalog and the reported statuses.
///
/// The formula, to be mirrored exactly in SQL (PostgreSQL `numeric`) so both agree to the cent:
///
///     earned(m)        = 1 if status(m) = 'done' else 0
///     phase_progress   = (Σ w_m · earned(m) × 100) / Σ w_m
///                        over the phase's milestones whose status is not 'not_applicable';
///                        NULL (the phase drops out) when there are none
///     entity_progress  = Σ (pw_f × phase_progress_f) / Σ pw_f
///                        over the phases whose phase_progress is not NULL;
///                        NULL ("no aplica") when there are none
///
/// where w_m is the milestone's weight in its phase and pw_f the phase's weight in the plan, both in
/// percent. Multiply before dividing, as written: with no milestone not applicable Σ w_m = 100 and
/// Σ pw_f = 100, so the result is exact (Fase I with H1–H7 done is exactly 20, all done exactly 100).
/// Nothing is rounded in between; results are rounded to two decimals, half away from zero
/// (`round(x, 2)` in SQL, `Decimal.rounded(scale: 2)` here), only when written out. Only when a
/// rescaling makes a quotient non-terminating can the two sides differ, beyond the 16th decimal.
public enum ProgressEngine {
    /// A milestone's status history: every report that mentioned it, with its period.
    public typealias History = [(period: Period, status: MilestoneStatus)]

    /// Rule 1: the status in the latest report with period ≤ `asOf`; `notStarted` when there is none.
    /// Several entries for the same period (revisions) resolve to the last one in the array, so pass
    /// revisions in the order they were made.
    public static func statusAsOf(_ history: History, asOf: Period) -> MilestoneStatus {
        var best: (period: Period, status: MilestoneStatus)?
        for entry in history where entry.period <= asOf {
            if best == nil || entry.period >= best!.period { best = entry }
        }
        return best?.status ?? .notStarted
    }

    /// Rules 2–4 for one entity. `statuses` is keyed by milestone code; a missing milestone is
    /// `notStarted`, and codes that are not in the plan are ignored.
    public static func entityProgress(plan: PlanCatalog, statuses: [String: MilestoneStatus]) -> EntityProgress {
        var phases: [PhaseProgress] = []
        var weightedSum = Decimal(0)
        var countingWeight = Decimal(0)

        for phase in plan.phases.sorted(by: { $0.position < $1.position }) {
            var applicableWeight = Decimal(0)
            var earnedWeight = Decimal(0)
            var allDone = true
            for milestone in plan.milestones where milestone.phaseCode == phase.code {
                let status = statuses[milestone.code] ?? .notStarted
                guard status.isApplicable else { continue }
                applicableWeight += milestone.weightInPhase
                if status.earnsWeight { earnedWeight += milestone.weightInPhase } else { allDone = false }
            }
            guard applicableWeight > 0 else {
                phases.append(PhaseProgress(code: phase.code, progress: nil, completed: false))
                continue
            }
            let progress = (earnedWeight * 100) / applicableWeight
            phases.append(PhaseProgress(code: phase.code, progress: progress, completed: allDone))
            weightedSum += phase.weightInPlan * progress
            countingWeight += phase.weightInPlan
        }
        let total: Decimal? = countingWeight > 0 ? weightedSum / countingWeight : nil
        return EntityProgress(total: total, phases: phases)
    }

    /// Rules 1–4 over per-milestone histories (keyed by milestone code), as of `asOf`.
    public static func entityProgress(plan: PlanCatalog, history: [String: History], asOf: Period) -> EntityProgress {
        var statuses: [String: MilestoneStatus] = [:]
        for (code, entries) in history {
            statuses[code] = statusAsOf(entries, asOf: asOf)
        }
        return entityProgress(plan: plan, statuses: statuses)
    }
}
