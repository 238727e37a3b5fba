import Foundation
import SwiftvisorCore

/// `swiftvisor run`: build what is stale, check the system description, boot it on QEMU,
/// stream the consoles, and judge the outcome.
public struct SystemRunner {
    public struct Options {
        /// The QEMU machine: `virt`, or a board model (which brings its own CPUs and GIC).
        public var board = Board.virt
        public var cpu = "cortex-a57"
        /// The `virt` board's GIC version (QEMU `gic-version=`): 3 or 2.
        public var gicVersion = 3
        /// Ask the hypervisor to run with HCR_EL2.E2H = 1 (`swiftvisor.vhe=1`); only a CPU with
        /// VHE (`max`) can honour it.
        public var vhe = false
        /// Physical cores of the machine (QEMU -smp).
        public var cores = 2
        public var timeout: Double = 60
        public var countInstructions = false
        /// Boot without EL2 (tests the refusal message).
        public var virtualization = true
        /// Console input: none (tests, CI), this process's stdin (the CLI), or scripted answers.
        public var input: QEMU.Input = .none
        /// Print console lines as they arrive (when not at a terminal).
        public var echo = true
        /// The key that opens the hypervisor console (Ctrl-] by default).
        public var escapeKey = ConsoleSession.defaultEscape
        /// Use this QEMU instead of the one on PATH (tests: a QEMU with fewer data files).
        public var qemu: String?
        /// Use this installation (tests: QEMU 10 for `virt`, whose CPU models trap what 7.2's do not).
        public var qemuInstallation: QEMUInstallation?
        /// More QEMU arguments (tests: `-dtb` with a host device tree of their own).
        public var extraQEMUArguments: [String] = []
        /// Start the hypervisor image at this physical address (2 MiB aligned) rather than
        /// where QEMU's `-kernel` puts it (RAM base + 2 MiB): `-kernel` then carries a
        /// BootTrampoline to it, and the image is loaded with `-device loader`.
        public var loadAddress: UInt64?
        /// Make the hypervisor wait for its UART as a real line at this baud rate would
        /// (`swiftvisor.uart-baud=N`; QEMU's UART sends at once): tests of what console output
        /// costs other guests.
        public var uartBaud: Int?
        public init() {}

        /// The hypervisor's own boot arguments these options ask for.
        var hypervisorArguments: [String] {
            (vhe ? ["swiftvisor.vhe=1"] : []) + (uartBaud.map { ["swiftvisor.uart-baud=\($0)"] } ?? [])
        }
    }

    public enum Verdict: Equatable {
        case success
        case guestsFailed
        case timedOut
        case hypervisorPanic
        /// A signal (SIGINT, SIGTERM, SIGHUP) ended the run; QEMU was stopped.
        case interrupted(signal: Int32)
        /// Process exit status for each verdict (a signal's: 128 + its number, as a shell's).
        public var exitStatus: Int32 {
            switch self {
            case .success: return 0
            case .guestsFailed: return 1
            case .timedOut: return 3
            case .hypervisorPanic: return 4
            case .interrupted(let signal): return 128 + signal
            }
        }
    }

    public struct Outcome {
        public var verdict: Verdict
        public var report: ConsoleReport
        public var lines: [String]
        public var summary: [String]
        /// The run's folder: each guest's console as NAME.log, the hypervisor's as hypervisor.log.
        public var logDirectory: URL?
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
    public func check(_ config: URL, board: Board = .virt, cores: Int, host: HostMemory? = HostMemory.current()) throws -> CheckedSystem {
        let system = try load(config)
        let (errors, boot) = try Self.machineProblems(system, board: board, cores: board.fixedCores ?? cores, host: host)
        guard errors.isEmpty, let boot else { throw errors }
        return CheckedSystem(system: system, boot: boot)
    }

    /// What the machine cannot give a loaded system: cores it lacks, RAM beyond QEMU virt's or
    /// the host's. Returns the boot layout when there is no problem.
    static func machineProblems(_ system: LoadedSystem, board: Board = .virt, cores: Int, host: HostMemory?) throws -> ([ConfigError], BootLayout?) {
        let file = system.configFile.path
        var errors = system.description.problems(cores: cores).map { ConfigError(file: file, problem: $0) }
        let boot = try BootLayout(system: system, board: board)
        if let problem = boot.memoryProblem(host: host),
           let largest = system.description.guests.max(by: { $0.memoryMiB < $1.memoryMiB }) {
            errors.append(ConfigError(file: file, line: largest.lines[.memory], key: "memory", message: problem))
        }
        return (errors, errors.isEmpty ? boot : nil)
    }

