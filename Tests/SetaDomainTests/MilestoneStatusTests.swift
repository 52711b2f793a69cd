// Tests of MilestoneStatus: wire spelling and the two rules it carries.
import Foundation
import Testing
@testable import SetaDomain

@Suite("Milestone status")
struct MilestoneStatusTests {
    @Test("Statuses are written as the SPEC spells them")
    func wireSpelling() {
        #expect(MilestoneStatus.allCases.map(\.rawValue) == ["not_started", "in_progress", "done", "not_applicable"])
        #expect(MilestoneStatus(rawValue: "hecho") == nil)
    }

    @Test("Only done earns weight, and only not applicable leaves the denominator")
    func rules() {
        #expect(MilestoneStatus.allCases.filter(\.earnsWeight) == [.done])
        #expect(MilestoneStatus.allCases.filter { !$0.isApplicable } == [.notApplicable])
    }
}
