/// ESR_EL2, Exception Syndrome Register (Arm ARM D19.2.40).
public struct ESR: Equatable {
    public var rawValue: UInt64
    @inlinable @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// EC, bits 31:26: exception class.
    @inline(__always) public var exceptionClass: ExceptionClass { ExceptionClass(code: UInt8(bits(rawValue, 31, 26))) }
    /// EC as its number: what the exit path tests first (building the enum is a table lookup;
    /// compare with `ExceptionClass.Code`).
    @inlinable @inline(__always) public var exceptionClassCode: UInt8 { UInt8(truncatingIfNeeded: bits(rawValue, 31, 26)) }
    /// IL, bit 25: the trapped instruction was 32 bits long.
    public var instructionLength32: Bool { bit(rawValue, 25) }
    /// Bytes to step over the trapped instruction: 4, or 2 for a 16-bit T32 instruction
    /// (IL = 0, only from AArch32 EL0). Branch-free: it is on the device path.
    @inlinable @inline(__always) public var instructionLength: UInt64 { 2 &+ (rawValue >> 24 & 2) }
    /// ISS, bits 24:0: instruction-specific syndrome.
    @inlinable @inline(__always) public var iss: UInt64 { bits(rawValue, 24, 0) }

    public init(exceptionClass: ExceptionClass, il: Bool = true, iss: UInt64) {
        rawValue = UInt64(exceptionClass.code) << 26 | (il ? 1 << 25 : 0) | (iss & 0x1FF_FFFF)
    }
}

/// ESR_ELx.EC values this hypervisor distinguishes (Arm ARM D19.2.40, table "EC encoding").
public enum ExceptionClass: Equatable {
    case unknown                      // 0x00
    case wfx                          // 0x01 WFI/WFE/WFIT/WFET
    case floatingPointAccess          // 0x07 (CPTR_EL2.TFP)
    case illegalExecutionState        // 0x0E
    case svc64                        // 0x15
    case hvc64                        // 0x16
    case smc64                        // 0x17
    case systemRegister64             // 0x18 MSR/MRS/system instruction
    case sve                          // 0x19
    case instructionAbortLowerEL      // 0x20
    case instructionAbortSameEL       // 0x21
    case pcAlignment                  // 0x22
    case dataAbortLowerEL             // 0x24
    case dataAbortSameEL              // 0x25
    case spAlignment                  // 0x26
    case serror                       // 0x2F
    case breakpointLowerEL            // 0x30
    case softwareStepLowerEL          // 0x32
    case watchpointLowerEL            // 0x34
    case brk64                        // 0x3C
    case other(UInt8)

    /// The numbers of the classes the exit path dispatches on.
    public enum Code {
        @inlinable @inline(__always) public static var wfx: UInt8 { 0x01 }
        @inlinable @inline(__always) public static var hvc64: UInt8 { 0x16 }
        @inlinable @inline(__always) public static var smc64: UInt8 { 0x17 }
        @inlinable @inline(__always) public static var systemRegister64: UInt8 { 0x18 }
        @inlinable @inline(__always) public static var instructionAbortLowerEL: UInt8 { 0x20 }
        @inlinable @inline(__always) public static var dataAbortLowerEL: UInt8 { 0x24 }
    }

    public init(code: UInt8) {
        switch code {
        case 0x00: self = .unknown
        case 0x01: self = .wfx
        case 0x07: self = .floatingPointAccess
        case 0x0E: self = .illegalExecutionState
        case 0x15: self = .svc64
        case 0x16: self = .hvc64
        case 0x17: self = .smc64
        case 0x18: self = .systemRegister64
        case 0x19: self = .sve
        case 0x20: self = .instructionAbortLowerEL
        case 0x21: self = .instructionAbortSameEL
        case 0x22: self = .pcAlignment
        case 0x24: self = .dataAbortLowerEL
        case 0x25: self = .dataAbortSameEL
        case 0x26: self = .spAlignment
        case 0x2F: self = .serror
        case 0x30: self = .breakpointLowerEL
        case 0x32: self = .softwareStepLowerEL
        case 0x34: self = .watchpointLowerEL
        case 0x3C: self = .brk64
        default: self = .other(code)
        }
    }

    public var code: UInt8 {
        switch self {
        case .unknown: return 0x00
        case .wfx: return 0x01
        case .floatingPointAccess: return 0x07
        case .illegalExecutionState: return 0x0E
        case .svc64: return 0x15
        case .hvc64: return 0x16
        case .smc64: return 0x17
        case .systemRegister64: return 0x18
        case .sve: return 0x19
        case .instructionAbortLowerEL: return 0x20
        case .instructionAbortSameEL: return 0x21
        case .pcAlignment: return 0x22
        case .dataAbortLowerEL: return 0x24
        case .dataAbortSameEL: return 0x25
        case .spAlignment: return 0x26
        case .serror: return 0x2F
        case .breakpointLowerEL: return 0x30
        case .softwareStepLowerEL: return 0x32
        case .watchpointLowerEL: return 0x34
        case .brk64: return 0x3C
        case .other(let c): return c
        }
    }

    /// A short name for messages, as the Arm ARM calls the class.
    public var name: StaticString {
        switch self {
        case .unknown: return "Unknown reason"
        case .wfx: return "WFI/WFE"
        case .floatingPointAccess: return "FP/SIMD access"
        case .illegalExecutionState: return "Illegal Execution state"
        case .svc64: return "SVC"
        case .hvc64: return "HVC"
        case .smc64: return "SMC"
        case .systemRegister64: return "MSR/MRS/system instruction"
        case .sve: return "SVE access"
        case .instructionAbortLowerEL: return "Instruction Abort from a lower EL"
        case .instructionAbortSameEL: return "Instruction Abort from EL2"
        case .pcAlignment: return "PC alignment fault"
        case .dataAbortLowerEL: return "Data Abort from a lower EL"
        case .dataAbortSameEL: return "Data Abort from EL2"
        case .spAlignment: return "SP alignment fault"
        case .serror: return "SError"
        case .breakpointLowerEL: return "Breakpoint"
        case .softwareStepLowerEL: return "Software Step"
        case .watchpointLowerEL: return "Watchpoint"
        case .brk64: return "BRK"
        case .other: return "unhandled exception class"
        }
    }
}
