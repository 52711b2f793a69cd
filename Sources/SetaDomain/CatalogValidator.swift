// Checks a plan catalog before it is accepted: weights summing to 100 at each level, codes, references.
import Foundation

/// One reason a catalog is refused. `field` names the offending item the way a problem+json "errors"
/// entry would (`phases`, `phases[F4].milestones`, `milestones[H9].weight_in_phase`).
public struct CatalogViolation: Hashable, Codable, Sendable, CustomStringConvertible {
    public var field: String
    /// Stable, machine-readable: see `CatalogValidator.Code`.
    public var code: String
    /// Spanish, for the central team.
    public var message: String
    /// The sum found, for the weight-sum violations.
    public var foundSum: Decimal?

    public init(field: String, code: String, message: String, foundSum: Decimal? = nil) {
        self.field = field
        self.code = code
        self.message = message
        self.foundSum = foundSum
    }

    public var description: String { "\(field): \(code): \(message)" }
}

/// SPEC: "A catalog whose weights do not sum to 100 (±0.01) at each level is refused." Every violation
/// is reported at once, so the central team can fix a whole upload in one pass.
public enum CatalogValidator {
    /// The violation codes.
    public enum Code {
        public static let weightsSum = "weights_sum"
        public static let weightOutOfRange = "weight_out_of_range"
        public static let duplicateCode = "duplicate_code"
        public static let invalidCode = "invalid_code"
        public static let emptyName = "empty_name"
        public static let unknownPhase = "unknown_phase"
        public static let unknownStage = "unknown_stage"
        public static let phaseWithoutMilestones = "phase_without_milestones"
        public static let noPhases = "no_phases"
        public static let invalidVersion = "invalid_version"
    }

    /// How far from 100 a sum of weights may be (33.33 + 33.33 + 33.34 is exact, but transcriptions
    /// such as 33.33 × 3 = 99.99 are tolerated, as the SPEC says).
    public static let sumTolerance = Decimal(string: "0.01")!
    /// The longest code accepted (codes appear in URLs and CSV headers).
    public static let maxCodeLength = 40

    public static func validate(_ plan: PlanCatalog) -> [CatalogViolation] {
        var violations: [CatalogViolation] = []
        func add(_ field: String, _ code: String, _ message: String, _ sum: Decimal? = nil) {
            violations.append(CatalogViolation(field: field, code: code, message: message, foundSum: sum))
        }

        // The plan itself.
        checkCode(plan.code, field: "code", what: "el plan", add: add)
        if isBlank(plan.name) { add("name", Code.emptyName, "el plan no tiene nombre") }
        if plan.version < 1 { add("version", Code.invalidVersion, "la versión debe ser 1 o mayor (es \(plan.version))") }

        // Stages.
        var stageCodes = Set<String>()
        for stage in plan.stages {
            checkItem(stage.code, name: stage.name, field: "stages[\(stage.code)]", kind: ("el", "momento"), seen: &stageCodes, add: add)
        }

        // Phases.
        var phaseCodes = Set<String>()
        for phase in plan.phases {
            let field = "phases[\(phase.code)]"
            checkItem(phase.code, name: phase.name, field: field, kind: ("la", "fase"), seen: &phaseCodes, add: add)
            if !isValidWeight(phase.weightInPlan) {
                add(field + ".weight_in_plan", Code.weightOutOfRange,
                    "el peso de la fase \(phase.code) en el plan debe ser mayor que 0 y a lo sumo 100 (es \(phase.weightInPlan))")
            }
            if let stageCode = phase.stageCode, !plan.stages.contains(where: { $0.code == stageCode }) {
                add(field + ".stage_code", Code.unknownStage,
                    "la fase \(phase.code) pertenece al momento \(stageCode), que no existe en el plan")
            }
        }
        if plan.phases.isEmpty {
            add("phases", Code.noPhases, "el plan no tiene fases")
        } else {
            let sum = plan.phases.reduce(Decimal(0)) { $0 + $1.weightInPlan }
            if !isHundred(sum) {
                add("phases", Code.weightsSum,
                    "los pesos de las fases del plan \(plan.code) suman \(sum), deben sumar 100", sum)
            }
        }

        // Milestones.
        var milestoneCodes = Set<String>()
        for milestone in plan.milestones {
            let field = "milestones[\(milestone.code)]"
            checkItem(milestone.code, name: milestone.name, field: field, kind: ("el", "hito"), seen: &milestoneCodes, add: add)
            if !isValidWeight(milestone.weightInPhase) {
                add(field + ".weight_in_phase", Code.weightOutOfRange,
                    "el peso del hito \(milestone.code) en su fase debe ser mayor que 0 y a lo sumo 100 (es \(milestone.weightInPhase))")
            }
            if !phaseCodes.contains(milestone.phaseCode) {
                add(field + ".phase_code", Code.unknownPhase,
                    "el hito \(milestone.code) pertenece a la fase \(milestone.phaseCode), que no existe en el plan")
            }
        }

        // Each phase's milestones (a duplicated phase code is checked once).
        var checkedPhases = Set<String>()
        for phase in plan.phases where checkedPhases.insert(phase.code).inserted {
            let field = "phases[\(phase.code)].milestones"
            let own = plan.milestones.filter { $0.phaseCode == phase.code }
            if own.isEmpty {
                add(field, Code.phaseWithoutMilestones, "la fase \(phase.code) no tiene hitos")
                continue
            }
            let sum = own.reduce(Decimal(0)) { $0 + $1.weightInPhase }
            if !isHundred(sum) {
                add(field, Code.weightsSum,
                    "los pesos de los hitos de la fase \(phase.code) suman \(sum), deben sumar 100", sum)
            }
        }
        return violations
    }

