// Schedule exceptions shipped as data (Decreto 683 de 2020), applied the way POST …/schedule/exceptions applies them.
import Foundation
import SetaDatabase
import SetaDomain

enum ScheduleExceptionsData {
    /// Provenance in Data/README.md ("Decreto 683 de 2020").
    static let file = "schedule-exceptions-2020.csv"
    static let header = ["plan_code", "department_code", "department", "include_municipalities", "milestone_code", "due_on",
                         "reason", "source"]

    /// One bulk application: the same dates and reason for some departments' entities.
    struct Batch: Sendable {
        var plan: String
        var reason: String
        var includeMunicipalities: Bool
        var departments: [String] = []
        var due: [String: CalendarDay] = [:]
    }

    /// The file's rows as bulk applications, one per (plan, reason, include_municipalities). A milestone dated
    /// twice within one is an error, as is a malformed date.
    static func batches(_ text: String) throws -> [Batch] {
        let table = try CSVReader.table(text, expectedHeader: header)
        var out: [Batch] = []
        for record in table.records {
            let f = record.fields
            guard let day = CalendarDay(f[5]) else {
                throw APIError.invalid(field: file, "Fecha inválida en las excepciones de calendario: \(f[5]).")
            }
            let include = f[3] == "true"
            var i = out.firstIndex { $0.plan == f[0] && $0.reason == f[6] && $0.includeMunicipalities == include }
            if i == nil {
                out.append(Batch(plan: f[0], reason: f[6], includeMunicipalities: include))
                i = out.count - 1
            }
            if !out[i!].departments.contains(f[1]) { out[i!].departments.append(f[1]) }
            if let other = out[i!].due[f[4]], other != day {
                throw APIError.invalid(field: file, "\(f[4]) tiene dos fechas en un mismo grupo de excepciones.")
            }
            out[i!].due[f[4]] = day
        }
        return out
    }

    /// Applies the file to the entities enrolled in its plans, like the bulk route with `departments` (their
    /// gobernación) and `include_municipalities` (every enrolled entity of those departments). Entities not
    /// enrolled are skipped. Returns the number of entities that got exceptions.
    @discardableResult
    static func apply(_ conn: Connection, dataDirectory: URL, at: Date) throws -> Int {
        let url = dataDirectory.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { return 0 }
        var count = 0
        for batch in try batches(try String(contentsOf: url, encoding: .utf8)) {
            let enrolled = try ScheduleStore.enrolledInDepartments(conn, plan: batch.plan, departments: batch.departments)
            let entities = batch.includeMunicipalities ? enrolled : enrolled.filter { batch.departments.contains($0) }
            guard !entities.isEmpty else { continue }
            try ScheduleStore.setExceptions(conn, plan: batch.plan, entities: entities, due: batch.due, reason: batch.reason,
                                            by: nil, at: at)
            count += entities.count
        }
        return count
    }
}
