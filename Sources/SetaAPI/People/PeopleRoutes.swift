// /v1/people, their tokens and /v1/partners: advisors, coordinators, central team and viewers; registers assignments.
import Foundation
import SetaFormats
import SetaDatabase
import SetaDomain

/// A person on the wire: the row as the store reads it.
typealias PersonDTO = PeopleStore.PersonRow

struct PersonCreateDTO: Codable, Sendable {
    var name: String
    var email: String
    var role: String
    var partner: String?
    var regions: [String]?
    var limitedToPartner: Bool?
}

/// A PATCH body: absent fields stay as they are; `partner: null` clears the partner. Unknown fields are
/// refused rather than ignored, so a typo (`activ: false`) is not a silent no-op.
struct PersonPatchDTO: Decodable, Sendable {
    var name: String?
    var email: String?
    var role: String?
    var partner: String??
    var regions: [String]?
    var active: Bool?
    var limitedToPartner: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, email, role, partner, regions, active, limitedToPartner
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = all.allKeys.first(where: { !known.contains($0.stringValue) }) {
            let field = JSON.snakeCase(unknown.stringValue)
            throw APIError.invalid(field: field, "Campo desconocido `\(field)`; se admiten: name, email, role, partner, regions, active, limited_to_partner.")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        email = try c.decodeIfPresent(String.self, forKey: .email)
        role = try c.decodeIfPresent(String.self, forKey: .role)
        regions = try c.decodeIfPresent([String].self, forKey: .regions)
        active = try c.decodeIfPresent(Bool.self, forKey: .active)
        limitedToPartner = try c.decodeIfPresent(Bool.self, forKey: .limitedToPartner)
        if c.contains(.partner) {
            partner = .some(try c.decodeNil(forKey: .partner) ? nil : try c.decode(String.self, forKey: .partner))
        }
    }
}

/// A token as stored, with whether it works now and (once) its secret, in one flat object.
struct TokenDTO: Encodable, Sendable {
    var row: PeopleStore.TokenRow
    var active: Bool
    /// The secret, only in the answer that creates the token: it is shown once and stored only as a hash.
    var token: String?

    enum CodingKeys: String, CodingKey { case active, token }

    func encode(to encoder: Encoder) throws {
        try row.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(active, forKey: .active)
        try c.encodeIfPresent(token, forKey: .token)
    }
}

struct TokenCreateDTO: Codable, Sendable {
    var label: String?
    var expiresInDays: Int?
}

struct PartnerDTO: Codable, Sendable {
    var code: String
    var name: String
    var activePeople: Int
    var createdAt: Date
}

struct PartnerCreateDTO: Codable, Sendable { var code: String; var name: String }

enum PeopleRoutes {
    static func register(_ r: inout Router) {
        registerPeople(&r)
        registerTokens(&r)
        registerPartners(&r)
        AssignmentRoutes.register(&r)
    }

    static func personId(_ ctx: RequestContext) throws -> Int64 {
        guard let id = Int64(ctx.param("id")), id > 0 else { throw APIError.notFound("No existe la persona \(ctx.param("id")).") }
        return id
    }

    static func validEmail(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && s.utf8.count <= 254
            && !s.contains(where: { $0.isWhitespace })
    }

    static func role(_ text: String) throws -> Role {
        guard let r = Role(rawValue: text) else {
            throw APIError.invalid(field: "role", "`role` debe ser uno de: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).", found: text)
        }
        return r
    }

    /// Checks partner and regions of a person being written; returns the partner's stored code.
    static func checkReferences(_ conn: Connection, partner: String?, regions: [String]?) throws -> String? {
        var errors: [FieldError] = []
        var partnerCode: String?
        if let p = partner {
            partnerCode = try PeopleStore.partnerCode(conn, p)
            if partnerCode == nil { errors.append(FieldError(field: "partner", message: "Entidad socia desconocida.", found: p)) }
        }
        for bad in try PeopleStore.invalidRegions(conn, regions ?? []) {
            errors.append(FieldError(field: "regions[\(bad.index)]", message: bad.retired ? "La región fue eliminada." : "Región desconocida.", found: bad.code))
        }
        if !errors.isEmpty {
            throw APIError.invalid(errors, detail: errors.map { "\($0.field): \($0.message) (\($0.found ?? ""))" }.joined(separator: " "))
        }
        return partnerCode
    }

