import Foundation

/// `swiftvisor bench --net` (issue 10 §5): two Linux guests with one vCPU each, a driver domain
/// (`benchdd`, 10.0.0.1, netback and the bridge) and a frontend (`benchfe`, 10.0.0.2, netfront),
/// booted twice: under `-icount shift=0,sleep=off` (one instruction per ns of guest time: ping
/// round trips and TCP streams in instructions) and without it (the guest's counter follows the
/// host's clock: TCP in MB/s of wall time). The frontend measures (LinuxNetworkScripts' `bench`
/// role): busybox ping's average and a 32 MiB busybox nc stream timed with the counter, each to
/// the driver domain and over its own loopback.
public enum NetBenchmark {
    public static let network = LinuxNetwork(guests: ["benchdd", "benchfe"], disks: [])
    public static var frontend: String { network.guests[1] }
    public static let loopback = "127.0.0.1"
    public static let vcpus = 1

    /// The frontend's lines, after "swiftvisor-init: net: bench: ".
    public enum Line: Equatable {
        /// "counter 62.50 MHz": CNTFRQ as the kernel reported it.
        case counter(kHz: UInt64)
        /// "ping 10.0.0.1: round-trip min/avg/max = 0.123/0.456/0.789 ms": the average.
        case ping(target: String, averageMicroseconds: UInt64)
        /// "tcp 10.0.0.1: 33554432 bytes in 123456 ticks".
        case tcp(target: String, bytes: UInt64, ticks: UInt64)
        /// "tcp 10.0.0.1: idle 3 of 125 cpu ticks": the frontend's idle time during the stream
        /// (/proc/stat, USER_HZ).
        case tcpIdle(target: String, idle: UInt64, total: UInt64)
        case done

        public static let prefix = "swiftvisor-init: net: bench: "

        public init?(_ line: String) {
            guard let r = line.range(of: Self.prefix) else { return nil }
            let text = line[r.upperBound...]
            let words = text.split(separator: " ")
            if text == "done" {
                self = .done
            } else if words.count == 3, words[0] == "counter", words[2] == "MHz", let kHz = Self.thousandths(words[1]) {
                self = .counter(kHz: kHz)
            } else if words.count == 7, words[0] == "ping", words[1].hasSuffix(":"), words[3] == "min/avg/max", words[6] == "ms" {
                let values = words[5].split(separator: "/")
                guard values.count == 3, let avg = Self.thousandths(values[1]) else { return nil }
                self = .ping(target: String(words[1].dropLast()), averageMicroseconds: avg)
            } else if words.count == 8, words[0] == "tcp", words[1].hasSuffix(":"), words[2] == "idle", words[4] == "of", words[6] == "cpu",
                      let idle = UInt64(words[3]), let total = UInt64(words[5]) {
                self = .tcpIdle(target: String(words[1].dropLast()), idle: idle, total: total)
            } else if words.count == 7, words[0] == "tcp", words[1].hasSuffix(":"), words[3] == "bytes", words[4] == "in", words[6] == "ticks",
                      let bytes = UInt64(words[2]), let ticks = UInt64(words[5]) {
                self = .tcp(target: String(words[1].dropLast()), bytes: bytes, ticks: ticks)
            } else {
                return nil
            }
        }

        /// "0.456" -> 456, "62.50" -> 62500, "3" -> 3000 (busybox prints at most 3 decimals).
        static func thousandths(_ s: Substring) -> UInt64? {
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let whole = UInt64(parts[0]) else { return nil }
            let fraction = parts.count == 2 ? parts[1] : ""
            guard fraction.count <= 3, fraction.allSatisfy(\.isNumber) else { return nil }
            return whole * 1000 + (UInt64(fraction.padding(toLength: 3, withPad: "0", startingAt: 0)) ?? 0)
        }
    }

    /// One boot's measurements, by target (the driver domain's address or 127.0.0.1).
    public struct Boot: Equatable {
        public var counterKHz: UInt64
        public var pingMicroseconds: [String: UInt64]
        public var tcp: [String: (bytes: UInt64, ticks: UInt64)]
        /// The frontend's idle share of its CPU time during each stream, in percent (absent when
        /// the guest did not say).
        public var tcpIdlePercent: [String: Double] = [:]

