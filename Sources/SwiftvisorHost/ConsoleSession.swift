import Foundation
import SwiftvisorCore

/// The consoles of a running system as the user meets them. The hypervisor sends every
/// guest's console and its own messages as separate streams (ConsoleMux); this splits them:
///
/// - at a terminal, the focused guest's bytes go to it untouched (escape sequences, colours,
///   a full-screen `vi`); other guests' output is kept in their log files and announced by a
///   one-line notice; the escape key (Ctrl-] by default, as `xl console`) opens the
///   hypervisor console, where `console NAME` switches guests and the rest goes to the
///   hypervisor;
/// - without one (pipes, CI), every line is printed whole with its guest's name.
///
/// Every guest's raw output is also written to `NAME.log` in the run's folder.
public final class ConsoleSession {
    public enum Display {
        /// A person at a terminal (already in raw mode).
        case terminal(Terminal)
        /// Whole lines to this function (pipes, tests); nil prints nothing.
        case lines(((String) -> Void)?)
    }

    public let guestNames: [String]
    public let escapeKey: UInt8
    let display: Display
    /// Sends framed bytes to the hypervisor (QEMU's serial input).
    var send: ([UInt8]) -> Void = { _ in }
    /// Each whole line, as printed in line mode ("NAME | text", "swiftvisor: ..."), for the
    /// report and for scripted typing.
    var onLine: (String) -> Void = { _ in }

    /// The newest lines (at most `lineLimit`; the logs hold everything).
    public private(set) var lines: [String] = []
    /// Read as the lines come, so that dropping old lines loses no guest's outcome.
    public var report = ConsoleReport()
    public var lineLimit = 100_000
    /// The guest that gets typed input.
    public private(set) var focus = 0
    /// The user is typing a hypervisor console command (after the escape key).
    public private(set) var commandMode = false
    /// The user asked to quit (the tool ends QEMU if the hypervisor does not).
    public private(set) var quitRequested = false

    private var decoder = ConsoleMux.Decoder()
    private var partial: [Int: [UInt8]] = [:]
    private var logs: [Int: FileHandle] = [:]
    /// Last bytes of each guest's output, replayed when the user switches to it.
    private var recent: [Int: [UInt8]] = [:]
    private static let recentLimit = 2048
    /// Guests whose output since the last switch the user has been told about.
    private var noticed: Set<Int> = []
    /// The focused guest's last byte ended a line (so a notice can start on its own line).
    private var atLineStart = true
    private var command: [UInt8] = []
    private var announcedInput = false
    /// Our lines (notices about other guests' output, the hypervisor's own lines), held while
    /// the focused guest is in the middle of a line (so they never cut its words), until it
    /// ends the line or `noticeHold` passes (a shell prompt never ends its line).
    private var heldNotices: [String] = []
    private var heldSince: Date?
    static let noticeHold: TimeInterval = 0.3
    /// Which guests can take input: the focus leaves a guest that ends (GuestLiveness).
    private var liveness: GuestLiveness
    /// The focus moved while the hypervisor console was open: leaving it shows the new
    /// guest's recent output.
    private var replayOnReturn = false

    /// `logDirectory`: where NAME.log files go (nil: none).
    public init(guestNames: [String], display: Display, escapeKey: UInt8 = ConsoleSession.defaultEscape, logDirectory: URL?) {
        self.guestNames = guestNames
        self.display = display
        self.escapeKey = escapeKey
        liveness = GuestLiveness(guestNames: guestNames)
        if let logDirectory {
            for (i, name) in guestNames.enumerated() {
                let url = logDirectory.appendingPathComponent("\(name).log")
                FileManager.default.createFile(atPath: url.path, contents: nil)
                logs[i] = try? FileHandle(forWritingTo: url)
            }
            let url = logDirectory.appendingPathComponent("hypervisor.log")
            FileManager.default.createFile(atPath: url.path, contents: nil)
            logs[-1] = try? FileHandle(forWritingTo: url)
        }
    }

    deinit { for (_, h) in logs { try? h.close() } }

    /// Ctrl-], as `xl console` and telnet.
    public static let defaultEscape: UInt8 = 0x1D

