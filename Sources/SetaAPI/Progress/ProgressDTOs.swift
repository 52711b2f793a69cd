// Wire forms of progress: one entity, an entity table row, a group roll-up. Rounded to 2 decimals here only.
import Foundation
import SetaDomain

struct EntityRefDTO: Codable, Sendable {
    var code: String
    var name: String
}

struct PhaseProgressDTO: Codable, Sendable {
    var code: String
    var name: String?
    var weightInPlan: Decimal?
    /// Rounded to two decimals; null when every milestone of the phase is not applicable.
    var progress: Decimal?
    var completed: Bool
}

struct MilestoneStatusDTO: Codable, Sendable {
    var code: String
    var name: String
    var phaseCode: String
    var status: String
    /// The month of the report the status was carried forward from; null when never reported.
    var reportedIn: String?
    /// The effective due date for this entity (its exception or the catalog's, or a later milestone's); null when
    /// never due.
    var dueOn: String? = nil
}

/// A milestone due and not done as of the month (hito vencido).
struct OverdueMilestoneDTO: Codable, Sendable {
    var code: String
    var name: String
    var dueOn: String
    /// Days from the due date to the last day of the month asked about.
    var daysOverdue: Int
}

struct EntityProgressDTO: Codable, Sendable {
    var entity: EntityRefDTO
    var plan: String
    var catalogVersion: Int
    var asOf: String
    var enrolled: Bool
    var total: Decimal?
    var phases: [PhaseProgressDTO]
    var milestones: [MilestoneStatusDTO]
    /// The schedule as of `as_of` (issue 13): progress expected by the due dates, lag = expected − total
    /// (positive: behind), behind = some milestone overdue, the overdue milestones earliest due first.
    var expected: Decimal? = nil
    var lag: Decimal? = nil
    var behind: Bool = false
    var overdue: [OverdueMilestoneDTO] = []
}

/// A line of the entity table: the entity as the store read it (flat, read through as `line.code`, …) and its
/// figures, rounded.
@dynamicMemberLookup
struct EntityTableRowDTO: Encodable, Sendable {
    var entity: ProgressStore.EntityRow
    var total: Decimal?
    var phases: [PhaseProgressDTO]
    /// Typed attribute values by attribute code (`{"pdet": "true"}`), issue 15.
    var attributes: [String: String] = [:]
    var expected: Decimal? = nil
    var lag: Decimal? = nil
    var behind: Bool = false
    /// Codes of the overdue milestones, earliest due date first.
    var overdue: [String] = []
    /// The earliest due date among them.
    var oldestDueOn: String? = nil

    subscript<T>(dynamicMember field: KeyPath<ProgressStore.EntityRow, T>) -> T { entity[keyPath: field] }

    enum CodingKeys: String, CodingKey {
        case total, phases, attributes, expected, lag, behind, overdue, oldestDueOn
    }

    /// The entity's keys go flat beside the figures; an absent value stays absent.
    func encode(to encoder: Encoder) throws {
        try entity.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(total, forKey: .total)
        try c.encode(phases, forKey: .phases)
        try c.encode(attributes, forKey: .attributes)
        try c.encodeIfPresent(expected, forKey: .expected)
        try c.encodeIfPresent(lag, forKey: .lag)
        try c.encode(behind, forKey: .behind)
        try c.encode(overdue, forKey: .overdue)
        try c.encodeIfPresent(oldestDueOn, forKey: .oldestDueOn)
    }
}

struct PhaseShareDTO: Codable, Sendable {
    var phaseCode: String
    /// Percent of the entities (for which the phase counts) that completed it.
    var completedShare: Decimal
}

/// A group's line in a roll-up: its figures (read through as `g.entityCount`, `g.meanProgress`, …), the entities at
/// the extremes, the completion shares and the schedule.
@dynamicMemberLookup
struct GroupDTO: Encodable, Sendable {
    var key: String
    var name: String
    var figures: GroupFiguresDTO
    /// At most ten of the entities at the minimum (`lowest_count` says how many there are).
    var lowest: [EntityRefDTO]
    var lowestCount: Int
    var highest: [EntityRefDTO]
    var highestCount: Int
    var phaseCompletion: [PhaseShareDTO]
    /// Each milestone's share of the group's entities that completed it, among those for which it applies
    /// (the report's headline figures, e.g. H11 "99,8 %"). In cuts, frozen with the groups (or, for cuts taken
    /// before they were, computed from the frozen statuses).
    var milestoneCompletion: [MilestoneShareDTO] = []
    /// Progress by stage (momento) for plans that have stages (Fase II).
    var stages: [StageProgressDTO] = []
    /// The schedule (issue 13): mean expected progress and mean lag over the measured entities, entities
    /// behind schedule (some milestone overdue), and per milestone how many entities have it overdue.
    /// Absent for groups read back from cuts taken before the schedule was frozen.
    var meanExpected: Decimal? = nil
    var meanLag: Decimal? = nil
    var behindCount: Int? = nil
    var milestoneOverdue: [MilestoneOverdueDTO] = []

