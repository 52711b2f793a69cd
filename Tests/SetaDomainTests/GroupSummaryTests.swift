// Tests of GroupSummary (SPEC rule 5): mean, count at 100, phase completion shares, extremes.
import Foundation
import Testing
@testable import SetaDomain

@Suite("Group summary")
struct GroupSummaryTests {
    /// Three Fase I entities: all done (100), H1–H7 (20), H1–H11 (50).
    private func threeEntities() throws -> (PlanCatalog, [(code: String, name: String, progress: EntityProgress)]) {
        let plan = try RepositoryData.faseI()
        func entity(_ code: String, _ statuses: [String: MilestoneStatus]) -> (code: String, name: String, progress: EntityProgress) {
            (code, "Municipio \(code)", ProgressEngine.entityProgress(plan: plan, statuses: statuses))
        }
        return (plan, [
            entity("05001", done(plan.milestones.map(\.code))),
            entity("05002", done(milestones(1...7))),
            entity("05004", done(milestones(1...11))),
        ])
    }

    @Test("The group's progress is the plain mean of its entities")
    func plainMean() throws {
        let (plan, entities) = try threeEntities()
        let summary = GroupSummary.of(entities: entities, phaseCodes: plan.phases.map(\.code))
        #expect(summary.entityCount == 3)
        #expect(summary.measuredCount == 3)
        #expect(summary.meanProgress == Decimal(170) / 3)
        #expect(summary.meanProgress?.fixedString(scale: 2) == "56.67")
    }

    @Test("The summary counts entities at 100 and names the lowest and highest")
    func extremes() throws {
        let (plan, entities) = try threeEntities()
        let summary = GroupSummary.of(entities: entities, phaseCodes: plan.phases.map(\.code))
        #expect(summary.atHundred == 1)
        #expect(summary.min == 20)
        #expect(summary.max == 100)
        #expect(summary.lowest == ["05002"])
        #expect(summary.highest == ["05001"])
    }

    @Test("Per phase, the share of entities that completed it")
    func phaseShares() throws {
        let (plan, entities) = try threeEntities()
        let summary = GroupSummary.of(entities: entities, phaseCodes: plan.phases.map(\.code))
        #expect(summary.phaseCompletionShare["F1"] == 100)
        #expect(summary.phaseCompletionShare["F2"] == Decimal(200) / 3)
        #expect(summary.phaseCompletionShare["F5"] == Decimal(100) / 3)
    }

    @Test("Entities tied at the minimum are all listed")
    func ties() throws {
        let plan = try RepositoryData.faseI()
        let zero = ProgressEngine.entityProgress(plan: plan, statuses: [:])
        let summary = GroupSummary.of(entities: [("b", "B", zero), ("a", "A", zero)], phaseCodes: ["F1"])
        #expect(summary.lowest == ["a", "b"])
        #expect(summary.highest == ["a", "b"])
        #expect(summary.atHundred == 0)
    }

    @Test("An entity with a phase that dropped out is left out of that phase's share only")
    func droppedPhaseShare() throws {
        let plan = try RepositoryData.faseI()
        var statuses = done(["H17", "H18"])
        statuses["H16"] = .notApplicable
        let completedF4 = ProgressEngine.entityProgress(plan: plan, statuses: statuses)
        let droppedF4 = ProgressEngine.entityProgress(
            plan: plan, statuses: ["H16": .notApplicable, "H17": .notApplicable, "H18": .notApplicable])
        let notF4 = ProgressEngine.entityProgress(plan: plan, statuses: [:])
        let summary = GroupSummary.of(entities: [("1", "", completedF4), ("2", "", droppedF4), ("3", "", notF4)],
                                      phaseCodes: ["F4"])
        #expect(summary.phaseCompletionShare["F4"] == 50)
        #expect(summary.measuredCount == 3)
    }

    @Test("An entity the plan does not apply to is counted but not averaged")
    func notApplicableEntity() throws {
        let plan = try RepositoryData.faseI()
        let none = ProgressEngine.entityProgress(
            plan: plan, statuses: Dictionary(uniqueKeysWithValues: plan.milestones.map { ($0.code, .notApplicable) }))
        let twenty = ProgressEngine.entityProgress(plan: plan, statuses: done(milestones(1...7)))
        let summary = GroupSummary.of(entities: [("x", "X", none), ("y", "Y", twenty)], phaseCodes: ["F1"])
        #expect(summary.entityCount == 2)
        #expect(summary.measuredCount == 1)
        #expect(summary.meanProgress == 20)
        #expect(summary.lowest == ["y"])
    }

    @Test("An empty group has no mean, no extremes and no shares")
    func emptyGroup() {
        let summary = GroupSummary.of(entities: [], phaseCodes: ["F1"])
        #expect(summary.entityCount == 0)
        #expect(summary.meanProgress == nil)
        #expect(summary.min == nil && summary.max == nil)
        #expect(summary.lowest.isEmpty && summary.highest.isEmpty)
        #expect(summary.phaseCompletionShare.isEmpty)
    }
}
