// Test helper: reads the repository's Data/ files (located from this file's path) and builds test plans.
import Foundation
@testable import SetaDomain

enum RepositoryData {
    /// `<repo>/Data`, found from this source file; symlinks are resolved so that scratch packages which
    /// link to the test folder still find the repository.
    static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .resolvingSymlinksInPath()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Data")
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    /// Both Gobierno al Plan 2020 catalogs (45 lines: parsing takes well under a millisecond).
    static func catalogs() throws -> [PlanCatalog] {
        try CatalogCSV.parse(try text("catalog-gobierno-al-plan-2020.csv"))
    }

    static func plan(_ code: String) throws -> PlanCatalog {
        let plan = try catalogs().first { $0.code == code }
        guard let plan else { throw CSVError(line: 0, message: "no plan \(code) in the catalog file") }
        return plan
    }

    static func faseI() throws -> PlanCatalog { try plan("gap-2020-f1") }
    static func faseII() throws -> PlanCatalog { try plan("gap-2020-f2") }
}

/// Statuses with the given milestones done and everything else absent (not started).
func done(_ codes: [String]) -> [String: MilestoneStatus] {
    Dictionary(uniqueKeysWithValues: codes.map { ($0, .done) })
}

/// `H1` … `Hn` style code lists.
func milestones(_ range: ClosedRange<Int>) -> [String] { range.map { "H\($0)" } }

/// Decimal literal from text, so tests never go through Double.
func dec(_ text: String) -> Decimal { Decimal(exactText: text)! }
