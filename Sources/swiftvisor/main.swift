import ArgumentParser
import Foundation
import SwiftvisorCore
import SwiftvisorHost

struct Swiftvisor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A type-1 hypervisor for 64-bit Arm, in Swift: build, check, run and measure it on QEMU.",
        discussion: "Start with `swiftvisor demo`. Every command that boots QEMU builds what is stale first.",
        subcommands: [Run.self, Demo.self, Linux.self, Bench.self, Check.self, Build.self])

    // Our own flag rather than CommandConfiguration.version, which would run git on every start.
    @Flag(help: "Show the version, and the git commit of the repository the tool was built from.")
    var version = false

    func run() throws {
        guard version else { throw CleanExit.helpRequest(self) }
        print(ToolVersion.describe(commit: ToolVersion.commit()))
    }
}

/// `--cpu` and `--cores`: the QEMU machine. Any command that boots QEMU or checks a system
/// against a machine takes this group.
struct MachineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("QEMU CPU model: cortex-a57 (ARMv8.0, no VHE) or max (has VHE).", valueName: "model"))
    var cpu: String = "cortex-a57"

    @Option(help: ArgumentHelp("Physical cores of the QEMU machine (-smp), 1 to \(Limits.cores).", valueName: "n"))
    var cores: Int = 2

    @Flag(help: "Run the hypervisor with HCR_EL2.E2H = 1 (VHE mode, the EL2&0 regime), as it must on CPUs without FEAT_E2H0; needs --cpu max.")
    var vhe = false

    func validate() throws {
        guard ["cortex-a57", "max"].contains(cpu) else { throw ValidationError("--cpu must be cortex-a57 or max, not '\(cpu)'") }
        guard !vhe || cpu == "max" else {
            throw ValidationError("--vhe needs a CPU with VHE: add --cpu max (\(cpu) has no VHE, so the hypervisor can only run with E2H = 0)")
        }
        guard (1...Limits.cores).contains(cores) else {
            throw ValidationError("--cores must be 1 to \(Limits.cores) (swiftvisor runs on at most \(Limits.cores) cores), not \(cores)")
        }
    }
}

/// `--escape`: on the commands that give guests a console.
struct ConsoleOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The key that opens the hypervisor console from a guest's console: ^] (Ctrl-], as xl console), ^A, ^B, ...",
                               valueName: "key"))
    var escape: String = "^]"

    var key: UInt8 { ConsoleSession.escapeKey(named: escape) ?? ConsoleSession.defaultEscape }

    func validate() throws {
        guard let key = ConsoleSession.escapeKey(named: escape), ![0x0D, 0x0A, 0x09, 0x08, 0x03].contains(key) else {
            throw ValidationError("--escape must be a control key a guest rarely needs, such as ^] or ^B, not '\(escape)'")
        }
    }
}

/// The default `--timeout` of one command, as its help states it.
protocol TimeoutDefault { static var help: String { get } }

/// `--timeout`, only on the commands that boot QEMU; each states its own default.
struct TimeoutOption<Default: TimeoutDefault>: ParsableArguments {
    @Option(name: .customLong("timeout"),
            help: ArgumentHelp("Stop QEMU after this many seconds (\(Default.help)).", valueName: "seconds"))
    var seconds: Double?

    func validate() throws {
        if let seconds, seconds <= 0 { throw ValidationError("--timeout must be positive, not \(seconds)") }
    }
}

enum RunTimeout: TimeoutDefault { static let help = "default: 60" }
enum LinuxTimeout: TimeoutDefault { static let help = "default: 300; none when the guests are left at a shell" }
enum BenchTimeout: TimeoutDefault { static let help = "per boot; default: 120, or 300 with --linux" }

func printConfigErrors(_ errors: [ConfigError]) {
    for e in errors { FileHandle.standardError.write(Data("error: \(e)\n".utf8)) }
}

