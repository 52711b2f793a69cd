// /v1/locks: months of a plan closed to report writes (by a cut or the central team), reopening, and their record.
import Foundation
import SetaDatabase
import SetaDomain

struct LockDTO: Encodable, Sendable {
    var plan: String
    var period: Period
    var reason: String
    var lockedBy: PersonRef?
    var lockedAt: Date
    var cutId: Int64?
}

struct LockEventDTO: Encodable, Sendable {
    var id: Int64
    var plan: String
    var period: Period
    var action: String
    var reason: String
    var person: PersonRef?
    var cutId: Int64?
    var at: Date
}

struct LockBody: Decodable, Sendable {
    var plan: String
    var period: String
    var reason: String
}

struct ReopenBody: Decodable, Sendable {
    var reason: String
}

enum LockRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/locks", list)
        r.add("GET", "/v1/locks/events", events)
        r.add("POST", "/v1/locks", lock)
        r.add("POST", "/v1/locks/{plan}/{period}/reopen", reopen)
    }

    @Sendable static func list(_ ctx: RequestContext) throws -> APIResponse {
        let plan = try ctx.query("plan").flatMap { $0.isEmpty ? nil : $0 }
        let items = try ctx.db.withConnection { conn in
            try LockStore.locks(conn, plan: plan, period: nil)
        }
        return try .json(ListResponse(items: items, total: items.count, nextCursor: nil))
    }

    @Sendable static func events(_ ctx: RequestContext) throws -> APIResponse {
        let plan = try ctx.query("plan").flatMap { $0.isEmpty ? nil : $0 }
        let period = try ctx.period("period", required: false)
        let items = try ctx.db.withConnection { conn in
            try LockStore.events(conn, plan: plan, period: period)
        }
        return try .json(ListResponse(items: items, total: items.count, nextCursor: nil))
    }

    @Sendable static func lock(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let caller = try ctx.caller
        let body = try ctx.decode(LockBody.self)
        guard let period = Period(body.period) else {
            throw APIError.invalid(field: "period", "El periodo debe ser un mes AAAA-MM.", found: body.period)
        }
        let reason = try requireReason(body.reason)
        try ctx.refuseFuture(period, field: "period")
        let at = ctx.now
        let lock = try ctx.db.withTransaction { conn -> LockDTO in
            guard try CatalogStore.plan(conn, code: body.plan) != nil else {
                throw APIError.invalid(field: "plan", "No existe el plan «\(body.plan)».", found: body.plan)
            }
            let added = try ReportStore.lock(conn, plan: body.plan, periods: [period], reason: reason,
                                             by: caller.personId, cutId: nil, at: at)
            let current = try LockStore.locks(conn, plan: body.plan, period: period)
            if added.isEmpty {
                throw APIError.conflict("El periodo \(period) del plan \(body.plan) ya está bloqueado: \(current.first?.reason ?? "")",
                                        errors: [FieldError(field: "period", message: "Ya bloqueado.", found: period.description)])
            }
            return current[0]
        }
        return try .json(lock, status: 201, headers: [("Location", "/v1/locks?plan=\(lock.plan)")])
    }

    @Sendable static func reopen(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let caller = try ctx.caller
        let (planCode, period) = (ctx.param("plan"), ctx.param("period"))
        guard let month = Period(period) else {
            throw APIError.badRequest("El periodo debe ser un mes AAAA-MM; se recibió «\(period)».", field: "period")
        }
        let body = try ctx.decode(ReopenBody.self)
        let reason = try requireReason(body.reason)
        let at = ctx.now
        let event = try ctx.db.withTransaction { conn -> LockEventDTO in
            let plan = try CatalogStore.requirePlan(conn, code: planCode)
            guard let id = try ReportStore.reopen(conn, plan: plan.code, period: month, reason: reason, by: caller.personId, at: at) else {
                throw APIError(status: 404, detail: "El periodo \(month) del plan \(plan.code) no está bloqueado.",
                               errors: [FieldError(field: "period", message: "No está bloqueado.", found: month.description)])
            }
            return LockEventDTO(id: id, plan: plan.code, period: month, action: "reopen", reason: reason,
                                person: PersonRef(id: caller.personId, name: caller.name), cutId: nil, at: at)
        }
        return try .json(event)
    }

    static func requireReason(_ text: String) throws -> String {
        let reason = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.isEmpty {
            throw APIError.invalid(field: "reason", "Se requiere un motivo.")
        }
        if reason.unicodeScalars.count > ReportLimits.maxTextLength {
            throw APIError.invalid(field: "reason", "El motivo supera \(ReportLimits.maxTextLength) caracteres.")
        }
        return reason
    }
}