        public static func == (a: Boot, b: Boot) -> Bool {
            a.counterKHz == b.counterKHz && a.pingMicroseconds == b.pingMicroseconds
                && a.tcp.mapValues { [$0.bytes, $0.ticks] } == b.tcp.mapValues { [$0.bytes, $0.ticks] } && a.tcpIdlePercent == b.tcpIdlePercent
        }

        /// Nanoseconds of guest time (instructions under -icount shift=0) for counter ticks.
        public func nanoseconds(ticks: UInt64) -> Double { Double(ticks) * 1_000_000 / Double(counterKHz) }

        /// Guest time per byte, in ns (instructions per byte under -icount).
        public func nanosecondsPerByte(_ target: String) -> Double? {
            tcp[target].map { nanoseconds(ticks: $0.ticks) / Double(max($0.bytes, 1)) }
        }

        /// MB/s (10^6 bytes per second of guest time: wall time without -icount).
        public func megabytesPerSecond(_ target: String) -> Double? {
            tcp[target].map { Double($0.bytes) / max(nanoseconds(ticks: $0.ticks), 1) * 1000 }
        }

        /// The frontend's lines of one boot; nil unless it got to "done" with every figure.
        public static func parse(_ lines: [String], peer: String) -> Boot? {
            var boot = Boot(counterKHz: 0, pingMicroseconds: [:], tcp: [:])
            var done = false
            for line in lines.compactMap(Line.init) {
                switch line {
                case .counter(let kHz): boot.counterKHz = kHz
                case .ping(let target, let us): boot.pingMicroseconds[target] = us
                case .tcp(let target, let bytes, let ticks): boot.tcp[target] = (bytes, ticks)
                case .tcpIdle(let target, let idle, let total): boot.tcpIdlePercent[target] = Double(idle) * 100 / Double(max(total, 1))
                case .done: done = true
                }
            }
            let complete = [loopback, peer].allSatisfy { boot.pingMicroseconds[$0] != nil && (boot.tcp[$0]?.bytes ?? 0) > 0 }
            return done && complete && boot.counterKHz > 0 ? boot : nil
        }
    }

    public struct Failed: Error, CustomStringConvertible { public var description: String }

    /// Both boots; and the console of the first (for the hypervisor's banner).
    public static func run(machine template: SystemRunner.Options, timeout: Double, log: @escaping (String) -> Void)
        throws -> (counted: Boot, wall: Boot, lines: [String]) {
        guard template.board == .virt else {
            throw Failed(description: "bench --net runs on --machine virt only (it boots Debian's kernel, as bench --linux)")
        }
        let config = try system(log: log)
        let peer = network.address(network.driverDomain)
        func boot(countInstructions: Bool) throws -> (Boot, [String]) {
            var options = template
            options.timeout = timeout
            options.countInstructions = countInstructions
            options.echo = false
            log("swiftvisor bench --net: booting \(network.guests.joined(separator: " and ")) \(countInstructions ? "under -icount shift=0,sleep=off" : "without -icount (wall time)")...")
            let outcome = try SystemRunner(log: { _ in }).run(config, options: options)
            try RunInterrupted.check(outcome)
            guard let measured = Boot.parse(outcome.report.guestLines[frontend] ?? [], peer: peer) else {
                throw Failed(description: "the frontend did not finish its measurements:\n"
                             + (outcome.summary + outcome.lines.suffix(30)).joined(separator: "\n"))
            }
            return (measured, outcome.lines)
        }
        let (counted, lines) = try boot(countInstructions: true)
        let (wall, _) = try boot(countInstructions: false)
        return (counted, wall, lines)
    }

    /// The pair's system description (its initramfs is named by its contents: other runs in
    /// parallel never replace it).
    static func system(log: @escaping (String) -> Void) throws -> URL {
        let peer = network.address(network.driverDomain)
        let roles = [network.driverDomain: "swiftvisor.nettest=bench-serve", frontend: "swiftvisor.nettest=bench:\(peer)"]
        // Only the frontend's address: without swiftvisor.ping it does not wait to be pinged.
        var words = network.arguments
        words[frontend] = "swiftvisor.ip=\(network.address(frontend))/24"
        let linux = try LinuxSystem.prepare(guests: network.guests, vcpus: vcpus, extraArguments: LinuxNetwork.merge(words, roles),
                                            keys: network.keys, log: log)
        return linux
    }
}
