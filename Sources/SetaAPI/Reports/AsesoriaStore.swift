// SQL of recording an asesoría idempotently: the session an Idempotency-Key already names, and the insert that claims it.
import Foundation
import SetaDatabase

enum AsesoriaStore {
    /// A session as the write route validated it (sesión de asesoría).
    struct NewSession: Sendable {
        var plan: String?
        var entity: String
        var advisor: Int64
        var heldOn: String
        var modality: String
        var milestones: [String]
        var durationMinutes: Int?
        var notes: String?
        var at: Date
        var createdBy: Int64
        /// The client's Idempotency-Key, and the request body whose hash it is kept with.
        var key: String?
        var body: String
    }

    /// The session `person` already recorded with `key`, and whether it was sent with the same body.
    static func earlier(_ conn: Connection, by person: Int64, key: String, body: String) throws -> (id: Int64, sameBody: Bool)? {
        guard let r = try conn.query("""
            SELECT id, request_hash = encode(sha256(convert_to(\(body), 'UTF8')), 'hex') AS same
              FROM asesorias WHERE created_by = \(person) AND idempotency_key = \(key)
            """).rows.first else { return nil }
        return (try r.decode("id"), try r.decode("same"))
    }

    /// Inserts the session and returns its id; nil when a concurrent request with the same key committed first
    /// (the insert waits on the key's unique index for it, then does nothing).
    static func insert(_ conn: Connection, _ s: NewSession) throws -> Int64? {
        try conn.query("""
            INSERT INTO asesorias (plan_code, entity_code, person_id, held_on, modality, milestones,
                                   duration_minutes, notes, created_at, created_by, idempotency_key, request_hash)
            VALUES (\(s.plan), \(s.entity), \(s.advisor), \(s.heldOn)::date, \(s.modality), \(s.milestones)::text[],
                    \(s.durationMinutes), \(s.notes), \(s.at), \(s.createdBy), \(s.key),
                    CASE WHEN \(s.key)::text IS NULL THEN NULL ELSE encode(sha256(convert_to(\(s.body), 'UTF8')), 'hex') END)
            ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id
            """).rows.first.map { try $0.decode("id") }
    }
}
