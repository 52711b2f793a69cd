// One database round trip per dashboard read: the caller's token and the plan's current catalog version are
// re-checked inside the data statement itself, against values this process verified before.
import Foundation
import Synchronization
import SetaDatabase
import SetaDomain

/// Thrown by a guarded statement whose hints no longer hold (token revoked or changed, new catalog version):
/// the app verifies again the long way and runs the handler once more.
struct StaleHint: Error {}

/// What a read handler's statement must re-check so that a hint is as good as a fresh lookup.
///
/// A read route declared `verifiesCaller` may start with a principal taken from `PrincipalHints` (verified
/// by an earlier request). Its statement then carries a guard: the same token, unrevoked and unexpired, of
/// the same active person with the same role, regions and partner; and the plan still at the version whose
/// catalog the handler uses. When the guard fails, no data row is computed and `StaleHint` is thrown.
struct StatementGuard: Sendable {
    /// The token to re-check, or nil when the principal was verified by this very request.
    var token: String?
    var principal: Principal
    var now: Date
    var plan: String
    var version: Int
    var versionStamp: String

    /// `SELECT … FROM guard g LEFT JOIN LATERAL (data) d`: one row with the flags when there is no data.
    func wrap(_ data: SQL) -> SQL {
        var sql: SQL = "WITH guard_ AS (SELECT ("
        if let token {
            let p = principal
            sql.append("""
                EXISTS (SELECT 1 FROM tokens t JOIN people p ON p.id = t.person_id
                         WHERE t.token_hash = sha256(convert_to(\(token), 'UTF8')) AND t.id = \(p.tokenId)
                           AND t.revoked_at IS NULL AND t.expires_at > \(now) AND p.active AND p.id = \(p.personId)
                           AND p.role = \(p.role.rawValue) AND p.name = \(p.name)
                           AND p.partner_code IS NOT DISTINCT FROM \(p.partnerCode) AND p.limited_to_partner = \(p.limitedToPartner)
                           AND ARRAY(SELECT pr.region_code FROM person_regions pr WHERE pr.person_id = p.id ORDER BY 1) = \(p.regions)::text[])
                """)
        } else {
            sql.append("true")
        }
        sql.append("""
            ) AS auth_ok, EXISTS (SELECT 1 FROM plans p JOIN plan_versions v ON v.plan_code = p.code AND v.version = p.current_version
                                   WHERE p.code = \(plan) AND p.current_version = \(version) AND v.created_at::text = \(versionStamp)) AS catalog_ok)
            SELECT g.auth_ok AS guard_auth_ok, g.catalog_ok AS guard_catalog_ok, d.*
              FROM guard_ g LEFT JOIN LATERAL (SELECT true AS guard_row, x.* FROM (
            """)
        sql.append(data)
        // The flags are outer references: PostgreSQL tests them once and computes no data when they fail.
        sql.append(") x WHERE g.auth_ok AND g.catalog_ok) d ON true")
        return sql
    }

    /// The data rows of a wrapped statement, or `StaleHint`.
    func rows(_ conn: Connection, _ data: SQL) throws -> [Row] {
        let rows = try conn.queryPrepared(wrap(data)).rows
        guard let first = rows.first, try first.decode("guard_auth_ok", as: Bool.self),
              try first.decode("guard_catalog_ok", as: Bool.self) else {
            throw StaleHint()
        }
        return try rows.filter { try !$0.isNull("guard_row") }
    }
}

/// Principals verified by a database lookup, by token, for at most `lifetime` seconds; only routes whose
/// statements re-check the token (`StatementGuard`) may start from one. Bounded: cleared when full.
final class PrincipalHints: Sendable {
    private let entries = Mutex<[String: (principal: Principal, until: Date)]>([:])
    let lifetime: TimeInterval = 300

    func get(_ token: String, now: Date) -> Principal? {
        entries.withLock { e in
            guard let hit = e[token], hit.until > now else { return nil }
            return hit.principal
        }
    }

    func put(_ token: String, _ principal: Principal, now: Date) {
        entries.withLock { e in
            if e.count > 10_000 { e.removeAll() }
            e[token] = (principal, now.addingTimeInterval(lifetime))
        }
    }

    func drop(_ token: String) {
        _ = entries.withLock { $0.removeValue(forKey: token) }
    }
}

/// The current catalog of each plan as last seen, with its version's stamp (creation instant); statements
/// re-check it (`StatementGuard`), so a correction made by another instance is seen at the next request.
final class CatalogHints: Sendable {
    private let entries = Mutex<[String: (catalog: PlanCatalog, stamp: String)]>([:])

    func get(_ plan: String) -> (catalog: PlanCatalog, stamp: String)? {
        entries.withLock { $0[plan] }
    }

    func put(_ plan: String, _ value: (catalog: PlanCatalog, stamp: String)) {
        entries.withLock { e in
            if e.count > 1_000 { e.removeAll() }
            e[plan] = value
        }
    }

    func drop(_ plan: String) {
        _ = entries.withLock { $0.removeValue(forKey: plan) }
    }
}
