// The outcome of each line of a group-member or attribute-value import, from the verdicts its checking statement returned.
import SetaDatabase

extension ImportStore {
    /// Joins the verdicts of a checking `UPDATE … RETURNING line, status, reasons` with the format problems
    /// found while parsing, in line order; a line the statement did not return is rejected.
    static func outcomes(_ checked: [Row], lines: [(line: Int, formatReasons: [String])]) throws -> [Outcome] {
        var verdicts: [Int: (String, [String])] = [:]
        for r in checked { verdicts[try r.decode("line")] = (try r.decode("status"), try r.decode("reasons")) }
        return lines.map { row in
            let (status, reasons) = verdicts[row.line] ?? ("rejected", [])
            return Outcome(line: row.line, status: Status(rawValue: status) ?? .rejected, reasons: row.formatReasons + reasons)
        }
    }
}
