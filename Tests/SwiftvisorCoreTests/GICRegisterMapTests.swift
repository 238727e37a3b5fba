import XCTest
@testable import SwiftvisorCore

/// The GIC register map and fields against the numbers of IHI0048B (GICv2) and IHI0069 (GICv3).
final class GICRegisterMapTests: XCTestCase {
    typealias D = GICDistributorRegister

    func test_distributor_offsets_are_the_specs() {
        // IHI0048B 4.1.2 table 4-1; IHI0069 12.9 (the shared ones at the same places).
        let expected: [(D, UInt64)] = [
            (.ctlr, 0x000), (.typer, 0x004), (.iidr, 0x008), (.igroupr, 0x080), (.isenabler, 0x100), (.icenabler, 0x180),
            (.ispendr, 0x200), (.icpendr, 0x280), (.isactiver, 0x300), (.icactiver, 0x380), (.ipriorityr, 0x400),
            (.itargetsr, 0x800), (.icfgr, 0xC00), (.sgir, 0xF00), (.irouter, 0x6000), (.pidr2, 0xFFE8), (.pidr2GICv2, 0xFE8),
        ]
        for (register, offset) in expected { XCTAssertEqual(register.rawValue, offset, "\(register)") }
    }

    func test_distributor_banks_and_per_intid_offsets() {
        XCTAssertEqual(D.isenabler.bank, 0x100..<0x180)
        XCTAssertEqual(D.ipriorityr.bank, 0x400..<0x800)
        XCTAssertEqual(D.itargetsr.bank, 0x800..<0xC00)
        XCTAssertEqual(D.icfgr.bank, 0xC00..<0xD00)
        XCTAssertEqual(D.irouter.bank, 0x6000..<0x8000)
        XCTAssertEqual(D.ctlr.bank, 0x0..<0x4)
        // GICD_ISENABLER1 holds INTID 33; IPRIORITYR and ITARGETSR are a byte each; ICFGR two bits.
        XCTAssertEqual(D.isenabler.offset(of: 33), 0x104)
        XCTAssertEqual(D.icenabler.offset(of: 95), 0x188)
        XCTAssertEqual(D.ipriorityr.offset(of: 27), 0x41B)
        XCTAssertEqual(D.itargetsr.offset(of: 32), 0x820)
        XCTAssertEqual(D.icfgr.offset(of: 33), 0xC08)
        // GICD_IROUTER<32>, the first SPI's, at 0x6100 (IHI0069 12.9).
        XCTAssertEqual(D.irouter.offset(of: 32), 0x6100)
        XCTAssertEqual(D.irouter.offset(of: 33), 0x6108)
    }

    func test_redistributor_offsets_are_the_specs() {
        typealias R = GICRedistributorRegister
        // RD_base (IHI0069 12.10).
        XCTAssertEqual(R.ctlr.rawValue, 0x0)
        XCTAssertEqual(R.iidr.rawValue, 0x4)
        XCTAssertEqual(R.typer.rawValue, 0x8)
        XCTAssertEqual(R.waker.rawValue, 0x14)
        XCTAssertEqual(R.pidr2.rawValue, 0xFFE8)
        // SGI_base = RD_base + 64 KiB, the distributor's bank-0 offsets.
        XCTAssertEqual(R.sgiFrame, 0x1_0000)
        XCTAssertEqual(R.stride, 0x2_0000)
        XCTAssertEqual(VirtualGIC.redistributorStride, 0x2_0000)
        let sgiFrame: [(R, D)] = [(.igroupr0, .igroupr), (.isenabler0, .isenabler), (.icenabler0, .icenabler), (.ispendr0, .ispendr),
                                  (.icpendr0, .icpendr), (.isactiver0, .isactiver), (.icactiver0, .icactiver), (.ipriorityr, .ipriorityr),
                                  (.icfgr0, .icfgr)]
        for (r, d) in sgiFrame { XCTAssertEqual(r.rawValue, R.sgiFrame + d.rawValue, "\(r)") }
        XCTAssertEqual(R.icfgr1.rawValue, 0x1_0C04)
        XCTAssertEqual(R.priorities, 0x1_0400..<0x1_0420)
    }

    func test_cpu_and_hypervisor_interface_offsets_are_the_specs() {
        // GICC, IHI0048B 4.1.3 table 4-2.
        let c: [(GICCPUInterfaceRegister, UInt64)] = [(.ctlr, 0x00), (.pmr, 0x04), (.bpr, 0x08), (.iar, 0x0C), (.eoir, 0x10), (.dir, 0x1000)]
        for (register, offset) in c { XCTAssertEqual(register.rawValue, offset, "\(register)") }
        // GICH, IHI0048B 5.3 table 5-1.
        let h: [(GICHypervisorRegister, UInt64)] = [(.hcr, 0x000), (.vtr, 0x004), (.vmcr, 0x008), (.misr, 0x010), (.eisr0, 0x020),
                                                   (.eisr1, 0x024), (.elrsr0, 0x030), (.elrsr1, 0x034), (.apr, 0x0F0), (.lr0, 0x100)]
        for (register, offset) in h { XCTAssertEqual(register.rawValue, offset, "\(register)") }
        XCTAssertEqual(GICHypervisorRegister.listRegister(0), 0x100)
        XCTAssertEqual(GICHypervisorRegister.listRegister(3), 0x10C)
        XCTAssertEqual(GICHypervisorRegister.listRegister(63), 0x1FC)
    }

