import ArgumentParser
import Foundation
import SwiftvisorCore
import SwiftvisorHost

struct Swiftvisor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A type-1 hypervisor for 64-bit Arm, in Swift: build, check, run and measure it on QEMU.",
        subcommands: [Run.self, Demo.self, Linux.self, Bench.self, Check.self, Build.self])
}

/// The machine QEMU emulates: the same options for `check` and for everything that runs it.
struct MachineOptions: ParsableArguments {
    @Option(help: "QEMU CPU model: cortex-a57 (ARMv8.0, no VHE) or max (has VHE).")
    var cpu: String = "cortex-a57"

    @Option(help: "Physical cores of the machine (QEMU -smp), 1 to \(Limits.cores).")
    var cores: Int = 2

    func validate() throws {
        guard ["cortex-a57", "max"].contains(cpu) else { throw ValidationError("--cpu must be cortex-a57 or max, not '\(cpu)'") }
        guard (1...Limits.cores).contains(cores) else {
            throw ValidationError("--cores must be 1 to \(Limits.cores) (swiftvisor runs on at most \(Limits.cores) cores), not \(cores)")
        }
    }
}

struct TimeoutOption: ParsableArguments {
    @Option(help: "Stop QEMU after this many seconds (default 60; for `linux` at a shell, none).")
    var timeout: Double?

    func validate() throws {
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }
}

func printConfigErrors(_ errors: [ConfigError]) {
    for e in errors { FileHandle.standardError.write(Data("error: \(e)\n".utf8)) }
}

/// Runs a system and exits with its verdict; config errors exit 2 before QEMU starts.
func runSystem(_ config: URL, _ machine: MachineOptions, _ timeout: TimeoutOption, defaultTimeout: Double = 60) throws {
    var options = SystemRunner.Options()
    options.cpu = machine.cpu
    options.cores = machine.cores
    options.timeout = timeout.timeout ?? defaultTimeout
    options.input = .inherit
    let runner = SystemRunner()
    do {
        let outcome = try runner.run(config, options: options)
        print("swiftvisor run: \(outcome.verdict == .success ? "every guest powered off with exit code 0" : "FAILED")")
        outcome.summary.forEach { print($0) }
        throw ExitCode(outcome.verdict.exitStatus)
    } catch let errors as [ConfigError] {
        printConfigErrors(errors)
        throw ExitCode(2)
    }
}

extension Swiftvisor {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Boot the guests a system description (TOML) lists.")
        @Argument(help: "The system description, e.g. examples/demo.toml.") var system: String
        @OptionGroup var machine: MachineOptions
        @OptionGroup var timeout: TimeoutOption
        func run() throws { try runSystem(URL(fileURLWithPath: system), machine, timeout) }
    }

    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the built-in demo: two guests that print, make hypercalls and power off.")
        @OptionGroup var machine: MachineOptions
        @OptionGroup var timeout: TimeoutOption
        func run() throws { try runSystem(ProjectLayout.current.examples.appendingPathComponent("demo.toml"), machine, timeout) }
    }

    struct Linux: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Boot Debian's arm64 Linux kernel with a busybox initramfs in two guests (2 vCPUs each).",
            discussion: "Downloads linux-image-*-arm64-unsigned and busybox-static from Debian once, into ~/.cache/swiftvisor (or $SWIFTVISOR_CACHE).")
        @OptionGroup var machine: MachineOptions
        @OptionGroup var timeout: TimeoutOption
        @Flag(inversion: .prefixedNo,
              help: "Leave each guest at a shell after its /init report (default at a terminal), or power off after it.")
        var shell: Bool?
        func run() throws {
            let atTerminal = isatty(FileHandle.standardInput.fileDescriptor) != 0
            let interactive = shell ?? atTerminal
            let config = try LinuxSystem.prepare(guests: ["alpha", "beta"], shell: interactive) { print($0) }
            try runSystem(config, machine, timeout, defaultTimeout: interactive ? 1e9 : 300)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a system description without running it: every check `run` makes before QEMU starts.")
        @Argument(help: "The system description, e.g. examples/demo.toml.") var system: String
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
        static let configuration = CommandConfiguration(abstract: "Build the hypervisor image and every built-in guest.")
        func run() throws {
            var builder = ImageBuilder(toolchain: try Toolchain())
            builder.log = { print($0) }
            print(try builder.buildHypervisor().path)
            for g in ProjectLayout.current.builtinGuests { if let url = try builder.buildGuest(g) { print(url.path) } }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Measure hypercall, PSCI and MMIO round trips in guest instructions (-icount shift=0).")
        @OptionGroup var machine: MachineOptions
        @OptionGroup var timeout: TimeoutOption
        @Flag(help: "Instead: Debian's kernel booted directly on QEMU and as a guest, to the first line of /init.")
        var linux = false
        func run() throws {
            if linux {
                let (direct, guest) = try Benchmark.linux(cpu: machine.cpu, cores: machine.cores,
                                                          timeout: timeout.timeout ?? 300) { print($0) }
                print("linux_boot_to_init_direct: \(direct.instructions) instructions (\(String(format: "%.1f", direct.seconds)) s)")
                print("linux_boot_to_init_swiftvisor: \(guest.instructions) instructions (\(String(format: "%.1f", guest.seconds)) s)")
                print("linux_boot_ratio: \(String(format: "%.3f", Double(guest.instructions) / Double(direct.instructions))) (instructions), \(String(format: "%.2f", guest.seconds / direct.seconds)) (time)")
                return
            }
            let figures = try Benchmark.run(cpu: machine.cpu, cores: machine.cores, timeout: timeout.timeout ?? 120)
            for f in figures { print("\(f.name): \(f.value) instructions") }
        }
    }
}

Swiftvisor.main()
