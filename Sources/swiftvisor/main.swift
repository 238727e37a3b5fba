import ArgumentParser
import Foundation
import SwiftvisorCore
import SwiftvisorHost

struct Swiftvisor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A type-1 hypervisor for 64-bit Arm, in Swift: build, check, run and measure it on QEMU.",
        discussion: "Start with `swiftvisor demo`. Every command that boots QEMU builds what is stale first.",
        subcommands: [Run.self, Demo.self, Linux.self, Bench.self, Check.self, Build.self, Bundle.self])

    // Our own flag rather than CommandConfiguration.version, which would run git on every start.
    @Flag(help: "Show the version, and the git commit of the repository the tool was built from.")
    var version = false

    func run() throws {
        guard version else { throw CleanExit.helpRequest(self) }
        print(ToolVersion.describe(commit: ToolVersion.commit()))
    }
}

/// `--machine`, `--gic`, `--cpu`, `--cores`, `--vhe`: the QEMU machine. Any command that boots
/// QEMU or checks a system against a machine takes this group.
struct MachineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("QEMU machine: virt (generic; default), raspi4b (Raspberry Pi 4B) or zcu102 (Xilinx ZCU102). The boards need QEMU 9 or later; with an older system QEMU swiftvisor fetches Debian's bookworm-backports QEMU into its cache.",
                               valueName: "board"))
    var machine: String = Board.virt.rawValue

    @Option(help: ArgumentHelp("GIC version of --machine virt: 3 (GICv3; default) or 2 (GICv2, as a GIC-400). The boards have a GIC-400.", valueName: "version"))
    var gic: Int?

    @Option(help: ArgumentHelp("QEMU CPU model of --machine virt: cortex-a53, cortex-a57 (default), cortex-a72 (ARMv8.0, no VHE) or max (has VHE).",
                               valueName: "model"))
    var cpu: String?

    @Option(help: ArgumentHelp("Physical cores of --machine virt (-smp), 1 to \(Limits.cores); default 2. The boards have 4.", valueName: "n"))
    var cores: Int?

    @Flag(help: "Run the hypervisor with HCR_EL2.E2H = 1 (VHE mode, the EL2&0 regime), as it must on CPUs without FEAT_E2H0; needs --cpu max.")
    var vhe = false

    static let virtCPUs = ["cortex-a53", "cortex-a57", "cortex-a72", "max"]

    var board: Board { Board(rawValue: machine) ?? .virt }
    var cpuModel: String { cpu ?? board.fixedCPU ?? "cortex-a57" }
    var coreCount: Int { board.fixedCores ?? cores ?? 2 }
    var gicVersion: Int { gic ?? (board == .virt ? 3 : 2) }
    /// "virt, cortex-a57, GICv3" or "raspi4b": for progress lines.
    var summary: String {
        board == .virt ? "virt, \(cpuModel), GICv\(gicVersion)\(vhe ? ", --vhe" : "")" : board.rawValue
    }

    func validate() throws {
        guard let board = Board(rawValue: machine) else {
            throw ValidationError("--machine must be one of \(Board.allCases.map(\.rawValue).joined(separator: ", ")), not '\(machine)'")
        }
        if let problem = board.optionProblem(gicVersion: gic, cpu: cpu, cores: cores, vhe: vhe) { throw ValidationError(problem) }
        if let gic, ![2, 3].contains(gic) { throw ValidationError("--gic must be 2 or 3, not \(gic)") }
        if let cpu, !Self.virtCPUs.contains(cpu) {
            throw ValidationError("--cpu must be one of \(Self.virtCPUs.joined(separator: ", ")), not '\(cpu)'")
        }
        guard !vhe || cpuModel == "max" else {
            throw ValidationError("--vhe needs a CPU with VHE: add --cpu max (\(cpuModel) has no VHE, so the hypervisor can only run with E2H = 0)")
        }
        if let cores, !(1...Limits.cores).contains(cores) {
            throw ValidationError("--cores must be 1 to \(Limits.cores) (swiftvisor runs on at most \(Limits.cores) cores), not \(cores)")
        }
    }

    /// Applies these choices to a run's options.
    func apply(to options: inout SystemRunner.Options) {
        options.board = board
        options.cpu = cpuModel
        options.gicVersion = gicVersion
        options.vhe = vhe
        options.cores = coreCount
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
enum LinuxTimeout: TimeoutDefault { static let help = "default: 600; none when the guests are left at a shell" }
enum BenchTimeout: TimeoutDefault { static let help = "per boot; default: 120, 300 with --linux, 900 with --net" }

func printConfigErrors(_ errors: [ConfigError]) {
    for e in errors { FileHandle.standardError.write(Data("error: \(e)\n".utf8)) }
}

/// Runs a system and exits with its verdict; config errors exit 2 before QEMU starts.
func runSystem(_ config: URL, _ machine: MachineOptions, _ console: ConsoleOptions, timeout: Double) throws {
    var options = SystemRunner.Options()
    machine.apply(to: &options)
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
            abstract: "Boot Debian's arm64 Linux kernel with a busybox initramfs in three guests (2 vCPUs each) with a network and a disk between them.",
            discussion: """
                Downloads linux-image-*-arm64-unsigned and busybox-static from Debian once, into \
                ~/.cache/swiftvisor (or $SWIFTVISOR_CACHE). alpha is the driver domain: its bridge \
                xenbr0 (10.0.0.1) joins the Xen PV network interfaces of beta (10.0.0.2) and gamma \
                (10.0.0.3), and it serves beta's PV disk xvda (mounted on /mnt in beta) from a file. \
                At a shell, input goes to the first guest; Ctrl-] opens the hypervisor's console \
                (`console beta` moves input to another guest; `list`, `help`, `quit`). alpha's \
                console is its PL011 (ttyAMA0), beta's is Xen's PV console (console=hvc0, served \
                by the hypervisor).
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
            let network = LinuxNetwork.standard
            let config = try LinuxSystem.prepare(guests: network.guests, shell: interactive, hvc0: ["beta"],
                                                 extraArguments: LinuxNetwork.merge(LinuxSystem.xenmeetPair, network.arguments),
                                                 keys: network.keys) { print($0) }
            try runSystem(config, machine, console, timeout: timeout.seconds ?? (interactive ? 1e9 : 600))
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
                let checked = try SystemRunner().check(URL(fileURLWithPath: system), board: machine.board, cores: machine.coreCount)
                let description = checked.system.description
                print("\(system): \(description.guests.count) guest(s)\(DeviceSummary.count(description)), machine RAM \(checked.boot.machineRAMMiB) MiB, \(machine.coreCount) core(s) (\(machine.summary)), OK")
                for line in DeviceSummary.lines(description) { print(line) }
                for line in SchedulingSummary.lines(description) { print(line) }
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

    struct Bundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the files a board's own boot loader needs to start swiftvisor with a system's guests.",
            discussion: """
                Checks the system as `run` does, then writes into the output folder: swiftvisor.bin \
                (the hypervisor Image), swiftvisor-modules.bin (the boot manifest and every guest's \
                kernel and ramdisk, loaded at one address), the board's device tree, and the boot \
                loader's files: config.txt and cmdline.txt for the Raspberry Pi firmware (raspi4b), \
                boot.cmd for U-Boot (zcu102), qemu.sh for virt. docs/boards.md says where they go.
                """)
        @Argument(help: ArgumentHelp("The system description, e.g. examples/demo.toml.", valueName: "system.toml"))
        var system: String
        @OptionGroup var machine: MachineOptions
        @Option(name: .shortAndLong, help: ArgumentHelp("The folder to write (created if missing).", valueName: "folder"))
        var output: String

        func run() throws {
            do {
                let checked = try SystemRunner().check(URL(fileURLWithPath: system), board: machine.board, cores: machine.coreCount, host: nil)
                var builder = ImageBuilder(toolchain: try Toolchain())
                builder.log = { print($0) }
                let image = try builder.buildHypervisor()
                // The Pi's firmware brings its own device tree (with the overlays config.txt asks
                // for); U-Boot on the ZCU102 is given Debian's.
                let dtb = machine.board == .raspi4b ? nil
                    : try machine.board.debianDeviceTree.map { try LinuxAssets(log: { print($0) }).deviceTree($0) }
                let bundle = BootBundle(board: machine.board, boot: checked.boot, image: image, deviceTree: dtb)
                let folder = URL(fileURLWithPath: output)
                let files = try bundle.write(to: folder)
                print("\(folder.path): \(files.joined(separator: ", ")) for \(machine.board.title); the modules load at 0x\(String(checked.boot.manifestAddress, radix: 16)), the Image at 0x\(String(bundle.imageAddress, radix: 16)) (docs/boards.md)")
            } catch let errors as [ConfigError] {
                printConfigErrors(errors)
                throw ExitCode(2)
            }
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
                the ratio. Takes a few minutes. --linux and --net boot Linux guests instead (docs/performance.md).
                """)
        @OptionGroup var machine: MachineOptions
        @OptionGroup var timeout: TimeoutOption<BenchTimeout>
        @Flag(help: "Instead: Debian's kernel booted directly on QEMU and as a guest, to the first line of /init.")
        var linux = false
        @Flag(help: "Instead: two Linux guests (a driver domain and a frontend, 1 vCPU each): ping round trips and TCP streams between them and over loopback, in instructions under -icount and MB/s in wall time.")
        var net = false
        @Flag(help: "Print one JSON object (environment, figures, references) instead of the text report.")
        var json = false

        func validate() throws {
            if net && linux { throw ValidationError("--net and --linux are two different benchmarks: run one, then the other") }
        }

        func run() throws {
            // Progress goes to standard error, so standard output is only the report (or the JSON).
            let progress: (String) -> Void = { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
            do {
                try measure(progress)
            } catch let stop as RunInterrupted {
                // SIGTERM/SIGINT/SIGHUP while QEMU ran: it was stopped; no figures, no next boot.
                progress("swiftvisor bench: \(stop)")
                throw ExitCode(stop.exitStatus)
            }
        }

        func measure(_ progress: @escaping (String) -> Void) throws {
            let commit = ToolVersion.commit()
            var options = SystemRunner.Options()
            machine.apply(to: &options)
            let lines: [String]
            if net {
                progress("swiftvisor bench --net: booting a driver domain and a frontend twice, under -icount and without (\(machine.summary), -smp \(machine.coreCount))...")
                let boots = try NetBenchmark.run(machine: options, timeout: timeout.seconds ?? 900, log: progress)
                let report = NetBenchReport(environment: .collect(machine: options, commit: commit, consoleLines: boots.lines),
                                            cores: machine.coreCount, counted: boots.counted, wall: boots.wall)
                lines = json ? [report.json] : report.text
            } else if linux {
                progress("swiftvisor bench --linux: booting Debian's kernel directly, then as a guest (\(machine.summary), -smp \(machine.coreCount))...")
                let boots = try Benchmark.linux(machine: options, timeout: timeout.seconds ?? 300, log: progress)
                let report = LinuxBootReport(environment: .collect(machine: options, commit: commit, consoleLines: boots.lines),
                                             cores: machine.coreCount, direct: boots.direct, guest: boots.guest)
                lines = json ? [report.json] : report.text
            } else {
                let first = machine.board.fixedCores.map { "-smp \($0), pinned to core 0" } ?? "-smp 1"
                progress("swiftvisor bench: booting the bench guests (\(machine.summary), \(first)\(machine.coreCount >= 2 ? ", then -smp \(machine.coreCount)" : ""))...")
                let runs = try Benchmark.run(machine: options, timeout: timeout.seconds ?? 120)
                let report = BenchReport(environment: .collect(machine: options, commit: commit, consoleLines: runs.flatMap(\.lines)), runs: runs)
                lines = json ? [report.json] : report.text
            }
            lines.forEach { print($0) }
        }
    }
}

// Console lines reach a pipe (`swiftvisor run ... | tee`) as they come, not in 4 KiB blocks.
setvbuf(stdout, nil, _IOLBF, 0)
Swiftvisor.main()
