import Foundation

/// The Swift toolchain's own cross tools: swiftc, clang, ld.lld and llvm-objcopy, all from the
/// folder of the `swiftc` on PATH (or SWIFTVISOR_TOOLCHAIN=/path/to/usr/bin).
public struct Toolchain {
    public let bin: URL

    public struct Missing: Error, CustomStringConvertible {
        public var tool: String
        public var folder: String
        public var description: String {
            "the Swift toolchain in \(folder) has no \(tool); swiftvisor needs a Swift 6 toolchain that ships clang, ld.lld and llvm-objcopy (swift.org Linux releases do)"
        }
    }

    public init() throws {
        if let override = ProcessInfo.processInfo.environment["SWIFTVISOR_TOOLCHAIN"] {
            bin = URL(fileURLWithPath: override)
        } else if let swiftc = Shell.which("swiftc") {
            bin = URL(fileURLWithPath: swiftc).resolvingSymlinksInPath().deletingLastPathComponent()
        } else {
            throw Missing(tool: "swiftc", folder: "PATH")
        }
        for tool in ["swiftc", "clang", "ld.lld", "llvm-objcopy", "llvm-objdump"] where !FileManager.default.isExecutableFile(atPath: path(tool)) {
            throw Missing(tool: tool, folder: bin.path)
        }
    }

    public func path(_ tool: String) -> String { bin.appendingPathComponent(tool).path }
}
