import CArch
import SwiftvisorCore

/// Self-hosted debug per vCPU (Arm ARM D2): each vCPU has its own breakpoints, watchpoints,
/// MDSCR_EL1 (in its EL1 context) and OS lock, and its debug exceptions go to its own EL1
/// (MDCR_EL2.TDE clear). Accesses trap (MDCR_EL2.TDA, TDOSA) and are emulated on a per-vCPU
/// copy that is written through to the hardware while the vCPU runs; a switch loads the
/// incoming vCPU's registers, or clears them when the outgoing one had set any, so a guest's
/// breakpoints never fire in another guest. EL2 takes no debug exceptions: with TDE clear the
/// debug target is EL1, below EL2 (D2.3.1), and HMC is never set (`DebugRegister.sanitize`).
enum SelfHostedDebug {
    /// Breakpoints and watchpoints implemented (ID_AA64DFR0_EL1), all switched, all the guest's:
    /// the guest reads the same numbers in its ID_AA64DFR0_EL1.
    nonisolated(unsafe) static var dfr0: UInt64 = 0
    static var breakpoints: UInt32 { UInt32(DebugRegister.breakpoints(dfr0: dfr0)) }
    static var watchpoints: UInt32 { UInt32(DebugRegister.watchpoints(dfr0: dfr0)) }

    /// Every core at boot, before any guest: OS double lock and OS lock off (OSDLR_EL1.DLK,
    /// OSLAR_EL1: D19.3.29, D19.3.31; the guests' OS locks are emulated), every breakpoint and
    /// watchpoint disabled.
    static func configureCore() {
        dfr0 = read_id_aa64dfr0_el1()
        write_osdlr_el1(0)
        write_oslar_el1(0)
        debug_registers_load(nil, breakpoints, watchpoints)
    }

    /// On a switch to `next`: its registers, or zeroes if the outgoing vCPU's are live.
    @inline(__always)
    static func switchTo(_ next: VirtualCPU, on core: PhysicalCPU) {
        if next.debugRegistersInUse || core.debugRegistersLive { loadRegisters(next, core) }
    }

    /// The registers the hardware holds for `vcpu`: its own, or none while its OS lock is set.
    /// The OS lock is emulated (the hardware's stays clear): while a guest holds it,
    /// breakpoint and watchpoint exceptions are not generated (Arm ARM D2.5), as on hardware.
    @inline(never)
    static func loadRegisters(_ vcpu: VirtualCPU, _ core: PhysicalCPU) {
        let live = vcpu.debugRegistersInUse && !vcpu.osLock
        // SAFETY: `debugRegisters` is the vCPU's own allocation; debug_registers.c reads its
        // first `breakpoints` and `watchpoints` (at most 16, ID_AA64DFR0_EL1's four-bit fields).
        debug_registers_load(live ? UnsafePointer(vcpu.debugRegisters) : nil, breakpoints, watchpoints)
        core.debugRegistersLive = live
    }

    /// A write to OSLAR_EL1 by the running `vcpu`. Locking also takes MDE, KDE and SS out of
    /// its live MDSCR_EL1 (kept aside, `MDSCR`), so that no software step, breakpoint or
    /// watchpoint exception is generated while it holds the lock (Arm ARM D2.5); unlocking
    /// puts them back.
    @inline(never)
    static func setOSLock(_ locked: Bool, _ vcpu: VirtualCPU, on core: PhysicalCPU) {
        if locked != vcpu.osLock {
            // The vCPU runs on this core: the live MDSCR_EL1 is its own.
            let live = read_mdscr_el1()
            if locked {
                vcpu.osLockedDebugEnables = live & MDSCR.exceptionEnables
                write_mdscr_el1(MDSCR.whileOSLocked(live))
            } else {
                write_mdscr_el1(MDSCR.guestView(hardware: live, kept: vcpu.osLockedDebugEnables))
            }
        }
        vcpu.osLock = locked
        if vcpu.debugRegistersInUse || core.debugRegistersLive { loadRegisters(vcpu, core) }
    }

    /// A trapped MRS/MSR of MDSCR_EL1 by the running `vcpu` (part of its EL1 context, so the
    /// live register is its own): while its OS lock is set, MDE, KDE and SS are the ones it
    /// wrote, kept aside, and the hardware's stay clear.
    @inline(never)
    static func debugControl(isRead: Bool, _ rt: Int, _ vcpu: VirtualCPU) {
        if isRead {
            let live = read_mdscr_el1()
            vcpu.setRegister(rt, vcpu.osLock ? MDSCR.guestView(hardware: live, kept: vcpu.osLockedDebugEnables) : live)
        } else if vcpu.osLock {
            let value = vcpu.register(rt)
            vcpu.osLockedDebugEnables = value & MDSCR.exceptionEnables
            write_mdscr_el1(MDSCR.whileOSLocked(value))
        } else {
            write_mdscr_el1(vcpu.register(rt))
        }
    }

    /// A trapped MRS/MSR of DBG{B,W}{V,C}R<n>_EL1. False when the register is not implemented
    /// (the guest then gets an Undefined Instruction exception, as on hardware).
    @inline(never)
    static func access(_ register: DebugRegister, isRead: Bool, _ rt: Int, _ vcpu: VirtualCPU, on core: PhysicalCPU) -> Bool {
        guard register.isImplemented(dfr0: dfr0) else { return false }
        let n = register.index
        // SAFETY: `debugRegisters` is this vCPU's own `struct debug_registers`: four arrays of
        // 16 UInt64 (bvr, bcr, wvr, wcr, in the order of `Kind`'s raw values 4...7); n < 16.
        let slot = UnsafeMutableRawPointer(vcpu.debugRegisters).assumingMemoryBound(to: UInt64.self)
            + (Int(register.kind.rawValue) - 4) * 16 + n
        if isRead {
            vcpu.setRegister(rt, slot.pointee)
            return true
        }
        let value = register.sanitize(vcpu.register(rt))
        slot.pointee = value
        if value != 0 { vcpu.debugRegistersInUse = true }
        if vcpu.debugRegistersInUse && !vcpu.osLock {
            // The vCPU runs on this core: its registers are the live ones.
            if core.debugRegistersLive {
                debug_register_write(UInt32(register.kind.rawValue), UInt32(n), value)
                isb()
            } else {
                loadRegisters(vcpu, core)
            }
        }
        return true
    }

    /// Architectural reset (Arm ARM D2: breakpoints and watchpoints disabled).
    static func reset(_ vcpu: VirtualCPU) {
        vcpu.debugRegisters.initialize(to: debug_registers())
        vcpu.debugRegistersInUse = false
        vcpu.osLock = true
        vcpu.osLockedDebugEnables = 0   // MDSCR_EL1 is 0 in the reset EL1 context
    }
}
