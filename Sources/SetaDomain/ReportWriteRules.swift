// The report write rules (reglas de escritura del reporte): their codes, order, fields and Spanish reasons, and the ones that need no database.

/// Reglas de escritura del reporte: what a reported milestone value must satisfy before it is written,
/// one definition for both writers, the API's `PUT /v1/reports/{plan}/{entity}/{period}` and the CSV
/// import. The rules are checked in the order of `Rule`'s cases; a writer reports, for each milestone
/// value, the first rule it breaks (the import, one per row) or every broken value rule of the body (the
/// PUT). Rules that need no database are functions here; the database rules are one SQL statement
/// (`ReportWriteChecks` in SetaAPI) whose reasons follow the same wording; the rules comparing a value
/// with the one before it (regression, unchanged) are SQL functions (`Schema/022_report_write_rules.sql`).
/// `docs/decisions.md` ("Report write rules, one definition") lists them with each writer's answer.
public enum ReportWriteRules {
    /// Each rule's stable code, in checking order.
    public enum Rule: String, CaseIterable, Sendable {
        // Value rules, no database (this file).
        case periodInFuture = "period_in_future"
        case statusUnknown = "status_unknown"
        case achievedAfterPeriod = "achieved_after_period"
        case achievedInFuture = "achieved_in_future"
        case evidenceTooLong = "evidence_too_long"
        case commentTooLong = "comment_too_long"
        case milestoneRepeated = "milestone_repeated"
        // Database rules (one statement, ReportWriteChecks).
        case planUnknown = "plan_unknown"
        case entityUnknown = "entity_unknown"
        case notEnrolled = "not_enrolled"
        case periodLocked = "period_locked"
        case milestoneUnknown = "milestone_unknown"
        case notApplicableRefused = "not_applicable_refused"
        // Against the value before (Schema/022): the API refuses, the import flags (is_regression).
        case regressionWithoutComment = "regression_without_comment"
    }

    /// One broken rule: its code, the field at fault as the import's column names it (`ReportWriteRules.bodyField`
    /// gives the PUT body's name), the reason in Spanish and the offending value.
    public struct Problem: Hashable, Sendable {
        public var rule: Rule
        public var field: String
        public var reason: String
        public var found: String?

        public init(rule: Rule, field: String, reason: String, found: String? = nil) {
            (self.rule, self.field, self.reason, self.found) = (rule, field, reason, found)
        }
    }

    /// Longest `evidence` and `comment`, in characters (Unicode scalars, as PostgreSQL's `length()` counts them).
    public static let maxTextLength = 2000

    /// The field of a PUT body that an import column names: the report's key (`plan`, `entity`, `period`)
    /// is the path's, a milestone's own fields are `milestones[i].…`, and the import's `milestone` column is
    /// the body's `code`.
    public static func bodyField(_ field: String, index: Int) -> String {
        switch field {
        case "plan", "entity", "period": return field
        case "milestone": return "milestones[\(index)].code"
        default: return "milestones[\(index)].\(field)"
        }
    }

    /// A report is of a month that has begun (Bogotá): nil when `period` is not after `currentMonth`.
    public static func futurePeriod(_ period: Period, currentMonth: Period) -> Problem? {
        guard period > currentMonth else { return nil }
        return Problem(rule: .periodInFuture, field: "period", reason: "El periodo \(period) está en el futuro.",
                       found: period.description)
    }

    /// The value rules of one milestone value of the report of `period`, in rule order: a known status, an
    /// achievement date inside the period and not after `today`, texts within `maxTextLength`. `status` is
    /// the text as sent; `evidence` and `comment` are the texts after trimming (nil when absent).
    public static func valueProblems(status: String, achievedOn: CalendarDay?, evidence: String?, comment: String?,
                                     period: Period, today: CalendarDay) -> [Problem] {
        var problems: [Problem] = []
        if MilestoneStatus(rawValue: status) == nil {
            problems.append(Problem(rule: .statusUnknown, field: "status",
                                    reason: "Estado desconocido «\(status)»; use not_started, in_progress, done o not_applicable.",
                                    found: status))
        }
        if let day = achievedOn {
            if day > period.lastDay {
                problems.append(Problem(rule: .achievedAfterPeriod, field: "achieved_on",
                                        reason: "La fecha de cumplimiento \(day) es posterior al fin del periodo \(period).",
                                        found: day.description))
            } else if day > today {
                problems.append(Problem(rule: .achievedInFuture, field: "achieved_on",
                                        reason: "La fecha de cumplimiento \(day) está en el futuro.", found: day.description))
            }
        }
        if let evidence, isTooLong(evidence) {
            problems.append(tooLong(.evidenceTooLong, field: "evidence", what: "La evidencia"))
        }
        if let comment, isTooLong(comment) {
            problems.append(tooLong(.commentTooLong, field: "comment", what: "El comentario"))
        }
        return problems
    }

    /// Whether a text passes `maxTextLength` characters.
    public static func isTooLong(_ text: String) -> Bool {
        text.utf8.count > maxTextLength && text.unicodeScalars.count > maxTextLength
    }

    /// A text over `maxTextLength` (also the PUT's report-level `comment`).
    public static func tooLong(_ rule: Rule, field: String, what: String) -> Problem {
        Problem(rule: rule, field: field, reason: "\(what) supera \(maxTextLength) caracteres.")
    }

    /// The same milestone twice in one write (a body or a file); `firstAt` says where it came first
    /// (`milestones[0]`, `la línea 3`). The import writes this reason in SQL with the same words.
    public static func repeated(milestone: String, firstAt: String) -> Problem {
        Problem(rule: .milestoneRepeated, field: "milestone",
                reason: "El hito \(milestone) aparece dos veces (también en \(firstAt)).", found: milestone)
    }

    /// A done (cumplido) milestone reported as anything else with no comment. The API refuses it; the import
    /// brings no comments and only flags the revision as a regression.
    public static func regressionWithoutComment(milestone: String, to status: MilestoneStatus) -> Problem {
        Problem(rule: .regressionWithoutComment, field: "comment",
                reason: "El hito \(milestone) estaba cumplido (done); pasar a \(status.rawValue) exige un comentario que lo explique.",
                found: milestone)
    }
}
