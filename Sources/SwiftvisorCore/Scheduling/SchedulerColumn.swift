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

/// A column of optional slots (a vCPU's core, a core's vCPU) stored as one `Int`, -1 for none:
/// an `Int?` takes 9 bytes, which with strict alignment is read and written a byte at a time.
@usableFromInline
struct SchedulerSlotColumn {
    @usableFromInline var column: SchedulerColumn<Int>

    init(count: Int) { column = SchedulerColumn(count: count, repeating: -1) }

    @inlinable
    subscript(i: Int) -> Int? {
        get { let value = column[i]; return value < 0 ? nil : value }
        nonmutating set { column[i] = newValue ?? -1 }
    }

    mutating func append(_ value: Int?, count: Int) { column.append(value ?? -1, count: count) }
    func release(count: Int) { column.release(count: count) }
}

/// A read-only view of a `SchedulerSlotColumn` (`CreditScheduler.runningOn`, `lastOnCore`).
public struct SchedulerSlotView: RandomAccessCollection {
    @usableFromInline let base: UnsafeMutablePointer<Int>
    public let count: Int

    @inlinable init(_ column: SchedulerSlotColumn, count: Int) {
        base = column.column.base
        self.count = count
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }
    @inlinable public subscript(i: Int) -> Int? { let value = base[i]; return value < 0 ? nil : value }
}
