// Expected progress, lag and overdue milestones in the dashboards (issue 13), worked by hand around Decreto 683.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain

@Suite("Lag in the dashboards")
struct LagDashboardTests {
    static let plan = ScheduleTests.plan

    /// Medellín (05001) and Pasto (52001) reported H1–H18 done in May 2020 (80); the gobernación of Nariño (52)
    /// reported nothing. Nariño took Decreto 683 (52 and 52001: H18 by 2020-06-15, H22 by 2020-07-15).
    /// As of 2020-06, by hand (docs/progress.md):
    ///   05001: expected 100 − 4 (H21, never due) = 96, lag 16, overdue H19 H20 H22 (due 2020-05-31, 30 days);
    ///   52001: H12–H18 due 2020-06-15, H19–H22 2020-07-15: expected 80, lag 0, nothing overdue;
    ///   52:    expected 80 (H1–H18 due), actual 0, lag 80, H1–H18 overdue, the oldest due 2020-02-29.
    /// National: mean expected (96 + 80 + 80) / 3 = 85.33, mean lag (16 + 0 + 80) / 3 = 32, 2 behind.
    static func setUp() throws -> APIHarness {
        let h = try APIHarness()
        try h.enroll(plan, ["05001", "52001", "52"])
        let applied = try h.call("POST", "/v1/plans/\(plan)/schedule/exceptions", json: ScheduleTests.decreto683)
        #expect(applied.status == 201, "\(applied.text)")
        let done = Dictionary(uniqueKeysWithValues: (1...18).map { ("H\($0)", "done") })
        try ScheduleTests.report(h, "05001", "2020-05", done)
        try ScheduleTests.report(h, "52001", "2020-05", done)
        return h
    }

    static func number(_ any: Any?) -> Decimal? {
        (any as? NSNumber).flatMap { Decimal(exactText: $0.stringValue) }
    }

    @Test("one entity's progress shows expected 96, lag 16 and H19, H20, H22 overdue 30 days; under the decree lag 0")
    func oneEntity() throws {
        let h = try Self.setUp()
        let medellin = try h.call("GET", "/v1/entities/05001/progress?plan=\(Self.plan)&as_of=2020-06")
        #expect(medellin.status == 200, "\(medellin.text)")
        #expect(Self.number(medellin.json["total"]) == 80)
        #expect(Self.number(medellin.json["expected"]) == 96)
        #expect(Self.number(medellin.json["lag"]) == 16)
        #expect(medellin.json["behind"] as? Bool == true)
        let overdue = try #require(medellin.json["overdue"] as? [[String: Any]])
        #expect(overdue.map { $0["code"] as? String } == ["H19", "H20", "H22"])
        #expect(overdue.map { $0["due_on"] as? String } == ["2020-05-31", "2020-05-31", "2020-05-31"])
        #expect(overdue.map { $0["days_overdue"] as? Int } == [30, 30, 30])

        let pasto = try h.call("GET", "/v1/entities/52001/progress?plan=\(Self.plan)&as_of=2020-06")
        #expect(Self.number(pasto.json["expected"]) == 80)
        #expect(Self.number(pasto.json["lag"]) == 0)
        #expect(pasto.json["behind"] as? Bool == false)
        let milestones = try #require(pasto.json["milestones"] as? [[String: Any]])
        #expect(milestones.first { $0["code"] as? String == "H18" }?["due_on"] as? String == "2020-06-15")
        #expect(milestones.first { $0["code"] as? String == "H22" }?["due_on"] as? String == "2020-07-15")
    }

    @Test("who is behind: the entity table sorted by -lag puts 52, then 05001, then 52001, and its CSV has the columns")
    func entityTableByLag() throws {
        let h = try Self.setUp()
        let table = try h.call("GET", "/v1/progress/entities?plan=\(Self.plan)&as_of=2020-06&sort=-lag")
        #expect(table.status == 200, "\(table.text)")
        let items = try #require(table.json["items"] as? [[String: Any]])
        #expect(items.map { $0["code"] as? String } == ["52", "05001", "52001"])
        #expect(items.map { Self.number($0["lag"]) } == [80, 16, 0])
        #expect(items.map { $0["behind"] as? Bool } == [true, true, false])
        #expect((items[0]["overdue"] as? [String])?.count == 18)
        #expect(items[0]["oldest_due_on"] as? String == "2020-02-29")
        let ascending = try h.call("GET", "/v1/progress/entities?plan=\(Self.plan)&as_of=2020-06&sort=lag")
        #expect((ascending.json["items"] as? [[String: Any]])?.map { $0["code"] as? String } == ["52001", "05001", "52"])
        // Nariño's region only, most behind first.
        let region = try #require(items[2]["region_code"] as? String)
        let mine = try h.call("GET", "/v1/progress/entities?plan=\(Self.plan)&as_of=2020-06&sort=-lag&region=\(region)")
        #expect((mine.json["items"] as? [[String: Any]])?.map { $0["code"] as? String } == ["52", "52001"])
        let csv = try h.call("GET", "/v1/progress/entities?plan=\(Self.plan)&as_of=2020-06&sort=-lag&format=csv")
        #expect(csv.text.contains("total,expected,lag,overdue_count,overdue,oldest_due_on"))
        #expect(csv.text.contains("80.00,96.00,16.00,3,H19 H20 H22,2020-05-31"))
    }

