// /v1/timeliness: per advisor, region and nation, entities whose month was reported on time, late or not yet.
import Foundation
import SetaDatabase
import SetaDomain

enum TimelinessRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/timeliness", show)
    }

    @Sendable static func show(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let planCode = try ctx.requiredQuery("plan")
        guard let period = try ctx.period("period") else { throw APIError.badRequest("Falta `period`.", field: "period") }
        let region = try ctx.query("region").flatMap { $0.isEmpty ? nil : $0 }
        let advisor = try ctx.query("advisor").flatMap { $0.isEmpty ? nil : $0 }.map { text -> Int64 in
            guard let id = Int64(text) else { throw APIError.badRequest("`advisor` debe ser el id de una persona.", field: "advisor") }
            return id
        }
        let dto = try ctx.db.withConnection { conn -> TimelinessDTO in
            let plan = try CatalogStore.requirePlan(conn, code: planCode)
            return try TimelinessStore.timeliness(conn, caller: caller, plan: plan, period: period, region: region,
                                                  advisor: advisor, now: ctx.now)
        }
        return try .json(dto)
    }
}
