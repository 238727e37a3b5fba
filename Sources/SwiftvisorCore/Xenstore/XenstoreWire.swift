/// Xenstore's wire protocol, as `xen/include/public/io/xs_wire.h` defines it: every message is
/// a 16-byte `struct xsd_sockmsg` (type, req_id, tx_id, len, little-endian on Arm) and `len`
/// bytes of payload, usually NUL-terminated strings.
public enum XenstoreWire {
    /// XENSTORE_PAYLOAD_MAX: a longer message is a protocol violation.
    public static let payloadMax = 4096
    /// XENSTORE_ABS_PATH_MAX / XENSTORE_REL_PATH_MAX.
    public static let absolutePathMax = 3072
    public static let relativePathMax = 2048
    /// sizeof(struct xsd_sockmsg).
    public static let headerSize = 16

    /// `enum xsd_sockmsg_type`. Number 20 (XS_RESTRICT) was removed and is unknown.
    public enum MessageType: UInt32 {
        case control = 0, directory, read, getPerms, watch, unwatch, transactionStart, transactionEnd
        case introduce, release, getDomainPath, write, mkdir, rm, setPerms, watchEvent, error
        case isDomainIntroduced, resume, setTarget
        case resetWatches = 21, directoryPart = 22
    }

    /// `struct xsd_sockmsg`.
    public struct Header: Equatable {
        public var type: UInt32
        public var requestID: UInt32
        public var transactionID: UInt32
        public var length: UInt32

        public init(type: UInt32, requestID: UInt32, transactionID: UInt32, length: UInt32) {
            self.type = type
            self.requestID = requestID
            self.transactionID = transactionID
            self.length = length
        }

        /// The header in the first 16 bytes of `bytes` (which must hold at least 16).
        public init(decoding bytes: [UInt8]) {
            func word(_ at: Int) -> UInt32 {
                UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
            }
            self.init(type: word(0), requestID: word(4), transactionID: word(8), length: word(12))
        }

        public var bytes: [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(XenstoreWire.headerSize)
            for word in [type, requestID, transactionID, length] {
                for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
            }
            return out
        }
    }

    /// One message: header and payload bytes.
    public static func message(type: MessageType, requestID: UInt32, transactionID: UInt32, payload: [UInt8]) -> [UInt8] {
        Header(type: type.rawValue, requestID: requestID, transactionID: transactionID,
               length: UInt32(payload.count)).bytes + payload
    }
}

/// The errors a xenstore reply can carry (`xsd_errors` in xs_wire.h, in that order): an
/// XS_ERROR reply's payload is the errno's name and a NUL, e.g. "ENOENT\0".
public enum XenstoreError: UInt8, Error, Equatable {
    case einval, eacces, eexist, eisdir, enoent, enomem, enospc, eio, enotempty, enosys
    case erofs, ebusy, eagain, eisconn, e2big, eperm

    public var name: StaticString {
        switch self {
        case .einval: return "EINVAL"
        case .eacces: return "EACCES"
        case .eexist: return "EEXIST"
        case .eisdir: return "EISDIR"
        case .enoent: return "ENOENT"
        case .enomem: return "ENOMEM"
        case .enospc: return "ENOSPC"
        case .eio: return "EIO"
        case .enotempty: return "ENOTEMPTY"
        case .enosys: return "ENOSYS"
        case .erofs: return "EROFS"
        case .ebusy: return "EBUSY"
        case .eagain: return "EAGAIN"
        case .eisconn: return "EISCONN"
        case .e2big: return "E2BIG"
        case .eperm: return "EPERM"
        }
    }

    /// The XS_ERROR payload: the name and its NUL.
    public var payload: [UInt8] { XenstoreBytes.string(name) + [0] }
}

/// Byte-string helpers: xenstore paths and values are bytes, never Swift `String`s (whose
/// comparison needs Unicode tables Embedded Swift lacks on bare metal).
public enum XenstoreBytes {
    public static func string(_ s: StaticString) -> [UInt8] {
        var out: [UInt8] = []
        s.withUTF8Buffer { out.append(contentsOf: $0) }
        return out
    }

    /// `value` in decimal, as printf's "%u".
    public static func decimal(_ value: UInt64) -> [UInt8] {
        if value == 0 { return [0x30] }
        var digits: [UInt8] = []
        var v = value
        while v > 0 { digits.append(0x30 + UInt8(v % 10)); v /= 10 }
        return digits.reversed()
    }

    /// `value` in decimal with a sign, as printf's "%i".
    public static func signedDecimal(_ value: Int64) -> [UInt8] {
        value < 0 ? [0x2D] + decimal(UInt64(bitPattern: 0 &- value)) : decimal(UInt64(value))
    }

    /// C's atoi: optional blanks and sign, then decimal digits; anything else ends the number.
    /// The result wraps to 32 bits as an `int` would on overflow in practice.
    public static func atoi(_ bytes: ArraySlice<UInt8>) -> Int32 {
        var i = bytes.startIndex
        while i < bytes.endIndex, bytes[i] == 0x20 || (0x09...0x0D).contains(bytes[i]) { i += 1 }
        var negative = false
        if i < bytes.endIndex, bytes[i] == 0x2D || bytes[i] == 0x2B { negative = bytes[i] == 0x2D; i += 1 }
        var value: UInt32 = 0
        while i < bytes.endIndex, (0x30...0x39).contains(bytes[i]) {
            value = value &* 10 &+ UInt32(bytes[i] - 0x30)
            i += 1
        }
        let signed = Int32(bitPattern: value)
        return negative ? 0 &- signed : signed
    }

    /// The NUL-terminated strings of a payload: their ranges, and whether bytes follow the last NUL.
    /// (xenstored's get_strings counts NULs; bytes after the last one are not a string.)
    public static func strings(_ payload: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        for i in 0..<payload.count where payload[i] == 0 {
            out.append(start..<i)
            start = i + 1
        }
        return out
    }

    /// Byte-wise lexicographic order (strcmp's for strings without NUL).
    public static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            if a[i] != b[i] { return a[i] < b[i] }
            i += 1
        }
        return a.count < b.count
    }
}
