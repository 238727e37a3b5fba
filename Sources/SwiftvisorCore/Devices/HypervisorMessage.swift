/// The hypervisor's console lines about guests that the host tool reads (ConsoleReport): their
/// text is defined here once, formatted by the hypervisor (`write(to:)`, byte by byte, no
/// String formatting: this file is also compiled as Embedded Swift) and read back by the host
/// (`parse`), which accepts a line only if formatting what it read gives the line again.
public enum HypervisorMessage: Equatable {
    /// "guest 'NAME': 512 MiB at host 0x…, VMID 1, 2 vCPU(s), entry 0x…, counter offset N".
    case built(guest: MessageText, GuestLayout)
    /// Started by the console's `create` (its first boot).
    case created(guest: MessageText)
    case rebooting(guest: MessageText, boot: UInt64)
    /// `vcpuCores`: per vCPU (in id order) a bit per physical core it ran on.
    case shutDown(guest: MessageText, reason: MessageText, exitCode: UInt64, vcpuCores: [UInt64]?)
    /// Stopped by the hypervisor; `fault` describes the exit that caused it, if one did.
    case stopped(guest: MessageText, cause: MessageText, fault: Fault?)
    /// Stopped after `boots` boots in a reboot loop.
    case rebootedTooOften(guest: MessageText, boots: UInt64)
    case notStarted(guest: MessageText, cause: MessageText)
    /// Ended from the hypervisor console.
    case destroyed(guest: MessageText, why: MessageText)
    /// Its kernel printed a panic.
    case crashed(guest: MessageText)
    case paused(guest: MessageText)
    case unpaused(guest: MessageText)
    /// The machine powers off next.
    case allGuestsFinished
    /// A hypervisor bug; the detail may go on after it on the same line.
    case panic(MessageText)

    /// Where a guest was put, from its build line.
    public struct GuestLayout: Equatable {
        public var mebibytes: UInt64, hostBase: UInt64, vmid: UInt64, vcpus: UInt64, entry: UInt64
        /// CNTVOFF_EL2: where its virtual counter starts on the physical one.
        public var counterOffset: UInt64
        /// False: built but waiting for the console's `create`.
        public var autostart: Bool
        public init(mebibytes: UInt64, hostBase: UInt64, vmid: UInt64, vcpus: UInt64, entry: UInt64,
                    counterOffset: UInt64, autostart: Bool) {
            self.mebibytes = mebibytes; self.hostBase = hostBase; self.vmid = vmid; self.vcpus = vcpus
            self.entry = entry; self.counterOffset = counterOffset; self.autostart = autostart
        }
    }

    /// The exit that stopped a guest: "(vCPU 0, EC 0x24 Data Abort, ESR 0x…, IPA 0x…, PC 0x…)".
    public struct Fault: Equatable {
        public var vcpu: UInt64, exceptionClass: UInt64, exceptionClassName: MessageText, esr: UInt64
        public var ipa: UInt64?
        public var pc: UInt64
        public init(vcpu: UInt64, exceptionClass: UInt64, exceptionClassName: MessageText, esr: UInt64, ipa: UInt64?, pc: UInt64) {
            self.vcpu = vcpu; self.exceptionClass = exceptionClass; self.exceptionClassName = exceptionClassName
            self.esr = esr; self.ipa = ipa; self.pc = pc
        }
    }

    // The fixed pieces. Every hypervisor line starts with `linePrefix`.
    public static let linePrefix: StaticString = "swiftvisor: "
    static let guestOpen: StaticString = "guest '"
    static let builtLead: StaticString = "': "
    static let builtMiB: StaticString = " MiB at host "
    static let builtVMID: StaticString = ", VMID "
    static let builtVCPUs: StaticString = " vCPU(s), entry "
    static let builtCounter: StaticString = ", counter offset "
    static let builtWaiting: StaticString = "; not started (autostart = false): `create NAME` starts it"
    static let createdLead: StaticString = "' created"
    static let rebootingLead: StaticString = "' rebooting (boot "
    static let shutDownLead: StaticString = "' shut down: "
    static let exitCode: StaticString = " (exit code "
    static let coresLead: StaticString = "; vCPUs ran on cores"
    static let stoppedLead: StaticString = "' stopped: "
    static let rebootedLead: StaticString = "rebooted "
    static let rebootedTail: StaticString = " times"
    static let faultVCPU: StaticString = " (vCPU "
    static let faultEC: StaticString = ", EC "
    static let faultESR: StaticString = ", ESR "
    static let faultIPA: StaticString = ", IPA "
    static let faultPC: StaticString = ", PC "
    static let notStartedLead: StaticString = "' not started: "
    static let destroyedLead: StaticString = "' destroyed: "
    static let crashedLead: StaticString = "' crashed: its kernel panicked"
    static let pausedLead: StaticString = "' paused"
    static let unpausedLead: StaticString = "' unpaused"
    static let allFinished: StaticString = "all guests have finished"
    static let panicLead: StaticString = "PANIC: "

