import XCTest
@testable import SwiftvisorHost
import SwiftvisorCore

/// ConsoleReport reads the lines the hypervisor formats from HypervisorMessage.
final class ConsoleReportTests: XCTestCase {
    func text(_ m: HypervisorMessage) -> String { String(decoding: m.bytes, as: UTF8.self) }

    func test_the_report_reads_what_the_hypervisor_formats() {
        let fault = HypervisorMessage.Fault(vcpu: 0, exceptionClass: 0x24, exceptionClassName: "Data Abort from a lower EL",
                                            esr: 0x93c08004, ipa: 0x9000000, pc: 0x40080010)
        let r = ConsoleReport(lines: [
            text(.built(guest: "web-1.a_b", .init(mebibytes: 64, hostBase: 0x48000000, vmid: 1, vcpus: 2, entry: 0x40080000,
                                                   counterOffset: 987654321, autostart: true))),
            text(.shutDown(guest: "web-1.a_b", reason: "poweroff", exitCode: 0, vcpuCores: [0b1, 0b110])) + "\r",
            text(.stopped(guest: "bad", cause: "access outside its memory", fault: fault)),
            text(.rebootedTooOften(guest: "loop", boots: 16)),
            text(.notStarted(guest: "big", cause: "not enough free host memory")),
            text(.destroyed(guest: "spinner", why: "quit")),
            text(.crashed(guest: "linux")),
            text(.rebooting(guest: "linux", boot: 2)),
            text(.created(guest: "later")),
            text(.panic("hypervisor heap exhausted")),
            text(.allGuestsFinished),
        ])
        XCTAssertEqual(r.lines, 11)
        XCTAssertEqual(r.counterOffsets, ["web-1.a_b": 987654321])
        XCTAssertTrue(r.succeeded("web-1.a_b"))
        XCTAssertEqual(r.vcpuCores["web-1.a_b"], [[0], [1, 2]])
        XCTAssertEqual(r.outcomes["bad"], .stopped(cause: "access outside its memory (vCPU 0, EC 0x24 Data Abort from a lower EL, "
                                                      + "ESR 0x93c08004, IPA 0x9000000, PC 0x40080010)"))
        XCTAssertEqual(r.outcomes["loop"], .stopped(cause: "rebooted 16 times"))
        XCTAssertEqual(r.outcomes["big"], .notStarted(cause: "not enough free host memory"))
        XCTAssertEqual(r.outcomes["spinner"], .destroyed("quit"))
        XCTAssertEqual(r.crashed, ["linux"])
        XCTAssertNil(r.outcomes["linux"])
        XCTAssertEqual(r.created, ["later"])
        XCTAssertEqual(r.panic, "PANIC: hypervisor heap exhausted")
        XCTAssertTrue(r.allFinished)
    }

    func test_a_panic_line_keeps_the_detail_that_follows_it() {
        let r = ConsoleReport(lines: ["swiftvisor: PANIC: exception at EL2: synchronous on core 1", "  EC 0x25 (Data Abort)"])
        XCTAssertEqual(r.panic, "PANIC: exception at EL2: synchronous on core 1")
    }
}
