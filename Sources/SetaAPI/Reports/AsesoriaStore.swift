// SQL of asesorías (sesiones de asesoría): the idempotent write, the entities a session may serve, the list, the
// month's summary and the monthly series by region, advisor and modality.
import Foundation
import SetaDatabase
import SetaDomain

enum AsesoriaStore {
    /// The modalities the report counts (Monitoreo 360): calls and messages included, and group workshops.
    static let modalities = ["virtual", "presencial", "telefonica", "whatsapp", "correo", "documental", "taller"]

    /// A session as the write route validated it (sesión de asesoría).
    struct NewSession: Sendable {
        var plan: String?
        /// The lead entity first, then any other entity the session served (a workshop, taller).
        var entities: [String]
        var advisor: Int64
        var heldOn: String
        var modality: String
        var milestones: [String]
        var durationMinutes: Int?
        var notes: String?
        var attendeeCount: Int?
        var attendeeRoles: [String]
        var at: Date
        var createdBy: Int64
        /// The client's Idempotency-Key, and the request body whose hash it is kept with.
        var key: String?
        var body: String
    }

    /// What list, summary and series filter on, with the reader's scope.
    struct Filter: Sendable {
        var caller: Principal
        /// The month the scope is weighed at (the period asked, else the current month).
        var scopeMonth: Period
        var plan: String?
        /// Sessions held from `from` through `to` (months), when given.
        var from: Period?
        var to: Period?
        var advisor: Int64?
        var entity: String?
        var region: String?
        var modality: String?
        /// Sessions before this one in list order (cursor).
        var before: Int64?
    }

    // MARK: Writing

    /// The session `person` already recorded with `key`, and whether it was sent with the same body.
    static func earlier(_ conn: Connection, by person: Int64, key: String, body: String) throws -> (id: Int64, sameBody: Bool)? {
        guard let r = try conn.query("""
            SELECT id, request_hash = encode(sha256(convert_to(\(body), 'UTF8')), 'hex') AS same
              FROM asesorias WHERE created_by = \(person) AND idempotency_key = \(key)
            """).rows.first else { return nil }
        return (try r.decode("id"), try r.decode("same"))
    }

    /// Whether `id` is an active person (the advisor the central team logs a session for).
    static func isActivePerson(_ conn: Connection, id: Int64) throws -> Bool {
        try conn.query("SELECT 1 FROM people WHERE id = \(id) AND active").count == 1
    }

    /// The codes among `codes` that name no entity.
    static func unknownEntities(_ conn: Connection, _ codes: [String]) throws -> [String] {
        try conn.query("""
            SELECT x.code FROM unnest(\(codes)::text[]) WITH ORDINALITY x(code, n)
             WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.code = x.code) ORDER BY x.n
            """).rows.map { try $0.decode("code") }
    }

    /// The codes among `codes` the caller may not write for in `month` (one statement for a workshop's entities).
    static func outOfScope(_ conn: Connection, _ caller: Principal, _ codes: [String], plan: String?, month: Period) throws -> [String] {
        try conn.query("""
            SELECT x.code FROM unnest(\(codes)::text[]) WITH ORDINALITY x(code, n)
             WHERE NOT (\(Scope.condition(for: caller, entityColumn: "x.code", plan: plan, month: month))) ORDER BY x.n
            """).rows.map { try $0.decode("code") }
    }

    /// Whether any entity session `id` served is in the caller's scope in one of `months`.
    static func servesInScope(_ conn: Connection, _ caller: Principal, id: Int64, plan: String?, months: [Period]) throws -> Bool {
        var any: SQL = "FALSE"
        for m in months {
            any.append(" OR (\(Scope.condition(for: caller, entityColumn: "se.entity_code", plan: plan, month: m)))")
        }
        return try conn.query("""
            SELECT EXISTS (SELECT 1 FROM asesoria_entities se WHERE se.asesoria_id = \(id) AND (\(any))) AS ok
            """).rows[0].decode("ok")
    }

