import XCTest
@testable import SwiftvisorCore

/// Issue 11 §2: SMCCC_ARCH_WORKAROUND_1 on every guest exit exactly where Xen and KVM make
/// it (an affected core whose firmware implements it), and nowhere else.
final class GuestExitHardeningTests: XCTestCase {
    static let cortexA57: UInt64 = 0x411F_D070, cortexA72: UInt64 = 0x410F_D083, cortexA73: UInt64 = 0x410F_D092
    static let cortexA53: UInt64 = 0x410F_D034, qemuMax: UInt64 = 0x000F_0510

    func choice(_ midr: UInt64, pfr0: UInt64 = 0, firmware: Bool, conduit: HostPlatform.PSCIConduit? = .smc) -> GuestExitHardening {
        GuestExitHardening(SpectreMitigations(midr: midr, pfr0: pfr0, mmfr1: 0, firmwareWorkaround1: firmware, firmwareWorkaround3: false),
                           conduit: conduit)
    }

    func test_affected_cores_with_the_firmware_call_make_it_on_every_exit() {
        XCTAssertEqual(choice(Self.cortexA57, firmware: true), .firmwareWorkaround1)
        XCTAssertEqual(choice(Self.cortexA72, firmware: true), .firmwareWorkaround1)
        XCTAssertEqual(choice(Self.cortexA73, firmware: true), .firmwareWorkaround1, "A73 is on the affected list too")
    }

    func test_no_firmware_call_leaves_the_exit_path_alone() {
        XCTAssertEqual(choice(Self.cortexA57, firmware: false), .none, "QEMU's firmware: no WORKAROUND_1")
        XCTAssertEqual(choice(Self.cortexA72, firmware: true, conduit: .hvc), .none, "HVC from EL2 reaches no firmware")
        XCTAssertEqual(choice(Self.cortexA72, firmware: true, conduit: nil), .none)
    }

    func test_unaffected_cores_never_call() {
        XCTAssertEqual(choice(Self.cortexA53, firmware: true), .none, "in-order core")
        XCTAssertEqual(choice(Self.cortexA57, pfr0: 1 << 56, firmware: true), .none, "CSV2: branch targets not shared")
        XCTAssertEqual(choice(Self.qemuMax, firmware: true), .none, "not on the list")
    }

    func test_the_boot_line_says_what_was_chosen() {
        func line(_ midr: UInt64, firmware: Bool) -> String {
            let m = SpectreMitigations(midr: midr, pfr0: 0, mmfr1: 0, firmwareWorkaround1: firmware, firmwareWorkaround3: false)
            return GuestExitHardening.bootLine(GuestExitHardening(m, conduit: .smc), m).description
        }
        XCTAssertTrue(line(Self.cortexA57, firmware: true).hasPrefix("Spectre-v2: SMCCC_ARCH_WORKAROUND_1 on every guest exit"))
        XCTAssertTrue(line(Self.cortexA57, firmware: false).hasPrefix("Spectre-v2: affected core, no firmware SMCCC_ARCH_WORKAROUND_1; nothing on guest exit"))
        XCTAssertTrue(line(Self.cortexA53, firmware: true).hasPrefix("Spectre-v2: core not affected; nothing on guest exit"))
    }
}
