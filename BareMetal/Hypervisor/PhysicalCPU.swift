import CArch
import SwiftvisorCore

/// One physical core: its GIC redistributor and CPU interface, the vCPU it runs, its slice.
final class PhysicalCPU {
    let index: Int
    let mpidr: UInt64
    /// Set up on the core itself (`initialize`), used from any core to signal it.
    var interrupts: InterruptController
    /// TPIDR_EL2 points here; vectors.S saves the running vCPU's registers into `frame`.
    let context: UnsafeMutablePointer<core_context>
    /// The vCPU whose EL1, FP, vGIC and stage-2 state is in this core's registers.
    var loaded: VirtualCPU? {
        get { loadedRef?.takeUnretainedValue() }
        set { loadedRef = newValue.map { Unmanaged.passUnretained($0) } }
    }
    /// `loaded` without reference counting, for the exit path. Unretained: every vCPU is
    /// owned by `Hypervisor.vcpus` for the hypervisor's lifetime.
    private(set) var loadedRef: Unmanaged<VirtualCPU>?
    /// Counter value at which the running vCPU's time slice ends.
    var sliceEnd: UInt64 = 0
    /// A vCPU this core may run was woken: reschedule at the next opportunity.
    var wakeupPending = false
    var idle = false
    /// VMID of the VM whose vCPU ran here last (0: none yet), for `BranchPredictorHardening`.
    var lastVMID: UInt16 = 0
    /// The vCPU whose CPU time this core is counting, and since when (physical counter).
    var accounting: VirtualCPU? {
        get { accountingRef?.takeUnretainedValue() }
        set { accountingRef = newValue.map { Unmanaged.passUnretained($0) } }
    }
    /// `accounting` without reference counting (every switch sets it), as `loadedRef`.
    private(set) var accountingRef: Unmanaged<VirtualCPU>?
    var accountingSince: UInt64 = 0
    /// A vCPU's breakpoints/watchpoints are in the hardware registers (SelfHostedDebug): cleared
    /// before a vCPU without any runs. True at boot until the first switch clears them.
    var debugRegistersLive = true
    /// The loaded vCPU's PMU state is in the hardware PMU (SelfHostedPMU).
    var pmuLive = false
    /// The active state this core last gave its physical virtual-timer PPI (`TimerLines`); the
    /// guest's deactivation through a linked list register may have cleared it since.
    var virtualTimerActive = false

    init(index: Int, mpidr: UInt64, interrupts: InterruptController) {
        self.index = index
        self.mpidr = mpidr
        self.interrupts = interrupts
        context = .allocate(capacity: 1)
        context.initialize(to: core_context(frame: nil, core: UInt64(index), console_mark: 0, console_waiting: 0))
    }

    /// `v`'s state is now in this core's registers (`loaded`, set without reference counting).
    @inline(__always) func markLoaded(_ v: VirtualCPU) { loadedRef = Unmanaged.passUnretained(v) }

    /// Starts counting `v`'s CPU time from `now`.
    @inline(__always) func startAccounting(_ v: VirtualCPU, since now: UInt64) {
        accountingRef = Unmanaged.passUnretained(v)
        accountingSince = now
    }

    /// `v` is the loaded vCPU (compared without reference counting).
    @inline(__always) func hasLoaded(_ v: VirtualCPU) -> Bool {
        loadedRef?.toOpaque() == Unmanaged.passUnretained(v).toOpaque()
    }

    /// Makes this the core's context for the exception vectors (run on the core itself).
    func install() { write_tpidr_el2(UInt64(UInt(bitPattern: context))) }

    /// SGI 1 from one core to another: "look at the run queue" (and refill list registers).
    static let rescheduleSGI: UInt32 = 1

    /// Sends this core the reschedule SGI (from any core).
    func sendReschedule() { interrupts.sendSGI(Self.rescheduleSGI) }
}
