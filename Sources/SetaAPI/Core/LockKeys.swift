// Every PostgreSQL advisory-lock key SETA takes, by name: grep a name here to find every taker.
import SetaDatabase

/// Advisory-lock keys. Transaction-scoped unless said otherwise. One-key (bigint) and two-key (int4, int4)
/// locks live in separate spaces in PostgreSQL, so `seeder` (7265001) never collides with the
/// `territoryImports` class (7265006, 1). The SQL side takes the same keys in `Schema/013_entity_progress.sql`
/// (`planProgress`, `entityProgress`); those numbers are listed here so the map is whole, and must not be
/// reused for anything else.
enum LockKey {
    // One-key locks.
    /// One seeder at a time (two instances starting together).
    static let seeder: Int64 = 7_265_001
    /// One demo loader at a time.
    static let demo: Int64 = 7_265_002
    /// Report imports (bulk) run one after another.
    static let reportImport: Int64 = 0x5345_5449   // "SETI"
    /// The migrator's session-scoped lock (`Migrator.advisoryLockKey`, "SETA").
    static let migrator: Int64 = Migrator.advisoryLockKey

    // Two-key lock classes: (class, key).
    /// Writers of one plan's enrollments (key: `hashtext('enrollments/' || plan)`).
    static let enrollmentWriters: Int32 = 7_265_004
    /// Writers of one entity's assignments in a plan (key: `hashtext(plan || '/' || entity)`).
    static let assignmentWriters: Int32 = 7_265_005
    /// Territory writes against their CSV imports: single writers take it shared, an import exclusive
    /// (key: `enrollmentsImportKey` or `assignmentsImportKey`).
    static let territoryImports: Int32 = 7_265_006
    static let enrollmentsImportKey: Int32 = 1
    static let assignmentsImportKey: Int32 = 2
    /// A plan's progress rows (SQL only, Schema/013; key: `hashtext(plan)`).
    static let planProgress: Int32 = 7_265_010
    /// One entity's progress rows in one plan (SQL only, Schema/013; key: `hashtext(plan || ':' || entity)`).
    static let entityProgress: Int32 = 7_265_011
    /// One (plan, month): report writes take it shared, locking a month exclusive
    /// (key: `hashtext(plan || '/' || 'YYYY-MM')`).
    static let period: Int32 = 0x5345_5452   // "SETR"
}
