/// The GIC architecture a host has, and so the one its guests get: a GICv3 (IHI0069; system
/// register CPU interface, affinity routing) or a GICv2 such as the GIC-400 (IHI0048B;
/// memory-mapped CPU interface, GICH/GICV virtualization frames, 8 CPUs at most).
public enum GICVersion: Equatable {
    case v2, v3
}
