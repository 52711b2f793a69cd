// Tests of the catalog model: derived weights in the plan, lookups in display order.
import Foundation
import Testing
@testable import SetaDomain

@Suite("Plan catalog")
struct PlanCatalogTests {
    @Test("The weight in the plan of H9 is 7.5, of H16 3.333 and of H18 3.334")
    func derivedWeightsInPlan() throws {
        let plan = try RepositoryData.faseI()
        #expect(plan.weightInPlan(of: "H9") == dec("7.5"))
        #expect(plan.weightInPlan(of: "H16") == dec("3.333"))
        #expect(plan.weightInPlan(of: "H18") == dec("3.334"))
        #expect(plan.weightInPlan(of: "H99") == nil)
    }

    @Test("The weights in the plan of all milestones sum to exactly 100")
    func weightsInPlanSumToHundred() throws {
        for plan in try RepositoryData.catalogs() {
            let sum = plan.milestones.reduce(Decimal(0)) { $0 + (plan.weightInPlan(of: $1.code) ?? 0) }
            #expect(sum == 100, "\(plan.code)")
        }
    }

    @Test("A stage weighs the sum of its phases")
    func stageWeight() throws {
        let plan = try RepositoryData.faseII()
        #expect(plan.weightInPlan(ofStage: "M1") == 25)
        #expect(plan.phases(inStage: "M3").map(\.code) == ["I7", "I8", "I9"])
    }

    @Test("A phase's milestones come in display order")
    func milestonesInDisplayOrder() throws {
        let plan = try RepositoryData.faseI()
        #expect(plan.milestones(inPhase: "F5").map(\.code) == ["H19", "H20", "H22", "H21"])
    }

    @Test("A catalog survives a JSON round trip unchanged")
    func jsonRoundTrip() throws {
        let plan = try RepositoryData.faseII()
        let decoded = try JSONDecoder().decode(PlanCatalog.self, from: JSONEncoder().encode(plan))
        #expect(decoded == plan)
    }
}
