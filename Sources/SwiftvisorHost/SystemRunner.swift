import Foundation
import SwiftvisorCore

/// `swiftvisor run`: build what is stale, check the system description, boot it on QEMU,
/// stream the consoles, and judge the outcome.
public struct SystemRunner {
    public struct Options {
        public var cpu = "cortex-a57"
        /// Physical cores of the machine (QEMU -smp).
        public var cores = 2
        public var timeout: Double = 60
        public var countInstructions = false
        /// Boot without EL2 (tests the refusal message).
        public var virtualization = true
        /// Console input: none (tests, CI), this process's stdin (the CLI), or scripted answers.
        public var input: QEMU.Input = .none
        /// Print console lines as they arrive.
        public var echo = true
        public init() {}
    }

    public enum Verdict: Equatable {
        case success
        case guestsFailed
        case timedOut
        case hypervisorPanic
        /// Process exit status for each verdict.
        public var exitStatus: Int32 {
            switch self { case .success: return 0; case .guestsFailed: return 1; case .timedOut: return 3; case .hypervisorPanic: return 4 }
        }
    }

    public struct Outcome {
        public var verdict: Verdict
        public var report: ConsoleReport
        public var lines: [String]
        public var summary: [String]
    }

    public let layout: ProjectLayout
    public var log: (String) -> Void

    public init(layout: ProjectLayout = .current, log: @escaping (String) -> Void = { print($0) }) {
        self.layout = layout
        self.log = log
    }

    /// Loads and checks a config, building any built-in guests it names. Throws [ConfigError].
    public func load(_ config: URL) throws -> LoadedSystem {
        var builder = ImageBuilder(layout: layout, toolchain: try Toolchain())
        builder.log = log
        return try ConfigLoader.load(config) { try builder.buildGuest($0) }
    }

    /// A system that passed every check `run` makes before QEMU starts.
    public struct CheckedSystem {
        public var system: LoadedSystem
        public var boot: BootLayout
    }

    /// Every check before QEMU starts, the same for `swiftvisor check` and `run`: the
    /// description, its files, what the machine (`cores`) and this host (`host`) can give.
    /// Throws [ConfigError].
    public func check(_ config: URL, cores: Int, host: HostMemory? = HostMemory.current()) throws -> CheckedSystem {
        let system = try load(config)
        let (errors, boot) = try Self.machineProblems(system, cores: cores, host: host)
        guard errors.isEmpty, let boot else { throw errors }
        return CheckedSystem(system: system, boot: boot)
    }

    /// What the machine cannot give a loaded system: cores it lacks, RAM beyond QEMU virt's or
    /// the host's. Returns the boot layout when there is no problem.
    static func machineProblems(_ system: LoadedSystem, cores: Int, host: HostMemory?) throws -> ([ConfigError], BootLayout?) {
        let file = system.configFile.path
        var errors = system.description.problems(cores: cores).map { ConfigError(file: file, problem: $0) }
        let boot = try BootLayout(system: system)
        if let problem = boot.memoryProblem(host: host),
           let largest = system.description.guests.max(by: { $0.memoryMiB < $1.memoryMiB }) {
            errors.append(ConfigError(file: file, line: largest.lines[.memory], key: "memory", message: problem))
        }
        return (errors, errors.isEmpty ? boot : nil)
    }

    public func run(_ config: URL, options: Options) throws -> Outcome {
        let checked = try check(config, cores: options.cores)
        let system = checked.system, boot = checked.boot
        var builder = ImageBuilder(layout: layout, toolchain: try Toolchain())
        builder.log = log
        let image = try builder.buildHypervisor()
        let qemu = try QEMU.locate(log: log)
        let runDirectory = layout.buildDirectory.appendingPathComponent("run-\(getpid())-\(UInt64(Date().timeIntervalSince1970 * 1000))")
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: runDirectory) }
        var machine = QEMU.Machine()
        machine.cpu = options.cpu
        machine.cores = options.cores
        machine.ramMiB = boot.machineRAMMiB
        machine.countInstructions = options.countInstructions
        machine.virtualization = options.virtualization
        let echo = options.echo, log = self.log
        let result = try QEMU.run(qemu: qemu, machine: machine, image: image,
                                  extraArguments: try boot.qemuArguments(writingManifestTo: runDirectory),
                                  timeout: options.timeout, input: options.input) { line in if echo { log(line) } }
        let report = ConsoleReport(lines: result.lines)
        return judge(system: system, report: report, result: result, timeout: options.timeout)
    }

    func judge(system: LoadedSystem, report: ConsoleReport, result: QEMU.Result, timeout: Double) -> Outcome {
        var summary: [String] = []
        var allGood = true
        for g in system.description.guests {
            let text: String
            switch report.outcomes[g.name] {
            case .shutDown(let reason, let code)?:
                text = "\(reason), exit code \(code)"
                if !(reason == "poweroff" && code == 0) { allGood = false }
            case .stopped(let cause)?:
                text = "stopped by the hypervisor: \(cause)"; allGood = false
            case .notStarted(let cause)?:
                text = "not started: \(cause)"; allGood = false
            case nil:
                text = result.timedOut ? "still running when the \(Int(timeout)) s timeout expired" : "no outcome reported"
                allGood = false
            }
            summary.append("  \(g.name): \(text)" + (report.kernelPanics[g.name].map { " (it reported: \($0))" } ?? ""))
        }
        let verdict: Verdict
        if let panic = report.panic {
            verdict = .hypervisorPanic
            summary.append("  hypervisor: \(panic)")
        } else if result.timedOut {
            verdict = .timedOut
            summary.append("  timeout: QEMU was stopped after \(Int(timeout)) s")
        } else {
            verdict = allGood ? .success : .guestsFailed
        }
        return Outcome(verdict: verdict, report: report, lines: result.lines, summary: summary)
    }
}
