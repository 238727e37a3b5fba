/// One column of the scheduler's tables (a value per vCPU, per core or per guest), in storage
/// allocated once and grown only while guests are added at boot. Reading and writing an
/// element is one load or store: unlike an `Array` held by a class, a write neither checks
/// uniqueness nor may copy (what cost the world switch about 300 instructions, docs/performance.md).
/// Elements are plain values (no references), so storage is moved bit for bit when it grows.
@usableFromInline
struct SchedulerColumn<Element> {
    @usableFromInline private(set) var base: UnsafeMutablePointer<Element>
    private(set) var capacity: Int

    init(count: Int, repeating value: Element) {
        capacity = max(count, 4)
        base = .allocate(capacity: capacity)
        // SAFETY: `base` has room for `capacity` >= `count` elements.
        base.initialize(repeating: value, count: count)
    }

    @inlinable
    subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    /// Makes room for element `count` (the next one appended), keeping the first `count`.
    mutating func reserve(_ count: Int) {
        guard count >= capacity else { return }
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        // SAFETY: both hold `count` <= capacity initialised elements; the old storage is left uninitialised.
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }

    /// Adds `value` as element `count`.
    mutating func append(_ value: Element, count: Int) {
        reserve(count)
        // SAFETY: `reserve` made room for element `count`.
        (base + count).initialize(to: value)
    }

    func release(count: Int) {
        // SAFETY: the first `count` elements are initialised; no view outlives the scheduler.
        base.deinitialize(count: count)
        base.deallocate()
    }
}

/// A read-only view of one of the scheduler's columns (`CreditScheduler.states`, ...): valid
/// until the next vCPU is added.
public struct SchedulerColumnView<Element>: RandomAccessCollection {
    @usableFromInline let base: UnsafeMutablePointer<Element>
    public let count: Int

    @inlinable init(_ column: SchedulerColumn<Element>, count: Int) {
        base = column.base
        self.count = count
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }
    @inlinable public subscript(i: Int) -> Element { base[i] }
}
