// CSV dialects: RFC 4180 by default (as SETA always wrote), the Colombian one on request; formulas neutralized.
import Foundation
import Testing
@testable import SetaFormats

@Suite("CSV table writer")
struct CSVTableWriterTests {
    func csv(_ dialect: CSVDialect = .rfc4180, _ build: (CSVTableWriter) throws -> Void) throws -> String {
        var out: [UInt8] = []
        let w = CSVTableWriter(dialect: dialect) { out += $0 }
        try build(w)
        try w.finish()
        return String(decoding: out, as: UTF8.self)
    }

    @Test("the default is comma-separated with a decimal point, a BOM and CRLF")
    func default_IsRFC4180() throws {
        let text = try csv { w in
            try w.header(["dane_code", "name", "total", "n"])
            try w.row([.text("05001"), .text("Medellín, Antioquia"), .figure(Decimal(string: "87.456")!), .integer(3)])
            try w.row([.text("05002"), .text(nil), .figure(nil), .numeral("7.5")])
        }
        #expect(text == "\u{FEFF}dane_code,name,total,n\r\n05001,\"Medellín, Antioquia\",87.46,3\r\n05002,,,7.5\r\n")
    }

    @Test("es-CO: semicolons, decimal comma, BOM; a comma in text is quoted")
    func colombia_UsesSemicolonAndDecimalComma() throws {
        let text = try csv(.colombia) { w in
            try w.header(["codigo_dane", "nombre", "total", "cambio"])
            try w.row([.text("05001"), .text("Medellín, Antioquia"), .figure(Decimal(string: "87.456")!), .numeral("-3.5")])
            try w.row([.text("a;b"), .text("x"), .figure(100), .integer(-2)])
        }
        #expect(text == "\u{FEFF}codigo_dane;nombre;total;cambio\r\n05001;\"Medellín, Antioquia\";87,46;-3,5\r\n\"a;b\";x;100,00;-2\r\n")
    }

    @Test("text cells starting with = + - @ tab or CR get an apostrophe; negative numbers do not")
    func formulas_AreNeutralized_NumbersAreNot() throws {
        let text = try csv { w in
            try w.header(["a", "b"])
            try w.row([.text("=HYPERLINK(\"http://x\")"), .figure(Decimal(-2))])
            try w.row([.text("+1"), .text("-1")])
            try w.row([.text("@x"), .text("\tx")])
            try w.row([.text("\rx"), .text("a=b")])
        }
        #expect(text == "\u{FEFF}a,b\r\n\"'=HYPERLINK(\"\"http://x\"\")\",-2.00\r\n'+1,'-1\r\n'@x,'\tx\r\n\"'\rx\",a=b\r\n")
    }

    @Test("only the first sheet is written")
    func laterSheets_AreDropped() throws {
        let text = try csv { w in
            try w.sheet("Ficha", header: ["a"])
            try w.row([.text("1")])
            try w.sheet("Otra", header: ["b"])
            try w.row([.text("2")])
        }
        #expect(text == "\u{FEFF}a\r\n1\r\n")
    }

    @Test("figures round half away from zero and never write -0.00")
    func figures_Round() {
        #expect(Decimal(string: "2.345")!.fixedText(scale: 2) == "2.35")
        #expect(Decimal(string: "-2.345")!.fixedText(scale: 2) == "-2.35")
        #expect(Decimal(string: "-0.001")!.fixedText(scale: 2) == "0.00")
        #expect(Decimal(20).fixedText(scale: 2, mark: ",") == "20,00")
    }
}
