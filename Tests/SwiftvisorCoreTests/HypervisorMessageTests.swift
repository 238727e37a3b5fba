import XCTest
@testable import SwiftvisorCore

/// The hypervisor's guest-event lines: the text users see, and the host reading back exactly
/// what the hypervisor formatted.
final class HypervisorMessageTests: XCTestCase {
    func line(_ m: HypervisorMessage) -> String { String(decoding: m.bytes, as: UTF8.self) }
    func parse(_ s: String) -> HypervisorMessage? { HypervisorMessage.parse(Array(s.utf8)) }

    let fault = HypervisorMessage.Fault(vcpu: 1, exceptionClass: 0x24, exceptionClassName: "Data Abort from a lower EL",
                                        esr: 0x93c08004, ipa: 0x9000000, pc: 0x40080010)

    /// Each event with the line it must print (the system tests and users read these).
    func examples(_ g: MessageText) -> [(HypervisorMessage, String)] {
        let n = String(decoding: g.bytes, as: UTF8.self)
        return [
            (.built(guest: g, .init(mebibytes: 512, hostBase: 0x48000000, vmid: 1, vcpus: 2, entry: 0x40080000,
                                    counterOffset: 123456, autostart: true)),
             "swiftvisor: guest '\(n)': 512 MiB at host 0x48000000, VMID 1, 2 vCPU(s), entry 0x40080000, counter offset 123456"),
            (.built(guest: g, .init(mebibytes: 2, hostBase: 0, vmid: 3, vcpus: 1, entry: 0x40000000, counterOffset: 0, autostart: false)),
             "swiftvisor: guest '\(n)': 2 MiB at host 0x0, VMID 3, 1 vCPU(s), entry 0x40000000, counter offset 0"
                + "; not started (autostart = false): `create NAME` starts it"),
            (.created(guest: g), "swiftvisor: guest '\(n)' created"),
            (.rebooting(guest: g, boot: 2), "swiftvisor: guest '\(n)' rebooting (boot 2)"),
            (.shutDown(guest: g, reason: "poweroff", exitCode: 0, vcpuCores: [0b11, 0b10]),
             "swiftvisor: guest '\(n)' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{0,1} 1:{1}"),
            (.shutDown(guest: g, reason: "crash", exitCode: 3, vcpuCores: [0]),
             "swiftvisor: guest '\(n)' shut down: crash (exit code 3); vCPUs ran on cores 0:{}"),
            (.shutDown(guest: g, reason: "crash", exitCode: 3, vcpuCores: nil), "swiftvisor: guest '\(n)' shut down: crash (exit code 3)"),
            (.stopped(guest: g, cause: "access outside its memory", fault: fault),
             "swiftvisor: guest '\(n)' stopped: access outside its memory (vCPU 1, EC 0x24 Data Abort from a lower EL, "
                + "ESR 0x93c08004, IPA 0x9000000, PC 0x40080010)"),
            (.stopped(guest: g, cause: "an SMC", fault: .init(vcpu: 0, exceptionClass: 0x17, exceptionClassName: "SMC (AArch64)",
                                                             esr: 0x5e000000, ipa: nil, pc: 0x40000004)),
             "swiftvisor: guest '\(n)' stopped: an SMC (vCPU 0, EC 0x17 SMC (AArch64), ESR 0x5e000000, PC 0x40000004)"),
            (.stopped(guest: g, cause: "every vCPU is off", fault: nil), "swiftvisor: guest '\(n)' stopped: every vCPU is off"),
            (.rebootedTooOften(guest: g, boots: 16), "swiftvisor: guest '\(n)' stopped: rebooted 16 times"),
            (.notStarted(guest: g, cause: "not enough free host memory"), "swiftvisor: guest '\(n)' not started: not enough free host memory"),
            (.destroyed(guest: g, why: "from the hypervisor console"), "swiftvisor: guest '\(n)' destroyed: from the hypervisor console"),
            (.crashed(guest: g), "swiftvisor: guest '\(n)' crashed: its kernel panicked"),
            (.paused(guest: g), "swiftvisor: guest '\(n)' paused"),
            (.unpaused(guest: g), "swiftvisor: guest '\(n)' unpaused"),
        ]
    }

