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
            let plan = try CatalogStore.requirePlan(conn, code: planCode)
            let entityName = try ReportStore.requireEntity(conn, code: entity)
            try ReportStore.requireWritable(conn, caller, entity: entity, plan: plan.code, month: period)
            try ReportStore.requireEnrolled(conn, plan: plan.code, entity: entity, month: period)
            let catalog = try CatalogStore.currentCatalog(conn, code: plan.code)
            let known = Set(catalog.milestones.map(\.code))
            let unknown = writes.filter { !known.contains($0.code) }
            if !unknown.isEmpty {
                throw APIError.invalid(unknown.map {
                    FieldError(field: "milestones[\($0.index)].code",
                               message: "El hito \($0.code) no está en el catálogo vigente del plan \(plan.code).", found: $0.code)
                }, detail: "Hay hitos que no pertenecen al plan \(plan.code).")
            }
            try refuseNotApplicable(writes, catalog: catalog)
            // Catalog order, so revisions of one write are numbered in the plan's order.
            let position = Dictionary(uniqueKeysWithValues: catalog.milestones.map { ($0.code, $0.position) })
            writes.sort { (position[$0.code] ?? 0) < (position[$1.code] ?? 0) }
            try ReportStore.refuseLocked(conn, plan: plan.code, month: period)
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

    /// Only milestones whose catalog says so may be "no aplica" (the report's "cuando aplique" / "si aplica");
    /// any other is a 422 naming it, and nothing is written.
    static func refuseNotApplicable(_ writes: [MilestoneWrite], catalog: PlanCatalog) throws {
        let refused = writes.filter { w in
            w.value.status == .notApplicable && catalog.milestone(code: w.code)?.notApplicableAllowed != true
        }
        guard !refused.isEmpty else { return }
        throw APIError.invalid(refused.map { w in
            FieldError(field: "milestones[\(w.index)].status",
                       message: "El hito \(w.code) («\(catalog.milestone(code: w.code)?.name ?? w.code)») no admite not_applicable en el plan \(catalog.code).",
                       found: w.code)
        }, detail: "El hito \(refused.map(\.code).joined(separator: ", ")) no admite «no aplica» en el plan \(catalog.code).")
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

    /// Checks a body on its own (no database): statuses, duplicates, dates, lengths. Every problem is
    /// reported at once, each naming its field.
    static func validate(_ body: ReportBody, period: Period, today: CalendarDay) throws -> [MilestoneWrite] {
        var errors: [FieldError] = []
        func tooLong(_ text: String?) -> Bool { (text?.unicodeScalars.count ?? 0) > ReportLimits.maxTextLength }
        func clean(_ text: String?) -> String? {
            guard let t = text?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else { return nil }
            return t
        }
        if body.milestones.count > ReportLimits.maxMilestonesPerReport {
            throw APIError.invalid(field: "milestones", "Un reporte menciona a lo sumo \(ReportLimits.maxMilestonesPerReport) hitos.",
                                   found: "\(body.milestones.count)")
        }
        let reportComment = clean(body.comment)
        if tooLong(reportComment) {
            errors.append(FieldError(field: "comment", message: "El comentario supera \(ReportLimits.maxTextLength) caracteres."))
        }
        var seen: [String: Int] = [:]
        var writes: [MilestoneWrite] = []
        for (i, item) in body.milestones.enumerated() {
            let code = item.code.trimmingCharacters(in: .whitespaces)
            if code.isEmpty {
                errors.append(FieldError(field: "milestones[\(i)].code", message: "Falta el código del hito."))
            } else if let first = seen[code] {
                errors.append(FieldError(field: "milestones[\(i)].code",
                                         message: "El hito \(code) aparece dos veces (también en milestones[\(first)]).", found: code))
            } else {
                seen[code] = i
            }
            let status = MilestoneStatus(rawValue: item.status)
            if status == nil {
                errors.append(FieldError(field: "milestones[\(i)].status",
                                         message: "Estado desconocido; use not_started, in_progress, done o not_applicable.",
                                         found: item.status))
            }
            if let day = item.achievedOn {
                if day > period.lastDay {
                    errors.append(FieldError(field: "milestones[\(i)].achieved_on",
                                             message: "La fecha de cumplimiento es posterior al fin del periodo \(period).",
                                             found: day.description))
                } else if day > today {
                    errors.append(FieldError(field: "milestones[\(i)].achieved_on",
                                             message: "La fecha de cumplimiento está en el futuro.", found: day.description))
                }
            }
            let evidence = clean(item.evidence)
            let comment = clean(item.comment) ?? reportComment
            if tooLong(evidence) {
                errors.append(FieldError(field: "milestones[\(i)].evidence", message: "La evidencia supera \(ReportLimits.maxTextLength) caracteres."))
            }
            if tooLong(clean(item.comment)) {
                errors.append(FieldError(field: "milestones[\(i)].comment", message: "El comentario supera \(ReportLimits.maxTextLength) caracteres."))
            }
            if let status {
                writes.append(MilestoneWrite(index: i, code: code, value: MilestoneValue(
                    status: status, achievedOn: item.achievedOn, evidence: evidence, comment: comment)))
            }
        }
        if !errors.isEmpty {
            throw APIError.invalid(errors, detail: errors.count == 1 ? errors[0].message : "El reporte tiene \(errors.count) campos inválidos.")
        }
        return writes
    }
}
