import CHostSupport
import Foundation
import XCTest
@testable import SwiftvisorHost

/// The consoles and the guest lifecycle as a person meets them: swiftvisor under a
/// pseudo-terminal (raw mode, the escape key, the hypervisor console), and signals that must
/// never leave a QEMU behind. On cortex-a57 (the console code does not depend on the CPU).
final class ConsoleTests: XCTestCase {
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")
    static let escape = "\u{1D}"   // Ctrl-]

    func test_the_demo_at_a_terminal_shows_its_guests_and_gives_the_terminal_back() throws {
        let t = try TerminalSession(["demo"])
        XCTAssertEqual(t.waitForExit(timeout: 600), 0, t.text)
        // beta's notice takes a line of its own and waits for alpha to end its line: it never
        // cuts alpha's words. (About one run in ten, beta prints nothing until alpha has ended:
        // the keyboard then moves to beta, saying so, and its lines are shown as they come.)
        let notice = "[swiftvisor: beta printed something; Ctrl-] then `console beta` shows it]"
        if t.text.contains(notice) {
            XCTAssertTrue(t.text.contains("\r\n" + notice + "\r\n"), t.text)
        } else {
            XCTAssertTrue(t.text.contains("\r\n[swiftvisor: alpha shut down (poweroff); console: beta (Ctrl-] for the hypervisor console)]\r\n"), t.text)
            XCTAssertTrue(t.text.contains("hello from a swiftvisor guest: I am beta\r\n"), t.text)
        }
        XCTAssertTrue(t.text.contains("swiftvisor run: every guest ended well"), t.text)
        XCTAssertTrue(t.text.contains("  beta: poweroff, exit code 0"), t.text)
        // Lines end with CR LF in raw mode: nothing drifts to the right.
        XCTAssertTrue(t.text.contains("hello from a swiftvisor guest: I am alpha\r\n"), t.text)
        let settings = t.terminalSettings
        XCTAssertNotEqual(settings.c_lflag & tcflag_t(ICANON), 0, "canonical mode restored")
        XCTAssertNotEqual(settings.c_lflag & tcflag_t(ECHO), 0, "echo restored")
        XCTAssertTrue(qemuProcesses(startedBy: t.pid).isEmpty)
    }

    func test_the_hypervisor_console_lists_pauses_creates_and_shuts_down_guests() throws {
        let t = try TerminalSession(["run", systems.appendingPathComponent("console.toml").path, "--timeout", "300"])
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'hello' shut down: poweroff (exit code 0)", timeout: 600), t.text)
        XCTAssertTrue(t.text.contains("[swiftvisor: input goes to guest 'spinner'; Ctrl-] for the hypervisor console"), t.text)
        t.type(Self.escape)
        XCTAssertTrue(t.waitFor("(swiftvisor) ", timeout: 10), t.text)

        var mark = t.screen.count
        t.type("list\r")
        XCTAssertTrue(t.waitFor("Name              ID  vCPUs  Mem(MiB)  Uptime(s)   CPU(s)  State", after: mark, timeout: 10), t.text)
        XCTAssertTrue(t.waitFor("  running", after: mark, timeout: 10), t.text)
        XCTAssertTrue(t.waitFor("  shut down (poweroff, exit code 0)", after: mark, timeout: 10), t.text)
        XCTAssertTrue(t.waitFor("  not started", after: mark, timeout: 10), "autostart = false" + t.text)

        mark = t.screen.count
        t.type("pause spinner\r")
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'spinner' paused", after: mark, timeout: 10), t.text)
        mark = t.screen.count
        t.type("list\r")
        XCTAssertTrue(t.waitFor("  paused", after: mark, timeout: 10), t.text)
        mark = t.screen.count
        t.type("unpause spinner\r")
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'spinner' unpaused", after: mark, timeout: 10), t.text)

        mark = t.screen.count
        t.type("frobnicate\r")
        XCTAssertTrue(t.waitFor("swiftvisor: unknown command 'frobnicate'; type help for the list", after: mark, timeout: 10), t.text)
        mark = t.screen.count
        t.type("destroy nosuch\r")
        XCTAssertTrue(t.waitFor("swiftvisor: no guest named 'nosuch'; list shows them", after: mark, timeout: 10), t.text)
        mark = t.screen.count
        t.type("help\r")
        XCTAssertTrue(t.waitFor("create NAME", after: mark, timeout: 10), t.text)

        // A guest that ended is created again: it boots and says hello once more.
        mark = t.screen.count
        t.type("create hello\r")
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'hello' created", after: mark, timeout: 30), t.text)
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'hello' shut down: poweroff (exit code 0)", after: mark, timeout: 60), t.text)
        // A guest with autostart = false starts when created.
        mark = t.screen.count
        t.type("create later\r")
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'later' created", after: mark, timeout: 30), t.text)
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'later' shut down: poweroff (exit code 0)", after: mark, timeout: 60), t.text)
        mark = t.screen.count
        t.type("console hello\r")
        XCTAssertTrue(t.waitFor("[swiftvisor: console: hello", after: mark, timeout: 10), t.text)
        XCTAssertTrue(t.waitFor("hello from a swiftvisor guest: once more", after: mark, timeout: 10), "its output is shown on switching" + t.text)

        // shutdown: the spinner cannot hear the request; it is destroyed after the grace period,
        // and then every guest has ended.
        t.type(Self.escape)
        XCTAssertTrue(t.waitFor("(swiftvisor) ", after: mark, timeout: 10), t.text)
        mark = t.screen.count
        t.type("shutdown spinner\r")
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'spinner' asked to shut down", after: mark, timeout: 10), t.text)
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'spinner' destroyed: it did not shut down within the grace period", after: mark, timeout: 60), t.text)
        XCTAssertEqual(t.waitForExit(timeout: 60), 0, t.text)
        XCTAssertTrue(t.text.contains("  spinner: destroyed (it did not shut down within the grace period)"), t.text)
        XCTAssertTrue(t.text.contains("  later: poweroff, exit code 0"), t.text)
        XCTAssertTrue(qemuProcesses(startedBy: t.pid).isEmpty)
    }

