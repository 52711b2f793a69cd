// SQL of the CSV imports: rows staged in a temporary table, validated with joins, applied in a few set statements.
import Foundation
import SetaDatabase
import SetaDomain

/// DHIS2's import summary is the model: every line ends created, updated, ignored or rejected (with reasons).
/// Reasons are `field: message`, so the route can name the field of each.
enum ImportStore {
    enum Status: String, Codable, Sendable { case created, updated, ignored, rejected }

    /// One parsed CSV line. Periods are nil when missing or malformed (`formatReasons` says which).
    struct StagedRow: Sendable {
        var line: Int
        var plan: String
        var entity: String
        var advisorEmail: String = ""
        var from: Period?
        var to: Period?
        var formatReasons: [String] = []
    }

    struct Outcome: Sendable {
        var line: Int
        var status: Status
        var reasons: [String]
    }

    // MARK: Enrollments

    /// Stages and classifies enrollment rows; when `apply`, writes the created and updated ones. The caller's
    /// transaction makes it all-or-nothing, and decides (from the outcome) whether to commit.
    static func enrollments(_ conn: Connection, _ rows: [StagedRow], apply: Bool) throws -> [Outcome] {
        try conn.execute("""
            CREATE TEMP TABLE import_enrollments (
                line int PRIMARY KEY, plan text, entity text, from_period date, to_period date,
                bad_format boolean NOT NULL, status text
            ) ON COMMIT DROP
            """)
        try conn.execute("""
            INSERT INTO import_enrollments (line, plan, entity, from_period, to_period, bad_format)
            SELECT * FROM unnest(\(rows.map(\.line))::int[], \(rows.map(\.plan))::text[], \(rows.map(\.entity))::text[],
                                 \(rows.map { $0.from?.firstDayString })::date[], \(rows.map { $0.to?.firstDayString })::date[],
                                 \(rows.map { !$0.formatReasons.isEmpty })::boolean[])
            """)
        try index(conn, "import_enrollments")
        let outcomes = try classify(conn, table: "import_enrollments", checks: """
                SELECT s.line, same.id AS same_id, same.to_period AS same_to, s.to_period,
                       array_remove(ARRAY[
                         \(planAndEntityReasons),
                         \(overlapWithEarlierLine("import_enrollments")),
                         (SELECT 'from: se superpone con la inscripción existente desde ' || to_char(min(x.from_period), 'YYYY-MM')
                            FROM enrollments x
                           WHERE x.plan_code = s.plan AND x.entity_code = s.entity AND x.from_period <> s.from_period AND NOT s.bad_format
                             AND month_span(x.from_period, x.to_period) && month_span(s.from_period, s.to_period)
                          HAVING count(*) > 0),
                         (SELECT 'to: hay asignaciones que empiezan después de ' || to_char(s.to_period, 'YYYY-MM') || ' (ids '
                                 || string_agg(a.id::text, ', ' ORDER BY a.id) || ')'
                            FROM assignments_outliving_enrollment(s.plan, s.entity, s.from_period, s.to_period) a
                           WHERE same.id IS NOT NULL AND s.to_period IS NOT NULL
                          HAVING count(*) > 0)
                       ], NULL) AS reasons, s.bad_format
                  FROM import_enrollments s
                  LEFT JOIN LATERAL (SELECT x.id, x.to_period FROM enrollments x
                                      WHERE x.plan_code = s.plan AND x.entity_code = s.entity AND x.from_period = s.from_period) same ON true
            """, verdict: sameStartVerdict, lines: rows.map { ($0.line, $0.formatReasons) })
        if apply && !outcomes.contains(where: { $0.status == .rejected }) {
            try conn.execute("""
                UPDATE enrollments x SET to_period = s.to_period
                  FROM import_enrollments s
                 WHERE s.status = 'updated' AND x.plan_code = s.plan AND x.entity_code = s.entity AND x.from_period = s.from_period
                """)
            // An enrollment ended earlier ends its assignments with it (as POST …/enrollments/{entity}/end does).
            try conn.execute("""
                SELECT end_enrollment_assignments(s.plan, s.entity, s.from_period, s.to_period)
                  FROM import_enrollments s
                 WHERE s.status = 'updated' AND s.to_period IS NOT NULL
                 ORDER BY s.line
                """)
            try conn.execute("""
                INSERT INTO enrollments (plan_code, entity_code, from_period, to_period)
                SELECT plan, entity, from_period, to_period FROM import_enrollments WHERE status = 'created' ORDER BY line
                """)
        }
        return outcomes
    }

