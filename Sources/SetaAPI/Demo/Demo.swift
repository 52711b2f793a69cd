// The national demo dataset: every entity enrolled in both 2020 plans, 120 advisors, 36 months of reports.
import Foundation
import SetaDatabase
import SetaDomain

/// SplitMix64: a tiny deterministic generator, so the same seed always gives the same demo.
struct DemoRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<n.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// True with probability `percent`/100.
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

public enum Demo {
    public static let emailDomain = "demo.seta.gov.co"
    public static let firstMonth = Period("2020-01")!
    public static let months = 36
    public static let advisorCount = 120

    /// Loads the demo unless it is there already; returns a one-line summary.
    public static func load(_ pool: ConnectionPool, seed: UInt64, log: Log) throws -> String {
        try pool.withTransaction { conn in
            try conn.execute("SELECT pg_advisory_xact_lock(\(LockKey.demo)::int8)")
            let existing: Int = try conn.query("SELECT count(*)::int AS n FROM people WHERE email LIKE \("%@" + emailDomain)").rows[0].decode("n")
            if existing > 0 { return "demo ya cargada (\(existing) personas)" }
            return try generate(conn, seed: seed)
        }
    }

    struct PlanSpec {
        var catalog: PlanCatalog
        var start: Period
    }

    static func generate(_ conn: Connection, seed: UInt64) throws -> String {
        var rng = DemoRandom(seed: seed)
        let lastMonth = firstMonth.advanced(by: months - 1)
        let plans = [
            PlanSpec(catalog: try CatalogStore.currentCatalog(conn, code: "gap-2020-f1"), start: firstMonth),
            PlanSpec(catalog: try CatalogStore.currentCatalog(conn, code: "gap-2020-f2"), start: Period("2020-07")!),
        ]
        // Entities by region (default membership), in code order.
        let rows = try conn.query("""
            SELECT r.entity_code, r.region_code FROM entity_regions_at(\(firstMonth.firstDayString)::date) r ORDER BY r.region_code, r.entity_code
            """).rows
        var byRegion: [(String, [String])] = []
        for r in rows {
            let code: String = try r.decode("entity_code"), region: String = try r.decode("region_code")
            if byRegion.last?.0 == region { byRegion[byRegion.count - 1].1.append(code) } else { byRegion.append((region, [code])) }
        }
        let total = byRegion.reduce(0) { $0 + $1.1.count }

        // Enrollments: one statement per plan.
        for p in plans {
            try conn.execute("""
                INSERT INTO enrollments (plan_code, entity_code, from_period)
                SELECT \(p.catalog.code), e.code, \(p.start.firstDayString)::date FROM entities e
                ON CONFLICT DO NOTHING
                """)
        }

        // Decreto 683 de 2020 as shipped data (Data/schedule-exceptions-2020.csv): its entities' H18 and H22 are due later,
        // so the dashboards show them on schedule where the others are behind.
        let exceptions = try Seeder.dataDirectory().map { try ScheduleExceptionsData.apply(conn, dataDirectory: $0, at: Date()) } ?? 0

        // People: a coordinator per region, 120 advisors spread by region size, partners 6:3:1.
        var advisorsOfRegion: [String: [Int64]] = [:]
        var names: [String] = [], emails: [String] = [], roles: [String] = [], partners: [String] = [], regionOf: [String] = []
        for (region, _) in byRegion {
            names.append("Coordinación \(region)"); emails.append("coord-\(region)@\(emailDomain)")
            roles.append("coordinator"); partners.append("DNP"); regionOf.append(region)
        }
        var advisorIndex = 0
        var regionAdvisorCounts: [Int] = byRegion.map { max(1, Int((Double($0.1.count) / Double(total) * Double(advisorCount)).rounded())) }
        while regionAdvisorCounts.reduce(0, +) > advisorCount { regionAdvisorCounts[regionAdvisorCounts.firstIndex(of: regionAdvisorCounts.max()!)!] -= 1 }
        while regionAdvisorCounts.reduce(0, +) < advisorCount { regionAdvisorCounts[regionAdvisorCounts.firstIndex(of: regionAdvisorCounts.min()!)!] += 1 }
        let firstNames = ["Ana", "Carlos", "Diana", "Jorge", "Luisa", "Andrés", "María", "Felipe", "Camila", "Juan", "Paula", "Óscar"]
        let lastNames = ["Gómez", "Rodríguez", "Martínez", "López", "Díaz", "Pérez", "Sánchez", "Ramírez", "Torres", "Muñoz", "Rojas", "Peña"]
        for (i, (region, _)) in byRegion.enumerated() {
            for _ in 0..<regionAdvisorCounts[i] {
                advisorIndex += 1
                let name = "\(firstNames[rng.below(firstNames.count)]) \(lastNames[rng.below(lastNames.count)]) \(lastNames[rng.below(lastNames.count)])"
                names.append(name); emails.append(String(format: "asesor%03d@%@", advisorIndex, emailDomain))
                roles.append("advisor"); regionOf.append(region)
                let k = advisorIndex % 10
                partners.append(k < 6 ? "DNP" : (k < 9 ? "DAFP" : "ART"))
            }
        }
        let ids: [Int64] = try conn.query("""
            INSERT INTO people (name, email, role, partner_code)
            SELECT * FROM unnest(\(names)::text[], \(emails)::text[], \(roles)::text[], \(partners)::text[])
            RETURNING id
            """).rows.map { try $0.decode("id") }
        var coordinatorIds: [Int64] = [], coordinatorRegions: [String] = []
        for (i, id) in ids.enumerated() {
            if roles[i] == "coordinator" { coordinatorIds.append(id); coordinatorRegions.append(regionOf[i]) }
            else { advisorsOfRegion[regionOf[i], default: []].append(id) }
        }
        try conn.execute("""
            INSERT INTO person_regions (person_id, region_code) SELECT * FROM unnest(\(coordinatorIds.map { Int($0) })::bigint[], \(coordinatorRegions)::text[])
            """)

        // Assignments: each region's entities dealt to its advisors; some transfer in 2021-01.
        var aPlan: [String] = [], aEntity: [String] = [], aPerson: [Int] = [], aFrom: [String] = [], aTo: [String?] = []
        var advisorOf: [String: Int64] = [:]
        let transfer = Period("2021-01")!
        for (region, entities) in byRegion {
            let advisors = advisorsOfRegion[region]!
            for (i, e) in entities.enumerated() {
                let first = advisors[i % advisors.count]
                advisorOf[e] = first
                let moves = advisors.count > 1 && rng.chance(5)
                let second = advisors[(i + 1) % advisors.count]
                for p in plans {
                    aPlan.append(p.catalog.code); aEntity.append(e); aPerson.append(Int(first)); aFrom.append(p.start.firstDayString)
                    aTo.append(moves ? transfer.previous.firstDayString : nil)
                    if moves {
                        aPlan.append(p.catalog.code); aEntity.append(e); aPerson.append(Int(second)); aFrom.append(transfer.firstDayString); aTo.append(nil)
                    }
                }
            }
        }
        try conn.execute("""
            INSERT INTO assignments (plan_code, entity_code, person_id, from_period, to_period)
            SELECT a.plan, a.entity, a.person, a.f::date, NULLIF(a.t, '')::date
              FROM unnest(\(aPlan)::text[], \(aEntity)::text[], \(aPerson)::bigint[], \(aFrom)::text[], \(aTo.map { $0 ?? "" })::text[])
                   AS a(plan, entity, person, f, t)
            """)

        // Reports: each entity walks through the milestones at its own pace.
        var heads: [String] = [], current: [String] = [], revisions: [String] = [], sessions: [String] = []
        // The newer asesoría fields (issue 15: modalities, attendees, recording lag) draw from their own generator,
        // so every other figure of the demo stays what the same seed always gave.
        var extra = DemoRandom(seed: seed ^ 0x0A5E_5041_A5)
        let allEntities = byRegion.flatMap { $0.1 }
        for p in plans {
            let milestones = p.catalog.milestones
            // Only the milestones the catalog lets be "no aplica" (Fase I H16 and H20) are ever reported so.
            let optional = Set(milestones.filter(\.notApplicableAllowed).map(\.code))
            for e in allEntities {
                let pace = 1 + rng.below(3)            // milestones advanced in a good month
                let diligence = 70 + rng.below(30)     // percent of months reported
                var status = Dictionary(uniqueKeysWithValues: milestones.map { ($0.code, "not_started") })
                var nextIndex = 0
                var revision = 0
                var pending: [(String, String, String)] = []   // (milestone, previous, new) not yet reported
                for month in Period.months(from: p.start, to: lastMonth) {
                    // Progress this month (whether or not it gets reported).
                    if rng.chance(55) {
                        for _ in 0..<pace where nextIndex < milestones.count {
                            let m = milestones[nextIndex].code
                            let previous = status[m]!
                            let new: String
                            if optional.contains(m) && rng.chance(30) { new = "not_applicable"; nextIndex += 1 }
                            else if previous == "not_started" && rng.chance(40) { new = "in_progress" }
                            else { new = "done"; nextIndex += 1 }
                            status[m] = new
                            pending.append((m, previous, new))
                        }
                    }
                    guard rng.chance(diligence) else { continue }   // missing report this month
                    revision += 1
                    let onTime = rng.chance(80)
                    let next = month.next
                    let day = onTime ? 1 + rng.below(10) : 11 + rng.below(18)
                    let received = String(format: "%04d-%02d-%02d 15:00:00-05", next.year, next.month, day)
                    let author = advisorOf[e].map { String($0) } ?? ""
                    heads.append(CSVWriter.line([p.catalog.code, e, month.firstDayString, "\(revision)", received, received, author]))
                    // Keep the latest change of each milestone for this report.
                    var latest: [String: (String, String)] = [:]
                    for (m, prev, new) in pending {
                        latest[m] = (latest[m]?.0 ?? prev, new)
                    }
                    for (m, change) in latest.sorted(by: { $0.key < $1.key }) {
                        current.append(CSVWriter.line([p.catalog.code, e, month.firstDayString, m, change.1, "\(revision)", received, author]))
                        revisions.append(CSVWriter.line([p.catalog.code, e, month.firstDayString, m, "\(revision)", change.0, change.1,
                                                         "false", "demo", author, received]))
                    }
                    pending.removeAll()
                    // Advisory sessions held that month.
                    for _ in 0..<rng.below(3) {
                        let classic = ["virtual", "presencial", "telefonica"][rng.below(3)]
                        let modality = extra.chance(25) ? ["whatsapp", "correo", "documental"][extra.below(3)] : classic
                        let day = 1 + rng.below(28)
                        let held = String(format: "%04d-%02d-%02d", month.year, month.month, day)
                        let attendees = modality == "correo" || modality == "documental" || extra.chance(40) ? "" : "\(1 + extra.below(6))"
                        // Most sessions are recorded within days; three in ten at the month's end or just after.
                        let lag = extra.chance(30) ? 28 - day + extra.below(6) : extra.below(4)
                        sessions.append(CSVWriter.line([p.catalog.code, e, author, held, modality, "\(15 + rng.below(8) * 15)",
                                                        attendees, Demo.recordedAt(held: month, day: day, lag: lag)]))
                    }
                }
            }
        }
        try conn.copyIn("""
            COPY reports (plan_code, entity_code, period, revision, first_received_at, updated_at, updated_by) FROM STDIN WITH (FORMAT csv)
            """, rows: heads)
        try conn.copyIn("""
            COPY report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at, updated_by) FROM STDIN WITH (FORMAT csv)
            """, rows: current)
        try conn.copyIn("""
            COPY report_revisions (plan_code, entity_code, period, milestone_code, revision, previous_status, status,
                                   is_regression, source, author_id, recorded_at) FROM STDIN WITH (FORMAT csv)
            """, rows: revisions)
        try conn.copyIn("""
            COPY asesorias (plan_code, entity_code, person_id, held_on, modality, duration_minutes, attendee_count, created_at)
            FROM STDIN WITH (FORMAT csv)
            """, rows: sessions)
        let workshops = try workshops(conn, seed: seed)
        // Demo groupings (issue 15): universes, PDET, Decreto 683, category and KPT, labelled DEMO.
        try DemoGroupings.load(conn, seed: seed)
        try conn.execute("ANALYZE")
        return "demo: \(allEntities.count) entidades en \(plans.count) planes, \(advisorCount) asesores, \(byRegion.count) coordinadores, "
            + "\(heads.count) reportes, \(current.count) hitos reportados, \(sessions.count) asesorías y \(workshops) talleres, "
            + "\(exceptions) entidades con excepciones de calendario (semilla \(seed))"
    }

