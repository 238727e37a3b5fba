/// Writes a cpio archive in the "newc" format, which Linux unpacks as its initramfs
/// (Documentation/driver-api/early-userspace/buffer-format.rst): per entry a 110-byte ASCII
/// header, the NUL-terminated name and the data, each padded to 4 bytes; "TRAILER!!!" ends it.
public struct CPIOArchive {
    public private(set) var bytes: [UInt8] = []
    private var inode: UInt32 = 1

    public init() {}

    public enum Kind {
        case directory
        case file([UInt8], executable: Bool)
        case characterDevice(major: UInt32, minor: UInt32)
    }

    public mutating func add(_ path: String, _ kind: Kind) {
        let mode: UInt32, data: [UInt8], rdev: (UInt32, UInt32)
        switch kind {
        case .directory: mode = 0o040755; data = []; rdev = (0, 0)
        case .file(let contents, let executable): mode = executable ? 0o100755 : 0o100644; data = contents; rdev = (0, 0)
        case .characterDevice(let major, let minor): mode = 0o020600; data = []; rdev = (major, minor)
        }
        append(name: path, mode: mode, data: data, rdev: rdev)
    }

    /// The finished archive.
    public func finish() -> [UInt8] {
        var copy = self
        copy.append(name: "TRAILER!!!", mode: 0, data: [], rdev: (0, 0))
        return copy.bytes
    }

    private mutating func append(name: String, mode: UInt32, data: [UInt8], rdev: (UInt32, UInt32)) {
        let nameBytes = Array(name.utf8) + [0]
        let fields: [UInt32] = [inode, mode, 0, 0, mode & 0o040000 != 0 ? 2 : 1, 0, UInt32(data.count),
                                0, 0, rdev.0, rdev.1, UInt32(nameBytes.count), 0]
        inode += 1
        bytes.append(contentsOf: Array("070701".utf8))
        for f in fields { bytes.append(contentsOf: Self.hex8(f)) }
        bytes.append(contentsOf: nameBytes)
        while bytes.count % 4 != 0 { bytes.append(0) }
        bytes.append(contentsOf: data)
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    static func hex8(_ v: UInt32) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return (0..<8).reversed().map { digits[Int(v >> (UInt32($0) * 4) & 0xF)] }
    }
}
