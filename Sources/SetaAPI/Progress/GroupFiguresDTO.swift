// A group's figures (cifras del grupo), the same in every group line (live roll-ups, cuts, the cut report): one type, written flat.
import Foundation
import SetaDomain
import SetaFormats

/// A group's figures (cifras del grupo): its entities, how many of them are measured (have a total), their mean
/// progress (avance promedio), how many are at 100 %, and the lowest and highest total, rounded as every progress
/// figure is. Encoded flat: its keys stand in the object of the group line that carries it, beside that line's own.
struct GroupFiguresDTO: Encodable, Sendable {
    var entityCount: Int
    var measuredCount: Int
    var meanProgress: Decimal?
    var atHundred: Int
    var min: Decimal?
    var max: Decimal?

    init(_ s: GroupSummary) {
        entityCount = s.entityCount
        measuredCount = s.measuredCount
        meanProgress = s.meanProgress?.out
        atHundred = s.atHundred
        min = s.min?.out
        max = s.max?.out
    }

    /// The figures' table columns, in the order of `cells`.
    static let columns = ["entity_count", "measured_count", "mean_progress", "at_hundred", "min", "max"]

    var cells: [Cell] {
        [.integer(entityCount), .integer(measuredCount), .figure(meanProgress), .integer(atHundred), .figure(min), .figure(max)]
    }
}
