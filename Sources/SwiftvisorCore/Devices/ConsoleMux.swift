/// The framing the hypervisor and the host tool use on the one physical serial line when the
/// tool runs it (`swiftvisor.console=mux` in the boot arguments): every guest's console and
/// the hypervisor's own messages travel as separate byte streams, so that the host can pass
/// the focused guest's bytes to its terminal untouched and keep the others apart.
///
/// DLE (0x10) starts a control pair; a DLE in the data is sent twice. Streams are switched,
/// not tagged per byte, so a guest printing a long run costs nothing extra.
///
/// Hypervisor to host: `DLE 'h'` (what follows is the hypervisor's), `DLE 'g' N` (guest N's,
/// N one byte: its index in the boot manifest).
/// Host to hypervisor: `DLE 'f' N` (input goes to guest N), `DLE 'c'` text LF (a hypervisor
/// console command line).
public enum ConsoleMux {
    public static let escape: UInt8 = 0x10
    public static let hypervisorStream = UInt8(ascii: "h")
    public static let guestStream = UInt8(ascii: "g")
    public static let focus = UInt8(ascii: "f")
    public static let command = UInt8(ascii: "c")

    /// A stream on the hypervisor-to-host direction.
    public enum Stream: Equatable {
        case hypervisor
        case guest(Int)
    }

    /// Splits the hypervisor's framed output into (stream, bytes) runs. Bytes before any
    /// switch belong to the hypervisor (its banner is printed before it knows the mode).
    public struct Decoder {
        public private(set) var stream = Stream.hypervisor
        enum State { case data, escaped, guestIndex }
        var state = State.data

        public init() {}

        /// Feeds bytes; calls `body` with each run of data bytes and the stream it belongs to.
        public mutating func feed<C: Collection>(_ bytes: C, _ body: (Stream, [UInt8]) -> Void) where C.Element == UInt8 {
            var run: [UInt8] = []
            func flush() { if !run.isEmpty { body(stream, run); run.removeAll(keepingCapacity: true) } }
            for b in bytes {
                switch state {
                case .data:
                    if b == ConsoleMux.escape { state = .escaped } else { run.append(b) }
                case .escaped:
                    state = .data
                    switch b {
                    case ConsoleMux.escape: run.append(b)
                    case ConsoleMux.hypervisorStream: flush(); stream = .hypervisor
                    case ConsoleMux.guestStream: flush(); state = .guestIndex
                    default: break   // unknown control pair: ignored, as a newer peer may send more
                    }
                case .guestIndex:
                    stream = .guest(Int(b))
                    state = .data
                }
            }
            flush()
        }
    }

    /// What the host sends: `bytes` for the focused guest, with DLE doubled.
    public static func escaped<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        for b in bytes { out.append(b); if b == escape { out.append(b) } }
        return out
    }

    public static func focusOn(guest index: Int) -> [UInt8] { [escape, focus, UInt8(truncatingIfNeeded: index)] }

    public static func commandLine(_ text: String) -> [UInt8] {
        [escape, command] + text.utf8.filter { $0 != UInt8(ascii: "\n") && $0 != escape } + [UInt8(ascii: "\n")]
    }

    /// The hypervisor's side of host-to-hypervisor input.
    public struct InputDecoder {
        public enum Event: Equatable {
            case data(UInt8)
            case focus(guest: Int)
            case command([UInt8])
        }
        enum State { case data, escaped, focusIndex, command }
        var state = State.data
        var line: [UInt8] = []
        public static let maximumCommandLength = 128

        public init() {}

        public mutating func accept(_ b: UInt8) -> Event? {
            switch state {
            case .data:
                if b == ConsoleMux.escape { state = .escaped; return nil }
                return .data(b)
            case .escaped:
                switch b {
                case ConsoleMux.escape: state = .data; return .data(b)
                case ConsoleMux.focus: state = .focusIndex
                case ConsoleMux.command: state = .command; line.removeAll()
                default: state = .data
                }
                return nil
            case .focusIndex:
                state = .data
                return .focus(guest: Int(b))
            case .command:
                if b == UInt8(ascii: "\n") {
                    state = .data
                    defer { line.removeAll() }
                    return .command(line)
                }
                if line.count < Self.maximumCommandLength { line.append(b) }
                return nil
            }
        }
    }
}
