// Tests of CatalogValidator: every violation reported, each naming its phase or milestone and the sum.
import Foundation
import Testing
@testable import SetaDomain

/// A small valid plan to break in each test.
private func samplePlan() -> PlanCatalog {
    PlanCatalog(
        code: "demo", name: "Plan de prueba", version: 1,
        stages: [Stage(code: "M1", name: "Momento", position: 1)],
        phases: [
            Phase(code: "F1", name: "Uno", stageCode: "M1", weightInPlan: 60, position: 1),
            Phase(code: "F2", name: "Dos", stageCode: nil, weightInPlan: 40, position: 2),
        ],
        milestones: [
            Milestone(code: "H1", name: "a", phaseCode: "F1", weightInPhase: 50, position: 1),
            Milestone(code: "H2", name: "b", phaseCode: "F1", weightInPhase: 50, position: 2),
            Milestone(code: "H3", name: "c", phaseCode: "F2", weightInPhase: dec("33.33"), position: 3),
            Milestone(code: "H4", name: "d", phaseCode: "F2", weightInPhase: dec("33.33"), position: 4),
            Milestone(code: "H5", name: "e", phaseCode: "F2", weightInPhase: dec("33.34"), position: 5),
        ])
}

@Suite("Catalog validator")
struct CatalogValidatorTests {
    @Test("Both Gobierno al Plan 2020 catalogs are valid")
    func realCatalogsAreValid() throws {
        for plan in try RepositoryData.catalogs() {
            #expect(CatalogValidator.validate(plan) == [], "\(plan.code)")
        }
    }

    @Test("A phase of 33.33 + 33.33 + 33.34 is accepted")
    func thirdsAreAccepted() {
        #expect(CatalogValidator.validate(samplePlan()) == [])
    }

    @Test("Sums within 0.01 of 100 are accepted, beyond are refused")
    func tolerance() {
        #expect(CatalogValidator.isHundred(dec("99.99")))
        #expect(CatalogValidator.isHundred(dec("100.01")))
        #expect(!CatalogValidator.isHundred(dec("99.989")))
        #expect(!CatalogValidator.isHundred(dec("100.011")))
    }

    @Test("A phase whose milestones sum to 99 is refused, naming the phase and the sum")
    func phaseSummingTo99IsRefused() {
        var plan = samplePlan()
        plan.milestones[1].weightInPhase = 49
        let violations = CatalogValidator.validate(plan)
        #expect(violations.count == 1)
        let violation = violations.first
        #expect(violation?.field == "phases[F1].milestones")
        #expect(violation?.code == CatalogValidator.Code.weightsSum)
        #expect(violation?.foundSum == 99)
        #expect(violation?.message.contains("F1") == true)
        #expect(violation?.message.contains("99") == true)
    }

    @Test("Phases of the plan that do not sum to 100 are refused with the sum found")
    func phasesNotSummingAreRefused() {
        var plan = samplePlan()
        plan.phases[1].weightInPlan = 30
        let violations = CatalogValidator.validate(plan)
        #expect(violations.map(\.field) == ["phases"])
        #expect(violations.first?.foundSum == 90)
    }

    @Test("Every violation is reported at once")
    func everyViolationAtOnce() {
        var plan = samplePlan()
        plan.code = "con espacios"
        plan.phases[0].weightInPlan = 0                       // out of range, and the plan sums to 40
        plan.phases[1].stageCode = "M9"                       // unknown stage
        plan.milestones[4].phaseCode = "F7"                   // unknown phase, and F2 sums to 66.66
        plan.milestones[3].code = "H3"                        // duplicate
        plan.milestones[0].name = "  "                        // empty name
        plan.phases.append(Phase(code: "F3", name: "Tres", weightInPlan: 10, position: 3))
        let fields = Set(CatalogValidator.validate(plan).map { "\($0.field) \($0.code)" })
        #expect(fields == [
            "code invalid_code",
            "phases[F1].weight_in_plan weight_out_of_range",
            "phases[F2].stage_code unknown_stage",
            "phases weights_sum",
            "milestones[H3].code duplicate_code",
            "milestones[H1].name empty_name",
            "milestones[H5].phase_code unknown_phase",
            "phases[F2].milestones weights_sum",
            "phases[F3].milestones phase_without_milestones",
        ])
    }

    @Test("A weight above 100 or negative is out of range")
    func weightRange() {
        var plan = samplePlan()
        plan.milestones[0].weightInPhase = 101
        plan.milestones[1].weightInPhase = -1
        let violations = CatalogValidator.validate(plan)
        #expect(violations.contains { $0.field == "milestones[H1].weight_in_phase" && $0.code == "weight_out_of_range" })
        #expect(violations.contains { $0.field == "milestones[H2].weight_in_phase" && $0.code == "weight_out_of_range" })
        #expect(!violations.contains { $0.field == "phases[F1].milestones" })  // 101 + (−1) still sums to 100
    }

    @Test("Codes are letters, digits, hyphen, underscore and period, at most 40 characters")
    func codeCharset() {
        #expect(CatalogValidator.isValidCode("gap-2020-f1"))
        #expect(CatalogValidator.isValidCode("H_1.2"))
        #expect(CatalogValidator.isValidCode(String(repeating: "x", count: 40)))
        #expect(!CatalogValidator.isValidCode(String(repeating: "x", count: 41)))
        #expect(!CatalogValidator.isValidCode(""))
        #expect(!CatalogValidator.isValidCode("H 1"))
        #expect(!CatalogValidator.isValidCode("Hitó"))
        #expect(!CatalogValidator.isValidCode("H/1"))
    }

    @Test("A plan without phases is refused")
    func noPhases() {
        let plan = PlanCatalog(code: "vacio", name: "Vacío", phases: [], milestones: [])
        #expect(CatalogValidator.validate(plan).map(\.code) == ["no_phases"])
    }

    @Test("Duplicate stage and phase codes are refused")
    func duplicateStageAndPhase() {
        var plan = samplePlan()
        plan.stages.append(Stage(code: "M1", name: "Otro", position: 2))
        plan.phases[1].code = "F1"
        let fields = CatalogValidator.validate(plan).map { "\($0.field) \($0.code)" }
        #expect(fields.contains("stages[M1].code duplicate_code"))
        #expect(fields.contains("phases[F1].code duplicate_code"))
    }
}
