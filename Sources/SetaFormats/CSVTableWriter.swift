// CSV exports in two dialects: RFC 4180 with a decimal point (default) and the Colombian spreadsheet one.
import Foundation

/// How a CSV is spelled. The default is RFC 4180 (comma, decimal point) with a BOM, what SETA always wrote.
/// `colombia` (locale `es-CO`) is what LibreOffice and Excel with Colombian settings open as is:
/// semicolon-separated, decimal comma (their list separator is `;` because the comma is the decimal mark).
public struct CSVDialect: Sendable, Hashable {
    public var separator: UInt8
    public var decimalMark: Character
    public var byteOrderMark: Bool

    public init(separator: UInt8, decimalMark: Character, byteOrderMark: Bool) {
        self.separator = separator
        self.decimalMark = decimalMark
        self.byteOrderMark = byteOrderMark
    }

    public static let rfc4180 = CSVDialect(separator: UInt8(ascii: ","), decimalMark: ".", byteOrderMark: true)
    public static let colombia = CSVDialect(separator: UInt8(ascii: ";"), decimalMark: ",", byteOrderMark: true)
}

/// Writes one sheet as CSV lines (CRLF) to `emit`, a line at a time; rows of any later sheet are dropped.
/// With the default dialect and no text needing neutralization the bytes are those of `CSVWriter` in SetaDomain.
public final class CSVTableWriter: TableSink {
    private let dialect: CSVDialect
    private let emit: ([UInt8]) throws -> Void
    private var sheets = 0
    public var keepsEverySheet: Bool { false }

    public init(dialect: CSVDialect = .rfc4180, emit: @escaping ([UInt8]) throws -> Void) {
        self.dialect = dialect
        self.emit = emit
    }

    public func sheet(_ name: String?, header: [String]) throws {
        sheets += 1
        guard sheets == 1 else { return }
        if dialect.byteOrderMark { try emit([0xEF, 0xBB, 0xBF]) }
        try emit(line(header.map { escape(FormulaGuard.neutralize($0)) }))
    }

    public func row(_ cells: [Cell]) throws {
        guard sheets <= 1 else { return }
        try emit(line(cells.map(field)))
    }

    public func finish() throws {}

    func field(_ cell: Cell) -> String {
        switch cell {
        case .text(let s): return escape(FormulaGuard.neutralize(s ?? ""))
        case .integer(let n): return n.map(String.init) ?? ""
        case .figure(let d): return d?.fixedText(scale: 2, mark: dialect.decimalMark) ?? ""
        case .numeral(let s): return dialect.decimalMark == "." ? s : s.replacingOccurrences(of: ".", with: String(dialect.decimalMark))
        case .boolean(let b): return b.map { $0 ? "true" : "false" } ?? ""
        }
    }

    /// RFC 4180 quoting: a field holding a quote, the separator, a CR or LF, or starting or ending with a
    /// space (which some readers trim) is quoted. In the Colombian dialect a comma is quoted too, since
    /// readers there may take it for a decimal mark.
    func escape(_ field: String) -> String {
        let separator = Character(Unicode.Scalar(dialect.separator))
        let needsQuotes = field.contains { $0 == "\"" || $0 == separator || $0 == "\r" || $0 == "\n" || $0 == "\r\n"
            || ($0 == "," && separator != ",") }
            || field.hasPrefix(" ") || field.hasSuffix(" ")
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func line(_ fields: [String]) -> [UInt8] {
        var bytes = Array(fields.joined(separator: String(Unicode.Scalar(dialect.separator))).utf8)
        bytes.append(0x0D)
        bytes.append(0x0A)
        return bytes
    }
}
