// ChildProcess: runs initdb/pg_ctl and waits for them with posix_spawn and waitpid.
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to completion with stdin from /dev/null and stdout+stderr into a file.
///
/// Why not Foundation's `Process`: on Linux its `waitUntilExit` was seen to hang forever with the child
/// already a zombie (runuser → pg_ctl start, Swift 6.3), blocking a test process for minutes. posix_spawn
/// plus a blocking `waitpid` on our own pid cannot miss the exit. Every descriptor above 2 is closed in the
/// child, so the PostgreSQL server that pg_ctl leaves running never holds our sockets or pipes (a listening
/// HTTP port, the test runner's output pipe), and the child starts with no blocked signals.
enum ChildProcess {
    struct Outcome {
        let status: Int32
        let output: String
    }

    static func run(_ executable: String, _ arguments: [String], in folder: String) throws -> Outcome {
        let outputPath = NSTemporaryDirectory() + "seta-child-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        #if os(Linux)
        if let closeFrom = closeFromAction, let changeDirectory = changeDirectoryAction {
            let status = try spawnAndWait(executable, arguments, folder: folder, outputPath: outputPath,
                                          closeFrom: closeFrom, changeDirectory: changeDirectory)
            return Outcome(status: status, output: read(outputPath))
        }
        #endif
        return try runWithFoundation(executable, arguments, folder: folder, outputPath: outputPath)
    }

    private static func read(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    #if os(Linux)
    private typealias FileAction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias PathAction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    // glibc 2.34+ has both; Swift cannot see them (declared under _GNU_SOURCE), so look them up.
    private static let closeFromAction: FileAction? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: FileAction.self) }
    private static let changeDirectoryAction: PathAction? = dlsym(nil, "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: PathAction.self) }

    private static func spawnAndWait(
        _ executable: String, _ arguments: [String], folder: String, outputPath: String,
        closeFrom: FileAction, changeDirectory: PathAction
    ) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = closeFrom(&actions, 3)
        _ = changeDirectory(&actions, folder)

        // A clean signal mask and default handlers: the server pg_ctl leaves running must not inherit the
        // mask of whichever (Dispatch) thread called us, nor our handlers.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2] {
            sigaddset(&defaultSignals, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = argv.withUnsafeBufferPointer { args in
            posix_spawn(&pid, executable, &actions, &attributes, UnsafeMutablePointer(mutating: args.baseAddress!), environ)
        }
        guard spawned == 0 else {
            throw DatabaseError(.embeddedServer, message: "cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else {
                throw DatabaseError(.embeddedServer, message: "waiting for \(executable) failed (errno \(errno))")
            }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }
    #endif

    /// Fallback where posix_spawn's extensions are missing (macOS, old glibc).
    private static func runWithFoundation(
        _ executable: String, _ arguments: [String], folder: String, outputPath: String
    ) throws -> Outcome {
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        guard let output = FileHandle(forWritingAtPath: outputPath) else {
            throw DatabaseError(.embeddedServer, message: "cannot create \(outputPath)")
        }
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw DatabaseError(.embeddedServer, message: "cannot run \(executable): \(error)")
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: read(outputPath))
    }
}