    static func refuseTakenEmail(_ conn: Connection, _ email: String, except id: Int64?) throws {
        if let other = try PeopleStore.emailOwner(conn, email, except: id) {
            throw emailConflict(email, owner: other)
        }
    }

    static func emailConflict(_ email: String, owner: Int64?) -> APIError {
        APIError.conflict("El correo «\(email)» ya está registrado\(owner.map { " (persona \($0))" } ?? "").",
                          errors: [FieldError(field: "email", message: "Correo en uso (sin distinguir mayúsculas).", found: email)])
    }

    /// The unique index on lower(email) settles a race between two writers: a 409 naming `email`.
    static func refusingDuplicateEmail<T>(_ email: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as DatabaseError where e.isUniqueViolation && e.constraint == "people_email" {
            throw emailConflict(email ?? "", owner: nil)
        }
    }

    // MARK: People

    static func registerPeople(_ r: inout Router) {
        r.add("GET", "/v1/people", listPeople)
        r.add("GET", "/v1/people/{id}", showPerson)
        r.add("POST", "/v1/people", createPerson)

        // No DELETE: a person leaves by `active: false`, keeping their assignments and reports.
        r.add("PATCH", "/v1/people/{id}", updatePerson)
    }

    // MARK: Tokens

    static func tokenDTO(_ t: PeopleStore.TokenRow, now: Date, secret: String? = nil) -> TokenDTO {
        TokenDTO(row: t, active: t.revokedAt == nil && t.expiresAt > now, token: secret)
    }

    static func registerTokens(_ r: inout Router) {
        r.add("POST", "/v1/people/{id}/tokens", issueToken)
        r.add("GET", "/v1/people/{id}/tokens", listTokens)

        // Revoking: the central team, or the token's owner (someone who suspects theirs leaked).
        r.add("DELETE", "/v1/tokens/{id}", revokeToken)
    }

    // MARK: Partners

    static func registerPartners(_ r: inout Router) {
        r.add("GET", "/v1/partners", listPartners)
        r.add("GET", "/v1/partners/{code}", showPartner)
        r.add("POST", "/v1/partners", createPartner)
    }

    static func listPeople(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireRole(.central, .coordinator)
        var filter = PeopleStore.ListFilter()
        if let v = try ctx.query("role"), !v.isEmpty { filter.role = try role(v).rawValue }
        filter.region = try ctx.query("region").flatMap { $0.isEmpty ? nil : $0 }
        filter.partner = try ctx.query("partner").flatMap { $0.isEmpty ? nil : $0 }
        filter.q = try ctx.query("q").flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        if try ctx.query("active").map({ !$0.isEmpty }) ?? false { filter.active = try ctx.boolQuery("active") }
        let csv = ctx.wantsTable
        let limit = csv ? nil : try PageCursor.limit(ctx)
        let after = csv ? nil : try PageCursor.key(ctx, isKey: PageCursor.isPositiveId).flatMap { Int64($0) }
        let page = try ctx.db.withConnection { conn in
            if let g = filter.region { try TerritoryStore.requireRegion(conn, code: g, field: "region", active: false) }
            if let p = filter.partner {
                guard let code = try PeopleStore.partnerCode(conn, p) else {
                    throw APIError.invalid(field: "partner", "Entidad socia desconocida.", found: p)
                }
                filter.partner = code
            }
            return try PeopleStore.list(conn, filter, after: after, limit: limit.map { $0 + 1 })
        }
        if csv {
            return .table(filename: "personas") { sink in
                try sink.header(["id", "name", "email", "role", "partner", "regions", "limited_to_partner", "active"])
                for p in page.rows {
                    try sink.row([.id(p.id), .text(p.name), .text(p.email), .text(p.role), .text(p.partnerCode), .text(p.regions.joined(separator: " ")),
                              .boolean(p.limitedToPartner), .boolean(p.active)])
                }
            }
        }
        return try .json(ListResponse(keyset: page.rows, total: page.total, limit: limit!, item: { $0 as PersonDTO }, key: { "\($0.id)" }))
    }

