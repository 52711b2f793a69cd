// /healthz (alive), /readyz (database reachable, migrations current) and /metrics (Prometheus text).
import Foundation

enum OperationsRoutes {
    /// `{"status":"ok"}`, encoded once: /healthz is the route load balancers hit most.
    static let healthyBody = Array(#"{"status":"ok"}"#.utf8)
    /// `{"status":"ready"}`, encoded once for the same reason (orchestrators poll /readyz too).
    static let readyBody = Array(#"{"status":"ready"}"#.utf8)

    static func register(_ r: inout Router) {
        // The three that never touch the database answer on the HTTP event loop (blocking: false).
        r.add("GET", "/healthz", auth: false, blocking: false, health)
        r.add("GET", "/readyz", auth: false, ready)
        r.add("GET", "/metrics", auth: false, blocking: false, metrics)
        r.add("GET", "/v1/version", auth: false, blocking: false, version)
    }

    static func health(_ ctx: RequestContext) throws -> APIResponse {
        .json(status: 200, body: healthyBody, headers: [])
    }

    static func ready(_ ctx: RequestContext) throws -> APIResponse {
        // The query itself proves the database is reachable: one round trip.
        let pending: [String]
        do { pending = try ctx.app.pendingMigrations() } catch {
            throw APIError.unavailable("La base de datos no responde.")
        }
        guard pending.isEmpty else {
            throw APIError.unavailable("Hay migraciones pendientes: \(pending.joined(separator: ", ")).")
        }
        return .json(status: 200, body: readyBody, headers: [])
    }

    static func metrics(_ ctx: RequestContext) throws -> APIResponse {
        let stats = ctx.db.stats
        let text = ctx.app.metrics.render(gauges: [
            ("seta_db_pool_connections_in_use", "Pooled database connections in use.", stats.inUse),
            ("seta_db_pool_connections_idle", "Pooled database connections idle.", stats.idle),
            ("seta_db_pool_connections_max", "Maximum pooled database connections.", stats.max),
            ("seta_http_open_connections", "Open client connections.", ctx.app.openConnections()),
        ])
        let waits = ctx.db.waitStats
        let poolText = """
            # HELP seta_db_pool_waits_total Checkouts that found no free pooled connection and waited.
            # TYPE seta_db_pool_waits_total counter
            seta_db_pool_waits_total \(waits.waits)
            # HELP seta_db_pool_wait_seconds_total Time spent waiting for a pooled connection.
            # TYPE seta_db_pool_wait_seconds_total counter
            seta_db_pool_wait_seconds_total \(waits.seconds)
            # HELP seta_db_pool_timeouts_total Waits that ended without a connection (answered 503).
            # TYPE seta_db_pool_timeouts_total counter
            seta_db_pool_timeouts_total \(waits.timeouts)

            """
        return .text(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array((text + poolText).utf8))
    }

    static func version(_ ctx: RequestContext) throws -> APIResponse {
        try .json(["version": ctx.app.configuration.version])
    }
}
