import Foundation

/// A machine swiftvisor boots on under QEMU: the generic `virt` board, or a model of a real
/// board. The hypervisor itself learns everything from the device tree; this is what the host
/// tool must know to start QEMU and place the boot modules (shared/PLATFORM.md, "Board models").
public enum Board: String, CaseIterable, Sendable {
    /// QEMU's `virt`: GICv3 or GICv2, any CPU model, RAM at 1 GiB, PSCI.
    case virt
    /// Raspberry Pi 4B (`raspi4b`, QEMU 9+): BCM2711, 4 x Cortex-A72, GIC-400, RAM at 0,
    /// secondaries in a spin table, no PSCI.
    case raspi4b
    /// Xilinx ZCU102 (`xlnx-zcu102`, ZynqMP): 4 x Cortex-A53, GIC-400, Cadence UART, PSCI.
    case zcu102

    /// The name QEMU's `-M` knows it by.
    public var qemuMachineName: String {
        switch self {
        case .virt: return "virt"
        case .raspi4b: return "raspi4b"
        case .zcu102: return "xlnx-zcu102"
        }
    }

    /// What users call it (the `--machine` value is `rawValue`).
    public var title: String {
        switch self {
        case .virt: return "QEMU virt"
        case .raspi4b: return "Raspberry Pi 4B (QEMU raspi4b)"
        case .zcu102: return "Xilinx ZCU102 (QEMU xlnx-zcu102)"
        }
    }

    /// The oldest QEMU with this model: `raspi4b` came in 9.0 (Debian 12 has 7.2).
    public var minimumQEMUMajor: Int { self == .virt ? 2 : 9 }

    /// Where RAM starts: QEMU loads `-kernel` at RAM base + 2 MiB, the DTB at RAM base +
    /// min(RAM / 2, 128 MiB), and the tool places the boot modules from RAM base + 256 MiB.
    public var ramBase: UInt64 { self == .virt ? 0x4000_0000 : 0 }

    /// The board's RAM is fixed (its model ignores or refuses other sizes); nil: any `-m`.
    public var fixedRAMMiB: Int? {
        switch self {
        case .virt: return nil
        // QEMU's raspi4b has 2 GiB; its device tree gives the ARM cores the first 960 MiB
        // (0x3c000000, below the VideoCore's share), and that is what the hypervisor uses.
        case .raspi4b: return 2048
        // The ZCU102's low DDR window (0 - 2 GiB). More RAM would sit at 0x8_0000_0000, but
        // QEMU writes the device tree's memory node as one range from 0, so it stays at 2 GiB.
        case .zcu102: return 2048
        }
    }

    /// RAM the hypervisor can use on this board (from its base), in MiB.
    public var usableRAMMiB: Int? {
        switch self {
        case .virt: return nil
        case .raspi4b: return 960
        case .zcu102: return 2048
        }
    }

    /// The CPU model: only `virt` takes `-cpu`; the boards have their own cores.
    public var fixedCPU: String? {
        switch self {
        case .virt: return nil
        case .raspi4b: return "cortex-a72"
        case .zcu102: return "cortex-a53"
        }
    }

    /// Cores the board has (every one runs the hypervisor); nil: `virt`'s `-smp`.
    public var fixedCores: Int? { self == .virt ? nil : 4 }

    /// The board's device tree in Debian's arm64 `linux-image` package (under
    /// usr/lib/linux-image-VERSION/); `virt` writes its own.
    public var debianDeviceTree: String? {
        switch self {
        case .virt: return nil
        case .raspi4b: return "broadcom/bcm2711-rpi-4-b.dtb"
        case .zcu102: return "xilinx/zynqmp-zcu102-rev1.0.dtb"
        }
    }

    /// QEMU's `-M` argument. `gicVersion` and `virtualization` apply to `virt` only (the
    /// boards' GIC-400 is a GICv2 with the virtualization extensions; the ZynqMP model needs
    /// `virtualization=on` to start its A53s at EL2, the Pi's enters the kernel at EL2).
    public func machineArgument(gicVersion: Int, virtualization: Bool) -> String {
        switch self {
        case .virt: return "virt,virtualization=\(virtualization ? "on" : "off"),gic-version=\(gicVersion)"
        case .raspi4b: return "raspi4b"
        case .zcu102: return "xlnx-zcu102,virtualization=\(virtualization ? "on" : "off")"
        }
    }

    /// `-serial stdio`: QEMU's first serial port is the console UART swiftvisor picks on each:
    /// virt's PL011; the Pi's PL011 (`serial0`: the device tree's stdout-path names the mini
    /// UART, `serial1`, for which swiftvisor has no driver); the ZCU102's uart0, a Cadence UART.
    public var serialArguments: [String] { ["-serial", "stdio"] }

    /// More of QEMU's arguments: no audio back-end for the boards (the ZCU102's DisplayPort
    /// has audio, and QEMU 10 would open the host's ALSA for it and print its complaints;
    /// QEMU 7.2, which runs `virt`, has no `-audio`).
    public var extraArguments: [String] { self == .virt ? [] : ["-audio", "none"] }

    /// Why `--gic`, `--cpu`, `--cores` or `--vhe` cannot be used with this board; nil if they can.
    public func optionProblem(gicVersion: Int?, cpu: String?, cores: Int?, vhe: Bool) -> String? {
        guard self != .virt else { return nil }
        if let gicVersion { return "--gic \(gicVersion) applies to --machine virt only: \(rawValue) has a GIC-400 (GICv2)" }
        if let cpu, cpu != fixedCPU { return "--cpu \(cpu) applies to --machine virt only: \(rawValue) has \(fixedCores ?? 4) \(fixedCPU ?? "") cores" }
        if let cores, cores != fixedCores {
            return "--cores \(cores) applies to --machine virt only: \(rawValue) has \(fixedCores ?? 4) cores, and swiftvisor runs on all of them"
        }
        if vhe { return "--vhe needs a CPU with VHE (--machine virt --cpu max): the \(fixedCPU ?? "") of \(rawValue) has none" }
        return nil
    }
}
