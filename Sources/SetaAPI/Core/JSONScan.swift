// A strict RFC 8259 reading of a request body before decoding: syntax, duplicate keys and where each number is.
import Foundation

/// What JSONDecoder does not tell: a key given twice in one object (it keeps the last) and which number it could
/// not hold (it answers "not valid JSON" for `1E400` in any field). `scan` checks the grammar of RFC 8259 and
/// records every number with the path of its field, as the client wrote it (`milestones[2].weight`).
struct JSONScan {
    struct Number { var path: String; var range: Range<Int> }
    enum Failure: Error, Equatable {
        case syntax(offset: Int)
        case duplicateKey(path: String)
        case tooDeep
    }

    /// Nesting deeper than this is refused: no SETA body needs it, and recursion must be bounded.
    static let maxDepth = 64

    private let bytes: [UInt8]
    private var i = 0
    private(set) var numbers: [Number] = []
    /// Paths of string values holding U+0000, which PostgreSQL text cannot store.
    private(set) var nulStrings: [String] = []
    private var stringHadNUL = false

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The numbers (and NUL-holding strings) of a syntactically valid document with no duplicate key, or the
    /// first failure.
    static func scan(_ bytes: [UInt8]) throws(Failure) -> JSONScan {
        var s = JSONScan(bytes)
        s.skipSpace()
        try s.value(path: "", depth: 0)
        s.skipSpace()
        guard s.i == bytes.count else { throw .syntax(offset: s.i) }
        return s
    }

    private mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    private func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func expect(_ literal: String) throws(Failure) {
        for b in literal.utf8 {
            guard peek() == b else { throw .syntax(offset: i) }
            i += 1
        }
    }

    private mutating func value(path: String, depth: Int) throws(Failure) {
        guard depth <= JSONScan.maxDepth else { throw .tooDeep }
        switch peek() {
        case UInt8(ascii: "{"): try object(path: path, depth: depth)
        case UInt8(ascii: "["): try array(path: path, depth: depth)
        case UInt8(ascii: "\""):
            _ = try string()
            if stringHadNUL { nulStrings.append(path.isEmpty ? "body" : path) }
        case UInt8(ascii: "t"): try expect("true")
        case UInt8(ascii: "f"): try expect("false")
        case UInt8(ascii: "n"): try expect("null")
        case .some(let b) where b == UInt8(ascii: "-") || (0x30...0x39).contains(b): try number(path: path)
        default: throw .syntax(offset: i)
        }
    }

    private mutating func object(path: String, depth: Int) throws(Failure) {
        i += 1
        skipSpace()
        if peek() == UInt8(ascii: "}") { i += 1; return }
        var keys = Set<String>()
        while true {
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw .syntax(offset: i) }
            let key = try string()
            let child = path.isEmpty ? key : path + "." + key
            guard keys.insert(key).inserted else { throw .duplicateKey(path: child) }
            skipSpace()
            try expect(":")
            skipSpace()
            try value(path: child, depth: depth + 1)
            skipSpace()
            if peek() == UInt8(ascii: ",") { i += 1; continue }
            try expect("}")
            return
        }
    }

    private mutating func array(path: String, depth: Int) throws(Failure) {
        i += 1
        skipSpace()
        if peek() == UInt8(ascii: "]") { i += 1; return }
        var index = 0
        while true {
            skipSpace()
            try value(path: "\(path)[\(index)]", depth: depth + 1)
            index += 1
            skipSpace()
            if peek() == UInt8(ascii: ",") { i += 1; continue }
            try expect("]")
            return
        }
    }

    /// A string's decoded text (keys are compared decoded: `"a"` and `"\u0061"` are the same key).
    private mutating func string() throws(Failure) -> String {
        let start = i
        i += 1
        var escaped = false
        stringHadNUL = false
        while let b = peek() {
            if b < 0x20 { throw .syntax(offset: i) }
            if b == UInt8(ascii: "\\") {
                escaped = true
                i += 1
                guard let e = peek() else { break }
                if e == UInt8(ascii: "u") {
                    if Array(bytes[(i + 1)..<min(i + 5, bytes.count)]) == Array("0000".utf8) { stringHadNUL = true }
                    for _ in 0..<4 {
                        i += 1
                        guard let h = peek(), (0x30...0x39).contains(h) || (0x41...0x46).contains(h) || (0x61...0x66).contains(h) else {
                            throw .syntax(offset: i)
                        }
                    }
                } else if !"\"\\/bfnrt".utf8.contains(e) {
                    throw .syntax(offset: i)
                }
                i += 1
                continue
            }
            i += 1
            if b == UInt8(ascii: "\"") {
                let raw = Array(bytes[start..<i])
                if !escaped { return String(decoding: raw.dropFirst().dropLast(), as: UTF8.self) }
                // Escapes (rare in keys) are decoded by the system parser; an unpaired surrogate stays distinct.
                let decoded = try? JSONSerialization.jsonObject(with: Data(raw), options: [.fragmentsAllowed]) as? String
                return decoded ?? String(decoding: raw, as: UTF8.self)
            }
        }
        throw .syntax(offset: i)
    }

    private mutating func number(path: String) throws(Failure) {
        let start = i
        if peek() == UInt8(ascii: "-") { i += 1 }
        func digits(_ s: inout JSONScan) -> Int {
            var n = 0
            while let b = s.peek(), (0x30...0x39).contains(b) { s.i += 1; n += 1 }
            return n
        }
        if peek() == UInt8(ascii: "0") { i += 1 } else if digits(&self) == 0 { throw .syntax(offset: i) }
        if peek() == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw .syntax(offset: i) }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            i += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw .syntax(offset: i) }
        }
        numbers.append(Number(path: path.isEmpty ? "body" : path, range: start..<i))
    }
}
