// /v1/plans: read the weighted milestone tables, create a plan, correct one (a new version).
import Foundation
import SetaFormats
import SetaDatabase
import SetaDomain

/// The wire form of a plan version (plan, momentos, fases, hitos).
struct PlanDTO: Codable, Sendable {
    struct StageDTO: Codable, Sendable { var code: String; var name: String }
    struct MilestoneDTO: Codable, Sendable {
        var code: String
        var name: String
        var weightInPhase: Decimal
        var weightInPlan: Decimal?
        /// May a report say not_applicable ("no aplica")? Absent on input means no.
        var notApplicableAllowed: Bool?
        /// Its deadline in this version (plazo), inside the plan's span.
        var dueOn: CalendarDay?
    }
    /// The months a plan runs (vigencia).
    struct SpanDTO: Codable, Sendable { var from: Period; var to: Period }
    /// A milestone that lost the not_applicable option in a correction, and how many reported values use it.
    struct RuleChangeDTO: Codable, Sendable { var milestone: String; var notApplicableReports: Int }
    struct PhaseDTO: Codable, Sendable {
        var code: String
        var name: String
        var stageCode: String?
        var weightInPlan: Decimal
        var milestones: [MilestoneDTO]
    }
    var code: String
    var name: String
    var version: Int?
    var currentVersion: Int?
    var onTimeDay: Int?
    var span: SpanDTO?
    var stages: [StageDTO]?
    var phases: [PhaseDTO]
    /// Only in PUT answers: milestones whose not_applicable option this correction removed. Their past
    /// reports stay as they were; new reports can no longer use it.
    var notApplicableRemoved: [RuleChangeDTO]?

    init(_ c: PlanCatalog, currentVersion: Int, onTimeDay: Int, span: PlanSpan? = nil) {
        code = c.code
        name = c.name
        version = c.version
        self.currentVersion = currentVersion
        self.onTimeDay = onTimeDay
        self.span = span.map { SpanDTO(from: $0.from, to: $0.to) }
        stages = c.stages.map { StageDTO(code: $0.code, name: $0.name) }
        phases = c.phases.map { p in
            PhaseDTO(code: p.code, name: p.name, stageCode: p.stageCode, weightInPlan: p.weightInPlan,
                     milestones: c.milestones.filter { $0.phaseCode == p.code }.map { m in
                         MilestoneDTO(code: m.code, name: m.name, weightInPhase: m.weightInPhase,
                                      weightInPlan: c.weightInPlan(of: m.code),
                                      notApplicableAllowed: m.notApplicableAllowed, dueOn: m.dueOn)
                     })
        }
    }

    /// The domain plan, positions from the order written; weights taken as sent.
    func catalog(version: Int) -> PlanCatalog {
        var position = 0
        var milestones: [Milestone] = []
        let phases = self.phases.enumerated().map { (i, p) -> Phase in
            for m in p.milestones {
                position += 1
                milestones.append(Milestone(code: m.code, name: m.name, phaseCode: p.code,
                                            weightInPhase: m.weightInPhase, position: position,
                                            notApplicableAllowed: m.notApplicableAllowed ?? false, dueOn: m.dueOn))
            }
            return Phase(code: p.code, name: p.name, stageCode: p.stageCode, weightInPlan: p.weightInPlan, position: i + 1)
        }
        let stages = (self.stages ?? []).enumerated().map { Stage(code: $1.code, name: $1.name, position: $0 + 1) }
        return PlanCatalog(code: code, name: name, version: version, stages: stages, phases: phases, milestones: milestones)
    }
}

struct PlanCorrectionDTO: Codable, Sendable {
    var name: String
    var reason: String
    var onTimeDay: Int?
    /// Absent keeps the stored span.
    var span: PlanDTO.SpanDTO?
    var stages: [PlanDTO.StageDTO]?
    var phases: [PlanDTO.PhaseDTO]
}

