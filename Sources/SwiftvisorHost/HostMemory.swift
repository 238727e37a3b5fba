import Foundation

/// What the host can give QEMU, from /proc/meminfo (Linux).
public struct HostMemory: Equatable {
    /// MemAvailable: what can be allocated without swapping, other processes left alone.
    public var availableMiB: Int
    /// MemTotal.
    public var totalMiB: Int

    public init(availableMiB: Int, totalMiB: Int) { self.availableMiB = availableMiB; self.totalMiB = totalMiB }

    /// QEMU's own memory on top of the machine's RAM (TCG translation cache, device models),
    /// as seen on QEMU 7.2 with `-m` up to 16 GiB: about 200 MiB; rounded up.
    public static let qemuOverheadMiB = 256

    /// This host's memory, or nil where /proc/meminfo cannot be read (the check is then skipped).
    public static func current() -> HostMemory? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        return parse(meminfo: text)
    }

    /// Reads "MemTotal:  24683520 kB" and "MemAvailable: ... kB" lines.
    public static func parse(meminfo text: String) -> HostMemory? {
        var total: Int?, available: Int?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kB = Int(fields[1]) else { continue }
            if fields[0] == "MemTotal:" { total = kB / 1024 }
            if fields[0] == "MemAvailable:" { available = kB / 1024 }
        }
        guard let total, let available else { return nil }
        return HostMemory(availableMiB: available, totalMiB: total)
    }
}
