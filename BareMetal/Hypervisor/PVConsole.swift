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
/// Output is hidden (drained and dropped) when the guest's command line names consoles and
/// hvc0 is not one of them (PVConsoleVisibility: Linux makes hvc0 a console anyway).
///
/// Input, for a guest using both consoles: the keyboard goes to hvc0 once the guest has
/// written to it in this boot, shown (so a `console=hvc0` kernel's shell gets it), and to the PL011
/// before that (a `console=ttyAMA0` kernel writes nothing to hvc0; it does notify the console
/// port without writing, when hvc_xen polls `in`, so a notification alone does not count).
/// One console gets each byte, never both:
/// a guest with a shell on each would otherwise run every command twice. Xen gives input to
/// the vpl011 when a domU has one; swiftvisor's guests always have a PL011, so following the
/// console the guest actually uses is what a user typing at it expects.
enum PVConsole {
    /// Guests (by index) that wrote to their hvc0 in this boot.
    nonisolated(unsafe) static var connected = [Bool](repeating: false, count: Limits.guests)

    /// Guests whose hvc0 output is shown (PVConsoleVisibility: the command line's `console=`).
    nonisolated(unsafe) static var shown = [Bool](repeating: true, count: Limits.guests)

    /// A (re)boot: the guest has not written to its fresh console page yet.
    static func reset(_ vm: VirtualMachine) {
        connected[vm.index] = false
        shown[vm.index] = PVConsoleVisibility.shown(commandLine: vm.manifest.commandLine)
    }

    /// The guest notified its console port: print what it wrote.
    @inline(never)
    static func notified(_ vm: VirtualMachine) {
        guard let page = page(vm) else { return }
        // A hidden hvc0 is drained all the same: Linux's console write waits for room.
        let show = shown[vm.index]
        if XenConsoleRing.drainOutput(page, limit: XenConsoleRing.outputSize, { if show { vm.consoleOutput($0) } }) > 0 && show {
            connected[vm.index] = true
        }
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
