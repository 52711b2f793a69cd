// `seta COMMAND --help` prints that command's help, run on the built `seta` binary.
import Foundation
import Testing

@Suite("Command help")
struct CommandHelpTests {
    /// The `seta` binary that `swift build` (or scripts/test.sh's release build) left in .build.
    static func seta() throws -> URL {
        let root = APIHarness.repositoryRoot.appendingPathComponent(".build")
        let candidates = ["debug/seta", "release/seta"].map { root.appendingPathComponent($0) }
        return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                            "build the seta executable first (swift build)")
    }

    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = try seta()
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test("each command's --help shows its own usage, not the general help")
    func eachCommandHasItsHelp() throws {
        for (arguments, usage) in [(["users", "create", "--help"], "Uso: seta users create"), (["tokens", "--help"], "Uso: seta tokens issue"),
                                   (["import", "reports", "-h"], "Uso: seta import reports"), (["help", "serve"], "Uso: seta serve")] {
            let text = try Self.run(arguments)
            #expect(text.hasPrefix(usage), "\(arguments): \(text.prefix(120))")
            #expect(!text.contains("Comandos:"), "\(arguments) printed the general help")
        }
        #expect(try Self.run(["--help"]).contains("Comandos:"))
    }
}