    func test_distributor_control_and_type_fields() {
        XCTAssertEqual(GICDistributorControl.enableGroup0.rawValue, 1 << 0)
        XCTAssertEqual(GICDistributorControl.enableGroup1.rawValue, 1 << 1)
        XCTAssertEqual(GICDistributorControl.affinityRouting.rawValue, 1 << 4)
        XCTAssertEqual(GICDistributorControl.registerWritePending.rawValue, 1 << 31)
        // 64 SPIs + 32 private = 96 INTIDs: ITLinesNumber 2; 4 cores: CPUNumber 3; 10 INTID bits: IDbits 9.
        let typer = GICDistributorType(itLinesNumber: 2, cpuNumber: 3, idBits: 9)
        XCTAssertEqual(typer.rawValue, 2 | 3 << 5 | 9 << 19)
        XCTAssertEqual(typer.itLinesNumber, 2)
        XCTAssertEqual(typer.cpuNumber, 3)
        XCTAssertEqual(typer.idBits, 9)
    }

    func test_affinity_fields_follow_mpidr() {
        // MPIDR Aff3 = 0x12 (39:32), Aff2 = 0x34, Aff1 = 0x56, Aff0 = 0x78, plus RES1 bit 31.
        let mpidr: UInt64 = 0x12_8034_5678
        XCTAssertEqual(GICDistributorRoute(mpidr: mpidr).rawValue, 0x12_0034_5678)   // IRM 0
        XCTAssertEqual(GICDistributorRoute(mpidr: mpidr).aff0, 0x78)
        XCTAssertEqual(GICRedistributorType.affinityValue(mpidr: mpidr), 0x1234_5678)
        let typer = GICRedistributorType(processorNumber: 5, last: true, affinityValue: 0x1234_5678)
        XCTAssertEqual(typer.rawValue, 0x1234_5678_0000_0000 | 5 << 8 | 1 << 4)
        XCTAssertTrue(typer.last)
        XCTAssertEqual(typer.processorNumber, 5)
        XCTAssertEqual(typer.affinityValue, 0x1234_5678)
        XCTAssertFalse(GICRedistributorType(rawValue: 0x8).last)
    }

    func test_wake_and_cpu_interface_fields() {
        XCTAssertEqual(GICRedistributorWake.processorSleep.rawValue, 1 << 1)
        XCTAssertEqual(GICRedistributorWake.childrenAsleep.rawValue, 1 << 2)
        XCTAssertEqual(GICCPUInterfaceControl.enable.rawValue, 1)
        // GICC_IAR: SGI 3 from CPU interface 2.
        let iar = GICv2InterruptAcknowledge(rawValue: 2 << 10 | 3)
        XCTAssertEqual(iar.intid, 3)
        XCTAssertEqual(iar.cpuID, 2)
        XCTAssertEqual(GICv2InterruptAcknowledge(rawValue: 0x3FF).intid, 1023)   // spurious
        XCTAssertEqual(GICv3InterruptAcknowledge(rawValue: 0xFFFF_FFFF_FF00_0000 | 1020).intid, 1020)
    }

    func test_hypervisor_interface_fields() {
        XCTAssertEqual(GICHypervisorControl.enable.rawValue, 1 << 0)
        XCTAssertEqual(GICHypervisorControl.underflowInterrupt.rawValue, 1 << 1)
        // GIC-400's GICH_VTR: 4 list registers, 5 priority and 5 preemption bits.
        let vtr = GICHypervisorType(rawValue: 4 << 29 | 4 << 26 | 3)
        XCTAssertEqual(vtr.listRegisters, 3)
        XCTAssertEqual(vtr.preemptionBits, 4)
        XCTAssertEqual(vtr.priorityBits, 4)
    }

    func test_sgir_encodes_and_decodes() {
        // IHI0048B 4.3.15: SGIINTID 3:0, CPUTargetList 23:16, TargetListFilter 25:24.
        let request = GICv2SGIRequest(intid: 7, filter: .targetList, targetList: 0b100)
        XCTAssertEqual(request.rawValue, 0b100 << 16 | 7)
        XCTAssertEqual(GICv2SGIRequest(request.rawValue), request)
        XCTAssertEqual(GICv2SGIRequest(intid: 1, filter: .allButSelf, targetList: 0).rawValue, 1 << 24 | 1)
        XCTAssertEqual(GICv2SGIRequest(2 << 24 | 0xFF << 16 | 0xF).filter, .onlySelf)
    }
}
