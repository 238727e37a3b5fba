import CArch
import SwiftvisorCore

/// The heap behind Embedded Swift's allocations (posix_memalign/free): power-of-two size
/// classes with free lists, carved from a static arena. Only boot and slow paths allocate;
/// the trap path does not.
enum Heap {
        nonisolated(unsafe) static var arena: UnsafeMutableRawPointer?
    nonisolated(unsafe) static var next = 0
    nonisolated(unsafe) static var freeLists: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                                               UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                                               UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    static let headerSize = 16

    static func sizeClass(_ bytes: Int) -> Int {
        var c = 5  // 32 bytes at least
        while (1 << c) < bytes { c += 1 }
        return c
    }

    static func allocate(size: Int, alignment: Int) -> UnsafeMutableRawPointer? {
        guard let arena else { return nil }
        let align = max(alignment, headerSize)
        let c = sizeClass(size + align + headerSize)
        guard c < 24 else { return nil }
        var block: UInt64 = withUnsafeMutableBytes(of: &freeLists) { $0.load(fromByteOffset: c * 8, as: UInt64.self) }
        if block != 0 {
            // SAFETY: a free block's first word links to the next free block of its class.
            let following = UnsafeMutablePointer<UInt64>(bitPattern: UInt(block))!.pointee
            withUnsafeMutableBytes(of: &freeLists) { $0.storeBytes(of: following, toByteOffset: c * 8, as: UInt64.self) }
        } else {
            guard UInt64(UInt(bitPattern: arena)) + UInt64(next + (1 << c)) <= heap_end() else { return nil }
            block = UInt64(UInt(bitPattern: arena + next))
            next += 1 << c
        }
        let user = alignUp(block + UInt64(headerSize), UInt64(align))
        // SAFETY: the header lies inside the block, before the returned pointer.
        let header = UnsafeMutablePointer<UInt64>(bitPattern: UInt(user) - UInt(headerSize))!
        header[0] = block
        header[1] = UInt64(c)
        return UnsafeMutableRawPointer(bitPattern: UInt(user))
    }

    /// What guest-driven growth (a grant maptrack) must leave untouched for everything else.
    static let guestReserve = 1 << 20

    /// True if `size` bytes can be allocated with `guestReserve` bytes of fresh arena still
    /// free afterwards (a free block of the right class always does).
    static func hasRoom(for size: Int, alignment: Int = 16) -> Bool {
        guard let arena else { return false }
        let c = sizeClass(size + max(alignment, headerSize) + headerSize)
        guard c < 24 else { return false }
        let free: UInt64 = withUnsafeMutableBytes(of: &freeLists) { $0.load(fromByteOffset: c * 8, as: UInt64.self) }
        if free != 0 { return true }
        return UInt64(UInt(bitPattern: arena)) + UInt64(next + (1 << c) + guestReserve) <= heap_end()
    }

    static func release(_ p: UnsafeMutableRawPointer) {
        let header = (p - headerSize).assumingMemoryBound(to: UInt64.self)
        let block = header[0], c = Int(header[1])
        let head = withUnsafeMutableBytes(of: &freeLists) { $0.load(fromByteOffset: c * 8, as: UInt64.self) }
        UnsafeMutablePointer<UInt64>(bitPattern: UInt(block))!.pointee = head
        withUnsafeMutableBytes(of: &freeLists) { $0.storeBytes(of: block, toByteOffset: c * 8, as: UInt64.self) }
    }
}

@_cdecl("swiftvisor_heap_allocate")
func swiftvisorHeapAllocate(_ size: Int, _ alignment: Int) -> UnsafeMutableRawPointer {
    guard let p = Heap.allocate(size: size, alignment: alignment) else {
        // Allocates nothing: the message holds a StaticString.
        Console.log(.panic("hypervisor heap exhausted"))
        Firmware.systemOff(conduit: Firmware.psciConduit)   // the machine stops, not hangs
    }
    return p
}

@_cdecl("swiftvisor_heap_release")
func swiftvisorHeapRelease(_ p: UnsafeMutableRawPointer) { Heap.release(p) }
