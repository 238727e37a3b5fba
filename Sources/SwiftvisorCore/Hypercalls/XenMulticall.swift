/// `multicall(multicall_entry_t *call_list, uint32_t nr_calls)` (xen.h, common/multicall.c):
/// the hypercalls of a list run in order, each entry's `result` written back.
public enum XenMulticall {
    /// `struct multicall_entry { xen_ulong_t op, result; xen_ulong_t args[6]; }`: 64 bytes on Arm.
    public static let entrySize: UInt64 = 64
    /// Offset of `result` in an entry.
    public static let resultOffset: UInt64 = 8
    /// Entries run per exit; the rest continue by re-executing the HVC with the list advanced,
    /// as Xen's hypercall continuation does, so a long list does not hold the hypervisor.
    public static let entriesPerExit: UInt64 = 32

    public struct Entry: Equatable {
        public var op: UInt64
        public var args: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        public init(op: UInt64, args: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) { self.op = op; self.args = args }
        /// From the entry's 64 little-endian bytes.
        public init(bytes b: [UInt8]) {
            func word(_ n: Int) -> UInt64 { var v: UInt64 = 0; for i in 0..<8 { v |= UInt64(b[8 * n + i]) << (8 * UInt64(i)) }; return v }
            self.init(op: word(0), args: (word(2), word(3), word(4), word(5), word(6), word(7)))
        }
        public static func == (a: Entry, b: Entry) -> Bool {
            a.op == b.op && a.args.0 == b.args.0 && a.args.1 == b.args.1 && a.args.2 == b.args.2
                && a.args.3 == b.args.3 && a.args.4 == b.args.4 && a.args.5 == b.args.5
        }
    }

    /// What an entry's sub-call is: a multicall inside a multicall is refused with -EINVAL
    /// (re-entry); a number the Arm table lacks is -ENOSYS, as is anything swiftvisor lacks.
    public static func subcall(_ e: Entry) -> Result<XenHypercall, XenABI.Errno> {
        if e.op == XenABI.Number.multicall.rawValue { return .failure(.einval) }
        return XenHypercall.decode(number: e.op, x0: e.args.0, x1: e.args.1, x2: e.args.2)
    }

    /// Address of entry `i`, or nil when the list wraps the address space (-EFAULT).
    public static func entryAddress(list: UInt64, index: UInt64) -> UInt64? {
        let (offset, o1) = index.multipliedReportingOverflow(by: entrySize)
        let (address, o2) = list.addingReportingOverflow(offset)
        return o1 || o2 ? nil : address
    }
}
