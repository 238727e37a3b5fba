/// The state of one vCPU as the scheduler sees it.
public enum VCPUState: Equatable {
    /// Powered off (not yet started by PSCI CPU_ON, or after CPU_OFF).
    case off
    case runnable
    /// In WFI (or SCHEDOP_block) with nothing pending: runnable again when an interrupt is.
    case blocked
    /// Its VM has shut down or was stopped: never scheduled again.
    case finished
}

/// A virtual-runtime scheduler shared by every physical core (as Linux's CFS; Xen's credit2
/// keeps the same invariant with credits). Each vCPU's time on a core is charged to it scaled
/// by 256 / weight (`virtualRuntime`); a core runs the eligible vCPU with the least. So over
/// time each vCPU gets the share of its core its weight asks for, whatever it does:
///
/// - A vCPU that wakes (from WFI) keeps its virtual runtime, so a guest that sleeps briefly
///   and often (the wake-up booster) cannot get ahead of its share. It preempts the running
///   vCPU only when it is at least `granularity` behind it.
/// - A vCPU that really slept is placed at most `sleeperCredit` before the core's floor (the
///   least virtual runtime the core runs or has waiting; never decreasing), so it runs at once on wake-up
///   (low latency) but cannot bank its sleep as credit (credit2 and CFS bound a sleeper's lag
///   the same way). The credit is never more than the time it slept: a vCPU that naps 50 us
///   is placed 50 us before the floor, too little to preempt (`granularity`), so the booster's
///   wake-ups never cut the running vCPU's slice short.
/// - `cap` (xl.cfg: percent of one core for the whole guest, 0 for none) is a budget per
///   `period`: a guest that used it is parked until the next period; overruns are carried.
///
/// A vCPU runs on one core at a time and only on the cores its affinity allows. Each core has its
/// own floor, and a vCPU's virtual runtime counts against the floor of the core it ran on last
/// (`home`): when it moves, it keeps its lag behind (or lead over) the floor, as CFS renormalises
/// a task that migrates, so a vCPU from a busy core neither starves nor is starved on another.
/// Times are in counter ticks; the caller passes `now` (the host tests use a fake clock).
public final class CreditScheduler {
    public static let defaultWeight: UInt32 = 256

    // Every table is a `SchedulerColumn` (storage allocated once, written in place): the
    // scheduler runs on every world switch, and an `Array` in a class pays a uniqueness check
    // (and a possible copy) on each write. Each is public as a read-only view.

    /// vCPUs added so far (slots 0..<count).
    public private(set) var count = 0
    @usableFromInline var stateColumn: SchedulerColumn<VCPUState>
    /// Core each vCPU is running on.
    @usableFromInline var runningOnColumn: SchedulerSlotColumn
    /// Cores each vCPU may run on (bit n: core n).
    @usableFromInline var affinityColumn: SchedulerColumn<UInt64>
    /// vCPUs of a paused guest (the console's `pause`): they keep their state but never run.
    var pausedColumn: SchedulerColumn<Bool>
    /// When each vCPU last blocked (`block`): a wake-up's credit is at most the time since.
    var blockedSinceColumn: SchedulerColumn<UInt64>
    /// Time charged so far, scaled by 256 / weight.
    @usableFromInline var virtualRuntimeColumn: SchedulerColumn<UInt64>
    var weightColumn: SchedulerColumn<UInt32>
    /// The guest (cap group) of each vCPU.
    var groupColumn: SchedulerColumn<Int>
    /// The core each vCPU ran on last (or will start on): its virtual runtime counts against that floor.
    @usableFromInline var homeColumn: SchedulerColumn<Int>
    /// Per core: the vCPU it ran last.
    @usableFromInline let lastOnCoreColumn: SchedulerSlotColumn
    /// Per core: the least virtual runtime it has run (never decreasing): moved on a pick and
    /// as its vCPU is charged, up to the least of the vCPUs that waited at the last pick.
    let floorColumn: SchedulerColumn<UInt64>
    /// Per core: the least virtual runtime among the eligible vCPUs it did not pick last time
    /// (`UInt64.max`: none), which the floor does not pass while its vCPU runs.
    let waitingLeastColumn: SchedulerColumn<UInt64>
    /// Per core: when the current slice ends.
    @usableFromInline let sliceEndColumn: SchedulerColumn<UInt64>
    /// Per core: its vCPU yielded (WFE, SCHEDOP_yield): another eligible one goes first.
    let yieldedColumn: SchedulerColumn<Bool>
    /// Guests (cap groups) so far.
    var groupCount = 0
    /// Per guest: cap budget per period in ticks (0: no cap), used in the current period, its start.
    var budgetColumn: SchedulerColumn<UInt64>
    var usedColumn: SchedulerColumn<UInt64>
    var periodStartColumn: SchedulerColumn<UInt64>
    /// Some guest has a cap (so the switch path skips the budget checks when none has).
    public private(set) var capped = false
    public let coreCount: Int
    public let slice: UInt64
    public let period: UInt64
    public let granularity: UInt64
    public let sleeperCredit: UInt64