    /// The guest it is about, if any.
    public var guest: MessageText? {
        switch self {
        case .built(let g, _), .created(let g), .rebooting(let g, _), .shutDown(let g, _, _, _),
             .stopped(let g, _, _), .rebootedTooOften(let g, _), .notStarted(let g, _),
             .destroyed(let g, _), .crashed(let g), .paused(let g), .unpaused(let g):
            return g
        case .allGuestsFinished, .panic:
            return nil
        }
    }

    /// The whole line, without its line end: `linePrefix`, then the message.
    public func write(to put: (UInt8) -> Void) {
        func text(_ s: StaticString) { MessageWriter.text(s, put) }
        func field(_ t: MessageText) { t.forEachByte(put) }
        func decimal(_ v: UInt64) { MessageWriter.decimal(v, put) }
        func hex(_ v: UInt64) { MessageWriter.hex(v, put) }
        text(Self.linePrefix)
        if let g = guest { text(Self.guestOpen); field(g) }
        switch self {
        case .built: text(Self.builtLead)
        case .created: text(Self.createdLead)
        case .rebooting: text(Self.rebootingLead)
        case .shutDown: text(Self.shutDownLead)
        case .stopped, .rebootedTooOften: text(Self.stoppedLead)
        case .notStarted: text(Self.notStartedLead)
        case .destroyed: text(Self.destroyedLead)
        case .crashed: text(Self.crashedLead)
        case .paused: text(Self.pausedLead)
        case .unpaused: text(Self.unpausedLead)
        case .allGuestsFinished: text(Self.allFinished)
        case .panic: text(Self.panicLead)
        }
        writeDetail(to: put)
    }

    /// What follows the fixed lead ("guest 'NAME' stopped: " and the like): a stop's cause
    /// and fault, a shutdown's reason and exit code, a panic's detail.
    public func writeDetail(to put: (UInt8) -> Void) {
        func text(_ s: StaticString) { MessageWriter.text(s, put) }
        func field(_ t: MessageText) { t.forEachByte(put) }
        func decimal(_ v: UInt64) { MessageWriter.decimal(v, put) }
        func hex(_ v: UInt64) { MessageWriter.hex(v, put) }
        switch self {
        case .built(_, let l):
            decimal(l.mebibytes); text(Self.builtMiB); hex(l.hostBase)
            text(Self.builtVMID); decimal(l.vmid)
            text(", "); decimal(l.vcpus); text(Self.builtVCPUs); hex(l.entry)
            text(Self.builtCounter); decimal(l.counterOffset)
            if !l.autostart { text(Self.builtWaiting) }
        case .rebooting(_, let boot):
            decimal(boot); text(")")
        case .shutDown(_, let reason, let code, let cores):
            field(reason); text(Self.exitCode); decimal(code); text(")")
            if let cores {
                text(Self.coresLead)
                for (id, mask) in cores.enumerated() {
                    text(" "); decimal(UInt64(id)); text(":{")
                    var first = true
                    for c in 0..<64 where mask & (1 << UInt64(c)) != 0 {
                        if !first { text(",") }
                        decimal(UInt64(c)); first = false
                    }
                    text("}")
                }
            }
        case .stopped(_, let cause, let fault):
            field(cause)
            if let f = fault {
                text(Self.faultVCPU); decimal(f.vcpu)
                text(Self.faultEC); hex(f.exceptionClass); text(" "); field(f.exceptionClassName)
                text(Self.faultESR); hex(f.esr)
                if let ipa = f.ipa { text(Self.faultIPA); hex(ipa) }
                text(Self.faultPC); hex(f.pc); text(")")
            }
        case .rebootedTooOften(_, let boots):
            text(Self.rebootedLead); decimal(boots); text(Self.rebootedTail)
        case .notStarted(_, let t), .destroyed(_, let t), .panic(let t):
            field(t)
        case .created, .crashed, .paused, .unpaused, .allGuestsFinished:
            break
        }
    }

    /// The line's bytes (without a line end).
    public var bytes: [UInt8] { var b: [UInt8] = []; write { b.append($0) }; return b }

    /// The detail's bytes (see `writeDetail`).
    public var detailBytes: [UInt8] { var b: [UInt8] = []; writeDetail { b.append($0) }; return b }

