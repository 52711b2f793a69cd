// The person on whose behalf transactions run, handed to PostgreSQL for the change log (audit_log).

/// Bound by the API around a request's handler; `ConnectionPool.withTransaction` sets it with the
/// transaction (`SET LOCAL seta.actor`), where the audit triggers read it. Unbound (the CLI, seeds,
/// migrations), writes are logged with no actor: the system.
public enum TransactionActor {
    @TaskLocal public static var personId: Int64?

    /// The statement that opens a transaction: BEGIN, and the actor in the same round trip. The actor is an
    /// integer, so the text is never built from client input.
    static func begin(_ begin: String) -> String {
        guard let id = personId else { return begin }
        return "\(begin); SET LOCAL seta.actor = '\(id)'"
    }
}
