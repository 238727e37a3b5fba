import Foundation
import XCTest
@testable import SwiftvisorHost

/// The README's first command on a fresh machine: QEMU as the tool installs it
/// (qemu-system-arm without recommends) must be enough. A machine that has more (ipxe-qemu,
/// say) hides a missing package, so this runs QEMU in a private mount namespace where
/// /usr/share/qemu, QEMU's data folder, holds only files of qemu-system-arm's dependencies.
final class FreshMachineTests: XCTestCase {
    func test_qemu_starts_with_only_the_packages_the_tool_installs() throws {
        try XCTSkipUnless(getuid() == 0, "needs root for a private mount namespace (CI runs as root)")
        let qemu = try QEMU.locate(log: { _ in })
        let allowed = try Self.filesOfTheToolsPackages()
        XCTAssertFalse(allowed.isEmpty)

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-fresh-\(getpid())")
        try? FileManager.default.removeItem(at: scratch)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // QEMU looks for ROMs and firmware in each folder `-L help` lists (Debian's also has
        // /usr/lib/ipxe/qemu). Each gets a shadow: a link for each file a dependency owns, to
        // the original (bound aside inside the namespace); nothing else.
        var hidden: [String] = [], mounts: [String] = []
        let folders = try Shell.run(qemu, ["-L", "help"]).split(separator: "\n")
            .map { URL(fileURLWithPath: String($0)).standardizedFileURL.resolvingSymlinksInPath().path }
        for (n, data) in folders.enumerated() where FileManager.default.fileExists(atPath: data) {
            let original = scratch.appendingPathComponent("original-\(n)"), shadow = scratch.appendingPathComponent("shadow-\(n)")
            try FileManager.default.createDirectory(at: original, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: shadow, withIntermediateDirectories: true)
            for entry in try FileManager.default.subpathsOfDirectory(atPath: data) {
                let real = URL(fileURLWithPath: "\(data)/\(entry)").resolvingSymlinksInPath().path
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: real, isDirectory: &isDirectory) else { hidden.append(entry); continue }
                if isDirectory.boolValue { continue }
                guard allowed.contains(real) else { hidden.append(entry); continue }
                // Targets inside any data folder are reached through its original's bind.
                var target = real
                for (m, other) in folders.enumerated() where real.hasPrefix(other + "/") {
                    target = scratch.appendingPathComponent("original-\(m)").path + real.dropFirst(other.count)
                }
                let link = shadow.appendingPathComponent(entry)
                try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target)
            }
            mounts.append("mount --bind '\(data)' '\(original.path)'")
            mounts.append("mount --bind '\(shadow.path)' '\(data)'")
        }
        // Originals first (their binds must see the real folders), then the shadows.
        let ordered = mounts.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) + mounts.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        let wrapper = scratch.appendingPathComponent("qemu-fresh")
        try """
            #!/bin/sh
            # QEMU with only the data files of the packages swiftvisor installs.
            exec unshare --mount --propagation private /bin/sh -c '\(ordered.joined(separator: " && ").replacingOccurrences(of: "'", with: "'\\''")) && exec "$@"' fresh "\(qemu)" "$@"

            """.write(to: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper.path, 0o755)

        var options = SystemRunner.Options()
        options.echo = false
        options.timeout = 120
        options.qemu = wrapper.path
        let o = try SystemRunner(log: { _ in }).run(ProjectLayout.current.examples.appendingPathComponent("demo.toml"), options: options)
        XCTAssertEqual(o.verdict, .success, "hidden: \(hidden.prefix(20))\n" + o.lines.joined(separator: "\n") + "\n" + o.summary.joined(separator: "\n"))
        XCTAssertEqual(o.report.guestLines["alpha"]?.last, "goodbye", o.lines.joined(separator: "\n"))
    }

    /// Real paths of every file of qemu-system-arm and the packages it depends on (not those
    /// it recommends), as installed.
    static func filesOfTheToolsPackages() throws -> Set<String> {
        let depends = try Shell.run("/usr/bin/apt-cache", ["depends", "--recurse", "--no-recommends", "--no-suggests",
                                                           "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                                                           "qemu-system-arm"])
        let packages = Set(depends.split(separator: "\n").filter { !$0.hasPrefix(" ") && !$0.hasPrefix("<") }.map(String.init))
        var files = Set<String>()
        for p in packages {
            guard let list = try? Shell.run("/usr/bin/dpkg", ["-L", p]) else { continue }   // not installed (an alternative)
            for f in list.split(separator: "\n") where f.hasPrefix("/") {
                files.insert(URL(fileURLWithPath: String(f)).resolvingSymlinksInPath().path)
            }
        }
        return files
    }
}
