// The `seta` command: serve, migrate, seed, demo, users, tokens, import, version.
import Foundation
import SetaAPI
import SetaDatabase
import SetaHTTP
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// The service logs to stdout; other commands keep stdout for their answer (a token, a summary).
let log = CommandLine.arguments.dropFirst().first == "serve" ? Log() : Log(write: Log.stderr)

let help = """
    seta: Sistema de Seguimiento a Entidades Territoriales Asistidas (API REST JSON).

    Uso: seta <comando> [opciones]

    Comandos:
      serve     Sirve la API (aplica migraciones y datos de referencia al iniciar).
                --host H (127.0.0.1)  --port N (8080)  --workers N  --demo  --demo-seed N
      migrate   Aplica las migraciones pendientes de Schema/.
      seed      Carga el catálogo 2020, las entidades DIVIPOLA, regiones y entidades socias.
      demo      Carga el conjunto de demostración: --scale national  --seed N
      users     users create --name N --email E --role central|coordinator|advisor|viewer [--partner P] [--region R]...
      tokens    tokens issue --email E [--days 90]
      import    import reports ARCHIVO.csv [--dry-run]
      version   Muestra la versión.

    Base de datos: DATABASE_URL (URI o conninfo de libpq); sin ella, un PostgreSQL privado en ./.seta
    (o SETA_PGDATA), que `seta serve` inicia y detiene.
    """

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("seta: \(message)\n".utf8))
    exit(code)
}

func schemaDirectory() -> URL {
    guard let dir = Migrator.locateSchemaDirectory() else {
        fail("no encuentro la carpeta Schema/ (defina SETA_SCHEMA_DIR)")
    }
    return dir
}

func referenceData() -> URL {
    guard let dir = Seeder.dataDirectory() else { fail("no encuentro la carpeta Data/ (defina SETA_REFERENCE_DATA)") }
    return dir
}

/// Migrations then reference data: what every start needs.
func prepare(_ conninfo: String) throws -> ConnectionPool {
    let applied = try Migrator(directory: schemaDirectory()).migrate(conninfo: conninfo)
    if !applied.isEmpty { log.event("info", "migrations applied", ["applied": applied]) }
    let pool = ConnectionPool(conninfo: conninfo)
    let s = try Seeder.seed(pool, dataDirectory: referenceData())
    if s.plansCreated + s.entitiesCreated + s.regionsCreated + s.partnersCreated > 0 {
        log.event("info", "reference data loaded", ["plans": s.plansCreated, "entities": s.entitiesCreated,
                                                     "regions": s.regionsCreated, "partners": s.partnersCreated])
    }
    return pool
}

/// Runs `body` with a prepared database, releasing an embedded cluster afterwards.
func withDatabase<T>(_ body: (ConnectionPool, DatabaseHandle) throws -> T) -> T {
    let handle: DatabaseHandle
    do { handle = try DatabaseHandle.open(log: log) } catch { fail("\(error)", code: 1) }
    defer { handle.close(log: log) }
    do {
        let pool = try prepare(handle.conninfo)
        defer { pool.close() }
        return try body(pool, handle)
    } catch {
        handle.close(log: log)
        fail("\(error)", code: 1)
    }
}

func serve(_ a: Arguments) throws {
    var http = HTTPServerConfiguration()
    http.host = a.value("--host") ?? ProcessInfo.processInfo.environment["SETA_HOST"] ?? http.host
    http.port = try a.int("--port", default: Int(ProcessInfo.processInfo.environment["SETA_PORT"] ?? "") ?? http.port)
    // Every request that reaches a worker uses the database (the rest answer on the event loops), so one
    // worker per pooled connection: more would only queue for a connection (measured: /readyz at 64
    // connections did 13.9k req/s with 16 workers on 10 connections, 22.7k with 10).
    http.workerCount = try a.int("--workers", default: DatabaseLimits.defaults.poolMaxConnections)
    guard (0...65535).contains(http.port) else { throw UsageError(description: "--port fuera de rango") }
    guard (1...512).contains(http.workerCount) else { throw UsageError(description: "--workers entre 1 y 512") }
    http.logger = { message in log.event("warn", "http", ["detail": message]) }

    let handle = try DatabaseHandle.open(log: log)
    defer { handle.close(log: log) }
    let pool = try prepare(handle.conninfo)
    if a.flag("--demo") {
        let summary = try Demo.load(pool, seed: UInt64(try a.int("--demo-seed", default: 2020)), log: log)
        log.event("info", "demo data ready", ["summary": summary])
    }
    // /readyz compares the migrations applied with those shipped, in one pooled round trip.
    let shipped = try Migrator(directory: schemaDirectory()).migrations()
    // Requests get their own pool: a bounded wait for a connection (then 503 with Retry-After, never 500) and a
    // statement_timeout, so no request holds a connection for long; imports and catalog rebuilds lift it
    // for their own transaction.
    pool.close()
    let servePool = ConnectionPool(conninfo: handle.conninfo, acquireTimeout: 2,
                                   limits: DatabaseLimits(statementTimeoutMilliseconds: 15_000,
                                                          sessionSettings: ["jit": "off", "work_mem": "32MB"]))
    // One row whatever the number of migrations, and text built once (the versions are integers parsed
    // from file names, so writing them into the SQL is safe): /readyz runs this on every call.
    let readiness = SQL(unsafe: "SELECT \(shipped.count) - count(*)::int FROM schema_migrations WHERE version IN ("
        + shipped.map { String($0.version) }.joined(separator: ",") + ")")
    // Applied migrations are never undone, so once every shipped one was seen applied, readiness only
    // needs to prove the database answers: a `SELECT 1`, like any pooler's health check, sent with the
    // simple protocol (one message; a constant text, no parameters), as pgbench sends its own.
    let migrationsCurrent = Mutex(false)
    let pendingMigrations: @Sendable () throws -> [String] = {
        if migrationsCurrent.withLock({ $0 }) {
            try servePool.withConnection { conn in try conn.executeScript(unsafe: "SELECT 1") }
            return []
        }
        let missing: Int = try servePool.withConnection { conn in try conn.query(readiness).rows[0].decode(0, as: Int.self) }
        if missing == 0 {
            migrationsCurrent.withLock { $0 = true }
            return []
        }
        let applied = Set(try servePool.withConnection { conn in
            try conn.query("SELECT version FROM schema_migrations").rows.map { try $0.decode("version", as: Int.self) }
        })
        return shipped.filter { !applied.contains($0.version) }.map(\.name)
    }
    // The server is built from the app's handlers, so /metrics reaches it through a slot filled just after.
    let serverForMetrics = Mutex<HTTPServer?>(nil)
    let app = SetaApp(pool: servePool, pendingMigrations: pendingMigrations,
                      openConnections: { serverForMetrics.withLock { $0?.openConnectionCount } ?? 0 })
    // The HTTP layer's own error answers are logged and counted like the application's.
    http.errorResponseObserver = { app.recordServerError($0) }
    // /healthz, /metrics, /v1/version and 404s answer on the event loop; the rest on the workers.
    // 100-continue waits for the route and the token to be checked.
    let server = HTTPServer(configuration: http, handler: { app.handle($0) },
                            inlineHandler: { app.handleWithoutBlocking($0) }, bodyPermission: { app.mayReadBody($0) })
    serverForMetrics.withLock { $0 = server }
    try server.start()
    server.shutdownOnSignals()
    log.event("info", "listening", ["address": "http://\(http.host):\(server.port)", "version": SetaVersion.current,
                                    "database": Log.redact(conninfo: handle.conninfo), "workers": http.workerCount])
    server.waitUntilStopped()
    log.event("info", "stopped accepting; in-flight requests finished")
    servePool.close()
    log.event("info", "shutdown complete")
}