    public func run(_ config: URL, options: Options) throws -> Outcome {
        let checked = try check(config, board: options.board, cores: options.cores)
        let system = checked.system
        var boot = checked.boot
        var builder = ImageBuilder(layout: layout, toolchain: try Toolchain())
        builder.log = log
        let image = try builder.buildHypervisor()
        let qemu = try options.qemuInstallation ?? options.qemu.map { QEMUInstallation.probe($0) } ?? QEMUInstallation.locate(for: options.board, log: log)
        let runDirectory = try Self.makeRunDirectory(in: layout)
        var kernel = image, imageArguments: [String] = []
        if let address = options.loadAddress {
            guard options.board == .virt else { throw LoadAddressError(description: "a load address of our choosing is tried on --machine virt only") }
            let size = try Self.imageSize(of: image)
            if let problem = BootLayout.loadAddressProblem(address, imageSize: size) { throw LoadAddressError(description: problem) }
            boot = try BootLayout(system: system, board: options.board, image: .init(base: address, size: size))
            if let problem = boot.memoryProblem(host: HostMemory.current()) { throw LoadAddressError(description: problem) }
            kernel = runDirectory.appendingPathComponent("trampoline.bin")
            try Data(BootTrampoline.image(jumpingTo: address)).write(to: kernel)
            imageArguments = ["-device", "loader,file=\(image.path),addr=0x\(String(address, radix: 16)),force-raw=on"]
        }
        var machine = QEMU.Machine()
        machine.board = options.board
        if let dtb = options.board.debianDeviceTree { machine.deviceTree = try LinuxAssets(log: log).deviceTree(dtb) }
        machine.cpu = options.cpu
        machine.gicVersion = options.gicVersion
        machine.cores = options.cores
        machine.ramMiB = boot.machineRAMMiB
        machine.countInstructions = options.countInstructions
        machine.virtualization = options.virtualization
        // At a terminal swiftvisor owns it (raw mode) for the whole run; otherwise whole lines.
        var terminal: Terminal?
        if case .inherit = options.input { terminal = Terminal.standard() }
        let echo = options.echo, log = self.log
        let session = ConsoleSession(guestNames: system.description.guests.map(\.name),
                                     display: terminal.map { .terminal($0) } ?? .lines(echo ? log : nil),
                                     escapeKey: options.escapeKey, logDirectory: runDirectory)
        terminal?.enterRawMode()
        if terminal != nil { session.announceFocus() }
        defer { terminal?.restore() }
        let result = try QEMU.run(qemu: qemu, machine: machine, image: kernel,
                                  extraArguments: imageArguments + (try boot.qemuArguments(writingManifestTo: runDirectory,
                                                                                           bootArguments: options.hypervisorArguments))
                                      + options.extraQEMUArguments,
                                  timeout: options.timeout, input: options.input, session: session)
        terminal?.restore()
        let report = result.report
        var outcome = judge(system: system, report: report, result: result, timeout: options.timeout)
        outcome.logDirectory = runDirectory
        return outcome
    }

    public struct LoadAddressError: Error, CustomStringConvertible {
        public var description: String
    }

    /// image_size from an arm64 Image header (offset 16): the image with .bss, heap and stacks.
    static func imageSize(of image: URL) throws -> UInt64 {
        let header = [UInt8](try Data(contentsOf: image).prefix(64))
        guard header.count == 64, header[56..<60] == [0x41, 0x52, 0x4D, 0x64] else {
            throw LoadAddressError(description: "\(image.path) is not an arm64 Image")
        }
        return (0..<8).reduce(0) { $0 | UInt64(header[16 + $1]) << (8 * $1) }
    }

    /// A new folder for this run's logs under .build/swiftvisor-runs; only the newest 20 are kept.
    static func makeRunDirectory(in layout: ProjectLayout) throws -> URL {
        let runs = layout.root.appendingPathComponent(".build/swiftvisor-runs")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let directory = runs.appendingPathComponent("\(formatter.string(from: Date()))-\(getpid())-\(UInt64(Date().timeIntervalSince1970 * 1000) % 1000)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []).sorted()
        for old in all.dropLast(20) { try? FileManager.default.removeItem(at: runs.appendingPathComponent(old)) }
        return directory
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
            case .destroyed(let why)?:
                text = "destroyed (\(why))"   // the user's choice, not a failure
            case nil where !g.autostart && !report.created.contains(g.name):
                text = "not started (autostart = false, and never created)"   // as described: not a failure
            case nil:
                if result.signal != nil { text = "still running when swiftvisor was interrupted" }
                else if result.timedOut { text = "still running when the \(Int(timeout)) s timeout expired" }
                else if report.lines == 0, let last = result.lines.last { text = "QEMU ended before the hypervisor spoke: \(last)" }
                else { text = "no outcome reported" }
                allGood = false
            }
            summary.append("  \(g.name): \(text)" + (report.kernelPanics[g.name].map { " (it reported: \($0))" } ?? ""))
        }
        let verdict: Verdict
        if let signal = result.signal {
            verdict = .interrupted(signal: signal)
            summary.append("  interrupted: \(Self.signalName(signal)) received; QEMU was stopped")
        } else if let panic = report.panic {
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

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        case SIGQUIT: return "SIGQUIT"
        default: return "signal \(signal)"
        }
    }
}
