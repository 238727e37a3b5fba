import CArch
import SwiftvisorCore

/// One virtual CPU: its general registers (saved by the exception vectors into `frame`), its
/// EL1 system registers and FP/SIMD state (switched only when another vCPU takes the core).
final class VirtualCPU {
    /// Strong: VMs and their vCPUs live as long as the hypervisor (Embedded Swift has no `unowned`).
    let vm: VirtualMachine
    let id: VCPUID
    /// Slot in the scheduler.
    var slot = 0
    let frame: UnsafeMutablePointer<vcpu_frame>
    let el1: UnsafeMutablePointer<el1_context>
    let fp: UnsafeMutablePointer<fp_state>
    /// Address of the last exception vector an abort was injected at: a fault there again
    /// means the guest cannot handle its own exceptions, so it is stopped instead.
    var lastInjectedVector: UInt64 = 0
    /// Mirror of ICH_LR<n>_EL2 and what each holds.
    var listRegisters = TimerLines.listRegisterFile()
    /// The LRs need reconciling with the VM's virtual GIC before the next entry.
    var gicDirty = true
    var underflowWanted = false
    /// ICH_VMCR_EL2 (the guest's PMR, BPR and group enables) and active priorities.
    var vmcr: UInt64 = 0, ap0r0: UInt64 = 0, ap1r0: UInt64 = 0
    /// Core whose registers hold this vCPU's state, if any.
    var loadedOn: Int?
    /// Cores it has run on (bit n: core n), reported when its VM shuts down.
    var ranOnCores: UInt64 = 0
    /// OSLAR_EL1's last write (the OS lock is emulated, not the hardware's).
    var osLock = true
    /// While `osLock` is set: MDSCR_EL1's MDE, KDE and SS as the guest wrote them (the live
    /// register has them clear; SelfHostedDebug.debugControl).
    var osLockedDebugEnables: UInt64 = 0
    /// Its breakpoints and watchpoints (SelfHostedDebug), and whether any was ever set since reset.
    let debugRegisters: UnsafeMutablePointer<debug_registers>
    var debugRegistersInUse = false
    /// Its PMU (SelfHostedPMU): saved state, whether it has touched the PMU since reset, its
    /// PMINTENSET_EL1 as it wrote it, and the overflow interrupts held off until it clears them.
    let pmu: UnsafeMutablePointer<pmu_state>
    var pmuInUse = false
    var pmuInterruptEnables: UInt64 = 0
    var pmuInterruptsHeld: UInt64 = 0
    /// The guest's EL1 physical timer, emulated.
    var physicalTimer = EmulatedTimer()
    /// The virtual timer's interrupt line as last sampled (TimerLines).
    var virtualTimerLine = false
    /// Set/way maintenance: HCR_EL2.TVM and a clean in progress (SetWay.swift).
    var setWay = SetWayEmulation()
    /// A WFIT's timeout as a physical counter value, while the vCPU waits in it (nil otherwise).
    var waitDeadline: UInt64?

    init(vm: VirtualMachine, id: VCPUID) {
        self.vm = vm
        self.id = id
        frame = .allocate(capacity: 1)
        el1 = .allocate(capacity: 1)
        fp = .allocate(capacity: 1)
        debugRegisters = .allocate(capacity: 1)
        debugRegisters.initialize(to: debug_registers())
        pmu = .allocate(capacity: 1)
        pmu.initialize(to: pmu_state())
        frame.initialize(to: vcpu_frame())
        el1.initialize(to: el1_context())
        fp.initialize(to: fp_state())
    }

    var mpidr: UInt64 { GuestMachine.mpidr(vcpu: id.rawValue) }

    /// Architectural reset state for a kernel entry (arm64 booting.rst; Arm ARM D1.9):
    /// EL1h, DAIF masked, MMU and caches off.
    func reset(entry: UInt64, x0: UInt64) {
        frame.initialize(to: vcpu_frame())
        el1.initialize(to: el1_context())
        fp.initialize(to: fp_state())
        frame.pointee.x.0 = x0
        frame.pointee.elr_el2 = entry
        frame.pointee.spsr_el2 = SPSR.el1hMasked.rawValue
        // SCTLR_EL1 RES1 bits 11, 20, 22, 23, 28, 29; M, C, I clear (Arm ARM D19.2.118).
        el1.pointee.sctlr = 0x30D0_0800
        el1.pointee.vmpidr = mpidr
        el1.pointee.vpidr = read_midr_el1()
        lastInjectedVector = 0
        physicalTimer = EmulatedTimer()
        SelfHostedDebug.reset(self)
        SelfHostedPMU.reset(self)
        virtualTimerLine = false
        setWay.reset()
        gicDirty = true
    }

    /// General-purpose register n as an instruction sees it (31 is the zero register).
    @inline(__always) func register(_ n: Int) -> UInt64 {
        n == 31 ? 0 : withUnsafeBytes(of: &frame.pointee.x) { $0.load(fromByteOffset: n * 8, as: UInt64.self) }
    }

    @inline(__always) func setRegister(_ n: Int, _ value: UInt64) {
        guard n != 31 else { return }
        // One aligned store: `storeBytes` may not assume alignment, and under -mstrict-align
        // that becomes eight byte stores. x0-x30 are 8-byte aligned in the frame (arch.h).
        withUnsafeMutableBytes(of: &frame.pointee.x) { $0.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt64.self)[n] = value }
    }

    /// Counter value (physical) at which this vCPU's virtual timer fires, if it is armed.
    /// Valid while the vCPU is not loaded (its CNTV_* are then in `el1`).
    var virtualTimerDeadline: UInt64? {
        TimerDeadlines.virtualTimer(control: TimerControl(rawValue: el1.pointee.cntv_ctl),
                                    compareValue: el1.pointee.cntv_cval, offset: vm.cntvoff)
    }

    /// Steps over the trapped 32-bit instruction.
    /// Past an instruction the hypervisor emulated; it counts as stepped: a guest single-stepping
    /// over it takes its Software Step exception at the next one (SPSR.SS cleared, Arm ARM D2.10.4).
    @inline(__always) func skipInstruction() { frame.pointee.elr_el2 &+= 4; frame.pointee.spsr_el2 &= ~SPSR.softwareStep }
    /// Past the instruction `esr` reports: 2 bytes for a 16-bit T32 one (AArch32 EL0), else 4; stepped as above.
    @inline(__always) func skipInstruction(_ esr: ESR) {
        frame.pointee.elr_el2 &+= esr.instructionLength; frame.pointee.spsr_el2 &= ~SPSR.softwareStep
    }
}