    /// Reads a hypervisor line (with `linePrefix`, without the line end). Nil for lines that
    /// are not one of these messages. A guest name may hold any character, `'` included: each
    /// possible end of the name is tried, and the first reading that formats back to the line wins.
    public static func parse(_ line: [UInt8]) -> HypervisorMessage? {
        var r = MessageReader(line)
        guard r.take(linePrefix) else { return nil }
        var candidates: [HypervisorMessage] = []
        if r.take(guestOpen) {
            let nameStart = r.at
            for end in nameStart..<line.count where line[end] == UInt8(ascii: "'") {
                var rest = MessageReader(line, at: end)
                if let m = parseGuestEvent(MessageText(bytes: Array(line[nameStart..<end])), &rest) { candidates.append(m) }
            }
        } else if r.take(allFinished) {
            candidates.append(.allGuestsFinished)
        } else if r.take(panicLead) {
            candidates.append(.panic(MessageText(bytes: r.rest())))
        }
        for m in candidates where m.bytes == line { return m }
        return nil
    }

    /// Everything after the guest's name: the event, as the lead that starts with the closing quote says.
    static func parseGuestEvent(_ g: MessageText, _ r: inout MessageReader) -> HypervisorMessage? {
        if r.take(builtLead) {
            guard let mib = r.decimal(), r.take(builtMiB), let base = r.hex(), r.take(builtVMID), let vmid = r.decimal(),
                  r.take(", "), let vcpus = r.decimal(), r.take(builtVCPUs), let entry = r.hex(),
                  r.take(builtCounter), let offset = r.decimal() else { return nil }
            let waiting = r.take(builtWaiting)
            return .built(guest: g, GuestLayout(mebibytes: mib, hostBase: base, vmid: vmid, vcpus: vcpus, entry: entry,
                                                counterOffset: offset, autostart: !waiting))
        }
        if r.take(createdLead) { return .created(guest: g) }
        if r.take(rebootingLead) { return r.decimal().map { .rebooting(guest: g, boot: $0) } }
        if r.take(shutDownLead) {
            guard let reason = r.upTo(exitCode), let code = r.decimal(), r.take(")") else { return nil }
            guard r.take(coresLead) else { return .shutDown(guest: g, reason: MessageText(bytes: reason), exitCode: code, vcpuCores: nil) }
            var cores: [UInt64] = []
            while r.take(" ") {
                guard r.decimal() != nil, r.take(":{") else { return nil }
                var mask: UInt64 = 0
                while let c = r.decimal() {
                    guard c < 64 else { return nil }
                    mask |= 1 << c
                    if !r.take(",") { break }
                }
                guard r.take("}") else { return nil }
                cores.append(mask)
            }
            return .shutDown(guest: g, reason: MessageText(bytes: reason), exitCode: code, vcpuCores: cores)
        }
        if r.take(stoppedLead) {
            let rest = r.rest()
            var e = MessageReader(rest)
            if e.take(rebootedLead), let n = e.decimal(), e.take(rebootedTail), e.atEnd { return .rebootedTooOften(guest: g, boots: n) }
            return .stopped(guest: g, cause: MessageText(bytes: rest), fault: nil)
                .withFault(parsedFrom: rest)
        }
        if r.take(notStartedLead) { return .notStarted(guest: g, cause: MessageText(bytes: r.rest())) }
        if r.take(destroyedLead) { return .destroyed(guest: g, why: MessageText(bytes: r.rest())) }
        if r.take(crashedLead) { return .crashed(guest: g) }
        if r.take(pausedLead) { return .paused(guest: g) }
        if r.take(unpausedLead) { return .unpaused(guest: g) }
        return nil
    }

    /// A stop whose text ends in a fault's parenthesis gets it parsed out of the cause (the
    /// last " (vCPU " starts it); otherwise the cause stays the whole text.
    func withFault(parsedFrom text: [UInt8]) -> HypervisorMessage {
        guard case .stopped(let g, _, _) = self, let start = MessageReader.lastIndex(of: Self.faultVCPU, in: text) else { return self }
        var r = MessageReader(text, at: start)
        guard r.take(Self.faultVCPU), let vcpu = r.decimal(), r.take(Self.faultEC), let ec = r.hex(), r.take(" "),
              let name = r.upTo(Self.faultESR), let esr = r.hex() else { return self }
        var ipa: UInt64?
        if r.take(Self.faultIPA) { guard let v = r.hex() else { return self }; ipa = v }
        guard r.take(Self.faultPC), let pc = r.hex(), r.take(")"), r.atEnd else { return self }
        let fault = Fault(vcpu: vcpu, exceptionClass: ec, exceptionClassName: MessageText(bytes: name), esr: esr, ipa: ipa, pc: pc)
        return .stopped(guest: g, cause: MessageText(bytes: Array(text[0..<start])), fault: fault)
    }
}

