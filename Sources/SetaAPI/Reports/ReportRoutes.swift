// /v1/reports/{plan}/{entity}/{period} (write and read a monthly report) and /v1/entities/{code}/history.
import Foundation
import SetaDatabase
import SetaDomain

/// The body of `PUT /v1/reports/{plan}/{entity}/{period}`. Milestones not mentioned keep their
/// carried-forward status; a mentioned milestone is replaced as a whole. The report-level `comment` is
/// the comment of every mentioned milestone that brings none of its own.
struct ReportBody: Decodable, Sendable {
    struct Item: Decodable, Sendable {
        var code: String
        var status: String
        var achievedOn: CalendarDay?
        var evidence: String?
        var comment: String?
    }
    var milestones: [Item]
    var comment: String?
}

/// A report as the API returns it.
struct ReportDTO: Encodable, Sendable {
    struct ReportedMilestone: Encodable, Sendable {
        var code: String
        var status: String
        var achievedOn: String?
        var evidence: String?
        var comment: String?
        /// The report revision that last changed this milestone.
        var revision: Int
        var updatedAt: Date
        var updatedBy: PersonRef?
    }
    struct CarriedMilestone: Encodable, Sendable {
        var code: String
        var name: String
        var phase: String
        /// The status as of the report's month (SPEC rule 1): the latest report not after it.
        var status: String
        /// The month whose report gave that status; absent when never reported (`not_started`).
        var reportedIn: Period?
    }
    var plan: String
    var entity: String
    var entityName: String
    var period: Period
    var revision: Int
    var firstReceivedAt: Date
    /// First received by the end of the plan's on-time day of the next month (Bogotá).
    var onTime: Bool
    var deadline: CalendarDay
    var updatedAt: Date
    var updatedBy: PersonRef?
    /// The milestones this month's report mentions.
    var milestones: [ReportedMilestone]
    /// Every milestone of the plan's current catalog, as of this month.
    var carried: [CarriedMilestone]
    /// Only in PUT answers: whether this request changed anything (false for an identical re-send).
    var changed: Bool?
}

/// One entry of a milestone's history.
struct RevisionDTO: Encodable, Sendable {
    var id: Int64
    var period: Period
    var milestone: String
    var revision: Int
    var previousStatus: String?
    var status: String
    var previousAchievedOn: String?
    var achievedOn: String?
    var previousEvidence: String?
    var evidence: String?
    var previousComment: String?
    var comment: String?
    var isRegression: Bool
    var source: String
    var author: PersonRef?
    var recordedAt: Date
}

enum ReportRoutes {
    /// Every route of the reporting area; the app calls only this.
    static func register(_ r: inout Router) {
        registerReports(&r)
        AsesoriaRoutes.register(&r)
        TimelinessRoutes.register(&r)
        LockRoutes.register(&r)
        ReportImportRoutes.register(&r)
    }

    static func registerReports(_ r: inout Router) {
        r.add("PUT", "/v1/reports/{plan}/{entity}/{period}", writeReport)
        r.add("GET", "/v1/reports/{plan}/{entity}/{period}", readReport)
        r.add("GET", "/v1/entities/{code}/history", history)
    }

    static func writeReport(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        guard caller.role != .viewer else { throw APIError.forbidden("Un lector no puede escribir reportes.") }
        let (planCode, entity, period) = try target(ctx)
        try ctx.refuseFuture(period, field: "period")
        let body = try ctx.decode(ReportBody.self)
        var writes = try validate(body, period: period, today: CalendarDay(date: ctx.now))
        let ifMatch = RevisionCondition.parse(ctx.request.headers["If-Match"], allowWeak: false)
        let ifNoneMatch = RevisionCondition.parse(ctx.request.headers["If-None-Match"], allowWeak: true)
        let at = ctx.now
        let (outcome, report) = try ctx.db.withTransaction { conn -> (ReportStore.WriteOutcome, ReportDTO) in
            // The database write rules, the statement the import runs too. A path naming no plan or entity is
            // a 404 for anyone; the rest is answered only to a caller allowed to write there.
            let rules = try ReportWriteChecks.check(conn, plan: planCode, entity: entity, period: period, milestones: writes)
            try rules.requireTarget()
            let plan = try CatalogStore.requirePlan(conn, code: planCode)
            let entityName = try ReportStore.requireEntity(conn, code: entity)
            try ReportStore.requireWritable(conn, caller, entity: entity, plan: plan.code, month: period)
            try rules.requireValid()
            // Catalog order, so revisions of one write are numbered in the plan's order.
            writes.sort { (rules.positions[$0.code] ?? 0) < (rules.positions[$1.code] ?? 0) }
            let outcome = try ReportStore.write(conn, plan: plan.code, entity: entity, period: period, milestones: writes,
                                                ifMatch: ifMatch, ifNoneMatch: ifNoneMatch, by: caller.personId, at: at)
            guard var report = try ReportStore.read(conn, plan: plan, entity: entity, entityName: entityName, period: period) else {
                throw APIError.notFound("El reporte no se pudo leer tras escribirlo.")
            }
            report.changed = outcome.changed
            return (outcome, report)
        }
        var headers = [("ETag", "\"\(outcome.revision)\"")]
        if outcome.created { headers.append(("Location", reportPath(report))) }
        return try .json(report, status: outcome.created ? 201 : 200, headers: headers)
    }

