// How months travel to and from PostgreSQL (as the date of their first day) and the "future" rule.
import Foundation
import SetaDomain

extension Period {
    /// `2020-03` → `2020-03-01`, the form periods take in SQL.
    var firstDayString: String { String(format: "%04d-%02d-01", year, month) }

    /// Parses the `YYYY-MM-DD` text of a SQL date column back to its month.
    static func fromSQLDate(_ text: String) -> Period? { Period(String(text.prefix(7))) }

    /// The current month in Bogotá (UTC−5, no daylight saving).
    static func current(at date: Date) -> Period { Period(date: date) }
}

extension RequestContext {
    /// Refuses a month after the current one, with the wording of the report write rule (`ReportWriteRules.futurePeriod`,
    /// the one definition of "a month that has not begun") and `field` naming the parameter at fault.
    func refuseFuture(_ p: Period, field: String) throws {
        if let problem = ReportWriteRules.futurePeriod(p, currentMonth: Period.current(at: now)) {
            throw APIError.invalid(field: field, problem.reason, found: problem.found)
        }
    }
}
