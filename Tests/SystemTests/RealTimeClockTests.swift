import Foundation
import XCTest
@testable import SwiftvisorHost

extension SystemTests {
    /// Issue 11 §3: the emulated PL031. Asserts that the guest's RTCDR is the host's time
    /// (within 5 s of the host's Date when the line arrived), its identification registers,
    /// RTCLR moving its clock and back, and three alarm interrupts; on cortex-a57 and max.
    func test_emulated_pl031_reads_the_hosts_time_and_interrupts_at_the_match() throws {
        for machine in Self.only([Machine(cpu: "cortex-a57"), Machine(cpu: "max")]) {
            let what = machine.description
            var seen: (guest: Int, host: Int)?
            var options = SystemRunner.Options()
            options.cpu = machine.cpu
            options.timeout = 60
            options.echo = false
            options.input = .respond { line in
                if seen == nil, let r = line.range(of: "rtcclock | rtc seconds: "), let s = Int(line[r.upperBound...]) {
                    seen = (s, Int(Date().timeIntervalSince1970))
                }
                return nil
            }
            let o = try SystemRunner(log: { _ in }).run(systems.appendingPathComponent("rtcclock.toml"), options: options)
            XCTAssertEqual(o.verdict, .success, what + log(o))
            let lines = o.report.guestLines["rtcclock"] ?? []
            for c in ["PeriphID 0x31 0x10 0x14 0x00, PCellID 0x0d 0xf0 0x05 0xb1", "RTCCR reads as started", "RTCLR sets RTCDR",
                      "RTCLR reads back", "RTCLR sets it back", "RTCMR reads back", "RTCRIS clear after RTCICR"] {
                XCTAssertTrue(lines.contains("rtc: ok \(c)"), c + "; " + what + log(o))
            }
            XCTAssertEqual(lines.last, "rtc alarm interrupts: 3 of 3 (ok)", what + log(o))
            if let seen { XCTAssertLessThanOrEqual(abs(seen.guest - seen.host), 5, "guest \(seen.guest), host \(seen.host); " + what + log(o)) }
            else { XCTFail("no 'rtc seconds' line; " + what + log(o)) }
        }
    }
}