    static func readReport(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let (planCode, entity, period) = try target(ctx)
        let report = try ctx.db.withConnection { conn -> ReportDTO in
            let plan = try CatalogStore.requirePlan(conn, code: planCode)
            let entityName = try ReportStore.requireEntity(conn, code: entity)
            try ReportStore.requireReadable(conn, caller, entity: entity, plan: plan.code,
                                            months: [period, Period.current(at: ctx.now)])
            guard let report = try ReportStore.read(conn, plan: plan, entity: entity, entityName: entityName, period: period) else {
                throw APIError(status: 404, detail: "La entidad \(entity) no tiene reporte de \(period) en el plan \(plan.code).",
                               errors: [FieldError(field: "period", message: "Sin reporte para este mes.", found: period.description)])
            }
            return report
        }
        let etag = "\"\(report.revision)\""
        if let condition = RevisionCondition.parse(ctx.request.headers["If-None-Match"], allowWeak: true),
           condition.matches(report.revision) {
            return .empty(status: 304, headers: [("ETag", etag)])
        }
        return try .json(report, headers: [("ETag", etag)])
    }

    static func history(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let entity = ctx.param("code")
        let planCode = try ctx.requiredQuery("plan")
        let milestone = try ctx.query("milestone").flatMap { $0.isEmpty ? nil : $0 }
        let period = try ctx.period("period", required: false)
        let limit = try ctx.intQuery("limit", default: ctx.app.configuration.maxPageSize, range: 1...ctx.app.configuration.maxPageSize)
        let after = try PageCursor.key(ctx, isKey: PageCursor.isPositiveId).flatMap { Int64($0) }
        let (items, total) = try ctx.db.withConnection { conn -> ([RevisionDTO], Int) in
            let plan = try CatalogStore.requirePlan(conn, code: planCode)
            _ = try ReportStore.requireEntity(conn, code: entity, field: "code")
            try ReportStore.requireReadable(conn, caller, entity: entity, plan: plan.code,
                                            months: [Period.current(at: ctx.now)] + (period.map { [$0] } ?? []))
            let total = try ReportStore.historyCount(conn, plan: plan.code, entity: entity, milestone: milestone, period: period)
            let items = try ReportStore.history(conn, plan: plan.code, entity: entity, milestone: milestone, period: period,
                                                after: after, limit: limit)
            return (items, total)
        }
        let next = items.count == limit ? items.last.map { PageCursor.encode(key: String($0.id)) } : nil
        return try .json(ListResponse(items: items, total: total, nextCursor: next))
    }

    /// The plan, entity and month of a report path; a malformed month is a 400 naming `period`.
    static func target(_ ctx: RequestContext) throws -> (String, String, Period) {
        let text = ctx.param("period")
        guard let period = Period(text) else {
            throw APIError.badRequest("El periodo debe ser un mes AAAA-MM; se recibió «\(text)».", field: "period")
        }
        return (ctx.param("plan"), ctx.param("entity"), period)
    }

    static func reportPath(_ r: ReportDTO) -> String {
        "/v1/reports/\(r.plan)/\(r.entity)/\(r.period)"
    }

    /// Checks a body on its own (no database): the value rules of `ReportWriteRules` (the import's parser
    /// calls the same), a code present and not repeated, the report-level comment's length. Every problem
    /// is reported at once, each naming its body field.
    static func validate(_ body: ReportBody, period: Period, today: CalendarDay) throws -> [MilestoneWrite] {
        var errors: [FieldError] = []
        func clean(_ text: String?) -> String? {
            guard let t = text?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else { return nil }
            return t
        }
        if body.milestones.count > ReportLimits.maxMilestonesPerReport {
            throw APIError.invalid(field: "milestones", "Un reporte menciona a lo sumo \(ReportLimits.maxMilestonesPerReport) hitos.",
                                   found: "\(body.milestones.count)")
        }
        let reportComment = clean(body.comment)
        if let reportComment, ReportWriteRules.isTooLong(reportComment) {
            let p = ReportWriteRules.tooLong(.commentTooLong, field: "comment", what: "El comentario")
            errors.append(FieldError(field: p.field, message: p.reason))
        }
        var seen: [String: Int] = [:]
        var writes: [MilestoneWrite] = []
        for (i, item) in body.milestones.enumerated() {
            func add(_ p: ReportWriteRules.Problem) {
                errors.append(FieldError(field: ReportWriteRules.bodyField(p.field, index: i), message: p.reason, found: p.found))
            }
            let code = item.code.trimmingCharacters(in: .whitespaces)
            let evidence = clean(item.evidence)
            let comment = clean(item.comment)
            if code.isEmpty {
                errors.append(FieldError(field: "milestones[\(i)].code", message: "Falta el código del hito."))
            }
            ReportWriteRules.valueProblems(status: item.status, achievedOn: item.achievedOn, evidence: evidence,
                                           comment: comment, period: period, today: today).forEach(add)
            if let first = seen[code], !code.isEmpty {
                add(ReportWriteRules.repeated(milestone: code, firstAt: "milestones[\(first)]"))
            } else if !code.isEmpty {
                seen[code] = i
            }
            if let status = MilestoneStatus(rawValue: item.status) {
                writes.append(MilestoneWrite(index: i, code: code, value: MilestoneValue(
                    status: status, achievedOn: item.achievedOn, evidence: evidence, comment: comment ?? reportComment)))
            }
        }
        if !errors.isEmpty {
            throw APIError.invalid(errors, detail: errors.count == 1 ? errors[0].message : "El reporte tiene \(errors.count) campos inválidos.")
        }
        return writes
    }
}