    // MARK: Assignments

    /// Stages and classifies assignment rows; with `closePrevious`, an existing assignment that started
    /// before a row's `from` is closed at the month before it (the transfer), as POST /v1/assignments does.
    static func assignments(_ conn: Connection, _ rows: [StagedRow], closePrevious: Bool, createdBy: Int64, apply: Bool) throws -> [Outcome] {
        try conn.execute("""
            CREATE TEMP TABLE import_assignments (
                line int PRIMARY KEY, plan text, entity text, advisor_email text, person_id bigint,
                from_period date, to_period date, bad_format boolean NOT NULL, status text
            ) ON COMMIT DROP
            """)
        try conn.execute("""
            INSERT INTO import_assignments (line, plan, entity, advisor_email, person_id, from_period, to_period, bad_format)
            SELECT u.line, u.plan, u.entity, u.email, p.id, u.from_period, u.to_period, u.bad_format
              FROM unnest(\(rows.map(\.line))::int[], \(rows.map(\.plan))::text[], \(rows.map(\.entity))::text[],
                          \(rows.map(\.advisorEmail))::text[],
                          \(rows.map { $0.from?.firstDayString })::date[], \(rows.map { $0.to?.firstDayString })::date[],
                          \(rows.map { !$0.formatReasons.isEmpty })::boolean[])
                   AS u(line, plan, entity, email, from_period, to_period, bad_format)
              LEFT JOIN people p ON lower(p.email) = lower(u.email)
            """)
        try index(conn, "import_assignments")
        let outcomes = try classify(conn, table: "import_assignments", checks: """
                SELECT s.line, same.id AS same_id, same.to_period AS same_to, s.to_period,
                       array_remove(ARRAY[
                         \(planAndEntityReasons),
                         CASE WHEN s.person_id IS NULL THEN 'advisor_email: no hay ninguna persona con el correo «' || s.advisor_email || '»'
                              WHEN NOT p.active THEN 'advisor_email: la persona «' || s.advisor_email || '» está desactivada'
                              WHEN p.role NOT IN ('advisor', 'coordinator')
                              THEN 'advisor_email: «' || s.advisor_email || '» tiene el rol ' || p.role || '; solo asesores y coordinadores tienen entidades'
                         END,
                         CASE WHEN NOT s.bad_format AND EXISTS (SELECT 1 FROM plans p WHERE p.code = s.plan)
                                   AND EXISTS (SELECT 1 FROM entities e WHERE e.code = s.entity)
                                   AND NOT EXISTS (SELECT 1 FROM enrollments en WHERE en.plan_code = s.plan AND en.entity_code = s.entity
                                                      AND month_span(en.from_period, en.to_period) @> s.from_period)
                              THEN 'entity: «' || s.entity || '» no está inscrita en ' || s.plan || ' en ' || to_char(s.from_period, 'YYYY-MM') END,
                         \(overlapWithEarlierLine("import_assignments")),
                         -- Existing assignments sharing a month, other than the one this row repeats or corrects. With
                         -- close_previous, those that started before `from` will be closed; any other is a conflict.
                         (SELECT 'from: se superpone con ' || string_agg('la asignación ' || x.id || ' (' || xp.name || ', desde '
                                 || to_char(x.from_period, 'YYYY-MM') || ')', ', ' ORDER BY x.from_period)
                                 || CASE WHEN \(closePrevious)::boolean THEN ', que empieza en o después de ' || to_char(s.from_period, 'YYYY-MM')
                                         ELSE '; use close_previous=true para trasladarla' END
                            FROM assignments x JOIN people xp ON xp.id = x.person_id
                           WHERE x.plan_code = s.plan AND x.entity_code = s.entity AND NOT s.bad_format
                             AND NOT (x.person_id IS NOT DISTINCT FROM s.person_id AND x.from_period = s.from_period)
                             AND month_span(x.from_period, x.to_period) && month_span(s.from_period, s.to_period)
                             AND (NOT \(closePrevious)::boolean OR x.from_period >= s.from_period)
                          HAVING count(*) > 0)
                       ], NULL) AS reasons, s.bad_format
                  FROM import_assignments s
                  LEFT JOIN people p ON p.id = s.person_id
                  LEFT JOIN LATERAL (SELECT x.id, x.to_period FROM assignments x
                                      WHERE x.plan_code = s.plan AND x.entity_code = s.entity AND x.person_id = s.person_id
                                        AND x.from_period = s.from_period) same ON true
            """, verdict: sameStartVerdict, lines: rows.map { ($0.line, $0.formatReasons) })
        if apply && !outcomes.contains(where: { $0.status == .rejected }) {
            // Transfers first, so the exclusion constraint sees the closed months before the new ones arrive.
            try conn.execute("""
                UPDATE assignments a SET to_period = c.new_to
                  FROM (SELECT x.id, (min(s.from_period) - interval '1 month')::date AS new_to
                          FROM assignments x JOIN import_assignments s
                            ON s.status IN ('created', 'updated') AND x.plan_code = s.plan AND x.entity_code = s.entity
                           AND x.from_period < s.from_period
                           AND NOT (x.person_id = s.person_id AND x.from_period = s.from_period)
                           AND month_span(x.from_period, x.to_period) && month_span(s.from_period, s.to_period)
                         GROUP BY x.id) c
                 WHERE a.id = c.id
                """)
            try conn.execute("""
                UPDATE assignments a SET to_period = s.to_period
                  FROM import_assignments s
                 WHERE s.status = 'updated' AND a.plan_code = s.plan AND a.entity_code = s.entity
                   AND a.person_id = s.person_id AND a.from_period = s.from_period
                """)
            try conn.execute("""
                INSERT INTO assignments (plan_code, entity_code, person_id, from_period, to_period, created_by)
                SELECT plan, entity, person_id, from_period, to_period, \(createdBy) FROM import_assignments
                 WHERE status = 'created' ORDER BY line
                """)
        }
        return outcomes
    }

