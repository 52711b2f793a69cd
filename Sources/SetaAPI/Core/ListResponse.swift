// ListResponse: the envelope of every list answer (items, total, next page's cursor), used by all features.

/// Every list answer: the page, the total and the cursor of the next page (`PageCursor`).
struct ListResponse<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var total: Int
    var nextCursor: String?
}

extension ListResponse {
    /// One page of a keyset list: the store reads `limit + 1` rows, so a row beyond `limit` means there is a next
    /// page, whose cursor (`PageCursor`, `k:`) is the last item's `key`.
    init<Row>(keyset rows: [Row], total: Int, limit: Int, item: (Row) -> Item, key: (Item) -> String) {
        items = rows.prefix(limit).map(item)
        self.total = total
        nextCursor = rows.count > limit ? items.last.map { PageCursor.encode(key: key($0)) } : nil
    }
}
