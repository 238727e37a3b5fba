/// The state of one vCPU as the scheduler sees it.
public enum VCPUState: Equatable {
    /// Powered off (not yet started by PSCI CPU_ON, or after CPU_OFF).
    case off
    case runnable
    /// In WFI with nothing pending: runnable again when an interrupt becomes pending.
    case blocked
    /// Its VM has shut down or was stopped: never scheduled again.
    case finished
}

/// Round-robin over runnable vCPUs, shared by every physical core. Each core starts its search
/// after the vCPU it ran last, so a vCPU that yields, waits or uses up its time slice lets the
/// other runnable vCPUs go before it runs again. A vCPU runs on one core at a time and only on
/// the cores its affinity allows. A vCPU woken from WFI by an interrupt goes first (as Xen's
/// credit scheduler boosts it), so interrupt latency does not grow with the number of busy
/// vCPUs; it blocks again soon, so it cannot starve the others.
public struct RoundRobinScheduler {
    public private(set) var states: [VCPUState] = []
    /// Core each vCPU is running on.
    public private(set) var runningOn: [Int?] = []
    /// Cores each vCPU may run on (bit n: core n).
    public private(set) var affinity: [UInt64] = []
    /// The vCPU each core ran last (where its round-robin search resumes).
    public private(set) var lastOnCore: [Int?]
    /// vCPUs of a paused guest (the console's `pause`): they keep their state but never run.
    public private(set) var paused: [Bool] = []
    /// vCPUs woken from `.blocked`, oldest first.
    public private(set) var woken: [Int] = []
    public let coreCount: Int

    public init(cores: Int = 1) {
        coreCount = cores
        lastOnCore = Array(repeating: nil, count: cores)
    }

    /// Adds a vCPU; returns its slot. An empty affinity means every core.
    public mutating func add(_ state: VCPUState, affinity mask: UInt64 = 0) -> Int {
        states.append(state)
        runningOn.append(nil)
        paused.append(false)
        let all: UInt64 = coreCount >= 64 ? ~0 : (1 << UInt64(coreCount)) - 1
        affinity.append(mask & all == 0 ? all : mask & all)
        return states.count - 1
    }

    /// `.finished` is terminal: another core may still be handling a trap of a vCPU whose VM
    /// was just ended, and must not bring it back.
    public mutating func setState(_ slot: Int, _ state: VCPUState) {
        if states[slot] != .finished { states[slot] = state }
    }

    /// Brings a finished vCPU back, powered off, for a guest that is created again. Only
    /// when no core runs it any more (no late trap of its last life can be in flight).
    public mutating func revive(_ slot: Int) {
        precondition(runningOn[slot] == nil)
        states[slot] = .off
        paused[slot] = false
    }

    public mutating func setPaused(_ slot: Int, _ value: Bool) { paused[slot] = value }

    /// The vCPU running on `core` has stopped running there (switched out, blocked, finished).
    public mutating func stopRunning(core: Int) {
        if let slot = lastOnCore[core], runningOn[slot] == core { runningOn[slot] = nil }
    }

    /// A blocked vCPU has an interrupt: runnable, and first in line. Returns true if it was blocked.
    @discardableResult
    public mutating func wake(_ slot: Int) -> Bool {
        guard states[slot] == .blocked else { return false }   // (never a finished one)
        states[slot] = .runnable
        woken.append(slot)
        return true
    }

    func eligible(_ slot: Int, core: Int) -> Bool {
        states[slot] == .runnable && !paused[slot] && (runningOn[slot] == nil || runningOn[slot] == core)
            && affinity[slot] & (1 << UInt64(core)) != 0
    }

    /// The vCPU `core` runs next, now marked running there; nil when none is eligible. The
    /// vCPU the core ran before must have been released with `stopRunning(core:)` or be
    /// picked again.
    public mutating func next(core: Int = 0) -> Int? {
        if let i = woken.firstIndex(where: { eligible($0, core: core) }) {
            return take(woken.remove(at: i), core: core)
        }
        let n = states.count
        guard n > 0 else { return nil }
        let start = lastOnCore[core].map { ($0 + 1) % n } ?? 0
        for i in 0..<n {
            let slot = (start + i) % n
            if eligible(slot, core: core) { return take(slot, core: core) }
        }
        return nil
    }

    private mutating func take(_ slot: Int, core: Int) -> Int {
        if let previous = lastOnCore[core], previous != slot, runningOn[previous] == core { runningOn[previous] = nil }
        runningOn[slot] = core
        lastOnCore[core] = slot
        return slot
    }

    /// A core that should look at `slot` now it is runnable: an allowed core that is idle
    /// (running nothing) if there is one, else any allowed core other than `except`.
    public func coreToKick(for slot: Int, idleCores: UInt64, except: Int?) -> Int? {
        let allowed = affinity[slot]
        let idleAllowed = allowed & idleCores
        if idleAllowed != 0 { return idleAllowed.trailingZeroBitCount }
        var candidates = allowed
        if let except { candidates &= ~(1 << UInt64(except)) }
        return candidates == 0 ? nil : candidates.trailingZeroBitCount
    }

    /// Some vCPU that no core runs could run on `core` now.
    public func canRun(core: Int) -> Bool {
        for slot in 0..<states.count where runningOn[slot] == nil && eligible(slot, core: core) { return true }
        return false
    }

    public var hasRunnable: Bool { states.contains(.runnable) }
    public var hasBlocked: Bool { states.contains(.blocked) }
    /// Some vCPU can still run or be woken: the machine is not finished.
    public var hasLive: Bool { states.contains { $0 == .runnable || $0 == .blocked } }
}
