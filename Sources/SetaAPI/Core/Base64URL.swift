// Base64url without padding (RFC 4648 §5): the one encoder and decoder, used by page cursors.
import Foundation

enum Base64URL {
    static func encode(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The UTF-8 text behind `encoded`; nil when it is not base64url (padding optional) or not UTF-8.
    static func decode(_ encoded: String) -> String? {
        var b = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        guard let data = Data(base64Encoded: b) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
