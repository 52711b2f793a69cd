// POST /v1/imports/reports: the bulk load of past reports over HTTP (the CLI calls ReportImport directly).
import Foundation
import SetaDatabase

enum ReportImportRoutes {
    static func register(_ r: inout Router) {
        // 200 with the summary for a dry run or a committed import; 422 with the same summary (committed:
        // false, nothing written) when rows were rejected.
        r.add("POST", "/v1/imports/reports", importReports)
    }

    static func importReports(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        let caller = try ctx.caller
        let dryRun = try ctx.boolQuery("dry_run", default: false)
        try ctx.requireBody({ $0 == "text/csv" || $0 == "application/csv" }, expected: "text/csv")
        let text = try ctx.bodyText()
        let summary = try ReportImport.run(pool: ctx.db, csvText: text, dryRun: dryRun, by: caller.personId, now: ctx.now)
        let status = (!dryRun && summary.rejected > 0) ? 422 : 200
        return try .json(summary, status: status)
    }
}