    @inlinable public var states: SchedulerColumnView<VCPUState> { SchedulerColumnView(stateColumn, count: count) }
    @inlinable public var runningOn: SchedulerSlotView { SchedulerSlotView(runningOnColumn, count: count) }
    @inlinable public var affinity: SchedulerColumnView<UInt64> { SchedulerColumnView(affinityColumn, count: count) }
    @inlinable public var virtualRuntime: SchedulerColumnView<UInt64> { SchedulerColumnView(virtualRuntimeColumn, count: count) }
    @inlinable public var lastOnCore: SchedulerSlotView { SchedulerSlotView(lastOnCoreColumn, count: coreCount) }
    public var paused: SchedulerColumnView<Bool> { SchedulerColumnView(pausedColumn, count: count) }
    public var weight: SchedulerColumnView<UInt32> { SchedulerColumnView(weightColumn, count: count) }
    public var group: SchedulerColumnView<Int> { SchedulerColumnView(groupColumn, count: count) }
    @inlinable public var home: SchedulerColumnView<Int> { SchedulerColumnView(homeColumn, count: count) }
    public var floor: SchedulerColumnView<UInt64> { SchedulerColumnView(floorColumn, count: coreCount) }

    /// `slice`: the longest a vCPU runs before others with less virtual runtime get the core
    /// (5 ms on the hypervisor); `period`: the cap accounting period (10 ms, as credit2's).
    public init(cores: Int = 1, slice: UInt64 = 5_000, period: UInt64 = 10_000) {
        coreCount = cores
        self.slice = slice
        self.period = period
        granularity = slice / 5
        sleeperCredit = slice / 2
        stateColumn = SchedulerColumn(count: 0, repeating: .off)
        runningOnColumn = SchedulerSlotColumn(count: 0)
        affinityColumn = SchedulerColumn(count: 0, repeating: 0)
        pausedColumn = SchedulerColumn(count: 0, repeating: false)
        blockedSinceColumn = SchedulerColumn(count: 0, repeating: 0)
        virtualRuntimeColumn = SchedulerColumn(count: 0, repeating: 0)
        weightColumn = SchedulerColumn(count: 0, repeating: 0)
        groupColumn = SchedulerColumn(count: 0, repeating: 0)
        homeColumn = SchedulerColumn(count: 0, repeating: 0)
        lastOnCoreColumn = SchedulerSlotColumn(count: cores)
        floorColumn = SchedulerColumn(count: cores, repeating: 0)
        waitingLeastColumn = SchedulerColumn(count: cores, repeating: .max)
        sliceEndColumn = SchedulerColumn(count: cores, repeating: 0)
        yieldedColumn = SchedulerColumn(count: cores, repeating: false)
        budgetColumn = SchedulerColumn(count: 0, repeating: 0)
        usedColumn = SchedulerColumn(count: 0, repeating: 0)
        periodStartColumn = SchedulerColumn(count: 0, repeating: 0)
    }

    deinit {
        stateColumn.release(count: count); runningOnColumn.release(count: count)
        affinityColumn.release(count: count); pausedColumn.release(count: count)
        blockedSinceColumn.release(count: count); virtualRuntimeColumn.release(count: count)
        weightColumn.release(count: count); groupColumn.release(count: count); homeColumn.release(count: count)
        lastOnCoreColumn.release(count: coreCount); floorColumn.release(count: coreCount)
        waitingLeastColumn.release(count: coreCount); sliceEndColumn.release(count: coreCount)
        yieldedColumn.release(count: coreCount)
        budgetColumn.release(count: groupCount); usedColumn.release(count: groupCount)
        periodStartColumn.release(count: groupCount)
    }

