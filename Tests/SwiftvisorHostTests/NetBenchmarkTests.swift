import XCTest
@testable import SwiftvisorHost

/// `bench --net` reads the frontend's console lines (LinuxNetworkScripts' `bench` role).
final class NetBenchmarkTests: XCTestCase {
    /// What the frontend prints under -icount, as the console report keeps it.
    let lines = [
        "swiftvisor-init: net: eth0 up with 10.0.0.2/24 (mac 00:16:3e:12:34:56)",
        "swiftvisor-init: net: bench: counter 62.50 MHz",
        "swiftvisor-init: net: bench: ping 127.0.0.1: round-trip min/avg/max = 0.061/0.085/0.204 ms",
        "swiftvisor-init: net: bench: tcp 127.0.0.1: 33554432 bytes in 1048576 ticks",
        "swiftvisor-init: net: bench: ping 10.0.0.1: round-trip min/avg/max = 0.301/1.402/2.999 ms",
        "swiftvisor-init: net: bench: tcp 10.0.0.1: 33554432 bytes in 4194304 ticks",
        "swiftvisor-init: net: bench: tcp 10.0.0.1: idle 5 of 20 cpu ticks",
        "swiftvisor-init: net: bench: done",
    ]

    func test_each_line_of_the_frontend_is_read() {
        XCTAssertEqual(NetBenchmark.Line(lines[1]), .counter(kHz: 62_500))
        XCTAssertEqual(NetBenchmark.Line(lines[2]), .ping(target: "127.0.0.1", averageMicroseconds: 85))
        XCTAssertEqual(NetBenchmark.Line(lines[5]), .tcp(target: "10.0.0.1", bytes: 33_554_432, ticks: 4_194_304))
        XCTAssertEqual(NetBenchmark.Line(lines[6]), .tcpIdle(target: "10.0.0.1", idle: 5, total: 20))
        XCTAssertEqual(NetBenchmark.Line(lines[7]), .done)
        XCTAssertNil(NetBenchmark.Line(lines[0]))
    }

    func test_a_ping_that_got_no_answer_or_an_empty_counter_is_no_figure() {
        // ping printed no round-trip line (no answer), dmesg had no timer line.
        XCTAssertNil(NetBenchmark.Line("swiftvisor-init: net: bench: ping 10.0.0.1: "))
        XCTAssertNil(NetBenchmark.Line("swiftvisor-init: net: bench: counter  MHz"))
        XCTAssertNil(NetBenchmark.Line("swiftvisor-init: net: bench: tcp 10.0.0.1: 0 bytes in x ticks"))
    }

    func test_decimals_are_read_to_thousandths() {
        XCTAssertEqual(NetBenchmark.Line.thousandths("1"), 1000)
        XCTAssertEqual(NetBenchmark.Line.thousandths("0.5"), 500)
        XCTAssertEqual(NetBenchmark.Line.thousandths("1000.000"), 1_000_000)
        XCTAssertNil(NetBenchmark.Line.thousandths("0.1234"))
        XCTAssertNil(NetBenchmark.Line.thousandths("a.b"))
    }

    func test_a_boot_gives_instructions_per_byte_and_megabytes_per_second() throws {
        let boot = try XCTUnwrap(NetBenchmark.Boot.parse(lines, peer: "10.0.0.1"))
        // 62.5 MHz: one tick is 16 ns (16 instructions under -icount shift=0).
        XCTAssertEqual(boot.nanosecondsPerByte("127.0.0.1"), 0.5)
        XCTAssertEqual(boot.nanosecondsPerByte("10.0.0.1"), 2.0)
        XCTAssertEqual(boot.megabytesPerSecond("10.0.0.1"), 500)
        XCTAssertEqual(boot.pingMicroseconds, ["127.0.0.1": 85, "10.0.0.1": 1402])
        XCTAssertEqual(boot.tcpIdlePercent, ["10.0.0.1": 25])
    }

    func test_a_boot_that_did_not_finish_has_no_figures() {
        XCTAssertNil(NetBenchmark.Boot.parse(Array(lines.dropLast()), peer: "10.0.0.1"))
        XCTAssertNil(NetBenchmark.Boot.parse(lines.filter { !$0.contains("tcp 10.0.0.1") }, peer: "10.0.0.1"))
    }

    func test_the_report_shows_each_figure_between_guests_and_over_loopback() throws {
        let boot = try XCTUnwrap(NetBenchmark.Boot.parse(lines, peer: "10.0.0.1"))
        let environment = BenchEnvironment(
            swiftvisor: "0.1.0", commit: nil, host: .init(cpu: "test CPU", cores: 2, os: "test OS"),
            qemu: .init(version: "7.2.22", package: nil, machine: "virt,virtualization=on,gic-version=3", cpu: "cortex-a57", icount: "shift=0,sleep=off"),
            el2: nil)
        let report = NetBenchReport(environment: environment, cores: 2, counted: boot, wall: boot)
        // The cells after a row's name: between guests, loopback.
        func cells(_ row: String) -> [String] {
            (report.text.first { $0.hasPrefix(row) }).map { $0.dropFirst(row.count).split(separator: " ").map(String.init) } ?? []
        }
        XCTAssertEqual(cells("ping round trip, instructions"), ["1,402,000", "85,000"])
        XCTAssertEqual(cells("TCP stream, instructions per byte"), ["2.0", "0.5"])
        XCTAssertEqual(cells("TCP stream, MB/s (wall time)"), ["500.0", "2000.0"])
        XCTAssertEqual(cells("ping round trip, µs (wall time)"), ["1402", "85"])
        XCTAssertTrue(report.json.contains("\"tcp_instructions_per_byte\" : {\n      \"between_guests\" : 2,\n      \"loopback\" : 0.5"), report.json)
    }
}
