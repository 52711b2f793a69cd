// A minimal ZIP reader for tests (central directory, stored entries), to look inside exported workbooks.
import Foundation

public struct StoredEntry: Sendable {
    public var name: String
    public var crc: UInt32
    public var bytes: [UInt8]
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

public enum ZipReading {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    static func u16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    /// Every entry, read through the central directory as spreadsheet programs do, each checked against
    /// its local header.
    public static func entries(_ zip: [UInt8]) throws -> [StoredEntry] {
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

/// The text of every inline-string cell of a worksheet part (`<is><t>…</t></is>`), XML entities decoded.
///
/// One pass over the UTF-8 bytes: a workbook's entity sheet is megabytes, and searching a `Substring` with
/// Foundation's `range(of:)` copies the rest of the text on every call (quadratic, minutes in a debug build).
public func inlineStrings(_ sheetXML: String) -> [String] {
    let xml = Array(sheetXML.utf8)
    let open = Array("<is><t".utf8), close = Array("</t></is>".utf8)
    var out: [String] = []
    var position = 0
    while let start = XMLScan.first(open, in: xml, from: position) {
        let afterOpen = start + open.count
        guard let gt = XMLScan.first([UInt8(ascii: ">")], in: xml, from: afterOpen),
              let end = XMLScan.first(close, in: xml, from: afterOpen), gt < end else { break }
        let raw = String(decoding: xml[(gt + 1)..<end], as: UTF8.self)
        out.append(raw.contains("&") ? XMLScan.unescape(raw) : raw)
        position = end + close.count
    }
    return out
}

/// Byte search and entity decoding for `inlineStrings`.
enum XMLScan {
    /// The index of the first occurrence of `needle` in `bytes` at or after `from`.
    static func first(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard let head = needle.first, needle.count <= bytes.count else { return nil }
        var i = from
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == head {
                var k = 1
                while k < needle.count && bytes[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }
}