    /// Adds a vCPU of guest `group` (0, 1, ...); returns its slot. An empty affinity means every
    /// core. `cap` is the guest's (percent of one core, 0: none): the last one given counts.
    public func add(_ state: VCPUState, affinity mask: UInt64 = 0, group g: Int = 0,
                    weight w: UInt32 = CreditScheduler.defaultWeight, cap: UInt32 = 0) -> Int {
        let slot = count
        stateColumn.append(state, count: slot)
        runningOnColumn.append(nil, count: slot)
        pausedColumn.append(false, count: slot)
        blockedSinceColumn.append(0, count: slot)
        let all: UInt64 = coreCount >= 64 ? ~0 : (1 << UInt64(coreCount)) - 1
        let allowed = mask & all == 0 ? all : mask & all
        affinityColumn.append(allowed, count: slot)
        weightColumn.append(max(w, 1), count: slot)
        groupColumn.append(g, count: slot)
        let start = leastLoaded(allowed)
        homeColumn.append(start, count: slot)
        virtualRuntimeColumn.append(floorColumn[start], count: slot)
        while groupCount <= g {
            budgetColumn.append(0, count: groupCount)
            usedColumn.append(0, count: groupCount)
            periodStartColumn.append(0, count: groupCount)
            groupCount += 1
        }
        budgetColumn[g] = period * UInt64(cap) / 100
        if cap != 0 { capped = true }
        count += 1
        return slot
    }

    /// The allowed core with the lowest floor: where a newcomer starts.
    func leastLoaded(_ allowed: UInt64) -> Int {
        var best = 0, least = UInt64.max
        for core in 0..<coreCount where allowed & (1 << UInt64(core)) != 0 && floorColumn[core] < least { best = core; least = floorColumn[core] }
        return best
    }

    /// `slot`'s virtual runtime as it would count on `core`: the same lag behind that core's floor.
    @inline(__always)
    public func runtime(_ slot: Int, on core: Int) -> UInt64 {
        let h = homeColumn[slot]
        guard h != core else { return virtualRuntimeColumn[slot] }
        let moved = Int64(bitPattern: virtualRuntimeColumn[slot]) - Int64(bitPattern: floorColumn[h]) + Int64(bitPattern: floorColumn[core])
        return moved < 0 ? 0 : UInt64(moved)
    }

    /// `.finished` is terminal: another core may still be handling a trap of a vCPU whose VM
    /// was just ended, and must not bring it back. A vCPU powered on starts at the floor.
    public func setState(_ slot: Int, _ state: VCPUState) {
        guard stateColumn[slot] != .finished else { return }
        if stateColumn[slot] == .off && state == .runnable { virtualRuntimeColumn[slot] = max(virtualRuntimeColumn[slot], floorColumn[homeColumn[slot]]) }
        stateColumn[slot] = state
    }

    /// Brings a finished vCPU back, powered off, for a guest that is created again. Only
    /// when no core runs it any more (no late trap of its last life can be in flight).
    public func revive(_ slot: Int) {
        precondition(runningOnColumn[slot] == nil)
        stateColumn[slot] = .off
        pausedColumn[slot] = false
        usedColumn[groupColumn[slot]] = 0
    }

    /// `slot` waits for an interrupt (WFI, SCHEDOP_block, SCHEDOP_poll) from `now` on.
    public func block(_ slot: Int, now: UInt64) {
        guard stateColumn[slot] != .finished else { return }
        stateColumn[slot] = .blocked
        blockedSinceColumn[slot] = now
    }

    public func setPaused(_ slot: Int, _ value: Bool) { pausedColumn[slot] = value }

    /// The vCPU running on `core` has stopped running there (switched out, blocked, finished).
    public func stopRunning(core: Int) {
        if let slot = lastOnCoreColumn[core], runningOnColumn[slot] == core { runningOnColumn[slot] = nil }
    }

    /// `slot` ran `ticks` more: its virtual runtime and its guest's cap budget pay for it.
    public func charge(_ slot: Int, ticks: UInt64, now: UInt64) {
        let w = weightColumn[slot]
        let r = virtualRuntimeColumn[slot] &+ (w == Self.defaultWeight ? ticks : ticks &* UInt64(Self.defaultWeight) / UInt64(w))
        virtualRuntimeColumn[slot] = r
        // The floor follows the running vCPU (as CFS's min_vruntime follows `curr`), but not
        // past a vCPU that waited for the core at the last pick: a vCPU woken (or started)
        // there is placed against what runs now, not against when the core last picked.
        let h = homeColumn[slot]
        if runningOnColumn[slot] == h {
            let least = min(r, waitingLeastColumn[h])
            if least > floorColumn[h] { floorColumn[h] = least }
        }
        guard capped else { return }
        let g = groupColumn[slot]
        guard budgetColumn[g] != 0 else { return }
        refill(g, now: now)
        usedColumn[g] &+= ticks
    }