var args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else { print(help); exit(0) }
args.removeFirst()
if args.contains("--help") || args.contains("-h") || command == "--help" || command == "-h" || command == "help" {
    // `seta users create --help` and `seta help users` show the command's own help.
    let topic = command == "help" ? args.first ?? "" : command
    print(CommandHelp.texts[topic] ?? help)
    exit(0)
}

do {
    switch command {
    case "version", "--version":
        print("seta \(SetaVersion.current)")
    case "serve":
        try serve(try Arguments.parse(args, valueFlags: ["--host", "--port", "--workers", "--demo-seed"], boolFlags: ["--demo"], command: command))
    case "migrate":
        _ = try Arguments.parse(args, valueFlags: [], boolFlags: [], command: command)
        withDatabase { _, _ in print("migraciones al día") }
    case "seed":
        _ = try Arguments.parse(args, valueFlags: [], boolFlags: [], command: command)
        withDatabase { _, _ in print("datos de referencia cargados") }
    case "demo":
        let a = try Arguments.parse(args, valueFlags: ["--scale", "--seed"], boolFlags: [], command: command)
        guard (a.value("--scale") ?? "national") == "national" else { throw UsageError(description: "--scale admite solo national") }
        let seed = UInt64(try a.int("--seed", default: 2020))
        withDatabase { pool, _ in
            do { print(try Demo.load(pool, seed: seed, log: log)) } catch { fail("\(error)", code: 1) }
        }
    case "users":
        let a = try Arguments.parse(args, valueFlags: ["--name", "--email", "--role", "--partner", "--region"], boolFlags: [], command: command)
        guard a.positional == ["create"] else { throw UsageError(description: "uso: seta users create --name N --email E --role R") }
        let name = try a.required("--name"), email = try a.required("--email"), role = try a.required("--role")
        withDatabase { pool, _ in
            do {
                let id = try AdminCommands.createUser(pool, name: name, email: email, role: role,
                                                      partner: a.value("--partner"), regions: a.all("--region"))
                print("persona \(id) creada (\(role)): \(email)")
            } catch { fail("\(error)", code: 1) }
        }
    case "tokens":
        let a = try Arguments.parse(args, valueFlags: ["--email", "--days"], boolFlags: [], command: command)
        guard a.positional == ["issue"] else { throw UsageError(description: "uso: seta tokens issue --email E [--days 90]") }
        let email = try a.required("--email"), days = try a.int("--days", default: 90)
        withDatabase { pool, _ in
            do {
                let t = try AdminCommands.issueToken(pool, email: email, days: days)
                // The secret goes to stdout only, never to the log.
                print(t.token)
                FileHandle.standardError.write(Data("token \(t.id) para la persona \(t.personId), vence \(t.expiresAt)\n".utf8))
            } catch { fail("\(error)", code: 1) }
        }
    case "import":
        let a = try Arguments.parse(args, valueFlags: [], boolFlags: ["--dry-run"], command: command)
        guard a.positional.count == 2, a.positional[0] == "reports" else { throw UsageError(description: "uso: seta import reports ARCHIVO.csv [--dry-run]") }
        let file = URL(fileURLWithPath: a.positional[1])
        withDatabase { pool, _ in
            do {
                let summary = try CLIImports.reports(pool, file: file, dryRun: a.flag("--dry-run"))
                print(summary)
            } catch { fail("\(error)", code: 1) }
        }
    default:
        throw UsageError(description: "comando desconocido «\(command)» (vea `seta --help`)")
    }
} catch let e as UsageError {
    fail(e.description)
} catch {
    fail("\(error)", code: 1)
}
