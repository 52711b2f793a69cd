// The timeliness figures (oportunidad del reporte): one statement over the enrolled entities of a month, grouped three ways.
import Foundation
import SetaDatabase
import SetaDomain

struct TimelinessDTO: Encodable, Sendable {
    struct Counts: Encodable, Sendable {
        var entities: Int
        var onTime: Int
        var late: Int
        var missing: Int
        /// on_time × 100 / entities, two decimals; absent when there are no entities.
        var onTimePercent: Decimal?
    }
    struct AdvisorRow: Encodable, Sendable {
        /// Absent for the enrolled entities that had no advisor assigned that month.
        var advisor: PersonRef?
        var counts: Counts
        var lateEntities: [String]
        var missingEntities: [String]
    }
    struct RegionRow: Encodable, Sendable {
        var region: String?
        var regionName: String?
        var counts: Counts
    }
    var plan: String
    var period: Period
    var onTimeDay: Int
    /// The last on-time day (Bogotá): a report first received by the end of it is on time.
    var deadline: CalendarDay
    var deadlinePassed: Bool
    var advisors: [AdvisorRow]
    var regions: [RegionRow]
    var national: Counts
}

enum TimelinessStore {
    /// The instant a month's on-time window closes: the end of its deadline day in Bogotá (UTC−5).
    static func deadlineEnd(_ day: CalendarDay) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .bogota
        return calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day + 1))!
    }

    /// One statement: the entities enrolled at the month and in the reader's scope, each with its advisor
    /// that month, its region that month and its report's first receipt, grouped three ways.
    static func timeliness(_ conn: Connection, caller: Principal, plan: CatalogStore.PlanRow, period: Period,
                           region: String?, advisor: Int64?, now: Date) throws -> TimelinessDTO {
        let month = period.firstDayString
        let deadline = period.deadline(onTimeDay: plan.onTimeDay)
        let closes = deadlineEnd(deadline)
        let scope = Scope.condition(for: caller, entityColumn: "en.entity_code", plan: plan.code, month: period)
        let rows = try conn.query("""
            WITH base AS (
                SELECT en.entity_code, a.person_id, rg.region_code,
                       CASE WHEN r.first_received_at IS NULL THEN 'missing'
                            WHEN r.first_received_at < \(closes) THEN 'on_time'
                            ELSE 'late' END AS state
                  FROM enrolled_at(\(plan.code), \(month)::date) en
                  LEFT JOIN assigned_at(\(plan.code), \(month)::date) a ON a.entity_code = en.entity_code
                  LEFT JOIN entity_regions_at(\(month)::date) rg ON rg.entity_code = en.entity_code
                  LEFT JOIN reports r ON r.plan_code = \(plan.code) AND r.entity_code = en.entity_code AND r.period = \(month)::date
                 WHERE \(scope)
                   AND (\(region)::text IS NULL OR rg.region_code = \(region))
                   AND (\(advisor)::bigint IS NULL OR a.person_id = \(advisor))
            )
            SELECT CASE WHEN GROUPING(b.person_id) = 0 THEN 'advisor'
                        WHEN GROUPING(b.region_code) = 0 THEN 'region' ELSE 'national' END AS level,
                   b.person_id, p.name AS person_name, b.region_code, rn.name AS region_name,
                   count(*) AS entities,
                   count(*) FILTER (WHERE b.state = 'on_time') AS on_time,
                   count(*) FILTER (WHERE b.state = 'late') AS late,
                   count(*) FILTER (WHERE b.state = 'missing') AS missing,
                   round(count(*) FILTER (WHERE b.state = 'on_time') * 100::numeric / NULLIF(count(*), 0), 2) AS on_time_percent,
                   COALESCE(array_agg(b.entity_code ORDER BY b.entity_code) FILTER (WHERE b.state = 'late'), '{}') AS late_entities,
                   COALESCE(array_agg(b.entity_code ORDER BY b.entity_code) FILTER (WHERE b.state = 'missing'), '{}') AS missing_entities
              FROM base b
              LEFT JOIN people p ON p.id = b.person_id
              LEFT JOIN regions rn ON rn.code = b.region_code
             GROUP BY GROUPING SETS ((b.person_id, p.name), (b.region_code, rn.name), ())
             ORDER BY level, person_name NULLS LAST, b.person_id, b.region_code NULLS LAST
            """).rows
        var advisors: [TimelinessDTO.AdvisorRow] = []
        var regions: [TimelinessDTO.RegionRow] = []
        var national = TimelinessDTO.Counts(entities: 0, onTime: 0, late: 0, missing: 0, onTimePercent: nil)
        for r in rows {
            let counts = TimelinessDTO.Counts(entities: try r.decode("entities"), onTime: try r.decode("on_time"),
                                              late: try r.decode("late"), missing: try r.decode("missing"),
                                              onTimePercent: try r.decode("on_time_percent"))
            switch try r.decode("level", as: String.self) {
            case "advisor":
                advisors.append(.init(advisor: try PersonRef(id: r.decode("person_id"), name: r.decode("person_name")),
                                      counts: counts, lateEntities: try r.decode("late_entities"),
                                      missingEntities: try r.decode("missing_entities")))
            case "region":
                regions.append(.init(region: try r.decode("region_code"), regionName: try r.decode("region_name"), counts: counts))
            default:
                national = counts
            }
        }
        return TimelinessDTO(plan: plan.code, period: period, onTimeDay: plan.onTimeDay, deadline: deadline,
                             deadlinePassed: now >= closes, advisors: advisors, regions: regions, national: national)
    }
}