    /// When a session held on `day` of `held` was recorded, `lag` days later, at 15:00 Bogotá time.
    static func recordedAt(held: Period, day: Int, lag: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.date(from: DateComponents(year: held.year, month: held.month, day: day + lag))!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d 15:00:00-05", c.year!, c.month!, c.day!)
    }

    /// Regional workshops (talleres, issue 15): five per region over the demo's months, each led by the region's
    /// coordinator, serving three to eight of its municipalities with their attendees, labelled «DEMO · Taller
    /// regional …» so no dashboard passes them off as real events. The entities are drawn by a seeded md5, like
    /// the demo groupings. One statement; the lead entity is also served through the asesorías trigger.
    static func workshops(_ conn: Connection, seed: UInt64) throws -> Int {
        let s = String(seed), first = firstMonth.firstDayString
        return try conn.query("""
            WITH picks AS (
              SELECT er.region_code, k, er.entity_code,
                     row_number() OVER (PARTITION BY er.region_code, k ORDER BY md5(er.entity_code || \(s) || k)) AS n
                FROM entity_regions_at(\(first)::date) er
                JOIN entities e ON e.code = er.entity_code AND e.type IN ('municipality', 'district')
                CROSS JOIN generate_series(0, 4) k
            ),
            w AS (
              SELECT p.region_code, p.k, p.entity_code AS lead,
                     3 + get_byte(decode(md5(p.region_code || \(s) || p.k), 'hex'), 0) % 6 AS served,
                     (\(first)::date + make_interval(months => 2 + 5 * p.k) + (9 + p.k) * interval '1 day')::date AS held_on,
                     'DEMO · Taller regional ' || r.name || ' (' || p.k + 1 || ' de 5); no es un evento real.' AS notes,
                     (SELECT min(pr.person_id) FROM person_regions pr JOIN people pe ON pe.id = pr.person_id
                       WHERE pr.region_code = p.region_code AND pe.role = 'coordinator') AS person_id
                FROM picks p JOIN regions r ON r.code = p.region_code
               WHERE p.n = 1
            ),
            ins AS (
              INSERT INTO asesorias (plan_code, entity_code, person_id, held_on, modality, duration_minutes, attendee_count,
                                     attendee_roles, notes, created_at)
              SELECT 'gap-2020-f1', w.lead, w.person_id, w.held_on, 'taller', 180,
                     w.served * (8 + get_byte(decode(md5(w.lead || \(s)), 'hex'), 1) % 15),
                     ARRAY['alcalde', 'secretario de planeación', 'enlace PDT'], w.notes,
                     ((w.held_on + 2)::text || ' 15:00:00-05')::timestamptz
                FROM w WHERE w.person_id IS NOT NULL
              RETURNING id, entity_code, notes
            ),
            served AS (
              INSERT INTO asesoria_entities (asesoria_id, entity_code)
              SELECT ins.id, p.entity_code FROM ins
                JOIN w ON w.lead = ins.entity_code AND w.notes = ins.notes
                JOIN picks p ON p.region_code = w.region_code AND p.k = w.k AND p.n <= w.served
              ON CONFLICT DO NOTHING
            )
            SELECT count(*)::int AS n FROM ins
            """).rows[0].decode("n")
    }
}
