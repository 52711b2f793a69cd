// LikePattern: the LIKE pattern that finds a text anywhere, its wildcards taken literally (name searches, `q`).

enum LikePattern {
    /// `%text%` with `\`, `%` and `_` escaped by a backslash: use it with `LIKE … ESCAPE '\'`, so that what a
    /// person types is searched for as written.
    static func containing(_ text: String) -> String {
        "%" + text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
    }
}
