// GET /v1/audit: the change log (registro de cambios) for the central team, filtered and paged newest first.
import Foundation
import SetaDomain

enum AuditRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v1/audit", list)
    }

    static func list(_ ctx: RequestContext) throws -> APIResponse {
        try ctx.requireCentral()
        var filter = AuditStore.Filter()
        if let entity = try ctx.query("entity") {
            guard entity.range(of: #"^[0-9]{2}([0-9]{3})?$"#, options: .regularExpression) != nil else {
                throw APIError.badRequest("`entity` debe ser un código DIVIPOLA de 2 o 5 dígitos.", field: "entity")
            }
            filter.entity = entity
        }
        if let person = try ctx.query("person") {
            guard let id = Int64(person), id > 0 else { throw APIError.badRequest("`person` debe ser el id de una persona.", field: "person") }
            filter.person = id
        }
        filter.table = try ctx.query("table")
        filter.from = try instant(ctx, "from", endOfDay: false)
        filter.until = try instant(ctx, "to", endOfDay: true)
        if let from = filter.from, let until = filter.until, until <= from {
            throw APIError.invalid(field: "to", "`to` debe ser posterior a `from`.")
        }
        if let cursor = try PageCursor.key(ctx, isKey: { Int64($0) != nil }) { filter.before = Int64(cursor) }
        let limit = try PageCursor.limit(ctx)
        let (entries, total) = try ctx.db.withConnection { conn in try AuditStore.page(conn, filter, limit: limit) }
        let next = entries.count == limit ? entries.last.map { PageCursor.encode(key: String($0.id)) } : nil
        return try .json(ListResponse(items: entries, total: total, nextCursor: next))
    }

    /// `from`/`to` as a day (AAAA-MM-DD, Bogotá time; `to` takes the whole day) or an RFC 3339 instant (inclusive).
    /// Returns the inclusive lower bound, or the exclusive upper bound when `endOfDay`.
    static func instant(_ ctx: RequestContext, _ name: String, endOfDay: Bool) throws -> Date? {
        guard let text = try ctx.query(name) else { return nil }
        if let day = CalendarDay(text) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = .bogota
            guard let start = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day)) else {
                throw APIError.invalid(field: name, "`\(name)` no es una fecha válida.", found: text)
            }
            return endOfDay ? start.addingTimeInterval(86_400) : start
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        guard let at = formatter.date(from: text) ?? plain.date(from: text) else {
            throw APIError.invalid(field: name, "`\(name)` debe ser una fecha AAAA-MM-DD o un instante RFC 3339 válido.", found: text)
        }
        // Microsecond resolution, as PostgreSQL keeps it: an inclusive `to` includes its own instant.
        return endOfDay ? at.addingTimeInterval(0.000_001) : at
    }
}
