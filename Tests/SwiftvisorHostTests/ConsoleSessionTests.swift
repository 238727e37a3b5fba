import XCTest
import SwiftvisorCore
@testable import SwiftvisorHost

/// What the user sees and sends through a ConsoleSession without a terminal (line mode).
final class ConsoleSessionTests: XCTestCase {
    func session() -> (ConsoleSession, () -> [UInt8]) {
        let s = ConsoleSession(guestNames: ["alpha", "beta"], display: .lines(nil), logDirectory: nil)
        var sent: [UInt8] = []
        s.send = { sent += $0 }
        return (s, { defer { sent = [] }; return sent })
    }

    func test_guest_lines_are_whole_and_named_and_hypervisor_lines_pass() {
        let (s, _) = session()
        let dle = ConsoleMux.escape
        s.received(Array("swiftvisor: booting\r\n".utf8) + [dle, 0x67, 0] + Array("hel".utf8) + [dle, 0x67, 1] + Array("b1\r\n".utf8)
                   + [dle, 0x67, 0] + Array("lo \u{1B}[1;31mred\u{1B}[0m\u{7}\r\n".utf8))
        XCTAssertEqual(s.lines, ["swiftvisor: booting", "beta | b1", "alpha | hello red?"])
    }

    func test_typing_goes_to_the_focused_guest_and_the_escape_key_to_the_console() {
        let (s, sent) = session()
        s.start()
        XCTAssertEqual(sent(), ConsoleMux.focusOn(guest: 0))
        s.typed(Array("ls\u{10}\r".utf8))
        XCTAssertEqual(sent(), Array("ls".utf8) + [0x10, 0x10] + Array("\r".utf8), "DLE doubled")
        s.typed([ConsoleSession.defaultEscape] + Array("list\n".utf8))
        XCTAssertEqual(sent(), ConsoleMux.commandLine("list"))
        s.typed(Array("console beta\n".utf8))
        XCTAssertEqual(sent(), ConsoleMux.focusOn(guest: 1), "console NAME is the tool's own")
        XCTAssertEqual(s.focus, 1)
        XCTAssertFalse(s.commandMode)
        s.typed(Array("\u{3}".utf8))
        XCTAssertEqual(sent(), [0x03], "Ctrl-C is the guest's")
        s.typed([ConsoleSession.defaultEscape] + Array("console nosuch\nquit\n".utf8))
        XCTAssertEqual(sent(), ConsoleMux.commandLine("quit"))
        XCTAssertTrue(s.lines.contains("swiftvisor: no guest named 'nosuch'; list shows them"))
        XCTAssertTrue(s.quitRequested)
    }

    /// At a terminal, another guest's notice waits for the focused guest to end its line, or
    /// for `noticeHold` (a prompt never ends its line): it never cuts the focused guest's words.
    func test_a_notice_waits_for_the_focused_guest_to_end_its_line() throws {
        let screen = try PipeScreen()
        let s = ConsoleSession(guestNames: ["alpha", "beta"], display: .terminal(Terminal(input: -1, output: screen.writeEnd)), logDirectory: nil)
        func shown() -> String { screen.read() }
        let dle = ConsoleMux.escape, notice = "[swiftvisor: beta printed something; Ctrl-] then `console beta` shows it]"
        s.received([dle, 0x67, 0] + Array("hel".utf8) + [dle, 0x67, 1] + Array("b1\r\n".utf8) + [dle, 0x67, 0] + Array("lo\r\n".utf8))
        XCTAssertEqual(shown(), "hello\r\n" + notice + "\r\n")
        XCTAssertNil(s.tickDeadline)

        // A prompt: the notice comes after noticeHold, on a line of its own.
        s.received([dle, ConsoleMux.hypervisorStream] + Array("swiftvisor: guest 'beta' rebooted\r\n".utf8))   // beta is announced again
        _ = shown()
        s.received([dle, 0x67, 0] + Array("# ".utf8) + [dle, 0x67, 1] + Array("b2\r\n".utf8))
        XCTAssertEqual(shown(), "# ")
        let deadline = try XCTUnwrap(s.tickDeadline)
        s.tick(now: deadline.addingTimeInterval(-0.01))
        XCTAssertEqual(shown(), "")
        s.tick(now: deadline)
        XCTAssertEqual(shown(), "\r\n" + notice + "\r\n")
        XCTAssertNil(s.tickDeadline)
    }

