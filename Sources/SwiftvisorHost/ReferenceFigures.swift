/// Other hypervisors' counts for figures `swiftvisor bench` measures, taken by the same method
/// (guest instructions per round trip from an EL1 guest, QEMU 7.2 `-icount shift=0`, `-smp 1`) on
/// the same kind of machine. Source: the reference columns of docs/performance.md (from
/// shared/PLATFORM.md); ReferenceFiguresTests checks that the doc and this table agree.
public enum ReferenceFigures {
    /// A hypervisor the figures are compared with.
    public struct System: Equatable {
        /// Key in `bench --json` ("xen_4_17").
        public var id: String
        /// Column title in `bench` ("Xen 4.17").
        public var title: String
    }

    public static let xen = System(id: "xen_4_17", title: "Xen 4.17")
    public static let kvmVHE = System(id: "kvm_6_1_vhe", title: "KVM 6.1 VHE")
    public static let kvmNVHE = System(id: "kvm_6_1_nvhe", title: "KVM 6.1 nVHE")
    /// In the order of the doc's columns.
    public static let systems = [xen, kvmVHE, kvmNVHE]

    /// Instructions per round trip, by figure name (as the bench guest prints it) and system id.
    /// Xen: dom0less domU. KVM's PL011 read exits to user space (QEMU's device model).
    public static let instructions: [String: [String: Int]] = [
        "hypercall_xen_version": [xen.id: 417, kvmVHE.id: 1408, kvmNVHE.id: 1907],
        "psci_version": [xen.id: 471, kvmVHE.id: 1469, kvmNVHE.id: 1968],
        "mmio_pl011_fr_read": [xen.id: 622, kvmVHE.id: 5097, kvmNVHE.id: 5258],
        // EVTCHNOP_send to an own port, the guest clearing the pending bits after every send
        // (shared/PLATFORM.md); not measured on KVM, which has no event channels.
        "evtchn_send_self": [xen.id: 1077],
    ]

    /// `bench --linux`: instructions Xen 4.17 adds to Debian's kernel booting to /init, compared
    /// with booting directly on QEMU ("about 0.19 x 10^9"; an estimate, not a repeatable count).
    public static let xenLinuxBootOverhead = 190_000_000

    /// How many times the reference's count is swiftvisor's: 417 / 105 = 3.97 (swiftvisor takes
    /// that many times fewer instructions). Nil when swiftvisor's count is 0 (below the counter's
    /// resolution: no ratio to speak of).
    public static func ratio(reference: Int, swiftvisor: Int) -> Double? {
        swiftvisor > 0 ? Double(reference) / Double(swiftvisor) : nil
    }
}
