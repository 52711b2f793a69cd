// Imports the command line runs on files (the same code as the HTTP import routes).
import Foundation
import SetaDatabase

public enum CLIImports {
    public static func reports(_ pool: ConnectionPool, file: URL, dryRun: Bool) throws -> String {
        let text = try String(contentsOf: file, encoding: .utf8)
        let summary = try ReportImport.run(pool: pool, csvText: text, dryRun: dryRun, by: nil)
        return String(decoding: try JSON.encode(summary), as: UTF8.self)
    }
}
