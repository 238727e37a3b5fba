/// One xl.cfg `vif` entry: a network interface whose backend is another guest (a driver
/// domain), e.g. "backend=net, mac=00:16:3e:01:02:03, bridge=xenbr0"
/// (xl-network-configuration.5). swiftvisor has no dom0, so `backend=` is required.
public struct VirtualInterfaceSpec: Equatable {
    /// The guest that serves it (xl's `backend=`, a domain name).
    public var backend: String
    /// `mac=` as written; nil: derived from the guest's name (`derivedMAC`).
    public var mac: MACAddress?
    /// The bridge its backend interface joins inside the backend guest (xl's default "xenbr0").
    public var bridge: String = Self.defaultBridge

    public static let defaultBridge = "xenbr0"
    static let example = "backend=NAME, mac=00:16:3e:xx:xx:xx, bridge=xenbr0"
    /// xl keys that need a dom0's scripts or QEMU, which swiftvisor does not have.
    static let unsupported = ["script", "ip", "vifname", "rate", "model", "gatewaydev", "devid", "trusted",
                              "forwarddev", "accel", "uuid", "mtu", "powerup", "hotplug"]

    public init(backend: String, mac: MACAddress? = nil, bridge: String = Self.defaultBridge) {
        self.backend = backend; self.mac = mac; self.bridge = bridge
    }

    /// Parses xl's `vif` string; the error says which key is wrong and why.
    public init(parsing text: String) throws(DeviceSpecError) {
        let s = try XLDeviceString(text, kind: "a vif", example: Self.example)
        var backend: String?
        for (key, value) in s.items {
            switch key {
            case "backend": backend = value
            case "mac":
                guard let m = MACAddress(value) else {
                    throw DeviceSpecError("mac '\(value)' is not a MAC address: write six hexadecimal bytes as XX:XX:XX:XX:XX:XX")
                }
                mac = m
            case "bridge":
                if let why = Self.interfaceNameProblem(value) { throw DeviceSpecError("bridge '\(value)' \(why)") }
                bridge = value
            case "type":
                // xl: "ioemu" adds an emulated NIC, which needs QEMU in a dom0.
                guard value == "vif" else { throw DeviceSpecError("type '\(value)' is not supported: swiftvisor gives only PV interfaces (type=vif)") }
            default:
                if Self.unsupported.contains(key) {
                    throw DeviceSpecError("swiftvisor does not support the vif key '\(key)': it takes backend, mac, bridge and type=vif")
                }
                throw DeviceSpecError("'\(key)' is not a vif key: write \"\(Self.example)\"")
            }
        }
        guard let backend, !backend.isEmpty else {
            throw DeviceSpecError("backend=NAME is required: swiftvisor has no dom0, so another guest must serve the interface")
        }
        self.backend = backend
    }

    /// Why `name` cannot be a Linux interface name (dev_valid_name: 1 to 15 bytes, not "." or
    /// "..", no '/', ':' or white space); nil if it can.
    static func interfaceNameProblem(_ name: String) -> String? {
        let b = Array(name.utf8)
        if b.isEmpty || b.count > 15 { return "must be 1 to 15 bytes long (a Linux interface name; it is \(b.count))" }
        if name == "." || name == ".." { return "is not an interface name" }
        for c in b where c == UInt8(ascii: "/") || c == UInt8(ascii: ":") || c <= 0x20 || c == 0x7F {
            return "may not contain '/', ':' or white space (a Linux interface name)"
        }
        return nil
    }

    /// The MAC of a vif written without `mac=`: Xen's 00:16:3e prefix, as xl gives (libxl_nic.c),
    /// then 3 bytes of the 32-bit FNV-1a hash of "NAME/INDEX" (the guest's name and the vif's
    /// index among its vifs), byte 3's top bit clear as libxl's random ones. Stable across runs.
    public static func derivedMAC(guest: String, index: Int) -> MACAddress {
        var h: UInt32 = 0x811C_9DC5
        for c in Array(guest.utf8) + [UInt8(ascii: "/")] + Array("\(index)".utf8) {
            h = (h ^ UInt32(c)) &* 0x0100_0193
        }
        return MACAddress(bytes: [0x00, 0x16, 0x3E, UInt8(truncatingIfNeeded: h >> 16) & 0x7F,
                                  UInt8(truncatingIfNeeded: h >> 8), UInt8(truncatingIfNeeded: h)])
    }
}

/// A 48-bit Ethernet address.
public struct MACAddress: Equatable {
    public var bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses "00:16:3e:01:02:03" (or with '-'): six bytes of two hexadecimal digits.
    public init?(_ text: String) {
        let b = Array(text.utf8)
        guard b.count == 17 else { return nil }
        var bytes: [UInt8] = []
        for i in 0..<6 {
            if i > 0, b[i * 3 - 1] != UInt8(ascii: ":") && b[i * 3 - 1] != UInt8(ascii: "-") { return nil }
            guard let hi = Self.hexDigit(b[i * 3]), let lo = Self.hexDigit(b[i * 3 + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
        }
        self.bytes = bytes
    }

    /// The I/G bit (bit 0 of the first byte): a group address, which no interface may have.
    public var isMulticast: Bool { bytes.first.map { $0 & 1 != 0 } ?? false }

    public var text: String {
        let digits = Array("0123456789abcdef".utf8)
        var s: [UInt8] = []
        for (i, x) in bytes.enumerated() {
            if i > 0 { s.append(UInt8(ascii: ":")) }
            s.append(digits[Int(x >> 4)]); s.append(digits[Int(x & 15)])
        }
        return String(decoding: s, as: UTF8.self)
    }

    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
