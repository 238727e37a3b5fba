/// CNTV_CTL_EL0, CNTP_CTL_EL0 and CNTHP_CTL_EL2: a generic timer's control register (Arm ARM
/// D19.11; all three share this layout).
public struct TimerControl: Equatable {
    public var rawValue: UInt64
    @inlinable @inline(__always) public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    /// ENABLE, bit 0: the timer runs.
    @inlinable public var enable: Bool { get { bit(rawValue, 0) } set { rawValue = newValue ? rawValue | 1 : rawValue & ~1 } }
    /// IMASK, bit 1: its interrupt is masked.
    @inlinable public var imask: Bool { get { bit(rawValue, 1) } set { rawValue = newValue ? rawValue | 2 : rawValue & ~2 } }
    /// ISTATUS, bit 2 (read-only): the timer condition is met.
    @inlinable public var istatus: Bool { get { bit(rawValue, 2) } set { rawValue = newValue ? rawValue | 4 : rawValue & ~4 } }

    /// IMASK alone, to OR into a saved or live CTL value (masking a timer that fired).
    public static let masked: UInt64 = 1 << 1
    /// ENABLE and IMASK, the bits software writes.
    public static let writable: UInt64 = 0b11

    /// Enabled with its interrupt unmasked: it fires when the counter reaches its compare value.
    @inlinable public var firesAtCompareValue: Bool { rawValue & 0b11 == 0b01 }

    /// Enabled, interrupt unmasked.
    public static var armed: TimerControl { TimerControl(rawValue: 1) }
    /// Disabled.
    public static var disabled: TimerControl { TimerControl(rawValue: 0) }
}