    static func showPerson(_ ctx: RequestContext) throws -> APIResponse {
        let id = try personId(ctx)
        let caller = try ctx.caller
        if caller.personId != id { try ctx.requireRole(.central, .coordinator) }
        let row = try ctx.db.withConnection { conn in try PeopleStore.requirePerson(conn, id: id) }
        return try .json(row as PersonDTO)
    }

    static func createPerson(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let body = try ctx.decode(PersonCreateDTO.self)
        let name = try ctx.requiredText(body.name, field: "name")
        let email = body.email.trimmingCharacters(in: .whitespaces)
        guard validEmail(email) else { throw APIError.invalid(field: "email", "`email` no es una dirección de correo válida.", found: email) }
        let role = try role(body.role)
        let regions = Array(Set((body.regions ?? []).map { $0.trimmingCharacters(in: .whitespaces) })).sorted()
        if role == .coordinator && regions.isEmpty {
            throw APIError.invalid(field: "regions", "Un coordinador necesita al menos una región.")
        }
        let person = try refusingDuplicateEmail(email) { try ctx.db.withTransaction { conn -> PeopleStore.PersonRow in
            let partner = try checkReferences(conn, partner: body.partner.flatMap { $0.isEmpty ? nil : $0 }, regions: body.regions)
            try refuseTakenEmail(conn, email, except: nil)
            let id = try PeopleStore.create(conn, name: name, email: email, role: role.rawValue, partner: partner,
                                            limitedToPartner: body.limitedToPartner ?? false, regions: regions)
            return try PeopleStore.requirePerson(conn, id: id)
        } }
        return try .json(person as PersonDTO, status: 201, headers: [("Location", "/v1/people/\(person.id)")])
    }

    static func updatePerson(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let id = try personId(ctx)
        let caller = try ctx.caller
        let body = try ctx.decode(PersonPatchDTO.self)
        let name = try body.name.map { try ctx.requiredText($0, field: "name") }
        let email = body.email?.trimmingCharacters(in: .whitespaces)
        if let email, !validEmail(email) { throw APIError.invalid(field: "email", "`email` no es una dirección de correo válida.", found: email) }
        let role = try body.role.map(role)
        let regions = body.regions.map { Array(Set($0.map { $0.trimmingCharacters(in: .whitespaces) })).sorted() }
        if id == caller.personId && (body.active == false || (role != nil && role != .central)) {
            throw APIError.conflict("No puede desactivarse ni quitarse el rol de equipo central a sí mismo.",
                                    errors: [FieldError(field: body.active == false ? "active" : "role", message: "Cambio sobre la propia cuenta.")])
        }
        let current = Period.current(at: ctx.now)
        let dto = try refusingDuplicateEmail(email) { try ctx.db.withTransaction { conn -> PersonDTO in
            let before = try PeopleStore.requirePerson(conn, id: id, forUpdate: true)
            var partner: String?? = nil
            if let requested = body.partner {
                partner = .some(try requested.flatMap { $0.isEmpty ? nil : $0 }.map { try checkReferences(conn, partner: $0, regions: nil)! })
            }
            _ = try checkReferences(conn, partner: nil, regions: body.regions)
            if let email { try refuseTakenEmail(conn, email, except: id) }
            let finalRole = role ?? Role(rawValue: before.role) ?? .viewer
            if finalRole == .coordinator && (regions ?? before.regions).isEmpty {
                throw APIError.invalid(field: "regions", "Un coordinador necesita al menos una región.")
            }
            try PeopleStore.update(conn, id: id, name: name, email: email, role: role?.rawValue, partner: partner,
                                   limitedToPartner: body.limitedToPartner, active: body.active)
            if let regions { try PeopleStore.setRegions(conn, id: id, regions) }
            var dto: PersonDTO = try PeopleStore.requirePerson(conn, id: id)
            if body.active == false {
                dto.openAssignments = try PeopleStore.openAssignments(conn, person: id, from: current)
            }
            return dto
        } }
        return try .json(dto)
    }

