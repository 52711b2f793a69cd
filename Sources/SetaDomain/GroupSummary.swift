// Progress of a group of entities (region, department, advisor, partner, national): SPEC rule 5.
import Foundation

/// The summary every group result carries. Build it with `GroupSummary.of(entities:phaseCodes:)`.
///
/// Entities whose plan does not apply ("no aplica", `EntityProgress.total == nil`) are counted in
/// `entityCount` but left out of the mean, the count at 100, min, max, lowest and highest: averaging a
/// "not applicable" as 0 or 100 would misstate the group. `measuredCount` says how many were averaged.
public struct GroupSummary: Hashable, Codable, Sendable {
    /// All entities of the group, "no aplica" ones included.
    public var entityCount: Int
    /// Entities with a progress (`total != nil`): the denominator of the mean.
    public var measuredCount: Int
    /// Plain mean of the unrounded totals (SQL: `avg(total)`); nil when no entity was measured.
    public var meanProgress: Decimal?
    /// Entities whose unrounded total is exactly 100 (every applicable milestone done).
    public var atHundred: Int
    /// Per phase code, the percent of entities that completed it (the report's "el 99,8% cumplió la fase
    /// de alistamiento"), unrounded: completed / entities for which the phase counts × 100. An entity for
    /// which the phase dropped out (all its milestones not applicable) is in neither numerator nor
    /// denominator. A phase that counts for no entity of the group is absent from the dictionary.
    public var phaseCompletionShare: [String: Decimal]
    public var min: Decimal?
    public var max: Decimal?
    /// Codes of the entities at the minimum (ties all listed, sorted).
    public var lowest: [String]
    /// Codes of the entities at the maximum (ties all listed, sorted).
    public var highest: [String]

    public init(entityCount: Int, measuredCount: Int, meanProgress: Decimal?, atHundred: Int,
                phaseCompletionShare: [String: Decimal], min: Decimal?, max: Decimal?,
                lowest: [String], highest: [String]) {
        self.entityCount = entityCount
        self.measuredCount = measuredCount
        self.meanProgress = meanProgress
        self.atHundred = atHundred
        self.phaseCompletionShare = phaseCompletionShare
        self.min = min
        self.max = max
        self.lowest = lowest
        self.highest = highest
    }

    /// Summarizes a group. `phaseCodes` are the plan's phases to report shares for.
    /// Min and max compare unrounded totals, so "lowest" is exact even when two entities print the same.
    public static func of(entities: [(code: String, name: String, progress: EntityProgress)],
                          phaseCodes: [String]) -> GroupSummary {
        let measured = entities.compactMap { entity in entity.progress.total.map { (code: entity.code, total: $0) } }
        let sum = measured.reduce(Decimal(0)) { $0 + $1.total }
        let mean: Decimal? = measured.isEmpty ? nil : sum / Decimal(measured.count)
        let minimum = measured.map(\.total).min()
        let maximum = measured.map(\.total).max()

        var shares: [String: Decimal] = [:]
        for phaseCode in phaseCodes {
            var counting = 0
            var completed = 0
            for entity in entities {
                guard let phase = entity.progress.phase(phaseCode), phase.counts else { continue }
                counting += 1
                if phase.completed { completed += 1 }
            }
            if counting > 0 {
                shares[phaseCode] = Decimal(completed) * 100 / Decimal(counting)
            }
        }

        return GroupSummary(
            entityCount: entities.count,
            measuredCount: measured.count,
            meanProgress: mean,
            atHundred: measured.filter { $0.total == 100 }.count,
            phaseCompletionShare: shares,
            min: minimum,
            max: maximum,
            lowest: minimum.map { m in measured.filter { $0.total == m }.map(\.code).sorted() } ?? [],
            highest: maximum.map { m in measured.filter { $0.total == m }.map(\.code).sorted() } ?? [])
    }
}
