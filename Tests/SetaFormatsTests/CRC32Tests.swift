// CRC-32 against the published check values, whole and in pieces.
import Testing
@testable import SetaFormats

@Suite("CRC-32")
struct CRC32Tests {
    @Test("the check value of \"123456789\" is CBF43926, as every CRC-32 catalogue lists")
    func checkValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test("known vectors: empty, one letter, the quick brown fox")
    func knownVectors() {
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("a".utf8)) == 0xE8B7_BE43)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 32)) == 0x190A_55AD)
    }

    @Test("fed in chunks, the checksum is that of the whole")
    func incremental_EqualsWhole() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var c = CRC32()
        var i = 0
        while i < bytes.count { c.update(bytes[i..<min(i + 997, bytes.count)]); i += 997 }
        #expect(c.value == CRC32.checksum(bytes))
    }
}
