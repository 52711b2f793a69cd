// GET /v1/agenda: what a person must do this month (agenda): reports due, overdue milestones, regressions, closing months.
import Foundation
import SetaDatabase
import SetaDomain

struct AgendaDTO: Encodable, Sendable {
    struct ReportDue: Encodable, Sendable {
        var plan: String
        var entity: EntityRefDTO
        /// The month the report is for (the one before `as_of`).
        var period: Period
        var deadline: CalendarDay
        /// Days from the agenda's reference day to the deadline; negative once it has passed.
        var daysLeft: Int
        var advisor: PersonRef?
    }
    struct OverdueEntity: Encodable, Sendable {
        var plan: String
        var entity: EntityRefDTO
        var advisor: PersonRef?
        var overdue: [String]
        var oldestDueOn: CalendarDay?
        var daysOverdue: Int?
        var expected: Decimal?
        var actual: Decimal?
        var lag: Decimal?
    }
    /// The regression as stored, and what it waits for, in one flat object.
    struct Regression: Encodable, Sendable {
        var regression: AgendaRegression
        /// `comment` when it came without one (an import), `review` when a comment explains it.
        var awaiting: String { (regression.comment ?? "").isEmpty ? "comment" : "review" }

        enum CodingKeys: String, CodingKey { case awaiting }

        func encode(to encoder: Encoder) throws {
            try regression.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(awaiting, forKey: .awaiting)
        }
    }
    struct ClosingMonth: Encodable, Sendable {
        var plan: String
        /// Months of the quarter not yet locked; the quarterly cut (corte) locks them.
        var months: [Period]
        var quarter: String
        /// The last on-time day of the quarter's last month: the cut is expected after it.
        var closesAfter: CalendarDay
        var daysLeft: Int
    }
    struct AdvisorLine: Encodable, Sendable {
        /// Null for entities with no advisor assigned this month.
        var advisor: PersonRef?
        var entities: Int
        var reportsDue: Int
        var overdueEntities: Int
        var overdueMilestones: Int
        var regressions: Int
    }
    var person: PersonRef
    var role: String
    var asOf: Period
    /// The day days are counted from: today when it falls in `as_of`, else that month's first or last day.
    var referenceDay: CalendarDay
    var reportsDue: [ReportDue]
    /// Worst first: the oldest missed deadline, then the most milestones overdue.
    var overdue: [OverdueEntity]
    var regressions: [Regression]
    var closingMonths: [ClosingMonth]
    /// Coordinators and the central team: the same, counted per advisor.
    var byAdvisor: [AdvisorLine]?
}

