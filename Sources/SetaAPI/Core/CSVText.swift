// CSV answers (RFC 4180, UTF-8 with BOM so Excel in Spanish opens accents right), streamed in chunks.
import Foundation
import SetaDomain
import SetaHTTP

enum CSVText {
    static let bom: [UInt8] = Array(CSVWriter.bom.utf8)

    /// A figure as written out: two decimals with a point; empty for "no aplica".
    static func number(_ d: Decimal?) -> String {
        d.map { $0.fixedString(scale: 2) } ?? ""
    }
}

/// Buffers rows and hands the server ~32 KiB chunks, so a big export never sits whole in memory.
final class StreamingCSVSink: CSVSink {
    private let writer: any HTTPBodyWriter
    private var buffer: [UInt8] = []
    static let chunkBytes = 32 * 1024

    init(writer: any HTTPBodyWriter) {
        self.writer = writer
        buffer.reserveCapacity(StreamingCSVSink.chunkBytes * 2)
    }

    func row(_ fields: [String]) throws {
        buffer.append(contentsOf: CSVWriter.line(fields).utf8)
        if buffer.count >= StreamingCSVSink.chunkBytes { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try writer.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
