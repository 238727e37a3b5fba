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
/// - after an exit, its core sends until the last byte it appended has gone (its mark; at most
///   `perProducingExit` bytes per exit, the rest at its next exit): a guest that floods pays
///   with its own core's time, and a core never leaves its own bytes waiting for another
///   core's, whoever sends the bytes queued ahead of them;
/// - a core with nothing to run sends `perIdleTurn` bytes per turn of its idle loop, and does not
///   sleep while any byte waits;
/// - before the scheduler starts, and from a panic or power-off on, output is synchronous
///   (`finish`: what is queued goes first, then bytes go straight to the UART).
/// Guests' bytes that do not fit (leaving `reservedForHypervisor`) are dropped and counted; the
/// hypervisor's own wait for room, which cannot deadlock: the drainer never takes the lock.
///
/// (Marks, not counts: counting the bytes a core appended and sent lost typed input. A core
/// that sent others' bytes ahead of its line took them as its own and stopped owing; its line
/// stayed queued behind them, owed by a core asleep in WFI, which had found the flag taken
/// before sleeping; the host types only once it has seen the line that asks for input.)
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
        while !ring.append(byte) {
            // Full: send some ourselves, or let the core that holds the flag send (it does not
            // need the lock we hold).
            if ring.drain(budget: 64, send) == 0 { spin_wait_hint() }
        }
        if read_tpidr_el2() != 0 {
            this_core().pointee.console_mark = console_ring_load_produced()
            this_core().pointee.console_waiting = 1
        }
    }

    static func send(_ byte: UInt8) { Console.transmit(byte) }

    /// After an exit, the lock released, output waiting: this core's bytes go out (and what is
    /// queued ahead of them), at most `perProducingExit` of them sent by this core; bytes
    /// appended after its own are left to their cores. Another core holding the flag is waited
    /// for, outside the lock: it sends the same bytes.
    @inline(never)
    static func afterExit() {
        let mark = this_core().pointee.console_mark
        ring.drain(through: mark, budget: ConsoleOutputBudget.perProducingExit, wait: { spin_wait_hint() }, send)
        // Nothing of ours waits any more: the next exits cost one load (others' bytes are
        // their cores' or an idle core's to send).
        if !ring.isWaiting(through: mark) { this_core().pointee.console_waiting = 0 }
    }

    /// A turn of an idle core's loop (the lock released): true while bytes wait, so that the
    /// core comes back for them instead of sleeping in WFI (nothing would wake it for them).
    /// Another core holding the flag is waited for here, outside the lock, until it gives the
    /// flag back, the ring empties or a physical interrupt is pending (ISR_EL1.I at EL2).
    static func idleTurn() -> Bool {
        guard console_ring_pending() != 0 else { return false }
        if ring.drain(budget: ConsoleOutputBudget.perIdleTurn, send) == 0 {
            while console_drain_holder() != 0 && console_ring_pending() != 0 && read_isr_el1() == 0 { spin_wait_hint() }
        }
        return console_ring_pending() != 0
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