    /// Why an enrollment or assignment line is refused whatever it holds: its plan or its entity does not exist.
    private static let planAndEntityReasons: SQL = """
        CASE WHEN NOT EXISTS (SELECT 1 FROM plans p WHERE p.code = s.plan)
             THEN 'plan: plan desconocido «' || s.plan || '»' END,
        CASE WHEN NOT EXISTS (SELECT 1 FROM entities e WHERE e.code = s.entity)
             THEN 'entity: código DANE desconocido «' || s.entity || '»' END
        """

    /// A line whose months overlap an earlier line of the same file (staged in `table`) for the same plan and entity.
    private static func overlapWithEarlierLine(_ table: String) -> SQL {
        """
        (SELECT 'from: se superpone con la línea ' || min(o.line) FROM \(identifier: table) o
          WHERE o.line < s.line AND o.plan = s.plan AND o.entity = s.entity AND NOT o.bad_format AND NOT s.bad_format
            AND month_span(o.from_period, o.to_period) && month_span(s.from_period, s.to_period)
         HAVING count(*) > 0)
        """
    }

    /// The checks look lines up by (plan, entity) within the file: an index and fresh statistics keep a
    /// 20,000-line file from being compared line against line.
    /// The per-line subqueries make the planner's estimate large enough to switch JIT compilation on, which
    /// costs more (about 0.9 s measured) than the whole check of 12,000 lines without it: off for this transaction.
    private static func index(_ conn: Connection, _ table: String) throws {
        try conn.execute(SQL(unsafe: "CREATE INDEX ON \(table) (plan, entity, line)"))
        try conn.execute(SQL(unsafe: "ANALYZE \(table)"))
        try conn.execute("SET LOCAL jit = off")
    }

    // MARK: The official list

    /// Every municipality-level place with its department, as the name resolver wants them.
    static func places(_ conn: Connection) throws -> [Place] {
        try conn.query("""
            SELECT e.code, e.name, e.department_code, d.name AS department_name,
                   ARRAY(SELECT n.name FROM entity_names n WHERE n.entity_code = e.code ORDER BY n.name) AS alternative_names
              FROM entities e JOIN departments d ON d.code = e.department_code
             WHERE e.type <> 'department' ORDER BY e.code
            """).rows.map { r in
            Place(code: try r.decode("code"), name: try r.decode("name"), departmentCode: try r.decode("department_code"),
                  departmentName: try r.decode("department_name"), alternativeNames: try r.decode("alternative_names"))
        }
    }

    static func gobernaciones(_ conn: Connection) throws -> [String] {
        try conn.query("SELECT code FROM entities WHERE type = 'department' ORDER BY code").rows.map { try $0.decode("code") }
    }
}
