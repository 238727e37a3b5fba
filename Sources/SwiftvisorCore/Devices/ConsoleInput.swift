/// Who gets the host's keyboard: the hypervisor's own console or one guest. Pressing Ctrl-A
/// three times in a row moves the focus on (hypervisor, guest 0, guest 1, ..., hypervisor),
/// as on Xen's console.
public struct ConsoleInput: Equatable {
    public enum Focus: Equatable { case hypervisor, guest(Int) }

    public static let escape: UInt8 = 0x01   // Ctrl-A
    public private(set) var focus: Focus = .hypervisor
    private var escapes = 0
    let guestCount: Int

    public init(guestCount: Int, focus: Focus = .hypervisor) {
        self.guestCount = guestCount
        self.focus = guestCount > 0 ? focus : .hypervisor
    }

    public enum Action: Equatable {
        /// Deliver these bytes to the focus (escapes that turned out not to be a switch included).
        case deliver([UInt8])
        /// The focus moved; tell the user.
        case switched(Focus)
        case nothing
    }

    /// Moves the focus (the console's `console NAME`, or the host tool's choice).
    public mutating func focus(on focus: Focus) {
        if case .guest(let n) = focus, n >= guestCount { return }
        self.focus = focus
        escapes = 0
    }

    public mutating func accept(_ byte: UInt8) -> Action {
        if byte == Self.escape {
            escapes += 1
            guard escapes == 3 else { return .nothing }
            escapes = 0
            switch focus {
            case .hypervisor: focus = guestCount > 0 ? .guest(0) : .hypervisor
            case .guest(let n): focus = n + 1 < guestCount ? .guest(n + 1) : .hypervisor
            }
            return .switched(focus)
        }
        let pending = [UInt8](repeating: Self.escape, count: escapes)
        escapes = 0
        return .deliver(pending + [byte])
    }
}
