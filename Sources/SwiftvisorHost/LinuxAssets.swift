import Foundation
import SwiftvisorCore

/// Debian's arm64 kernel (`linux-image-*-arm64-unsigned`) and `busybox-static`, fetched with
/// apt using a state and cache folder of our own (the system's apt set-up is not touched; see
/// shared/PLATFORM.md), unpacked and kept under `cacheDirectory` between runs.
public struct LinuxAssets {
    public let cacheDirectory: URL
    public var log: (String) -> Void

    public struct Failed: Error, CustomStringConvertible { public var description: String }

    /// `$SWIFTVISOR_CACHE`, else `$XDG_CACHE_HOME/swiftvisor`, else `~/.cache/swiftvisor`.
    public static var defaultCache: URL {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["SWIFTVISOR_CACHE"] { return URL(fileURLWithPath: dir) }
        let base = env["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("swiftvisor")
    }

    public init(cacheDirectory: URL = LinuxAssets.defaultCache, log: @escaping (String) -> Void) {
        self.cacheDirectory = cacheDirectory.appendingPathComponent("debian-arm64")
        self.log = log
    }

    /// The kernel Image and busybox binary, downloading what the cache lacks.
    public func fetch() throws -> (kernel: URL, busybox: URL) {
        let root = cacheDirectory.appendingPathComponent("root")
        let busybox = root.appendingPathComponent("bin/busybox")
        if let kernel = existingKernel(in: root), FileManager.default.fileExists(atPath: busybox.path) {
            return (kernel, busybox)
        }
        guard let apt = Shell.which("apt-get"), let aptCache = Shell.which("apt-cache"), let dpkg = Shell.which("dpkg") else {
            throw Failed(description: "fetching Debian's arm64 kernel needs apt-get and dpkg (a Debian or Ubuntu system)")
        }
        let lists = cacheDirectory.appendingPathComponent("apt-lists"), archives = cacheDirectory.appendingPathComponent("apt-cache")
        let debs = cacheDirectory.appendingPathComponent("debs")
        for d in [lists.appendingPathComponent("partial"), archives.appendingPathComponent("archives/partial"), debs, root] {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        }
        var options = ["-o", "APT::Architecture=arm64", "-o", "APT::Architectures=arm64",
                       "-o", "Dir::State::Lists=\(lists.path)", "-o", "Dir::Cache=\(archives.path)"]
        let kernelPattern = "^linux-image-[0-9.]+-[0-9]+-arm64-unsigned$"
        var kernelPackage: String?
        if ProcessInfo.processInfo.environment["SWIFTVISOR_DEBIAN_SOURCES"] != "private" {
            log("linux: reading the system's apt sources for arm64 (cache: \(cacheDirectory.path))")
            _ = try? Shell.run(apt, options + ["-q", "update"])
            kernelPackage = Self.newestKernelPackage((try? Shell.run(aptCache, options + ["search", "--names-only", kernelPattern])) ?? "")
        }
        if kernelPackage == nil {
            // Not a Debian host (Ubuntu keeps arm64 on another archive): Debian's own archive,
            // from a sources list of our own, checked with Debian's archive keyring.
            let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
            guard FileManager.default.fileExists(atPath: keyring) else {
                throw Failed(description: "the system's apt sources have no Debian arm64 kernel, and \(keyring) is missing: install it with: sudo apt-get install debian-archive-keyring")
            }
            let sources = cacheDirectory.appendingPathComponent("debian.sources")
            try """
            Types: deb
            URIs: http://deb.debian.org/debian
            Suites: bookworm
            Components: main
            Signed-By: \(keyring)

            Types: deb
            URIs: http://deb.debian.org/debian-security
            Suites: bookworm-security
            Components: main
            Signed-By: \(keyring)

            """.write(to: sources, atomically: true, encoding: .utf8)
            options += ["-o", "Dir::Etc::SourceList=/dev/null", "-o", "Dir::Etc::SourceParts=/nonexistent",
                        "-o", "Dir::Etc::sourcelist=\(sources.path)"]
            log("linux: reading Debian bookworm's arm64 package lists")
            try Shell.run(apt, options + ["-q", "update"])
            kernelPackage = Self.newestKernelPackage(try Shell.run(aptCache, options + ["search", "--names-only", kernelPattern]))
        }
        guard let kernelPackage else {
            throw Failed(description: "no linux-image-*-arm64-unsigned package in Debian's arm64 lists")
        }
        for package in [kernelPackage, "busybox-static"] {
            log("linux: downloading \(package)")
            // apt's own progress lines ("Get:1 ... [59.8 MB]", percentages), shown as they come.
            let log = self.log
            try Shell.stream(apt, options + ["-o", "quiet=0", "download", package], currentDirectory: debs) { line in
                for part in line.split(separator: "\r") {
                    let text = part.trimmingCharacters(in: .whitespaces)
                    // Progress and errors; not apt's notices about other sources or sandboxing.
                    if text.hasPrefix("Get:") || text.hasPrefix("Fetched") || text.hasPrefix("E:") || text.contains("% [") {
                        log("linux:   \(text)")
                    }
                }
            }
        }
        for deb in try FileManager.default.contentsOfDirectory(atPath: debs.path) where deb.hasSuffix(".deb") {
            log("linux: unpacking \(deb)")
            try Shell.run(dpkg, ["-x", debs.appendingPathComponent(deb).path, root.path])
        }
        try? FileManager.default.removeItem(at: debs)
        guard let kernel = existingKernel(in: root), FileManager.default.fileExists(atPath: busybox.path) else {
            throw Failed(description: "the downloaded packages did not contain /boot/vmlinuz-* and /bin/busybox")
        }
        return (kernel, busybox)
    }

    /// A board's device tree from the same kernel package (`broadcom/bcm2711-rpi-4-b.dtb`).
    public func deviceTree(_ relativePath: String) throws -> URL {
        _ = try fetch()
        let lib = cacheDirectory.appendingPathComponent("root/usr/lib")
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []).filter { $0.hasPrefix("linux-image-") }.sorted()
        guard let version = versions.last else {
            throw Failed(description: "Debian's kernel package in \(cacheDirectory.path) has no usr/lib/linux-image-*/ device trees")
        }
        let dtb = lib.appendingPathComponent(version).appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: dtb.path) else {
            throw Failed(description: "Debian's kernel package has no \(relativePath) (looked in \(dtb.path))")
        }
        return dtb
    }

    /// The kernel package's modules the initramfs carries (paths under lib/modules/VERSION/kernel),
    /// each listed after those its `depends=` (modinfo) names; /init loads them with insmod in
    /// this order (there is no modprobe or modules.dep in the initramfs):
    /// the Xen device modules every Xen guest loads (/dev/xen/evtchn, gntdev, gntalloc: no
    /// dependencies); a driver domain's backends with the bridge (bridge needs stp and llc, stp
    /// llc) and loop; a guest's frontends, and ext4 (jbd2, mbcache, crc16; crc32c for the
    /// metadata checksums of filesystems that have them) for a filesystem on its PV disk.
    public static let guestModules = [
        "drivers/xen/xen-evtchn", "drivers/xen/xen-gntdev", "drivers/xen/xen-gntalloc",
        "net/llc/llc", "net/802/stp", "net/bridge/bridge", "drivers/block/loop",
        "drivers/net/xen-netback/xen-netback", "drivers/block/xen-blkback/xen-blkback",
        "lib/crc16", "fs/mbcache", "fs/jbd2/jbd2", "crypto/crc32c_generic", "fs/ext4/ext4",
        "drivers/net/xen-netfront", "drivers/block/xen-blkfront",
    ]

    func guestModules(kernel: URL) throws -> [URL] {
        // boot/vmlinuz-VERSION goes with lib/modules/VERSION.
        let version = kernel.lastPathComponent.replacingOccurrences(of: "vmlinuz-", with: "")
        let dir = cacheDirectory.appendingPathComponent("root/lib/modules/\(version)/kernel")
        return try Self.guestModules.map { path in
            let url = dir.appendingPathComponent(path + ".ko")
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw Failed(description: "the kernel package has no \(url.path)")
            }
            return url
        }
    }

    func existingKernel(in root: URL) -> URL? {
        let boot = root.appendingPathComponent("boot")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: boot.path)) ?? []
        return names.filter { $0.hasPrefix("vmlinuz-") }.sorted().last.map { boot.appendingPathComponent($0) }
    }

    /// The package with the highest ABI number among `apt-cache search` lines.
    static func newestKernelPackage(_ search: String) -> String? {
        let names = search.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        func key(_ name: String) -> [Int] { name.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) } }
        return names.max { key($0).lexicographicallyPrecedes(key($1)) }
    }
}

