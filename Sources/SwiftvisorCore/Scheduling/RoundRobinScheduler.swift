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

/// Round-robin over runnable vCPUs on one physical CPU. The slot after the current one is
/// tried first, so a vCPU that yields, waits or uses up its time slice lets every other
/// runnable vCPU go before it runs again. A vCPU woken from WFI by an interrupt goes first
/// (as Xen's credit scheduler boosts it), so interrupt latency does not grow with the number
/// of busy vCPUs; it blocks again soon, so it cannot starve the others.
public struct RoundRobinScheduler {
    public private(set) var states: [VCPUState] = []
    public private(set) var current: Int?
    /// vCPUs woken from `.blocked`, oldest first.
    public private(set) var woken: [Int] = []

    public init() {}

    /// Adds a vCPU; returns its slot.
    public mutating func add(_ state: VCPUState) -> Int {
        states.append(state)
        return states.count - 1
    }

    public mutating func setState(_ slot: Int, _ state: VCPUState) { states[slot] = state }

    /// A blocked vCPU has an interrupt: runnable, and first in line. Returns true if it was blocked.
    @discardableResult
    public mutating func wake(_ slot: Int) -> Bool {
        guard states[slot] == .blocked else { return false }
        states[slot] = .runnable
        woken.append(slot)
        return true
    }

    /// The slot to run next, or nil when no vCPU is runnable.
    public mutating func next() -> Int? {
        while !woken.isEmpty {
            let slot = woken.removeFirst()
            if states[slot] == .runnable { current = slot; return slot }
        }
        let n = states.count
        guard n > 0 else { return nil }
        let start = current.map { ($0 + 1) % n } ?? 0
        for i in 0..<n {
            let slot = (start + i) % n
            if states[slot] == .runnable { current = slot; return slot }
        }
        current = nil
        return nil
    }

    public var hasRunnable: Bool { states.contains(.runnable) }
    public var hasBlocked: Bool { states.contains(.blocked) }
}
