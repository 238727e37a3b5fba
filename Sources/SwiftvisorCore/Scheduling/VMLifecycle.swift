/// A guest's life as the hypervisor sees it, and the only ways it may change (xl's domain
/// states: running, paused, crashed, shut down, destroyed; a reboot restarts it in place).
///
/// `finished` is terminal until the console's `create`: a trap of one of its vCPUs that another
/// core was still handling when the guest ended must not bring it back or change how it ended.
public struct VMLifecycle {
    public enum Phase: Equatable {
        /// Its vCPUs are scheduled (unless `paused`).
        case running
        /// Its vCPUs are off; it is reloaded with fresh memory once no core runs any of them
        /// (also how a finished guest is created again).
        case rebooting
        /// It has ended (or never started); `ending` says how.
        case finished
    }

    /// How a finished guest ended, for the console's `list`.
    public enum Ending {
        case notStarted
        case shutDown(XenABI.ShutdownReason, exitCode: UInt32)
        case stopped(StaticString)
        case destroyed
    }

    /// A guest in a reboot loop is stopped after this many boots.
    public static let maximumBoots = 10

    public private(set) var phase: Phase
    public private(set) var ending = Ending.notStarted
    /// The console's `pause`: its vCPUs keep their state but are not scheduled.
    public private(set) var paused = false
    /// Its kernel printed a panic (Linux's "Kernel panic - "), this boot.
    public private(set) var crashed = false
    /// Boots so far: 1 on the first start, 0 while a guest created again is starting.
    public private(set) var boots = 1

    /// A guest with `autostart` runs from the start (boot 1); the others wait, `notStarted`,
    /// for the console's `create`.
    public init(autostart: Bool) {
        phase = autostart ? .running : .finished
    }

    /// Ends the guest with `ending`; false (and nothing changes) when it had ended already.
    @discardableResult
    public mutating func finish(_ ending: Ending) -> Bool {
        guard phase != .finished else { return false }
        phase = .finished
        self.ending = ending
        return true
    }

    /// It may reboot again (PSCI SYSTEM_RESET, SCHEDOP_shutdown(reboot)) without being a
    /// reboot loop.
    public var mayBootAgain: Bool { boots < Self.maximumBoots }

    /// A running guest asked to reboot: its vCPUs go off until it is reloaded. False when it is
    /// not running, or has booted `maximumBoots` times (the caller ends it instead).
    @discardableResult
    public mutating func reboot() -> Bool {
        guard phase == .running, mayBootAgain else { return false }
        phase = .rebooting
        return true
    }

    /// The console's `create`: a finished guest starts again from boot 1.
    @discardableResult
    public mutating func create() -> Bool {
        guard phase == .finished else { return false }
        phase = .rebooting
        boots = 0
        return true
    }

    /// A rebooting guest's next boot begins (before its images are loaded, which read `boots`):
    /// it is no longer paused or crashed.
    public mutating func beginBoot() {
        precondition(phase == .rebooting, "only a rebooting guest boots again")
        boots += 1
        crashed = false
        paused = false
    }

    /// Its images are loaded: it runs.
    public mutating func booted() {
        precondition(phase == .rebooting, "only a rebooting guest boots again")
        phase = .running
    }

    /// The console's `pause` and `unpause`; false when the guest is not running or already in
    /// that state.
    @discardableResult
    public mutating func setPaused(_ value: Bool) -> Bool {
        guard phase == .running, paused != value else { return false }
        paused = value
        return true
    }

    /// Its kernel printed a panic (`KernelPanicWatch` reports it once a boot). It keeps
    /// running: `list` shows it crashed until it boots again.
    public mutating func noteCrash() { crashed = true }

    /// What `list` shows for it, as `xl list`'s state column.
    public enum Status: Equatable {
        case starting, rebooting
        case running, blocked, paused, crashed
        case notStarted, shutDown(XenABI.ShutdownReason, exitCode: UInt32), stopped(StaticString), destroyed

        public static func == (a: Status, b: Status) -> Bool {
            switch (a, b) {
            case (.starting, .starting), (.rebooting, .rebooting), (.running, .running), (.blocked, .blocked),
                 (.paused, .paused), (.crashed, .crashed), (.notStarted, .notStarted), (.destroyed, .destroyed):
                return true
            case let (.shutDown(r1, c1), .shutDown(r2, c2)): return r1 == r2 && c1 == c2
            case let (.stopped(w1), .stopped(w2)): return sameText(w1, w2)
            default: return false
            }
        }

        /// The state column's words (a stopped guest's reason follows them).
        public var name: StaticString {
            switch self {
            case .starting: return "starting"
            case .rebooting: return "rebooting"
            case .running: return "running"
            case .blocked: return "blocked"
            case .paused: return "paused"
            case .crashed: return "crashed (kernel panic)"
            case .notStarted: return "not started"
            case .shutDown: return "shut down"
            case .stopped: return "stopped: "
            case .destroyed: return "destroyed"
            }
        }
    }

    /// Its status; `anyVCPUActive`: one of its vCPUs runs on a core or is runnable (otherwise
    /// all wait in WFI or are off: blocked).
    public func status(anyVCPUActive: Bool) -> Status {
        switch phase {
        case .rebooting: return boots == 0 ? .starting : .rebooting
        case .finished:
            switch ending {
            case .notStarted: return .notStarted
            case .shutDown(let reason, let code): return .shutDown(reason, exitCode: code)
            case .stopped(let why): return .stopped(why)
            case .destroyed: return .destroyed
            }
        case .running:
            if paused { return .paused }
            if crashed { return .crashed }
            return anyVCPUActive ? .running : .blocked
        }
    }
}

/// Two static strings hold the same text.
func sameText(_ a: StaticString, _ b: StaticString) -> Bool {
    guard a.utf8CodeUnitCount == b.utf8CodeUnitCount else { return false }
    for i in 0..<a.utf8CodeUnitCount where a.utf8Start[i] != b.utf8Start[i] { return false }
    return true
}
