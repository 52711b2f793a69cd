// The verdict of each line of a CSV import (enrollments, assignments, group members, attribute values): one statement classifies every staged line, then the verdicts join the format problems.
import SetaDatabase

extension ImportStore {
    /// The lines as the parser left them: their numbers and the format problems found (a problem rejects the line).
    typealias ParsedLines = [(line: Int, formatReasons: [String])]

    /// Classifies every staged line of the temporary table `table` in one statement. `checks` selects, as the
    /// CTE `c`, each line's `line`, `bad_format` and `reasons` (and what `verdict` compares); a line with a
    /// format problem or a reason is rejected, any other gets the status of `verdict` (the CASE's other
    /// branches: created, ignored or updated). Every import decides "rejected" this one way.
    static func classify(_ conn: Connection, table: String, checks: SQL, verdict: SQL, lines: ParsedLines) throws -> [Outcome] {
        let checked = try conn.query("""
            WITH c AS MATERIALIZED (\(checks))
            UPDATE \(identifier: table) s
               SET status = CASE WHEN c.bad_format OR cardinality(c.reasons) > 0 THEN 'rejected'
                                 \(verdict) END
              FROM c WHERE c.line = s.line
            RETURNING s.line, s.status, c.reasons
            """).rows
        return try outcomes(checked, lines: lines)
    }

    /// The verdict of a line that names a start month, against the existing row with that same start
    /// (`c.same_id`, `c.same_to`): none is created, the same end is ignored, another end is updated.
    static let sameStartVerdict: SQL = """
        WHEN c.same_id IS NULL THEN 'created'
        WHEN c.same_to IS NOT DISTINCT FROM c.to_period THEN 'ignored'
        ELSE 'updated'
        """

    /// Joins the verdicts of a checking `UPDATE … RETURNING line, status, reasons` with the format problems
    /// found while parsing, in line order; a line the statement did not return, or with a format problem, is rejected.
    static func outcomes(_ checked: [Row], lines: ParsedLines) throws -> [Outcome] {
        var verdicts: [Int: (String, [String])] = [:]
        for r in checked { verdicts[try r.decode("line")] = (try r.decode("status"), try r.decode("reasons")) }
        return lines.map { row in
            let (status, reasons) = verdicts[row.line] ?? ("rejected", [])
            return Outcome(line: row.line, status: row.formatReasons.isEmpty ? Status(rawValue: status) ?? .rejected : .rejected,
                           reasons: row.formatReasons + reasons)
        }
    }
}