    /// The hypervisor's own lines (another guest shutting down) wait for the focused guest's
    /// line too, in order with the notices: seen when alpha wrote "hello" a byte at a time on
    /// one core while beta shut down on the other ("he", the line, "llo ...").
    func test_a_hypervisor_line_waits_for_the_focused_guest_to_end_its_line() throws {
        let screen = try PipeScreen()
        let s = ConsoleSession(guestNames: ["alpha", "beta"], display: .terminal(Terminal(input: -1, output: screen.writeEnd)), logDirectory: nil)
        func shown() -> String { screen.read() }
        let dle = ConsoleMux.escape, notice = "[swiftvisor: beta printed something; Ctrl-] then `console beta` shows it]"
        let shutDown = "swiftvisor: guest 'beta' shut down: poweroff (exit code 0)"
        s.received([dle, 0x67, 0] + Array("he".utf8) + [dle, 0x67, 1] + Array("bye\r\n".utf8)
                   + [dle, ConsoleMux.hypervisorStream] + Array((shutDown + "\r\n").utf8))
        XCTAssertEqual(shown(), "he")
        s.received([dle, 0x67, 0] + Array("llo\r\n".utf8))
        XCTAssertEqual(shown(), "llo\r\n" + notice + "\r\n" + shutDown + "\r\n")
        XCTAssertNil(s.tickDeadline)
        XCTAssertEqual(s.lines.suffix(3), ["beta | bye", shutDown, "alpha | hello"], "the report reads each line as it comes")
        // At a prompt it comes after noticeHold.
        s.received([dle, 0x67, 0] + Array("# ".utf8) + [dle, ConsoleMux.hypervisorStream] + Array("swiftvisor: all guests have finished\r\n".utf8))
        XCTAssertEqual(shown(), "# ")
        s.tick(now: try XCTUnwrap(s.tickDeadline))
        XCTAssertEqual(shown(), "\r\nswiftvisor: all guests have finished\r\n")
    }

    /// At a terminal: back from the hypervisor console, the guest's prompt is shown again (it
    /// scrolled away above the console's lines), and what it printed meanwhile too.
    func test_leaving_the_hypervisor_console_shows_the_guests_prompt_again() throws {
        let screen = try PipeScreen()
        let s = ConsoleSession(guestNames: ["alpha", "beta"], display: .terminal(Terminal(input: -1, output: screen.writeEnd)), logDirectory: nil)
        s.send = { _ in }
        let dle = ConsoleMux.escape
        s.start()
        s.received([dle, 0x67, 0] + Array("boot done\r\nalpha:/# ".utf8))
        s.typed([ConsoleSession.defaultEscape] + Array("list\r".utf8))
        _ = screen.read()
        s.typed([ConsoleSession.defaultEscape])
        XCTAssertEqual(screen.read(), "\r\u{1B}[K[swiftvisor: console: alpha (Ctrl-] for the hypervisor console)]\r\nalpha:/# ")
        s.typed(Array("ls\r".utf8))
        s.received([dle, 0x67, 0] + Array("ls\r\nbin\r\nalpha:/# ".utf8))
        s.typed([ConsoleSession.defaultEscape])
        s.received([dle, 0x67, 0] + Array("\r\nlate line\r\nalpha:/# ".utf8))
        XCTAssertTrue(screen.read().contains("[swiftvisor: alpha printed something; Ctrl-] goes back to it]"))
        s.typed([ConsoleSession.defaultEscape])
        let back = screen.read()
        XCTAssertTrue(back.hasSuffix("late line\r\nalpha:/# "), back)
        XCTAssertTrue(back.contains("bin\r\nalpha:/# \r\nlate line"), "its recent output, with what came meanwhile: " + back)
    }