/// Runs a system and exits with its verdict; config errors exit 2 before QEMU starts.
func runSystem(_ config: URL, _ machine: MachineOptions, _ console: ConsoleOptions, timeout: Double) throws {
    var options = SystemRunner.Options()
    options.cpu = machine.cpu
    options.vhe = machine.vhe
    options.cores = machine.cores
    options.timeout = timeout
    options.input = .inherit
    options.escapeKey = console.key
    let runner = SystemRunner()
    do {
        let outcome = try runner.run(config, options: options)
        let headline: String
        switch outcome.verdict {
        case .success: headline = "every guest ended well"
        case .interrupted: headline = "interrupted"
        default: headline = "FAILED"
        }
        print("swiftvisor run: \(headline)")
        outcome.summary.forEach { print($0) }
        if let logs = outcome.logDirectory { print("  consoles: \(logs.path)/NAME.log") }
        throw ExitCode(outcome.verdict.exitStatus)
    } catch let errors as [ConfigError] {
        printConfigErrors(errors)
        throw ExitCode(2)
    }
}

let exitStatuses = """
    At a terminal, swiftvisor owns it: input goes to the focused guest byte for byte; the \
    escape key (Ctrl-], see --escape) opens the hypervisor console (help lists its commands: \
    list, console, shutdown, reboot, destroy, pause, unpause, create, quit). Each guest's \
    console is also kept in NAME.log in the run's folder, printed at the end. \
    Exit status: 0 if every guest powered off with exit code 0 or was ended from the console; \
    1 if a guest failed (non-zero exit code, crash, stopped by the hypervisor); 2 for a bad \
    system description (reported before QEMU starts); 3 on timeout; 4 if the hypervisor \
    panicked; 128+N when signal N (SIGINT, SIGTERM, SIGHUP) stopped the run.
    """