    /// Starts the periods that have passed: each gives the guest its budget again (an
    /// overrun is carried into the next period, so a cap holds on average).
    func refill(_ g: Int, now: UInt64) {
        guard now >= periodStartColumn[g] &+ period else { return }
        let periods = (now &- periodStartColumn[g]) / period
        let refund = periods &* budgetColumn[g]
        usedColumn[g] = usedColumn[g] > refund ? usedColumn[g] &- refund : 0
        periodStartColumn[g] &+= periods &* period
    }

    /// Budget left to guest `g` in the period `now` is in (nil: no cap).
    @inline(__always)
    public func budgetLeft(_ g: Int, now: UInt64) -> UInt64? {
        guard budgetColumn[g] != 0 else { return nil }
        var u = usedColumn[g]
        if now >= periodStartColumn[g] &+ period {
            let refund = ((now &- periodStartColumn[g]) / period) &* budgetColumn[g]
            u = u > refund ? u &- refund : 0
        }
        return u < budgetColumn[g] ? budgetColumn[g] &- u : 0
    }

    /// A capped guest that has used its budget waits for the next period.
    @inline(__always)
    public func parked(_ slot: Int, now: UInt64) -> Bool { budgetLeft(groupColumn[slot], now: now) == 0 }

    /// A blocked vCPU has an interrupt at `now`: runnable again. Its virtual runtime is raised
    /// to at most `sleeperCredit`, and at most the time it slept, before the floor of the core
    /// it ran on. Returns true if it was blocked.
    @discardableResult
    public func wake(_ slot: Int, now: UInt64 = .max) -> Bool {
        guard stateColumn[slot] == .blocked else { return false }   // (never a finished one)
        stateColumn[slot] = .runnable
        let slept = now > blockedSinceColumn[slot] ? now &- blockedSinceColumn[slot] : 0
        let credit = min(sleeperCredit, slept)
        let least = floorColumn[homeColumn[slot]]
        virtualRuntimeColumn[slot] = max(virtualRuntimeColumn[slot], least > credit ? least &- credit : 0)
        return true
    }

    @inline(__always)
    func eligible(_ slot: Int, core: Int, now: UInt64) -> Bool {
        guard stateColumn[slot] == .runnable, !pausedColumn[slot], affinityColumn[slot] & (1 << UInt64(core)) != 0 else { return false }
        if let on = runningOnColumn[slot], on != core { return false }
        return !capped || !parked(slot, now: now)
    }

    /// When the slice of the vCPU `core` runs ends.
    @inline(__always)
    public func sliceEnd(core: Int) -> UInt64 { sliceEndColumn[core] }

    /// The vCPU running on `core` (nil when it runs none).
    @inline(__always)
    public func current(core: Int) -> Int? {
        guard let slot = lastOnCoreColumn[core], runningOnColumn[slot] == core else { return nil }
        return slot
    }

    /// Whether `slot` (just woken, runnable) should take `core` from the vCPU running there
    /// now (charged up to now): it is `granularity` behind it, or the core runs nothing.
    public func shouldPreempt(_ slot: Int, core: Int, now: UInt64) -> Bool {
        guard eligible(slot, core: core, now: now) else { return false }
        guard let c = current(core: core), c != slot, eligible(c, core: core, now: now) else { return true }
        return runtime(slot, on: core) &+ granularity < virtualRuntimeColumn[c]
    }

    /// The vCPU running on `core` gives way: at the next pick, any other eligible vCPU goes
    /// before it (as CFS's yield), whatever their virtual runtimes.
    public func yield(core: Int) { yieldedColumn[core] = current(core: core) != nil }

