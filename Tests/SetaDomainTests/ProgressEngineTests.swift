// Golden tests of the progress rules against the 2020 report's tables (Data/catalog-gobierno-al-plan-2020.csv).
import Foundation
import Testing
@testable import SetaDomain

@Suite("Progress engine: Fase I of Gobierno al Plan")
struct FaseIProgressTests {
    @Test("Fase I with every milestone done is exactly 100.00")
    func allDoneIsHundred() throws {
        let plan = try RepositoryData.faseI()
        let progress = ProgressEngine.entityProgress(plan: plan, statuses: done(plan.milestones.map(\.code)))
        #expect(progress.total == 100)
        #expect(progress.total?.fixedString(scale: 2) == "100.00")
        #expect(progress.phases.allSatisfy { $0.completed && $0.progress == 100 })
    }

    @Test("Fase I with nothing reported is 0.00 and no phase is complete")
    func nothingReportedIsZero() throws {
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: [:])
        #expect(progress.total == 0)
        #expect(progress.phases.allSatisfy { !$0.completed && $0.progress == 0 })
    }

    @Test("Fase I with H1 to H7 done is exactly 20.00 and completes phase 1")
    func firstSevenAreTwenty() throws {
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: done(milestones(1...7)))
        #expect(progress.total == 20)
        #expect(progress.total?.fixedString(scale: 2) == "20.00")
        #expect(progress.phase("F1")?.completed == true)
        #expect(progress.phase("F1")?.progress == 100)
        #expect(progress.phase("F2")?.completed == false)
    }

    @Test("Fase I with H1 to H11 done is 50.00")
    func firstElevenAreFifty() throws {
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: done(milestones(1...11)))
        #expect(progress.total == 50)
    }

    @Test("Fase I with only H9 done is 7.50")
    func onlyH9IsSevenAndAHalf() throws {
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: done(["H9"]))
        #expect(progress.total == dec("7.5"))
        #expect(progress.total?.fixedString(scale: 2) == "7.50")
    }

    @Test("Fase I with only H16 done is 3.333, written 3.33")
    func onlyH16IsThreePointThirtyThree() throws {
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: done(["H16"]))
        #expect(progress.total == dec("3.333"))
        #expect(progress.total?.fixedString(scale: 2) == "3.33")
    }

    @Test("H16 not applicable with H17 and H18 done puts phase F4 at 100.00")
    func notApplicableMilestoneLeavesThePhase() throws {
        var statuses = done(["H17", "H18"])
        statuses["H16"] = .notApplicable
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: statuses)
        let f4 = try #require(progress.phase("F4"))
        #expect(f4.progress == 100)
        #expect(f4.completed)
        #expect(progress.total == 10)
    }

    @Test("H16 not applicable and only H17 done rescales F4 to 33.33 / 66.67")
    func notApplicableRescalesThePhase() throws {
        let progress = ProgressEngine.entityProgress(
            plan: try RepositoryData.faseI(), statuses: ["H16": .notApplicable, "H17": .done])
        let f4 = try #require(progress.phase("F4")?.progress)
        #expect(f4.fixedString(scale: 2) == "49.99")
        #expect(f4 == dec("3333") / dec("66.67"))
        #expect(progress.total?.fixedString(scale: 2) == "5.00")
    }

    @Test("Everything but H21 is 96.00")
    func everythingButH21IsNinetySix() throws {
        let plan = try RepositoryData.faseI()
        let progress = ProgressEngine.entityProgress(plan: plan, statuses: done(plan.milestones.map(\.code).filter { $0 != "H21" }))
        #expect(progress.total == 96)
        #expect(progress.phase("F5")?.completed == false)
    }

    @Test("In progress earns nothing: H1 to H7 in progress is 0")
    func inProgressEarnsNothing() throws {
        let statuses = Dictionary(uniqueKeysWithValues: milestones(1...7).map { ($0, MilestoneStatus.inProgress) })
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: statuses)
        #expect(progress.total == 0)
    }

    @Test("A phase whose milestones are all not applicable drops out and the other weights rescale")
    func droppedPhaseRescalesThePlan() throws {
        // F4 (weight 10) drops out; F1 done (weight 20) → 20 / 90 of the remaining weight.
        var statuses = done(milestones(1...7))
        for code in ["H16", "H17", "H18"] { statuses[code] = .notApplicable }
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: statuses)
        #expect(progress.phase("F4")?.progress == nil)
        #expect(progress.phase("F4")?.completed == false)
        #expect(progress.total == dec("2000") / dec("90"))
        #expect(progress.total?.fixedString(scale: 2) == "22.22")
    }

    @Test("Every milestone done except the not applicable ones is exactly 100")
    func doneAroundNotApplicableIsHundred() throws {
        let plan = try RepositoryData.faseI()
        var statuses = done(plan.milestones.map(\.code))
        statuses["H16"] = .notApplicable
        statuses["H20"] = .notApplicable
        let progress = ProgressEngine.entityProgress(plan: plan, statuses: statuses)
        #expect(progress.total == 100)
    }

    @Test("An entity for which every milestone is not applicable has no progress (no aplica)")
    func allNotApplicableHasNoTotal() throws {
        let plan = try RepositoryData.faseI()
        let statuses = Dictionary(uniqueKeysWithValues: plan.milestones.map { ($0.code, MilestoneStatus.notApplicable) })
        let progress = ProgressEngine.entityProgress(plan: plan, statuses: statuses)
        #expect(progress.total == nil)
        #expect(progress.phases.allSatisfy { $0.progress == nil })
    }

    @Test("Statuses of codes that are not in the plan are ignored")
    func unknownCodesAreIgnored() throws {
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: done(["H99", "X1"]))
        #expect(progress.total == 0)
    }

    @Test("Phases come out in the plan's order")
    func phasesInPlanOrder() throws {
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseI(), statuses: [:])
        #expect(progress.phases.map(\.code) == ["F1", "F2", "F3", "F4", "F5"])
    }
}

