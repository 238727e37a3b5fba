import Foundation
import XCTest
@testable import SwiftvisorHost

/// A Linux guest's life as a person at its console lives it: busybox init is PID 1, so plain
/// `reboot` and `poweroff` go through init to PSCI SYSTEM_RESET / SYSTEM_OFF; the guest knows its
/// name; the shell has the console as its controlling tty, so Ctrl-C interrupts a command.
/// On cortex-a57 only: a Linux boot (twice, with the reboot) is the slow part of CI, and the
/// CPU model makes no difference to init (the Linux boot itself runs on both in SystemTests).
final class LinuxLifecycleTests: XCTestCase {
    func log(_ o: SystemRunner.Outcome) -> String { "\n--- console ---\n" + o.lines.joined(separator: "\n") }

    func test_linux_reboot_and_poweroff_typed_at_the_shell_go_through_init() throws {
        let name = "lifecycle"
        let config = try LinuxSystem.prepare(guests: [name], shell: true) { _ in }
        // The guest's `date +%s` and the host's time when its answer arrived.
        var clock: (guest: Int, host: Int)?
        let typist = SystemTests.Typist { t, line in
            switch (t.step, line) {
            case (0, "\(name) | swiftvisor-init: done"):
                t.step = 1; return "hostname\n"
            case (1, "\(name) | \(name)"):
                // Its real time, from the emulated PL031 (no Xen drivers in the virt layout).
                t.step = 10; return "echo clock-$(date +%s)\n"
            case (10, let l) where l.hasPrefix("\(name) | clock-"):
                if let s = Int(l.dropFirst("\(name) | clock-".count)) { clock = (s, Int(Date().timeIntervalSince1970)) }
                // A child shell that would tick forever; Ctrl-C must reach it as SIGINT.
                t.step = 2; return "sh -c 'while :; do echo tick; sleep 1; done'\n"
            case (2, "\(name) | tick"):
                t.step = 3; return nil
            case (3, "\(name) | tick"):
                t.step = 4; return "\u{3}"
            case (4, let l) where l.hasPrefix("\(name) | ^C"):   // the echoed ^C; a kernel message may follow
                t.step = 5; return "echo interrupted-$((6*7))\n"
            case (5, "\(name) | interrupted-42"):
                t.step = 6; return "reboot\n"
            case (6, "\(name) | swiftvisor-init: done"):
                t.step = 7; return "poweroff\n"
            default: return nil
            }
        }
        var options = SystemRunner.Options()
        options.cpu = "cortex-a57"
        options.timeout = 240
        options.echo = false
        options.input = .respond { typist.answer($0) }
        let o = try SystemRunner(log: { _ in }).run(config, options: options)

        XCTAssertEqual(o.verdict, .success, log(o))
        XCTAssertEqual(typist.step, 7, "the script ran to its end" + log(o))
        let lines = o.report.guestLines[name] ?? []
        for bad in SystemTests.linuxTrouble {
            XCTAssertFalse(lines.contains { $0.contains(bad) }, "printed '\(bad)'" + log(o))
        }
        // Linux set its clock from the emulated PL031, and `date` is the host's time within 60 s.
        XCTAssertTrue(lines.contains { $0.contains("rtc-pl031") && $0.contains("setting system clock") }, log(o))
        if let clock { XCTAssertLessThan(abs(clock.guest - clock.host), 60, "date +%s \(clock.guest), host \(clock.host)" + log(o)) }
        else { XCTFail("no answer to date +%s" + log(o)) }
        // Its name: the hostname, in uname and in the shell's prompt.
        XCTAssertTrue(lines.contains(name), "hostname" + log(o))
        XCTAssertTrue(lines.contains { $0.hasPrefix("swiftvisor-init: uname: Linux \(name) ") }, log(o))
        XCTAssertTrue(lines.contains { $0.hasPrefix("\(name):/# ") }, "prompt" + log(o))
        // Ctrl-C stopped the ticking; the shell went on.
        let ticks = lines.filter { $0 == "tick" }.count
        XCTAssertTrue((2...5).contains(ticks), "\(ticks) ticks" + log(o))
        if let stop = lines.firstIndex(of: "interrupted-42") {
            XCTAssertFalse(lines[stop...].contains("tick"), "ticking after Ctrl-C" + log(o))
        } else { XCTFail("no answer after Ctrl-C" + log(o)) }
        // `reboot`: through init (its shutdown action and messages), then a fresh boot.
        XCTAssertTrue(lines.contains("Requesting system reboot"), log(o))
        XCTAssertTrue(o.lines.contains("swiftvisor: guest '\(name)' rebooting (boot 2)"), log(o))
        XCTAssertEqual(lines.filter { $0 == "swiftvisor-init: /init started" }.count, 2, log(o))
        XCTAssertTrue(lines.contains("swiftvisor-init: boot: 2"), log(o))
        XCTAssertEqual(lines.filter { $0 == "swiftvisor-init: done" }.count, 2, log(o))
        // `poweroff`: the same way out, ending in SYSTEM_OFF with exit code 0.
        // (The shell's prompt, left unfinished, starts the line.)
        XCTAssertEqual(lines.filter { $0.hasSuffix("swiftvisor-init: shutting down") }.count, 2, log(o))
        XCTAssertTrue(lines.contains("Requesting system poweroff"), log(o))
        XCTAssertTrue(o.report.succeeded(name), log(o))
        XCTAssertTrue(o.summary.contains("  \(name): poweroff, exit code 0"), "\(o.summary)")
    }
}