    /// The keyboard never stays with a guest that ended. gamma, watched, powers off by itself:
    /// input moves to alpha, and one line says so. beta, watched, is shut down from the
    /// hypervisor console (a spinner cannot hear the request: destroyed after the grace period):
    /// Ctrl-] then gives the keyboard to alpha, not to beta.
    func test_input_moves_off_a_guest_that_ends() throws {
        let t = try TerminalSession(["run", systems.appendingPathComponent("console-focus.toml").path, "--timeout", "300"])
        XCTAssertTrue(t.waitFor("swiftvisor: starting 3 guest(s)", timeout: 600), t.text)
        var mark = t.screen.count
        t.type(Self.escape)
        XCTAssertTrue(t.waitFor("(swiftvisor) ", after: mark, timeout: 10), t.text)
        t.type("console gamma\r")
        XCTAssertTrue(t.waitFor("[swiftvisor: console: gamma (Ctrl-] for the hypervisor console)]", after: mark, timeout: 10), t.text)
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'gamma' shut down: poweroff (exit code 0)", after: mark, timeout: 120), t.text)
        XCTAssertTrue(t.waitFor("[swiftvisor: gamma shut down (poweroff); console: alpha (Ctrl-] for the hypervisor console)]", after: mark, timeout: 10), t.text)

        mark = t.screen.count
        t.type(Self.escape)
        XCTAssertTrue(t.waitFor("[swiftvisor: hypervisor console, `help` lists its commands; Ctrl-] goes back to 'alpha']", after: mark, timeout: 10), t.text)
        t.type("console beta\r")
        XCTAssertTrue(t.waitFor("[swiftvisor: console: beta (Ctrl-] for the hypervisor console)]", after: mark, timeout: 10), t.text)
        mark = t.screen.count
        t.type(Self.escape)
        XCTAssertTrue(t.waitFor("[swiftvisor: hypervisor console, `help` lists its commands; Ctrl-] goes back to 'beta']", after: mark, timeout: 10), t.text)
        t.type("shutdown beta\r")
        XCTAssertTrue(t.waitFor("swiftvisor: guest 'beta' destroyed: it did not shut down within the grace period", after: mark, timeout: 60), t.text)
        XCTAssertTrue(t.waitFor("[swiftvisor: beta was destroyed; Ctrl-] goes back to 'alpha']", after: mark, timeout: 10), t.text)
        mark = t.screen.count
        t.type(Self.escape)
        XCTAssertTrue(t.waitFor("[swiftvisor: console: alpha (Ctrl-] for the hypervisor console)]", after: mark, timeout: 10), t.text)
        XCTAssertFalse(t.text.contains("(swiftvisor) \r\n[swiftvisor: console: "), "the prompt Enter printed is erased, not left above the guest's console")

        // `console beta` after it ended: its output, and a word that it reads nothing.
        t.type(Self.escape)
        mark = t.screen.count
        t.type("console beta\r")
        XCTAssertTrue(t.waitFor("[swiftvisor: console: beta, which was destroyed: it reads no input (Ctrl-] for the hypervisor console)]", after: mark, timeout: 10), t.text)
        t.type(Self.escape)
        mark = t.screen.count
        t.type("quit\r")
        XCTAssertEqual(t.waitForExit(timeout: 60), 0, t.text)
        XCTAssertTrue(t.text.contains("  gamma: poweroff, exit code 0"), t.text)
        XCTAssertTrue(t.text.contains("  beta: destroyed (it did not shut down within the grace period)"), t.text)
        XCTAssertTrue(t.text.contains("  alpha: destroyed (quit)"), t.text)
        XCTAssertTrue(qemuProcesses(startedBy: t.pid).isEmpty)
    }

