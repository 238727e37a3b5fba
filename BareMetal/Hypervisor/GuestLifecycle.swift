import CArch
import SwiftvisorCore

/// What the hypervisor console does to a guest, as `xl` does to a domain: destroy, pause,
/// unpause, create, shutdown (ask, then destroy after a grace period), and the `list` table.
extension Hypervisor {
    /// How long a guest asked to shut down has before it is destroyed.
    static let shutdownGraceSeconds: UInt64 = 10

    func vm(named name: [UInt8]) -> VirtualMachine? {
        for vm in vms where vm.name.utf8.elementsEqual(name) { return vm }
        return nil
    }

    /// Ends a guest at once (xl destroy); its memory is kept for a later `create`.
    func destroy(_ vm: VirtualMachine, because why: StaticString) {
        guard finish(vm, .destroyed) else { return }
        Console.log(.destroyed(guest: MessageText(vm.name), why: MessageText(why)))
        thisCore.wakeupPending = true   // this core may be running one of its vCPUs
    }

    func pause(_ vm: VirtualMachine) {
        guard vm.lifecycle.setPaused(true) else { return }
        let me = thisCore
        for v in vm.vcpus {
            scheduler.setPaused(v.slot, true)
            if let core = scheduler.runningOn[v.slot] {
                if core == me.index { me.wakeupPending = true } else {
                    send_physical_sgi(UInt64(PhysicalCPU.rescheduleSGI), cores[core].mpidr)
                }
            }
        }
        Console.log(.paused(guest: MessageText(vm.name)))
    }

    func unpause(_ vm: VirtualMachine) {
        guard vm.lifecycle.setPaused(false) else { return }
        for v in vm.vcpus {
            scheduler.setPaused(v.slot, false)
            if scheduler.states[v.slot] == .runnable { kick(for: v, woken: true) }
        }
        Console.log(.unpaused(guest: MessageText(vm.name)))
    }

    /// Starts a finished (or never started) guest again with fresh memory, once no core runs
    /// any of its vCPUs: the reboot path, from boot 1. Its VMID is its own again; the load
    /// invalidates what the TLBs hold for it.
    func create(_ vm: VirtualMachine) {
        guard vm.lifecycle.create() else { return }
        rebootsPending += 1
        thisCore.wakeupPending = true
    }

    /// Asks the guest to shut down. No guest can hear it yet (there is no virtual power button,
    /// and xenstore's control/shutdown comes with Xen's guest interface), so after the grace
    /// period it is destroyed, unless it has ended by itself.
    func requestShutdown(_ vm: VirtualMachine) {
        guard vm.state == .running, vm.shutdownDeadline == nil else { return }
        vm.shutdownDeadline = read_cntpct_el0() &+ read_cntfrq_el0() * Self.shutdownGraceSeconds
        shutdownsPending += 1
        Console.logGuest(vm.name, "' asked to shut down; it has no power button or xenstore to hear it yet, so it is destroyed in ")
        Console.decimal(Self.shutdownGraceSeconds); Console.write(" s unless it powers off first\n")
        for core in cores where core.index != thisCore.index && core.idle {
            send_physical_sgi(UInt64(PhysicalCPU.rescheduleSGI), core.mpidr)   // re-arm for the deadline
        }
    }

    func destroyOverdueShutdowns(now: UInt64) {
        for vm in vms {
            if let d = vm.shutdownDeadline, now >= d { destroy(vm, because: "it did not shut down within the grace period") }
        }
    }

    /// Every guest ends; the machine powers off once no vCPU is left (scheduleNext).
    func quit() {
        Console.log("quit: ending every guest\n")
        for vm in vms where vm.state != .finished { destroy(vm, because: "quit") }
    }

    /// `list`, as `xl list`: one line per guest (the state last: it may carry a reason).
    func printGuestList() {
        let now = read_cntpct_el0(), frequency = read_cntfrq_el0()
        Console.log("Name              ID  vCPUs  Mem(MiB)  Uptime(s)   CPU(s)  State\n")
        for vm in vms {
            Console.log("")
            pad(vm.name.utf8.count, to: 16) { Console.write(vm.name) }
            padLeft(digits(UInt64(vm.vmid.rawValue)), to: 4) { Console.decimal(UInt64(vm.vmid.rawValue)) }
            padLeft(digits(UInt64(vm.vcpus.count)), to: 7) { Console.decimal(UInt64(vm.vcpus.count)) }
            let mib = vm.hostRAM.size >> 20
            padLeft(digits(mib), to: 10) { Console.decimal(mib) }
            let up = vm.startedAt == 0 ? 0 : (vm.state == .finished ? vm.endedAt : now) &- vm.startedAt
            padLeft(digits(up / frequency) + 2, to: 11) { tenths(up, frequency) }
            padLeft(digits(vm.cpuTicks / frequency) + 2, to: 9) { tenths(vm.cpuTicks, frequency) }
            Console.write("  ")
            writeState(vm)
            Console.write("\n")
        }
    }

    private func writeState(_ vm: VirtualMachine) {
        let active = vm.vcpus.contains { scheduler.runningOn[$0.slot] != nil || scheduler.states[$0.slot] == .runnable }
        let status = vm.lifecycle.status(anyVCPUActive: active)
        Console.write(status.name)
        if case .stopped(let why) = status { Console.write(why) }
        if case .shutDown(let reason, let code) = status {
            Console.write(" ("); Console.write(reason.name); Console.write(", exit code "); Console.decimal(UInt64(code)); Console.write(")")
        }
    }

    private func digits(_ v: UInt64) -> Int {
        var n = 1, x = v
        while x >= 10 { x /= 10; n += 1 }
        return n
    }

    /// Seconds with one decimal: "12.3".
    private func tenths(_ ticks: UInt64, _ frequency: UInt64) {
        let t = ticks / (frequency / 10)
        Console.decimal(t / 10); Console.write("."); Console.decimal(t % 10)
    }

    private func pad(_ length: Int, to width: Int, _ body: () -> Void) {
        body()
        var n = length
        while n < width { Console.write(" "); n += 1 }
    }

    private func padLeft(_ length: Int, to width: Int, _ body: () -> Void) {
        var n = length
        while n < width { Console.write(" "); n += 1 }
        body()
    }
}
