/// Numbers and structure layouts of Xen's grant tables, version 1
/// (xen/include/public/grant_table.h; Xen 4.17 on Arm offers version 1 only).
public enum GrantTableABI {
    /// GNTTABOP_* sub-ops of grant_table_op (hypercall 20).
    public enum Operation: UInt64 {
        case mapGrantRef = 0, unmapGrantRef = 1, setupTable = 2, dumpTable = 3, transfer = 4, copy = 5
        case querySize = 6, unmapAndReplace = 7, setVersion = 8, getStatusFrames = 9, getVersion = 10
        case swapGrantRef = 11, cacheFlush = 12
    }

    /// grant_table_op's `unsigned int cmd` and `unsigned int count`.
    public struct Call: Equatable {
        public var command: UInt32
        public var count: UInt32
        public init(command: UInt32, count: UInt32) { self.command = command; self.count = count }
    }

    /// `grant_entry_v1_t`: flags (16 bits), domid (16 bits), frame (32 bits); 8 bytes.
    public static let entrySize: UInt64 = 8
    public static let entriesPerFrame = 512
    /// Xen's opt_max_grant_frames: what a dom0less domU gets (max_grant_frames = -1).
    public static let defaultMaxFrames = 64
    /// Mappings one domain may hold at once (then GNTST_no_space). Xen allows 262144
    /// (opt_max_maptrack_frames 1024 x 256 per page); swiftvisor keeps them on its own heap,
    /// shared by every guest, and allows 8192 per domain: a Linux driver domain serving two
    /// vifs (netback: 256 pending TX slots per queue, a queue per vCPU) and a disk (blkback:
    /// up to 1056 persistent grants per ring) needs several thousand. A domain that fills its
    /// maptrack makes the hypervisor hold 8192 x 24 bytes = 192 KiB, one 256 KiB heap block
    /// (Heap's power-of-two classes), besides the smaller blocks its growth freed; and it grows
    /// only while the heap has room to spare (`GrantTable.mayAllocate`), else GNTST_no_space.
    public static let maximumHandles = 8192
    /// GNTTAB_MAX_VERSION on Arm.
    public static let version: UInt32 = 1
    /// INVALID_GFN as a 64-bit xen_pfn_t: a frame not mapped anywhere (setup_table's answer).
    public static let invalidFrame: UInt64 = ~0

    /// GTF_* flags of a grant entry.
    public struct EntryFlags: OptionSet, Equatable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// GTF_type_mask, bits 1:0 (GTF_permit_access = 1).
        public static let typeMask: UInt16 = 3
        public static let permitAccess = EntryFlags(rawValue: 1)
        /// GTF_readonly, bit 2: the grantee may only read.
        public static let readOnly = EntryFlags(rawValue: 1 << 2)
        /// GTF_reading, bit 3 / GTF_writing, bit 4: set by the hypervisor while the frame is in use.
        public static let reading = EntryFlags(rawValue: 1 << 3)
        public static let writing = EntryFlags(rawValue: 1 << 4)
        /// GTF_sub_page, bit 8 (a v2 feature: refused by map).
        public static let subPage = EntryFlags(rawValue: 1 << 8)
    }

    /// GNTMAP_* flags of map_grant_ref.
    public struct MapFlags: OptionSet, Equatable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let deviceMap = MapFlags(rawValue: 1 << 0)
        public static let hostMap = MapFlags(rawValue: 1 << 1)
        public static let readOnly = MapFlags(rawValue: 1 << 2)
        public static let applicationMap = MapFlags(rawValue: 1 << 3)
        public static let containsPTE = MapFlags(rawValue: 1 << 4)
    }

    /// GNTCOPY_* flags: which side names a grant reference rather than the caller's own frame.
    public struct CopyFlags: OptionSet, Equatable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let sourceGref = CopyFlags(rawValue: 1 << 0)
        public static let destGref = CopyFlags(rawValue: 1 << 1)
    }
}

/// GNTST_*: the per-operation status a grant operation writes back (`int16_t status`).
public enum GrantStatus: Int16, Error, Equatable {
    case okay = 0, generalError = -1, badDomain = -2, badGntref = -3, badHandle = -4, badVirtAddr = -5
    case badDevAddr = -6, noDeviceSpace = -7, permissionDenied = -8, badPage = -9, badCopyArg = -10
    case addressTooBig = -11, eagain = -12, noSpace = -13
}

/// A grant reference: an index into the granter's table.
public struct GrantReference: Equatable {
    public var rawValue: UInt32
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
}

/// A grant handle: the mapper's index of one mapping (its maptrack entry).
public struct GrantHandle: Equatable {
    public var rawValue: UInt32
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
}

/// A guest frame number: a guest-physical address >> 12 (`xen_pfn_t`).
public struct GuestFrameNumber: Equatable, Comparable {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(address: GuestPhysicalAddress) { rawValue = address.rawValue >> 12 }
    public var address: GuestPhysicalAddress { GuestPhysicalAddress(rawValue << 12) }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
