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
        .executable(name: "corral", targets: ["corral"]),
    ],
    targets: [
        // The only place C, libsystemd and libseccomp are touched.
        .target(
            name: "CSystemdShim",
            path: "CSystemdShim",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("systemd"), .linkedLibrary("seccomp"), .linkedLibrary("pthread")]
        ),
        // No Foundation: the launch path and the resident monitor stay small.
        .target(name: "Corral", dependencies: ["CSystemdShim"], swiftSettings: strictSwift),
        .executableTarget(name: "corral", dependencies: ["Corral"], swiftSettings: strictSwift),
        .executableTarget(name: "gateway-example", dependencies: ["Corral"], path: "Examples/Gateway",
                          swiftSettings: strictSwift),
        .executableTarget(name: "spawn-bench", dependencies: ["Corral"], path: "Examples/SpawnBench",
                          swiftSettings: strictSwift),
        // libFuzzer over the library's parsers, built and run by Scripts/fuzz (-sanitize=fuzzer -DCORRAL_FUZZ).
        .executableTarget(name: "corral-fuzz", dependencies: ["Corral"], path: "Tests/CorralFuzz", exclude: ["Corpus"],
                          swiftSettings: strictSwift),
        .testTarget(name: "CorralTests", dependencies: ["Corral"], swiftSettings: strictSwift),
        // Runs inside the systemd guest (Scripts/guest); see Scripts/test.
        .testTarget(
            name: "CorralIntegrationTests",
            dependencies: ["Corral", "CSystemdShim"],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)