    func test_escape_key_names() {
        XCTAssertEqual(ConsoleSession.escapeKey(named: "^]"), 0x1D)
        XCTAssertEqual(ConsoleSession.escapeKey(named: "ctrl-a"), 0x01)
        XCTAssertEqual(ConsoleSession.escapeKey(named: "^B"), 0x02)
        XCTAssertNil(ConsoleSession.escapeKey(named: "x"))
        XCTAssertNil(ConsoleSession.escapeKey(named: "^1"))
        let s = ConsoleSession(guestNames: [], display: .lines(nil), escapeKey: 0x02, logDirectory: nil)
        XCTAssertEqual(s.escapeName, "Ctrl-B")
    }

    func test_each_guest_gets_a_raw_log() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("session-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let s = ConsoleSession(guestNames: ["alpha"], display: .lines(nil), logDirectory: dir)
            s.received([ConsoleMux.escape, 0x67, 0] + Array("\u{1B}[31mred\r\n".utf8))
        }
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("alpha.log")), Data("\u{1B}[31mred\r\n".utf8))
    }

    func test_a_flooding_guest_does_not_grow_the_tool_without_bound() {
        let (s, _) = session()
        s.lineLimit = 1000
        s.report.guestLineLimit = 200
        s.received(Array("swiftvisor: guest 'beta' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{0}\r\n".utf8))
        let flood = [ConsoleMux.escape, 0x67, 0] + Array(String(repeating: "spam\r\n", count: 5_000).utf8)
        s.received(flood)
        XCTAssertLessThanOrEqual(s.lines.count, 1000)
        XCTAssertLessThanOrEqual(s.report.guestLines["alpha"]?.count ?? 0, 200)
        XCTAssertEqual(s.lines.last, "alpha | spam")
        // The early outcome survives the dropped lines.
        XCTAssertTrue(s.report.succeeded("beta"))
    }
}

/// The input focus never stays on a guest that ended: it moves to a live guest, saying so in
/// one line, and when only a crashed guest still runs, the hypervisor console keeps the keyboard.
final class ConsoleFocusTests: XCTestCase {
    let dle = ConsoleMux.escape
    func hypervisor(_ line: String) -> [UInt8] { [dle, ConsoleMux.hypervisorStream] + Array((line + "\r\n").utf8) }

    func test_in_line_mode_input_moves_from_a_guest_that_ends_to_the_next_live_one() {
        let s = ConsoleSession(guestNames: ["alpha", "beta", "gamma"], display: .lines(nil), logDirectory: nil)
        var sent: [UInt8] = []
        s.send = { sent += $0 }
        s.start()
        s.typed([ConsoleSession.defaultEscape] + Array("console beta\n".utf8))
        sent = []
        // Another guest ending does not move the focus.
        s.received(hypervisor("swiftvisor: guest 'alpha' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{0}"))
        XCTAssertEqual(s.focus, 1)
        XCTAssertEqual(sent, [])
        s.received(hypervisor("swiftvisor: guest 'beta' destroyed: from the hypervisor console"))
        XCTAssertEqual(s.lines.last, "swiftvisor: beta was destroyed; input goes to guest 'gamma'")
        XCTAssertEqual(s.focus, 2)
        XCTAssertEqual(sent, ConsoleMux.focusOn(guest: 2), "the hypervisor is told")
        sent = []
        // The last one ends: the machine ends with it, nothing more is said.
        s.received(hypervisor("swiftvisor: guest 'gamma' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{0}"))
        XCTAssertEqual(s.lines.last, "swiftvisor: guest 'gamma' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{0}")
        XCTAssertEqual(sent, [])
    }

