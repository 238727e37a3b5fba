/// SPSR_EL2 / SPSR_EL1, saved program status (Arm ARM C5.2.18).
public struct SPSR: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// M[3:0]: exception level and stack pointer selected on return.
    public enum Mode: UInt64 { case el0t = 0b0000, el1t = 0b0100, el1h = 0b0101, el2t = 0b1000, el2h = 0b1001 }
    public var mode: Mode? { Mode(rawValue: bits(rawValue, 3, 0)) }
    /// M[4]: 1 when the interrupted state was AArch32.
    public var isAArch32: Bool { bit(rawValue, 4) }
    /// M[3:2]: the exception level (AArch64 state).
    public var exceptionLevel: UInt64 { bits(rawValue, 3, 2) }
    /// M[0]: SP_ELx selected (AArch64 state; 0 = SP_EL0).
    public var usesSPx: Bool { bit(rawValue, 0) }
    /// D, A, I, F, bits 9:6: debug, SError, IRQ and FIQ masks.
    public var daif: UInt64 { get { bits(rawValue, 9, 6) } set { rawValue = setting(rawValue, 9, 6, to: newValue) } }
    /// PAN, bit 22: Privileged Access Never (FEAT_PAN).
    public var pan: Bool { get { bit(rawValue, 22) } set { rawValue = setting(rawValue, 22, newValue) } }
    /// SSBS, bit 12 (AArch64 state, FEAT_SSBS): speculative store bypass safe.
    public var ssbs: Bool { get { bit(rawValue, 12) } set { rawValue = setting(rawValue, 12, newValue) } }
    /// DIT, bit 24 in AArch64 state, bit 21 in AArch32 state (FEAT_DIT): data independent timing.
    public var dit: Bool { isAArch32 ? bit(rawValue, 21) : bit(rawValue, 24) }
    /// DIT of an AArch64 state (bit 24).
    public mutating func setDIT(_ on: Bool) { rawValue = setting(rawValue, 24, on) }
    /// IL, bit 20: Illegal Execution state.
    public var il: Bool { get { bit(rawValue, 20) } set { rawValue = setting(rawValue, 20, newValue) } }

    /// SS, bit 21: software step (Arm ARM D2.10.4); 0 after a stepped instruction completes.
    public static let softwareStep: UInt64 = 1 << 21

    /// EL1h with D, A, I and F masked: how a guest kernel is entered (arm64 boot protocol).
    public static let el1hMasked = SPSR(rawValue: 0b1111 << 6 | Mode.el1h.rawValue)
}
