// What the command line does to the database outside HTTP: the first central-team user and their tokens.
import Foundation
import SetaDatabase

public enum AdminCommands {
    public struct IssuedToken: Sendable {
        public var id: Int64
        public var personId: Int64
        public var token: String
        public var expiresAt: Date
    }

    /// Creates a person; a duplicate email (case-insensitive) is an error naming it.
    public static func createUser(_ pool: ConnectionPool, name: String, email: String, role: String,
                                  partner: String?, regions: [String]) throws -> Int64 {
        guard Role(rawValue: role) != nil else {
            throw AdminError("rol desconocido «\(role)»: use advisor, coordinator, central o viewer")
        }
        return try pool.withTransaction { conn in
            if try !conn.query("SELECT 1 FROM people WHERE lower(email) = lower(\(email))").rows.isEmpty {
                throw AdminError("ya existe una persona con el correo \(email)")
            }
            if let partner, try conn.query("SELECT 1 FROM partners WHERE code = \(partner)").rows.isEmpty {
                throw AdminError("entidad socia desconocida «\(partner)»")
            }
            let id: Int64 = try conn.query("""
                INSERT INTO people (name, email, role, partner_code) VALUES (\(name), \(email), \(role), \(partner)) RETURNING id
                """).rows[0].decode("id")
            let known = Set(try conn.query("SELECT code FROM regions WHERE code = ANY(\(regions)::text[])").rows.map { try $0.decode("code", as: String.self) })
            if let unknown = regions.first(where: { !known.contains($0) }) {
                throw AdminError("región desconocida «\(unknown)»")
            }
            try conn.execute("INSERT INTO person_regions (person_id, region_code) SELECT \(id), unnest(\(regions)::text[])")
            return id
        }
    }

    /// Issues a bearer token for the person with that email; the secret is returned once and never stored.
    public static func issueToken(_ pool: ConnectionPool, email: String, days: Int, now: Date = Date()) throws -> IssuedToken {
        guard (1...730).contains(days) else { throw AdminError("--days debe estar entre 1 y 730") }
        return try pool.withTransaction { conn in
            guard let row = try conn.query("SELECT id FROM people WHERE lower(email) = lower(\(email)) AND active").rows.first else {
                throw AdminError("no hay una persona activa con el correo \(email)")
            }
            let personId: Int64 = try row.decode("id")
            let expires = now.addingTimeInterval(Double(days) * 86_400)
            let (id, token) = try Auth.issue(conn, personId: personId, label: "cli", expiresAt: expires)
            return IssuedToken(id: id, personId: personId, token: token, expiresAt: expires)
        }
    }
}

public struct AdminError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
