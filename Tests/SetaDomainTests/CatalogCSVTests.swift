// Tests of CatalogCSV against Data/catalog-gobierno-al-plan-2020.csv and small broken variants.
import Foundation
import Testing
@testable import SetaDomain

private let header = CatalogCSV.header.joined(separator: ",")

@Suite("Catalog CSV")
struct CatalogCSVTests {
    @Test("The 2020 file holds Fase I and Fase II, in that order")
    func twoPlans() throws {
        let plans = try RepositoryData.catalogs()
        #expect(plans.map(\.code) == ["gap-2020-f1", "gap-2020-f2"])
        #expect(plans.allSatisfy { $0.version == 1 })
    }

    @Test("Fase I has 5 phases and 22 milestones, no stages, and H22 before H21")
    func faseIShape() throws {
        let plan = try RepositoryData.faseI()
        #expect(plan.stages.isEmpty)
        #expect(plan.phases.map(\.code) == ["F1", "F2", "F3", "F4", "F5"])
        #expect(plan.phases.map(\.position) == [1, 2, 3, 4, 5])
        #expect(plan.milestones.count == 22)
        let codes = plan.milestones.map(\.code)
        #expect(codes.suffix(2) == ["H22", "H21"])
        #expect(plan.milestone(code: "H22")?.position == 21)
        #expect(plan.milestone(code: "H16")?.weightInPhase == dec("33.33"))
        #expect(plan.phases.allSatisfy { $0.stageCode == nil })
    }

    @Test("Fase II has 4 stages, 10 phases and 22 milestones, stages coded M1 to M4 in order")
    func faseIIShape() throws {
        let plan = try RepositoryData.faseII()
        #expect(plan.stages.map(\.code) == ["M1", "M2", "M3", "M4"])
        #expect(plan.stages.first?.name == "Organice la entidad territorial para gerenciar el plan")
        #expect(plan.phases.count == 10)
        #expect(plan.milestones.count == 22)
        #expect(plan.phase(code: "I1")?.stageCode == "M1")
        #expect(plan.phase(code: "I10")?.stageCode == "M4")
        #expect(plan.phase(code: "I6")?.weightInPlan == 10)
    }

    @Test("A derived weight in plan that disagrees with phase × milestone / 100 is refused, naming the line")
    func derivedMismatchIsRefused() throws {
        let text = header + "\n" + "p,Plan,,F1,Fase,20,H1,Hito,5,1,2\n"
        let error = try #require(throws: CSVError.self) { try CatalogCSV.parse(text) }
        #expect(error.line == 2)
        #expect(error.field == "milestone_weight_in_plan")
    }

    @Test("The derived column may be rounded to the cent, or absent")
    func derivedColumnTolerance() throws {
        let rounded = header + "\np,Plan,,F1,Fase,10,H1,Hito,33.33,1,3.33\n"
        #expect(try CatalogCSV.parse(rounded).first?.milestones.count == 1)
        let without = CatalogCSV.header.dropLast().joined(separator: ",") + "\np,Plan,,F1,Fase,10,H1,Hito,33.33,1\n"
        #expect(try CatalogCSV.parse(without).first?.milestones.first?.weightInPhase == dec("33.33"))
    }

    @Test("A weight that is not a number is refused, naming line and column")
    func badNumber() throws {
        let text = header + "\np,Plan,,F1,Fase,20,H1,Hito,5,1,1\np,Plan,,F1,Fase,20,H2,Hito,\"5,5\",2,1.1\n"
        let error = try #require(throws: CSVError.self) { try CatalogCSV.parse(text) }
        #expect(error.line == 3)
        #expect(error.field == "milestone_weight_in_phase")
    }

    @Test("A phase repeated with another weight is refused")
    func inconsistentPhase() throws {
        let text = header + "\np,Plan,,F1,Fase,20,H1,Hito,50,1,10\np,Plan,,F1,Fase,30,H2,Hito,50,2,15\n"
        let error = try #require(throws: CSVError.self) { try CatalogCSV.parse(text) }
        #expect(error.line == 3)
        #expect(error.field == "phase_weight_in_plan")
    }

    @Test("A milestone repeated in a plan is refused")
    func duplicateMilestone() throws {
        let text = header + "\np,Plan,,F1,Fase,100,H1,Hito,50,1,50\np,Plan,,F1,Fase,100,H1,Otro,50,2,50\n"
        #expect(throws: CSVError.self) { try CatalogCSV.parse(text) }
    }

    @Test("Another header is refused")
    func wrongHeader() {
        #expect(throws: CSVError.self) { try CatalogCSV.parse("plan,phase\np,F1\n") }
    }

    @Test("Parsing does not check sums: that is the validator's job, which reports them all")
    func sumsLeftToTheValidator() throws {
        let text = header + "\np,Plan,,F1,Fase,90,H1,Hito,99,1,89.1\n"
        let plan = try #require(try CatalogCSV.parse(text).first)
        #expect(Set(CatalogValidator.validate(plan).map(\.field)) == ["phases", "phases[F1].milestones"])
    }

    @Test("Rendering the catalogs and parsing them back gives the same catalogs")
    func roundTrip() throws {
        let plans = try RepositoryData.catalogs()
        let text = CatalogCSV.render(plans)
        #expect(text.hasPrefix(header + "\r\n"))
        #expect(try CatalogCSV.parse(text) == plans)
    }
}
