// The ZIP writer: stored entries whose headers, checksums and directory a reader can follow.
import Foundation
import Testing
@testable import SetaFormats
import SetaTestSupport

@Suite("ZIP writer")
struct ZipWriterTests {
    func archive(_ entries: [(String, String)], modified: Date = Date(timeIntervalSince1970: 1_624_000_000)) throws -> [UInt8] {
        var out: [UInt8] = []
        let zip = ZipWriter(modified: modified) { out += $0 }
        for (name, text) in entries { try zip.add(name, Array(text.utf8)) }
        try zip.finish()
        return out
    }

    @Test("entries are read back whole, in order, with their CRC-32")
    func entries_AreReadBack() throws {
        let bytes = try archive([("a.txt", "hola"), ("dir/b.xml", "<x/>"), ("vacío.txt", "")])
        let entries = try ZipReading.entries(bytes)
        #expect(entries.map(\.name) == ["a.txt", "dir/b.xml", "vacío.txt"])
        #expect(entries.map(\.text) == ["hola", "<x/>", ""])
        #expect(entries[0].crc == CRC32.checksum(Array("hola".utf8)))
    }

    @Test("the archive starts with a local header and ends with the end-of-directory record")
    func layout_FollowsAppNote() throws {
        let bytes = try archive([("a", "1")])
        #expect(Array(bytes.prefix(4)) == [0x50, 0x4B, 0x03, 0x04])
        #expect(Array(bytes.suffix(22).prefix(4)) == [0x50, 0x4B, 0x05, 0x06])
        #expect(bytes.count == 30 + 1 + 1 + 46 + 1 + 22)
    }

    @Test("the same content and time give the same bytes")
    func output_IsDeterministic() throws {
        #expect(try archive([("a", "x")]) == archive([("a", "x")]))
    }

    @Test("a name added twice is refused")
    func duplicateName_IsRefused() throws {
        let zip = ZipWriter { _ in }
        try zip.add("a", [1])
        #expect(throws: ZipError.duplicateName("a")) { try zip.add("a", [2]) }
    }

    @Test("DOS time of 2021-06-18 07:06:40 UTC")
    func dosDateTime_OfAKnownInstant() {
        let (date, time) = ZipWriter.dosDateTime(Date(timeIntervalSince1970: 1_624_000_000))
        #expect(date == UInt16(2021 - 1980) << 9 | 6 << 5 | 18)
        #expect(time == 7 << 11 | 6 << 5 | 20)
    }
}
