// CSVScanner: the one RFC 4180 record reader, over bytes, one record at a time; CSVReader and the report import use it.

/// Reads CSV bytes one record at a time (RFC 4180: comma-separated, optionally double-quoted with `""` for a
/// quote, quoted fields may span lines, CRLF, LF or a lone CR end a record; a leading UTF-8 byte-order mark
/// is skipped). A record malformed on its own line is reported and skipped, so a caller may go on (the
/// report import lists every bad row); an unterminated quote ends the input. Works on bytes and reuses its
/// buffers, so a million rows read in about a second.
public struct CSVScanner {
    /// Why one record could not be read.
    public enum Malformation: Equatable, Sendable {
        /// `"a"b`: text after the closing quote of a field.
        case textAfterClosingQuote
        /// `a"b`: a quote inside a field that did not start with one.
        case quoteInUnquotedField
    }

    public enum Outcome: Equatable, Sendable {
        case ok
        /// A record malformed on its own line only (`line` is where the problem is); reading may go on.
        case malformed(Malformation, line: Int)
        /// A quoted field opened on `line` never closes: nothing after it can be read.
        case unterminatedQuote(line: Int)
    }

    private let bytes: [UInt8]
    private var index = 0
    /// The 1-based line the next record starts on.
    public private(set) var line = 1
    /// The last record's fields, unquoted, one after another; `fieldBounds` says where each is.
    public private(set) var fieldBytes: [UInt8] = []
    public private(set) var fieldBounds: [Range<Int>] = []

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    /// The last record's fields as text.
    public var fields: [String] {
        fieldBounds.map { String(decoding: fieldBytes[$0], as: UTF8.self) }
    }

    /// Reads the next record into `fieldBytes` / `fieldBounds`; nil at the end of the input.
    public mutating func next() -> Outcome? {
        guard index < bytes.count else { return nil }
        fieldBytes.removeAll(keepingCapacity: true)
        fieldBounds.removeAll(keepingCapacity: true)
        let quote: UInt8 = 0x22, comma: UInt8 = 0x2C, cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
        var i = index, line = self.line
        var fieldBytes = self.fieldBytes, fieldBounds = self.fieldBounds
        self.fieldBytes = []
        self.fieldBounds = []
        defer {
            index = i
            self.line = line
            self.fieldBytes = fieldBytes
            self.fieldBounds = fieldBounds
        }
        return bytes.withUnsafeBufferPointer { buf -> Outcome in
            func skipLine() {
                while i < buf.count, buf[i] != lf { i += 1 }
                if i < buf.count { i += 1; line += 1 }
            }
            while true {
                let start = fieldBytes.count
                if i < buf.count, buf[i] == quote {
                    let openedOn = line
                    i += 1
                    var closed = false
                    while i < buf.count {
                        let c = buf[i]
                        if c == quote {
                            if i + 1 < buf.count, buf[i + 1] == quote { fieldBytes.append(quote); i += 2; continue }
                            closed = true
                            i += 1
                            break
                        }
                        if c == lf { line += 1 }
                        fieldBytes.append(c)
                        i += 1
                    }
                    guard closed else { return .unterminatedQuote(line: openedOn) }
                    if i < buf.count, buf[i] != comma, buf[i] != cr, buf[i] != lf {
                        let at = line
                        skipLine()
                        return .malformed(.textAfterClosingQuote, line: at)
                    }
                } else {
                    let from = i
                    while i < buf.count, buf[i] != comma, buf[i] != cr, buf[i] != lf, buf[i] != quote { i += 1 }
                    if i < buf.count, buf[i] == quote {
                        let at = line
                        skipLine()
                        return .malformed(.quoteInUnquotedField, line: at)
                    }
                    fieldBytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[from..<i]))
                }
                fieldBounds.append(start..<fieldBytes.count)
                // After a field: comma, end of line or end of input.
                if i >= buf.count { return .ok }
                if buf[i] == comma { i += 1; continue }
                if buf[i] == cr { i += 1; if i < buf.count, buf[i] == lf { i += 1 } } else { i += 1 }
                line += 1
                return .ok
            }
        }
    }
}
