// Bearer-token authentication and the reader's scope (which entities a caller may see or write).
import Foundation
import SetaDatabase
import SetaDomain

enum Auth {
    /// Tokens are `seta_` + 64 hex digits: 256 bits from the system generator.
    static func newToken() -> String {
        var g = SystemRandomNumberGenerator()
        var hex = "seta_"
        for _ in 0..<4 { hex += String(format: "%016llx", g.next() as UInt64) }
        return hex
    }

    static func bearer(from header: String?) -> String? {
        guard let header, header.utf8.count <= 256 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard token.hasPrefix("seta_"), token.utf8.count == 69,
              token.dropFirst(5).allSatisfy({ $0.isHexDigit && $0.isASCII }) else { return nil }
        return token
    }

    static func authenticate(_ context: RequestContext) throws -> Principal {
        guard let token = bearer(from: context.request.headers["Authorization"]) else {
            throw APIError.unauthorized()
        }
        let rows = try context.db.withConnection { conn in
            try conn.query("""
                SELECT t.id AS token_id, p.id, p.name, p.role, p.partner_code, p.limited_to_partner,
                       ARRAY(SELECT pr.region_code FROM person_regions pr WHERE pr.person_id = p.id ORDER BY 1) AS regions
                  FROM tokens t JOIN people p ON p.id = t.person_id
                 WHERE t.token_hash = sha256(convert_to(\(token), 'UTF8'))
                   AND t.revoked_at IS NULL AND t.expires_at > \(context.now) AND p.active
                """).rows
        }
        guard let row = rows.first else {
            context.app.principalHints.drop(token)
            throw APIError.unauthorized("El token no es válido, expiró o fue revocado.")
        }
        let principal = Principal(
            personId: try row.decode("id", as: Int64.self),
            name: try row.decode("name", as: String.self),
            role: Role(rawValue: try row.decode("role", as: String.self)) ?? .viewer,
            partnerCode: try row.decode("partner_code", as: String?.self),
            limitedToPartner: try row.decode("limited_to_partner", as: Bool.self),
            regions: try row.decode("regions", as: [String].self),
            tokenId: try row.decode("token_id", as: Int64.self))
        context.app.principalHints.put(token, principal, now: context.now)
        return principal
    }

    /// Issues a token for a person; returns (id, secret, expiry). The secret is never stored.
    static func issue(_ conn: Connection, personId: Int64, label: String?, expiresAt: Date) throws -> (Int64, String) {
        let token = newToken()
        let rows = try conn.query("""
            INSERT INTO tokens (person_id, token_hash, label, expires_at)
            VALUES (\(personId), sha256(convert_to(\(token), 'UTF8')), \(label), \(expiresAt))
            RETURNING id
            """).rows
        return (try rows[0].decode("id", as: Int64.self), token)
    }
}

/// Which entities a caller may read, as a SQL condition over an entity-code column at a month.
/// ActivityInfo's known flaw is dashboards that ignore the reader's restrictions: every list and
/// dashboard query goes through this. The rule itself is one SQL function, `in_scope` (Schema/021).
enum Scope {
    static func condition(for p: Principal, entityColumn: String, plan: String?, month: Period) -> SQL {
        condition(for: p, entityColumn: entityColumn, plan: plan, month: "\(month.firstDayString)::date")
    }

    /// The same condition with the month as a SQL date expression (a bound value or a column).
    static func condition(for p: Principal, entityColumn: String, plan: String?, month m: SQL) -> SQL {
        // The central team sees every entity (in_scope's first branch): no join to write.
        if p.role == .central { return SQL(unsafe: "TRUE") }
        // The role, and an absent partner or region list, are written into the text rather than bound: dashboard
        // statements are prepared, and a generic plan folds in_scope's other branches only over literals. So each
        // kind of scope keeps a text (and plan) of its own, as when the conditions were written out here.
        var sql = SQL(unsafe: "\(entityColumn) IN (SELECT sc.entity_code FROM in_scope('\(p.role.rawValue)'::text, ")
            + "\(p.personId)::bigint, "
        sql = sql + (p.regions.isEmpty ? SQL(unsafe: "'{}'::text[], ") : "\(p.regions)::text[], ")
        if p.limitedToPartner, let partner = p.partnerCode {
            sql = sql + "\(partner)::text, "
        } else {
            sql = sql + SQL(unsafe: "NULL::text, ")
        }
        return sql + "\(plan)::text, \(m)) sc)"
    }
}
