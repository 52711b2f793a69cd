// GET /v1/me: who the caller is (persona), their reach and this month's assignments, so a client needs no ids up front.
import Foundation
import SetaDatabase
import SetaDomain

struct MeDTO: Encodable, Sendable {
    struct Person: Encodable, Sendable { var id: Int64; var name: String; var email: String; var role: String }
    struct Region: Encodable, Sendable { var code: String; var name: String }
    struct Partner: Encodable, Sendable { var code: String; var name: String }
    struct Token: Encodable, Sendable { var id: Int64; var expiresAt: Date? }
    struct PlanAssignments: Encodable, Sendable {
        var plan: String
        var entityCount: Int
        var entities: [EntityRefDTO]
    }
    var person: Person
    var regions: [Region]
    var partner: Partner?
    /// A viewer limited to their partner institution's entities.
    var limitedToPartner: Bool
    var token: Token
    /// The current month (Bogotá) the assignments are for.
    var asOf: Period
    var assignments: [PlanAssignments]
}

enum MeRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/me", show)
    }

    @Sendable static func show(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try ctx.caller
        let month = Period.current(at: ctx.now)
        let dto = try ctx.db.withConnection { conn -> MeDTO in
            let p = try PeopleStore.requirePerson(conn, id: caller.personId)
            let partner = try p.partnerCode.flatMap { try PeopleStore.partners(conn, code: $0).first }
            let assigned = try AgendaStore.entities(conn, subject: .advisor(caller.personId), month: month, plan: nil)
            let plans = Array(Set(assigned.map(\.plan))).sorted()
            return MeDTO(
                person: .init(id: p.id, name: p.name, email: p.email, role: p.role),
                regions: try AgendaStore.regionNames(conn, codes: p.regions).map { .init(code: $0.code, name: $0.name) },
                partner: partner.map { .init(code: $0.code, name: $0.name) },
                limitedToPartner: p.limitedToPartner,
                token: .init(id: caller.tokenId, expiresAt: try AgendaStore.tokenExpiry(conn, tokenId: caller.tokenId)),
                asOf: month,
                assignments: plans.map { plan in
                    let list = assigned.filter { $0.plan == plan }.map { EntityRefDTO(code: $0.entity, name: $0.name) }
                    return .init(plan: plan, entityCount: list.count, entities: list)
                })
        }
        return try .json(dto)
    }
}
