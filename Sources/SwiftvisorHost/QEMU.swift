import CHostSupport
import Foundation

/// Finds (or installs) qemu-system-aarch64 and runs a machine with the hypervisor.
public enum QEMU {
    public struct NotInstalled: Error, CustomStringConvertible {
        public var description: String
    }

    /// The QEMU binary; installs Debian's qemu-system-arm when running as root with apt.
    public static func locate(log: (String) -> Void) throws -> String {
        if let q = Shell.which("qemu-system-aarch64") { return q }
        let command = "apt-get update && apt-get install -y qemu-system-arm"
        guard getuid() == 0, let apt = Shell.which("apt-get") else {
            throw NotInstalled(description: "qemu-system-aarch64 is not installed; install it with: sudo \(command)")
        }
        log("qemu-system-aarch64 not found: installing Debian's qemu-system-arm")
        do {
            try Shell.run(apt, ["-qq", "update"])
            try Shell.run(apt, ["install", "-y", "-qq", "--no-install-recommends", "qemu-system-arm"])
        } catch {
            throw NotInstalled(description: "installing qemu-system-arm failed (\(error)); run: \(command)")
        }
        guard let q = Shell.which("qemu-system-aarch64") else {
            throw NotInstalled(description: "qemu-system-arm installed, but no qemu-system-aarch64 on PATH")
        }
        return q
    }

    public struct Machine {
        public var board = Board.virt
        /// `virt` only (the boards have their own cores).
        public var cpu = "cortex-a57"
        /// The `virt` board's GIC: 3 (GICv3) or 2 (GICv2, GIC-400-like with virtualization).
        public var gicVersion = 3
        public var cores = 2
        public var ramMiB = 1024
        /// The boards' device tree (`-dtb`); `virt` writes its own.
        public var deviceTree: URL?
        /// -icount shift=0: the guest counter follows executed instructions (benchmarks).
        public var countInstructions = false
        /// EL2 present; off only to test that the hypervisor refuses to start at EL1.
        public var virtualization = true
        public init() {}

        var arguments: [String] {
            var a = ["-M", board.machineArgument(gicVersion: gicVersion, virtualization: virtualization)]
            if board == .virt { a += ["-cpu", cpu] }
            a += ["-smp", "\(board.fixedCores ?? cores)", "-m", "\(board.fixedRAMMiB ?? ramMiB)M",
                  "-display", "none", "-monitor", "none"] + board.serialArguments + ["-no-reboot",
                  // No default NIC: `virt` would add a virtio-net whose option ROM
                  // (efi-virtio.rom) comes from ipxe-qemu, a package `locate` does not install.
                  "-nic", "none"] + board.extraArguments
            if let deviceTree { a += ["-dtb", deviceTree.path] }
            if countInstructions { a += ["-icount", "shift=0,sleep=off"] }  // idle time warps to the next deadline
            return a
        }
    }

    public struct Result {
        public var lines: [String]
        public var timedOut: Bool
        public var status: Int32
        /// The signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) that ended the run, if one did.
        public var signal: Int32?
        /// What the hypervisor said of each guest, read from every line as it came.
        public var report = ConsoleReport()
    }

    /// Where the machine's console input comes from.
    public enum Input {
        /// Nothing.
        case none
        /// This process's standard input: a terminal (swiftvisor puts it in raw mode; QEMU
        /// never sees it) or a pipe.
        case inherit
        /// Bytes typed in answer to console lines, for tests that type into a guest.
        case respond((String) -> String?)
    }

    /// Boots `image` and runs its consoles through `session` until QEMU exits, `timeout`
    /// seconds pass, or a signal (Ctrl-C at a cooked terminal, SIGTERM, SIGHUP) arrives; then
    /// QEMU is stopped. QEMU is our child in its own process group with pipes for its serial
    /// line, never the terminal, and dies with us whatever happens to us (PR_SET_PDEATHSIG;
    /// so this must run on a thread that lives until it returns, as the caller's does).
    public static func run(qemu: String, machine: Machine, image: URL, extraArguments: [String],
                           timeout: Double, input: Input = .none, session: ConsoleSession) throws -> Result {
        try run(qemu: QEMUInstallation(executable: qemu, version: ""), machine: machine, image: image,
                extraArguments: extraArguments, timeout: timeout, input: input, session: session)
    }

