// Typed table cells and the sink every export writes through (CSV or XLSX), plus formula neutralization.
import Foundation

/// One value of an exported table, typed so each format can write it right: a DANE code stays text
/// (its leading zero kept), a progress figure stays a number (a spreadsheet can add it up).
/// `nil` payloads are empty cells ("no aplica", no advisor).
public enum Cell: Sendable, Hashable {
    /// Text, identifiers included (DANE codes, months `YYYY-MM`, emails). Neutralized against formulas.
    case text(String?)
    /// A count or an id.
    case integer(Int?)
    /// A progress figure or share (avance, %): written with exactly two decimals; a number cell in XLSX.
    case figure(Decimal?)
    /// A number already written as text by JSON (`7.5`, `-3`, `1e-05`): CSV keeps its text, XLSX its value.
    case numeral(String)
    case boolean(Bool?)
}

/// Where a table export is written: zero or more sheets, each a header and rows of typed cells.
/// A CSV holds one sheet (later sheets are not written); a workbook holds them all.
public protocol TableSink: AnyObject {
    /// True when every sheet is kept (a workbook); false when only the first one is (CSV), so a route
    /// can skip computing sheets nobody will read.
    var keepsEverySheet: Bool { get }
    /// Starts a sheet (hoja) with its column names. `name` nil: the export's default name.
    func sheet(_ name: String?, header: [String]) throws
    func row(_ cells: [Cell]) throws
    /// Writes what is pending (the last sheet, the workbook's index). Called once, by whoever made the sink.
    func finish() throws
}

extension TableSink {
    /// The header of a one-sheet export.
    public func header(_ names: [String]) throws { try sheet(nil, header: names) }
}

/// OWASP's rule against CSV/formula injection: a text cell starting with `=`, `+`, `-`, `@`, a tab or a CR
/// gets a leading apostrophe, so no spreadsheet evaluates it (`=HYPERLINK(...)` → `'=HYPERLINK(...)`).
/// Numbers are not text cells and are never touched: `-3.50` in a figure column stays a number.
public enum FormulaGuard {
    static let triggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    public static func neutralize(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, triggers.contains(first) else { return text }
        return "'" + text
    }
}

extension Decimal {
    /// Fixed-point text with `scale` decimals, rounded half away from zero, with the given decimal mark
    /// whatever the process locale: `20` → "20.00", `-3.333` → "-3.33". Zero is never "-0.00".
    func fixedText(scale: Int, mark: Character = ".") -> String {
        var value = self, rounded = Decimal()
        NSDecimalRound(&rounded, &value, scale, .plain)
        var text = rounded.description
        var sign = ""
        if text.hasPrefix("-") { sign = "-"; text.removeFirst() }
        var parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 { parts.append("") }
        if rounded.isZero { sign = "" }
        guard scale > 0 else { return sign + parts[0] }
        return sign + parts[0] + String(mark) + parts[1] + String(repeating: "0", count: max(0, scale - parts[1].count))
    }
}
