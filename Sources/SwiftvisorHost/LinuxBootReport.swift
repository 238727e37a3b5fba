import Foundation

/// What `swiftvisor bench --linux` prints: what it measured on, then Debian's kernel booting to
/// /init directly on QEMU and as a swiftvisor guest (instructions of all cores, and wall time),
/// the ratio, and what Xen adds by the same measure; or one JSON object (`--json`).
public struct LinuxBootReport {
    public var environment: BenchEnvironment
    /// QEMU -smp of both boots.
    public var cores: Int
    public var direct: Benchmark.LinuxBoot
    public var guest: Benchmark.LinuxBoot

    public init(environment: BenchEnvironment, cores: Int, direct: Benchmark.LinuxBoot, guest: Benchmark.LinuxBoot) {
        self.environment = environment
        self.cores = cores
        self.direct = direct
        self.guest = guest
    }

    public static let unit = "instructions from power-on to the first line of /init, all cores together"

    var instructionRatio: Double { Double(guest.instructions) / Double(max(direct.instructions, 1)) }
    var timeRatio: Double { guest.seconds / max(direct.seconds, 0.001) }
    /// What the hypervisor adds (0 if, against expectation, the guest boot took fewer).
    var added: UInt64 { guest.instructions > direct.instructions ? guest.instructions - direct.instructions : 0 }

    public var text: [String] {
        var table = TextTable([.init("boot to /init"), .init("instructions", .right), .init("wall time", .right)])
        table.add(["directly on QEMU virt (no hypervisor)", direct.instructions.grouped, String(format: "%.1f s", direct.seconds)])
        table.add(["as a swiftvisor guest", guest.instructions.grouped, String(format: "%.1f s", guest.seconds)])
        table.add(["ratio", String(format: "%.3f", instructionRatio), String(format: "%.2f", timeRatio)])
        return ["swiftvisor bench --linux: \(Self.unit)", "", "Measured on"] + environment.lines
            + ["  boots       -smp \(cores), 256 MiB; the guest has 2 vCPUs; the direct boot has virtualization=off", ""]
            + table.render() + [
                "",
                "Instruction counts repeat from run to run; wall time is noisy.",
                "swiftvisor adds \(added.grouped) instructions; \(ReferenceFigures.xen.title) adds about "
                    + "\(UInt64(ReferenceFigures.xenLinuxBootOverhead).grouped) (docs/performance.md).",
            ] + (guest.beforeGuest.map {
                ["Of the guest's, before its VM was built (swiftvisor's own boot, to its counter offset): \($0.grouped) instructions."]
            } ?? [])
    }

    struct JSONReport: Encodable {
        struct Boot: Encodable { var instructions: UInt64; var seconds: Double }
        struct Reference: Encodable { var addedInstructions: Int; var approximate: Bool }
        var unit: String
        var referencesFrom: String
        var environment: BenchEnvironment
        var cores: Int
        var direct: Boot
        var swiftvisor: Boot
        var ratio: Double
        var addedInstructions: UInt64
        var references: [String: Reference]
    }

    public var json: String {
        func boot(_ b: Benchmark.LinuxBoot) -> JSONReport.Boot { .init(instructions: b.instructions, seconds: (b.seconds * 10).rounded() / 10) }
        return BenchReport.encode(JSONReport(
            unit: Self.unit, referencesFrom: "docs/performance.md", environment: environment, cores: cores,
            direct: boot(direct), swiftvisor: boot(guest), ratio: (instructionRatio * 1000).rounded() / 1000,
            addedInstructions: added,
            references: [ReferenceFigures.xen.id: .init(addedInstructions: ReferenceFigures.xenLinuxBootOverhead, approximate: true)]))
    }
}

extension UInt64 {
    /// 885039024 -> "885,039,024".
    var grouped: String {
        let digits = Array(String(self))
        return String(digits.enumerated().flatMap { i, d in (i > 0 && (digits.count - i) % 3 == 0 ? [","] : []) + [d] })
    }
}