    /// `swiftvisor linux` at a terminal, as a person uses it: the focused guest's shell gets
    /// every byte (an escape sequence arrives unchanged, Ctrl-C interrupts the guest's `sleep`
    /// and not swiftvisor), Ctrl-] reaches the hypervisor console, `quit` ends it all.
    func test_a_linux_shell_at_a_terminal_gets_the_raw_console() throws {
        let t = try TerminalSession(["linux", "--timeout", "900"])
        XCTAssertTrue(t.waitFor("alpha:/# ", timeout: 900), t.text)   // (the first run downloads Debian's packages)
        XCTAssertTrue(t.text.contains("[swiftvisor: input goes to guest 'alpha'; Ctrl-] for the hypervisor console"), t.text)

        var mark = t.screen.count
        t.type("printf 'A\\033[1;31mB\\033[0mC\\n'\r")
        XCTAssertTrue(t.waitFor("A\u{1B}[1;31mB\u{1B}[0mC", after: mark, timeout: 60), "escape sequence passed through" + t.text)

        mark = t.screen.count
        t.type("sleep 100\r")
        XCTAssertTrue(t.waitFor("sleep 100\r\n", after: mark, timeout: 30), t.text)
        sleep(2)
        t.type(bytes: [0x03])   // Ctrl-C: in raw mode a byte for the guest's tty, not a signal for us
        t.type("echo after-$((2+3))\r")
        XCTAssertTrue(t.waitFor("\r\nafter-5\r\n", after: mark, timeout: 60), "Ctrl-C interrupted the guest's sleep" + t.text)
        XCTAssertNil(t.exitStatus, "swiftvisor still runs")

        t.type(Self.escape)
        XCTAssertTrue(t.waitFor("(swiftvisor) ", after: mark, timeout: 10), t.text)
        mark = t.screen.count
        t.type("console beta\r")
        XCTAssertTrue(t.waitFor("[swiftvisor: console: beta", after: mark, timeout: 10), t.text)
        t.type("hostname\r")
        XCTAssertTrue(t.waitFor("hostname\r\nbeta\r\n", after: mark, timeout: 60), t.text)

        t.type(Self.escape)
        mark = t.screen.count
        t.type("list\r")
        XCTAssertTrue(t.waitFor("swiftvisor: beta ", after: mark, timeout: 10), t.text)
        mark = t.screen.count
        t.type("quit\r")
        XCTAssertEqual(t.waitForExit(timeout: 60), 0, t.text)
        XCTAssertTrue(t.text.contains("  alpha: destroyed (quit)"), t.text)
        XCTAssertTrue(t.text.contains("  beta: destroyed (quit)"), t.text)
        XCTAssertNotEqual(t.terminalSettings.c_lflag & tcflag_t(ICANON), 0, "terminal restored")
        XCTAssertTrue(qemuProcesses(startedBy: t.pid).isEmpty)
    }

    /// The system's SIGTERM/SIGINT/SIGHUP, the timeout and even SIGKILL end QEMU with us.
    func test_signals_and_the_timeout_never_leave_qemu_behind() throws {
        let config = systems.appendingPathComponent("console.toml").path
        // Handled signals end the run with 128 + N; SIGKILL cannot be handled (Foundation then
        // reports the signal's number itself).
        for (signal, status) in [(SIGTERM, Int32(143)), (SIGINT, 130), (SIGHUP, 129), (SIGKILL, SIGKILL)] {
            let p = Process()
            p.executableURL = try SwiftvisorTool.url()
            p.arguments = ["run", config, "--timeout", "300"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            p.standardInput = FileHandle.nullDevice
            try p.run()
            // Wait until QEMU runs the guests.
            let collected = OutputCollector(out)
            XCTAssertTrue(collected.waitFor("swiftvisor: guest 'hello' shut down", timeout: 600), collected.text)
            XCTAssertFalse(qemuProcesses(startedBy: p.processIdentifier).isEmpty, "QEMU runs")
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, status, "\(signal): " + collected.text)
            XCTAssertEqual(p.terminationReason, signal == SIGKILL ? .uncaughtSignal : .exit, "\(signal)")
            if signal != SIGKILL {
                XCTAssertTrue(collected.waitFor("interrupted: \(SystemRunner.signalName(signal)) received; QEMU was stopped", timeout: 5), collected.text)
                XCTAssertTrue(collected.waitFor("  spinner: still running when swiftvisor was interrupted", timeout: 5), collected.text)
                XCTAssertTrue(collected.waitFor("  later: not started (autostart = false, and never created)", timeout: 5), collected.text)
            }
            // PR_SET_PDEATHSIG acts at once, but the kernel may take a moment to reap.
            let end = Date().addingTimeInterval(5)
            while !qemuProcesses(startedBy: p.processIdentifier).isEmpty && Date() < end { usleep(100_000) }
            XCTAssertEqual(qemuProcesses(startedBy: p.processIdentifier), [], "QEMU left behind after signal \(signal)")
        }
        let p = Process()
        p.executableURL = try SwiftvisorTool.url()
        p.arguments = ["run", config, "--timeout", "10"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 3)
        XCTAssertEqual(qemuProcesses(startedBy: p.processIdentifier), [])
    }

