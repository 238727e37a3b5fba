import _Volatile
import CGuest
import SwiftvisorCore

/// What every test guest uses: its console (the emulated PL011, or Xen's console_io),
/// hypercalls, the device tree it was given, and shutting down with an exit code.
public enum Guest {
    nonisolated(unsafe) public static var uartBase: UInt64 = GuestMachine.uart.base.rawValue
    nonisolated(unsafe) public static var bootArguments = ""
    nonisolated(unsafe) public static var memoryBytes: UInt64 = 0
    nonisolated(unsafe) public static var cpuCount = 0

    /// Reads the guest's device tree: console, memory, CPUs, bootargs.
    public static func start(deviceTree address: UInt64) {
        guard let header = UnsafeRawPointer(bitPattern: UInt(address)),
              let size = DeviceTree.totalSize(header: UnsafeRawBufferPointer(start: header, count: 8)),
              let tree = try? DeviceTree(bytes: UnsafeRawBufferPointer(start: header, count: size)) else {
            print("no device tree in x0")
            shutdown(.crash, exitCode: 1)
        }
        let platform = HostPlatform(deviceTree: tree)
        if let uart = platform.uart { uartBase = uart.base.rawValue }
        memoryBytes = platform.ram.reduce(0) { $0 + $1.size }
        cpuCount = platform.cpuMPIDRs.count
        bootArguments = platform.bootArguments
    }

    /// True when the boot arguments contain `word` (compared as bytes).
    public static func hasBootArgument(_ word: StaticString) -> Bool {
        word.withUTF8Buffer { w in bootArguments.utf8.split(separator: UInt8(ascii: " ")).contains { $0.elementsEqual(w) } }
    }

    /// The decimal number after `prefix` in a boot argument ("victim-seconds=10" with prefix
    /// "victim-seconds="), compared as bytes; nil when absent or not a number.
    public static func bootArgumentNumber(_ prefix: StaticString) -> UInt64? {
        prefix.withUTF8Buffer { p in
            for word in bootArguments.utf8.split(separator: UInt8(ascii: " ")) where word.starts(with: p) {
                let digits = word.dropFirst(p.count)
                guard !digits.isEmpty, digits.count < 19, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
                return digits.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
            }
            return nil
        }
    }

    /// Writes a line on the emulated PL011 (one trapped store per byte), ended by CR LF as
    /// a serial console expects.
    public static func print(_ s: StaticString) {
        s.withUTF8Buffer { for b in $0 { putByte(b) } }
        putByte(UInt8(ascii: "\r")); putByte(UInt8(ascii: "\n"))
    }

    public static func print(_ s: String) {
        for b in s.utf8 { putByte(b) }
        putByte(UInt8(ascii: "\r")); putByte(UInt8(ascii: "\n"))
    }

    static func putByte(_ b: UInt8) {
        let fr = VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(uartBase + 0x18))
        while fr.load() & (1 << 5) != 0 {}
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(uartBase)).store(UInt32(b))
    }

    /// Writes a line with Xen's console_io(CONSOLEIO_write); returns the hypercall's result.
    @discardableResult
    public static func consoleWrite(_ s: String) -> Int64 {
        var bytes = Array(s.utf8)
        bytes.append(UInt8(ascii: "\n"))
        return bytes.withUnsafeBufferPointer {
            xen_hypercall(XenABI.Number.consoleIO.rawValue, XenABI.ConsoleCommand.write.rawValue,
                          UInt64($0.count), UInt64(UInt(bitPattern: $0.baseAddress)))
        }
    }

    /// sched_op(SCHEDOP_shutdown_with_exit_code): the reason and exit code reach the host tool.
    public static func shutdown(_ reason: XenABI.ShutdownReason, exitCode: UInt32) -> Never {
        var arguments: (UInt32, UInt32) = (reason.rawValue, exitCode)
        _ = withUnsafeMutablePointer(to: &arguments) {
            xen_hypercall(XenABI.Number.schedOp.rawValue, XenABI.SchedCommand.shutdownWithExitCode.rawValue,
                          UInt64(UInt(bitPattern: $0)), 0)
        }
        print("shutdown hypercall returned")
        spin_forever_masked()
    }

    public static func yield() {
        _ = xen_hypercall(XenABI.Number.schedOp.rawValue, XenABI.SchedCommand.yield.rawValue, 0, 0)
    }

    /// Runs `body` with faults caught: returns ESR_EL1 of the exception it took, or nil.
    public static func probe(_ body: () -> Void) -> UInt64? {
        probe_begin()
        body()
        let esr = probe_end()
        return esr == 0 ? nil : esr
    }
}

/// Formats numbers without Foundation.
public func hex(_ v: UInt64) -> String {
    let digits: StaticString = "0123456789abcdef"
    var out: [UInt8] = []
    var n = v
    repeat { out.append(digits.utf8Start[Int(n & 0xF)]); n >>= 4 } while n > 0
    return "0x" + String(decoding: out.reversed(), as: UTF8.self)
}

@_cdecl("guest_unexpected_exception")
func guestUnexpectedException(_ esr: UInt64, _ elr: UInt64, _ far: UInt64) {
    Guest.print("unexpected exception: ESR \(hex(esr)) ELR \(hex(elr)) FAR \(hex(far))")
    Guest.shutdown(.crash, exitCode: 1)
}
