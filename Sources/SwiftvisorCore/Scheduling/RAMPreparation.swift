/// Zeroing (and cleaning) a VM's RAM before its next boot, a bounded piece at a time, so that
/// the work runs with the hypervisor lock released and a guest rebooting in a loop cannot hold
/// every core waiting (issue 11 §1). The VM stays `.rebooting` meanwhile: none of its vCPUs
/// runs and no other domain maps its pages, so nothing but the core holding a piece touches
/// its RAM. One core at a time holds a piece; progress outlives a destroy and a `create`
/// (the guest did not run in between), and starts over once the guest has run again.
public struct RAMPreparation {
    /// A piece of RAM, by offset from its start, that one core zeroes with the lock released.
    public struct Piece: Equatable {
        public let offset: UInt64
        public let length: UInt64
        public init(offset: UInt64, length: UInt64) { self.offset = offset; self.length = length }
    }

    /// The RAM's size, and the most one piece covers.
    public let size: UInt64
    public let pieceSize: UInt64
    /// Bytes zeroed so far, from the start.
    public private(set) var done: UInt64 = 0
    /// The core working on a piece now (nil between pieces).
    public private(set) var worker: Int?

    public init(size: UInt64, pieceSize: UInt64) {
        precondition(pieceSize > 0, "pieces must make progress")
        self.size = size
        self.pieceSize = pieceSize
    }

    /// Every byte is zeroed: the guest may be loaded.
    public var isComplete: Bool { done >= size }

    /// The next piece, now `core`'s to zero; nil when all is done or another core holds one.
    public mutating func claim(core: Int) -> Piece? {
        guard worker == nil, !isComplete else { return nil }
        worker = core
        return Piece(offset: done, length: min(pieceSize, size - done))
    }

    /// `core` zeroed the first `zeroed` bytes of the piece it claimed (all of it, or less when
    /// it stopped early for an interrupt: the rest is the next piece).
    public mutating func finish(core: Int, zeroed: UInt64) {
        precondition(worker == core, "only the core that claimed a piece finishes it")
        precondition(zeroed <= min(pieceSize, size - done), "no more than the piece")
        done += zeroed
        worker = nil
    }

    /// The guest ran again (its RAM is no longer fresh): the next boot zeroes all of it.
    public mutating func restart() {
        precondition(worker == nil, "no piece may be in progress")
        done = 0
    }
}