    public static func run(qemu: QEMUInstallation, machine: Machine, image: URL, extraArguments: [String],
                           timeout: Double, input: Input = .none, session: ConsoleSession) throws -> Result {
        let arguments = [qemu.executable] + qemu.dataArguments + machine.arguments + ["-kernel", image.path] + extraArguments
        var toQEMU: [Int32] = [0, 0], fromQEMU: [Int32] = [0, 0], signals: [Int32] = [0, 0]
        guard pipe(&toQEMU) == 0, pipe(&fromQEMU) == 0, pipe(&signals) == 0 else { throw POSIXFailure("pipe") }
        defer { for fd in toQEMU + fromQEMU + signals { close(fd) } }
        for fd in [toQEMU[1], fromQEMU[0], signals[0], signals[1]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(signals[1], F_SETFL, O_NONBLOCK)
        host_forward_signals(signals[1])
        defer { host_stop_forwarding_signals() }

        let pid = try spawn(arguments, environment: qemu.environment, stdin: toQEMU[0], stdout: fromQEMU[1])
        close(toQEMU[0]); toQEMU[0] = -1
        close(fromQEMU[1]); fromQEMU[1] = -1
        // QEMU may exit with input unread: a write to it must fail, not kill us.
        signal(SIGPIPE, SIG_IGN)
        let keyboard = toQEMU[1]
        session.send = { bytes in writeAll(keyboard, bytes) }
        if case .respond(let respond) = input {
            session.onLine = { line in if let text = respond(line) { session.typed(Array(text.utf8)) } }
        }
        session.start()

        var readsInput = false
        if case .inherit = input { readsInput = true }
        let deadline = Date().addingTimeInterval(timeout)
        var quitDeadline: Date?
        // At the timeout the guests are asked to shut down (xenstore's control/shutdown, as
        // `xl shutdown`), and those that heard get the hypervisor's grace period to end.
        var shutdownDeadline: Date?
        var timedOut = false, caught: Int32?
        var buffer = [UInt8](repeating: 0, count: 65536)
        var output = true
        while output {
            var fds = [pollfd(fd: fromQEMU[0], events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signals[0], events: Int16(POLLIN), revents: 0)]
            if readsInput { fds.append(pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)) }
            let limit = min(quitDeadline ?? deadline, shutdownDeadline ?? deadline, session.tickDeadline ?? deadline)
            let wait = Int32(max(0, min(limit.timeIntervalSinceNow, 1)) * 1000)
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 && errno != EINTR { break }
            if Date() >= deadline && shutdownDeadline == nil {
                timedOut = true
                session.askGuestsToShutDown()
                shutdownDeadline = Date().addingTimeInterval(Self.shutdownGraceSeconds)
            }
            if let s = shutdownDeadline, Date() >= s || session.askedGuestsHaveEnded { break }
            if let q = quitDeadline, Date() >= q { break }   // `quit` typed, the hypervisor did not end
            if fds[1].revents & Int16(POLLIN) != 0 {
                var signo: UInt8 = 0
                if read(signals[0], &signo, 1) == 1 { caught = Int32(signo); break }
            }
            if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let n = read(fromQEMU[0], &buffer, buffer.count)
                if n > 0 { session.received(Array(buffer[0..<n])) } else if n == 0 || errno != EINTR { output = false }
            }
            if readsInput, fds.count > 2, fds[2].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let n = read(STDIN_FILENO, &buffer, buffer.count)
                if n > 0 { session.typed(Array(buffer[0..<n])) } else if n == 0 { readsInput = false }
            }
            session.tick()
            if session.quitRequested && quitDeadline == nil { quitDeadline = Date().addingTimeInterval(10) }
        }
        let status = stop(pid, gently: output)
        // What QEMU printed on its way out.
        while true {
            let n = read(fromQEMU[0], &buffer, buffer.count)
            if n <= 0 { break }
            session.received(Array(buffer[0..<n]))
        }
        session.finish()
        return Result(lines: session.lines, timedOut: timedOut, status: status, signal: caught, report: session.report)
    }

    /// How long guests asked to shut down at the timeout may take: the hypervisor's grace
    /// period (Hypervisor.shutdownGraceSeconds, 10 s) and a little more.
    static let shutdownGraceSeconds: Double = 12

    /// Waits for QEMU; if it is still running (timeout, signal, quit), SIGTERM, then SIGKILL.
    static func stop(_ pid: pid_t, gently exited: Bool) -> Int32 {
        var status: Int32 = 0
        if !exited || waitpid(pid, &status, WNOHANG) == 0 {
            if exited, waitFor(pid, seconds: 2, &status) { return exitCode(status) }
            kill(pid, SIGTERM)
            if !waitFor(pid, seconds: 3, &status) { kill(pid, SIGKILL); waitpid(pid, &status, 0) }
        }
        return exitCode(status)
    }

    private static func waitFor(_ pid: pid_t, seconds: Double, _ status: inout Int32) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if waitpid(pid, &status, WNOHANG) == pid { return true }
            usleep(20_000)
        }
        return false
    }

    private static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// Starts `arguments` with our environment plus `environment`.
    static func spawn(_ arguments: [String], environment: [String: String] = [:], stdin: Int32, stdout: Int32) throws -> pid_t {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        var env: [UnsafeMutablePointer<CChar>?] = []
        if !environment.isEmpty {
            var all = ProcessInfo.processInfo.environment
            all.merge(environment) { $1 }
            env = all.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for a in argv + env { free(a) } }
        let pid = host_spawn(arguments[0], argv, env.isEmpty ? nil : env, stdin, stdout, stdout,
                             Int32(HOST_SPAWN_DIE_WITH_PARENT | HOST_SPAWN_OWN_PROCESS_GROUP))
        guard pid > 0 else { throw POSIXFailure("starting \(arguments[0])") }
        return pid
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }
}

/// A system call that failed, with errno in words.
public struct POSIXFailure: Error, CustomStringConvertible {
    public var description: String
    init(_ what: String) { description = "\(what) failed: \(String(cString: strerror(errno)))" }
}

/// Splits a byte stream into lines as it arrives.
final class LineCollector: @unchecked Sendable {
    private var pending = Data()
    private(set) var lines: [String] = []
    private let onLine: (String) -> Void
    private let lock = NSLock()

    init(onLine: @escaping (String) -> Void) { self.onLine = onLine }

    func append(_ data: Data) {
        lock.lock(); defer { lock.unlock() }
        pending.append(data)
        while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var lineData = pending[pending.startIndex..<nl]
            if lineData.last == UInt8(ascii: "\r") { lineData = lineData.dropLast() }
            emit(String(decoding: lineData, as: UTF8.self))
            pending.removeSubrange(pending.startIndex...nl)
        }
    }

    func flush() {
        lock.lock(); defer { lock.unlock() }
        if !pending.isEmpty { emit(String(decoding: pending, as: UTF8.self)); pending.removeAll() }
    }

    private func emit(_ line: String) { lines.append(line); onLine(line) }
}
