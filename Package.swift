// swift-tools-version: 6.1
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Corral",
    products: [
        .library(name: "Corral", targets: ["Corral"]),
        .library(name: "CorralLogging", targets: ["CorralLogging"]),
        .executable(name: "corral", targets: ["corral"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The only place C, libsystemd and libseccomp are touched.
        .target(
            name: "CSystemdShim",
            path: "CSystemdShim",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("systemd"), .linkedLibrary("seccomp"), .linkedLibrary("pthread")]
        ),
        // The floor that needs no C shim and no libsystemd: values and their parsing (limits, names, seccomp
        // profiles as data, MCP configs, JSON), the guardrails (arithmetic, state files, admission), the one error type
        // and the small file helpers. No Foundation: the launch path and the resident monitor stay small.
        .target(name: "CorralCore", swiftSettings: strictSwift),
        // The floor that touches the OS through the shim: systemd, cgroups, seccomp filters, the launch path, the
        // server handle. Re-exports CorralCore, so library users and the CLI import only Corral.
        .target(name: "Corral", dependencies: ["CorralCore", "CSystemdShim"], swiftSettings: strictSwift),
        // For gateways that log through swift-log: a journal LogHandler and Corral's lifecycle events.
        .target(name: "CorralLogging", dependencies: ["Corral", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strictSwift),
        .executableTarget(name: "corral", dependencies: ["Corral"], swiftSettings: strictSwift),
        .executableTarget(name: "gateway-example", dependencies: ["Corral"], path: "Examples/Gateway",
                          swiftSettings: strictSwift),
        .executableTarget(name: "spawn-bench", dependencies: ["Corral"], path: "Examples/SpawnBench",
                          swiftSettings: strictSwift),
        // A misbehaving gateway for CoreStressTests: what would kill or hang the test runner runs in it instead.
        .executableTarget(name: "corral-test-helper", dependencies: ["Corral"], path: "Tests/CorralTestHelper",
                          swiftSettings: strictSwift),
        // libFuzzer over the library's parsers, built and run by Scripts/fuzz (-sanitize=fuzzer -DCORRAL_FUZZ).
        .executableTarget(name: "corral-fuzz", dependencies: ["Corral", "CorralCore"], path: "Tests/CorralFuzz", exclude: ["Corpus"],
                          swiftSettings: strictSwift),
        // Unit tests of the pure floor: they build and run without libsystemd or libseccomp.
        .testTarget(name: "CorralCoreTests", dependencies: ["CorralCore"], swiftSettings: strictSwift),
        // Unit tests of what touches the OS without needing systemd (filters, cgroup parsing, the journal handler,
        // the CLI's man page).
        .testTarget(name: "CorralTests", dependencies: ["Corral", "corral", "CorralLogging", .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strictSwift),
        // Runs inside the systemd guest (Scripts/guest); see Scripts/test.
        .testTarget(
            name: "CorralIntegrationTests",
            dependencies: ["Corral", "CorralLogging", "CSystemdShim", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)
