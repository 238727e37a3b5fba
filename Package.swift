// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swiftvisor",
    products: [
        .executable(name: "swiftvisor", targets: ["swiftvisor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Portable core: no hardware access. Also compiled for aarch64-none-none-elf
        // (Embedded Swift) into the hypervisor and guest images by the image builder.
        .target(name: "SwiftvisorCore", swiftSettings: [.swiftLanguageMode(.v5)]),
        // Host side: config loading, image building, QEMU launching, console parsing.
        // POSIX pieces Foundation lacks: a child that dies with us, signals, pseudo-terminals.
        .target(name: "CHostSupport", linkerSettings: [.linkedLibrary("util")]),
        .target(name: "SwiftvisorHost", dependencies: ["SwiftvisorCore", "CHostSupport"],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "swiftvisor", dependencies: [
            "SwiftvisorHost",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "SwiftvisorCoreTests", dependencies: ["SwiftvisorCore"], exclude: ["Fixtures"]),
        .testTarget(name: "SwiftvisorHostTests", dependencies: ["SwiftvisorHost"]),
        .testTarget(name: "SystemTests", dependencies: ["SwiftvisorHost", "CHostSupport"], exclude: ["Systems"]),
    ]
)
