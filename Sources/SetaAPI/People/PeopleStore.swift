// SQL of people (asesores, coordinadores, equipo central, lectores), their regions and tokens, and partner institutions.
import Foundation
import SetaDatabase
import SetaDomain

enum PeopleStore {
    /// A person as read; encoded as is on the wire (`PersonDTO`), `partner_code` as `partner`.
    struct PersonRow: Encodable, Sendable {
        var id: Int64
        var name: String
        var email: String
        var role: String
        var partnerCode: String?
        var limitedToPartner: Bool
        var active: Bool
        var regions: [String]
        var createdAt: Date
        var updatedAt: Date
        /// Only in the answer to a deactivation: assignments still open, which the central team should transfer.
        var openAssignments: Int? = nil

        enum CodingKeys: String, CodingKey {
            case id, name, email, role, partnerCode = "partner", limitedToPartner, active, regions, createdAt, updatedAt
            case openAssignments
        }
    }

    struct ListFilter: Sendable {
        var role: String?
        var region: String?
        var partner: String?
        var active: Bool?
        var q: String?
    }

    static let columns: SQL = """
        p.id, p.name, p.email, p.role, p.partner_code, p.limited_to_partner, p.active, p.created_at, p.updated_at,
        ARRAY(SELECT pr.region_code FROM person_regions pr WHERE pr.person_id = p.id ORDER BY 1) AS regions
        """

    static func row(_ r: Row) throws -> PersonRow {
        PersonRow(id: try r.decode("id"), name: try r.decode("name"), email: try r.decode("email"), role: try r.decode("role"),
                  partnerCode: try r.decode("partner_code"), limitedToPartner: try r.decode("limited_to_partner"),
                  active: try r.decode("active"), regions: try r.decode("regions"),
                  createdAt: try r.decode("created_at"), updatedAt: try r.decode("updated_at"))
    }

    static func list(_ conn: Connection, _ f: ListFilter, after: Int64?, limit: Int?) throws -> (total: Int, rows: [PersonRow]) {
        var conditions: [SQL] = ["TRUE"]
        if let v = f.role { conditions.append("p.role = \(v)") }
        if let v = f.partner { conditions.append("p.partner_code = \(v)") }
        if let v = f.active { conditions.append("p.active = \(v)") }
        if let v = f.region {
            conditions.append("EXISTS (SELECT 1 FROM person_regions x WHERE x.person_id = p.id AND x.region_code = \(v))")
        }
        if let q = f.q {
            let pattern = LikePattern.containing(q.lowercased())
            conditions.append("(lower(p.name) LIKE \(pattern) ESCAPE '\\' OR lower(p.email) LIKE \(pattern) ESCAPE '\\')")
        }
        let page = try KeysetPage.read(conn, matches: "SELECT \(columns) FROM people p WHERE \(conditions.joined(separator: " AND "))",
                                       after: "(\(after)::bigint IS NULL OR m.id > \(after))", order: "m.id", limit: limit, key: "id")
        return (page.total, try page.rows.map(row))
    }

    static func person(_ conn: Connection, id: Int64, forUpdate: Bool = false) throws -> PersonRow? {
        try conn.query("SELECT \(columns) FROM people p WHERE p.id = \(id)" + SQL(unsafe: forUpdate ? " FOR UPDATE" : "")).rows.first.map(row)
    }

    static func requirePerson(_ conn: Connection, id: Int64, forUpdate: Bool = false) throws -> PersonRow {
        guard let p = try person(conn, id: id, forUpdate: forUpdate) else {
            throw StoreError.notFound("No existe la persona \(id).")
        }
        return p
    }

    /// The id of another person with this email, compared without regard to case.
    static func emailOwner(_ conn: Connection, _ email: String, except id: Int64?) throws -> Int64? {
        try conn.query("""
            SELECT id FROM people WHERE lower(email) = lower(\(email)) AND (\(id)::bigint IS NULL OR id <> \(id))
            """).rows.first?.decode("id")
    }

    /// The codes of `codes` that are not regions, or (since people get only live regions) are retired.
    static func invalidRegions(_ conn: Connection, _ codes: [String]) throws -> [(index: Int, code: String, retired: Bool)] {
        try conn.query("""
            SELECT u.i - 1 AS i, u.c, r.code IS NOT NULL AS retired
              FROM unnest(\(codes)::text[]) WITH ORDINALITY AS u(c, i) LEFT JOIN regions r ON r.code = u.c
             WHERE r.code IS NULL OR NOT r.active ORDER BY u.i
            """).rows.map { (try $0.decode("i"), try $0.decode("c"), try $0.decode("retired")) }
    }

