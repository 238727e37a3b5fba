import SwiftvisorCore

/// What the hypervisor's console said about each guest, read from its `swiftvisor:` lines.
public struct ConsoleReport: Equatable {
    public enum Outcome: Equatable {
        case shutDown(reason: String, exitCode: Int)
        case stopped(cause: String)
        case notStarted(cause: String)
        /// Ended from the hypervisor console (`destroy`, `quit`, an unanswered `shutdown`).
        case destroyed(String)
    }

    public private(set) var outcomes: [String: Outcome] = [:]
    public private(set) var panic: String?
    public private(set) var allFinished = false
    /// Per guest, per vCPU, the physical cores it ran on (from the shut-down line).
    public private(set) var vcpuCores: [String: [[Int]]] = [:]
    /// Per guest, the physical counter value its virtual counter starts from (CNTVOFF_EL2).
    public private(set) var counterOffsets: [String: UInt64] = [:]
    /// Per guest, the first "Kernel panic" line it printed (a Linux guest's own report).
    public private(set) var kernelPanics: [String: String] = [:]
    /// Lines each guest printed (without the "name | " prefix).
    public private(set) var guestLines: [String: [String]] = [:]
    /// Guests the hypervisor saw panic ("crashed: its kernel panicked").
    public private(set) var crashed: Set<String> = []
    /// Guests started by the console's `create`.
    public private(set) var created: Set<String> = []
    /// Hypervisor lines read (0: it never spoke).
    public private(set) var lines = 0

    public init() {}

    public init(lines: [String]) { for l in lines { consume(l) } }

    /// Lines kept per guest (older ones are dropped in halves).
    public var guestLineLimit = 20_000

    public mutating func consume(_ line: String) {
        let l = line.hasSuffix("\r") ? String(line.dropLast()) : line
        let prefix = HypervisorMessage.linePrefix.description
        if let range = l.range(of: " | "), !l.hasPrefix(prefix) {
            let guest = String(l[..<range.lowerBound]), text = String(l[range.upperBound...])
            var kept = guestLines[guest, default: []]
            kept.append(text)
            // A guest printing for hours must not grow the tool without bound: the newest lines
            // are kept (the whole console is in its NAME.log).
            if kept.count > guestLineLimit { kept.removeFirst(kept.count - guestLineLimit / 2) }
            guestLines[guest] = kept
            if kernelPanics[guest] == nil, let p = text.range(of: "Kernel panic - ") { kernelPanics[guest] = String(text[p.lowerBound...]) }
            return
        }
        guard l.hasPrefix(prefix) else { return }
        lines += 1
        // The messages' text is defined once, in the core, where the hypervisor formats them.
        guard let message = HypervisorMessage.parse(Array(l.utf8)) else { return }
        let name = message.guest.map(\.string) ?? ""
        switch message {
        case .built(_, let layout):
            counterOffsets[name] = layout.counterOffset
        case .shutDown(_, let reason, let exitCode, let cores):
            outcomes[name] = .shutDown(reason: reason.string, exitCode: Int(exitCode))
            if let cores {
                vcpuCores[name] = cores.map { mask in (0..<64).filter { mask & (1 << UInt64($0)) != 0 } }
            }
        case .stopped, .rebootedTooOften:
            outcomes[name] = .stopped(cause: String(decoding: message.detailBytes, as: UTF8.self))
        case .notStarted(_, let cause):
            outcomes[name] = .notStarted(cause: cause.string)
        case .destroyed(_, let why):
            outcomes[name] = .destroyed(why.string)
        case .created:
            created.insert(name)
            outcomes[name] = nil   // running again: its earlier ending no longer stands
        case .rebooting:
            outcomes[name] = nil
        case .crashed:
            crashed.insert(name)
        case .paused, .unpaused:
            break
        case .allGuestsFinished:
            allFinished = true
        case .panic:
            panic = String(decoding: message.bytes.dropFirst(HypervisorMessage.linePrefix.utf8CodeUnitCount), as: UTF8.self)
        }
    }

    /// True when this guest powered off with exit code 0.
    public func succeeded(_ guest: String) -> Bool {
        outcomes[guest] == .shutDown(reason: "poweroff", exitCode: 0)
    }
}

extension MessageText {
    /// The text as the host reads it.
    var string: String { String(decoding: bytes, as: UTF8.self) }
}
