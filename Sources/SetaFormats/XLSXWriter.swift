// XLSX (Office Open XML SpreadsheetML) workbooks written by hand: typed cells, frozen header, autofilter.
import Foundation

/// Writes a workbook to `emit` as a ZIP of XML parts (ECMA-376 Part 1, transitional).
///
/// Memory: a sheet is built as XML bytes (about 40 bytes a cell, never a Swift object per cell) and handed
/// to the ZIP writer when the next sheet starts or at `finish()`, because its column widths, dimension and
/// autofilter range are only known after its last row and precede the rows in the XML. The national cut
/// (1,155 entities × ~60 columns) is about 3 MB at its peak. Strings are inline (`t="inlineStr"`), so there
/// is no shared-string table to hold until the end.
///
/// Styles: 0 general, 1 two decimals (`0.00`, built-in format 2) for figures, 2 bold text header,
/// 3 text (`@`, format 49) for text cells, so a code edited in the spreadsheet stays text.
public final class XLSXWriter: TableSink {
    public static let mediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    private let zip: ZipWriter
    private let defaultSheetName: String
    private var sheetNames: [String] = []
    private var autofilters: [String?] = []
    private var current: SheetBuilder?
    private var finished = false
    public var keepsEverySheet: Bool { true }

    /// - Parameters:
    ///   - defaultSheetName: the name of a sheet started without one (`header(_:)`).
    ///   - modified: the time stamped on the ZIP entries.
    public init(defaultSheetName: String = "Datos", modified: Date = Date(timeIntervalSince1970: 315_532_800),
                emit: @escaping ([UInt8]) throws -> Void) {
        self.defaultSheetName = defaultSheetName
        self.zip = ZipWriter(modified: modified, emit: emit)
    }

    public func sheet(_ name: String?, header: [String]) throws {
        try closeSheet()
        let title = XLSXWriter.uniqueSheetName(name ?? defaultSheetName, taken: sheetNames)
        sheetNames.append(title)
        var builder = SheetBuilder(columns: header.count)
        builder.append(row: header.map { .text($0) }, header: true)
        current = builder
    }

    public func row(_ cells: [Cell]) throws {
        if current == nil { try sheet(nil, header: []) }
        current!.append(row: cells, header: false)
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        if sheetNames.isEmpty { try sheet(nil, header: []) }
        try closeSheet()
        try zip.add("xl/workbook.xml", Array(workbookXML().utf8))
        try zip.add("xl/_rels/workbook.xml.rels", Array(workbookRelsXML().utf8))
        try zip.add("xl/styles.xml", Array(XLSXWriter.stylesXML.utf8))
        try zip.add("_rels/.rels", Array(XLSXWriter.rootRelsXML.utf8))
        // Written last because it lists every sheet; readers find parts through the central directory.
        try zip.add("[Content_Types].xml", Array(contentTypesXML().utf8))
        try zip.finish()
    }

    private func closeSheet() throws {
        guard let builder = current else { return }
        current = nil
        autofilters.append(builder.autofilterRange)
        try zip.add("xl/worksheets/sheet\(sheetNames.count).xml", builder.bytes())
    }

    // MARK: parts

    private func workbookXML() -> String {
        var x = XLSXWriter.xmlHead
            + #"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#
            + #"<bookViews><workbookView/></bookViews><sheets>"#
        for (i, name) in sheetNames.enumerated() {
            x += #"<sheet name="\#(XLSXWriter.escape(name))" sheetId="\#(i + 1)" r:id="rId\#(i + 1)"/>"#
        }
        x += "</sheets>"
        // Excel names each autofilter's range; without these it repairs the file on opening.
        let names = autofilters.enumerated().compactMap { i, range in
            range.map { r -> String in
                let quoted = "'" + sheetNames[i].replacingOccurrences(of: "'", with: "''") + "'"
                let absolute = r.split(separator: ":").map { XLSXWriter.absolute(String($0)) }.joined(separator: ":")
                return #"<definedName name="_xlnm._FilterDatabase" localSheetId="\#(i)" hidden="1">"#
                    + XLSXWriter.escape(quoted + "!" + absolute) + "</definedName>"
            }
        }
        if !names.isEmpty { x += "<definedNames>" + names.joined() + "</definedNames>" }
        return x + "</workbook>"
    }

    private func workbookRelsXML() -> String {
        var x = XLSXWriter.xmlHead + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        for i in sheetNames.indices {
            x += #"<Relationship Id="rId\#(i + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet\#(i + 1).xml"/>"#
        }
        x += #"<Relationship Id="rId\#(sheetNames.count + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#
        return x + "</Relationships>"
    }

