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
                    cores[core].sendReschedule()
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

    /// Asks the guest to power off (or reboot), as `xl shutdown` (`xl reboot`) does: through
    /// xenstore's control/shutdown, which a guest that talks to the store watches. If it has not
    /// ended (or rebooted) after the grace period, it is destroyed (rebooted). A guest without
    /// xenstore, or that never used it, cannot hear the request: asked to shut down it is
    /// destroyed after the grace period unless it ends by itself; asked to reboot it restarts at once.
    func requestShutdown(_ vm: VirtualMachine, reboot rebooting: Bool = false) {
        guard vm.state == .running, vm.shutdownDeadline == nil else { return }
        let heard = XenstoreGlue.requestShutdown(vm, rebooting ? .reboot : .poweroff, self)
        if rebooting && !heard {
            reboot(vm)
            thisCore.wakeupPending = true
            return
        }
        vm.shutdownDeadline = read_cntpct_el0() &+ read_cntfrq_el0() * Self.shutdownGraceSeconds
        vm.xen.rebootWhenOverdue = rebooting
        shutdownsPending += 1
        if heard {
            Console.logGuest(vm.name, rebooting ? "' asked to reboot through xenstore (control/shutdown = reboot); it is rebooted in "
                                                : "' asked to power off through xenstore (control/shutdown = poweroff); it is destroyed in ")
            Console.decimal(Self.shutdownGraceSeconds); Console.write(rebooting ? " s unless it reboots first\n" : " s unless it powers off first\n")
        } else {
            Console.logGuest(vm.name, "' asked to shut down; it has no power button and does not talk to xenstore, so it is destroyed in ")
            Console.decimal(Self.shutdownGraceSeconds); Console.write(" s unless it powers off first\n")
        }
        for core in cores where core.index != thisCore.index && core.idle {
            core.sendReschedule()   // re-arm for the deadline
        }
    }

    func destroyOverdueShutdowns(now: UInt64) {
        for vm in vms {
            guard let d = vm.shutdownDeadline, now >= d else { continue }
            if vm.xen.rebootWhenOverdue {
                Console.logGuest(vm.name, "' did not reboot within the grace period: rebooting it\n")
                reboot(vm)
                thisCore.wakeupPending = true
            } else {
                destroy(vm, because: "it did not shut down within the grace period")
            }
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