    func test_each_event_prints_its_line_and_parses_back() {
        for (m, text) in examples("alpha") + [(.allGuestsFinished, "swiftvisor: all guests have finished"),
                                              (.panic("hypervisor heap exhausted"), "swiftvisor: PANIC: hypervisor heap exhausted")] {
            XCTAssertEqual(line(m), text)
            XCTAssertEqual(parse(text), m, text)
        }
    }

    func test_names_with_odd_characters_round_trip() {
        // Every character a configuration allows in a name (SystemDescription.isNameCharacter),
        // and some it does not: spaces, non-ASCII, control characters, the message's own pieces.
        let names = ["web-1.prod_2", "-", ".", "_", "0", "A.b-C_9", "", "ünï côdé", "tab\there", "a (vCPU 0, EC 0x1 b, ESR 0x0, PC 0x0)"]
        for name in names {
            for (m, text) in examples(MessageText(name)) {
                XCTAssertEqual(line(m), text)
                XCTAssertEqual(parse(text), m, text)
            }
        }
    }

    func test_names_holding_a_quote_read_back_to_the_same_line() {
        // Not allowed by the configuration, and ambiguous in this format ("guest 'x' shut down:
        // y' shut down: …" might be guest "x" or "x' shut down: y"): the reading is the shortest
        // name that formats back to the very same line, so nothing said is lost or changed.
        for name in ["o'brien", "a' created", "x' shut down: y", "'"] {
            for (m, text) in examples(MessageText(name)) {
                XCTAssertEqual(line(m), text)
                XCTAssertEqual(parse(text).map(line), text)
            }
        }
        XCTAssertEqual(parse("swiftvisor: guest 'o'brien' paused"), .paused(guest: "o'brien"))
    }

    func test_a_name_ending_in_a_quote_and_lead_reads_as_the_first_fitting_name() {
        // "guest 'a' created' created" could be guest "a' created" created; the shortest name
        // whose reading formats back to the line wins, and any reading formats back identically.
        let text = "swiftvisor: guest 'a' created' created"
        XCTAssertEqual(parse(text), .created(guest: "a' created"))
    }

    func test_causes_without_a_full_fault_keep_their_whole_text() {
        let text = "swiftvisor: guest 'gamma' stopped: access outside its memory (vCPU 0, EC 0x24, PC 0x40080000)"
        XCTAssertEqual(parse(text), .stopped(guest: "gamma", cause: "access outside its memory (vCPU 0, EC 0x24, PC 0x40080000)", fault: nil))
        XCTAssertEqual(parse("swiftvisor: guest 'g' stopped: rebooted 16 times, twice"),
                       .stopped(guest: "g", cause: "rebooted 16 times, twice", fault: nil))
    }

    func test_the_detail_is_what_follows_the_fixed_lead() {
        let m = HypervisorMessage.stopped(guest: "g", cause: "an SMC", fault: nil)
        XCTAssertEqual(String(decoding: m.detailBytes, as: UTF8.self), "an SMC")
        XCTAssertEqual(String(decoding: HypervisorMessage.rebootedTooOften(guest: "g", boots: 3).detailBytes, as: UTF8.self),
                       "rebooted 3 times")
    }

    func test_other_lines_are_not_messages() {
        for text in ["swiftvisor: guest 'g1': preparing 4608 MiB of RAM... 50%",
                     "swiftvisor: guest 'spinner' asked to shut down; it has no power button",
                     "swiftvisor: guest 'x' is not running",
                     "swiftvisor: guest 'x': bad access (EC 0x24, PC 0x0): exception injected",
                     "swiftvisor: guest 'x' rebooting (boot 2) now",
                     "swiftvisor: guest 'x' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{64}",
                     "swiftvisor: guest 'x' shut down: poweroff (exit code 99999999999999999999)",
                     "swiftvisor: all guests have finished!",
                     "swiftvisor: starting 4 guest(s) on 2 core(s)",
                     "alpha | swiftvisor: guest 'alpha' created",
                     "swiftvisor: guest 'unterminated"] {
            XCTAssertNil(parse(text), text)
        }
    }

    func test_numbers_print_as_the_console_always_has() {
        var out: [UInt8] = []
        for v in [0, UInt64.max] { MessageWriter.decimal(v, { out.append($0) }); out.append(0x20) }
        for v in [0, UInt64.max, 0xa0] { MessageWriter.hex(v, { out.append($0) }); out.append(0x20) }
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "0 18446744073709551615 0x0 0xffffffffffffffff 0xa0 ")
    }
}