    subscript<T>(dynamicMember figure: KeyPath<GroupFiguresDTO, T>) -> T { figures[keyPath: figure] }

    enum CodingKeys: String, CodingKey {
        case key, name, lowest, lowestCount, highest, highestCount, phaseCompletion, milestoneCompletion, stages
        case meanExpected, meanLag, behindCount, milestoneOverdue
    }

    /// The figures go flat beside the line's own keys; an absent schedule figure stays absent.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(name, forKey: .name)
        try figures.encode(to: encoder)
        try c.encode(lowest, forKey: .lowest)
        try c.encode(lowestCount, forKey: .lowestCount)
        try c.encode(highest, forKey: .highest)
        try c.encode(highestCount, forKey: .highestCount)
        try c.encode(phaseCompletion, forKey: .phaseCompletion)
        try c.encode(milestoneCompletion, forKey: .milestoneCompletion)
        try c.encode(stages, forKey: .stages)
        try c.encodeIfPresent(meanExpected, forKey: .meanExpected)
        try c.encodeIfPresent(meanLag, forKey: .meanLag)
        try c.encodeIfPresent(behindCount, forKey: .behindCount)
        try c.encode(milestoneOverdue, forKey: .milestoneOverdue)
    }
}

struct MilestoneOverdueDTO: Codable, Sendable {
    var milestoneCode: String
    /// Entities of the group that have the milestone overdue.
    var overdueCount: Int
}

struct MilestoneShareDTO: Codable, Sendable {
    var milestoneCode: String
    /// Percent of the entities for which the milestone applies that have it done.
    var completedShare: Decimal
}

struct StageProgressDTO: Codable, Sendable {
    var code: String
    var name: String
    /// Mean over the group's entities of the stage's progress (its phases weighted as in the plan).
    var meanProgress: Decimal?
    /// Percent of the entities (for which the stage counts) that completed every phase of it.
    var completedShare: Decimal?
}

struct GroupsResponseDTO: Encodable, Sendable {
    var plan: String
    var catalogVersion: Int
    var asOf: String
    var group: String
    var items: [GroupDTO]
}

struct SeriesPointDTO: Encodable, Sendable {
    var period: String
    var items: [GroupDTO]
}

struct SeriesResponseDTO: Encodable, Sendable {
    var plan: String
    var group: String
    var from: String
    var to: String
    var points: [SeriesPointDTO]
}

extension Decimal {
    /// How every progress figure is written out.
    var out: Decimal { rounded(scale: 2) }
}

extension GroupDTO {
    init(_ g: GroupResult, phaseOrder: [String], names: [String: String], stageNames: [String: String] = [:]) {
        let s = g.summary
        key = g.key
        name = g.name
        figures = GroupFiguresDTO(s)
        lowest = s.lowest.prefix(10).map { EntityRefDTO(code: $0, name: names[$0] ?? "") }
        lowestCount = s.lowest.count
        highest = s.highest.prefix(10).map { EntityRefDTO(code: $0, name: names[$0] ?? "") }
        highestCount = s.highest.count
        phaseCompletion = phaseOrder.compactMap { code in
            s.phaseCompletionShare[code].map { PhaseShareDTO(phaseCode: code, completedShare: $0.out) }
        }
        milestoneCompletion = g.milestoneShares.map { MilestoneShareDTO(milestoneCode: $0.code, completedShare: $0.share.out) }
        stages = g.stages.map { StageProgressDTO(code: $0.code, name: stageNames[$0.code] ?? $0.code,
                                                 meanProgress: $0.mean?.out, completedShare: $0.completedShare?.out) }
        meanExpected = g.meanExpected?.out
        meanLag = g.meanLag?.out
        behindCount = g.behindCount
        milestoneOverdue = g.milestoneOverdue.map { MilestoneOverdueDTO(milestoneCode: $0.code, overdueCount: $0.count) }
    }
}
