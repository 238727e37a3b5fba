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
///   least virtual runtime the core has run; never decreasing), so it runs at once on wake-up
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
public struct CreditScheduler {
    public static let defaultWeight: UInt32 = 256

    public private(set) var states: [VCPUState] = []
    /// Core each vCPU is running on.
    public private(set) var runningOn: [Int?] = []
    /// Cores each vCPU may run on (bit n: core n).
    public private(set) var affinity: [UInt64] = []
    /// The vCPU each core ran last.
    public private(set) var lastOnCore: [Int?]
    /// vCPUs of a paused guest (the console's `pause`): they keep their state but never run.
    public private(set) var paused: [Bool] = []
    /// When each vCPU last blocked (`block`): a wake-up's credit is at most the time since.
    public private(set) var blockedSince: [UInt64] = []
    /// Time charged so far, scaled by 256 / weight.
    public private(set) var virtualRuntime: [UInt64] = []
    public private(set) var weight: [UInt32] = []
    /// The guest (cap group) of each vCPU.
    public private(set) var group: [Int] = []
    /// The core each vCPU ran on last (or will start on): its virtual runtime counts against that floor.
    public private(set) var home: [Int] = []
    /// Per core: the least virtual runtime it has picked (never decreasing).
    public private(set) var floor: [UInt64]
    /// Per core: when the current slice ends.
    public private(set) var sliceEnds: [UInt64]
    /// Per guest: cap budget per period in ticks (0: no cap), used in the current period, its start.
    public private(set) var budget: [UInt64] = []
    public private(set) var used: [UInt64] = []
    public private(set) var periodStart: [UInt64] = []
    /// Per core: its vCPU yielded (WFE, SCHEDOP_yield): another eligible one goes first.
    public private(set) var yielded: [Bool]
    /// Some guest has a cap (so the switch path skips the budget checks when none has).
    public private(set) var capped = false
    public let coreCount: Int
    public let slice: UInt64
    public let period: UInt64
    public var granularity: UInt64 { slice / 5 }
    public var sleeperCredit: UInt64 { slice / 2 }

    /// `slice`: the longest a vCPU runs before others with less virtual runtime get the core
    /// (5 ms on the hypervisor); `period`: the cap accounting period (10 ms, as credit2's).
    public init(cores: Int = 1, slice: UInt64 = 5_000, period: UInt64 = 10_000) {
        coreCount = cores
        self.slice = slice
        self.period = period
        lastOnCore = Array(repeating: nil, count: cores)
        floor = Array(repeating: 0, count: cores)
        sliceEnds = Array(repeating: 0, count: cores)
        yielded = Array(repeating: false, count: cores)
    }

    /// Adds a vCPU of guest `group` (0, 1, ...); returns its slot. An empty affinity means every
    /// core. `cap` is the guest's (percent of one core, 0: none): the last one given counts.
    public mutating func add(_ state: VCPUState, affinity mask: UInt64 = 0, group g: Int = 0,
                             weight w: UInt32 = CreditScheduler.defaultWeight, cap: UInt32 = 0) -> Int {
        states.append(state)
        runningOn.append(nil)
        paused.append(false)
        blockedSince.append(0)
        let all: UInt64 = coreCount >= 64 ? ~0 : (1 << UInt64(coreCount)) - 1
        let allowed = mask & all == 0 ? all : mask & all
        affinity.append(allowed)
        weight.append(max(w, 1))
        group.append(g)
        let start = leastLoaded(allowed)
        home.append(start)
        virtualRuntime.append(floor[start])
        while budget.count <= g { budget.append(0); used.append(0); periodStart.append(0) }
        budget[g] = period * UInt64(cap) / 100
        if cap != 0 { capped = true }
        return states.count - 1
    }

    /// The allowed core with the lowest floor: where a newcomer starts.
    func leastLoaded(_ allowed: UInt64) -> Int {
        var best = 0, least = UInt64.max
        for core in 0..<coreCount where allowed & (1 << UInt64(core)) != 0 && floor[core] < least { best = core; least = floor[core] }
        return best
    }

    /// `slot`'s virtual runtime as it would count on `core`: the same lag behind that core's floor.
    @inline(__always)
    public func runtime(_ slot: Int, on core: Int) -> UInt64 {
        let h = home[slot]
        guard h != core else { return virtualRuntime[slot] }
        let moved = Int64(bitPattern: virtualRuntime[slot]) - Int64(bitPattern: floor[h]) + Int64(bitPattern: floor[core])
        return moved < 0 ? 0 : UInt64(moved)
    }