    static func create(_ conn: Connection, name: String, email: String, role: String, partner: String?,
                       limitedToPartner: Bool, regions: [String]) throws -> Int64 {
        let id: Int64 = try conn.query("""
            INSERT INTO people (name, email, role, partner_code, limited_to_partner)
            VALUES (\(name), \(email), \(role), \(partner), \(limitedToPartner)) RETURNING id
            """).rows[0].decode("id")
        try setRegions(conn, id: id, regions)
        return id
    }

    /// Writes the changed columns (nil leaves one as is; `partner` nil-nil clears it).
    static func update(_ conn: Connection, id: Int64, name: String?, email: String?, role: String?, partner: String??,
                       limitedToPartner: Bool?, active: Bool?) throws {
        var sets: [SQL] = ["updated_at = now()"]
        if let v = name { sets.append("name = \(v)") }
        if let v = email { sets.append("email = \(v)") }
        if let v = role { sets.append("role = \(v)") }
        if let v = partner { sets.append("partner_code = \(v)") }
        if let v = limitedToPartner { sets.append("limited_to_partner = \(v)") }
        if let v = active { sets.append("active = \(v)") }
        try conn.execute("UPDATE people SET \(sets.joined(separator: ", ")) WHERE id = \(id)")
    }

    /// Replaces a person's regions with `regions`, in two statements whatever their number.
    static func setRegions(_ conn: Connection, id: Int64, _ regions: [String]) throws {
        try conn.execute("DELETE FROM person_regions WHERE person_id = \(id) AND NOT (region_code = ANY(\(regions)::text[]))")
        try conn.execute("""
            INSERT INTO person_regions (person_id, region_code)
            SELECT \(id), u.c FROM unnest(\(regions)::text[]) AS u(c) ON CONFLICT DO NOTHING
            """)
    }

    /// Open assignments of a person at or after a month (reported when someone is deactivated).
    static func openAssignments(_ conn: Connection, person: Int64, from month: Period) throws -> Int {
        try conn.query("""
            SELECT count(*) AS n FROM assignments
             WHERE person_id = \(person) AND (to_period IS NULL OR to_period >= \(month.firstDayString)::date)
            """).rows[0].decode("n")
    }

    // MARK: Tokens

    /// A token as stored (never its secret); encoded as is in the token's wire form (`TokenDTO`).
    struct TokenRow: Encodable, Sendable {
        var id: Int64
        var personId: Int64
        var label: String?
        var createdAt: Date
        var expiresAt: Date
        var revokedAt: Date?
    }

    private static func tokenRow(_ r: Row) throws -> TokenRow {
        TokenRow(id: try r.decode("id"), personId: try r.decode("person_id"), label: try r.decode("label"),
                 createdAt: try r.decode("created_at"), expiresAt: try r.decode("expires_at"), revokedAt: try r.decode("revoked_at"))
    }

    /// A person's tokens, never their hashes.
    static func tokens(_ conn: Connection, person: Int64) throws -> [TokenRow] {
        try conn.query("""
            SELECT id, person_id, label, created_at, expires_at, revoked_at FROM tokens WHERE person_id = \(person) ORDER BY id
            """).rows.map(tokenRow)
    }

    static func token(_ conn: Connection, id: Int64) throws -> TokenRow? {
        try conn.query("SELECT id, person_id, label, created_at, expires_at, revoked_at FROM tokens WHERE id = \(id)").rows.first.map(tokenRow)
    }

    /// Revokes a token (once: a second revocation keeps the first time).
    static func revoke(_ conn: Connection, id: Int64, at now: Date) throws {
        try conn.execute("UPDATE tokens SET revoked_at = COALESCE(revoked_at, \(now)) WHERE id = \(id)")
    }

    // MARK: Partners

    struct PartnerRow: Sendable {
        var code: String
        var name: String
        var activePeople: Int
        var createdAt: Date
    }

    static func partners(_ conn: Connection, code: String? = nil) throws -> [PartnerRow] {
        try conn.query("""
            SELECT s.code, s.name, s.created_at,
                   (SELECT count(*) FROM people p WHERE p.partner_code = s.code AND p.active) AS active_people
              FROM partners s WHERE (\(code)::text IS NULL OR s.code = \(code)) ORDER BY s.code
            """).rows.map { r in
            PartnerRow(code: try r.decode("code"), name: try r.decode("name"), activePeople: try r.decode("active_people"),
                       createdAt: try r.decode("created_at"))
        }
    }

    /// The partner's code as stored when one matches without regard to case.
    static func partnerCode(_ conn: Connection, _ code: String) throws -> String? {
        try conn.query("SELECT code FROM partners WHERE lower(code) = lower(\(code)) ORDER BY code = \(code) DESC LIMIT 1").rows.first?.decode("code")
    }

    static func createPartner(_ conn: Connection, code: String, name: String) throws {
        try conn.execute("INSERT INTO partners (code, name) VALUES (\(code), \(name))")
    }
}