    private func contentTypesXML() -> String {
        var x = XLSXWriter.xmlHead + #"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#
            + #"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#
            + #"<Default Extension="xml" ContentType="application/xml"/>"#
            + #"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
            + #"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#
        for i in sheetNames.indices {
            x += #"<Override PartName="/xl/worksheets/sheet\#(i + 1).xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        }
        return x + "</Types>"
    }

    static let xmlHead = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"

    static let rootRelsXML = xmlHead
        + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        + #"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#
        + "</Relationships>"

    static let stylesXML = xmlHead
        + #"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#
        + #"<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>"#
        + #"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#
        + #"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#
        + #"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#
        + #"<cellXfs count="4">"#
        + #"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#
        + #"<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>"#
        + #"<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>"#
        + #"<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>"#
        + "</cellXfs>"
        + #"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#
        + "</styleSheet>"

    // MARK: names and escaping

    /// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, not starting or ending with
    /// an apostrophe, unique ignoring case (a suffix ` (2)` when taken).
    static func uniqueSheetName(_ wanted: String, taken: [String]) -> String {
        var base = String(wanted.map { "[]:*?/\\".contains($0) ? "_" : $0 })
        while base.hasPrefix("'") { base.removeFirst() }
        while base.hasSuffix("'") { base.removeLast() }
        if base.isEmpty { base = "Hoja" }
        let lowered = Set(taken.map { $0.lowercased() })
        var candidate = String(base.prefix(31))
        var n = 2
        while lowered.contains(candidate.lowercased()) {
            let suffix = " (\(n))"
            candidate = String(base.prefix(31 - suffix.count)) + suffix
            n += 1
        }
        return candidate
    }

    /// XML text: the five entities escaped; characters XML 1.0 forbids (C0 controls other than tab, LF
    /// and CR, lone surrogates, U+FFFE/U+FFFF) dropped, since no reader would open the part otherwise.
    static func escape(_ text: String) -> String {
        // Most values (codes, names, statuses) need nothing: check the bytes first and return them as they are.
        // 0xEF starts U+FFFE/U+FFFF (and other characters, which then take the slow path harmlessly).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0xEF }) {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `escape(text)`'s bytes appended to `out`; text that needs no escaping (most) is copied as it is.
    static func appendEscaped(_ text: String, to out: inout [UInt8]) {
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0xEF }) {
            out.append(contentsOf: text.utf8)
        } else {
            out.append(contentsOf: escape(text).utf8)
        }
    }

    /// `A1` → `$A$1`.
    static func absolute(_ ref: String) -> String {
        let letters = ref.prefix { $0.isLetter }
        return "$" + letters + "$" + ref.dropFirst(letters.count)
    }

    /// The column's letters: 0 → A, 25 → Z, 26 → AA.
    static func columnName(_ index: Int) -> String {
        var n = index + 1, name = ""
        while n > 0 {
            let r = (n - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + r))) + name
            n = (n - 1) / 26
        }
        return name
    }
}

/// One worksheet's rows as XML bytes, with what the head of the part needs (widths, extent).
struct SheetBuilder {
    private var rows: [UInt8] = []
    private var rowCount = 0
    private var columnCount: Int
    private var widths: [Int]
    static let maxCellCharacters = 32_767
    /// Column letters computed once (`A`, `B`, … `AL`) as bytes, not once per cell.
    private var letters: [[UInt8]] = []

    init(columns: Int) {
        columnCount = columns
        widths = Array(repeating: 0, count: columns)
        rows.reserveCapacity(64 * 1024)
    }

    /// Markup straight into the part's bytes: no String built per cell (a national workbook has ~100,000).
    private mutating func put(_ markup: StaticString) {
        markup.withUTF8Buffer { rows.append(contentsOf: $0) }
    }

    /// `<c r="B7"` for column `i` of the row whose number is `row`.
    private mutating func openCell(_ i: Int, _ row: [UInt8]) {
        put("<c r=\"")
        rows.append(contentsOf: letters[i])
        rows.append(contentsOf: row)
        put("\"")
    }

    /// A number cell (`text` is already its digits), styled with two decimals or general.
    private mutating func numberCell(_ i: Int, _ row: [UInt8], _ text: String, twoDecimals: Bool) {
        openCell(i, row)
        if twoDecimals { put(" s=\"1\"><v>") } else { put("><v>") }
        rows.append(contentsOf: text.utf8)
        put("</v></c>")
        widths[i] = max(widths[i], text.utf8.count)
    }