    /// Parses "^]", "^A", "ctrl-]" into the byte the key sends.
    public static func escapeKey(named text: String) -> UInt8? {
        var t = text.lowercased()
        guard let prefix = ["ctrl-", "ctrl+", "c-", "^"].first(where: { t.hasPrefix($0) }) else { return nil }
        t.removeFirst(prefix.count)
        guard t.count == 1, let c = t.unicodeScalars.first, c.isASCII else { return nil }
        let v = UInt8(c.value)
        switch v {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return v - UInt8(ascii: "a") + 1
        case UInt8(ascii: "@"), UInt8(ascii: "["), UInt8(ascii: "\\"), UInt8(ascii: "]"), UInt8(ascii: "^"), UInt8(ascii: "_"):
            return v - 0x40
        default: return nil
        }
    }

    /// How the escape key is written for people: "Ctrl-]".
    public var escapeName: String {
        let c = Character(Unicode.Scalar(escapeKey + 0x40))
        return "Ctrl-\(escapeKey >= 1 && escapeKey <= 26 ? String(c).uppercased() : String(c))"
    }

    var isTerminal: Bool { if case .terminal = display { return true } else { return false } }

    // MARK: Output (hypervisor to user)

    /// Bytes from QEMU's serial output.
    func received(_ bytes: [UInt8]) {
        decoder.feed(bytes) { stream, run in
            switch stream {
            case .hypervisor: hypervisorBytes(run)
            case .guest(let n): guestBytes(n, run)
            }
        }
    }

    /// Bytes from QEMU itself (its own errors), or anything before the hypervisor speaks.
    func qemuSaid(_ text: String) { emitLine(text, stream: -1) }

    private func guestBytes(_ n: Int, _ run: [UInt8]) {
        try? logs[n]?.write(contentsOf: Data(run))
        var r = recent[n, default: []]
        r.append(contentsOf: run)
        if r.count > Self.recentLimit * 2 { r.removeFirst(r.count - Self.recentLimit) }
        recent[n] = r
        if case .terminal(let t) = display {
            if n == focus && !commandMode {
                t.write(run)
                atLineStart = run.last == UInt8(ascii: "\n")
                if atLineStart { showHeldNotices() }
            } else if !noticed.contains(n) {
                noticed.insert(n)
                noticeOfOutput(n == focus ? "\(name(n)) printed something; \(escapeName) goes back to it"
                                          : "\(name(n)) printed something; \(escapeName) then `console \(name(n))` shows it")
            }
        }
        // Whole lines for the report (and for line mode's display).
        var line = partial[n, default: []]
        for b in run {
            if b == UInt8(ascii: "\n") {
                emitLine("\(name(n)) | " + Self.text(line), stream: n)
                line.removeAll(keepingCapacity: true)
            } else if line.count < 4096 {
                line.append(b)
            }
        }
        partial[n] = line
    }

    private func hypervisorBytes(_ run: [UInt8]) {
        try? logs[-1]?.write(contentsOf: Data(run))
        var line = partial[-1, default: []]
        for b in run {
            if b == UInt8(ascii: "\n") {
                let text = Self.text(line)
                if Self.isHarmlessQEMUNotice(text) { line.removeAll(keepingCapacity: true); continue }   // kept in hypervisor.log
                emitLine(text, stream: -1)
                if case .terminal = display { showHypervisorLine(text) }
                followFocus(after: text)
                line.removeAll(keepingCapacity: true)
            } else if line.count < 4096 {
                line.append(b)
            }
        }
        partial[-1] = line
    }

    /// Notices QEMU prints at start-up that say nothing about the run: a QEMU unpacked from
    /// bookworm-backports meets the system QEMU's display modules (which it does not use with
    /// -display none), and the raspi4b model disables device-tree nodes of devices it does
    /// not model (which swiftvisor does not drive); the ZynqMP's four built-in Ethernet MACs are
    /// left unconnected (`-nic none`).
    static func isHarmlessQEMUNotice(_ line: String) -> Bool {
        (line.hasPrefix("qemu-system-aarch64: failed to initialize module: ") && line.hasSuffix(".so"))
            || line == "Only modules from the same build can be loaded."
            || (line.hasPrefix("qemu-system-aarch64: warning: bcm2711 dtc: ") && line.hasSuffix(" has been disabled!"))
            || (line.hasPrefix("qemu-system-aarch64: warning: nic cadence_gem.") && line.hasSuffix(" has no peer"))
    }

    private func emitLine(_ line: String, stream: Int) {
        if stream < 0, let name = Self.guestHearingShutdown(line) { heardShutdown.insert(name) }
        lines.append(line)
        if lines.count > lineLimit { lines.removeFirst(lines.count - lineLimit / 2) }
        report.consume(line)
        onLine(line)
        if case .lines(let print?) = display { print(line) }
    }