    /// Inserts the session and the entities it served, returns its id; nil when a concurrent request with the
    /// same key committed first (the insert waits on the key's unique index for it, then does nothing).
    static func insert(_ conn: Connection, _ s: NewSession) throws -> Int64? {
        try conn.query("""
            WITH a AS (
                INSERT INTO asesorias (plan_code, entity_code, person_id, held_on, modality, milestones,
                                       duration_minutes, notes, attendee_count, attendee_roles,
                                       created_at, created_by, idempotency_key, request_hash)
                VALUES (\(s.plan), \(s.entities[0]), \(s.advisor), \(s.heldOn)::date, \(s.modality), \(s.milestones)::text[],
                        \(s.durationMinutes), \(s.notes), \(s.attendeeCount), \(s.attendeeRoles)::text[],
                        \(s.at), \(s.createdBy), \(s.key),
                        CASE WHEN \(s.key)::text IS NULL THEN NULL ELSE encode(sha256(convert_to(\(s.body), 'UTF8')), 'hex') END)
                ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING id
            ), served AS (
                -- The lead entity is added by the asesorias_serve_lead trigger.
                INSERT INTO asesoria_entities (asesoria_id, entity_code)
                SELECT a.id, x FROM a, unnest(\(Array(s.entities.dropFirst()))::text[]) x
                ON CONFLICT DO NOTHING
            )
            SELECT id FROM a
            """).rows.first.map { try $0.decode("id") }
    }

    // MARK: Reading

    /// The WHERE clause over `asesorias a`: the filters and the reader's scope. A session is in scope when any
    /// entity it served is; a person always sees the sessions they logged themselves.
    static func condition(_ f: Filter) -> SQL {
        let scope = Scope.condition(for: f.caller, entityColumn: "se.entity_code", plan: f.plan, month: f.scopeMonth)
        var sql: SQL = """
            (EXISTS (SELECT 1 FROM asesoria_entities se WHERE se.asesoria_id = a.id AND \(scope)) OR a.person_id = \(f.caller.personId))
            """
        if let plan = f.plan { sql.append(" AND a.plan_code = \(plan)") }
        if let from = f.from { sql.append(" AND a.held_on >= \(from.firstDayString)::date") }
        if let to = f.to { sql.append(" AND a.held_on < \(to.next.firstDayString)::date") }
        if let advisor = f.advisor { sql.append(" AND a.person_id = \(advisor)") }
        if let modality = f.modality { sql.append(" AND a.modality = \(modality)") }
        if let entity = f.entity {
            sql.append(" AND EXISTS (SELECT 1 FROM asesoria_entities fe WHERE fe.asesoria_id = a.id AND fe.entity_code = \(entity))")
        }
        if let region = f.region {
            sql.append("""
                 AND EXISTS (SELECT 1 FROM asesoria_entities fe JOIN entity_regions_at(\(f.scopeMonth.firstDayString)::date) fr
                                ON fr.entity_code = fe.entity_code
                              WHERE fe.asesoria_id = a.id AND fr.region_code = \(region))
                """)
        }
        return sql
    }

    /// Days from the session to its recording, on Bogotá's calendar (UTC−5 all year).
    static let lagDays = "(((a.created_at AT TIME ZONE 'UTC') - interval '5 hours')::date - a.held_on)"

    /// A page of sessions, newest first, and how many match in all (one statement).
    static func page(_ conn: Connection, _ f: Filter, limit: Int) throws -> (items: [AsesoriaDTO], total: Int) {
        var pageCondition = condition(f)
        if let before = f.before {
            pageCondition.append(" AND (a.held_on, a.id) < (SELECT x.held_on, x.id FROM asesorias x WHERE x.id = \(before))")
        }
        let rows = try conn.query("""
            SELECT (SELECT count(*) FROM asesorias a WHERE \(condition(f))) AS total, s.*
              FROM (SELECT 1) one
              LEFT JOIN LATERAL (\(select(where: pageCondition, limit: limit))) s ON true
            """).rows
        let total: Int = try rows.first?.decode("total") ?? 0
        return (try rows.filter { try !$0.isNull("id") }.map(session), total)
    }

    /// One session by id (scope is the route's to check).
    static func session(_ conn: Connection, id: Int64) throws -> AsesoriaDTO? {
        try conn.query(select(where: "a.id = \(id)", limit: 1)).rows.first.map(session)
    }