    /// `text`'s characters as the width counts them: bytes when it is ASCII (codes, figures, most names).
    private static func characterCount(_ text: String) -> Int {
        let utf8 = text.utf8
        return utf8.contains(where: { $0 >= 0x80 }) ? text.unicodeScalars.count : utf8.count
    }

    mutating func append(row cells: [Cell], header: Bool) {
        rowCount += 1
        if cells.count > columnCount {
            columnCount = cells.count
            widths += Array(repeating: 0, count: cells.count - widths.count)
        }
        let row = Array(String(rowCount).utf8)
        while letters.count < cells.count { letters.append(Array(XLSXWriter.columnName(letters.count).utf8)) }
        put("<row r=\"")
        rows.append(contentsOf: row)
        put("\">")
        for (i, cell) in cells.enumerated() {
            switch cell {
            case .text(let s):
                guard let s, !s.isEmpty else { continue }
                var safe = FormulaGuard.neutralize(s)
                // Excel refuses (and "repairs") a cell over 32,767 characters; such text is cut there.
                if safe.utf8.count > SheetBuilder.maxCellCharacters, safe.unicodeScalars.count > SheetBuilder.maxCellCharacters {
                    safe = String(String.UnicodeScalarView(safe.unicodeScalars.prefix(SheetBuilder.maxCellCharacters)))
                }
                openCell(i, row)
                if header { put(" s=\"2\" t=\"inlineStr\"><is><t") } else { put(" s=\"3\" t=\"inlineStr\"><is><t") }
                if SheetBuilder.isSpace(safe.unicodeScalars.first) || SheetBuilder.isSpace(safe.unicodeScalars.last) {
                    put(" xml:space=\"preserve\"")
                }
                put(">")
                XLSXWriter.appendEscaped(safe, to: &rows)
                put("</t></is></c>")
                widths[i] = max(widths[i], SheetBuilder.characterCount(safe) + (header ? 2 : 0))
            case .integer(let n):
                guard let n else { continue }
                numberCell(i, row, String(n), twoDecimals: false)
            case .figure(let d):
                guard let d else { continue }
                numberCell(i, row, d.fixedText(scale: 2), twoDecimals: true)
            case .numeral(let text):
                guard Double(text) != nil, text.first.map({ $0.isNumber || $0 == "-" }) == true else {
                    // Not a number after all: keep it, as text.
                    openCell(i, row)
                    put(" s=\"3\" t=\"inlineStr\"><is><t>")
                    XLSXWriter.appendEscaped(FormulaGuard.neutralize(text), to: &rows)
                    put("</t></is></c>")
                    widths[i] = max(widths[i], text.count + 1)
                    continue
                }
                numberCell(i, row, text, twoDecimals: text.contains(".") || text.contains("e") || text.contains("E"))
            case .boolean(let b):
                guard let b else { continue }
                openCell(i, row)
                if b { put(" t=\"b\"><v>1</v></c>") } else { put(" t=\"b\"><v>0</v></c>") }
                widths[i] = max(widths[i], 5)
            }
        }
        put("</row>")
    }

    static func isSpace(_ s: Unicode.Scalar?) -> Bool {
        guard let s else { return false }
        if s.isASCII { return s == " " || s == "\t" || s == "\n" || s == "\r" }
        return s.properties.isWhitespace
    }

    /// `A1:K1156`, or nil for a sheet without columns.
    var autofilterRange: String? {
        columnCount > 0 ? "A1:\(XLSXWriter.columnName(columnCount - 1))\(max(rowCount, 1))" : nil
    }

    /// The whole part.
    func bytes() -> [UInt8] {
        var head = XLSXWriter.xmlHead
            + #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#
        if let range = autofilterRange { head += "<dimension ref=\"\(range)\"/>" }
        // The header row stays in view while scrolling (a pane frozen below row 1).
        head += #"<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>"#
        head += #"<sheetFormatPr defaultRowHeight="15"/>"#
        if columnCount > 0 {
            head += "<cols>"
            for (i, w) in widths.enumerated() {
                // Characters of the widest value plus padding, bounded so a long name does not hide the rest.
                let width = min(max(w + 2, 8), 60)
                head += "<col min=\"\(i + 1)\" max=\"\(i + 1)\" width=\"\(width)\" customWidth=\"1\"/>"
            }
            head += "</cols>"
        }
        head += "<sheetData>"
        var tail = "</sheetData>"
        if let range = autofilterRange { tail += "<autoFilter ref=\"\(range)\"/>" }
        tail += #"<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>"#
        var out = Array(head.utf8)
        out.reserveCapacity(out.count + rows.count + tail.utf8.count)
        out.append(contentsOf: rows)
        out.append(contentsOf: tail.utf8)
        return out
    }
}