/// `swiftvisor linux`: two Linux guests, each with 2 vCPUs and its own memory.
public enum LinuxSystem {
    /// The cached kernel and a freshly built initramfs.
    public static func assets(log: @escaping (String) -> Void) throws -> (kernel: URL, initramfs: URL) {
        let assets = LinuxAssets(log: log)
        let (kernel, busybox) = try assets.fetch()
        var builder = ImageBuilder(toolchain: try Toolchain())
        builder.log = log
        let counter = try builder.buildLinuxTool("cntvct")
        let tools = try ["xenmeet", "xendevd", "perfstat"].map { try builder.buildLinuxTool($0) }
        // Named by its contents and renamed into place: runs in parallel never read one that is
        // half written or another build's (ContentNamedFile).
        let initramfs = try ContentNamedFile.write(try LinuxInitramfs.build(busybox: busybox, counter: counter, tools: tools,
                                                                            modules: try assets.guestModules(kernel: kernel)),
                                                   in: assets.cacheDirectory, prefix: "initramfs", extension: "cpio")
        return (kernel, initramfs)
    }

    /// `swiftvisor linux`'s pair: alpha (domain 1) offers beta (domain 2) a page and a port
    /// through xenstore, beta accepts, and they exchange messages (Guests/LinuxTools/xenmeet.c).
    public static let xenmeetPair = ["alpha": "swiftvisor.xenmeet=offer:2", "beta": "swiftvisor.xenmeet=accept:1"]

