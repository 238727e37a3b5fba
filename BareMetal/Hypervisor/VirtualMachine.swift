import CArch
import SwiftvisorCore

/// A guest: its stage-2 tables and VMID, its RAM, its emulated devices and its vCPUs.
final class VirtualMachine {
    typealias State = VMLifecycle.Phase
    typealias Ending = VMLifecycle.Ending

    let name: String
    /// Its place in the boot manifest: its console stream's number for the host tool.
    let index: Int
    /// Its Xen domain ID (index + 1: there is no dom0).
    var domid: XenDomainID { XenDomainID(guestIndex: index) }
    let vmid: VMID
    /// Its machine (QEMU virt's or a Xen domU's): where its emulated devices are. Fixed for
    /// its lifetime (a `let`: read without exclusivity checks on every device access).
    let layout: GuestLayout
    /// Guest RAM: IPA `layout.ramBase` upwards, backed by `hostRAM`.
    let ram: AddressRange<GuestPhysicalAddress>
    let hostRAM: AddressRange<HostPhysicalAddress>
    /// Changed at run time by memory_op and grant mappings (GrantGlue.swift).
    var stage2: TranslationTable<IdentityMappedTables>
    /// Its grant table (v1), and the pages of its RAM it has ballooned out.
    let grants = GrantTable(mayAllocate: { Heap.hasRoom(for: $0) })
    /// The page its grant mappings show once their granter has ended (GrantGlue's
    /// `orphanScratch`): its own, allocated at the first orphaning, never another VM's.
    var grantScratch: HostPhysicalAddress?
    var reservation: RAMReservation
    var vcpus: [VirtualCPU] = []
    var uart = PL011()
    /// The level last given to the vGIC for the UART's interrupt line (a cheap check per access).
    var uartLine = false
    /// The emulated PL031 RTC (virt layout), its interrupt line's level as last given to the
    /// vGIC, and the counter value of its pending alarm (`RealTimeClock`).
    var rtc = PL031()
    var rtcLine = false
    var rtcAlarm: UInt64?
    var gic: VirtualGIC
    /// CNTVOFF_EL2: the guest's virtual counter starts near zero when the VM is built.
    let cntvoff: UInt64
    var consoleLine = ConsoleLine()
    /// Running, rebooting or finished (and how), paused, crashed, boots: changed only by the
    /// transitions `VMLifecycle` allows.
    var lifecycle: VMLifecycle
    var state: State { lifecycle.phase }
    var ending: Ending { lifecycle.ending }
    var paused: Bool { lifecycle.paused }
    var crashed: Bool { lifecycle.crashed }
    var panicWatch = KernelPanicWatch()
    /// What of its console output reaches the physical console (a flood is dropped, not waited for).
    var consoleRate = ConsoleRateLimit()
    /// Physical counter when this boot started and when it ended; counter ticks its vCPUs ran.
    var startedAt: UInt64 = 0
    var endedAt: UInt64 = 0
    var cpuTicks: UInt64 = 0
    /// The console's `shutdown`: destroyed at this counter value unless it ends before.
    var shutdownDeadline: UInt64?
    /// Per physical core, the vCPU of this VM that ran there last (for TLB maintenance).
    var lastVCPUOnCore: [Int?] = Array(repeating: nil, count: Limits.cores)
    /// Exceptions injected so far; only the first `loggedInjections` are reported, so a
    /// guest that faults in a loop cannot flood the console.
    var injections = 0
    static let loggedInjections = 32

    /// VTTBR_EL2: VMID in bits 55:48, stage-2 root in BADDR (Arm ARM D19.2.173). Stored: the
    /// root never moves, and reading it through the mutable `stage2` costs the world switch an
    /// exclusivity check.
    let vttbr: UInt64

    /// What it was built from, reused at each reboot.
    let manifest: BootManifest.Guest
    /// Its shared_info, vcpu_infos, runstate areas and polls (Xen's guest interface).
    let xen: XenGuestState
    /// Boots so far (1 on first start).
    var boots: Int { lifecycle.boots }
    /// Its RAM zeroed and its images copied in for the next boot while it is `.rebooting`
    /// (GuestRAMPreparation.swift), and where those images go (planned at the first boot).
    var ramPreparation: RAMPreparation
    var bootImages: GuestBuilder.BootImages?

