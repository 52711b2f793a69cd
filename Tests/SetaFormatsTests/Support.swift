// Test helpers: a minimal ZIP reader (central directory, stored entries) to look inside what the writers wrote.
import Foundation
@testable import SetaFormats

struct StoredEntry {
    var name: String
    var crc: UInt32
    var bytes: [UInt8]
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

enum ZipReading {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func u16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    /// Every entry, read through the central directory as spreadsheet programs do, each checked against
    /// its local header.
    static func entries(_ zip: [UInt8]) throws -> [StoredEntry] {
        guard zip.count >= 22, u32(zip, zip.count - 22) == 0x0605_4B50 else { throw Failure(description: "no end record") }
        let end = zip.count - 22
        let count = u16(zip, end + 10)
        var p = Int(u32(zip, end + 16))
        guard Int(u32(zip, end + 12)) == end - p else { throw Failure(description: "directory size") }
        var out: [StoredEntry] = []
        for _ in 0..<count {
            guard u32(zip, p) == 0x0201_4B50 else { throw Failure(description: "directory signature") }
            let method = u16(zip, p + 10), crc = u32(zip, p + 16), size = Int(u32(zip, p + 20))
            let nameLength = u16(zip, p + 28), extra = u16(zip, p + 30), comment = u16(zip, p + 32)
            let local = Int(u32(zip, p + 42))
            let name = String(decoding: zip[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            guard method == 0, u32(zip, local) == 0x0403_4B50, u32(zip, local + 14) == crc,
                  Int(u32(zip, local + 22)) == size else { throw Failure(description: "local header of \(name)") }
            let start = local + 30 + u16(zip, local + 26) + u16(zip, local + 28)
            out.append(StoredEntry(name: name, crc: crc, bytes: Array(zip[start..<(start + size)])))
            p += 46 + nameLength + extra + comment
        }
        return out
    }
}
