import CArch
import SwiftvisorCore

/// The console output ring's memory: a static buffer and counters in C (arch.h), so that the
/// exit path's "anything to send?" is two loads with no Swift global initialisation.
struct ConsoleRingMemory: ConsoleOutputStorage {
    var capacity: Int { Int(CONSOLE_RING_SIZE) }
    func loadByte(_ slot: Int) -> UInt8 { console_ring_load_byte(UInt64(slot)) }
    func storeByte(_ slot: Int, _ value: UInt8) { console_ring_store_byte(UInt64(slot), value) }
    func loadProduced() -> UInt64 { console_ring_load_produced() }
    func storeProduced(_ value: UInt64) { console_ring_store_produced(value) }
    func loadConsumed() -> UInt64 { console_ring_load_consumed() }
    func storeConsumed(_ value: UInt64) { console_ring_store_consumed(value) }
    func tryAcquireDrain() -> Bool { console_drain_try_acquire(ConsoleOutput.drainerID) != 0 }
    func releaseDrain() { console_drain_release() }
}

/// Console output once guests run (issue 11 §1): producers append to the ring with the
/// hypervisor lock held; the UART's busy-wait happens outside the lock, on the core that took
/// the drain flag, a bounded chunk at a time:
/// - after an exit, its core sends as many bytes as it appended (at most `perProducingExit`;
///   what it could not send is owed at its next exit): a guest that floods pays with its own
///   core's time, a core that printed one byte does not send another core's lines;
/// - a core with nothing to run sends `perIdleTurn` bytes per turn of its idle loop;
/// - before the scheduler starts, and from a panic or power-off on, output is synchronous
///   (`finish`: what is queued goes first, then bytes go straight to the UART).
/// Guests' bytes that do not fit (leaving `reservedForHypervisor`) are dropped and counted; the
/// hypervisor's own wait for room, which cannot deadlock: the drainer never takes the lock.
enum ConsoleOutput {
    static var ring: ConsoleOutputRing<ConsoleRingMemory> { ConsoleOutputRing(ConsoleRingMemory()) }

    /// Guests' bytes dropped for want of room, by guest index.
    nonisolated(unsafe) static var drops = [ConsoleOutputDrops](repeating: ConsoleOutputDrops(), count: Limits.guests)

    /// Drain flag value for this core: its index + 1 (a core not yet installed: 0x8000_0000).
    static var drainerID: UInt32 {
        read_tpidr_el2() == 0 ? 0x8000_0000 : UInt32(truncatingIfNeeded: this_core().pointee.core) &+ 1
    }

    /// Appends one byte (the lock held); waits for room rather than lose it.
    static func append(_ byte: UInt8) {
        if read_tpidr_el2() != 0 {
            let core = this_core().pointee.core
            console_set_appended(core, console_appended_by(core) &+ 1)
        }
        while !ring.append(byte) {
            // Full: send some ourselves, or let the core that holds the flag send (it does not
            // need the lock we hold).
            if ring.drain(budget: 64, send) == 0 { spin_wait_hint() }
        }
    }

    static func send(_ byte: UInt8) { Console.uart?.put(byte) }

    /// After an exit, the lock released, output waiting: this core's share of sending it.
    @inline(never)
    static func afterExit() {
        let core = this_core().pointee.core
        let owed = Int(console_appended_by(core))
        guard owed > 0 else { return }   // others' bytes: their cores (or an idle one) send them
        // Another core holding the flag sends a bounded chunk (perProducingExit, perIdleTurn):
        // wait for it, outside the lock, rather than leave this core's bytes queued until its
        // next exit, which may be far off (its guest WFIs, or spins alone on the core); the
        // holder's budget counts bytes, not whose they are, so it may have sent ours or not.
        let budget = ConsoleOutputBudget.afterExit(owed: owed)
        var sent = 0
        while sent < budget && console_ring_pending() != 0 {
            let n = ring.drain(budget: budget - sent, send)
            if n == 0 { spin_wait_hint() }
            sent += n
        }
        // What it sent counts against what it appended; the rest is owed at its next exit
        // (nothing once the ring is empty: another core sent it).
        console_set_appended(core, console_ring_pending() != 0 ? UInt32(truncatingIfNeeded: max(owed - sent, 0)) : 0)
    }

    /// A turn of an idle core's loop (the lock released): true when it sent bytes and more
    /// wait, so the core comes back for them instead of sleeping. (Sending none: another core
    /// holds the flag, and looks again when it gives it back.)
    static func idleTurn() -> Bool {
        guard console_ring_pending() != 0 else { return false }
        return ring.drain(budget: ConsoleOutputBudget.perIdleTurn, send) > 0 && console_ring_pending() != 0
    }

    /// From now on output is synchronous (panic, power-off): everything queued is sent first.
    /// A core holding the flag (or stuck holding it) is waited for at most a second; a panic
    /// inside this core's own drain does not wait for itself.
    static func finish() {
        guard Console.buffered else { return }
        let me = drainerID
        var acquired = false
        if console_drain_holder() != me {
            let deadline = read_cntpct_el0() &+ read_cntfrq_el0()
            while !acquired && read_cntpct_el0() < deadline { acquired = console_drain_try_acquire(me) != 0 }
        }
        ring.drainHoldingFlag(budget: Int.max, send)
        Console.buffered = false
        ring.drainHoldingFlag(budget: Int.max, send)   // appended meanwhile by another core
        if acquired { console_drain_release() }
    }
}

extension VirtualMachine {
    /// Whether `guestBytes` of this guest's console output (with `framing` bytes of our own:
    /// name prefix, line end, stream switch) fit in the ring now. If not, they are dropped and
    /// counted: the first drop is reported, and how much was lost once output fits again.
    func consoleFits(_ guestBytes: Int, framing: Int) -> Bool {
        guard Console.buffered else { return true }
        // (+ 2: the partial line another guest may have to end first)
        if ConsoleOutputBudget.admitsGuest(guestBytes + framing + 2, room: ConsoleOutput.ring.room) {
            if let lost = ConsoleOutput.drops[index].fits() {
                Console.logGuest(name, "' console output resumes: "); Console.decimal(lost); Console.write(" bytes were dropped\n")
            }
            return true
        }
        if ConsoleOutput.drops[index].drop(guestBytes) {
            Console.logGuest(name, "' writes to its console faster than the physical console sends: its output is dropped until there is room\n")
        }
        return false
    }
}
