import Foundation

/// What `swiftvisor bench` measured on: the host, the QEMU machine, and the mode the hypervisor
/// ran in at EL2. Instruction counts under -icount do not depend on the host's speed, but they do
/// depend on QEMU's version, the CPU model and the code, so a figure without these is hard to
/// compare.
public struct BenchEnvironment: Codable, Equatable {
    public struct Host: Codable, Equatable {
        /// /proc/cpuinfo's "model name" (x86) or "CPU part" (Arm hosts have no model name).
        public var cpu: String
        public var cores: Int
        /// /etc/os-release's PRETTY_NAME.
        public var os: String
    }

    public struct QEMUSetup: Codable, Equatable {
        /// "7.2.22", from `qemu-system-aarch64 --version`.
        public var version: String
        /// What follows the version there, e.g. "Debian 1:7.2+dfsg-7+deb12u18+b3".
        public var package: String?
        /// QEMU's -M, -cpu and -icount values; -smp varies by figure (see each figure's cores).
        public var machine: String
        public var cpu: String
        public var icount: String
    }

    /// Read from the hypervisor's banner ("VHE present, not used (nVHE mode, as Xen)" or
    /// "VHE not present").
    public struct EL2: Codable, Equatable {
        /// "nVHE" (the hypervisor in its own EL2 translation regime, as Xen) or "VHE".
        public var mode: String
        public var cpuHasVHE: Bool

        /// "nVHE (the CPU has VHE, not used)".
        public var summary: String {
            mode + (cpuHasVHE ? (mode == "VHE" ? "" : " (the CPU has VHE, not used)") : " (the CPU has no VHE)")
        }
    }

    /// The host tool's version (ToolVersion.number) and its repository's commit.
    public var swiftvisor: String
    public var commit: String?
    public var host: Host
    public var qemu: QEMUSetup
    /// Nil when the banner was not found (e.g. a direct Linux boot only).
    public var el2: EL2?

    /// The "Measured on" block of `bench`'s text output.
    public var lines: [String] {
        [
            "  host        \(host.cpu), \(host.cores) cores, \(host.os)",
            "  QEMU        \(qemu.version)\(qemu.package.map { " (\($0))" } ?? ""): -M \(qemu.machine) \(qemu.machine.hasPrefix("virt") ? "-cpu \(qemu.cpu)" : "(its own \(qemu.cpu) cores)") -icount \(qemu.icount)",
            "  EL2 mode    \(el2?.summary ?? "unknown (no hypervisor banner seen)")",
            "  version     \(ToolVersion.describe(commit: commit))",
        ]
    }

    /// Reads the host's files and asks QEMU for its version; `consoleLines` are the bench run's.
    /// `commit`: ToolVersion.commit() read before measuring, so a commit made meanwhile is not named.
    public static func collect(machine options: SystemRunner.Options, commit: String?, consoleLines: [String]) -> BenchEnvironment {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        let versionLine = (try? QEMUInstallation.locate(for: options.board, log: { _ in })).map { "QEMU emulator version \($0.version)" } ?? ""
        var machine = QEMU.Machine()
        machine.board = options.board
        machine.cpu = options.board.fixedCPU ?? options.cpu
        machine.gicVersion = options.gicVersion
        machine.countInstructions = true
        let cpu = machine.cpu
        let arguments = machine.arguments
        func value(after flag: String) -> String {
            arguments.firstIndex(of: flag).map { arguments[$0 + 1] } ?? "?"
        }
        let (version, package) = parseQEMUVersion(versionLine)
        return BenchEnvironment(
            swiftvisor: ToolVersion.number, commit: commit,
            host: Host(cpu: parseCPUModel(cpuinfo) ?? "unknown CPU", cores: ProcessInfo.processInfo.activeProcessorCount,
                       os: parseOSName(osRelease) ?? "unknown OS"),
            qemu: QEMUSetup(version: version, package: package, machine: value(after: "-M"), cpu: cpu,
                          icount: value(after: "-icount")),
            el2: parseEL2(consoleLines))
    }

    /// The first "model name" (or, on Arm hosts, "CPU part") of /proc/cpuinfo.
    static func parseCPUModel(_ cpuinfo: String) -> String? {
        func field(_ key: String) -> String? {
            cpuinfo.split(separator: "\n").lazy.compactMap { line -> String? in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key else { return nil }
                return parts[1].trimmingCharacters(in: .whitespaces)
            }.first
        }
        return field("model name") ?? field("CPU part").map { "Arm CPU part \($0)" }
    }

    /// PRETTY_NAME of /etc/os-release, without its quotes.
    static func parseOSName(_ osRelease: String) -> String? {
        osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { String($0.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
    }

    /// "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" -> ("7.2.22", "Debian ...").
    static func parseQEMUVersion(_ output: String) -> (version: String, package: String?) {
        guard let first = output.split(separator: "\n").first, let r = first.range(of: "version ") else { return ("unknown", nil) }
        let rest = first[r.upperBound...]
        let version = String(rest.prefix { $0 != " " })
        let package = rest.range(of: "(").flatMap { open in
            rest[open.upperBound...].firstIndex(of: ")").map { String(rest[open.upperBound..<$0]) }
        }
        return (version, package)
    }

    /// The banner's "VHE ..." part: "swiftvisor: CPU MIDR 0x..., VHE not present, PA 44 bits, ...".
    static func parseEL2(_ lines: [String]) -> EL2? {
        for line in lines where line.hasPrefix("swiftvisor: CPU MIDR ") {
            guard let r = line.range(of: ", VHE ") else { continue }
            let text = line[r.upperBound...]
            if text.hasPrefix("not present") { return EL2(mode: "nVHE", cpuHasVHE: false) }
            if text.hasPrefix("present") { return EL2(mode: text.hasPrefix("present, not used") ? "nVHE" : "VHE", cpuHasVHE: true) }
        }
        return nil
    }
}
