// HTTPDate: the IMF-fixdate for the Date response header, formatted once per second.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

enum HTTPDate {
    private static let cache = Cache()

    /// e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
    static func now() -> String {
        cache.current()
    }

    static func format(_ seconds: time_t) -> String {
        var time = seconds
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// The text for the current second, formatted once per second whoever asks.
    private final class Cache: Sendable {
        private let last = Mutex((second: time_t(0), text: ""))

        func current() -> String {
            let now = time(nil)
            return last.withLock { last in
                if now != last.second { last = (now, HTTPDate.format(now)) }
                return last.text
            }
        }
    }
}