    /// `.finished` is terminal: another core may still be handling a trap of a vCPU whose VM
    /// was just ended, and must not bring it back. A vCPU powered on starts at the floor.
    public mutating func setState(_ slot: Int, _ state: VCPUState) {
        guard states[slot] != .finished else { return }
        if states[slot] == .off && state == .runnable { virtualRuntime[slot] = max(virtualRuntime[slot], floor[home[slot]]) }
        states[slot] = state
    }

    /// Brings a finished vCPU back, powered off, for a guest that is created again. Only
    /// when no core runs it any more (no late trap of its last life can be in flight).
    public mutating func revive(_ slot: Int) {
        precondition(runningOn[slot] == nil)
        states[slot] = .off
        paused[slot] = false
        used[group[slot]] = 0
    }

    /// `slot` waits for an interrupt (WFI, SCHEDOP_block, SCHEDOP_poll) from `now` on.
    public mutating func block(_ slot: Int, now: UInt64) {
        guard states[slot] != .finished else { return }
        states[slot] = .blocked
        blockedSince[slot] = now
    }

    public mutating func setPaused(_ slot: Int, _ value: Bool) { paused[slot] = value }

    /// The vCPU running on `core` has stopped running there (switched out, blocked, finished).
    public mutating func stopRunning(core: Int) {
        if let slot = lastOnCore[core], runningOn[slot] == core { runningOn[slot] = nil }
    }

    /// `slot` ran `ticks` more: its virtual runtime and its guest's cap budget pay for it.
    public mutating func charge(_ slot: Int, ticks: UInt64, now: UInt64) {
        let w = weight[slot]
        virtualRuntime[slot] &+= w == Self.defaultWeight ? ticks : ticks &* UInt64(Self.defaultWeight) / UInt64(w)
        guard capped else { return }
        let g = group[slot]
        guard budget[g] != 0 else { return }
        refill(g, now: now)
        used[g] &+= ticks
    }

    /// Starts the periods that have passed: each gives the guest its budget again (an
    /// overrun is carried into the next period, so a cap holds on average).
    mutating func refill(_ g: Int, now: UInt64) {
        guard now >= periodStart[g] &+ period else { return }
        let periods = (now &- periodStart[g]) / period
        let refund = periods &* budget[g]
        used[g] = used[g] > refund ? used[g] &- refund : 0
        periodStart[g] &+= periods &* period
    }

    /// Budget left to guest `g` in the period `now` is in (nil: no cap).
    @inline(__always)
    public func budgetLeft(_ g: Int, now: UInt64) -> UInt64? {
        guard budget[g] != 0 else { return nil }
        var u = used[g]
        if now >= periodStart[g] &+ period {
            let refund = ((now &- periodStart[g]) / period) &* budget[g]
            u = u > refund ? u &- refund : 0
        }
        return u < budget[g] ? budget[g] &- u : 0
    }

    /// A capped guest that has used its budget waits for the next period.
    @inline(__always)
    public func parked(_ slot: Int, now: UInt64) -> Bool { budgetLeft(group[slot], now: now) == 0 }

    /// A blocked vCPU has an interrupt at `now`: runnable again. Its virtual runtime is raised
    /// to at most `sleeperCredit`, and at most the time it slept, before the floor of the core
    /// it ran on. Returns true if it was blocked.
    @discardableResult
    public mutating func wake(_ slot: Int, now: UInt64 = .max) -> Bool {
        guard states[slot] == .blocked else { return false }   // (never a finished one)
        states[slot] = .runnable
        let slept = now > blockedSince[slot] ? now &- blockedSince[slot] : 0
        let credit = min(sleeperCredit, slept)
        let least = floor[home[slot]]
        virtualRuntime[slot] = max(virtualRuntime[slot], least > credit ? least &- credit : 0)
        return true
    }

    @inline(__always)
    func eligible(_ slot: Int, core: Int, now: UInt64) -> Bool {
        guard states[slot] == .runnable, !paused[slot], affinity[slot] & (1 << UInt64(core)) != 0 else { return false }
        if let on = runningOn[slot], on != core { return false }
        return !capped || !parked(slot, now: now)
    }

    /// When the slice of the vCPU `core` runs ends.
    @inline(__always)
    public func sliceEnd(core: Int) -> UInt64 { sliceEnds[core] }

    /// The vCPU running on `core` (nil when it runs none).
    @inline(__always)
    public func current(core: Int) -> Int? {
        guard let slot = lastOnCore[core], runningOn[slot] == core else { return nil }
        return slot
    }

