import _Volatile
import CArch
import SwiftvisorCore

/// A guest's PV console page (`struct xencons_interface`) through its host address, for the
/// core's ring protocol (XenConsoleRing). The guest writes it concurrently: volatile accesses,
/// each read once by the core into a local.
struct ConsoleRingPage: SharedRingPage {
    let base: UInt64
    // SAFETY (all four): `base` is the host address of the guest's console page, a page of the
    // hypervisor's heap that lives as long as the VM; offsets come from XenConsoleRing, all
    // below 4096 and aligned to their size.
    func load8(_ offset: Int) -> UInt8 { VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(base) + UInt(offset)).load() }
    func store8(_ offset: Int, _ value: UInt8) { VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(base) + UInt(offset)).store(value) }
    func load32(_ offset: Int) -> UInt32 { VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base) + UInt(offset)).load() }
    func store32(_ offset: Int, _ value: UInt32) { VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base) + UInt(offset)).store(value) }
    func readBarrier() { dsb_ish() }
    func fullBarrier() { dsb_ish() }
}

/// Each guest's hvc0, served as xenconsoled serves a Xen domU's: what the guest writes to the
/// ring's `out` goes to the guest's console (the same line buffer, name and multiplexed stream
/// as its PL011); typed input goes to `in`, and the guest is notified on its console port.
///
/// Output is drained when the guest notifies (EVTCHNOP_send on its console port), at most one
/// ring's worth (2048 bytes) per notification: the producer index is read once, so a guest
/// writing while we drain cannot keep the hypervisor in the loop; what it adds meanwhile waits
/// for its next notification (hvc_xen notifies after every write).
///
/// Input, for a guest using both consoles: the keyboard goes to hvc0 once the guest has
/// connected it in this boot (notified its console port at least once: Linux does when it
/// writes to hvc0, so `console=hvc0` gets the shell's input), and to the PL011 before that
/// (a `console=ttyAMA0` guest never touches hvc0). One console gets each byte, never both:
/// a guest with a shell on each would otherwise run every command twice. Xen gives input to
/// the vpl011 when a domU has one; swiftvisor's guests always have a PL011, so following the
/// console the guest actually uses is what a user typing at it expects.
enum PVConsole {
    /// Guests (by index) that connected their hvc0 in this boot.
    nonisolated(unsafe) static var connected = [Bool](repeating: false, count: Limits.guests)

    /// A (re)boot: the guest's console page is fresh and not connected yet.
    static func reset(_ vm: VirtualMachine) {
        connected[vm.index] = false
    }

    /// The guest notified its console port: print what it wrote.
    @inline(never)
    static func notified(_ vm: VirtualMachine) {
        guard let page = page(vm) else { return }
        connected[vm.index] = true
        XenConsoleRing.drainOutput(page, limit: XenConsoleRing.outputSize) { vm.consoleOutput($0) }
    }

    /// Whether typed input for `vm` goes to hvc0 rather than its PL011.
    static func takesInput(_ vm: VirtualMachine) -> Bool { connected[vm.index] }

    /// A byte typed while `vm` has the focus: into `in`, then the guest is notified. A full
    /// ring (or garbage indexes) drops the byte, as a full PL011 FIFO does.
    @inline(never)
    static func receive(_ byte: UInt8, _ vm: VirtualMachine, _ hv: Hypervisor) {
        guard let page = page(vm), XenConsoleRing.pushInput(page, [byte]) == 1 else { return }
        notifyGuest(vm, hv)
    }
}

extension PVConsole {
    /// The guest's console page (the first magic page), if it has one (not for `enhanced = "disabled"`).
    static func page(_ vm: VirtualMachine) -> ConsoleRingPage? {
        XenGuest.magicPage(vm, offset: XenGuestLayout.consolePageOffset).map { ConsoleRingPage(base: $0.rawValue) }
    }

    /// Sets the guest's console port pending (nothing while the guest has closed it).
    static func notifyGuest(_ vm: VirtualMachine, _ hv: Hypervisor) {
        HypervisorServices.notify(vm, .console, hv)
    }
}