    init(name: String, index: Int, vmid: VMID, vcpuCount: Int, hostRAM: AddressRange<HostPhysicalAddress>,
         stage2: TranslationTable<IdentityMappedTables>, manifest: BootManifest.Guest) {
        self.name = name
        self.index = index
        self.manifest = manifest
        self.lifecycle = VMLifecycle(autostart: manifest.autostart)
        self.gic = VirtualGIC(vcpuCount: vcpuCount, version: VirtualCPUInterface.version)
        self.xen = XenGuestState(vcpus: vcpuCount)
        self.cntvoff = read_cntpct_el0()
        self.vmid = vmid
        self.hostRAM = hostRAM
        self.layout = GuestLayout(manifest.layout, gic: VirtualCPUInterface.version)
        self.ram = .init(base: layout.ramBase, size: hostRAM.size)
        self.reservation = RAMReservation(ram: .init(base: layout.ramBase, size: hostRAM.size))
        self.stage2 = stage2
        self.ramPreparation = RAMPreparation(size: hostRAM.size, pieceSize: Hypervisor.ramPreparationPiece)
        self.vttbr = UInt64(vmid.rawValue) << 48 | stage2.root.rawValue
    }

    /// Host address backing a guest IPA inside its RAM.
    @inline(__always) func hostAddress(_ ipa: GuestPhysicalAddress) -> HostPhysicalAddress? {
        ram.contains(ipa) ? hostRAM.base + ipa.offset(from: ram.base) : nil
    }

    /// Has the keyboard: its unfinished line is shown when it goes idle (a shell's prompt).
    var hasInputFocus = false

    /// Adds a byte written to the guest's console: lines are printed whole, prefixed with the
    /// name, except that a line already shown unfinished (`showUnfinishedLine`) goes on as is.
    func consoleOutput(_ byte: UInt8) {
        watchForPanic(byte)
        guard withinConsoleRate() else { return }
        // (a stream switch: 3 bytes; ESC doubled)
        if Console.multiplexed { if consoleFits(1, framing: 4) { Console.guestByte(index, byte) }; return }
        if Console.partialLineOwner == vmid.rawValue {
            guard consoleFits(1, framing: 1) else { return }
            if byte == UInt8(ascii: "\n") { Console.put(byte); Console.partialLineOwner = nil }
            else if let b = ConsoleLine.printable(byte) { Console.put(b) }
            return
        }
        if consoleLine.append(byte) { flushConsole() }
    }

    /// A byte of its console output, shown or not: a kernel panic's text marks it crashed.
    func watchForPanic(_ byte: UInt8) {
        if panicWatch.accept(byte) {
            lifecycle.noteCrash()
            Console.log(.crashed(guest: MessageText(name)))
        }
    }

    /// Bytes of its output that are dropped whole (a flood): only a byte that can start or
    /// continue the panic phrase is looked at closely.
    func watchForPanic(in bytes: UnsafeRawBufferPointer) {
        var i = 0
        if !panicWatch.isMatching {
            guard let first = bytes.firstIndex(of: KernelPanicWatch.firstByte) else { return }
            i = first
        }
        while i < bytes.count { watchForPanic(bytes[i]); i += 1 }
    }

    /// Whether this byte goes out (ConsoleRateLimit); says when a flood starts being dropped
    /// and, once the guest is under its rate again, how much was lost.
    @inline(__always)
    private func withinConsoleRate() -> Bool {
        switch consoleRate.admit(now: read_cntpct_el0(), frequency: read_cntfrq_el0()) {
        case .print:
            return true
        case .printAfterDropping(let lost):
            flushConsole()
            Console.logGuest(name, "' console output resumes: ")
            Console.decimal(lost); Console.write(" bytes were dropped\n")
            return true
        case .drop(let first):
            if first {
                flushConsole()
                Console.logGuest(name, "' writes to its console faster than 32 KiB/s: its output is dropped until it slows down\n")
            }
            return false
        }
    }

    /// The focused guest waits (in WFI) with an unfinished line, such as a prompt: show it.
    func showUnfinishedLine() {
        guard !Console.multiplexed, hasInputFocus, !consoleLine.isEmpty, Console.partialLineOwner != vmid.rawValue else { return }
        // (a console too busy to take it: shown with the rest of its line)
        guard !Console.buffered || ConsoleOutputBudget.admitsGuest(consoleLine.bytes.count + name.utf8.count + 5,
                                                                  room: ConsoleOutput.ring.room) else { return }
        Console.endPartialLine()
        Console.write(name); Console.write(" | "); Console.write(bytes: consoleLine.take())
        Console.partialLineOwner = vmid.rawValue
    }

    func flushConsole() {
        if Console.multiplexed { return }
        if Console.partialLineOwner == vmid.rawValue { Console.endPartialLine() }
        guard !consoleLine.isEmpty else { return }
        // The whole line or none of it (its name, " | ", CR LF).
        guard consoleFits(consoleLine.bytes.count + 1, framing: name.utf8.count + 4) else { _ = consoleLine.take(); return }
        Console.endPartialLine()
        Console.write(name)
        Console.write(" | ")
        Console.write(bytes: consoleLine.take())
        Console.put(UInt8(ascii: "\n"))
    }
}
