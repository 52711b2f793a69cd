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

    @Test("eight bytes at a time agrees with the bit-by-bit definition for every length and offset up to 40")
    func slicingByEight_AgreesWithBitwise() {
        func bitwise(_ bytes: [UInt8]) -> UInt32 {
            var r: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                r ^= UInt32(b)
                for _ in 0..<8 { r = (r & 1) != 0 ? 0xEDB8_8320 ^ (r >> 1) : r >> 1 }
            }
            return r ^ 0xFFFF_FFFF
        }
        let data = (0..<80).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
        for offset in 0..<8 {
            for length in 0...40 {
                let slice = Array(data[offset..<offset + length])
                #expect(CRC32.checksum(slice) == bitwise(slice), "offset \(offset), length \(length)")
                // A sequence without contiguous storage takes the byte-at-a-time path: same answer.
                #expect(CRC32.checksum(slice.lazy.map { $0 }) == bitwise(slice), "offset \(offset), length \(length)")
            }
        }
    }
}
