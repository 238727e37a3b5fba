/// One entry of a node's permission list (`struct xs_permissions`): the first entry names the
/// owner and what everyone else may do by default; later entries grant to one domain.
/// On the wire each is a letter and a domain ID: "n0", "r5", "w5", "b5" (tools/xenstore/xs_lib.c).
public struct XenstorePermission: Equatable {
    /// What is allowed (XS_PERM_* of xenstore_lib.h).
    public struct Access: Equatable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let none = Access(rawValue: 0)
        /// XS_PERM_READ, XS_PERM_WRITE, XS_PERM_OWNER.
        public static let read = Access(rawValue: 0x01)
        public static let write = Access(rawValue: 0x02)
        public static let owner = Access(rawValue: 0x08)
        /// XS_PERM_IGNORE: the entry names a domain that no longer exists.
        public static let ignore = Access(rawValue: 0x10)
        public static let both = Access(rawValue: 0x03)
        public static let all = Access(rawValue: 0x0B)

        public func contains(_ other: Access) -> Bool { rawValue & other.rawValue == other.rawValue }
        public func intersects(_ other: Access) -> Bool { rawValue & other.rawValue != 0 }
        public func union(_ other: Access) -> Access { Access(rawValue: rawValue | other.rawValue) }
    }

    /// The domain (an `int` in xenstored, printed with "%i").
    public var domid: Int32
    public var access: Access

    public init(domid: Int32, access: Access) {
        self.domid = domid
        self.access = access
    }

    public static func none(_ domid: Int32) -> XenstorePermission { .init(domid: domid, access: .none) }
    public static func read(_ domid: Int32) -> XenstorePermission { .init(domid: domid, access: .read) }
    public static func write(_ domid: Int32) -> XenstorePermission { .init(domid: domid, access: .write) }
    public static func both(_ domid: Int32) -> XenstorePermission { .init(domid: domid, access: .both) }

    /// xs_perm_to_string: the letter and the domain ID ("%i").
    var bytes: [UInt8] {
        let letter: UInt8
        switch access.rawValue & ~Access.ignore.rawValue {
        case Access.write.rawValue: letter = 0x77
        case Access.read.rawValue: letter = 0x72
        case Access.both.rawValue: letter = 0x62
        default: letter = 0x6E
        }
        return [letter] + XenstoreBytes.signedDecimal(Int64(domid))
    }

    /// xs_strings_to_perms for one string: "r", "w", "b" or "n", then a number as strtol(.., 0)
    /// reads it (blanks, sign, 0x hex or 0 octal), with nothing after it.
    init?(parsing s: ArraySlice<UInt8>) {
        guard let first = s.first else { return nil }
        switch first {
        case 0x72: access = .read
        case 0x77: access = .write
        case 0x62: access = .both
        case 0x6E: access = .none
        default: return nil
        }
        guard let id = XenstorePermission.strtol(s.dropFirst()) else { return nil }
        domid = Int32(truncatingIfNeeded: id)
    }

    /// strtol(s, &end, 0) that must consume all of a non-empty `s`.
    static func strtol(_ s: ArraySlice<UInt8>) -> Int64? {
        guard !s.isEmpty else { return nil }
        var i = s.startIndex
        while i < s.endIndex, s[i] == 0x20 || (0x09...0x0D).contains(s[i]) { i += 1 }
        var negative = false
        if i < s.endIndex, s[i] == 0x2D || s[i] == 0x2B { negative = s[i] == 0x2D; i += 1 }
        var base: UInt64 = 10
        if i < s.endIndex, s[i] == 0x30 {
            if i + 2 < s.endIndex, s[i + 1] | 0x20 == 0x78, digit(s[i + 2], base: 16) != nil {
                base = 16; i += 2
            } else {
                base = 8
            }
        }
        let digitsStart = i
        var value: UInt64 = 0
        while i < s.endIndex, let d = digit(s[i], base: base) {
            // Saturate: strtol clamps to LONG_MAX/LONG_MIN.
            let (product, overflow) = value.multipliedReportingOverflow(by: base)
            value = overflow || product > UInt64(Int64.max) ? UInt64(Int64.max) + 1 : product + d
            i += 1
        }
        // No digits at all: strtol consumes nothing, so `end` is the whole string.
        guard i > digitsStart || base == 8, i == s.endIndex else { return nil }
        let clamped = value > UInt64(Int64.max) ? (negative ? Int64.min : Int64.max) : Int64(value)
        return negative && clamped != Int64.min ? -clamped : clamped
    }

    static func digit(_ c: UInt8, base: UInt64) -> UInt64? {
        var d: UInt64
        switch c {
        case 0x30...0x39: d = UInt64(c - 0x30)
        case 0x61...0x7A: d = UInt64(c - 0x61 + 10)
        case 0x41...0x5A: d = UInt64(c - 0x41 + 10)
        default: return nil
        }
        return d < base ? d : nil
    }
}

extension Array where Element == XenstorePermission {
    /// perm_for_conn: what `domid` may do. The privileged caller (the hypervisor, in xenstored's
    /// words dom0) and the owner may do everything; otherwise the first entry naming the domain
    /// decides, or else the owner entry's default.
    func access(for domid: UInt32, privileged: Bool) -> XenstorePermission.Access {
        guard let owner = first else { return .none }
        if privileged || owner.domid == Int32(bitPattern: domid) { return .all }
        for p in dropFirst() where !p.access.contains(.ignore) && p.domid == Int32(bitPattern: domid) {
            return XenstorePermission.Access(rawValue: p.access.rawValue & XenstorePermission.Access.all.rawValue)
        }
        return XenstorePermission.Access(rawValue: owner.access.rawValue & XenstorePermission.Access.all.rawValue)
    }

    /// The GET_PERMS payload: each entry's string and a NUL.
    var wireBytes: [UInt8] {
        var out: [UInt8] = []
        for p in self { out += p.bytes; out.append(0) }
        return out
    }
}
