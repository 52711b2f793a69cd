// Parsing of `seta` subcommands and flags: strict, with clear errors for unknown flags.
import Foundation

struct UsageError: Error, CustomStringConvertible {
    var description: String
}

/// Flags of one subcommand: `--name value`, `--name=value` and boolean `--flag`.
struct Arguments {
    var command: String
    var positional: [String] = []
    var values: [String: [String]] = [:]

    /// `valueFlags` take a value; `boolFlags` do not. Anything else starting with `-` is an error.
    static func parse(_ args: [String], valueFlags: Set<String>, boolFlags: Set<String>, command: String) throws -> Arguments {
        var out = Arguments(command: command)
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { out.positional += args[(i + 1)...]; break }
            if a.hasPrefix("-") {
                var name = a
                var inline: String?
                if let eq = a.firstIndex(of: "=") {
                    name = String(a[..<eq])
                    inline = String(a[a.index(after: eq)...])
                }
                if boolFlags.contains(name) {
                    guard inline == nil else { throw UsageError(description: "\(name) no lleva valor") }
                    out.values[name, default: []].append("true")
                } else if valueFlags.contains(name) {
                    if let inline { out.values[name, default: []].append(inline) } else {
                        guard i + 1 < args.count else { throw UsageError(description: "\(name) necesita un valor") }
                        i += 1
                        out.values[name, default: []].append(args[i])
                    }
                } else {
                    throw UsageError(description: "opción desconocida para `seta \(command)`: \(name) (vea `seta \(command) --help`)")
                }
            } else {
                out.positional.append(a)
            }
            i += 1
        }
        return out
    }

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func flag(_ name: String) -> Bool { values[name] != nil }

    func int(_ name: String, default d: Int) throws -> Int {
        guard let v = value(name) else { return d }
        guard let n = Int(v) else { throw UsageError(description: "\(name) debe ser un entero, no «\(v)»") }
        return n
    }

    func required(_ name: String) throws -> String {
        guard let v = value(name), !v.isEmpty else { throw UsageError(description: "falta \(name)") }
        return v
    }
}

/// The help of each subcommand, for `seta COMMAND --help` (the general help lists them all).
enum CommandHelp {
    static let texts: [String: String] = [
        "serve": """
            Uso: seta serve [--host H] [--port N] [--workers N] [--demo] [--demo-seed N]
              Sirve la API; aplica las migraciones y los datos de referencia al iniciar.
              --host H       dirección en que escucha (127.0.0.1)
              --port N       puerto (8080)
              --workers N    hilos que atienden solicitudes
              --demo         carga el conjunto de demostración si falta
              --demo-seed N  semilla de la demostración (2020)
            """,
        "migrate": """
            Uso: seta migrate
              Aplica las migraciones pendientes de Schema/.
            """,
        "seed": """
            Uso: seta seed
              Carga el catálogo 2020, las entidades DIVIPOLA, las regiones y las entidades socias.
            """,
        "demo": """
            Uso: seta demo [--scale national] [--seed N]
              Carga el conjunto de demostración (determinista para una semilla; se omite si ya está).
            """,
        "users": """
            Uso: seta users create --name N --email E --role central|coordinator|advisor|viewer [--partner P] [--region R]...
              Crea una persona. --region se repite (un coordinador necesita al menos una).
            """,
        "tokens": """
            Uso: seta tokens issue --email E [--days 90]
              Emite un token para la persona del correo E; el token sale por la salida estándar (a lo sumo 730 días).
            """,
        "import": """
            Uso: seta import reports ARCHIVO.csv [--dry-run]
              Importa reportes mensuales desde un CSV; --dry-run los verifica sin escribir.
            """,
        "version": """
            Uso: seta version
              Muestra la versión.
            """,
    ]
}
