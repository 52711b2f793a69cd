// Tests of the RFC 4180 reader and writer.
import Foundation
import Testing
@testable import SetaDomain

@Suite("CSV reader")
struct CSVReaderTests {
    @Test("Quoted fields may hold commas, doubled quotes and line breaks")
    func quotedFields() throws {
        let text = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        let rows = try CSVReader.parse(text, expectedHeader: ["a", "b", "c"])
        #expect(rows == [["x, y", "say \"hi\"", "two\nlines"]])
    }

    @Test("LF and CRLF line ends both work, and a last line without a break is read")
    func lineEnds() throws {
        #expect(try CSVReader.parse("a,b\n1,2\r\n3,4", expectedHeader: nil) == [["1", "2"], ["3", "4"]])
    }

    @Test("A UTF-8 byte-order mark is dropped")
    func bomIsDropped() throws {
        #expect(try CSVReader.parse("\u{FEFF}a,b\n1,2\n", expectedHeader: ["a", "b"]) == [["1", "2"]])
    }

    @Test("Empty fields and trailing blank lines are fine")
    func emptyFields() throws {
        #expect(try CSVReader.parse("a,b,c\n,,\n\"\",x,\n\n\n", expectedHeader: nil) == [["", "", ""], ["", "x", ""]])
    }

    @Test("Accented text survives")
    func accents() throws {
        #expect(try CSVReader.parse("m\nBogotá D.C.\nNARIÑO\n", expectedHeader: ["m"]) == [["Bogotá D.C."], ["NARIÑO"]])
    }

    @Test("An unterminated quote is refused, naming the line where the field starts")
    func unterminatedQuote() throws {
        let error = try #require(throws: CSVError.self) { try CSVReader.parse("a,b\n1,2\n3,\"open\n\n", expectedHeader: nil) }
        #expect(error.line == 3)
    }

    @Test("A row with another column count is refused, naming the line")
    func wrongColumnCount() throws {
        let error = try #require(throws: CSVError.self) { try CSVReader.parse("a,b\n1,2\n\"x\ny\",2\n1,2,3\n", expectedHeader: nil) }
        #expect(error.line == 5)
        #expect(error.message.contains("3"))
    }

    @Test("Another header than the expected one is refused, naming the column")
    func wrongHeader() throws {
        let error = try #require(throws: CSVError.self) { try CSVReader.parse("a,x\n1,2\n", expectedHeader: ["a", "b"]) }
        #expect(error.line == 1)
        #expect(error.field == "x")
    }

    @Test("A quote inside an unquoted field is refused")
    func strayQuote() throws {
        let error = try #require(throws: CSVError.self) { try CSVReader.parse("a,b\n1,2\"3\n", expectedHeader: nil) }
        #expect(error.line == 2)
    }

    @Test("Text after a closing quote is refused")
    func textAfterClosingQuote() {
        #expect(throws: CSVError.self) { try CSVReader.parse("a,b\n\"1\"x,2\n", expectedHeader: nil) }
    }

    @Test("An empty text has no header")
    func emptyText() {
        #expect(throws: CSVError.self) { try CSVReader.parse("", expectedHeader: nil) }
    }

    @Test("Records remember the line where they start")
    func recordLines() throws {
        let table = try CSVReader.table("a,b\n\"x\ny\",1\nz,2\n", expectedHeader: nil)
        #expect(table.records.map(\.line) == [2, 4])
        #expect(table.value("b", in: table.records[1]) == "2")
    }
}

@Suite("CSV writer")
struct CSVWriterTests {
    @Test("Fields with quotes, commas or line breaks are quoted; others are not")
    func escaping() {
        #expect(CSVWriter.escape("plain") == "plain")
        #expect(CSVWriter.escape("a,b") == "\"a,b\"")
        #expect(CSVWriter.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVWriter.escape("two\nlines") == "\"two\nlines\"")
        #expect(CSVWriter.escape("two\r\nlines") == "\"two\r\nlines\"")
        #expect(CSVWriter.escape(" padded") == "\" padded\"")
        #expect(CSVWriter.escape("") == "")
    }

    @Test("Lines end with CRLF and a document may start with a BOM")
    func documents() {
        #expect(CSVWriter.line(["a", "b"]) == "a,b\r\n")
        let document = CSVWriter.document(header: ["m"], rows: [["Bogotá"]], includeBOM: true)
        #expect(document == "\u{FEFF}m\r\nBogotá\r\n")
        #expect(CSVWriter.bom.utf8.elementsEqual([0xEF, 0xBB, 0xBF]))
    }

    @Test("What the writer writes the reader reads back")
    func roundTrip() throws {
        let rows = [["x, y", "\"q\"", "a\r\nb"], ["", " s ", "ñ"]]
        let text = CSVWriter.document(header: ["1", "2", "3"], rows: rows, includeBOM: true)
        #expect(try CSVReader.parse(text, expectedHeader: ["1", "2", "3"]) == rows)
    }
}

@Suite("CSV scanner")
struct CSVScannerTests {
    @Test("a malformed record is reported with its line and the next record is still read")
    func goesOnAfterAMalformedRecord() {
        var scanner = CSVScanner(Array("a,b\n1,x\"y\n\"2\"z,3\n4,5\n".utf8))
        #expect(scanner.next() == .ok)
        #expect(scanner.fields == ["a", "b"])
        #expect(scanner.next() == .malformed(.quoteInUnquotedField, line: 2))
        #expect(scanner.next() == .malformed(.textAfterClosingQuote, line: 3))
        #expect(scanner.line == 4)
        #expect(scanner.next() == .ok)
        #expect(scanner.fields == ["4", "5"])
        #expect(scanner.next() == nil)
    }

    @Test("an unterminated quote names the line where the field opened")
    func unterminatedQuote() {
        var scanner = CSVScanner(Array("a,b\n1,\"open\nstill open".utf8))
        #expect(scanner.next() == .ok)
        #expect(scanner.next() == .unterminatedQuote(line: 2))
    }
}
