// The schedule rules worked by hand on Fase I of Gobierno al Plan 2020: due dates, Decreto 683, expected progress and lag.
import Foundation
import Testing
@testable import SetaDomain

@Suite("Schedule engine")
struct ScheduleEngineTests {
    /// Fase I with the calendar shipped in Data/schedule-gobierno-al-plan-2020.csv.
    static func faseI() throws -> PlanCatalog {
        var plan = try RepositoryData.plan("gap-2020-f1")
        for (code, date) in [("H11", "2020-02-29"), ("H18", "2020-04-30"), ("H22", "2020-05-31")] {
            plan.milestones[plan.milestones.firstIndex { $0.code == code }!].dueOn = CalendarDay(date)!
        }
        for code in ["H16", "H20"] {
            plan.milestones[plan.milestones.firstIndex { $0.code == code }!].notApplicableAllowed = true
        }
        return plan
    }

    static let decreto683: [String: CalendarDay] = ["H18": CalendarDay("2020-06-15")!, "H22": CalendarDay("2020-07-15")!]

    /// H1 to H18 done: phases 1 to 4 complete, 80.
    static func doneThroughH18() -> [String: MilestoneStatus] {
        Dictionary(uniqueKeysWithValues: (1...18).map { ("H\($0)", MilestoneStatus.done) })
    }

    @Test("a milestone is due by the earliest deadline at or after it in plan order")
    func effectiveDueDatesInheritTheNextDeadline() throws {
        let due = ScheduleEngine.effectiveDueDates(plan: try Self.faseI())
        #expect(due["H1"] == CalendarDay("2020-02-29"))
        #expect(due["H11"] == CalendarDay("2020-02-29"))
        #expect(due["H12"] == CalendarDay("2020-04-30"))
        #expect(due["H19"] == CalendarDay("2020-05-31"))
        // H21 (publish) comes after approval in the plan's order and no date follows it: never due.
        #expect(due["H21"] == nil)
    }

    @Test("an entity without Decreto 683 is behind in June 2020 by 16 points with H19, H20 and H22 overdue")
    func withoutDecreeIsBehindInJune() throws {
        let s = ScheduleEngine.standing(plan: try Self.faseI(), statuses: Self.doneThroughH18(), asOf: Period("2020-06")!)
        // Expected: everything but H21 (4 points) = 96; actual 80.
        #expect(s.expected == 96)
        #expect(s.actual == 80)
        #expect(s.lag == 16)
        #expect(s.overdue.map(\.code) == ["H19", "H20", "H22"])
        #expect(s.overdue.first?.daysOverdue == 30)
        #expect(s.isBehind)
    }

    @Test("an entity under Decreto 683 is not behind in June 2020 with the same reports")
    func underDecreeIsNotBehindInJune() throws {
        let s = ScheduleEngine.standing(plan: try Self.faseI(), statuses: Self.doneThroughH18(),
                                        exceptions: Self.decreto683, asOf: Period("2020-06")!)
        #expect(s.expected == 80)
        #expect(s.lag == 0)
        #expect(s.overdue.isEmpty)
        #expect(!s.isBehind)
        // In July its approval is due too.
        let july = ScheduleEngine.standing(plan: try Self.faseI(), statuses: Self.doneThroughH18(),
                                           exceptions: Self.decreto683, asOf: Period("2020-07")!)
        #expect(july.overdue.map(\.code) == ["H19", "H20", "H22"])
    }

    @Test("a not-applicable milestone leaves expected and actual alike")
    func notApplicableRescalesExpectedToo() throws {
        var statuses = Self.doneThroughH18()
        statuses["H20"] = .notApplicable
        let s = ScheduleEngine.standing(plan: try Self.faseI(), statuses: statuses, asOf: Period("2020-06")!)
        // Phase 5 without H20: H19 10, H22 40, H21 20 of 70; expected has H19 and H22 = 50/70 of 20 points.
        #expect(s.overdue.map(\.code) == ["H19", "H22"])
        // 80 + 20 × (50 × 100 / 70) / 100 = 94.2857…
        #expect(s.expected?.rounded(scale: 2) == Decimal(string: "94.29"))
        #expect(s.lag?.rounded(scale: 2) == Decimal(string: "14.29"))
    }

    @Test("in March 2020 phases 1 and 2 are expected: 50")
    func marchExpectsTheDraftPlan() throws {
        let s = ScheduleEngine.standing(plan: try Self.faseI(), statuses: [:], asOf: Period("2020-03")!)
        #expect(s.expected == 50)
        #expect(s.actual == 0)
        #expect(s.overdue.count == 11)
    }

    @Test("due dates outside the plan's span are named")
    func datesOutsideSpan() throws {
        var plan = try Self.faseI()
        plan.milestones[0].dueOn = CalendarDay("2021-01-01")!
        let span = PlanSpan(from: Period("2020-01")!, to: Period("2020-12")!)
        #expect(ScheduleEngine.datesOutsideSpan(plan: plan, span: span).map(\.code) == ["H1"])
        #expect(ScheduleEngine.datesOutsideSpan(plan: try Self.faseI(), span: span).isEmpty)
        #expect(ScheduleEngine.datesOutsideSpan(plan: try Self.faseI(), span: nil).count == 3)
    }

    @Test("days between civil dates count leap days")
    func daysBetween() {
        #expect(ScheduleEngine.days(from: CalendarDay("2020-02-28")!, to: CalendarDay("2020-03-01")!) == 2)
        #expect(ScheduleEngine.days(from: CalendarDay("2020-05-31")!, to: CalendarDay("2020-06-30")!) == 30)
        #expect(ScheduleEngine.days(from: CalendarDay("2020-06-30")!, to: CalendarDay("2020-05-31")!) == -30)
    }
}
