// RFC 4180 CSV: a strict reader that names the line of every problem, and a writer for exports.
import Foundation

/// A CSV problem, with the 1-based line where it is (for a quoted field spanning lines, the line where
/// the record starts) and, when known, the column's name from the header.
public struct CSVError: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var field: String?
    public var message: String

    public init(line: Int, field: String? = nil, message: String) {
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        "línea \(line)" + (field.map { ", columna \($0)" } ?? "") + ": " + message
    }
}

/// One record as read, with the line where it starts so later checks can point at it.
public struct CSVRecord: Hashable, Sendable {
    public var line: Int
    public var fields: [String]

    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// A header and the records under it, every record having the header's column count.
public struct CSVTable: Hashable, Sendable {
    public var header: [String]
    public var records: [CSVRecord]

    /// The value of the named column in `record`, nil when there is no such column.
    public func value(_ column: String, in record: CSVRecord) -> String? {
        header.firstIndex(of: column).map { record.fields[$0] }
    }
}

/// Strict RFC 4180 reading: fields separated by commas, optionally double-quoted with `""` for a quote;
/// CRLF or LF line ends; a UTF-8 byte-order mark at the start is dropped (Excel writes one).
/// Refused, naming the line: an unterminated quote, a quote inside an unquoted field, text after a
/// closing quote, a record whose column count differs from the header's, a header other than expected.
/// Blank lines at the end of the text are ignored.
public enum CSVReader {
    /// The data records (the header excluded), each as its fields. The first record is the header; when
    /// `expectedHeader` is given it must match exactly.
    public static func parse(_ text: String, expectedHeader: [String]?) throws(CSVError) -> [[String]] {
        try table(text, expectedHeader: expectedHeader).records.map(\.fields)
    }

    /// Header and data records with their line numbers.
    public static func table(_ text: String, expectedHeader: [String]?) throws(CSVError) -> CSVTable {
        let all = try records(text)
        guard let header = all.first else {
            throw CSVError(line: 1, message: "el archivo está vacío: falta la fila de encabezado")
        }
        if let expected = expectedHeader, header.fields != expected {
            let mismatch = zip(header.fields, expected).first { $0 != $1 }
            throw CSVError(
                line: header.line, field: mismatch?.0 ?? (header.fields.count > expected.count ? header.fields.last : nil),
                message: "encabezado inesperado: se esperaba \"\(expected.joined(separator: ","))\", se recibió \"\(header.fields.joined(separator: ","))\"")
        }
        for record in all.dropFirst() where record.fields.count != header.fields.count {
            throw CSVError(
                line: record.line,
                message: "la fila tiene \(record.fields.count) columnas y el encabezado \(header.fields.count)")
        }
        return CSVTable(header: header.fields, records: Array(all.dropFirst()))
    }

    /// Every record, the header included, without checking column counts.
    public static func records(_ text: String) throws(CSVError) -> [CSVRecord] {
        var scanner = CSVScanner(Array(text.utf8))
        var result: [CSVRecord] = []
        while true {
            let line = scanner.line
            guard let outcome = scanner.next() else { break }
            switch outcome {
            case .ok:
                result.append(CSVRecord(line: line, fields: scanner.fields))
            case .unterminatedQuote(let startLine):
                throw CSVError(line: startLine, field: nil, message: "comilla sin cerrar: el campo empieza en la línea \(startLine) y no termina")
            case .malformed(.textAfterClosingQuote, let at):
                throw CSVError(line: at, message: "texto después de la comilla de cierre de un campo")
            case .malformed(.quoteInUnquotedField, let at):
                throw CSVError(line: at, message: "comilla dentro de un campo sin comillas (un campo con comillas debe ir entero entre comillas)")
            }
        }
        // Trailing blank lines are not records.
        while let last = result.last, last.fields == [""] { result.removeLast() }
        return result
    }
}

/// RFC 4180 writing for exports: CRLF line ends; a field is quoted when it holds a quote, a comma, a
/// CR or LF (or begins or ends with a space, which some readers trim).
public enum CSVWriter {
    /// The UTF-8 byte-order mark, so that Excel opens accented names (Bogotá, Nariño) correctly.
    public static let bom = "\u{FEFF}"
    public static let lineEnd = "\r\n"

    public static func escape(_ field: String) -> String {
        let needsQuotes = field.contains { $0 == "\"" || $0 == "," || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
            || field.hasPrefix(" ") || field.hasSuffix(" ")
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record with its CRLF.
    public static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + lineEnd
    }

    /// A whole document: optional BOM, header, rows.
    public static func document(header: [String], rows: [[String]], includeBOM: Bool = false) -> String {
        var text = includeBOM ? bom : ""
        text += line(header)
        for row in rows { text += line(row) }
        return text
    }
}
