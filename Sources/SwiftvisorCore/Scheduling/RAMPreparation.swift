/// A VM's RAM made ready for its next boot — zeroed (and cleaned), then its boot images
/// (kernel segments, initrd) copied in — a bounded piece at a time, so that the work runs with
/// the hypervisor lock released and a guest rebooting in a loop, or one being built, cannot
/// hold every core waiting (issue 11 §1). The VM stays `.rebooting` meanwhile: none of its
/// vCPUs runs and no other domain maps its pages, so nothing but the core holding a piece
/// touches its RAM. One core at a time holds a piece; progress outlives a destroy and a
/// `create` (the guest did not run in between, and its images do not change), and starts over
/// once the guest has run again.
public struct RAMPreparation {
    /// Bytes copied into the RAM at each boot: `length` bytes from host address `source`
    /// (boot modules, which never change) to `offset` from the RAM's start.
    public struct Copy: Equatable {
        public let source: UInt64
        public let offset: UInt64
        public let length: UInt64
        public init(source: UInt64, offset: UInt64, length: UInt64) {
            self.source = source; self.offset = offset; self.length = length
        }
    }

    /// A piece of RAM, by offset from its start, that one core prepares with the lock
    /// released: zeroes it (`source` nil) or copies it from host address `source`.
    public struct Piece: Equatable {
        public let offset: UInt64
        public let length: UInt64
        public let source: UInt64?
        public init(offset: UInt64, length: UInt64, source: UInt64? = nil) {
            self.offset = offset; self.length = length; self.source = source
        }
    }

    /// The RAM's size, and the most one piece covers.
    public let size: UInt64
    public let pieceSize: UInt64
    /// What each boot copies in after the zeroing; nil until planned (`plan`).
    public private(set) var copies: [Copy]?
    /// Bytes zeroed so far, from the start.
    public private(set) var done: UInt64 = 0
    /// Copies finished so far, and bytes of the next one copied.
    public private(set) var copiesDone = 0
    public private(set) var copied: UInt64 = 0
    /// The core working on a piece now (nil between pieces).
    public private(set) var worker: Int?

    public init(size: UInt64, pieceSize: UInt64) {
        precondition(pieceSize > 0, "pieces must make progress")
        self.size = size
        self.pieceSize = pieceSize
    }

    /// Every byte is zeroed.
    public var isZeroed: Bool { done >= size }

    /// Zeroed, and every planned copy made: the guest may start.
    public var isComplete: Bool { isZeroed && copies.map { copiesDone == $0.count } ?? false }

    /// The images each boot copies in (the same at every boot). Empty copies are left out;
    /// each must lie inside the RAM.
    public mutating func plan(_ copies: [Copy]) {
        precondition(worker == nil && copiesDone == 0 && copied == 0, "planned before any copying")
        for c in copies { precondition(c.offset <= size && c.length <= size - c.offset, "copies stay inside the RAM") }
        self.copies = copies.filter { $0.length > 0 }
    }

    /// The next piece, now `core`'s to prepare: RAM to zero, then, once all is zeroed and the
    /// copies are planned, bytes to copy. Nil when all is done, when another core holds a
    /// piece, or when the copies are not planned yet.
    public mutating func claim(core: Int) -> Piece? {
        guard worker == nil, !isComplete else { return nil }
        if !isZeroed {
            worker = core
            return Piece(offset: done, length: min(pieceSize, size - done))
        }
        guard let copies else { return nil }
        let c = copies[copiesDone]
        worker = core
        return Piece(offset: c.offset + copied, length: min(pieceSize, c.length - copied), source: c.source + copied)
    }

    /// `core` prepared the first `prepared` bytes of the piece it claimed (all of it, or less
    /// when it stopped early for an interrupt: the rest is the next piece).
    public mutating func finish(core: Int, prepared: UInt64) {
        precondition(worker == core, "only the core that claimed a piece finishes it")
        worker = nil
        if !isZeroed {
            precondition(prepared <= min(pieceSize, size - done), "no more than the piece")
            done += prepared
            return
        }
        let length = copies![copiesDone].length
        precondition(prepared <= min(pieceSize, length - copied), "no more than the piece")
        copied += prepared
        if copied == length { copiesDone += 1; copied = 0 }
    }

    /// The guest ran again (its RAM is no longer fresh): the next boot zeroes all of it and
    /// copies its images again.
    public mutating func restart() {
        precondition(worker == nil, "no piece may be in progress")
        done = 0
        copiesDone = 0
        copied = 0
    }
}
