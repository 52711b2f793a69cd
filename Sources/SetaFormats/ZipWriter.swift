// A ZIP archive writer (PKWARE APPNOTE 6.3): stored (uncompressed) entries with CRC-32, written as they come.
import Foundation

/// Why an archive could not be written.
public enum ZipError: Error, Equatable, Sendable {
    /// An entry or the archive passed 4 GiB, or more than 65,535 entries: that needs ZIP64, which this writer lacks.
    case tooLarge
    case finished
    case duplicateName(String)
}

/// Writes a ZIP archive to `emit` entry by entry. Each entry is handed over whole (its bytes already
/// built), so its CRC-32 and size are known before its local header: no data descriptors, which some
/// streaming readers refuse for stored entries. Only the central directory (about 50 bytes an entry)
/// is kept until `finish()`. Entries are stored, not deflated: an OOXML workbook is small next to the
/// network, and storing keeps the writer short and the CPU cost at one CRC pass.
public final class ZipWriter {
    private struct Record {
        var name: [UInt8]
        var crc: UInt32
        var size: UInt32
        var offset: UInt32
    }

    private let emit: ([UInt8]) throws -> Void
    private var records: [Record] = []
    private var names = Set<String>()
    private var offset: UInt64 = 0
    private var done = false
    private let dosTime: UInt16
    private let dosDate: UInt16

    /// - Parameters:
    ///   - modified: the modification time written on every entry (UTC), so equal content gives equal bytes.
    ///   - emit: receives the archive's bytes in order.
    public init(modified: Date = Date(timeIntervalSince1970: 315_532_800), emit: @escaping ([UInt8]) throws -> Void) {
        self.emit = emit
        (dosDate, dosTime) = ZipWriter.dosDateTime(modified)
    }

    /// Adds one stored entry.
    public func add(_ name: String, _ bytes: [UInt8]) throws {
        guard !done else { throw ZipError.finished }
        guard names.insert(name).inserted else { throw ZipError.duplicateName(name) }
        guard bytes.count < 0xFFFF_FFFF, offset < 0xFFFF_FFFF, records.count < 0xFFFF else { throw ZipError.tooLarge }
        let crc = CRC32.checksum(bytes)
        let record = Record(name: Array(name.utf8), crc: crc, size: UInt32(bytes.count), offset: UInt32(offset))
        var header: [UInt8] = []
        header.reserveCapacity(30 + record.name.count)
        header.le32(0x0403_4B50)              // local file header signature
        header.le16(20)                       // version needed: 2.0
        header.le16(0x0800)                   // flags: names are UTF-8
        header.le16(0)                        // method: stored
        header.le16(dosTime)
        header.le16(dosDate)
        header.le32(crc)
        header.le32(record.size)              // compressed size = size when stored
        header.le32(record.size)
        header.le16(UInt16(record.name.count))
        header.le16(0)                        // no extra field
        header.append(contentsOf: record.name)
        try write(header)
        try write(bytes)
        records.append(record)
    }

    /// Writes the central directory and the end record. Nothing can be added afterwards.
    public func finish() throws {
        guard !done else { throw ZipError.finished }
        done = true
        guard offset < 0xFFFF_FFFF else { throw ZipError.tooLarge }
        let directoryStart = UInt32(offset)
        var directory: [UInt8] = []
        for r in records {
            directory.le32(0x0201_4B50)       // central directory header signature
            directory.le16(0x0314)            // made by: Unix, spec 2.0
            directory.le16(20)
            directory.le16(0x0800)
            directory.le16(0)
            directory.le16(dosTime)
            directory.le16(dosDate)
            directory.le32(r.crc)
            directory.le32(r.size)
            directory.le32(r.size)
            directory.le16(UInt16(r.name.count))
            directory.le16(0)                 // extra
            directory.le16(0)                 // comment
            directory.le16(0)                 // disk number
            directory.le16(0)                 // internal attributes
            directory.le32(0o100644 << 16)    // external attributes: a regular file, rw-r--r--
            directory.le32(r.offset)
            directory.append(contentsOf: r.name)
        }
        guard UInt64(directory.count) + offset < 0xFFFF_FFFF else { throw ZipError.tooLarge }
        let directorySize = UInt32(directory.count)
        directory.le32(0x0605_4B50)           // end of central directory record
        directory.le16(0)                     // this disk
        directory.le16(0)                     // disk where the directory starts
        directory.le16(UInt16(records.count)) // entries on this disk
        directory.le16(UInt16(records.count)) // entries in all
        directory.le32(directorySize)
        directory.le32(directoryStart)
        directory.le16(0)                     // no comment
        try write(directory)
    }

    private func write(_ bytes: [UInt8]) throws {
        offset += UInt64(bytes.count)
        try emit(bytes)
    }

    /// MS-DOS date and time (2-second resolution, years 1980–2107) of a UTC instant.
    static func dosDateTime(_ date: Date) -> (date: UInt16, time: UInt16) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = Int64((Double(seconds) / 86_400).rounded(.down))
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        guard year >= 1980 else { return (0x21, 0) }                 // 1980-01-01 00:00
        guard year <= 2107 else { return (0xFF9F, 0xBF7D) }          // 2107-12-31 23:59:58
        let d = UInt16(year - 1980) << 9 | UInt16(month) << 5 | UInt16(day)
        let t = UInt16(secondOfDay / 3600) << 11 | UInt16(secondOfDay % 3600 / 60) << 5 | UInt16(secondOfDay % 60 / 2)
        return (d, t)
    }
}

extension UInt32 {
    var littleEndianBytes: [UInt8] { [UInt8(self & 0xFF), UInt8(self >> 8 & 0xFF), UInt8(self >> 16 & 0xFF), UInt8(self >> 24)] }
}

extension [UInt8] {
    mutating func le16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    mutating func le32(_ v: UInt32) { append(contentsOf: v.littleEndianBytes) }
}