    static func select(where condition: SQL, limit: Int) -> SQL {
        """
        SELECT a.id, a.entity_code, e.name AS entity_name, a.plan_code, a.person_id, p.name AS person_name,
               a.held_on::text AS held_on, a.modality, a.milestones, a.duration_minutes, a.notes, a.created_at,
               a.attendee_count, a.attendee_roles, \(unsafe: lagDays) AS lag_days,
               ARRAY(SELECT ae.entity_code FROM asesoria_entities ae WHERE ae.asesoria_id = a.id
                      ORDER BY ae.entity_code <> a.entity_code, ae.entity_code) AS served_codes,
               ARRAY(SELECT se.name FROM asesoria_entities ae JOIN entities se ON se.code = ae.entity_code
                      WHERE ae.asesoria_id = a.id ORDER BY ae.entity_code <> a.entity_code, ae.entity_code) AS served_names
          FROM asesorias a
          JOIN entities e ON e.code = a.entity_code
          LEFT JOIN people p ON p.id = a.person_id
         WHERE \(condition)
         ORDER BY a.held_on DESC, a.id DESC
         LIMIT \(limit)
        """
    }

    static func session(_ r: Row) throws -> AsesoriaDTO {
        let heldOn: String = try r.decode("held_on")
        let codes: [String] = try r.decode("served_codes")
        let names: [String] = try r.decode("served_names")
        let count: Int? = try r.decode("attendee_count")
        let roles: [String] = try r.decode("attendee_roles")
        return AsesoriaDTO(
            id: try r.decode("id"), entity: try r.decode("entity_code"), entityName: try r.decode("entity_name"),
            entities: zip(codes, names).map { EntityRefDTO(code: $0, name: $1) },
            plan: try r.decode("plan_code"),
            advisor: try PersonRef(id: r.decode("person_id"), name: r.decode("person_name")),
            heldOn: heldOn, period: try r.period("held_on"), modality: try r.decode("modality"),
            milestones: try r.decode("milestones"), durationMinutes: try r.decode("duration_minutes"),
            attendees: count == nil && roles.isEmpty ? nil : AsesoriaDTO.Attendees(count: count, roles: roles.isEmpty ? nil : roles),
            notes: try r.decode("notes"), createdAt: try r.decode("created_at"), recordingLagDays: try r.decode("lag_days"))
    }

    // MARK: Summary and series

    /// The month's summary grouped by advisor, entity or region, with the total, in one statement. A workshop
    /// counts once in each group it served (and once in the total); attendees and minutes count per session.
    static func summary(_ conn: Connection, _ f: Filter, group: String, month: Period) throws -> [Row] {
        let key: String, name: String
        switch group {
        case "entity": (key, name) = ("s.entity_code", "(SELECT e.name FROM entities e WHERE e.code = g.key)")
        case "region": (key, name) = ("s.region_code", "(SELECT r.name FROM regions r WHERE r.code = g.key)")
        default: (key, name) = ("s.person_id::text", "(SELECT p.name FROM people p WHERE p.id::text = g.key)")
        }
        return try conn.query("""
            WITH served AS (
                SELECT a.id, a.person_id, a.modality, a.duration_minutes, a.attendee_count, \(unsafe: lagDays) AS lag_days,
                       a.held_on, ae.entity_code, rg.region_code
                  FROM asesorias a
                  JOIN asesoria_entities ae ON ae.asesoria_id = a.id
                  LEFT JOIN entity_regions_at(\(month.firstDayString)::date) rg ON rg.entity_code = ae.entity_code
                 WHERE \(condition(f))
            ), keyed AS (
                SELECT \(unsafe: key) AS key, s.* FROM served s
            ), g AS (
                \(unsafe: aggregate(keyed: "keyed"))
            )
            SELECT g.*, \(unsafe: name) AS name FROM g
             ORDER BY g.is_total, g.sessions DESC, name
            """).rows
    }

