/// A guest's UUID, as xl.cfg's `uuid` key writes it ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
/// RFC 4122 3: 32 hex digits in groups of 8-4-4-4-12). Xen keeps it as the domain handle
/// (`xen_domain_handle_t`, 16 bytes, in the text's order) that XENVER_guest_handle returns.
public struct GuestUUID: Equatable {
    /// The 16 bytes, most significant first (the text's order).
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses the 8-4-4-4-12 form; hex digits in either case. Nil for anything else.
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 36 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard u[i] == UInt8(ascii: "-") else { return nil }
                i += 1
                continue
            }
            guard let high = Self.hexValue(u[i]), let low = Self.hexValue(u[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        self.bytes = out
    }

    /// A version 4 (random) UUID from 16 random bytes: RFC 4122 4.4 sets the version (0100)
    /// in the high nibble of byte 6 and the variant (10) in the top bits of byte 8.
    public static func version4(random: [UInt8]) -> GuestUUID? {
        guard random.count == 16 else { return nil }
        var b = random
        b[6] = b[6] & 0x0F | 0x40
        b[8] = b[8] & 0x3F | 0x80
        return GuestUUID(bytes: b)
    }

    /// The 8-4-4-4-12 form in lower case.
    public var text: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
