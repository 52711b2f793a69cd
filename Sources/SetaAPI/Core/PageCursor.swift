// Page cursors for every list route: one scheme, a tagged value in base64url, opaque to clients.
import Foundation

/// A cursor is `tag:value` in base64url: `k:` + the key of the last item of the previous page (keyset
/// lists: territory, people, assignments, enrollments, history), or `o:` + an offset (computed tables
/// such as progress). Keyset lists also take a plain key, for people typing URLs and for the plain ids
/// the history and asesoría lists handed out before this scheme was theirs.
enum PageCursor {
    static func encode(key: String) -> String {
        Base64URL.encode("k:" + key)
    }

    static func encode(offset: Int) -> String {
        Base64URL.encode("o:\(offset)")
    }

    /// The key after which the page starts, nil for the first page. `isKey` checks the shape of a key.
    static func key(_ ctx: RequestContext, isKey: (String) -> Bool) throws -> String? {
        guard let raw = try ctx.query("cursor"), !raw.isEmpty else { return nil }
        if isKey(raw) { return raw }
        guard let text = Base64URL.decode(raw), text.hasPrefix("k:"), isKey(String(text.dropFirst(2))) else {
            throw APIError.badRequest("`cursor` no es válido; use el `next_cursor` de la página anterior.", field: "cursor")
        }
        return String(text.dropFirst(2))
    }

    /// The offset a computed page starts at, 0 for the first page.
    static func offset(_ ctx: RequestContext) throws -> Int {
        guard let raw = try ctx.query("cursor"), !raw.isEmpty else { return 0 }
        guard let text = Base64URL.decode(raw), text.hasPrefix("o:"),
              let n = Int(text.dropFirst(2)), n >= 0, n < 10_000_000 else {
            throw APIError.badRequest("`cursor` no es válido.", field: "cursor")
        }
        return n
    }

    /// Page size from `limit`, within the app's configured bounds.
    static func limit(_ ctx: RequestContext) throws -> Int {
        let config = ctx.app.configuration
        return try ctx.intQuery("limit", default: config.defaultPageSize, range: 1...config.maxPageSize)
    }

    /// Whether `text` is a positive row id (the key of id-ordered lists).
    static func isPositiveId(_ text: String) -> Bool {
        Int64(text).map { $0 > 0 } ?? false
    }
}
