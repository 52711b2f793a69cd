// Keyset page cursors for the territory and people lists: the last key of a page, base64url, opaque to clients.
import Foundation

/// A cursor is the key of the last item of the previous page (`k:` + key, base64url), so pages stay
/// stable while rows are added before them. A plain key is accepted too, for people typing URLs.
enum KeysetCursor {
    static func encode(_ key: String) -> String {
        Data(("k:" + key).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The key after which the page starts, nil for the first page. `isKey` checks the shape of a key.
    static func after(_ ctx: RequestContext, isKey: (String) -> Bool) throws -> String? {
        guard let raw = try ctx.query("cursor"), !raw.isEmpty else { return nil }
        if isKey(raw) { return raw }
        var b = raw.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        guard let data = Data(base64Encoded: b), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("k:"), isKey(String(text.dropFirst(2))) else {
            throw APIError.badRequest("`cursor` no es válido; use el `next_cursor` de la página anterior.", field: "cursor")
        }
        return String(text.dropFirst(2))
    }

    /// Page size from `limit`, within the app's configured bounds.
    static func limit(_ ctx: RequestContext) throws -> Int {
        let config = ctx.app.configuration
        return try ctx.intQuery("limit", default: config.defaultPageSize, range: 1...config.maxPageSize)
    }
}
