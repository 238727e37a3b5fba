/// What `xen_version` answers a domU, sub-op by sub-op, as Xen 4.17 does
/// (xen/common/kernel.c do_xen_version with xsm/dummy.h's default policy, which keeps
/// XENVER_commandline and XENVER_build_id for the privileged domain).
public enum XenVersion {
    /// XENVER_extraversion (`xen_extraversion_t`, char[16]).
    public static let extraVersion: StaticString = "-swiftvisor"
    /// XENVER_capabilities: Xen on Arm64 lists "xen-3.0-aarch64 " (arch/arm/setup.c
    /// arch_get_xen_caps); swiftvisor runs no AArch32 guest, so "xen-3.0-armv7l " is absent.
    public static let capabilities: StaticString = "xen-3.0-aarch64 "
    /// XENVER_changeset: Xen's text when built outside a repository.
    public static let changeset: StaticString = "unavailable"
    /// What a domU gets in place of a privileged answer (xen/common/version.c xen_deny()).
    public static let denied: StaticString = "<denied>"
    /// XENVER_platform_parameters' virt_start: Xen 4.17 on Arm64 gives HYPERVISOR_VIRT_START,
    /// which is XEN_VIRT_START = 0x0020_0000 (xen/arch/arm/include/asm/config.h).
    public static let virtStart: UInt64 = 0x0020_0000

    /// `struct xen_compile_info` (version.h): compiler[64], compile_by[16], compile_domain[32], compile_date[32].
    public static let compiler: StaticString = "Embedded Swift"
    public static let compileBy: StaticString = "swiftvisor"

    /// XENFEAT_* bit numbers (xen/include/public/features.h).
    public enum Feature: UInt32 {
        case writablePageTables = 0, autoTranslatedPhysmap = 2, memoryOpVnodeSupported = 13
        case armSMCCCSupported = 14, notDirectMapped = 16
    }

    /// XENVER_get_features: submap 0 is what Xen 4.17 on Arm gives a domU (translated,
    /// not direct-mapped, not the hardware domain); any other index is -EINVAL (XENFEAT_NR_SUBMAPS is 1).
    public static func features(submapIndex: UInt32) -> Result<UInt32, XenABI.Errno> {
        guard submapIndex == 0 else { return .failure(.einval) }
        let submap: UInt32 = 1 << Feature.memoryOpVnodeSupported.rawValue
            | 1 << Feature.writablePageTables.rawValue | 1 << Feature.autoTranslatedPhysmap.rawValue
            | 1 << Feature.armSMCCCSupported.rawValue | 1 << Feature.notDirectMapped.rawValue
        return .success(submap)
    }

    /// The bytes a copy-out sub-op writes to the guest buffer (exactly as many as Xen copies),
    /// or nil for a sub-op that copies nothing out.
    /// `handle` is the domain's 16-byte `xen_domain_handle_t`.
    public static func reply(to command: XenABI.VersionCommand, handle: [UInt8]) -> [UInt8]? {
        switch command {
        case .extraVersion: return text(extraVersion, size: 16)
        case .compileInfo:
            return text(compiler, size: 64) + text(compileBy, size: 16) + text("", size: 32) + text("", size: 32)
        case .capabilities: return text(capabilities, size: 1024)
        case .changeset: return text(changeset, size: 64)
        case .platformParameters:
            // xen_platform_parameters_t { xen_ulong_t virt_start; }, little-endian.
            return (0..<8).map { UInt8(truncatingIfNeeded: virtStart >> (8 * UInt64($0))) }
        case .guestHandle: return handle
        case .commandline:
            // Denied to a domU: Xen copies "<denied>" and its NUL, nothing more.
            return text(denied, size: denied.utf8CodeUnitCount + 1)
        case .version, .getFeatures, .pageSize, .buildID: return nil
        }
    }

    /// `s` NUL-padded to `size` bytes, cut to leave a terminating NUL (Xen's safe_strcpy).
    static func text(_ s: StaticString, size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var i = 0
        s.withUTF8Buffer { for b in $0 where i < size - 1 { out[i] = b; i += 1 } }
        return out
    }
}