    /// Whether `slot` (just woken, runnable) should take `core` from the vCPU running there
    /// now (charged up to now): it is `granularity` behind it, or the core runs nothing.
    public func shouldPreempt(_ slot: Int, core: Int, now: UInt64) -> Bool {
        guard eligible(slot, core: core, now: now) else { return false }
        guard let c = current(core: core), c != slot, eligible(c, core: core, now: now) else { return true }
        return runtime(slot, on: core) &+ granularity < virtualRuntime[c]
    }

    /// The vCPU running on `core` gives way: at the next pick, any other eligible vCPU goes
    /// before it (as CFS's yield), whatever their virtual runtimes.
    public mutating func yield(core: Int) { yielded[core] = current(core: core) != nil }

    /// The vCPU `core` runs next, now marked running there; nil when none is eligible. The
    /// vCPU it runs keeps the core until its slice ends unless another is `granularity`
    /// behind it; then the one with the least virtual runtime goes (ties: round-robin).
    public mutating func next(core: Int = 0, now: UInt64 = 0) -> Int? {
        let n = states.count
        guard n > 0 else { return nil }
        let start = lastOnCore[core].map { ($0 + 1) % n } ?? 0
        let running = current(core: core)
        let skip = yielded[core] ? running : nil
        if yielded[core] { yielded[core] = false }
        var best = -1, bestRuntime = UInt64.max
        var slot = start
        for _ in 0..<n {
            if slot != skip, eligible(slot, core: core, now: now) {
                let r = runtime(slot, on: core)
                if r < bestRuntime { best = slot; bestRuntime = r }
            }
            slot += 1
            if slot == n { slot = 0 }
        }
        if best < 0, let s = skip, eligible(s, core: core, now: now) { best = s; bestRuntime = virtualRuntime[s] }
        guard best >= 0 else { return nil }
        if skip == nil, let c = running, now < sliceEnds[core], eligible(c, core: core, now: now) {
            // Its slice goes on unless the best is `granularity` behind it.
            if c == best || bestRuntime &+ granularity >= virtualRuntime[c] { return c }
        }
        return take(best, core: core, now: now)
    }

    private mutating func take(_ slot: Int, core: Int, now: UInt64) -> Int {
        if let previous = lastOnCore[core], previous != slot, runningOn[previous] == core { runningOn[previous] = nil }
        runningOn[slot] = core
        lastOnCore[core] = slot
        if home[slot] != core {
            virtualRuntime[slot] = runtime(slot, on: core)
            home[slot] = core
        }
        let r = virtualRuntime[slot]
        if r > floor[core] { floor[core] = r }
        var length = slice
        if capped, let left = budgetLeft(group[slot], now: now) { length = min(length, left) }
        sliceEnds[core] = now &+ length
        return slot
    }

    /// A core that should look at `slot` now it is runnable: an allowed idle core (running
    /// nothing) if there is one, else an allowed core other than `except` whose vCPU it should
    /// preempt (`shouldPreempt`); nil when it waits for a slice to end.
    public func coreToKick(for slot: Int, idleCores: UInt64, except: Int?, now: UInt64) -> Int? {
        guard runningOn[slot] == nil else { return nil }   // its core knows
        let allowed = affinity[slot]
        let idleAllowed = allowed & idleCores
        if idleAllowed != 0 { return idleAllowed.trailingZeroBitCount }
        for core in 0..<coreCount where allowed & (1 << UInt64(core)) != 0 && core != except {
            if shouldPreempt(slot, core: core, now: now) { return core }
        }
        return nil
    }

    /// Some vCPU that no core runs could run on `core` now.
    public func canRun(core: Int, now: UInt64 = 0) -> Bool {
        for slot in 0..<states.count where runningOn[slot] == nil && eligible(slot, core: core, now: now) { return true }
        return false
    }

    /// When a parked (capped) guest with a runnable vCPU gets its budget back; nil if none waits.
    public func nextRefill(now: UInt64) -> UInt64? {
        var earliest: UInt64?
        for slot in 0..<states.count where states[slot] == .runnable && !paused[slot] && parked(slot, now: now) {
            let g = group[slot]
            // The first period boundary at which the carried overrun is paid off.
            let elapsed = now >= periodStart[g] ? (now &- periodStart[g]) / period : 0
            let owed = used[g] &- min(used[g], elapsed &* budget[g])   // >= budget: parked
            let periods = (owed &- budget[g]) / budget[g] &+ 1
            let at = periodStart[g] &+ (elapsed &+ periods) &* period
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
