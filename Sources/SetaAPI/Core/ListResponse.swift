// ListResponse: the envelope of every list answer (items, total, next page's cursor), used by all features.

/// Every list answer: the page, the total and the cursor of the next page (`PageCursor`).
struct ListResponse<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var total: Int
    var nextCursor: String?
}
