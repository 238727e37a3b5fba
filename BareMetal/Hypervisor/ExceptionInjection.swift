import CArch
import SwiftvisorCore

/// Delivers a synchronous exception to the guest's EL1 as the hardware would have
/// (Arm ARM D1.10: ESR/FAR/ELR/SPSR_EL1 written, PC to the vector, EL1h with DAIF masked).
enum ExceptionInjection {
    enum Kind { case dataAbort(write: Bool), instructionAbort, undefinedInstruction }

    /// Returns false when the guest faulted on the very vector a previous injection sent it
    /// to: it has no working handler, and injecting again would loop forever.
    static func inject(_ kind: Kind, faultAddress: UInt64, into vcpu: VirtualCPU) -> Bool {
        let frame = vcpu.frame
        let pc = frame.pointee.elr_el2
        if vcpu.lastInjectedVector != 0 && pc == vcpu.lastInjectedVector { return false }
        let spsr = SPSR(rawValue: frame.pointee.spsr_el2)
        let fromEL1 = spsr.mode == .el1h || spsr.mode == .el1t
        // Vector offsets: current EL with SP_EL0 0x000, with SP_ELx 0x200, lower EL 0x400.
        let offset: UInt64 = spsr.mode == .el1h ? 0x200 : (fromEL1 ? 0 : 0x400)
        let esr: ESR
        switch kind {
        case .dataAbort(let write):
            // DFSC 0x10: synchronous External abort, not on a table walk; WnR bit 6.
            esr = ESR(exceptionClass: fromEL1 ? .dataAbortSameEL : .dataAbortLowerEL,
                      iss: 0x10 | (write ? 1 << 6 : 0))
            write_guest_far_el1(faultAddress)
        case .instructionAbort:
            esr = ESR(exceptionClass: fromEL1 ? .instructionAbortSameEL : .instructionAbortLowerEL, iss: 0x10)
            write_guest_far_el1(faultAddress)
        case .undefinedInstruction:
            esr = ESR(exceptionClass: .unknown, iss: 0)
        }
        write_guest_esr_el1(esr.rawValue)
        write_guest_elr_el1(pc)
        write_guest_spsr_el1(spsr.rawValue)
        let vector = read_guest_vbar_el1() &+ offset
        frame.pointee.elr_el2 = vector
        frame.pointee.spsr_el2 = SPSR.el1hMasked.rawValue
        vcpu.lastInjectedVector = vector
        return true
    }
}
