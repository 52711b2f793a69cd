// Tests of the report write rules that need no database: codes in order, fields, Spanish reasons, the PUT's field names.
import Foundation
import Testing
@testable import SetaDomain

@Suite("Report write rules, values")
struct ReportWriteRulesTests {
    static let may = Period("2021-05")!
    static let today = CalendarDay("2021-06-15")!

    static func problems(status: String = "done", achievedOn: String? = nil, evidence: String? = nil, comment: String? = nil,
                         period: Period = may) -> [ReportWriteRules.Problem] {
        ReportWriteRules.valueProblems(status: status, achievedOn: achievedOn.flatMap(CalendarDay.init), evidence: evidence,
                                       comment: comment, period: period, today: today)
    }

    @Test("a well-formed value breaks no rule")
    func goodValue() {
        #expect(ReportWriteRulesTests.problems().isEmpty)
        #expect(ReportWriteRulesTests.problems(status: "not_applicable", achievedOn: "2021-05-31", evidence: "Acta 3", comment: "ok").isEmpty)
        #expect(ReportWriteRulesTests.problems(evidence: String(repeating: "ñ", count: 2000)).isEmpty)   // characters, not bytes
    }

    @Test("each value rule gives its code, its field and its reason", arguments: [
        (ReportWriteRulesTests.problems(status: "finished"), ReportWriteRules.Rule.statusUnknown, "status",
         "Estado desconocido «finished»; use not_started, in_progress, done o not_applicable."),
        (ReportWriteRulesTests.problems(achievedOn: "2021-06-01"), .achievedAfterPeriod, "achieved_on",
         "La fecha de cumplimiento 2021-06-01 es posterior al fin del periodo 2021-05."),
        (ReportWriteRulesTests.problems(achievedOn: "2021-06-20", period: Period("2021-06")!), .achievedInFuture, "achieved_on",
         "La fecha de cumplimiento 2021-06-20 está en el futuro."),
        (ReportWriteRulesTests.problems(evidence: String(repeating: "x", count: 2001)), .evidenceTooLong, "evidence",
         "La evidencia supera 2000 caracteres."),
        (ReportWriteRulesTests.problems(comment: String(repeating: "x", count: 2001)), .commentTooLong, "comment",
         "El comentario supera 2000 caracteres."),
    ])
    func eachRule(problems: [ReportWriteRules.Problem], rule: ReportWriteRules.Rule, field: String, reason: String) {
        #expect(problems.map(\.rule) == [rule])
        #expect(problems.first?.field == field)
        #expect(problems.first?.reason == reason)
    }

    @Test("several broken rules come back in the rules' order")
    func order() {
        let all = Self.problems(status: "hecho", achievedOn: "2021-07-01", evidence: String(repeating: "x", count: 2001),
                                comment: String(repeating: "y", count: 2001))
        #expect(all.map(\.rule) == [.statusUnknown, .achievedAfterPeriod, .evidenceTooLong, .commentTooLong])
        let order = ReportWriteRules.Rule.allCases
        #expect(all.map { order.firstIndex(of: $0.rule)! } == all.map { order.firstIndex(of: $0.rule)! }.sorted())
    }

    @Test("a month after the current one is in the future, the current one is not")
    func futurePeriod() {
        #expect(ReportWriteRules.futurePeriod(Period("2021-06")!, currentMonth: Period("2021-06")!) == nil)
        let p = ReportWriteRules.futurePeriod(Period("2021-07")!, currentMonth: Period("2021-06")!)
        #expect(p?.rule == .periodInFuture)
        #expect(p?.field == "period")
        #expect(p?.reason == "El periodo 2021-07 está en el futuro.")
    }

    @Test("an import column names the same field of a PUT body")
    func bodyFields() {
        #expect(ReportWriteRules.bodyField("plan", index: 3) == "plan")
        #expect(ReportWriteRules.bodyField("period", index: 3) == "period")
        #expect(ReportWriteRules.bodyField("milestone", index: 3) == "milestones[3].code")
        #expect(ReportWriteRules.bodyField("achieved_on", index: 0) == "milestones[0].achieved_on")
    }

    @Test("a repeated milestone and a regression without comment have their own reasons")
    func otherReasons() {
        let r = ReportWriteRules.repeated(milestone: "H1", firstAt: "milestones[0]")
        #expect(r.rule == .milestoneRepeated && r.field == "milestone")
        #expect(r.reason == "El hito H1 aparece dos veces (también en milestones[0]).")
        let g = ReportWriteRules.regressionWithoutComment(milestone: "H1", to: .notApplicable)
        #expect(g.field == "comment")
        #expect(g.reason == "El hito H1 estaba cumplido (done); pasar a not_applicable exige un comentario que lo explique.")
    }
}
