import CArch
import SwiftvisorCore

/// Each virt-layout guest's emulated PL031 (`PL031`, `GuestMachine.rtc`): it reads the host's
/// real time (the physical PL031 read once at boot, `XenGuest.bootSeconds`, plus the counter
/// since), each guest with its own offset; its alarm is a software timer
/// (`Hypervisor.runSoftwareTimers`), its interrupt SPI 2 (INTID 34), level-sensitive.
enum RealTimeClock {
    /// VMs with an alarm armed: the timer paths look at VMs only when there are any.
    nonisolated(unsafe) static var armedAlarms = 0

    /// The host's real time in seconds at physical counter value `counter`.
    static func hostSeconds(at counter: UInt64) -> UInt64 {
        XenGuest.bootSeconds &+ (counter &- XenGuest.bootCounter) / read_cntfrq_el0()
    }

    /// The physical counter value at which the host's time reaches `seconds`.
    static func counter(atHostSeconds seconds: UInt64) -> UInt64 {
        XenGuest.bootCounter &+ (seconds &- XenGuest.bootSeconds) &* read_cntfrq_el0()
    }

    /// One guest access; a write to RTCMR or RTCLR sets the alarm for when RTCDR reaches
    /// RTCMR (at once if it equals it now), as QEMU's PL031 does.
    static func access(_ a: MMIOAccess, _ vm: VirtualMachine, _ hv: Hypervisor) -> UInt64 {
        let seconds = hostSeconds(at: read_cntpct_el0())
        let now = UInt32(truncatingIfNeeded: seconds)
        let read = vm.rtc.access(a, hostSeconds: now)
        if a.isWrite && (a.offset == PL031.Register.match.rawValue || a.offset == PL031.Register.load.rawValue) {
            let wait = UInt64(vm.rtc.matchIn(hostSeconds: now))
            if wait == 0 {
                setAlarm(vm, nil)
                vm.rtc.matched()
            } else {
                setAlarm(vm, counter(atHostSeconds: seconds &+ wait))
            }
        }
        updateLine(vm, hv)
        return read
    }

    static func setAlarm(_ vm: VirtualMachine, _ deadline: UInt64?) {
        if (vm.rtcAlarm == nil) != (deadline == nil) { armedAlarms += deadline == nil ? -1 : 1 }
        vm.rtcAlarm = deadline
    }

    /// RTCINTR to the vGIC when it changed.
    static func updateLine(_ vm: VirtualMachine, _ hv: Hypervisor) {
        let high = vm.rtc.interruptLine
        guard high != vm.rtcLine else { return }
        vm.rtcLine = high
        if let target = vm.gic.setLine(32 + GuestMachine.rtcSPI, high: high) { VirtualInterrupts.kick(vm.vcpus[target], hv) }
    }

    static func fireAlarms(now: UInt64, _ hv: Hypervisor) {
        for vm in hv.vms where vm.state == .running {
            guard let d = vm.rtcAlarm, now >= d else { continue }
            setAlarm(vm, nil)
            vm.rtc.matched()
            updateLine(vm, hv)
        }
    }

    static func includeAlarms(_ deadlines: inout TimerDeadlines, _ hv: Hypervisor) {
        for vm in hv.vms where vm.state == .running { deadlines.include(vm.rtcAlarm) }
    }

    /// A guest (re)built: alarm and interrupt at their reset values, its clock kept.
    static func reset(_ vm: VirtualMachine) {
        setAlarm(vm, nil)
        vm.rtc = PL031(clockOf: vm.rtc)
        vm.rtcLine = false
    }
}