@Suite("Progress engine: Fase II of Gobierno al Plan")
struct FaseIIProgressTests {
    @Test("Fase II with H1 to H4 done is 15.00")
    func firstFourAreFifteen() throws {
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseII(), statuses: done(milestones(1...4)))
        #expect(progress.total == 15)
        #expect(progress.phase("I1")?.completed == true)
    }

    @Test("Fase II with H14 alone is 10.00")
    func h14AloneIsTen() throws {
        let progress = ProgressEngine.entityProgress(plan: try RepositoryData.faseII(), statuses: done(["H14"]))
        #expect(progress.total == 10)
    }

    @Test("Fase II with every milestone done is exactly 100.00")
    func allDoneIsHundred() throws {
        let plan = try RepositoryData.faseII()
        let progress = ProgressEngine.entityProgress(plan: plan, statuses: done(plan.milestones.map(\.code)))
        #expect(progress.total == 100)
    }
}

@Suite("Progress engine: status as of a period")
struct StatusAsOfTests {
    let march = Period("2020-03")!

    @Test("A milestone done in 2020-03 and not reported later is done as of 2020-07")
    func doneStaysDone() {
        #expect(ProgressEngine.statusAsOf([(march, .done)], asOf: Period("2020-07")!) == .done)
    }

    @Test("A milestone done in 2020-03 is not started as of 2020-02")
    func notYetReported() {
        #expect(ProgressEngine.statusAsOf([(march, .done)], asOf: Period("2020-02")!) == .notStarted)
    }

    @Test("With no report at all a milestone is not started")
    func noReportIsNotStarted() {
        #expect(ProgressEngine.statusAsOf([], asOf: march) == .notStarted)
    }

    @Test("The latest report up to the period wins, whatever the order of the history")
    func latestReportWins() {
        let history: ProgressEngine.History = [
            (Period("2020-05")!, .done), (Period("2020-02")!, .inProgress), (Period("2020-04")!, .notApplicable),
        ]
        #expect(ProgressEngine.statusAsOf(history, asOf: Period("2020-03")!) == .inProgress)
        #expect(ProgressEngine.statusAsOf(history, asOf: Period("2020-04")!) == .notApplicable)
        #expect(ProgressEngine.statusAsOf(history, asOf: Period("2020-12")!) == .done)
    }

    @Test("Two revisions of the same period: the later one in the history wins")
    func laterRevisionWins() {
        let history: ProgressEngine.History = [(march, .done), (march, .inProgress)]
        #expect(ProgressEngine.statusAsOf(history, asOf: march) == .inProgress)
    }

    @Test("A status may go back: done in March, in progress in May")
    func statusMayGoBack() {
        let history: ProgressEngine.History = [(march, .done), (Period("2020-05")!, .inProgress)]
        #expect(ProgressEngine.statusAsOf(history, asOf: Period("2020-04")!) == .done)
        #expect(ProgressEngine.statusAsOf(history, asOf: Period("2020-06")!) == .inProgress)
    }

    @Test("Entity progress over histories follows the period asked for")
    func entityProgressOverHistories() throws {
        let plan = try RepositoryData.faseI()
        var history: [String: ProgressEngine.History] = [:]
        for code in milestones(1...7) { history[code] = [(march, .done)] }
        history["H9"] = [(Period("2020-05")!, .done)]
        #expect(ProgressEngine.entityProgress(plan: plan, history: history, asOf: Period("2020-02")!).total == 0)
        #expect(ProgressEngine.entityProgress(plan: plan, history: history, asOf: Period("2020-04")!).total == 20)
        #expect(ProgressEngine.entityProgress(plan: plan, history: history, asOf: Period("2020-07")!).total == dec("27.5"))
    }
}
