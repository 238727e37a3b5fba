import XCTest
@testable import SwiftvisorCore

/// Set/way maintenance as KVM emulates it: one clean at the first operation, then one per
/// cache on/off transition of SCTLR_EL1, and trapping of the VM controls only in between.
final class SetWayEmulationTests: XCTestCase {
    static let cachesOff: UInt64 = 0x30D0_0800
    static let cachesOn: UInt64 = cachesOff | 1 | 1 << 2 | 1 << 12

    func cleanAll(_ s: inout SetWayEmulation, size: UInt64) -> Int {
        var chunks = 0
        while let c = s.cursor {
            chunks += 1
            _ = s.advance(to: c + SetWayEmulation.chunkSize, of: size)
        }
        return chunks
    }

    func testOnlyTheFirstSetWayOperationCleansAndTrapsStart() {
        var s = SetWayEmulation()
        XCTAssertFalse(s.trapsVirtualMemoryControls)
        XCTAssertEqual(s.setWayOperation(), .clean)
        XCTAssertTrue(s.trapsVirtualMemoryControls)
        XCTAssertEqual(s.cursor, 0)
        XCTAssertEqual(cleanAll(&s, size: 512 << 20), 256, "512 MiB in 2 MiB chunks")
        // The rest of the sweep, and further sweeps: nothing to clean.
        for _ in 0..<1000 { XCTAssertEqual(s.setWayOperation(), .complete) }
    }

    func testAnInterruptedCleanGoesOnWhereItStopped() {
        var s = SetWayEmulation()
        XCTAssertEqual(s.setWayOperation(), .clean)
        XCTAssertEqual(s.advance(to: 6 << 20, of: 16 << 20), .clean)
        // The instruction runs again: the same clean goes on from 6 MiB.
        XCTAssertEqual(s.setWayOperation(), .clean)
        XCTAssertEqual(s.cursor, 6 << 20)
        XCTAssertEqual(s.advance(to: 16 << 20, of: 16 << 20), .complete)
        XCTAssertNil(s.cursor)
    }

    func testCachesTurnedOffOrOnCleanAndCachesOnStopsTrapping() {
        var s = SetWayEmulation()
        _ = s.setWayOperation(); _ = cleanAll(&s, size: 4 << 20)
        // Same cache state (another bit changes): no clean, still trapping.
        XCTAssertEqual(s.systemControlWrite(old: Self.cachesOn, new: Self.cachesOn | 1 << 3), .complete)
        s.systemControlWritten(Self.cachesOn | 1 << 3)
        XCTAssertFalse(s.trapsVirtualMemoryControls, "caches on: KVM stops trapping")

        _ = s.setWayOperation(); _ = cleanAll(&s, size: 4 << 20)
        // Caches off: a clean, then the write; still trapping (caches are off).
        XCTAssertEqual(s.systemControlWrite(old: Self.cachesOn, new: Self.cachesOff), .clean)
        XCTAssertEqual(cleanAll(&s, size: 4 << 20), 2)
        XCTAssertEqual(s.systemControlWrite(old: Self.cachesOn, new: Self.cachesOff), .clean,
                       "the instruction re-run after the clean sees the register unchanged")
        _ = cleanAll(&s, size: 4 << 20)
        s.systemControlWritten(Self.cachesOff)
        XCTAssertTrue(s.trapsVirtualMemoryControls)
        // Caches on again: a clean, then no more trapping.
        XCTAssertEqual(s.systemControlWrite(old: Self.cachesOff, new: Self.cachesOn), .clean)
        _ = cleanAll(&s, size: 4 << 20)
        s.systemControlWritten(Self.cachesOn)
        XCTAssertFalse(s.trapsVirtualMemoryControls)
    }

    func testOnlyMAndCTogetherCountAsCachesOn() {
        XCTAssertTrue(SetWayEmulation.cachesEnabled(0b101))
        XCTAssertFalse(SetWayEmulation.cachesEnabled(0b001))
        XCTAssertFalse(SetWayEmulation.cachesEnabled(0b100))
    }

    func testOtherControlsWaitOnlyForACleanInProgress() {
        var s = SetWayEmulation()
        XCTAssertEqual(s.otherControlWrite(), .complete)
        _ = s.setWayOperation()
        XCTAssertEqual(s.otherControlWrite(), .clean)
        s.reset()
        XCTAssertEqual(s, SetWayEmulation())
    }

    func testTVMTrappedWritesAreDecoded() {
        func access(_ crn: UInt8, _ crm: UInt8, _ op2: UInt8, read: Bool = false) -> SystemRegisterAction {
            // MSR S3_0_C<crn>_C<crm>_<op2>, x3: ISS op0 21:20, op2 19:17, op1 16:14, CRn 13:10, Rt 9:5, CRm 4:1, dir 0.
            let iss = UInt64(3) << 20 | UInt64(op2) << 17 | UInt64(crn) << 10 | 3 << 5 | UInt64(crm) << 1 | (read ? 1 : 0)
            return SystemRegisterAction(SystemRegisterAccess(esr: ESR(rawValue: 0x18 << 26 | 1 << 25 | iss)))
        }
        XCTAssertEqual(access(1, 0, 0), .virtualMemoryControl(.sctlr))
        XCTAssertEqual(access(2, 0, 0), .virtualMemoryControl(.ttbr0))
        XCTAssertEqual(access(2, 0, 1), .virtualMemoryControl(.ttbr1))
        XCTAssertEqual(access(2, 0, 2), .virtualMemoryControl(.tcr))
        XCTAssertEqual(access(5, 1, 0), .virtualMemoryControl(.afsr0))
        XCTAssertEqual(access(5, 1, 1), .virtualMemoryControl(.afsr1))
        XCTAssertEqual(access(5, 2, 0), .virtualMemoryControl(.esr))
        XCTAssertEqual(access(6, 0, 0), .virtualMemoryControl(.far))
        XCTAssertEqual(access(10, 2, 0), .virtualMemoryControl(.mair))
        XCTAssertEqual(access(10, 3, 0), .virtualMemoryControl(.amair))
        XCTAssertEqual(access(13, 0, 1), .virtualMemoryControl(.contextidr))
        XCTAssertEqual(access(1, 0, 0, read: true), .undefined, "TVM traps writes only")
        XCTAssertEqual(access(13, 0, 4), .undefined, "TPIDR_EL1 is not trapped")
    }

    func testHCRTVMIsBit26() {
        var h = HCR()
        h.tvm = true
        XCTAssertEqual(h.rawValue, 1 << 26)
    }
}
