/// A stage-2 data abort, decoded from ESR_EL2.ISS (Arm ARM D19.2.40, "ISS encoding for a Data Abort").
public struct DataAbort: Equatable {
    /// The faulting IPA: HPFAR_EL2.FIPA page plus the page offset from FAR_EL2.
    public var ipa: GuestPhysicalAddress
    /// The faulting virtual address (FAR_EL2).
    public var virtualAddress: UInt64
    /// ISV, bit 24: bits 23:14 hold a valid instruction syndrome.
    public var syndromeValid: Bool
    /// SAS, bits 23:22: access size, log2 of bytes.
    public var accessSizeLog2: Int
    /// SSE, bit 21: a load sign-extends.
    public var signExtend: Bool
    /// SRT, bits 20:16: the transfer register (31 is XZR/WZR).
    public var register: Int
    /// SF, bit 15: the register is 64 bits wide.
    public var sixtyFourBit: Bool
    /// WnR, bit 6: the access was a write.
    public var isWrite: Bool
    /// S1PTW, bit 7: fault on a stage-2 walk of the guest's stage-1 tables.
    public var stage1PageTableWalk: Bool
    /// CM, bit 8: the fault came from a cache maintenance (or address translation) instruction.
    public var cacheMaintenance: Bool
    /// DFSC, bits 5:0: data fault status code.
    public var faultStatus: UInt8

    /// Access size in bytes. Width and sign rules for emulated devices: `MMIOAccess`.
    @inlinable @inline(__always) public var accessSize: Int { 1 << accessSizeLog2 }

    @inlinable @inline(__always)
    public init(esr: ESR, far: UInt64, hpfar: UInt64) {
        let iss = esr.iss
        ipa = GuestPhysicalAddress(Self.faultingPage(hpfar: hpfar) | (far & 0xFFF))
        virtualAddress = far
        syndromeValid = bit(iss, 24)
        accessSizeLog2 = Int(bits(iss, 23, 22))
        signExtend = bit(iss, 21)
        register = Int(bits(iss, 20, 16))
        sixtyFourBit = bit(iss, 15)
        stage1PageTableWalk = bit(iss, 7)
        isWrite = bit(iss, 6)
        cacheMaintenance = bit(iss, 8)
        faultStatus = UInt8(bits(iss, 5, 0))
    }

    /// DFSC 0b0001LL: a translation fault at level LL (0b101011: level -1, FEAT_LPA2).
    @inlinable @inline(__always) public var isTranslationFault: Bool { faultStatus & 0b11_1100 == 0b00_0100 || faultStatus == 0b10_1011 }

    /// What to do with a fault on an emulated device's range, as KVM's kvm_handle_guest_abort
    /// and io_mem_abort: only a translation fault of a plain access is emulated.
    public enum DeviceHandling: Equatable {
        /// Emulate the access (still needs a valid syndrome, ISV).
        case emulate
        /// Cache maintenance by VA (DC CIVAC...) of a device: nothing to maintain; step over it.
        case skipCacheMaintenance
        /// Anything else (not a translation fault, or the guest's stage-1 walk reaching the
        /// device): the guest gets the abort.
        case inject
    }

    /// (Inlined: the device path tests it on every access.)
    @inlinable @inline(__always) public var deviceHandling: DeviceHandling {
        if !isTranslationFault || stage1PageTableWalk { return .inject }
        return cacheMaintenance ? .skipCacheMaintenance : .emulate
    }

    /// HPFAR_EL2.FIPA, bits 43:4, holds IPA bits 55:12 (Arm ARM D19.2.51).
    @usableFromInline @inline(__always) static func faultingPage(hpfar: UInt64) -> UInt64 {
        (hpfar >> 4 & 0xFF_FFFF_FFFF_FF) << 12
    }
}

/// A stage-2 instruction abort (Arm ARM D19.2.40, "ISS encoding for an Instruction Abort").
public struct InstructionAbort: Equatable {
    public var ipa: GuestPhysicalAddress
    public var virtualAddress: UInt64
    public var faultStatus: UInt8

    public init(esr: ESR, far: UInt64, hpfar: UInt64) {
        ipa = GuestPhysicalAddress(DataAbort.faultingPage(hpfar: hpfar) | (far & 0xFFF))
        virtualAddress = far
        faultStatus = UInt8(bits(esr.iss, 5, 0))
    }
}