    func test_in_line_mode_nothing_is_said_before_input_comes() {
        let s = ConsoleSession(guestNames: ["alpha", "beta"], display: .lines(nil), logDirectory: nil)
        var sent: [UInt8] = []
        s.send = { sent += $0 }
        s.start()
        sent = []
        s.received(hypervisor("swiftvisor: guest 'alpha' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{0}"))
        XCTAssertEqual(s.lines, ["swiftvisor: guest 'alpha' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{0}"])
        XCTAssertEqual(s.focus, 1)
        XCTAssertEqual(sent, ConsoleMux.focusOn(guest: 1))
        s.typed(Array("x".utf8))
        XCTAssertEqual(s.lines.last, "swiftvisor: input goes to guest 'beta'; Ctrl-] for the hypervisor console (help lists its commands)")
    }

    func test_a_guest_not_started_is_skipped_and_one_created_again_takes_input() {
        let s = ConsoleSession(guestNames: ["later", "alpha", "beta"], display: .lines(nil), logDirectory: nil)
        s.start()
        s.announceFocus()   // as when input has come
        s.received(hypervisor("swiftvisor: guest 'later': 4 MiB at host 0x48000000, VMID 1, 1 vCPU(s), entry 0x40080000, counter offset 0; not started (autostart = false): `create NAME` starts it"))
        XCTAssertEqual(s.focus, 1, s.lines.joined(separator: "\n"))
        XCTAssertEqual(s.lines.last, "swiftvisor: later is not started; input goes to guest 'alpha'")
        s.received(hypervisor("swiftvisor: guest 'later' created"))
        s.received(hypervisor("swiftvisor: guest 'alpha' crashed: its kernel panicked"))
        XCTAssertEqual(s.lines.last, "swiftvisor: alpha crashed; input goes to guest 'beta'")
        s.received(hypervisor("swiftvisor: guest 'beta' stopped: every vCPU is off"))
        XCTAssertEqual(s.lines.last, "swiftvisor: beta was stopped; input goes to guest 'later'", "created again: live")
    }