/// Message text: a fixed string where the hypervisor writes it, the guest's name, or bytes
/// read back from a line. Compared by bytes.
public struct MessageText: Equatable, ExpressibleByStringLiteral {
    enum Storage { case fixed(StaticString), string(String), bytes([UInt8]) }
    let storage: Storage

    public init(_ s: StaticString) { storage = .fixed(s) }
    public init(stringLiteral s: StaticString) { storage = .fixed(s) }
    public init(_ s: String) { storage = .string(s) }
    public init(bytes: [UInt8]) { storage = .bytes(bytes) }

    public func forEachByte(_ body: (UInt8) -> Void) {
        switch storage {
        case .fixed(let s): s.withUTF8Buffer { for b in $0 { body(b) } }
        case .string(let s): for b in s.utf8 { body(b) }
        case .bytes(let bytes): for b in bytes { body(b) }
        }
    }

    public var bytes: [UInt8] { var b: [UInt8] = []; forEachByte { b.append($0) }; return b }

    public static func == (a: MessageText, b: MessageText) -> Bool { a.bytes == b.bytes }
}

/// Formats pieces and numbers as the hypervisor's console always has: decimal, and hex as
/// "0x" with no leading zeros. Static, so that `put` need not escape.
public enum MessageWriter {
    public static func text(_ s: StaticString, _ put: (UInt8) -> Void) { s.withUTF8Buffer { for b in $0 { put(b) } } }

    public static func decimal(_ v: UInt64, _ put: (UInt8) -> Void) {
        var divisor: UInt64 = 1
        while v / divisor >= 10 { divisor *= 10 }
        while divisor > 0 { put(UInt8(ascii: "0") + UInt8(v / divisor % 10)); divisor /= 10 }
    }

    public static func hex(_ v: UInt64, _ put: (UInt8) -> Void) {
        text("0x", put)
        var started = false
        for i in (0..<16).reversed() {
            let nibble = UInt8((v >> UInt64(i * 4)) & 0xF)
            if nibble != 0 || started || i == 0 {
                started = true
                put(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
            }
        }
    }
}

/// A cursor over a line's bytes for `HypervisorMessage.parse`.
struct MessageReader {
    let bytes: [UInt8]
    var at: Int

    init(_ bytes: [UInt8], at: Int = 0) { self.bytes = bytes; self.at = at }

    var atEnd: Bool { at == bytes.count }

    /// Consumes `s` if the bytes go on with it.
    mutating func take(_ s: StaticString) -> Bool {
        let matched = s.withUTF8Buffer { piece -> Bool in
            guard bytes.count - at >= piece.count else { return false }
            for i in 0..<piece.count where bytes[at + i] != piece[i] { return false }
            return true
        }
        if matched { at += s.utf8CodeUnitCount }
        return matched
    }

    mutating func decimal() -> UInt64? {
        var v: UInt64 = 0, digits = 0
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(bytes[at] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            v = s; at += 1; digits += 1
        }
        return digits > 0 ? v : nil
    }

    mutating func hex() -> UInt64? {
        guard take("0x") else { return nil }
        var v: UInt64 = 0, digits = 0
        while at < bytes.count, digits < 16 {
            let b = bytes[at]
            let d: UInt8
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") { d = b - UInt8(ascii: "0") }
            else if b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f") { d = b - UInt8(ascii: "a") + 10 }
            else { break }
            v = v << 4 | UInt64(d); at += 1; digits += 1
        }
        return digits > 0 ? v : nil
    }

    /// The bytes up to the first `s`, consuming both; nil if `s` does not follow.
    mutating func upTo(_ s: StaticString) -> [UInt8]? {
        var probe = self
        while !probe.atEnd {
            let start = probe.at
            if probe.take(s) {
                let piece = Array(bytes[at..<start])
                at = probe.at
                return piece
            }
            probe.at = start + 1
        }
        return nil
    }

    mutating func rest() -> [UInt8] { defer { at = bytes.count }; return Array(bytes[at...]) }

    static func lastIndex(of s: StaticString, in bytes: [UInt8]) -> Int? {
        var i = bytes.count
        while i > 0 {
            i -= 1
            var r = MessageReader(bytes, at: i)
            if r.take(s) { return i }
        }
        return nil
    }
}
