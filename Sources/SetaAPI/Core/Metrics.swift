// Prometheus counters and a latency histogram per route, kept in memory and written as text format.
import Foundation

final class Metrics: @unchecked Sendable {
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    private let lock = NSLock()
    private var requests: [String: Int] = [:]          // "route|method|status" → count
    private var histogram: [String: [Int]] = [:]       // route → bucket counts (+Inf last)
    private var sums: [String: Double] = [:]
    private var counts: [String: Int] = [:]

    func record(route: String, method: String, status: Int, seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        requests["\(route)|\(method)|\(status)", default: 0] += 1
        var b = histogram[route] ?? Array(repeating: 0, count: Metrics.buckets.count + 1)
        for (i, le) in Metrics.buckets.enumerated() where seconds <= le { b[i] += 1 }
        b[Metrics.buckets.count] += 1
        histogram[route] = b
        sums[route, default: 0] += seconds
        counts[route, default: 0] += 1
    }

    func render(gauges: [(name: String, help: String, value: Int)]) -> String {
        lock.lock(); defer { lock.unlock() }
        var out = "# HELP seta_http_requests_total HTTP requests by route, method and status.\n"
        out += "# TYPE seta_http_requests_total counter\n"
        for (key, n) in requests.sorted(by: { $0.key < $1.key }) {
            let p = key.split(separator: "|", omittingEmptySubsequences: false)
            out += "seta_http_requests_total{route=\"\(Metrics.escape(String(p[0])))\",method=\"\(p[1])\",status=\"\(p[2])\"} \(n)\n"
        }
        out += "# HELP seta_http_request_duration_seconds Request latency by route.\n"
        out += "# TYPE seta_http_request_duration_seconds histogram\n"
        for (route, b) in histogram.sorted(by: { $0.key < $1.key }) {
            let r = Metrics.escape(route)
            for (i, le) in Metrics.buckets.enumerated() {
                out += "seta_http_request_duration_seconds_bucket{route=\"\(r)\",le=\"\(le)\"} \(b[i])\n"
            }
            out += "seta_http_request_duration_seconds_bucket{route=\"\(r)\",le=\"+Inf\"} \(b[Metrics.buckets.count])\n"
            out += "seta_http_request_duration_seconds_sum{route=\"\(r)\"} \(sums[route] ?? 0)\n"
            out += "seta_http_request_duration_seconds_count{route=\"\(r)\"} \(counts[route] ?? 0)\n"
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