    /// Aggregates rows of `keyed` (key, id, entity_code, session columns; one row per session and served
    /// entity) per key and in all (is_total = 1): sessions and their attendees, minutes and lag counted once
    /// per session (in a key and in the total), entities served counted once each.
    static func aggregate(keyed: String) -> String {
        let modalityCounts = modalities.map { "count(*) FILTER (WHERE modality = '\($0)') AS \($0)" }.joined(separator: ", ")
        return """
            SELECT sk.is_total, sk.key, sk.sessions, sk.minutes, sk.attendees, sk.median_lag_days, sk.max_lag_days,
                   sk.recorded_after_month, \(modalities.map { "sk." + $0 }.joined(separator: ", ")), ek.entities
              FROM (
                SELECT is_total, key, count(*) AS sessions, COALESCE(sum(duration_minutes), 0) AS minutes,
                       COALESCE(sum(attendee_count), 0) AS attendees,
                       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_days)::numeric, 1) AS median_lag_days,
                       max(lag_days) AS max_lag_days,
                       count(*) FILTER (WHERE date_trunc('month', held_on + lag_days) > date_trunc('month', held_on)) AS recorded_after_month,
                       \(modalityCounts)
                  FROM ((SELECT DISTINCT ON (key, id) 0 AS is_total, key, id, modality, duration_minutes, attendee_count, lag_days, held_on
                           FROM \(keyed) ORDER BY key, id)
                        UNION ALL
                        (SELECT DISTINCT ON (id) 1, NULL, id, modality, duration_minutes, attendee_count, lag_days, held_on
                           FROM \(keyed) ORDER BY id)) per_session
                 GROUP BY is_total, key
              ) sk
              JOIN (
                SELECT 0 AS is_total, key, count(DISTINCT entity_code) AS entities FROM \(keyed) GROUP BY key
                UNION ALL
                SELECT 1, NULL, count(DISTINCT entity_code) FROM \(keyed)
              ) ek ON ek.is_total = sk.is_total AND ek.key IS NOT DISTINCT FROM sk.key
            """
    }

    /// The monthly series from `f.from` through `f.to` by region, by advisor, by modality and in all, in one
    /// statement. A session's region is the region of each entity it served in the session's month.
    static func series(_ conn: Connection, _ f: Filter) throws -> [Row] {
        guard let from = f.from, let to = f.to else { return [] }
        return try conn.query("""
            WITH months AS (
                SELECT generate_series(\(from.firstDayString)::date, \(to.firstDayString)::date, interval '1 month')::date AS month
            ), month_regions AS (
                SELECT m.month, r.entity_code, r.region_code FROM months m CROSS JOIN LATERAL entity_regions_at(m.month) r
            ), served AS (
                SELECT a.id, date_trunc('month', a.held_on)::date AS month, a.person_id, a.modality, a.duration_minutes,
                       a.attendee_count, \(unsafe: lagDays) AS lag_days, a.held_on, ae.entity_code, rg.region_code
                  FROM asesorias a
                  JOIN asesoria_entities ae ON ae.asesoria_id = a.id
                  LEFT JOIN month_regions rg ON rg.month = date_trunc('month', a.held_on)::date AND rg.entity_code = ae.entity_code
                 WHERE \(condition(f))
            ), keyed AS (
                SELECT 'region' AS dimension, s.region_code AS key, s.* FROM served s
                UNION ALL SELECT 'advisor', s.person_id::text, s.* FROM served s
                UNION ALL SELECT 'modality', s.modality, s.* FROM served s
                UNION ALL SELECT 'total', NULL, s.* FROM served s
            ), per_session AS (
                SELECT DISTINCT ON (dimension, key, month, id) dimension, key, month, id, duration_minutes, attendee_count, lag_days
                  FROM keyed ORDER BY dimension, key, month, id
            ), session_counts AS (
                SELECT dimension, key, month, count(*) AS sessions, COALESCE(sum(duration_minutes), 0) AS minutes,
                       COALESCE(sum(attendee_count), 0) AS attendees,
                       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_days)::numeric, 1) AS median_lag_days
                  FROM per_session GROUP BY dimension, key, month
            ), entity_counts AS (
                SELECT dimension, key, month, count(DISTINCT entity_code) AS entities FROM keyed GROUP BY dimension, key, month
            )
            SELECT s.dimension, s.key, to_char(s.month, 'YYYY-MM') AS period, s.sessions, s.minutes, s.attendees,
                   s.median_lag_days, e.entities,
                   CASE s.dimension
                        WHEN 'region' THEN (SELECT r.name FROM regions r WHERE r.code = s.key)
                        WHEN 'advisor' THEN (SELECT p.name FROM people p WHERE p.id::text = s.key)
                   END AS name
              FROM session_counts s
              JOIN entity_counts e ON e.dimension = s.dimension AND e.key IS NOT DISTINCT FROM s.key AND e.month = s.month
             ORDER BY s.dimension, s.key NULLS LAST, s.month
            """).rows
    }
}