    /// At a terminal, as a person sees it: `shutdown beta` at the hypervisor console, beta
    /// ends, and Ctrl-] gives the keyboard to alpha (with its recent output), not to beta.
    func test_at_a_terminal_the_escape_key_goes_back_to_a_live_guest() throws {
        let screen = try PipeScreen()
        let s = ConsoleSession(guestNames: ["alpha", "beta"], display: .terminal(Terminal(input: -1, output: screen.writeEnd)), logDirectory: nil)
        var sent: [UInt8] = []
        s.send = { sent += $0 }
        s.start()
        s.received([dle, 0x67, 0] + Array("alpha:/# ".utf8))
        s.typed([ConsoleSession.defaultEscape] + Array("console beta\r".utf8))
        s.typed([ConsoleSession.defaultEscape] + Array("shutdown beta\r".utf8))
        XCTAssertTrue(screen.read().hasSuffix("[swiftvisor: hypervisor console, `help` lists its commands; Ctrl-] goes back to 'beta']\r\n(swiftvisor) shutdown beta\r\n(swiftvisor) "))
        sent = []
        s.received(hypervisor("swiftvisor: guest 'beta' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{1}"))
        XCTAssertEqual(screen.read(), "\r\u{1B}[Kswiftvisor: guest 'beta' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{1}\r\n(swiftvisor) "
                       + "\r\u{1B}[K[swiftvisor: beta shut down (poweroff); Ctrl-] goes back to 'alpha']\r\n(swiftvisor) ")
        XCTAssertEqual(sent, ConsoleMux.focusOn(guest: 0))
        s.typed([ConsoleSession.defaultEscape])
        XCTAssertEqual(screen.read(), "\r\u{1B}[K[swiftvisor: console: alpha (Ctrl-] for the hypervisor console)]\r\nalpha:/# ",
                       "the prompt line erased, alpha's prompt shown again")
        XCTAssertEqual(s.focus, 0)
        XCTAssertFalse(s.commandMode)
        sent = []
        s.typed(Array("ls\r".utf8))
        XCTAssertEqual(sent, Array("ls\r".utf8), "typing reaches alpha")

        // `console beta` after it ended shows its output and says it reads nothing; Ctrl-] twice
        // comes back to alpha.
        s.typed([ConsoleSession.defaultEscape] + Array("console beta\r".utf8))
        XCTAssertTrue(screen.read().contains("[swiftvisor: console: beta, which shut down (poweroff): it reads no input (Ctrl-] for the hypervisor console)]"))
        s.typed([ConsoleSession.defaultEscape])
        XCTAssertTrue(screen.read().hasSuffix("[swiftvisor: hypervisor console, `help` lists its commands; Ctrl-] goes back to 'alpha']\r\n(swiftvisor) "))
        s.typed([ConsoleSession.defaultEscape])
        XCTAssertTrue(screen.read().contains("[swiftvisor: beta shut down (poweroff); console: alpha (Ctrl-] for the hypervisor console)]"))
        XCTAssertEqual(s.focus, 0)

        // alpha's kernel panics: no guest can read input, but the machine goes on: the
        // hypervisor console takes the keyboard, and keeps it on Ctrl-].
        s.received(hypervisor("swiftvisor: guest 'alpha' crashed: its kernel panicked"))
        XCTAssertTrue(screen.read().hasSuffix("[swiftvisor: alpha crashed; no guest is running: hypervisor console (`create NAME` starts one, `quit` ends swiftvisor)]\r\n(swiftvisor) "))
        XCTAssertTrue(s.commandMode)
        s.typed([ConsoleSession.defaultEscape])
        XCTAssertEqual(screen.read(), "\r\u{1B}[K[swiftvisor: no guest is running; `create NAME` starts one, `quit` ends swiftvisor]\r\n(swiftvisor) ")
        XCTAssertTrue(s.commandMode)
        s.typed(Array("create beta\r".utf8))
        s.received(hypervisor("swiftvisor: guest 'beta' created"))
        _ = screen.read()
        s.typed([ConsoleSession.defaultEscape])
        XCTAssertTrue(screen.read().contains("[swiftvisor: alpha crashed; console: beta (Ctrl-] for the hypervisor console)]"))
        XCTAssertEqual(s.focus, 1)
    }
}

/// What the session writes to the terminal, read from a pipe.
final class PipeScreen {
    private var fds: [Int32] = [0, 0]
    var writeEnd: Int32 { fds[1] }

    init() throws {
        guard pipe(&fds) == 0 else { throw POSIXFailure("pipe") }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
    }

    deinit { close(fds[0]); close(fds[1]) }

    /// What was written since the last read.
    func read() -> String {
        var out: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        while true { let n = Foundation.read(fds[0], &buffer, buffer.count); if n <= 0 { break }; out += buffer[0..<n] }
        return String(decoding: out, as: UTF8.self)
    }
}

/// `--timeout` asks the guests to shut down: which of them heard, by the hypervisor's word.
final class ConsoleSessionShutdownTests: XCTestCase {
    func test_the_hypervisor_line_of_a_guest_that_heard_names_it() {
        XCTAssertEqual(ConsoleSession.guestHearingShutdown(
            "swiftvisor: guest 'alpha' asked to power off through xenstore (control/shutdown = poweroff); it is destroyed in 10 s unless it powers off first"), "alpha")
        XCTAssertEqual(ConsoleSession.guestHearingShutdown(
            "swiftvisor: guest 'b-2' asked to reboot through xenstore (control/shutdown = reboot); it is rebooted in 10 s unless it reboots first"), "b-2")
        XCTAssertNil(ConsoleSession.guestHearingShutdown(
            "swiftvisor: guest 'spinner' asked to shut down; it has no power button and does not talk to xenstore, so it is destroyed in 10 s unless it powers off first"))
        XCTAssertNil(ConsoleSession.guestHearingShutdown("alpha | swiftvisor: guest 'x' asked to power off through xenstore"))
    }
}
