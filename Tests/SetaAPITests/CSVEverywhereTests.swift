// Every list and dashboard route also answers Accept: text/csv.
import Foundation
import Testing
@testable import SetaAPI

@Suite("CSV on every list route")
struct CSVEverywhereTests {
    @Test("list routes answer text/csv with a BOM, a header and one row per item")
    func listsAnswerCSV() throws {
        // The shared demo holds a cut (of 2021-Q1), so /v1/locks has a row too.
        let (h, _) = try APIHarness.sharedDemo.get()
        let routes = [
            "/v1/plans", "/v1/partners", "/v1/regions", "/v1/departments", "/v1/entities?limit=5",
            "/v1/people?limit=5", "/v1/assignments?plan=gap-2020-f1&as_of=2021-06&limit=5",
            "/v1/plans/gap-2020-f1/enrollments?as_of=2021-06&limit=5", "/v1/locks",
            "/v1/asesorias?period=2021-06&limit=5", "/v1/asesorias/summary?period=2021-06&group=region",
            "/v1/timeliness?plan=gap-2020-f1&period=2021-06",
            "/v1/entities/05001/history?plan=gap-2020-f1",
            "/v1/progress/regions?plan=gap-2020-f1&as_of=2021-06",
            "/v1/progress/entities?plan=gap-2020-f1&as_of=2021-06&limit=5",
            "/v1/progress/national/series?plan=gap-2020-f1&from=2021-01&to=2021-06",
            "/v1/rankings/advisors?plan=gap-2020-f1&period=2021-06",
        ]
        for route in routes {
            let r = try h.call("GET", route, headers: [("Accept", "text/csv")])
            #expect(r.status == 200, "\(route): \(r.status) \(r.text.prefix(200))")
            #expect(r.header("Content-Type")?.hasPrefix("text/csv") == true, "\(route) content type \(r.header("Content-Type") ?? "-")")
            #expect(Array(r.body.prefix(3)) == [0xEF, 0xBB, 0xBF], "\(route) BOM")
            let lines = r.text.split(separator: "\r\n")
            #expect(lines.count >= 2, "\(route): header and at least one row, got \(r.text.prefix(200))")
        }
    }
}