    /// The vCPU `core` runs next, now marked running there; nil when none is eligible. The
    /// vCPU it runs keeps the core until its slice ends unless another is `granularity`
    /// behind it; then the one with the least virtual runtime goes (ties: round-robin).
    public func next(core: Int = 0, now: UInt64 = 0) -> Int? {
        let n = count
        guard n > 0 else { return nil }
        let start = lastOnCoreColumn[core].map { ($0 + 1) % n } ?? 0
        let running = current(core: core)
        let skip = yieldedColumn[core] ? running : nil
        if yieldedColumn[core] { yieldedColumn[core] = false }
        // The least virtual runtime, and the least of the others (the floor's bound while it runs).
        var best = -1, bestRuntime = UInt64.max, othersLeast = UInt64.max
        var slot = start
        for _ in 0..<n {
            if slot != skip, eligible(slot, core: core, now: now) {
                let r = runtime(slot, on: core)
                if r < bestRuntime { best = slot; othersLeast = bestRuntime; bestRuntime = r } else if r < othersLeast { othersLeast = r }
            }
            slot += 1
            if slot == n { slot = 0 }
        }
        if let s = skip {
            // The one that yielded waits too (or, alone, goes on).
            if best >= 0 { othersLeast = min(othersLeast, virtualRuntimeColumn[s]) }
            else if eligible(s, core: core, now: now) { best = s; bestRuntime = virtualRuntimeColumn[s] }
        }
        guard best >= 0 else { return nil }
        if skip == nil, let c = running, now < sliceEndColumn[core], eligible(c, core: core, now: now) {
            // Its slice goes on unless the best is `granularity` behind it.
            if c == best || bestRuntime &+ granularity >= virtualRuntimeColumn[c] { return c }
        }
        waitingLeastColumn[core] = othersLeast
        return take(best, core: core, now: now)
    }

    private func take(_ slot: Int, core: Int, now: UInt64) -> Int {
        if let previous = lastOnCoreColumn[core], previous != slot, runningOnColumn[previous] == core { runningOnColumn[previous] = nil }
        runningOnColumn[slot] = core
        lastOnCoreColumn[core] = slot
        if homeColumn[slot] != core {
            virtualRuntimeColumn[slot] = runtime(slot, on: core)
            homeColumn[slot] = core
        }
        let r = virtualRuntimeColumn[slot]
        if r > floorColumn[core] { floorColumn[core] = r }
        var length = slice
        if capped, let left = budgetLeft(groupColumn[slot], now: now) { length = min(length, left) }
        sliceEndColumn[core] = now &+ length
        return slot
    }

    /// A core that should look at `slot` now it is runnable: an allowed idle core (running
    /// nothing) if there is one, else an allowed core other than `except` whose vCPU it should
    /// preempt (`shouldPreempt`); nil when it waits for a slice to end.
    public func coreToKick(for slot: Int, idleCores: UInt64, except: Int?, now: UInt64) -> Int? {
        guard runningOnColumn[slot] == nil else { return nil }   // its core knows
        let allowed = affinityColumn[slot]
        let idleAllowed = allowed & idleCores
        if idleAllowed != 0 { return idleAllowed.trailingZeroBitCount }
        for core in 0..<coreCount where allowed & (1 << UInt64(core)) != 0 && core != except {
            if shouldPreempt(slot, core: core, now: now) { return core }
        }
        return nil
    }

    /// Some vCPU that no core runs could run on `core` now.
    public func canRun(core: Int, now: UInt64 = 0) -> Bool {
        for slot in 0..<count where runningOnColumn[slot] == nil && eligible(slot, core: core, now: now) { return true }
        return false
    }

    /// When a parked (capped) guest with a runnable vCPU gets its budget back; nil if none waits.
    public func nextRefill(now: UInt64) -> UInt64? {
        var earliest: UInt64?
        for slot in 0..<count where stateColumn[slot] == .runnable && !pausedColumn[slot] && parked(slot, now: now) {
            let g = groupColumn[slot]
            // The first period boundary at which the carried overrun is paid off.
            let elapsed = now >= periodStartColumn[g] ? (now &- periodStartColumn[g]) / period : 0
            let owed = usedColumn[g] &- min(usedColumn[g], elapsed &* budgetColumn[g])   // >= budget: parked
            let periods = (owed &- budgetColumn[g]) / budgetColumn[g] &+ 1
            let at = periodStartColumn[g] &+ (elapsed &+ periods) &* period
            earliest = min(earliest ?? at, at)
        }
        return earliest
    }

    public var hasCaps: Bool { capped }
    public var hasRunnable: Bool { states.contains(.runnable) }
    public var hasBlocked: Bool { states.contains(.blocked) }
    /// Some vCPU can still run or be woken: the machine is not finished.
    public var hasLive: Bool { states.contains { $0 == .runnable || $0 == .blocked } }
}