    /// Writes the initramfs and a system description naming the cached kernel; returns the TOML
    /// (`linux-NAMES-HASH.toml`, beside the initramfs).
    /// `extraArguments` adds kernel command-line words per guest name; the guests named in
    /// `hvc0` use Xen's PV console (`console=hvc0`, served by the hypervisor) instead of the PL011;
    /// `uuids` gives guests their `uuid` key; `keys` adds lines to a guest's table (its `vif`
    /// and `disk`: LinuxNetwork).
    public static func prepare(guests: [String], vcpus: Int = 2, memoryMiB: Int = 256, shell: Bool = false,
                               hvc0: Set<String> = [], extraArguments: [String: String] = [:], uuids: [String: String] = [:],
                               keys: [String: String] = [:], log: @escaping (String) -> Void) throws -> URL {
        let (kernel, initramfs) = try assets(log: log)
        var toml = "# Generated by swiftvisor linux.\n"
        for name in guests {
            toml += """

            [[guest]]
            name = "\(name)"
            kernel = "\(kernel.path)"
            ramdisk = "\(initramfs.path)"
            memory = \(memoryMiB)
            vcpus = \(vcpus)
            cmdline = "console=\(hvc0.contains(name) ? "hvc0" : "ttyAMA0") swiftvisor.name=\(name) swiftvisor.marker=guest-\(name)\(shell ? " swiftvisor.shell" : "")\(extraArguments[name].map { " " + $0 } ?? "")"
            \(uuids[name].map { "uuid = \"\($0)\"" } ?? "")
            \(keys[name] ?? "")

            """
        }
        // Named by its contents too: it names this build's initramfs.
        return try ContentNamedFile.write(Array(toml.utf8), in: initramfs.deletingLastPathComponent(),
                                          prefix: "linux-\(guests.map { hvc0.contains($0) ? $0 + "@hvc0" : $0 }.joined(separator: "-"))",
                                          extension: "toml")
    }
}
