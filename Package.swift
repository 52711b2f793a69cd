// swift-tools-version:6.0
// SETA: one package, no package dependencies (Foundation, Dispatch, Glibc, Synchronization, libpq only). Linux only: the server
// calls Glibc and epoll directly, so no other platform is claimed.
import PackageDescription

let package = Package(
    name: "seta",
    products: [
        .executable(name: "seta", targets: ["seta"]),
    ],
    targets: [
        // libpq through a system-library target: modulemap + header, nothing else.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // epoll and eventfd declarations for SetaHTTP's event loop (Glibc's Swift module leaves them out).
        .target(name: "CLinuxEvents"),
        // Thread primitives the compiler cannot check by itself (a lock with a condition), proven once here.
        .target(name: "SetaSync"),
        // Pure domain: catalog, weights, periods, progress math. No I/O.
        .target(name: "SetaDomain"),
        // Export formats: CSV dialects, XLSX workbooks, ZIP and CRC-32. Pure: bytes in, bytes out, no I/O.
        .target(name: "SetaFormats"),
        // PostgreSQL over libpq: connections, pool, bound queries, migrations, embedded cluster.
        .target(name: "SetaDatabase", dependencies: ["CLibPQ", "SetaSync"]),
        // HTTP/1.1 protocol and server. Knows nothing of SETA.
        .target(name: "SetaHTTP", dependencies: ["CLinuxEvents", "SetaSync"]),
        // Routes, DTOs, auth, validation, SQL of each feature.
        .target(name: "SetaAPI", dependencies: ["SetaDomain", "SetaFormats", "SetaDatabase", "SetaHTTP"]),
        // The `seta` command line: serve, migrate, seed, demo, users, tokens, version.
        .executableTarget(name: "seta", dependencies: ["SetaAPI", "SetaDatabase", "SetaDomain", "SetaHTTP"]),

        .target(name: "SetaTestSupport", dependencies: ["SetaDatabase"], path: "Tests/SetaTestSupport"),
        .testTarget(name: "SetaDomainTests", dependencies: ["SetaDomain"]),
        .testTarget(name: "SetaFormatsTests", dependencies: ["SetaFormats", "SetaTestSupport"]),
        .testTarget(name: "SetaDatabaseTests", dependencies: ["SetaDatabase", "SetaTestSupport"]),
        .testTarget(name: "SetaHTTPTests", dependencies: ["SetaHTTP"]),
        .testTarget(name: "SetaAPITests", dependencies: ["SetaAPI", "SetaDomain", "SetaDatabase", "SetaHTTP", "SetaTestSupport"]),
    ]
)