    /// `bench` as `run`: SIGTERM or SIGINT while QEMU measures stops QEMU, says so in one line
    /// and exits 128 + N, without a second boot or a report blaming the guest.
    func test_bench_ends_with_qemu_on_sigterm_and_sigint() throws {
        for (signal, status) in [(SIGTERM, Int32(143)), (SIGINT, 130)] {
            let p = Process()
            p.executableURL = try SwiftvisorTool.url()
            p.arguments = ["bench"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            p.standardInput = FileHandle.nullDevice
            try p.run()
            let collected = OutputCollector(out)
            let end = Date().addingTimeInterval(600)
            while qemuProcesses(startedBy: p.processIdentifier).isEmpty && p.isRunning && Date() < end { usleep(100_000) }
            XCTAssertFalse(qemuProcesses(startedBy: p.processIdentifier).isEmpty, "QEMU runs: " + collected.text)
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, status, "\(signal): " + collected.text)
            XCTAssertTrue(collected.waitFor("swiftvisor bench: interrupted: \(SystemRunner.signalName(signal)) received; QEMU was stopped", timeout: 5), collected.text)
            XCTAssertFalse(collected.text.contains("did not finish"), collected.text)
            let gone = Date().addingTimeInterval(5)
            while !qemuProcesses(startedBy: p.processIdentifier).isEmpty && Date() < gone { usleep(100_000) }
            XCTAssertEqual(qemuProcesses(startedBy: p.processIdentifier), [], "QEMU left behind after signal \(signal)")
        }
    }

    func test_a_guest_created_and_destroyed_a_thousand_times_still_works() throws {
        let cycles = Int(ProcessInfo.processInfo.environment["CYCLES"] ?? "1000")!
        final class Counter: @unchecked Sendable { var created = 0; var ended = 0 }
        let c = Counter()
        var options = SystemRunner.Options()
        options.cpu = "cortex-a57"
        options.timeout = 600
        options.echo = false
        // Each life ends by `destroy`, or by itself when the little guest is faster than the
        // command (then the destroy is refused: it is no longer running); either way it is
        // created again, until the last life runs to its end.
        options.input = .respond { line in
            let ended = line == "swiftvisor: guest 'hello' destroyed: from the hypervisor console"
                || line.hasPrefix("swiftvisor: guest 'hello' shut down: poweroff (exit code 0)")
            if ended {
                if c.created == 0 { return Self.escape + "create hello\n" }   // the first, autostarted life
                if c.created > cycles { return "quit\n" }
                c.ended += 1
                return "create hello\n"
            }
            if line == "swiftvisor: guest 'hello' created" {
                c.created += 1
                return c.created <= cycles ? "destroy hello\n" : nil
            }
            return nil
        }
        let o = try SystemRunner(log: { _ in }).run(systems.appendingPathComponent("console.toml"), options: options)
        let log = "\n" + o.lines.suffix(40).joined(separator: "\n")
        XCTAssertEqual(c.ended, cycles, log)
        XCTAssertGreaterThan(o.lines.filter { $0 == "swiftvisor: guest 'hello' destroyed: from the hypervisor console" }.count, cycles / 2, log)
        XCTAssertEqual(c.created, cycles + 1, log)
        // The last life ran to its end: it printed and powered off as the first did.
        XCTAssertEqual(o.report.guestLines["hello"]?.last, "goodbye", log)
        XCTAssertTrue(o.report.succeeded("hello"), log)
        XCTAssertEqual(o.report.outcomes["spinner"], .destroyed("quit"), log)
        XCTAssertEqual(o.verdict, .success, log)
        XCTAssertNil(o.report.panic, log)
    }
}

/// Collects a pipe's output on a background thread, for tests that wait for a line.
final class OutputCollector: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                self.lock.lock(); self.data.append(chunk); self.lock.unlock()
            }
        }.start()
    }

    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }

    func waitFor(_ needle: String, timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end { if text.contains(needle) { return true }; usleep(50_000) }
        return text.contains(needle)
    }
}
