import Foundation

/// `swiftvisor bench`: boots the bench guest under -icount shift=0 and collects the
/// `NAME: VALUE instructions` lines it prints.
public enum Benchmark {
    public struct Figure: Equatable { public var name: String; public var value: Int }

    public struct Failed: Error, CustomStringConvertible {
        public var description: String
    }

    /// The single-core figures run with one physical core (two guests must share it for the
    /// world switch; the reference figures were taken that way); with `cores` >= 2 a second
    /// run measures the IPI round trip between vCPUs on two physical cores.
    public static func run(cpu: String, cores: Int, timeout: Double, layout: ProjectLayout = .current) throws -> [Figure] {
        var figures = try measure("bench.toml", cpu: cpu, cores: 1, timeout: timeout, layout: layout)
        if cores >= 2 {
            figures += try measure("bench-smp.toml", cpu: cpu, cores: cores, timeout: timeout, layout: layout)
        }
        return figures
    }

    static func measure(_ system: String, cpu: String, cores: Int, timeout: Double, layout: ProjectLayout) throws -> [Figure] {
        var options = SystemRunner.Options()
        options.cpu = cpu
        options.cores = cores
        options.timeout = timeout
        options.countInstructions = true
        options.echo = false
        let outcome = try SystemRunner(layout: layout, log: { _ in })
            .run(layout.examples.appendingPathComponent(system), options: options)
        let figures = parse(outcome.report.guestLines["bench"] ?? [])
        guard outcome.verdict == .success, !figures.isEmpty else {
            throw Failed(description: "the bench guest did not finish:\n" + (outcome.summary + outcome.lines.suffix(20)).joined(separator: "\n"))
        }
        return figures
    }

    /// Lines such as "hypercall: 312 instructions".
    public static func parse(_ lines: [String]) -> [Figure] {
        lines.compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0].hasSuffix(":"), parts[2] == "instructions", let v = Int(parts[1]) else { return nil }
            return Figure(name: String(parts[0].dropLast()), value: v)
        }
    }
}
