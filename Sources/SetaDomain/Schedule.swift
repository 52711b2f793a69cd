// The schedule of a plan (cronograma): due dates, per-entity exceptions, expected progress, lag and overdue milestones.
import Foundation

/// A plan's span (vigencia): the months it runs. Due dates must fall inside.
public struct PlanSpan: Hashable, Codable, Sendable {
    public var from: Period
    public var to: Period

    public init(from: Period, to: Period) {
        self.from = from
        self.to = to
    }

    public func contains(_ day: CalendarDay) -> Bool { day >= from.firstDay && day <= to.lastDay }
}

/// One milestone due and not done as of a month (hito vencido).
public struct OverdueMilestone: Hashable, Codable, Sendable {
    public var code: String
    /// The date it was due by: its own, its entity's exception, or inherited from a later milestone.
    public var effectiveDueOn: CalendarDay
    /// Days from the due date to the last day of the month asked about.
    public var daysOverdue: Int
    /// Its weight in the plan (phase weight × milestone weight / 100), to weigh how bad it is.
    public var weightInPlan: Decimal

    public init(code: String, effectiveDueOn: CalendarDay, daysOverdue: Int, weightInPlan: Decimal) {
        self.code = code
        self.effectiveDueOn = effectiveDueOn
        self.daysOverdue = daysOverdue
        self.weightInPlan = weightInPlan
    }
}

/// Where an entity stands against the schedule as of a month (rezago).
public struct ScheduleStanding: Hashable, Codable, Sendable {
    /// The progress the entity would have with exactly its due milestones done; nil when no phase counts.
    public var expected: Decimal?
    /// Its progress (ProgressEngine), nil when no phase counts.
    public var actual: Decimal?
    /// expected − actual: positive means behind. Nil when either is nil.
    public var lag: Decimal?
    /// Earliest due date first, then plan order.
    public var overdue: [OverdueMilestone]

    /// Behind schedule: some due milestone is not done. (A positive lag alone can also come from being
    /// ahead on one milestone and behind on a heavier one; overdue milestones are what an advisor acts on.)
    public var isBehind: Bool { !overdue.isEmpty }
}

/// The schedule rules. Pure functions of the catalog, the entity's exceptions and its statuses.
///
///     due_on(m)            = the entity's exception for m, else the catalog version's due date, else none
///     effective_due_on(m)  = min(due_on(k)) over k = m and every milestone after m in plan order
///                            (the steps are sequential: one that precedes a deadline is due by then)
///     due(m, P)            = effective_due_on(m) ≤ last day of month P
///     expected(P)          = ProgressEngine's entity progress with status'(m) = not_applicable when m is
///                            reported not_applicable as of P, else done when due(m, P), else not_started
///     lag(P)               = expected(P) − actual(P)
///     overdue(P)           = { m applicable, due(m, P), status(m) ≠ done }
///
/// Mirrored in SQL by `milestone_due_dates` and `expected_progress_at` (Schema/015).
public enum ScheduleEngine {
    /// Each milestone's effective due date, nil when neither it nor any later milestone is dated.
    /// `exceptions` are the entity's own dates, keyed by milestone code.
    public static func effectiveDueDates(plan: PlanCatalog, exceptions: [String: CalendarDay] = [:]) -> [String: CalendarDay] {
        var out: [String: CalendarDay] = [:]
        var earliestLater: CalendarDay?
        for m in plan.milestones.sorted(by: { $0.position > $1.position }) {
            if let own = exceptions[m.code] ?? m.dueOn {
                earliestLater = earliestLater.map { min($0, own) } ?? own
            }
            if let d = earliestLater { out[m.code] = d }
        }
        return out
    }

    /// Expected progress, lag and overdue milestones as of `asOf`.
    public static func standing(plan: PlanCatalog, statuses: [String: MilestoneStatus],
                                exceptions: [String: CalendarDay] = [:], asOf: Period) -> ScheduleStanding {
        let due = effectiveDueDates(plan: plan, exceptions: exceptions)
        let end = asOf.lastDay
        var expectedStatuses: [String: MilestoneStatus] = [:]
        var overdue: [(OverdueMilestone, Int)] = []
        for m in plan.milestones {
            let status = statuses[m.code] ?? .notStarted
            let isDue = due[m.code].map { $0 <= end } ?? false
            if !status.isApplicable {
                expectedStatuses[m.code] = .notApplicable
            } else if isDue {
                expectedStatuses[m.code] = .done
                if !status.earnsWeight, let d = due[m.code] {
                    overdue.append((OverdueMilestone(code: m.code, effectiveDueOn: d, daysOverdue: days(from: d, to: end),
                                                     weightInPlan: plan.weightInPlan(of: m.code) ?? 0), m.position))
                }
            } else {
                expectedStatuses[m.code] = .notStarted
            }
        }
        let expected = ProgressEngine.entityProgress(plan: plan, statuses: expectedStatuses).total
        let actual = ProgressEngine.entityProgress(plan: plan, statuses: statuses).total
        let lag: Decimal? = (expected != nil && actual != nil) ? expected! - actual! : nil
        overdue.sort { ($0.0.effectiveDueOn, $0.1) < ($1.0.effectiveDueOn, $1.1) }
        return ScheduleStanding(expected: expected, actual: actual, lag: lag, overdue: overdue.map(\.0))
    }

    /// Rules 1 and the above over per-milestone histories, as of `asOf`.
    public static func standing(plan: PlanCatalog, history: [String: ProgressEngine.History],
                                exceptions: [String: CalendarDay] = [:], asOf: Period) -> ScheduleStanding {
        var statuses: [String: MilestoneStatus] = [:]
        for (code, entries) in history { statuses[code] = ProgressEngine.statusAsOf(entries, asOf: asOf) }
        return standing(plan: plan, statuses: statuses, exceptions: exceptions, asOf: asOf)
    }

    /// Milestones whose due date falls outside the plan's span, in plan order (each a 422 for the caller).
    public static func datesOutsideSpan(plan: PlanCatalog, span: PlanSpan?) -> [Milestone] {
        plan.milestones.filter { m in
            guard let d = m.dueOn else { return false }
            return span.map { !$0.contains(d) } ?? true
        }.sorted { $0.position < $1.position }
    }

    /// Whole days from `a` to `b` (negative when `b` is earlier).
    public static func days(from a: CalendarDay, to b: CalendarDay) -> Int {
        daysSinceEpoch(b) - daysSinceEpoch(a)
    }

    /// Howard Hinnant's `days_from_civil`: the day count from 1970-01-01 of a proleptic Gregorian date.
    static func daysSinceEpoch(_ d: CalendarDay) -> Int {
        let y = d.month <= 2 ? d.year - 1 : d.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = d.month > 2 ? d.month - 3 : d.month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + d.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
