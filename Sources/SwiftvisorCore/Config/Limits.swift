/// Every fixed limit of the hypervisor, in one place: the hypervisor sizes its tables with
/// these, the boot manifest's layout follows them, and `swiftvisor check` refuses a system
/// description that exceeds one, with the reason given here.
public enum Limits {
    /// Guests in one system: the boot manifest parser accepts at most this many entries
    /// (64 KiB of manifest; each guest also takes a VMID and heap for its vGIC and vCPUs).
    public static let guests = 64
    public static let guestsReason = "the hypervisor's boot manifest has room for \(guests)"

    /// VMIDs are 8 bits (VTCR_EL2.VS = 0); VMID 0 is never given to a guest.
    public static let vmids = 255

    /// vCPUs of one guest: its virtual GIC has one redistributor frame pair per vCPU below the
    /// guest's UART, and the hypervisor tracks per-VM state for each.
    public static let vcpusPerGuest = 8

    /// Physical cores the hypervisor runs on: per-core stacks (BareMetal/Arch/link.ld), the
    /// secondary boot data and per-VM TLB bookkeeping have this many entries.
    public static let cores = 8

    /// Guest RAM in MiB: at least room for a kernel and its 2 MiB device tree; at most what the
    /// guest kit's stage-1 map covers (RAM at 1 GiB up to 17 GiB) and the host tool lets QEMU have.
    public static let minimumMemoryMiB = 4
    public static let maximumMemoryMiB = 16384
    /// All guests' RAM together (one QEMU `virt` machine's RAM, less the hypervisor's own).
    public static let maximumTotalMemoryMiB = 16384
    public static let memoryReason = "the test guests map RAM up to 17 GiB, and preparing 16 GiB under emulation already takes about a minute"

    /// Boot manifest entry fields (BootManifest.swift): bytes of a name and a command line,
    /// ranges of passed-through device memory, passed-through interrupts.
    public static let nameLength = 63
    public static let commandLineLength = BootManifest.entrySize - BootManifest.commandLineOffset - 1
    public static let deviceMemoryRanges = 4
    public static let interrupts = 8

    /// PV devices (xl.cfg `vif` and `disk` entries) in one system: the boot manifest carries
    /// one 256-byte entry each after the guests', and keeps room for this many.
    public static let devices = 32
    public static let devicesReason = "the hypervisor's boot manifest has room for \(devices)"
    /// Bytes of a disk's `target` path: its field in the manifest's device entry.
    public static let diskTargetLength = BootManifest.deviceEntrySize - BootManifest.deviceTargetOffset - 1

    /// The largest machine RAM the host tool gives QEMU `virt`, in MiB: the guests' RAM, the
    /// boot modules and 64 MiB for the hypervisor. A policy bound, not an address limit (RAM at
    /// 1 GiB, 39-bit IPA, 44-bit PA on cortex-a57 reach much further): the most guest RAM plus
    /// 4 GiB of kernels and ramdisks, the largest machine we run.
    public static let maximumMachineRAMMiB = 20 * 1024
}
