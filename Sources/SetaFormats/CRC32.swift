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
        // Contiguous bytes (every caller's [UInt8]) go eight at a time; any other sequence one byte at a time.
        if let done = bytes.withContiguousStorageIfAvailable({ update(buffer: $0) }) { return done }
        var r = register
        CRC32.tables.withUnsafeBufferPointer { t in
            for byte in bytes { r = t[Int((r ^ UInt32(byte)) & 0xFF)] ^ (r >> 8) }
        }
        register = r
    }

    /// Slicing-by-8 (Intel's method, as zlib does it): eight table lookups fold eight bytes into the register
    /// at once, about four times the speed of a lookup a byte. A workbook of several megabytes is checksummed
    /// whole, so this is on the export's path.
    private mutating func update(buffer: UnsafeBufferPointer<UInt8>) {
        var r = register
        CRC32.tables.withUnsafeBufferPointer { t in
            var i = 0
            let n = buffer.count
            while i + 8 <= n {
                let one = r ^ (UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24)
                let two = UInt32(buffer[i + 4]) | UInt32(buffer[i + 5]) << 8 | UInt32(buffer[i + 6]) << 16 | UInt32(buffer[i + 7]) << 24
                r = t[7 * 256 + Int(one & 0xFF)] ^ t[6 * 256 + Int((one >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((one >> 16) & 0xFF)] ^ t[4 * 256 + Int(one >> 24)]
                    ^ t[3 * 256 + Int(two & 0xFF)] ^ t[2 * 256 + Int((two >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((two >> 16) & 0xFF)] ^ t[Int(two >> 24)]
                i += 8
            }
            while i < n {
                r = t[Int((r ^ UInt32(buffer[i])) & 0xFF)] ^ (r >> 8)
                i += 1
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

    // Table k (entries k*256 ..< k*256+256) is the effect of a byte followed by k zero bytes; table 0 is the
    // classic one entry per byte value.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = t[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return t
    }()
}
