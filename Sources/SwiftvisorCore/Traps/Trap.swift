/// Why a guest left EL1 for EL2: ESR_EL2, FAR_EL2 and HPFAR_EL2 decoded once, then switched on.
public enum Trap: Equatable {
    case hypervisorCall(immediate: UInt16)
    case secureMonitorCall(immediate: UInt16)
    case waitForInterrupt
    /// WFIT Xt (FEAT_WFxT): WFI that also ends when CNTVCT_EL0 >= Xt (`register`; nil when
    /// ESR.RV is 0: then `WFITInstruction` decodes it. QEMU up to 10.0 at least reports a
    /// trapped WFIT as a `waitForInterrupt`, TI = 0b00, and the hypervisor checks there too).
    case waitForInterruptWithTimeout(register: Int?)
    case waitForEvent
    case dataAbort(DataAbort)
    case instructionAbort(InstructionAbort)
    case systemRegister(SystemRegisterAccess)
    /// Any class the hypervisor does not emulate; the guest gets an Undefined Instruction.
    case unhandled(ESR)

    @inlinable @inline(__always)
    public init(esr: ESR, far: UInt64, hpfar: UInt64) {
        switch esr.exceptionClassCode {
        case ExceptionClass.Code.hvc64: self = .hypervisorCall(immediate: UInt16(truncatingIfNeeded: esr.iss))
        case ExceptionClass.Code.smc64: self = .secureMonitorCall(immediate: UInt16(truncatingIfNeeded: esr.iss))
        // ISS.TI, bits 1:0: 0b00 WFI, 0b01 WFE, 0b10 WFIT, 0b11 WFET (a WFE: events are not
        // virtualised); RN, bits 9:5, the timeout register when RV (bit 2) is set.
        case ExceptionClass.Code.wfx:
            switch esr.iss & 0b111 {
            case 0b110: self = .waitForInterruptWithTimeout(register: Int(bits(esr.iss, 9, 5)))
            case 0b010: self = .waitForInterruptWithTimeout(register: nil)
            case 0b000, 0b100: self = .waitForInterrupt
            default: self = .waitForEvent
            }
        case ExceptionClass.Code.dataAbortLowerEL: self = .dataAbort(DataAbort(esr: esr, far: far, hpfar: hpfar))
        case ExceptionClass.Code.instructionAbortLowerEL: self = .instructionAbort(InstructionAbort(esr: esr, far: far, hpfar: hpfar))
        case ExceptionClass.Code.systemRegister64: self = .systemRegister(SystemRegisterAccess(esr: esr))
        default: self = .unhandled(esr)
        }
    }
}