enum AgendaRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/agenda", show)
    }

    /// Parses who and which month, checks that only the central team reads another person's agenda.
    @Sendable static func show(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let asOf = try ctx.period("as_of", required: false, default: Period.current(at: ctx.now))!
        let planFilter = try ctx.query("plan").flatMap { $0.isEmpty ? nil : $0 }
        let personParam = try ctx.query("person").flatMap { $0.isEmpty ? nil : $0 }
        let personId: Int64?
        if let text = personParam {
            guard let id = Int64(text), id > 0 else { throw APIError.badRequest("`person` debe ser un id de persona.", field: "person") }
            guard caller.role == .central || id == caller.personId else {
                throw APIError.forbidden("Solo el equipo central consulta la agenda de otra persona.")
            }
            personId = id
        } else {
            personId = nil
        }
        let today = CalendarDay(date: ctx.now)
        let limit = ctx.app.configuration.maxPageSize
        let dto = try ctx.db.withConnection { conn -> AgendaDTO in
            let who: (id: Int64, name: String, role: String, regions: [String])
            if let personId, personId != caller.personId {
                let p = try PeopleStore.requirePerson(conn, id: personId)
                who = (p.id, p.name, p.role, p.regions)
            } else {
                who = (caller.personId, caller.name, caller.role.rawValue, caller.regions)
            }
            if let planFilter { _ = try CatalogStore.requirePlan(conn, code: planFilter) }
            let subject: AgendaStore.Subject
            switch who.role {
            case "advisor": subject = .advisor(who.id)
            case "coordinator": subject = .regions(who.regions)
            case "central": subject = .everyone
            default: subject = who.regions.isEmpty ? .everyone : .regions(who.regions)
            }
            return try agenda(conn, who: who, subject: subject, asOf: asOf, plan: planFilter, today: today, limit: limit)
        }
        return try .json(dto)
    }

    static func agenda(_ conn: Connection, who: (id: Int64, name: String, role: String, regions: [String]),
                       subject: AgendaStore.Subject, asOf: Period, plan: String?, today: CalendarDay, limit: Int) throws -> AgendaDTO {
        let reference = min(max(today, asOf.firstDay), asOf.lastDay)
        let reportMonth = asOf.previous
        // Reports for last month are owed by whoever had the entity last month; the rest is about this month.
        let owed = try AgendaStore.entities(conn, subject: subject, month: reportMonth, plan: plan)
        let current = try AgendaStore.entities(conn, subject: subject, month: asOf, plan: plan)
        let plans = Array(Set(owed.map(\.plan) + current.map(\.plan))).sorted()
        var reportsDue: [AgendaDTO.ReportDue] = []
        var overdue: [AgendaDTO.OverdueEntity] = []
        var regressions: [AgendaDTO.Regression] = []
        var closing: [AgendaDTO.ClosingMonth] = []
        for code in plans {
            guard let planRow = try CatalogStore.plan(conn, code: code) else { continue }
            let deadline = reportMonth.deadline(onTimeDay: planRow.onTimeDay)
            let owedHere = owed.filter { $0.plan == code }
            let missing = try AgendaStore.unreported(conn, plan: code, period: reportMonth, entities: owedHere.map(\.entity))
            for e in owedHere where missing.contains(e.entity) {
                reportsDue.append(.init(plan: code, entity: EntityRefDTO(code: e.entity, name: e.name), period: reportMonth,
                                        deadline: deadline, daysLeft: ScheduleEngine.days(from: reference, to: deadline),
                                        advisor: PersonRef(id: e.advisorId, name: e.advisorName)))
            }
            let here = current.filter { $0.plan == code }
            let byEntity = Dictionary(here.map { ($0.entity, $0) }, uniquingKeysWith: { a, _ in a })
            for row in try ScheduleStore.standings(conn, plan: code, version: planRow.currentVersion, month: asOf,
                                                   entities: here.map(\.entity)) where row.overdueCount > 0 {
                let e = byEntity[row.entity]
                overdue.append(.init(plan: code, entity: EntityRefDTO(code: row.entity, name: e?.name ?? row.entity),
                                     advisor: PersonRef(id: e?.advisorId, name: e?.advisorName), overdue: row.overdue,
                                     oldestDueOn: row.oldestDueOn,
                                     daysOverdue: row.oldestDueOn.map { ScheduleEngine.days(from: $0, to: asOf.lastDay) },
                                     expected: row.expected?.rounded(scale: 2), actual: row.actual?.rounded(scale: 2),
                                     lag: row.lag?.rounded(scale: 2)))
            }
            for g in try AgendaStore.regressions(conn, plan: code, entities: here.map(\.entity), from: asOf.advanced(by: -2),
                                                 to: asOf, limit: limit) {
                regressions.append(.init(regression: g))
            }
            // The quarterly cut follows the deadline of the quarter's last month: when last month closed a
            // quarter, its months lock soon.
            if reportMonth.month % 3 == 0 {
                let months = (0..<3).map { reportMonth.advanced(by: -$0) }.reversed()
                let open = try AgendaStore.unlocked(conn, plan: code, months: Array(months))
                if !open.isEmpty {
                    closing.append(.init(plan: code, months: open, quarter: reportMonth.quarterLabel, closesAfter: deadline,
                                         daysLeft: ScheduleEngine.days(from: reference, to: deadline)))
                }
            }
        }
        overdue.sort { a, b in
            let da = a.oldestDueOn ?? asOf.lastDay, db = b.oldestDueOn ?? asOf.lastDay
            if da != db { return da < db }
            if a.overdue.count != b.overdue.count { return a.overdue.count > b.overdue.count }
            return (a.plan, a.entity.code) < (b.plan, b.entity.code)
        }
        reportsDue.sort { ($0.daysLeft, $0.plan, $0.entity.code) < ($1.daysLeft, $1.plan, $1.entity.code) }

        var byAdvisor: [AgendaDTO.AdvisorLine]?
        if who.role != "advisor" {
            var lines: [Int64: AgendaDTO.AdvisorLine] = [:]
            func key(_ id: Int64?) -> Int64 { id ?? 0 }
            for e in current {
                lines[key(e.advisorId), default: .init(advisor: PersonRef(id: e.advisorId, name: e.advisorName), entities: 0,
                                                       reportsDue: 0, overdueEntities: 0, overdueMilestones: 0, regressions: 0)].entities += 1
            }
            for d in reportsDue {
                lines[key(d.advisor?.id), default: .init(advisor: d.advisor, entities: 0, reportsDue: 0, overdueEntities: 0,
                                                          overdueMilestones: 0, regressions: 0)].reportsDue += 1
            }
            for o in overdue {
                lines[key(o.advisor?.id)]?.overdueEntities += 1
                lines[key(o.advisor?.id)]?.overdueMilestones += o.overdue.count
            }
            let advisorOf = Dictionary(current.map { ("\($0.plan)|\($0.entity)", $0.advisorId) }, uniquingKeysWith: { a, _ in a })
            for g in regressions { lines[key(advisorOf["\(g.regression.plan)|\(g.regression.entity)"] ?? nil)]?.regressions += 1 }
            byAdvisor = lines.values.sorted { a, b in
                if a.overdueMilestones != b.overdueMilestones { return a.overdueMilestones > b.overdueMilestones }
                if a.reportsDue != b.reportsDue { return a.reportsDue > b.reportsDue }
                return (a.advisor?.name ?? "") < (b.advisor?.name ?? "")
            }
        }
        return AgendaDTO(person: PersonRef(id: who.id, name: who.name)!, role: who.role, asOf: asOf, referenceDay: reference,
                         reportsDue: Array(reportsDue.prefix(limit)), overdue: Array(overdue.prefix(limit)),
                         regressions: regressions, closingMonths: closing, byAdvisor: byAdvisor)
    }
}
