// XLSX structure: the parts a spreadsheet needs, typed cells, frozen header, autofilter, neutralized text.
import Foundation
import Testing
@testable import SetaFormats
import SetaTestSupport

@Suite("XLSX writer")
struct XLSXWriterTests {
    func workbook(_ build: (XLSXWriter) throws -> Void) throws -> [String: String] {
        var out: [UInt8] = []
        let w = XLSXWriter(defaultSheetName: "Entidades") { out += $0 }
        try build(w)
        try w.finish()
        return Dictionary(uniqueKeysWithValues: try ZipReading.entries(out).map { ($0.name, $0.text) })
    }

    @Test("a workbook holds content types, relationships, workbook, styles and one part per sheet")
    func parts_ArePresent() throws {
        let parts = try workbook { w in
            try w.sheet("Ficha", header: ["campo", "valor"])
            try w.sheet("Regiones", header: ["key"])
        }
        #expect(Set(parts.keys) == ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                    "xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"])
        #expect(parts["xl/workbook.xml"]!.contains(#"<sheet name="Ficha" sheetId="1" r:id="rId1"/>"#))
        #expect(parts["xl/workbook.xml"]!.contains(#"<sheet name="Regiones" sheetId="2" r:id="rId2"/>"#))
        #expect(parts["[Content_Types].xml"]!.contains("/xl/worksheets/sheet2.xml"))
        #expect(parts["xl/_rels/workbook.xml.rels"]!.contains(#"Target="styles.xml""#))
    }

    @Test("a DANE code is a text cell keeping its zero; a figure a number with two decimals; a count a plain number")
    func cells_AreTyped() throws {
        let sheet = try workbook { w in
            try w.header(["dane_code", "total", "entities", "change", "done"])
            try w.row([.text("05001"), .figure(Decimal(string: "87.456")!), .integer(12), .figure(Decimal(-3.5)), .boolean(true)])
        }["xl/worksheets/sheet1.xml"]!
        #expect(sheet.contains(#"<c r="A2" s="3" t="inlineStr"><is><t>05001</t></is></c>"#))
        #expect(sheet.contains(#"<c r="B2" s="1"><v>87.46</v></c>"#))
        #expect(sheet.contains(#"<c r="C2"><v>12</v></c>"#))
        #expect(sheet.contains(#"<c r="D2" s="1"><v>-3.50</v></c>"#))
        #expect(sheet.contains(#"<c r="E2" t="b"><v>1</v></c>"#))
    }

    @Test("the header row is bold text, frozen, and the autofilter spans the table")
    func header_IsFrozenWithAutofilter() throws {
        let parts = try workbook { w in
            try w.header(["a", "b", "c"])
            for i in 0..<4 { try w.row([.integer(i), .text("x"), .figure(1)]) }
        }
        let sheet = parts["xl/worksheets/sheet1.xml"]!
        #expect(sheet.contains(#"<c r="A1" s="2" t="inlineStr"><is><t>a</t></is></c>"#))
        #expect(sheet.contains(#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#))
        #expect(sheet.contains(#"<autoFilter ref="A1:C5"/>"#))
        #expect(sheet.contains(#"<dimension ref="A1:C5"/>"#))
        #expect(parts["xl/workbook.xml"]!.contains("'Entidades'!$A$1:$C$5"))
    }

    @Test("an empty figure writes no cell")
    func emptyFigure_WritesNoCell() throws {
        let sheet = try workbook { w in
            try w.header(["a", "b"])
            try w.row([.figure(nil), .text("x")])
        }["xl/worksheets/sheet1.xml"]!
        #expect(!sheet.contains(#"r="A2""#))
        #expect(sheet.contains(#"r="B2""#))
    }

    @Test("columns are as wide as their widest value, within bounds")
    func columnWidths_FollowValues() throws {
        let sheet = try workbook { w in
            try w.header(["c", "name"])
            try w.row([.text("05001"), .text(String(repeating: "x", count: 200))])
        }["xl/worksheets/sheet1.xml"]!
        #expect(sheet.contains(#"<col min="1" max="1" width="8" customWidth="1"/>"#))
        #expect(sheet.contains(#"<col min="2" max="2" width="60" customWidth="1"/>"#))
    }

    @Test("text starting with = + - @ is prefixed with an apostrophe, and XML is escaped")
    func formulas_AreNeutralized() throws {
        let sheet = try workbook { w in
            try w.header(["=cmd"])
            try w.row([.text("=HYPERLINK(\"http://x\",\"<clic>\")")])
            try w.row([.text("@SUM(A1)")])
            try w.row([.numeral("-4")])
        }["xl/worksheets/sheet1.xml"]!
        #expect(sheet.contains("<t>'=cmd</t>"))
        #expect(sheet.contains("<t>'=HYPERLINK(&quot;http://x&quot;,&quot;&lt;clic&gt;&quot;)</t>"))
        #expect(sheet.contains("<t>'@SUM(A1)</t>"))
        #expect(sheet.contains(#"<c r="A4"><v>-4</v></c>"#))
    }

    @Test("text over Excel's 32,767-character cell limit is cut at the limit")
    func longText_IsCutAtExcelsLimit() throws {
        let sheet = try workbook { w in
            try w.header(["a"])
            try w.row([.text(String(repeating: "x", count: 40_000))])
        }["xl/worksheets/sheet1.xml"]!
        #expect(sheet.contains("<t>" + String(repeating: "x", count: 32_767) + "</t>"))
    }

    @Test("control characters XML forbids are dropped")
    func controlCharacters_AreDropped() {
        #expect(XLSXWriter.escape("a\u{01}b\u{0B}c\td") == "abc\td")
    }

    @Test("sheet names are made acceptable and unique")
    func sheetNames_AreSanitized() {
        #expect(XLSXWriter.uniqueSheetName("a/b:c", taken: []) == "a_b_c")
        #expect(XLSXWriter.uniqueSheetName("Regiones", taken: ["regiones"]) == "Regiones (2)")
        #expect(XLSXWriter.uniqueSheetName(String(repeating: "x", count: 40), taken: []).count == 31)
    }

    @Test("column letters run A…Z, AA…")
    func columnNames() {
        #expect([0, 25, 26, 51, 701, 702].map(XLSXWriter.columnName) == ["A", "Z", "AA", "AZ", "ZZ", "AAA"])
    }
}