    static func issueToken(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let id = try personId(ctx)
        let body = try ctx.decode(TokenCreateDTO.self)
        let days = body.expiresInDays ?? TerritoryLimits.defaultTokenDays
        guard (1...TerritoryLimits.maxTokenDays).contains(days) else {
            throw APIError.invalid(field: "expires_in_days", "`expires_in_days` debe estar entre 1 y \(TerritoryLimits.maxTokenDays).", found: "\(days)")
        }
        let label = try body.label.map { try ctx.requiredText($0, field: "label") }
        let now = ctx.now
        let dto = try ctx.db.withTransaction { conn -> TokenDTO in
            let person = try PeopleStore.requirePerson(conn, id: id)
            guard person.active else {
                throw APIError.conflict("La persona \(id) está desactivada; no puede recibir tokens.",
                                        errors: [FieldError(field: "active", message: "Persona desactivada.", found: "false")])
            }
            let (tokenId, secret) = try Auth.issue(conn, personId: id, label: label, expiresAt: now.addingTimeInterval(Double(days) * 86_400))
            return tokenDTO(try PeopleStore.token(conn, id: tokenId)!, now: now, secret: secret)
        }
        return try .json(dto, status: 201, headers: [("Cache-Control", "no-store")])
    }

    static func listTokens(_ ctx: RequestContext) throws -> APIResponse {
        let id = try personId(ctx)
        if try ctx.caller.personId != id { try ctx.requireCentral() }
        let now = ctx.now
        let rows = try ctx.db.withConnection { conn in
            _ = try PeopleStore.requirePerson(conn, id: id)
            return try PeopleStore.tokens(conn, person: id)
        }
        let items = rows.map { tokenDTO($0, now: now) }
        return try .json(ListResponse(items: items, total: items.count, nextCursor: nil))
    }

    static func revokeToken(_ ctx: RequestContext) throws -> APIResponse {
        guard let id = Int64(ctx.param("id")), id > 0 else { throw APIError.notFound("No existe el token \(ctx.param("id")).") }
        let caller = try ctx.caller
        let now = ctx.now
        try ctx.db.withTransaction { conn in
            guard let t = try PeopleStore.token(conn, id: id) else { throw APIError.notFound("No existe el token \(id).") }
            if t.personId != caller.personId { try ctx.requireCentral() }
            try PeopleStore.revoke(conn, id: id, at: now)
        }
        return .empty(status: 204, headers: [])
    }

    static func listPartners(_ ctx: RequestContext) throws -> APIResponse {
        let rows = try ctx.db.withConnection { conn in try PeopleStore.partners(conn) }
        let items = rows.map { PartnerDTO(code: $0.code, name: $0.name, activePeople: $0.activePeople, createdAt: $0.createdAt) }
        return try .json(ListResponse(items: items, total: items.count, nextCursor: nil))
    }

    static func showPartner(_ ctx: RequestContext) throws -> APIResponse {
        let code = ctx.param("code")
        let row = try ctx.db.withConnection { conn -> PeopleStore.PartnerRow? in
            guard let stored = try PeopleStore.partnerCode(conn, code) else { return nil }
            return try PeopleStore.partners(conn, code: stored).first
        }
        guard let row else { throw APIError.notFound("No existe la entidad socia «\(code)».") }
        return try .json(PartnerDTO(code: row.code, name: row.name, activePeople: row.activePeople, createdAt: row.createdAt))
    }

    static func createPartner(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let body = try ctx.decode(PartnerCreateDTO.self)
        let code = body.code.trimmingCharacters(in: .whitespaces)
        guard (1...30).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw APIError.invalid(field: "code", "`code` admite de 1 a 30 letras, dígitos, `_` y `-` (p. ej. `DAFP`).", found: code)
        }
        let name = try ctx.requiredText(body.name, field: "name")
        let row = try ctx.db.withTransaction { conn -> PeopleStore.PartnerRow in
            if let existing = try PeopleStore.partnerCode(conn, code) {
                throw APIError.conflict("Ya existe la entidad socia «\(existing)».",
                                        errors: [FieldError(field: "code", message: "Código en uso.", found: code)])
            }
            try PeopleStore.createPartner(conn, code: code, name: name)
            return try PeopleStore.partners(conn, code: code)[0]
        }
        return try .json(PartnerDTO(code: row.code, name: row.name, activePeople: row.activePeople, createdAt: row.createdAt),
                         status: 201, headers: [("Location", "/v1/partners/\(row.code)")])
    }
}
