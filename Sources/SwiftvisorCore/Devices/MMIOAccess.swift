/// One guest access to an emulated device's registers, taken from a stage-2 data abort with a
/// valid instruction syndrome (Arm ARM D19.2.40: SAS, SSE, SRT, SF, WnR). Every device sees
/// accesses through this value, so access width and sign extension are handled here once.
/// (Bao's `struct emul_access` has the same fields.)
public struct MMIOAccess: Equatable {
    /// Byte offset from the device's base.
    public var offset: UInt64
    /// Access size in bytes: 1, 2, 4 or 8 (SAS).
    public var width: Int
    /// WnR: a store.
    public var isWrite: Bool
    /// SSE: a load sign-extends to the register's width.
    public var signExtend: Bool
    /// SF: the transfer register is an X register (else W: a load clears bits 63:32).
    public var sixtyFourBit: Bool
    /// SRT: the transfer register (31 is XZR/WZR).
    public var register: Int
    /// A store's data: the transfer register's low `width` bytes. Zero for a load.
    public var value: UInt64

    @inlinable @inline(__always)
    public init(offset: UInt64, width: Int, isWrite: Bool, value: UInt64 = 0,
                signExtend: Bool = false, sixtyFourBit: Bool = true, register: Int = 0) {
        self.offset = offset
        self.width = width
        self.isWrite = isWrite
        self.signExtend = signExtend
        self.sixtyFourBit = sixtyFourBit
        self.register = register
        self.value = 0
        self.value = isWrite ? value & widthMask : 0
    }

    /// The access `abort` makes at `offset` into a device; `registerValue` is the transfer
    /// register's contents (used for a store only).
    @inlinable @inline(__always)
    public init(_ abort: DataAbort, offset: UInt64, registerValue: UInt64) {
        self.init(offset: offset, width: abort.accessSize, isWrite: abort.isWrite, value: registerValue,
                  signExtend: abort.signExtend, sixtyFourBit: abort.sixtyFourBit, register: abort.register)
    }

    /// Ones in the low `width` bytes.
    @inlinable @inline(__always) public var widthMask: UInt64 { width >= 8 ? ~0 : (1 << UInt64(width * 8)) &- 1 }

    /// What a load leaves in its register, given the `raw` value the device returned: the low
    /// `width` bytes, sign-extended if SSE, then cut to 32 bits for a W register (D19.2.40).
    @inlinable @inline(__always)
    public func loadedValue(_ raw: UInt64) -> UInt64 {
        // Shift the access's bytes to the top, then back: arithmetically to sign-extend.
        let unused = UInt64(64 &- min(width, 8) &* 8)
        let top = raw << unused
        let v = signExtend ? UInt64(bitPattern: Int64(bitPattern: top) >> unused) : top >> unused
        return sixtyFourBit ? v : v & 0xFFFF_FFFF
    }

    // MARK: Banks of 32-bit registers

    /// The 32-bit register the access starts in.
    @inlinable @inline(__always) public var wordOffset: UInt64 { offset & ~3 }
    /// Bit position of the first byte accessed within its word.
    @inlinable @inline(__always) public var laneShift: UInt64 { (offset & 3) * 8 }

    /// A load of part of a 32-bit register: its bytes from `offset` on.
    @inlinable @inline(__always) public func lanes(of word: UInt32) -> UInt64 { UInt64(word) >> laneShift }

    /// A store into part of a 32-bit register: the word with the bytes stored replaced
    /// (bytes beyond the word are dropped).
    @inlinable public func merged(into word: UInt32) -> UInt32 {
        let mask = UInt32(truncatingIfNeeded: widthMask << laneShift)
        return word & ~mask | UInt32(truncatingIfNeeded: value << laneShift) & mask
    }
}

/// The access widths a register accepts, as a set of byte counts (1, 2, 4, 8 are each one
/// bit). An access of another width is a "bad width": it reads as zero and its write is
/// ignored (IHI0069 12.1.3 for the GIC; Xen's vGIC sends these to one `bad_width` path).
public struct AccessWidths: Equatable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let byte = AccessWidths(rawValue: 1)
    public static let halfword = AccessWidths(rawValue: 2)
    public static let word = AccessWidths(rawValue: 4)
    public static let doubleword = AccessWidths(rawValue: 8)
    public static let all = AccessWidths(rawValue: 0xF)

    @inlinable public func union(_ other: AccessWidths) -> AccessWidths { .init(rawValue: rawValue | other.rawValue) }
    @inlinable public func allows(_ width: Int) -> Bool { width <= 8 && rawValue & UInt8(truncatingIfNeeded: width) != 0 }
}
