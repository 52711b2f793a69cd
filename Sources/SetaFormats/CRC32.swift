// CRC-32 (ISO 3309 / ITU-T V.42, the checksum of ZIP entries), computed incrementally over byte chunks.

/// The reflected CRC-32 with polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF.
/// Incremental so a part can be checksummed as it is produced: `var c = CRC32(); c.update(a); c.update(b)`.
public struct CRC32: Sendable, Hashable {
    /// The running register (already inverted); read the checksum through `value`.
    private var register: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// The checksum of everything fed so far.
    public var value: UInt32 { register ^ 0xFFFF_FFFF }

    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        var r = register
        // Through the table's buffer: no bounds check per byte (the index is masked to 0...255 anyway).
        CRC32.table.withUnsafeBufferPointer { table in
            for byte in bytes {
                r = table[Int((r ^ UInt32(byte)) & 0xFF)] ^ (r >> 8)
            }
        }
        register = r
    }

    /// The checksum of one buffer.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var c = CRC32()
        c.update(bytes)
        return c.value
    }

    // One entry per byte value: the byte's effect on the register, so each byte costs one lookup.
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}
