import Foundation
import XCTest
@testable import SwiftvisorHost

/// Xen's PV console (hvc0) served by the hypervisor: a bare-metal guest's ring output on its
/// console with its name, typed input echoed back, garbage indexes harmless; and Linux with
/// `console=hvc0` answering at its shell. On a CPU without VHE (cortex-a57) and one with (max).
final class PVConsoleSystemTests: XCTestCase {
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")
    static let cpus = SystemTests.only(SystemTests.cpus)

    func run(_ config: URL, cpu: String, timeout: Double = 120, answer: @escaping @Sendable (String) -> String?) throws -> SystemRunner.Outcome {
        var options = SystemRunner.Options()
        options.cpu = cpu
        options.timeout = timeout
        options.echo = false
        options.input = .respond(answer)
        return try SystemRunner(log: { _ in }).run(config, options: options)
    }

    func log(_ o: SystemRunner.Outcome) -> String { "\n--- console ---\n" + o.lines.joined(separator: "\n") }

    func test_a_guest_writes_and_reads_hvc0_beside_its_pl011() throws {
        for cpu in Self.cpus {
            let o = try run(systems.appendingPathComponent("pvcon.toml"), cpu: cpu) { line in
                line == "typist | hvc0: type a line" ? "hello-typed\r" : nil
            }
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            let typist = o.report.guestLines["typist"] ?? [], calm = o.report.guestLines["calm"] ?? []
            for lines in [typist, calm] {
                XCTAssertFalse(lines.contains { $0.hasPrefix("FAIL") }, cpu + log(o))
                XCTAssertTrue(lines.contains("ok the console page is the first magic page"), cpu + log(o))
                // Ring output has the guest's name, line by line, in order, beside its PL011's.
                XCTAssertTrue(lines.contains("pl011: before hvc0"), cpu + log(o))
                XCTAssertTrue(lines.contains("hvc0: hello from the PV console"), cpu + log(o))
                let numbered = lines.filter { $0.hasPrefix("hvc0 line ") }
                XCTAssertEqual(numbered, (0..<64).map { "hvc0 line \($0) of 64: the quick brown fox jumps over the lazy dog" }, cpu + log(o))
                XCTAssertTrue(lines.contains("hvc0: a line in two writes"), cpu + log(o))
                XCTAssertTrue(lines.contains("0 failure(s)"), cpu + log(o))
            }
            // Typed input reached hvc0 (the guest had connected it) and came back on both consoles.
            XCTAssertTrue(typist.contains("ok the hypervisor notified the console port"), cpu + log(o))
            XCTAssertTrue(typist.contains("hvc0 echo: hello-typed"), cpu + log(o))
            XCTAssertTrue(typist.contains("pl011 echo: hello-typed"), cpu + log(o))
            // Garbage indexes: ignored, then the ring works again; the others are unharmed.
            XCTAssertTrue(typist.contains("ok garbage indexes: nothing consumed"), cpu + log(o))
            XCTAssertTrue(typist.contains("hvc0: still served after garbage indexes"), cpu + log(o))
            XCTAssertTrue(o.report.guestLines["plain"]?.contains("ok no console page, no console port") ?? false, cpu + log(o))
        }
    }

    /// Linux with `console=hvc0`: every kernel message and its shell on the PV console (the
    /// guest's name in front), and a command typed at that shell answered there.
    func test_linux_with_console_hvc0_answers_at_its_shell() throws {
        let config = try LinuxSystem.prepare(guests: ["hvcshell"], shell: true, hvc0: ["hvcshell"]) { _ in }
        for cpu in Self.cpus {
            let o = try run(config, cpu: cpu, timeout: 300) { line in
                if line == "hvcshell | swiftvisor-init: done" { return "cat /proc/consoles; echo typed-$((6*7))\r" }
                return line == "hvcshell | typed-42" ? "poweroff -f\r" : nil
            }
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            let lines = o.report.guestLines["hvcshell"] ?? []
            XCTAssertTrue(lines.contains { $0.contains("Xen 4.17 support found") }, cpu + log(o))
            XCTAssertTrue(lines.contains { $0.hasPrefix("hvc0 ") && $0.contains("(EC") }, "hvc0 is the console; " + cpu + log(o))
            XCTAssertFalse(lines.contains { $0.hasPrefix("ttyAMA0 ") }, "not the PL011; " + cpu + log(o))
            XCTAssertTrue(lines.contains("typed-42"), cpu + log(o))
            XCTAssertTrue(lines.contains("swiftvisor-init: cpus: 2"), cpu + log(o))
        }
    }
}
