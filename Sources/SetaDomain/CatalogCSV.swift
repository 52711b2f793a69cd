// Reads and writes plan catalogs in the CSV format of Data/catalog-gobierno-al-plan-2020.csv.
import Foundation

/// The catalog CSV: one row per milestone, the plan's and phase's columns repeated on each row.
///
/// `plan_code,plan_name,stage,phase_code,phase_name,phase_weight_in_plan,milestone_code,milestone_name,
/// milestone_weight_in_phase,position,milestone_weight_in_plan`
///
/// - `stage` is a momento's name (empty in plans without stages). Stages get codes `M1`, `M2`, … in order
///   of first appearance within their plan, so the same file always yields the same codes.
/// - Phases keep their order of first appearance (position 1, 2, …); milestones keep the file's
///   `position` column (in Fase I, H22 comes before H21, as in the report).
/// - `milestone_weight_in_plan` is derived and optional (the column may be absent or a cell empty); when
///   present it must agree with phase weight × milestone weight / 100 to within `derivedWeightTolerance`
///   (the report prints 3.33 for 3.333). Spreadsheet exponents such as `1E+1` are read as numbers.
///
/// Parsing checks the file's shape and consistency; the weight sums are `CatalogValidator`'s job, so
/// a caller runs both and can report every sum violation at once.
public enum CatalogCSV {
    public static let header = [
        "plan_code", "plan_name", "stage", "phase_code", "phase_name", "phase_weight_in_plan",
        "milestone_code", "milestone_name", "milestone_weight_in_phase", "position", "milestone_weight_in_plan",
    ]
    /// Largest accepted difference between the written `milestone_weight_in_plan` and its derivation.
    public static let derivedWeightTolerance = Decimal(string: "0.005")!

    public static func parse(_ text: String) throws(CSVError) -> [PlanCatalog] {
        let table = try CSVReader.table(text, expectedHeader: nil)
        let hasDerivedColumn: Bool
        if table.header == header {
            hasDerivedColumn = true
        } else if table.header == Array(header.dropLast()) {
            hasDerivedColumn = false
        } else {
            throw CSVError(line: 1, message: "encabezado inesperado: se esperaba \"\(header.joined(separator: ","))\" (la última columna es opcional)")
        }

        var plans: [PlanCatalog] = []
        var planIndex: [String: Int] = [:]

        for record in table.records {
            let f = record.fields
            func column(_ i: Int) -> String { f[i].trimmingCharacters(in: .whitespaces) }
            func fail(_ column: Int, _ message: String) -> CSVError {
                CSVError(line: record.line, field: header[column], message: message)
            }
            func required(_ i: Int) throws(CSVError) -> String {
                let value = column(i)
                if value.isEmpty { throw fail(i, "\(header[i]) está vacío") }
                return value
            }
            func decimal(_ i: Int) throws(CSVError) -> Decimal {
                let value = column(i)
                guard let number = Decimal(exactText: value) else {
                    throw fail(i, "\"\(value)\" no es un número (use punto decimal: 33.33)")
                }
                return number
            }

            let planCode = try required(0)
            let planName = try required(1)
            let stageName = column(2)
            let phaseCode = try required(3)
            let phaseName = try required(4)
            let phaseWeight = try decimal(5)
            let milestoneCode = try required(6)
            let milestoneName = try required(7)
            let milestoneWeight = try decimal(8)
            guard let position = Int(column(9)) else {
                throw fail(9, "\"\(column(9))\" no es un número entero")
            }

            // The plan, created on first appearance; its name must not change between rows.
            let p: Int
            if let existing = planIndex[planCode] {
                p = existing
                if plans[p].name != planName {
                    throw fail(1, "el plan \(planCode) tiene otro nombre en una fila anterior")
                }
            } else {
                p = plans.count
                planIndex[planCode] = p
                plans.append(PlanCatalog(code: planCode, name: planName, version: 1, stages: [], phases: [], milestones: []))
            }

            // The stage, by name, coded in order of first appearance.
            var stageCode: String?
            if !stageName.isEmpty {
                if let stage = plans[p].stages.first(where: { $0.name == stageName }) {
                    stageCode = stage.code
                } else {
                    let position = plans[p].stages.count + 1
                    stageCode = "M\(position)"
                    plans[p].stages.append(Stage(code: "M\(position)", name: stageName, position: position))
                }
            }

            // The phase; repeated rows must repeat it identically.
            if let existing = plans[p].phases.first(where: { $0.code == phaseCode }) {
                if existing.name != phaseName { throw fail(4, "la fase \(phaseCode) tiene otro nombre en una fila anterior") }
                if existing.weightInPlan != phaseWeight { throw fail(5, "la fase \(phaseCode) tiene otro peso en una fila anterior") }
                if existing.stageCode != stageCode { throw fail(2, "la fase \(phaseCode) está en otro momento en una fila anterior") }
            } else {
                plans[p].phases.append(Phase(code: phaseCode, name: phaseName, stageCode: stageCode,
                                             weightInPlan: phaseWeight, position: plans[p].phases.count + 1))
            }

            if plans[p].milestones.contains(where: { $0.code == milestoneCode }) {
                throw fail(6, "el hito \(milestoneCode) está repetido en el plan \(planCode)")
            }
            let milestone = Milestone(code: milestoneCode, name: milestoneName, phaseCode: phaseCode,
                                      weightInPhase: milestoneWeight, position: position)

            if hasDerivedColumn, !column(10).isEmpty {
                let written = try decimal(10)
                let derived = phaseWeight * milestoneWeight / 100
                let difference = written - derived
                if difference > derivedWeightTolerance || difference < -derivedWeightTolerance {
                    throw fail(10, "el peso del hito \(milestoneCode) en el plan es \(written) pero \(phaseWeight) × \(milestoneWeight) / 100 = \(derived)")
                }
            }
            plans[p].milestones.append(milestone)
        }

        // Display order: the file's position column (stable for equal positions).
        for p in plans.indices {
            plans[p].milestones = plans[p].milestones.enumerated()
                .sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }
                .map(\.element)
        }
        return plans
    }

    /// The same format back, derived column included, CRLF line ends (for exports of the catalog).
    public static func render(_ plans: [PlanCatalog]) -> String {
        var rows: [[String]] = []
        for plan in plans {
            for milestone in plan.milestones.sorted(by: { $0.position < $1.position }) {
                let phase = plan.phase(code: milestone.phaseCode)
                let stageName = phase?.stageCode.flatMap { plan.stage(code: $0)?.name } ?? ""
                rows.append([
                    plan.code, plan.name, stageName, milestone.phaseCode, phase?.name ?? "",
                    phase.map { "\($0.weightInPlan)" } ?? "", milestone.code, milestone.name,
                    "\(milestone.weightInPhase)", String(milestone.position),
                    phase.map { "\(milestone.weightInPlan(of: $0))" } ?? "",
                ])
            }
        }
        return CSVWriter.document(header: header, rows: rows)
    }
}