    /// A guest's line as text for line mode: escape sequences dropped, other control bytes
    /// shown as '?', CR dropped, invalid UTF-8 replaced.
    static func text(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x1B {   // ESC: skip a CSI ("ESC [ ... final"), OSC ("ESC ] ... BEL"), or one pair
                i += 1
                if i < bytes.count && bytes[i] == UInt8(ascii: "[") {
                    i += 1
                    while i < bytes.count && !(0x40...0x7E).contains(bytes[i]) { i += 1 }
                } else if i < bytes.count && bytes[i] == UInt8(ascii: "]") {
                    while i < bytes.count && bytes[i] != 0x07 { i += 1 }
                }
                i += 1
                continue
            }
            if b == UInt8(ascii: "\r") { i += 1; continue }
            out.append(b < 0x20 && b != UInt8(ascii: "\t") || b == 0x7F ? UInt8(ascii: "?") : b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func name(_ n: Int) -> String { n >= 0 && n < guestNames.count ? guestNames[n] : "guest \(n)" }

    // MARK: The terminal's own lines

    /// A line of ours at the terminal, on a line of its own.
    private func terminalLine(_ text: String) {
        guard case .terminal(let t) = display else { return }
        if commandMode {
            // Over the prompt line (CR, erase to end of line), then the prompt again below.
            t.write("\r\u{1B}[K" + text + "\r\n" + prompt + String(decoding: command, as: UTF8.self))
            atLineStart = false
            return
        }
        t.write((atLineStart ? "" : "\r\n") + text + "\r\n")
        atLineStart = true
    }

    private func notice(_ text: String) { terminalLine("[swiftvisor: \(text)]") }

    /// A notice that may wait for the focused guest to end its line.
    private func noticeOfOutput(_ text: String) { terminalLineAtLineEnd("[swiftvisor: \(text)]") }

    /// A line of ours that waits (in order with the others held) for the focused guest to end
    /// its line, or for `noticeHold`.
    private func terminalLineAtLineEnd(_ text: String) {
        if (commandMode || atLineStart) && heldNotices.isEmpty { terminalLine(text); return }
        heldNotices.append(text)
        if heldSince == nil { heldSince = Date() }
    }

    private func showHeldNotices() {
        let held = heldNotices
        heldNotices.removeAll()
        heldSince = nil
        for text in held { terminalLine(text) }
    }

    /// When `tick` has work: the held notices' time is up.
    var tickDeadline: Date? { heldSince.map { $0.addingTimeInterval(Self.noticeHold) } }

    /// Called by the run loop at least by `tickDeadline`: shows held notices whose time is up.
    func tick(now: Date = Date()) {
        if let d = tickDeadline, now >= d { showHeldNotices() }
    }

    private func showHypervisorLine(_ text: String) {
        // Shown as it is, once the focused guest's line is complete (its bytes and ours travel
        // on separate streams: a guest writing a line byte by byte on one core while another
        // guest shuts down on the other would otherwise see "he", our line, "llo ...").
        terminalLineAtLineEnd(text)
        for (n, guest) in guestNames.enumerated() where n != focus && text.hasPrefix("swiftvisor: guest '\(guest)' ") {
            noticed.remove(n)   // its next output is announced again
        }
    }

    private var prompt: String { "(swiftvisor) " }

    /// At a terminal: where typing goes. In line mode only once input has come.
    public func announceFocus() {
        let text = "input goes to guest '\(name(focus))'; \(escapeName) for the hypervisor console (help lists its commands)"
        tell(text)
        announcedInput = true
    }

    // MARK: Input (user to hypervisor)

    /// Keys typed (or piped, or scripted).
    func typed(_ bytes: [UInt8]) {
        if !announcedInput { announceFocus() }
        var forGuest: [UInt8] = []
        func flushGuest() { if !forGuest.isEmpty { send(ConsoleMux.escaped(forGuest)); forGuest.removeAll() } }
        for b in bytes {
            if b == escapeKey {
                flushGuest()
                toggleCommandMode()
                continue
            }
            if !commandMode { forGuest.append(b); continue }
            switch b {
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                let line = String(decoding: command, as: UTF8.self)
                command.removeAll()
                if case .terminal(let t) = display { t.write("\r\n" + (commandMode ? prompt : "")); atLineStart = false }
                runCommand(line)
            case 0x7F, 0x08:
                if !command.isEmpty {
                    command.removeLast()
                    if case .terminal(let t) = display { t.write("\u{8} \u{8}") }
                }
            case 0x03:   // Ctrl-C abandons the line
                command.removeAll()
                if case .terminal(let t) = display { t.write("^C\r\n" + prompt) }
            case 0x20...0x7E:
                if command.count < ConsoleMux.InputDecoder.maximumCommandLength {
                    command.append(b)
                    if case .terminal(let t) = display { t.write([b]) }
                }
            default: break
            }
        }
        flushGuest()
    }

    private func toggleCommandMode() {
        if commandMode && isTerminal && returnTarget == nil {
            // No guest can read input: the hypervisor console keeps it.
            command.removeAll()
            terminalLine("[swiftvisor: no guest is running; `create NAME` starts one, `quit` ends swiftvisor]")
            return
        }
        commandMode.toggle()
        command.removeAll()
        if commandMode {
            showHeldNotices()
            if case .terminal(let t) = display {
                let back = returnTarget.map { "\(escapeName) goes back to '\(name($0))'" }
                    ?? "no guest is running (`create NAME` starts one, `quit` ends swiftvisor)"
                t.write((atLineStart ? "" : "\r\n") + "[swiftvisor: hypervisor console, `help` lists its commands; \(back)]\r\n" + prompt)
                atLineStart = false
            }
            return
        }
        // Leaving: the prompt line gives way to the guest's console.
        if case .terminal(let t) = display { t.write("\r\u{1B}[K"); atLineStart = true }
        if let target = returnTarget, target != focus {
            // The focused guest ended (or was picked with `console` after it ended).
            switchTo(target, replay: true, because: liveness.ending[focus].map { "\(name(focus)) \($0)" })
        } else {
            // Back to the same guest: what it printed meanwhile is shown (its recent output);
            // otherwise only its unfinished line (a shell's prompt) comes back.
            switchTo(focus, replay: replayOnReturn || noticed.contains(focus))
        }
    }

    /// Where input goes on leaving the hypervisor console: the focused guest while it is
    /// live, else the next live one; nil when no guest is live.
    private var returnTarget: Int? { liveness.isLive(focus) ? focus : liveness.nextLive(after: focus) }

    /// The hypervisor said `text`: when it ended the focused guest, input moves to the next
    /// live guest, saying so in one line; when no guest is live but a crashed one still runs,
    /// at a terminal the hypervisor console opens (what is typed next never goes to a guest
    /// that cannot read it).
    private func followFocus(after text: String) {
        guard let ended = liveness.consume(text), ended == focus, let how = liveness.ending[ended] else { return }
        let why = "\(name(ended)) \(how)"
        // In line mode nothing is said before input comes (as `announceFocus`).
        let quiet = !isTerminal && !announcedInput
        if let next = liveness.nextLive(after: ended) {
            if commandMode || quiet {
                focus = next
                send(ConsoleMux.focusOn(guest: next))
                replayOnReturn = true
                if !quiet { tell("\(why); \(escapeName) goes back to '\(name(next))'") }
            } else {
                switchTo(next, replay: true, because: why)
            }
        } else if !liveness.machineGoesOn {
            return   // every guest ended: the hypervisor ends the run, and the summary says how
        } else if case .terminal(let t) = display, !commandMode {
            showHeldNotices()
            commandMode = true
            command.removeAll()
            t.write((atLineStart ? "" : "\r\n") + "[swiftvisor: \(why); no guest is running: hypervisor console (`create NAME` starts one, `quit` ends swiftvisor)]\r\n" + prompt)
            atLineStart = false
        } else if !quiet {
            tell("\(why); no guest is running")
        }
    }

    private func runCommand(_ line: String) {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let verb = words.first else { return }
        if verb == "console" {
            guard words.count == 2, let n = guestNames.firstIndex(of: String(words[1])) else {
                message(words.count == 2 ? "no guest named '\(words[1])'; list shows them" : "console needs a guest's name: console NAME")
                return
            }
            commandMode = false
            // The prompt Enter printed is not wanted: the guest's console follows.
            if case .terminal(let t) = display { t.write("\r\u{1B}[K"); atLineStart = true }
            switchTo(n, replay: true)
            return
        }
        if verb == "quit" || verb == "q" { quitRequested = true }
        send(ConsoleMux.commandLine(line))
    }

    /// A line of the tool's own: a notice at a terminal, a "swiftvisor: " line otherwise.
    private func tell(_ text: String) {
        if isTerminal { notice(text) } else { emitLine("swiftvisor: " + text, stream: -1) }
    }

    private func message(_ text: String) {
        if isTerminal { terminalLine(text) } else { emitLine("swiftvisor: " + text, stream: -1) }
    }

    /// Input now goes to guest `n`; at a terminal its recent output is shown again.
    /// `because`: why the focus moved by itself ("beta shut down (poweroff)").
    private func switchTo(_ n: Int, replay: Bool, because: String? = nil) {
        showHeldNotices()   // what was said before the switch comes before it
        focus = n
        replayOnReturn = false
        send(ConsoleMux.focusOn(guest: n))
        noticed.remove(n)
        let why = because.map { $0 + "; " } ?? ""
        // A guest that ended (shown for its output) reads nothing.
        let ended = liveness.ending[n].map { ", which \($0): it reads no input" } ?? ""
        if case .terminal(let t) = display {
            notice("\(why)console: \(name(n))\(ended) (\(escapeName) for the hypervisor console)")
            if replay, var tail = recent[n], !tail.isEmpty {
                // Start at a line boundary, so no escape sequence is replayed from its middle.
                if tail.count > Self.recentLimit, let nl = tail.suffix(Self.recentLimit).firstIndex(of: UInt8(ascii: "\n")) {
                    tail = Array(tail[(nl + 1)...])
                }
                t.write(tail)
                atLineStart = tail.last == UInt8(ascii: "\n")
            } else if let line = unfinishedLine(n), !line.isEmpty {
                t.write(line)
                atLineStart = false
            }
        } else {
            emitLine("swiftvisor: \(why)input goes to guest '\(name(n))'\(ended)", stream: -1)
        }
    }

    /// The bytes `n` printed since its last newline, as it printed them (escape sequences and
    /// all): its prompt, shown again when the keyboard comes back to it.
    private func unfinishedLine(_ n: Int) -> [UInt8]? {
        guard let r = recent[n], !r.isEmpty else { return nil }
        guard let nl = r.lastIndex(of: UInt8(ascii: "\n")) else { return r.count <= Self.recentLimit ? r : nil }
        return Array(r[(nl + 1)...])
    }

    // MARK: asking the guests to shut down (`--timeout`)

    /// Guests that heard a shutdown request (through xenstore), by the hypervisor's word.
    private var heardShutdown: Set<String> = []
    private var askedAt: Date?

    /// The hypervisor's line saying `NAME` heard a request to power off or reboot.
    static func guestHearingShutdown(_ line: String) -> String? {
        let prefix = "swiftvisor: guest '"
        guard line.hasPrefix(prefix), let end = line.range(of: "' asked to power off through xenstore") ??
                line.range(of: "' asked to reboot through xenstore") else { return nil }
        return String(line[line.index(line.startIndex, offsetBy: prefix.count)..<end.lowerBound])
    }

    /// As `shutdown NAME` typed at the hypervisor console for every guest still running:
    /// those that talk to xenstore are asked through control/shutdown.
    func askGuestsToShutDown() {
        askedAt = Date()
        for name in guestNames where report.outcomes[name] == nil { send(ConsoleMux.commandLine("shutdown " + name)) }
    }

    /// After `askGuestsToShutDown`: the hypervisor has had a second to answer, and every guest
    /// that heard the request has ended.
    var askedGuestsHaveEnded: Bool {
        guard let askedAt, Date().timeIntervalSince(askedAt) >= 1 else { return false }
        return heardShutdown.allSatisfy { report.outcomes[$0] != nil }
    }

    /// The first bytes sent: input starts with the first guest.
    func start() {
        send(ConsoleMux.focusOn(guest: focus))
    }

    /// Whatever is left unfinished when the run ends.
    func finish() {
        showHeldNotices()
        for (stream, line) in partial.sorted(by: { $0.key < $1.key }) where !line.isEmpty {
            emitLine(stream < 0 ? Self.text(line) : "\(name(stream)) | " + Self.text(line), stream: stream)
        }
        partial.removeAll()
        if case .terminal(let t) = display {
            if commandMode { t.write("\r\u{1B}[K") } else if !atLineStart { t.write("\r\n") }
            atLineStart = true
        }
    }
}
