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
        public var cpu = "cortex-a57"
        public var cores = 2
        public var ramMiB = 1024
        /// -icount shift=0: the guest counter follows executed instructions (benchmarks).
        public var countInstructions = false
        /// EL2 present; off only to test that the hypervisor refuses to start at EL1.
        public var virtualization = true
        public init() {}

        var arguments: [String] {
            var a = ["-M", "virt,virtualization=\(virtualization ? "on" : "off"),gic-version=3", "-cpu", cpu, "-smp", "\(cores)", "-m", "\(ramMiB)M",
                     "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
                     // No default NIC: `virt` would add a virtio-net whose option ROM
                     // (efi-virtio.rom) comes from ipxe-qemu, a package `locate` does not install.
                     "-nic", "none"]
            if countInstructions { a += ["-icount", "shift=0,sleep=off"] }  // idle time warps to the next deadline
            return a
        }
    }

    public struct Result {
        public var lines: [String]
        public var timedOut: Bool
        public var status: Int32
    }

    /// Where the machine's console input comes from.
    public enum Input {
        /// Nothing (EOF).
        case none
        /// This process's standard input: a terminal (QEMU puts it in raw mode) or a pipe.
        case inherit
        /// Bytes written in answer to console lines, for tests that type into a guest.
        case respond((String) -> String?)
    }

    /// Boots `image` and streams each console line to `onLine` until QEMU exits or
    /// `timeout` seconds pass (then it is killed).
    public static func run(qemu: String, machine: Machine, image: URL, extraArguments: [String],
                           timeout: Double, input: Input = .none, onLine: @escaping (String) -> Void) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: qemu)
        p.arguments = machine.arguments + ["-kernel", image.path] + extraArguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        var keyboard: FileHandle?
        switch input {
        case .none: p.standardInput = FileHandle.nullDevice
        case .inherit: p.standardInput = FileHandle.standardInput
        case .respond:
            let pipe = Pipe()
            p.standardInput = pipe
            keyboard = pipe.fileHandleForWriting
        }
        let respond: ((String) -> String?)? = { if case .respond(let r) = input { return r } else { return nil } }()
        let collected = LineCollector { line in
            onLine(line)
            if let respond, let keyboard, let text = respond(line) { try? keyboard.write(contentsOf: Data(text.utf8)) }
        }
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            let handle = out.fileHandleForReading
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                collected.append(data)
            }
            collected.flush()
            done.signal()
        }
        try p.run()
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while p.isRunning {
            if Date() > deadline { timedOut = true; p.terminate(); break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.waitUntilExit()
        _ = done.wait(timeout: .now() + 5)
        return Result(lines: collected.lines, timedOut: timedOut, status: p.terminationStatus)
    }
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
