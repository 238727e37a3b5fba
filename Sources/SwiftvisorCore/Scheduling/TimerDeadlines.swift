/// The counter value at which a physical core must next be interrupted by its EL2 timer
/// (CNTHP): the earliest of its time slice's end and the deadlines of the timers kept in
/// software (virtual timers of vCPUs not loaded anywhere, emulated physical timers, the
/// console's shutdown grace periods). A vCPU's deadlines are armed on the core it ran on last,
/// the others on every core; whichever fires first runs them.
public struct TimerDeadlines: Equatable {
    /// The earliest deadline included so far; nil when there is none (CNTHP stays off).
    @inlinable public var earliest: UInt64? { soonest == UInt64.max ? nil : soonest }
    /// `UInt64.max` for none (no counter value is that far away), so that each `include` on the
    /// scheduler's path is one compare.
    @usableFromInline var soonest: UInt64

    /// Starts from the time slice's end; `UInt64.max` (an idle core) is no deadline.
    @inlinable public init(sliceEnd: UInt64) { soonest = sliceEnd }

    @inlinable public mutating func include(_ deadline: UInt64?) {
        if let d = deadline, d < soonest { soonest = d }
    }

    /// CNTHP_CTL_EL2 for these deadlines: armed (ENABLE, IMASK clear) with CNTHP_CVAL_EL2 =
    /// `earliest`, or disabled when there is nothing to wait for.
    @inlinable public var hypervisorTimerControl: TimerControl { earliest == nil ? .disabled : .armed }

    /// The physical counter value at which a virtual timer fires: CNTV_CVAL + CNTVOFF, when it is
    /// enabled with its interrupt unmasked (Arm ARM D11.2.4: the condition is met when
    /// CNTVCT = CNTPCT - CNTVOFF >= CVAL).
    @inlinable public static func virtualTimer(control: TimerControl, compareValue: UInt64, offset: UInt64) -> UInt64? {
        control.firesAtCompareValue ? compareValue &+ offset : nil
    }

    /// A deadline has passed at counter value `now`.
    @inlinable public static func hasPassed(_ deadline: UInt64?, now: UInt64) -> Bool {
        guard let d = deadline else { return false }
        return now >= d
    }
}
