import SwiftvisorCore

/// An interrupt the CPU interface handed out: its INTID, and the value that completes it (a
/// GICv2's GICC_IAR also names an SGI's source CPU, which GICC_EOIR wants back).
struct AcknowledgedInterrupt {
    let intid: UInt32
    let iar: UInt32
}

/// One core's physical interrupt controller, whichever architecture the host device tree
/// names: an enum rather than a protocol (Embedded Swift has no existentials of non-class
/// protocols; the switch costs a compare on the interrupt path only).
enum InterruptController {
    case gicv3(GICv3)
    case gicv2(GICv2)

    /// INTID 1023: nothing pending (both architectures).
    static let spurious: UInt32 = 1023

    /// The controller of the core with `mpidr`, or nil when the device tree's GIC lacks it.
    init?(platform: HostPlatform, mpidr: UInt64) {
        switch platform.gicVersion {
        case .v3?: guard let g = GICv3(platform: platform, mpidr: mpidr) else { return nil }; self = .gicv3(g)
        case .v2?: guard let g = GICv2(platform: platform, mpidr: mpidr) else { return nil }; self = .gicv2(g)
        case nil: return nil
        }
    }

    /// Run on the core itself: distributor, its own interface, the private interrupts it takes.
    mutating func initialize(enabling intids: [UInt32]) {
        switch self {
        case .gicv3(let g): g.initialize(enabling: intids)
        case .gicv2(var g): g.initialize(enabling: intids); self = .gicv2(g)
        }
    }

    /// A physical SPI routed to this controller's core, enabled.
    func configureSPI(_ intid: UInt32) {
        switch self {
        case .gicv3(let g): g.configureSPI(intid)
        case .gicv2(let g): g.configureSPI(intid)
        }
    }

    func maskSPI(_ intid: UInt32) {
        switch self {
        case .gicv3(let g): g.maskSPI(intid)
        case .gicv2(let g): g.maskSPI(intid)
        }
    }

    func unmaskSPI(_ intid: UInt32) {
        switch self {
        case .gicv3(let g): g.unmaskSPI(intid)
        case .gicv2(let g): g.unmaskSPI(intid)
        }
    }

    @inline(__always)
    func acknowledge() -> AcknowledgedInterrupt {
        switch self {
        case .gicv3(let g): return g.acknowledge()
        case .gicv2(let g): return g.acknowledge()
        }
    }

    @inline(__always)
    func endOfInterrupt(_ a: AcknowledgedInterrupt) {
        switch self {
        case .gicv3(let g): g.endOfInterrupt(a)
        case .gicv2(let g): g.endOfInterrupt(a)
        }
    }

    /// The active state of one of this core's PPIs (run on the core itself).
    func setPrivateActive(_ intid: UInt32, _ active: Bool) {
        switch self {
        case .gicv3(let g): g.setPrivateActive(intid, active)
        case .gicv2(let g): g.setPrivateActive(intid, active)
        }
    }

    /// An SGI to this controller's core, sent from any core.
    func sendSGI(_ intid: UInt32) {
        switch self {
        case .gicv3(let g): g.sendSGI(intid)
        case .gicv2(let g): g.sendSGI(intid)
        }
    }
}
