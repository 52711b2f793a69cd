// The report's headline figures in every group roll-up: each milestone's completion share and Fase II's progress by
// stage (momento), on a small scenario worked by hand.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain
import SetaTestSupport

@Suite("Headline figures: milestone shares and stages")
struct HeadlineFiguresTests {
    /// Fase II as of 2020-09, three entities:
    /// - A has H1–H8 done: all of stage M1 (I1, I2, I3), so M1 is 100 and completed;
    /// - B has H1, H2 (I1 = 10 + 20 = 30 %) and H5 (I2 = 100 %) done: M1 = (15 × 30 + 5 × 100 + 5 × 0) / 25 = 38;
    /// - C has nothing: M1 = 0.
    /// M1's mean is (100 + 38 + 0) / 3 = 46, and one entity in three completed it (33.33 %). M2 is 0 for all.
    /// H1 and H5 are done by two of three (66.67 %), H3 by one (33.33 %), H9 by none (0).
    @Test("milestone shares and stage progress worked by hand")
    func workedByHand() throws {
        let db = try TestDatabase.make(template: APIHarness.seededTemplate)
        defer { db.drop() }
        let (a, b, c) = ("05001", "05002", "05004")
        try db.pool.withTransaction { conn in
            try conn.execute("INSERT INTO enrollments (plan_code, entity_code, from_period) SELECT 'gap-2020-f2', unnest(ARRAY['05001','05002','05004']), DATE '2020-07-01'")
            for (entity, codes) in [(a, ["H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8"]), (b, ["H1", "H2", "H5"])] {
                try conn.execute("INSERT INTO reports VALUES ('gap-2020-f2', \(entity), DATE '2020-08-01', 1, now(), now(), NULL)")
                try conn.execute("""
                    INSERT INTO report_milestones (plan_code, entity_code, period, milestone_code, status, revision, updated_at)
                    SELECT 'gap-2020-f2', \(entity), DATE '2020-08-01', unnest(\(codes)::text[]), 'done', 1, now()
                    """)
            }
        }
        _ = c
        let central = Principal(personId: 0, name: "central", role: .central, partnerCode: nil, limitedToPartner: false, regions: [], tokenId: 0)
        let groups = try db.pool.withConnection { conn in
            try ProgressStore.groups(conn, kind: .national, plan: "gap-2020-f2", version: 1, month: Period("2020-09")!,
                                     principal: central, filter: ProgressFilter())
        }
        let national = try #require(groups.first)
        let shares = Dictionary(uniqueKeysWithValues: national.milestoneShares.map { ($0.code, $0.share.rounded(scale: 2)) })
        #expect(shares["H1"] == Decimal(string: "66.67"))
        #expect(shares["H5"] == Decimal(string: "66.67"))
        #expect(shares["H3"] == Decimal(string: "33.33"))
        #expect(shares["H9"] == 0)
        #expect(national.milestoneShares.count == 22)
        let m1 = try #require(national.stages.first { $0.code == "M1" })
        #expect(m1.mean?.rounded(scale: 2) == 46)
        #expect(m1.completedShare?.rounded(scale: 2) == Decimal(string: "33.33"))
        let m2 = try #require(national.stages.first { $0.code == "M2" })
        #expect(m2.mean == 0 && m2.completedShare == 0)
        #expect(national.stages.map(\.code) == ["M1", "M2", "M3", "M4"])
    }
}
