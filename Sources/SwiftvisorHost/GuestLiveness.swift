import SwiftvisorCore

/// Which guests can take typed input, by the hypervisor's own lines: a guest is live from its
/// start (built with autostart, created, rebooting) until it ends (shut down, stopped,
/// destroyed, not started) or its kernel panics. The console session moves the input focus off
/// a guest that ends, so that what is typed next never goes to a guest that cannot read it.
struct GuestLiveness {
    let guestNames: [String]
    /// Per guest (manifest order): nil while live, else how it ended in a few words.
    private(set) var ending: [String?]
    /// Guests whose kernel panicked: they take no input, but the hypervisor still runs them.
    private(set) var crashed: Set<Int> = []

    /// Every guest is taken as live until the hypervisor says otherwise.
    init(guestNames: [String]) {
        self.guestNames = guestNames
        ending = Array(repeating: nil, count: guestNames.count)
    }

    func isLive(_ n: Int) -> Bool { ending.indices.contains(n) && ending[n] == nil }

    /// Reads a hypervisor line; returns the guest it ended (that was live before it), if any.
    mutating func consume(_ line: String) -> Int? {
        guard let message = HypervisorMessage.parse(Array(line.utf8)), let guest = message.guest,
              let n = guestNames.firstIndex(of: String(decoding: guest.bytes, as: UTF8.self)) else { return nil }
        let words: String?
        switch message {
        case .built(_, let layout): words = layout.autostart ? nil : "is not started"
        case .created, .rebooting: words = nil
        case .shutDown(_, let reason, _, _): words = "shut down (\(String(decoding: reason.bytes, as: UTF8.self)))"
        case .stopped, .rebootedTooOften: words = "was stopped"
        case .notStarted: words = "is not started"
        case .destroyed: words = "was destroyed"
        case .crashed: words = "crashed"
        case .paused, .unpaused, .allGuestsFinished, .panic: return nil
        }
        let wasLive = ending[n] == nil
        ending[n] = words
        if case .crashed = message { crashed.insert(n) } else { crashed.remove(n) }
        return wasLive && words != nil ? n : nil
    }

    /// When no guest is live, the machine ends (the hypervisor powers it off once no vCPU can
    /// run) unless a crashed guest still runs.
    var machineGoesOn: Bool { ending.contains(where: { $0 == nil }) || !crashed.isEmpty }

    /// The first live guest after `n`, in manifest order and around; nil when none is.
    func nextLive(after n: Int) -> Int? {
        let count = guestNames.count
        guard count > 0 else { return nil }
        return (1...count).lazy.map { (n + $0) % count }.first { isLive($0) && $0 != n }
    }
}
