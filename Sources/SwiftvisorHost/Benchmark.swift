import Foundation

/// `swiftvisor bench`: boots the bench guest under -icount shift=0 and collects the
/// `NAME: VALUE instructions` lines it prints.
public enum Benchmark {
    public struct Figure: Equatable { public var name: String; public var value: Int }

    /// One boot of a bench system: the physical cores it had (QEMU -smp), the figures its guest
    /// printed, and the whole console (the hypervisor's banner says which EL2 mode it ran in).
    public struct Run {
        public var cores: Int
        public var figures: [Figure]
        public var lines: [String]
    }

    public struct Failed: Error, CustomStringConvertible {
        public var description: String
    }

    /// The single-core figures run with one physical core (two guests must share it for the
    /// world switch; the reference figures were taken that way); with `cores` >= 2 a second
    /// run measures the IPI round trip between vCPUs on two physical cores.
    /// `machine`: the board, CPU, GIC and EL2 mode (a board's cores are fixed: both runs use all
    /// of them, with the single-core figures' guests pinned to core 0).
    public static func run(machine: SystemRunner.Options, timeout: Double, layout: ProjectLayout = .current) throws -> [Run] {
        let cores = machine.board.fixedCores ?? machine.cores
        var runs = [try measure("bench.toml", machine: machine, cores: machine.board.fixedCores ?? 1, timeout: timeout, layout: layout)]
        if cores >= 2 {
            runs.append(try measure("bench-smp.toml", machine: machine, cores: cores, timeout: timeout, layout: layout))
        }
        return runs
    }

    static func measure(_ system: String, machine: SystemRunner.Options, cores: Int, timeout: Double, layout: ProjectLayout) throws -> Run {
        var options = machine
        options.cores = cores
        options.timeout = timeout
        options.countInstructions = true
        options.echo = false
        let outcome = try SystemRunner(layout: layout, log: { _ in })
            .run(layout.examples.appendingPathComponent(system), options: options)
        try RunInterrupted.check(outcome)
        let figures = parse(outcome.report.guestLines["bench"] ?? [])
        guard outcome.verdict == .success, !figures.isEmpty else {
            throw Failed(description: "the bench guest did not finish:\n" + (outcome.summary + outcome.lines.suffix(20)).joined(separator: "\n"))
        }
        return Run(cores: cores, figures: figures, lines: outcome.lines)
    }

    /// `bench --linux`: Debian's kernel and the same initramfs booted (a) directly on QEMU `virt`
    /// and (b) as a swiftvisor guest, with the same vCPUs and memory, under -icount shift=0:
    /// instructions (all cores) and wall time from power-on to the first line of /init.
    public struct LinuxBoot {
        public var instructions: UInt64; public var seconds: Double
        /// As a guest: the instructions before its VM was built (the hypervisor's own boot; the
        /// counter offset is taken as the VM is created, before its RAM is zeroed).
        public var beforeGuest: UInt64? = nil
    }

    /// Both boots, and the guest run's console (for the hypervisor's banner).
    public static func linux(machine template: SystemRunner.Options, timeout: Double, log: @escaping (String) -> Void)
        throws -> (direct: LinuxBoot, guest: LinuxBoot, lines: [String]) {
        guard template.board == .virt else {
            throw Failed(description: "bench --linux runs on --machine virt only: Debian's kernel booted directly on \(template.board.rawValue)'s model stops at devices QEMU does not model (shared/PLATFORM.md)")
        }
        let cpu = template.cpu, cores = template.cores
        let (kernel, initramfs) = try LinuxSystem.assets(log: log)
        let marker = "swiftvisor-init: counter at /init: "
        // Counter ticks -> instructions: -icount shift=0 is one instruction per ns; CNTFRQ 62.5 MHz.
        let instructionsPerTick: UInt64 = 16

        var machine = QEMU.Machine()
        machine.cpu = cpu; machine.gicVersion = template.gicVersion; machine.cores = cores; machine.ramMiB = 256; machine.countInstructions = true
        machine.virtualization = false
        let qemu = try QEMU.locate(log: log)
        var firstInit: Date?
        let start = Date()
        let direct = try QEMU.run(qemu: qemu, machine: machine, image: kernel,
                                  extraArguments: ["-initrd", initramfs.path, "-append", "console=ttyAMA0"],
                                  timeout: timeout, session: ConsoleSession(guestNames: [], display: .lines { line in
                                      if firstInit == nil, line.contains(marker) { firstInit = Date() } }, logDirectory: nil))
        if let signal = direct.signal { throw RunInterrupted(signal: signal) }
        guard let directTicks = direct.lines.lazy.compactMap({ line -> UInt64? in
            line.range(of: marker).flatMap { UInt64(line[$0.upperBound...].prefix { $0.isNumber }) } }).first,
              let directAt = firstInit else {
            throw Failed(description: "the direct boot did not reach /init:\n" + direct.lines.suffix(20).joined(separator: "\n"))
        }

        let config = try LinuxSystem.prepare(guests: ["bench"]) { _ in }
        var options = template
        options.timeout = timeout
        options.countInstructions = true; options.echo = false
        var guestAt: Date?
        let guestStart = Date()
        let outcome = try SystemRunner(log: { line in if guestAt == nil, line.contains(marker) { guestAt = Date() } })
            .run(config, options: withEcho(options))
        try RunInterrupted.check(outcome)
        guard let line = outcome.report.guestLines["bench"]?.first(where: { $0.contains(marker) }),
              let r = line.range(of: marker), let guestTicks = UInt64(line[r.upperBound...].prefix { $0.isNumber }),
              let offset = outcome.report.counterOffsets["bench"], let at = guestAt else {
            throw Failed(description: "the guest boot did not reach /init:\n" + outcome.lines.suffix(20).joined(separator: "\n"))
        }
        return (LinuxBoot(instructions: directTicks * instructionsPerTick, seconds: directAt.timeIntervalSince(start)),
                LinuxBoot(instructions: (offset + guestTicks) * instructionsPerTick, seconds: at.timeIntervalSince(guestStart),
                          beforeGuest: offset * instructionsPerTick),
                outcome.lines)
    }

    /// Console lines go to the runner's log (where the caller spots /init's first line).
    static func withEcho(_ o: SystemRunner.Options) -> SystemRunner.Options { var c = o; c.echo = true; return c }

    /// Lines such as "hypercall: 312 instructions".
    public static func parse(_ lines: [String]) -> [Figure] {
        lines.compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0].hasSuffix(":"), parts[2] == "instructions", let v = Int(parts[1]) else { return nil }
            return Figure(name: String(parts[0].dropLast()), value: v)
        }
    }
}
