import XCTest
@testable import SwiftvisorCore

final class HypercallTests: XCTestCase {
    func decode(_ n: UInt64, _ x0: UInt64 = 0, _ x1: UInt64 = 0, _ x2: UInt64 = 0) -> Result<XenHypercall, XenABI.Errno> {
        XenHypercall.decode(number: n, x0: x0, x1: x1, x2: x2)
    }

    func test_xen_numbers_and_commands() {
        XCTAssertEqual(decode(17, 0), .success(.version))
        XCTAssertEqual(decode(17, 1, 0x1000), .success(.versionReply(.extraVersion, buffer: 0x1000)))
        XCTAssertEqual(decode(18, 0, 5, 0x4000_0000), .success(.consoleWrite(buffer: 0x4000_0000, length: 5)))
        XCTAssertEqual(decode(29, 0), .success(.yield))
        XCTAssertEqual(decode(29, 2, 0x4000_1000), .success(.shutdown(argument: 0x4000_1000, withExitCode: false)))
        XCTAssertEqual(decode(29, 0x5356, 0x8), .success(.shutdown(argument: 0x8, withExitCode: true)))
    }

    func test_unknown_numbers_and_commands_are_enosys() {
        XCTAssertEqual(decode(12345), .failure(.enosys))
        XCTAssertEqual(decode(17, 99), .failure(.enosys))
        XCTAssertEqual(decode(18, 7), .failure(.enosys))
        XCTAssertEqual(decode(29, 77), .failure(.enosys))
        XCTAssertEqual(XenABI.Errno.enosys.returnValue, UInt64(bitPattern: -38))
    }

    func test_console_length_limit() {
        XCTAssertEqual(decode(18, 0, XenABI.maxConsoleWrite, 0), .success(.consoleWrite(buffer: 0, length: XenABI.maxConsoleWrite)))
        XCTAssertEqual(decode(18, 0, XenABI.maxConsoleWrite + 1, 0), .failure(.einval))
    }

    func test_psci_function_ids() {
        XCTAssertEqual(SMCCCCall(x0: 0x8400_0000, x1: 0, x2: 0, x3: 0), .psciVersion)
        XCTAssertEqual(SMCCCCall(x0: 0xC400_0003, x1: 1, x2: 0x4008_0000, x3: 7),
                       .cpuOn(targetMPIDR: 1, entry: 0x4008_0000, context: 7))
        // SMC32 CPU_ON ignores the upper halves of its arguments (SMCCC 2.6).
        XCTAssertEqual(SMCCCCall(x0: 0x8400_0003, x1: 0xFFFF_0000_0000_0001, x2: 0x1_4008_0000, x3: 0),
                       .cpuOn(targetMPIDR: 1, entry: 0x4008_0000, context: 0))
        XCTAssertEqual(SMCCCCall(x0: 0x8400_0008, x1: 0, x2: 0, x3: 0), .systemOff)
        XCTAssertEqual(SMCCCCall(x0: 0x8400_0009, x1: 0, x2: 0, x3: 0), .systemReset)
        XCTAssertEqual(SMCCCCall(x0: 0x1_8400_0000, x1: 0, x2: 0, x3: 0), .notSupported(functionID: 0x8400_0000))
        XCTAssertEqual(SMCCCCall(x0: 0xC200_0042, x1: 0, x2: 0, x3: 0), .notSupported(functionID: 0xC200_0042))
    }

    func test_psci_features() {
        XCTAssertEqual(SMCCCCall.psciFeatures(of: 0xC400_0003), 0)
        XCTAssertEqual(SMCCCCall.psciFeatures(of: 0x8400_00FF), SMCCCCall.Status.notSupported.returnValue)
        XCTAssertNil(SMCCCCall.archFeatures(of: 0x8000_8000), "WORKAROUND_1 depends on the CPU: SpectreMitigations")
    }

    func test_stateless_calls_are_answered_from_registers() {
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0xEA1, x16: 17, x0: 0, x1: 0), XenABI.version)
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0xEA1, x16: 999, x0: 0, x1: 0), XenABI.Errno.enosys.returnValue)
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0, x16: 0, x0: 0x8400_0000, x1: 0), 0x1_0001)
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0x1234, x16: 0, x0: 0x8400_0000, x1: 0), SMCCCCall.Status.notSupported.returnValue)
        // Anything touching memory, vCPUs or the console takes the full path.
        XCTAssertNil(StatelessHypercall.answer(immediate: 0xEA1, x16: 17, x0: 1, x1: 0x4000_0000))
        XCTAssertNil(StatelessHypercall.answer(immediate: 0xEA1, x16: 18, x0: 0, x1: 4))
        XCTAssertNil(StatelessHypercall.answer(immediate: 0xEA1, x16: 29, x0: 0, x1: 0))
        XCTAssertNil(StatelessHypercall.answer(immediate: 0, x16: 0, x0: 0xC400_0003, x1: 1))
        XCTAssertNil(StatelessHypercall.answer(immediate: 0, x16: 0, x0: 0x8400_0008, x1: 0))
    }

    func test_guest_buffer_is_split_at_pages() {
        var pieces: [(UInt64, Int)] = []
        let ok = GuestBuffer.forEachPiece(virtualAddress: 0x1FF0, length: 0x20,
                                          translate: { HostPhysicalAddress(0x9000_0000 + $0) }) { pieces.append(($0.rawValue, $1)) }
        XCTAssertTrue(ok)
        XCTAssertEqual(pieces.map(\.0), [0x9000_1FF0, 0x9000_2000])
        XCTAssertEqual(pieces.map(\.1), [0x10, 0x10])
    }

    func test_guest_buffer_with_a_bad_page_touches_nothing() {
        var calls = 0
        let ok = GuestBuffer.forEachPiece(virtualAddress: 0x1000, length: 0x3000,
                                          translate: { $0 >= 0x3000 ? nil : HostPhysicalAddress($0) }) { _, _ in calls += 1 }
        XCTAssertFalse(ok)
        XCTAssertEqual(calls, 0)
        XCTAssertFalse(GuestBuffer.forEachPiece(virtualAddress: UInt64.max - 10, length: 100, translate: { HostPhysicalAddress($0) }) { _, _ in })
    }
}
