import Foundation

/// What `swiftvisor bench --net` prints: what it measured on, then each figure between the two
/// guests and over loopback inside the frontend; or one JSON object (`--json`).
public struct NetBenchReport {
    public var environment: BenchEnvironment
    /// QEMU -smp of both boots.
    public var cores: Int
    /// The -icount boot and the wall-time boot.
    public var counted: NetBenchmark.Boot
    public var wall: NetBenchmark.Boot

    public init(environment: BenchEnvironment, cores: Int, counted: NetBenchmark.Boot, wall: NetBenchmark.Boot) {
        self.environment = environment
        self.cores = cores
        self.counted = counted
        self.wall = wall
    }

    static var peer: String { NetBenchmark.network.address(NetBenchmark.network.driverDomain) }

    /// One figure, between the guests and over loopback.
    struct Pair: Encodable { var betweenGuests: Double; var loopback: Double }

    /// Under -icount shift=0 one ns of guest time is one instruction (all cores together);
    /// busybox ping's average has 1 µs resolution, so 1000 instructions.
    var pingInstructions: Pair {
        Pair(betweenGuests: Double((counted.pingMicroseconds[Self.peer] ?? 0) * 1000),
             loopback: Double((counted.pingMicroseconds[NetBenchmark.loopback] ?? 0) * 1000))
    }
    var tcpInstructionsPerByte: Pair {
        Pair(betweenGuests: counted.nanosecondsPerByte(Self.peer) ?? 0, loopback: counted.nanosecondsPerByte(NetBenchmark.loopback) ?? 0)
    }
    var tcpMegabytesPerSecond: Pair {
        Pair(betweenGuests: wall.megabytesPerSecond(Self.peer) ?? 0, loopback: wall.megabytesPerSecond(NetBenchmark.loopback) ?? 0)
    }
    var pingWallMicroseconds: Pair {
        Pair(betweenGuests: Double(wall.pingMicroseconds[Self.peer] ?? 0), loopback: Double(wall.pingMicroseconds[NetBenchmark.loopback] ?? 0))
    }
    /// The frontend's idle share during the streams of the -icount boot: time that, if the
    /// driver domain idled too, -icount's sleep=off warped rather than executed.
    var tcpIdlePercent: Pair? {
        guard let g = counted.tcpIdlePercent[Self.peer], let l = counted.tcpIdlePercent[NetBenchmark.loopback] else { return nil }
        return Pair(betweenGuests: g, loopback: l)
    }
    var streamBytes: UInt64 { counted.tcp[Self.peer]?.bytes ?? 0 }

    public static let unit = "guest instructions under -icount shift=0 (all cores), and wall time without -icount"

    public var text: [String] {
        let net = NetBenchmark.network
        var table = TextTable([.init("figure"), .init("between guests", .right), .init("loopback", .right)])
        func row(_ name: String, _ p: Pair, _ format: String) {
            table.add([name, String(format: format, p.betweenGuests), String(format: format, p.loopback)])
        }
        table.add(["ping round trip, instructions", UInt64(pingInstructions.betweenGuests).grouped, UInt64(pingInstructions.loopback).grouped])
        row("TCP stream, instructions per byte", tcpInstructionsPerByte, "%.1f")
        if let idle = tcpIdlePercent { row("TCP stream, frontend idle % (-icount)", idle, "%.0f") }
        row("TCP stream, MB/s (wall time)", tcpMegabytesPerSecond, "%.1f")
        row("ping round trip, µs (wall time)", pingWallMicroseconds, "%.0f")
        return ["swiftvisor bench --net: \(Self.unit)", "", "Measured on"] + environment.lines + [
            "  guests      \(net.driverDomain) (driver domain, \(Self.peer), netback + bridge) and \(NetBenchmark.frontend) (frontend, \(net.address(NetBenchmark.frontend)), netfront),",
            "              \(NetBenchmark.vcpus) vCPU and 256 MiB each, -smp \(cores); Debian's arm64 kernel, busybox ping and nc",
            "",
        ] + table.render() + [
            "",
            "between guests: \(NetBenchmark.frontend) -> \(net.driverDomain) over Xen PV networking; loopback: 127.0.0.1 inside \(NetBenchmark.frontend).",
            "ping: busybox ping's average of 10 (1 µs resolution: 1,000 instructions). TCP: \(streamBytes.grouped) bytes with busybox nc,",
            "from connect until the receiver closed, timed with the guest's counter. No reference figures (docs/performance.md).",
        ]
    }

    struct JSONReport: Encodable {
        var unit: String
        var environment: BenchEnvironment
        var cores: Int
        var vcpusPerGuest: Int
        var streamBytes: UInt64
        var figures: [String: Pair]
    }

    /// One JSON object; figures by name, each `between_guests` and `loopback`.
    public var json: String {
        func rounded(_ p: Pair, _ scale: Double) -> Pair {
            Pair(betweenGuests: (p.betweenGuests * scale).rounded() / scale, loopback: (p.loopback * scale).rounded() / scale)
        }
        return BenchReport.encode(JSONReport(
            unit: Self.unit, environment: environment, cores: cores, vcpusPerGuest: NetBenchmark.vcpus, streamBytes: streamBytes,
            figures: ["ping_round_trip_instructions": pingInstructions,
                      "tcp_instructions_per_byte": rounded(tcpInstructionsPerByte, 10),
                      "tcp_wall_megabytes_per_second": rounded(tcpMegabytesPerSecond, 10),
                      "ping_round_trip_wall_microseconds": pingWallMicroseconds].merging(
                        tcpIdlePercent.map { ["tcp_frontend_idle_percent": rounded($0, 1)] } ?? [:]) { a, _ in a }))
    }
}
