/// `event_channel_op(int cmd, void *arg)` (public/event_channel.h): the commands and the
/// layout of each argument structure, as Xen copies them in and out.
public enum XenEventChannelOp {
    /// EVTCHNOP_*.
    public enum Command: UInt64 {
        case bindInterdomain = 0, bindVIRQ = 1, bindPIRQ = 2, close = 3, send = 4, status = 5, allocUnbound = 6
        case bindIPI = 7, bindVCPU = 8, unmask = 9, reset = 10, initControl = 11, expandArray = 12, setPriority = 13
        case resetContinue = 14

        /// Bytes of the argument structure Xen copies from the guest first (-EFAULT if it cannot).
        public var argumentSize: UInt64 {
            switch self {
            case .bindInterdomain, .bindVIRQ: return 12   // {remote_dom, pad, remote_port, local_port} / {virq, vcpu, port}
            case .bindPIRQ: return 12                     // {pirq, flags, port}
            case .close, .send, .unmask: return 4          // {port}
            case .status: return 24                        // {dom, pad, port, status, vcpu, union u (8)}
            case .allocUnbound, .bindIPI, .bindVCPU, .setPriority: return 8
            case .reset, .resetContinue: return 2          // {dom}
            case .initControl: return 24                   // {control_gfn, offset, vcpu, link_bits, pad[7]}
            case .expandArray: return 8                    // {array_gfn}
            }
        }
    }

    /// Little-endian fields of an argument structure read from the guest.
    public struct Argument {
        public var bytes: [UInt8]
        public init(bytes: [UInt8]) { self.bytes = bytes }
        public func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        public func u32(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[at + i]) << (8 * UInt32(i)) }
            return v
        }
        public mutating func set16(_ at: Int, _ v: UInt16) { for i in 0..<2 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt16(i))) } }
        public mutating func set32(_ at: Int, _ v: UInt32) { for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
    }

    /// Writes `EventChannels.Status` into a `struct evtchn_status` as Xen fills it: status and
    /// vcpu, then the union member of that status (unbound.dom; interdomain.dom and .port; virq).
    public static func fill(_ a: inout Argument, with s: EventChannels.Status) {
        a.set32(8, s.status)
        a.set32(12, s.vcpu)
        switch s.status {
        case 1: a.set16(16, UInt16(truncatingIfNeeded: s.first))
        case 2: a.set16(16, UInt16(truncatingIfNeeded: s.first)); a.set32(20, s.second)
        case 4: a.set32(16, s.first)
        default: break
        }
    }
}
