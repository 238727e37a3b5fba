import CArch
import SwiftvisorCore

/// Delivers a synchronous exception to the guest's EL1 as the hardware would have (Arm ARM
/// D1.10): the vector, syndrome and PSTATE are `InjectedException`'s; here only the registers
/// are written (ESR/FAR/ELR/SPSR_EL1, and the frame's ELR/SPSR_EL2 for the ERET).
enum ExceptionInjection {
    typealias Kind = InjectedException.Kind

    /// Returns false when the guest faulted on the very vector a previous injection sent it
    /// to: it has no working handler, and injecting again would loop forever.
    static func inject(_ kind: Kind, faultAddress: UInt64, into vcpu: VirtualCPU) -> Bool {
        let frame = vcpu.frame
        let pc = frame.pointee.elr_el2
        if InjectedException.isRepeated(pc: pc, lastInjectedVector: vcpu.lastInjectedVector) { return false }
        let interrupted = SPSR(rawValue: frame.pointee.spsr_el2)
        let exception = InjectedException(kind, interrupted: interrupted,
                                          guestSCTLR: SCTLR(rawValue: read_guest_sctlr_el1()),
                                          hasPAN: Processor.hasPAN, hasDIT: Processor.hasDIT, hasSSBS: Processor.hasSSBS)
        if exception.recordsFaultAddress { write_guest_far_el1(faultAddress) }
        write_guest_esr_el1(exception.syndrome.rawValue)
        write_guest_elr_el1(pc)
        write_guest_spsr_el1(interrupted.rawValue)
        let vector = read_guest_vbar_el1() &+ exception.vectorOffset
        frame.pointee.elr_el2 = vector
        frame.pointee.spsr_el2 = exception.handlerState.rawValue
        vcpu.lastInjectedVector = vector
        return true
    }
}
