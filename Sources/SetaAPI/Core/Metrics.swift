// Prometheus counters and a latency histogram per route, kept in memory and written as text format.
import Foundation
import Synchronization

final class Metrics: Sendable {
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private struct Latency {
        /// Cumulative bucket counts, +Inf last.
        var buckets = [Int](repeating: 0, count: Metrics.buckets.count + 1)
        var sum = 0.0
        var count = 0

        mutating func add(_ seconds: Double) {
            for (i, le) in Metrics.buckets.enumerated() where seconds <= le { buckets[i] += 1 }
            buckets[Metrics.buckets.count] += 1
            sum += seconds
            count += 1
        }
    }

    private struct State {
        var requests: [RequestKey: Int] = [:]
        var latency: [String: Latency] = [:]
    }

    /// Recorded once per request from every thread: a struct key and in-place updates keep the time
    /// under the lock to a few hash lookups (no key string built, no bucket array copied).
    private let state = Mutex(State())

    func record(route: String, method: String, status: Int, seconds: Double) {
        state.withLock { state in
            state.requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            state.latency[route, default: Latency()].add(seconds)
        }
    }

    func render(gauges: [(name: String, help: String, value: Int)]) -> String {
        let snapshot = state.withLock { $0 }
        var out = "# HELP seta_http_requests_total HTTP requests by route, method and status.\n"
        out += "# TYPE seta_http_requests_total counter\n"
        let requests = snapshot.requests.map { (key: "\($0.key.route)|\($0.key.method)|\($0.key.status)", entry: $0) }
        for (_, entry) in requests.sorted(by: { $0.key < $1.key }) {
            out += "seta_http_requests_total{route=\"\(Metrics.escape(entry.key.route))\",method=\"\(entry.key.method)\",status=\"\(entry.key.status)\"} \(entry.value)\n"
        }
        out += "# HELP seta_http_request_duration_seconds Request latency by route.\n"
        out += "# TYPE seta_http_request_duration_seconds histogram\n"
        for (route, latency) in snapshot.latency.sorted(by: { $0.key < $1.key }) {
            let r = Metrics.escape(route)
            for (i, le) in Metrics.buckets.enumerated() {
                out += "seta_http_request_duration_seconds_bucket{route=\"\(r)\",le=\"\(le)\"} \(latency.buckets[i])\n"
            }
            out += "seta_http_request_duration_seconds_bucket{route=\"\(r)\",le=\"+Inf\"} \(latency.buckets[Metrics.buckets.count])\n"
            out += "seta_http_request_duration_seconds_sum{route=\"\(r)\"} \(latency.sum)\n"
            out += "seta_http_request_duration_seconds_count{route=\"\(r)\"} \(latency.count)\n"
        }
        for g in gauges {
            out += "# HELP \(g.name) \(g.help)\n# TYPE \(g.name) gauge\n\(g.name) \(g.value)\n"
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