enum CatalogRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/plans", listPlans)
        r.add("GET", "/v1/plans/{code}", showPlan)
        r.add("GET", "/v1/plans/{code}/versions", listVersions)
        r.add("POST", "/v1/plans", createPlan)

        // A correction (weights, names, milestones) is a new version; older ones stay readable and cuts keep theirs.
        r.add("PUT", "/v1/plans/{code}", correctPlan)
    }

    static func listPlans(_ ctx: RequestContext) throws -> APIResponse {
        let plans = try ctx.db.withConnection { conn in try CatalogStore.summaries(conn) }
        if ctx.wantsTable {
            return .table(filename: "planes") { sink in
                try sink.header(["code", "name", "current_version", "on_time_day", "phase_count", "milestone_count"])
                for p in plans {
                    try sink.row([.text(p.code), .text(p.name), .integer(p.currentVersion), .integer(p.onTimeDay), .integer(p.phaseCount),
                              .integer(p.milestoneCount)])
                }
            }
        }
        return try .json(ListResponse(items: plans, total: plans.count, nextCursor: nil))
    }

    static func showPlan(_ ctx: RequestContext) throws -> APIResponse {
        let code = ctx.param("code")
        let requested = try ctx.query("version").map { text -> Int in
            guard let v = Int(text), v >= 1 else {
                throw APIError.badRequest("`version` debe ser un entero positivo.", field: "version")
            }
            return v
        }
        let dto = try ctx.db.withConnection { conn -> PlanDTO in
            let plan = try CatalogStore.requirePlan(conn, code: code, field: "code")
            let version = requested ?? plan.currentVersion
            guard let c = try CatalogStore.catalog(conn, code: code, version: version) else {
                throw APIError(status: 404, detail: "El plan «\(code)» no tiene versión \(version).",
                               errors: [FieldError(field: "version", message: "Versión inexistente.", found: "\(version)")])
            }
            return PlanDTO(c, currentVersion: plan.currentVersion, onTimeDay: plan.onTimeDay, span: plan.span)
        }
        return try .json(dto)
    }

    static func listVersions(_ ctx: RequestContext) throws -> APIResponse {
        let code = ctx.param("code")
        let versions = try ctx.db.withConnection { conn in
            _ = try CatalogStore.requirePlan(conn, code: code, field: "code")
            return try CatalogStore.versions(conn, code: code).map {
                PlanVersionSummary(version: $0.version, name: $0.name, reason: $0.reason, createdAt: $0.createdAt)
            }
        }
        return try .json(ListResponse(items: versions, total: versions.count, nextCursor: nil))
    }

    static func createPlan(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let body = try ctx.decode(PlanDTO.self)
        let onTimeDay = body.onTimeDay ?? 10
        guard (1...28).contains(onTimeDay) else {
            throw APIError.invalid(field: "on_time_day", "Debe estar entre 1 y 28.", found: "\(onTimeDay)")
        }
        let plan = body.catalog(version: 1)
        let span = try Self.span(body.span)
        try validate(plan)
        try validateDueDates(plan, span: span)
        let caller = try ctx.caller
        let dto = try ctx.db.withTransaction { conn -> PlanDTO in
            if try CatalogStore.plan(conn, code: plan.code) != nil {
                throw APIError.conflict("Ya existe el plan «\(plan.code)».",
                                        errors: [FieldError(field: "code", message: "Código en uso.", found: plan.code)])
            }
            try CatalogStore.create(conn, plan, onTimeDay: onTimeDay, by: caller.personId)
            try CatalogStore.setSpan(conn, plan: plan.code, span: span)
            return PlanDTO(plan, currentVersion: 1, onTimeDay: onTimeDay, span: span)
        }
        return try .json(dto, status: 201, headers: [("Location", "/v1/plans/\(plan.code)")])
    }

    static func correctPlan(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let code = ctx.param("code")
        let body = try ctx.decode(PlanCorrectionDTO.self)
        if body.reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError.invalid(field: "reason", "Toda corrección del catálogo necesita un motivo.")
        }
        if let d = body.onTimeDay, !(1...28).contains(d) {
            throw APIError.invalid(field: "on_time_day", "Debe estar entre 1 y 28.", found: "\(d)")
        }
        let bodySpan = try Self.span(body.span)
        let caller = try ctx.caller
        let dto = try ctx.db.withTransaction { conn -> PlanDTO in
            let (current, storedDay) = try CatalogStore.lockForCorrection(conn, code: code)
            let onTimeDay = body.onTimeDay ?? storedDay
            let next = PlanDTO(code: code, name: body.name, stages: body.stages, phases: body.phases).catalog(version: current + 1)
            try validate(next)
            let span = try bodySpan ?? CatalogStore.plan(conn, code: code)?.span
            try validateDueDates(next, span: span)
            let previous = try CatalogStore.catalog(conn, code: code, version: current)
            let kept = Set(next.milestones.map(\.code))
            let orphaned = try CatalogStore.reportedMilestones(conn, plan: code).subtracting(kept).sorted()
            if !orphaned.isEmpty {
                throw APIError.conflict("No se puede eliminar un hito que tiene reportes: \(orphaned.joined(separator: ", ")).",
                                        errors: orphaned.map { FieldError(field: "milestones[\($0)]", message: "El hito tiene reportes.", found: $0) })
            }
            try CatalogStore.insertVersion(conn, next, reason: body.reason, by: caller.personId)
            try CatalogStore.makeCurrent(conn, code: code, version: current + 1, name: body.name, onTimeDay: onTimeDay)
            try CatalogStore.setSpan(conn, plan: code, span: bodySpan)
            // Removing the option is allowed: past reports keep their not_applicable (and their
            // progress); the answer says how many reported values that concerns.
            let removed = (previous?.milestones ?? []).filter { old in
                old.notApplicableAllowed && next.milestone(code: old.code)?.notApplicableAllowed == false
            }.map(\.code)
            let counts = try CatalogStore.notApplicableReports(conn, plan: code, codes: removed)
            var dto = PlanDTO(next, currentVersion: current + 1, onTimeDay: onTimeDay, span: span)
            dto.notApplicableRemoved = removed.map { PlanDTO.RuleChangeDTO(milestone: $0, notApplicableReports: counts[$0] ?? 0) }
            return dto
        }
        return try .json(dto)
    }

    /// A span as sent: both months, in order.
    static func span(_ dto: PlanDTO.SpanDTO?) throws -> PlanSpan? {
        guard let dto else { return nil }
        guard dto.from <= dto.to else {
            throw APIError.invalid(field: "span.to", "El fin de la vigencia (\(dto.to)) es anterior a su inicio (\(dto.from)).",
                                   found: dto.to.description)
        }
        return PlanSpan(from: dto.from, to: dto.to)
    }

    /// A due date must fall inside the plan's span; a plan without a span takes no due dates.
    static func validateDueDates(_ plan: PlanCatalog, span: PlanSpan?) throws {
        let outside = ScheduleEngine.datesOutsideSpan(plan: plan, span: span)
        guard !outside.isEmpty else { return }
        let where_ = span.map { "fuera de la vigencia del plan (\($0.from) a \($0.to))" } ?? "pero el plan no tiene vigencia (span)"
        throw APIError.invalid(outside.map { m in
            FieldError(field: "phases[\(m.phaseCode)].milestones[\(m.code)].due_on",
                       message: "El plazo del hito \(m.code) está \(where_).", found: m.dueOn?.description)
        }, detail: "Hay plazos \(where_): \(outside.map(\.code).joined(separator: ", ")).")
    }

    /// Every violation becomes a field error naming the phase or milestone and the sum found.
    static func validate(_ plan: PlanCatalog) throws {
        let violations = CatalogValidator.validate(plan)
        guard !violations.isEmpty else { return }
        throw APIError.invalid(violations.map { v in
            FieldError(field: v.field, message: v.message, found: v.foundSum.map { "\($0)" })
        }, detail: "El catálogo no es válido: " + violations.map(\.message).joined(separator: " "))
    }
}

extension PlanDTO {
    init(code: String, name: String, stages: [StageDTO]?, phases: [PhaseDTO]) {
        self.code = code
        self.name = name
        self.stages = stages
        self.phases = phases
    }
}

struct PlanSummary: Codable, Sendable {
    var code: String
    var name: String
    var currentVersion: Int
    var onTimeDay: Int
    var phaseCount: Int
    var milestoneCount: Int
}

struct PlanVersionSummary: Codable, Sendable {
    var version: Int
    var name: String
    var reason: String?
    var createdAt: Date
}