extension Swiftvisor {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Boot the guests a system description (TOML) lists.",
            discussion: "Console lines of the hypervisor and of each guest (\"NAME | ...\") are printed as they come, then a summary of each guest's outcome. \(exitStatuses)")
        @Argument(help: ArgumentHelp("The system description, e.g. examples/demo.toml.", valueName: "system.toml"))
        var system: String
        @OptionGroup var machine: MachineOptions
        @OptionGroup var console: ConsoleOptions
        @OptionGroup var timeout: TimeoutOption<RunTimeout>
        func run() throws { try runSystem(URL(fileURLWithPath: system), machine, console, timeout: timeout.seconds ?? 60) }
    }

    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the built-in demo: two guests that print, make hypercalls and power off.",
            discussion: "The same as `swiftvisor run examples/demo.toml`. \(exitStatuses)")
        @OptionGroup var machine: MachineOptions
        @OptionGroup var console: ConsoleOptions
        @OptionGroup var timeout: TimeoutOption<RunTimeout>
        func run() throws {
            try runSystem(ProjectLayout.current.examples.appendingPathComponent("demo.toml"), machine, console, timeout: timeout.seconds ?? 60)
        }
    }

    struct Linux: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Boot Debian's arm64 Linux kernel with a busybox initramfs in two guests (2 vCPUs each).",
            discussion: """
                Downloads linux-image-*-arm64-unsigned and busybox-static from Debian once, into \
                ~/.cache/swiftvisor (or $SWIFTVISOR_CACHE). At a shell, input goes to the first guest; \
                Ctrl-] opens the hypervisor's console (`console beta` moves input to the other guest; \
                `list`, `help`, `quit`).
                """)
        @OptionGroup var machine: MachineOptions
        @OptionGroup var console: ConsoleOptions
        @OptionGroup var timeout: TimeoutOption<LinuxTimeout>
        @Flag(inversion: .prefixedNo,
              help: "Leave each guest at a shell after its /init report (default at a terminal), or power off after it.")
        var shell: Bool?
        func run() throws {
            let atTerminal = isatty(FileHandle.standardInput.fileDescriptor) != 0
            let interactive = shell ?? atTerminal
            let config = try LinuxSystem.prepare(guests: ["alpha", "beta"], shell: interactive) { print($0) }
            try runSystem(config, machine, console, timeout: timeout.seconds ?? (interactive ? 1e9 : 300))
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a system description without running it: every check `run` makes before QEMU starts.",
            discussion: "Reads every key, builds the built-in guests it names (guest:NAME), checks the guests against the machine (--cpu, --cores) and the host's memory, and reports each error with its file, line and key; exit status 2 if there is any.")
        @Argument(help: ArgumentHelp("The system description to check, e.g. examples/demo.toml.", valueName: "system.toml"))
        var system: String
        @OptionGroup var machine: MachineOptions
        func run() throws {
            do {
                let checked = try SystemRunner().check(URL(fileURLWithPath: system), cores: machine.cores)
                print("\(system): \(checked.system.description.guests.count) guest(s), machine RAM \(checked.boot.machineRAMMiB) MiB, \(machine.cores) core(s), OK")
            } catch let errors as [ConfigError] {
                printConfigErrors(errors)
                throw ExitCode(2)
            }
        }
    }

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the hypervisor image and every built-in guest.",
            discussion: "Prints the path of each image, under .build/swiftvisor-images. Other commands build what they need themselves.")
        func run() throws {
            var builder = ImageBuilder(toolchain: try Toolchain())
            builder.log = { print($0) }
            print(try builder.buildHypervisor().path)
            for g in ProjectLayout.current.builtinGuests { if let url = try builder.buildGuest(g) { print(url.path) } }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure hypercall, PSCI, MMIO, world switch and interrupt round trips in guest instructions.",
            discussion: """
                Boots the bench guest under QEMU -icount shift=0,sleep=off, so the counts repeat exactly \
                from run to run: first on one core (-smp 1, as the reference figures were taken), then, \
                with --cores 2 or more, for the IPI round trip between two cores. Prints what it measured \
                on, then each figure beside Xen 4.17's and KVM 6.1's counts from docs/performance.md and \
                the ratio. Takes a few minutes.
                """)
        @OptionGroup var machine: MachineOptions
        @OptionGroup var timeout: TimeoutOption<BenchTimeout>
        @Flag(help: "Instead: Debian's kernel booted directly on QEMU and as a guest, to the first line of /init.")
        var linux = false
        @Flag(help: "Print one JSON object (environment, figures, references) instead of the text report.")
        var json = false

        func run() throws {
            // Progress goes to standard error, so standard output is only the report (or the JSON).
            let progress: (String) -> Void = { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
            let commit = ToolVersion.commit()
            let lines: [String]
            if linux {
                progress("swiftvisor bench --linux: booting Debian's kernel directly, then as a guest (\(machine.cpu)\(machine.vhe ? " --vhe" : ""), -smp \(machine.cores))...")
                let boots = try Benchmark.linux(cpu: machine.cpu, vhe: machine.vhe, cores: machine.cores, timeout: timeout.seconds ?? 300, log: progress)
                let report = LinuxBootReport(environment: .collect(cpu: machine.cpu, commit: commit, consoleLines: boots.lines),
                                             cores: machine.cores, direct: boots.direct, guest: boots.guest)
                lines = json ? [report.json] : report.text
            } else {
                progress("swiftvisor bench: booting the bench guests (\(machine.cpu)\(machine.vhe ? " --vhe" : ""), -smp 1\(machine.cores >= 2 ? ", then -smp \(machine.cores)" : ""))...")
                let runs = try Benchmark.run(cpu: machine.cpu, vhe: machine.vhe, cores: machine.cores, timeout: timeout.seconds ?? 120)
                let report = BenchReport(environment: .collect(cpu: machine.cpu, commit: commit, consoleLines: runs.flatMap(\.lines)), runs: runs)
                lines = json ? [report.json] : report.text
            }
            lines.forEach { print($0) }
        }
    }
}

// Console lines reach a pipe (`swiftvisor run ... | tee`) as they come, not in 4 KiB blocks.
setvbuf(stdout, nil, _IOLBF, 0)
Swiftvisor.main()
