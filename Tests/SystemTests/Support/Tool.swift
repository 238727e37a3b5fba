import CHostSupport
import Foundation
import XCTest
@testable import SwiftvisorHost

/// The built `swiftvisor` binary, run as a user runs it. Built here when missing, so that no
/// test skips for want of it.
enum SwiftvisorTool {
    static let binary: URL = {
        let candidates = [Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("swiftvisor"),
                          ProjectLayout.current.root.appendingPathComponent(".build/debug/swiftvisor")]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) { return found }
        _ = try? Shell.run("/usr/bin/env", ["swift", "build", "--product", "swiftvisor"], currentDirectory: ProjectLayout.current.root)
        return candidates[1]
    }()

    struct Missing: Error, CustomStringConvertible {
        var description: String { "the swiftvisor binary is missing even after `swift build --product swiftvisor`" }
    }

    /// The binary; a test that needs it fails (never skips) when it cannot be had.
    static func url() throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw Missing() }
        return binary
    }
}

/// swiftvisor under a pseudo-terminal, as a person at a terminal runs it: its own session,
/// the pty as its controlling terminal; we type into the master and read what the screen gets.
final class TerminalSession {
    let pid: pid_t
    let master: Int32
    private let slave: Int32
    /// Everything the program wrote to the terminal.
    private(set) var screen: [UInt8] = []
    private(set) var exitStatus: Int32?

    init(_ arguments: [String]) throws {
        var m: Int32 = -1, s: Int32 = -1
        guard host_open_pty(&m, &s, 40, 120) == 0 else { throw POSIXFailure("openpty") }
        master = m; slave = s
        let tool = try SwiftvisorTool.url()
        var argv: [UnsafeMutablePointer<CChar>?] = ([tool.path] + arguments).map { strdup($0) }
        argv.append(nil)
        defer { for a in argv { free(a) } }
        pid = host_spawn(tool.path, argv, nil, s, s, s,
                         Int32(HOST_SPAWN_DIE_WITH_PARENT | HOST_SPAWN_NEW_SESSION_WITH_TERMINAL))
        guard pid > 0 else { throw POSIXFailure("starting swiftvisor") }
    }

    deinit {
        if exitStatus == nil { kill(pid, SIGKILL); var st: Int32 = 0; waitpid(pid, &st, 0) }
        close(master); close(slave)
    }

    var text: String { String(decoding: screen, as: UTF8.self) }

    func type(_ text: String) { QEMU.writeAll(master, Array(text.utf8)) }
    func type(bytes: [UInt8]) { QEMU.writeAll(master, bytes) }

    /// Reads until `text` appears after `from` (a screen offset), or `timeout` seconds pass.
    @discardableResult
    func waitFor(_ text: String, after from: Int = 0, timeout: Double) -> Bool {
        let needle = Array(text.utf8)
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if contains(needle, from: from) { return true }
            pump(until: min(end, Date().addingTimeInterval(0.2)))
            if exitStatus != nil { return contains(needle, from: from) }
        }
        return contains(needle, from: from)
    }

    private func contains(_ needle: [UInt8], from: Int) -> Bool {
        guard screen.count >= needle.count + from else { return false }
        var i = from
        while i + needle.count <= screen.count {
            if screen[i] == needle[0] && Array(screen[i..<(i + needle.count)]) == needle { return true }
            i += 1
        }
        return false
    }

    private func pump(until: Date) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < until {
            var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 1, 50)
            if ready > 0 {
                let n = read(master, &buffer, buffer.count)
                if n > 0 { screen.append(contentsOf: buffer[0..<n]); continue }
            }
            reap()
            if exitStatus != nil { return }
        }
    }

    private func reap() {
        guard exitStatus == nil else { return }
        var st: Int32 = 0
        if waitpid(pid, &st, WNOHANG) == pid { exitStatus = st & 0x7F == 0 ? (st >> 8) & 0xFF : 128 + (st & 0x7F) }
    }

    /// Waits for the program to end (reading what it prints meanwhile); its exit status.
    func waitForExit(timeout: Double) -> Int32? {
        let end = Date().addingTimeInterval(timeout)
        while exitStatus == nil && Date() < end { pump(until: min(end, Date().addingTimeInterval(0.2))) }
        pump(until: Date().addingTimeInterval(0.1))
        return exitStatus
    }

    /// The terminal's settings now (after exit: what swiftvisor left behind).
    var terminalSettings: termios {
        var t = termios()
        tcgetattr(slave, &t)
        return t
    }
}

/// QEMU processes started by the swiftvisor process `pid` (their command line names its run
/// folder, "...-PID-..."), alive now.
func qemuProcesses(startedBy pid: pid_t) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { p in
        guard let data = FileManager.default.contents(atPath: "/proc/\(p)/cmdline") else { return false }
        let cmdline = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        guard cmdline.contains("qemu-system-aarch64"), cmdline.contains("-\(pid)-") else { return false }
        // A zombie is already dead.
        let status = (try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8)) ?? ""
        return !status.contains(") Z ")
    }
}