    /// Letters, digits, `-`, `_`, `.`; 1 to `maxCodeLength` characters. ASCII only, since codes go in URLs.
    public static func isValidCode(_ code: String) -> Bool {
        guard !code.isEmpty, code.utf8.count <= maxCodeLength else { return false }
        return code.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }

    /// Whether a sum of weights is 100 within `sumTolerance`.
    public static func isHundred(_ sum: Decimal) -> Bool {
        let difference = sum - 100
        return difference <= sumTolerance && difference >= -sumTolerance
    }

    /// Weights are percentages in (0, 100].
    public static func isValidWeight(_ weight: Decimal) -> Bool {
        !weight.isNaN && weight > 0 && weight <= 100
    }

    private static func isBlank(_ text: String) -> Bool {
        text.allSatisfy(\.isWhitespace)
    }

    /// What every stage, phase and milestone must pass: a valid code, not used before by its kind (`seen`), and a
    /// name. `kind` names the kind in the messages with its article: ("el", "momento"), ("la", "fase"), ("el", "hito").
    private static func checkItem(_ code: String, name: String, field: String, kind: (article: String, noun: String),
                                  seen: inout Set<String>, add: (String, String, String, Decimal?) -> Void) {
        checkCode(code, field: field + ".code", what: "\(kind.article) \(kind.noun)", add: add)
        if !seen.insert(code).inserted {
            add(field + ".code", Code.duplicateCode, "el código de \(kind.noun) \(code) está repetido", nil)
        }
        if isBlank(name) { add(field + ".name", Code.emptyName, "\(kind.article) \(kind.noun) \(code) no tiene nombre", nil) }
    }

    private static func checkCode(_ code: String, field: String, what: String,
                                  add: (String, String, String, Decimal?) -> Void) {
        if code.isEmpty {
            add(field, Code.invalidCode, "\(what) no tiene código", nil)
        } else if !isValidCode(code) {
            add(field, Code.invalidCode,
                "el código \"\(code)\" de \(what) debe tener de 1 a \(maxCodeLength) caracteres: letras, dígitos, '-', '_' o '.'", nil)
        }
    }
}