    @Test("the national group shows mean expected 85.33, mean lag 32, 2 behind and overdue counts per milestone")
    func groups() throws {
        let h = try Self.setUp()
        let national = try h.call("GET", "/v1/progress/national?plan=\(Self.plan)&as_of=2020-06")
        #expect(national.status == 200, "\(national.text)")
        let item = try #require((national.json["items"] as? [[String: Any]])?.first)
        #expect(Self.number(item["mean_expected"]) == Decimal(string: "85.33"))
        #expect(Self.number(item["mean_lag"]) == 32)
        #expect(item["behind_count"] as? Int == 2)
        let overdue = try #require(item["milestone_overdue"] as? [[String: Any]])
        let counts = Dictionary(uniqueKeysWithValues: overdue.map { ($0["milestone_code"] as! String, $0["overdue_count"] as! Int) })
        #expect(counts["H1"] == 1)     // 52 only
        #expect(counts["H19"] == 1)    // 05001 only: 52's is not due before 2020-07-15
        #expect(counts["H22"] == 1)
        #expect(counts["H21"] == 0)    // never due
        // In July the decree's approval date has passed: 52001 is behind too.
        let july = try h.call("GET", "/v1/progress/national?plan=\(Self.plan)&as_of=2020-07")
        #expect((july.json["items"] as? [[String: Any]])?.first?["behind_count"] as? Int == 3)
        // The series carries the same figures per month.
        let series = try h.call("GET", "/v1/progress/national/series?plan=\(Self.plan)&from=2020-05&to=2020-07")
        let points = try #require(series.json["points"] as? [[String: Any]])
        let behind = points.map { (($0["items"] as? [[String: Any]])?.first?["behind_count"] as? Int) }
        // May: 05001 and 52001 have H1–H18 done, H19–H22 due 2020-05-31 for 05001 only; 52 has H1–H18 due.
        #expect(behind == [2, 2, 3])
        let csv = try h.call("GET", "/v1/progress/national?plan=\(Self.plan)&as_of=2020-06&format=csv")
        #expect(csv.text.contains("mean_expected,mean_lag,behind_count"))
    }

    @Test("the advisor ranking gives each advisor's mean lag and entities behind: (16 + 0) / 2 = 8 with one behind")
    func ranking() throws {
        let h = try Self.setUp()
        let advisor = try h.person(role: "advisor", name: "Ana Asesora")
        try h.database.pool.withConnection { conn in
            try conn.execute("""
                INSERT INTO assignments (plan_code, entity_code, person_id, from_period)
                SELECT \(Self.plan), unnest(ARRAY['05001', '52001']), \(advisor.id), DATE '2020-01-01'
                """)
        }
        let ranking = try h.call("GET", "/v1/rankings/advisors?plan=\(Self.plan)&period=2020-06")
        #expect(ranking.status == 200, "\(ranking.text)")
        let row = try #require((ranking.json["items"] as? [[String: Any]])?.first)
        #expect(Self.number(row["mean_progress"]) == 80)
        #expect(Self.number(row["mean_lag"]) == 8)
        #expect(row["behind"] as? Int == 1)
        let csv = try h.call("GET", "/v1/rankings/advisors?plan=\(Self.plan)&period=2020-06&format=csv")
        #expect(csv.text.contains("asesorias,mean_lag,behind"))
    }

    @Test("a cut freezes mean lag and behind count; removing an exception later changes the live figure, not the cut")
    func cutFreezesLag() throws {
        let h = try Self.setUp()
        let cut = try h.call("POST", "/v1/cuts", json: #"{"plan":"gap-2020-f1","period":"2020-06","label":"Corte junio 2020"}"#)
        #expect(cut.status == 201, "\(cut.text)")
        let national = try #require(cut.json["national"] as? [String: Any])
        #expect(Self.number(national["mean_lag"]) == 32)
        #expect(national["behind_count"] as? Int == 2)
        // Removing Pasto's exceptions makes it behind live, not in the cut.
        let removed = try h.call("DELETE", "/v1/plans/\(Self.plan)/schedule/exceptions/52001?reason=prueba")
        #expect(removed.status == 200 || removed.status == 204, "\(removed.text)")
        let live = try h.call("GET", "/v1/progress/national?plan=\(Self.plan)&as_of=2020-06")
        #expect((live.json["items"] as? [[String: Any]])?.first?["behind_count"] as? Int == 3)
        let id = try #require(cut.json["id"] as? Int)
        let frozen = try h.call("GET", "/v1/cuts/\(id)/groups/national")
        #expect(frozen.status == 200, "\(frozen.text)")
        #expect(frozen.text.contains("\"behind_count\":2"), "\(frozen.text)")
    }
}
