/// MDSCR_EL1, Monitor Debug System Control Register (Arm ARM D19.3.24), as a guest holding its
/// OS lock sees it and as the hardware must hold it then.
///
/// The OS lock is emulated (QEMU ignores the hardware's). While a guest's OSLSR_EL1.OSLK is 1,
/// breakpoint, watchpoint and software-step exceptions are not generated (Arm ARM D2.5, "The OS
/// Lock"; only BRK is). So, as KVM does (kvm_arm_setup_mdscr_for_os_lock): the vCPU runs with
/// MDE, KDE and SS clear and its own values of them kept aside, and its MDSCR_EL1 reads show
/// those values, so that locking changes nothing it can read.
public struct MDSCR: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    /// SS, bit 0: software step enabled.
    public var ss: Bool { get { bit(rawValue, 0) } set { rawValue = setting(rawValue, 0, newValue) } }
    /// KDE, bit 13: debug exceptions at the current EL (EL1) enabled.
    public var kde: Bool { get { bit(rawValue, 13) } set { rawValue = setting(rawValue, 13, newValue) } }
    /// MDE, bit 15: breakpoint and watchpoint exceptions enabled.
    public var mde: Bool { get { bit(rawValue, 15) } set { rawValue = setting(rawValue, 15, newValue) } }

    /// MDE, KDE and SS: the bits that let a debug exception other than BRK be generated.
    public static let exceptionEnables: UInt64 = 1 << 15 | 1 << 13 | 1

    /// What the hardware holds while the guest's OS lock is set and it wrote `guest`.
    public static func whileOSLocked(_ guest: UInt64) -> UInt64 { guest & ~exceptionEnables }

    /// What the guest reads while its OS lock is set: the hardware's value (its status bits)
    /// with its own MDE, KDE and SS (`kept`, as it wrote them).
    public static func guestView(hardware: UInt64, kept: UInt64) -> UInt64 {
        hardware & ~exceptionEnables | kept & exceptionEnables
    }
}
