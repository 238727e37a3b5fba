import XCTest
@testable import SwiftvisorCore

/// CreditScheduler driven by a fake clock (ticks are microseconds: 5 ms slices, 10 ms cap
/// periods, as on the hypervisor) with guests that behave as the attack tests' guests do.
final class CreditSchedulerTests: XCTestCase {
    enum Behaviour {
        case spin
        /// Runs `run` then blocks (WFI) for `sleep`, in a loop.
        case periodic(run: UInt64, sleep: UInt64)
    }

    /// One core running `guests` for `duration`; returns each one's run time and the longest
    /// wait between a wake-up and being picked.
    struct Run {
        var ran: [UInt64]
        var worstWakeLatency: [UInt64]
        /// Times a wake-up took the core from the vCPU running it before its slice ended.
        var wakeupPreemptions: Int
    }

    func simulate(_ guests: [(Behaviour, weight: UInt32, cap: UInt32)], for duration: UInt64) -> Run {
        let s = CreditScheduler(cores: 1, slice: 5_000, period: 10_000)
        for (i, g) in guests.enumerated() { _ = s.add(.runnable, group: i, weight: g.weight, cap: g.cap) }
        var ran = Array(repeating: UInt64(0), count: guests.count)
        var sinceWake = ran, wakeAt = Array(repeating: UInt64?.none, count: guests.count)
        var wokenAt = Array(repeating: UInt64?.none, count: guests.count), latency = ran
        var now: UInt64 = 0, preemptions = 0
        var current = s.next(core: 0, now: now)
        while now < duration {
            var until = duration
            if let c = current {
                until = min(until, s.sliceEnd(core: 0))
                if case .periodic(let run, _) = guests[c].0 { until = min(until, now + run - sinceWake[c]) }
            } else if let refill = s.nextRefill(now: now) { until = min(until, refill) }
            for w in wakeAt { if let w { until = min(until, w) } }
            let step = max(until, now + 1) - now
            if let c = current { ran[c] += step; sinceWake[c] += step; s.charge(c, ticks: step, now: now + step) }
            now += step
            var reschedule = current == nil || now >= s.sliceEnd(core: 0)
            if let c = current, case .periodic(let run, let sleep) = guests[c].0, sinceWake[c] >= run {
                s.block(c, now: now); sinceWake[c] = 0; wakeAt[c] = now + sleep
                reschedule = true
            }
            for i in guests.indices { if let w = wakeAt[i], now >= w {
                wakeAt[i] = nil; s.wake(i, now: now); wokenAt[i] = now
                if s.shouldPreempt(i, core: 0, now: now) {
                    if !reschedule, current != nil { preemptions += 1 }
                    reschedule = true
                }
            } }
            if reschedule {
                if let c = current, s.states[c] != .runnable { s.stopRunning(core: 0) }
                current = s.next(core: 0, now: now)
                if let c = current, let w = wokenAt[c] { latency[c] = max(latency[c], now - w); wokenAt[c] = nil }
            }
        }
        return Run(ran: ran, worstWakeLatency: latency, wakeupPreemptions: preemptions)
    }

    func test_a_booster_waking_every_4_ms_gets_no_more_than_half_of_the_core() {
        // The attack: run ~4 ms, arm the timer 50 us ahead, WFI, loop.
        let r = simulate([(.periodic(run: 4_000, sleep: 50), 256, 0), (.spin, 256, 0)], for: 3_000_000)
        XCTAssertGreaterThanOrEqual(r.ran[1], 1_400_000, "the spinner beside the booster gets its half: \(r.ran)")
        // The booster gives the core away after each 4 ms burst and keeps only 50 us of lag
        // per nap, so it gets its bursts against the spinner's 5 ms slices: about 4/9.
        XCTAssertGreaterThanOrEqual(r.ran[0], 1_250_000, "and the booster nearly its own: \(r.ran)")
        XCTAssertEqual(r.wakeupPreemptions, 0, "a 50 us nap earns 50 us of credit: the spinner keeps its slices")
    }

    func test_a_wakeup_credit_is_at_most_the_time_slept() {
        let s = CreditScheduler(cores: 1, slice: 5_000)
        let a = s.add(.runnable), b = s.add(.runnable, group: 1)
        XCTAssertEqual(s.next(core: 0, now: 0), a)
        s.charge(a, ticks: 20_000, now: 20_000)
        XCTAssertEqual(s.next(core: 0, now: 20_000), b)
        s.block(b, now: 20_000)
        s.stopRunning(core: 0)
        XCTAssertEqual(s.next(core: 0, now: 20_000), a)   // the floor is now a's 20_000
        s.wake(b, now: 20_050)
        XCTAssertEqual(s.virtualRuntime[b], 20_000 - 50, "50 us of sleep: 50 us of credit")
        XCTAssertFalse(s.shouldPreempt(b, core: 0, now: 20_050))
        s.block(b, now: 20_050)
        s.charge(a, ticks: 980_000, now: 1_000_000)
        XCTAssertEqual(s.next(core: 0, now: 1_000_000), a)
        s.wake(b, now: 1_000_000)
        XCTAssertEqual(s.virtualRuntime[b], 1_000_000 - s.sleeperCredit, "a long sleep: sleeperCredit")
        XCTAssertTrue(s.shouldPreempt(b, core: 0, now: 1_000_000), "a long sleeper runs at once")
    }

    func test_a_short_booster_cannot_use_its_wakeups_either() {
        let r = simulate([(.periodic(run: 900, sleep: 10), 256, 0), (.spin, 256, 0)], for: 3_000_000)
        XCTAssertGreaterThanOrEqual(r.ran[1], 1_400_000, "\(r.ran)")
    }

    func test_a_real_sleeper_runs_at_once_when_it_wakes() {
        let r = simulate([(.periodic(run: 100, sleep: 10_000), 256, 0), (.spin, 256, 0)], for: 1_000_000)
        XCTAssertEqual(r.worstWakeLatency[0], 0, "it preempts the spinner on every wake-up")
        XCTAssertGreaterThanOrEqual(r.ran[0], 9_000, "it ran each time it woke: \(r.ran)")
    }

    func test_weights_2_to_1_give_shares_2_to_1() {
        let r = simulate([(.spin, 512, 0), (.spin, 256, 0)], for: 3_000_000)
        let ratio = Double(r.ran[0]) / Double(r.ran[1])
        XCTAssertEqual(ratio, 2.0, accuracy: 0.1, "\(r.ran)")
        let booster = simulate([(.periodic(run: 4_000, sleep: 50), 256, 0), (.spin, 512, 0)], for: 3_000_000)
        XCTAssertEqual(Double(booster.ran[1]) / Double(booster.ran[0]), 2.0, accuracy: 0.2, "\(booster.ran)")
    }

    func test_a_cap_holds_alone_and_beside_others() {
        let alone = simulate([(.spin, 256, 25)], for: 1_000_000)
        XCTAssertEqual(Double(alone.ran[0]) / 1_000_000, 0.25, accuracy: 0.01, "cap = 25 % of a core, idle or not")
        let beside = simulate([(.spin, 256, 25), (.spin, 256, 0)], for: 1_000_000)
        XCTAssertEqual(Double(beside.ran[0]) / 1_000_000, 0.25, accuracy: 0.01, "\(beside.ran)")
        XCTAssertEqual(beside.ran[0] + beside.ran[1], 1_000_000, "the other guest gets the rest")
        let uncapped = simulate([(.spin, 256, 0)], for: 1_000_000)
        XCTAssertEqual(uncapped.ran[0], 1_000_000)
    }

    func test_a_parked_guest_is_refilled_in_the_next_period() {
        let s = CreditScheduler(cores: 1, slice: 5_000, period: 10_000)
        let a = s.add(.runnable, group: 0, cap: 10)
        XCTAssertEqual(s.next(core: 0, now: 0), a)
        XCTAssertEqual(s.sliceEnd(core: 0), 1_000, "the slice ends where the budget does")
        s.charge(a, ticks: 1_000, now: 1_000)
        XCTAssertNil(s.next(core: 0, now: 1_000), "parked")
        s.stopRunning(core: 0)
        XCTAssertFalse(s.canRun(core: 0, now: 1_000))
        XCTAssertEqual(s.nextRefill(now: 1_000), 10_000)
        XCTAssertTrue(s.canRun(core: 0, now: 10_000))
        XCTAssertEqual(s.next(core: 0, now: 10_000), a)
        s.charge(a, ticks: 2_500, now: 12_500)   // an overrun is carried
        XCTAssertEqual(s.nextRefill(now: 12_500), 30_000)
    }

    func test_a_newcomer_and_a_long_sleeper_start_at_the_floor() {
        let s = CreditScheduler(cores: 1, slice: 5_000)
        let a = s.add(.runnable), b = s.add(.blocked, group: 1)
        XCTAssertEqual(s.next(core: 0, now: 0), a)
        s.charge(a, ticks: 1_000_000, now: 1_000_000)
        XCTAssertEqual(s.next(core: 0, now: 1_000_000), a)
        s.wake(b)
        XCTAssertEqual(s.virtualRuntime[b], 1_000_000 - s.sleeperCredit, "a second of sleep is not a second of credit")
        XCTAssertTrue(s.shouldPreempt(b, core: 0, now: 1_000_000))
        let c = s.add(.off, group: 2)
        s.setState(c, .runnable)
        XCTAssertEqual(s.virtualRuntime[c], 1_000_000, "CPU_ON starts a vCPU at the floor")
    }

    func test_a_vcpu_keeps_its_slice_unless_one_far_behind_wakes() {
        let s = CreditScheduler(cores: 1, slice: 5_000)
        let a = s.add(.runnable), b = s.add(.runnable, group: 1)
        XCTAssertEqual(s.next(core: 0, now: 0), a)
        s.charge(a, ticks: 500, now: 500)
        XCTAssertEqual(s.next(core: 0, now: 500), a, "b is only 0.5 ms behind: a's slice goes on")
        XCTAssertFalse(s.shouldPreempt(b, core: 0, now: 500))
        s.charge(a, ticks: 1_500, now: 2_000)
        XCTAssertTrue(s.shouldPreempt(b, core: 0, now: 2_000))
        XCTAssertEqual(s.next(core: 0, now: 2_000), b)
    }

    func test_a_yield_lets_the_others_go_first() {
        let s = CreditScheduler(cores: 1)
        let a = s.add(.runnable), b = s.add(.runnable, group: 1)
        XCTAssertEqual(s.next(core: 0, now: 0), a)
        s.charge(b, ticks: 100, now: 0)
        s.yield(core: 0)
        XCTAssertEqual(s.next(core: 0, now: 0), b, "though b has run more")
        s.setState(a, .off)
        s.yield(core: 0)
        XCTAssertEqual(s.next(core: 0, now: 0), b, "alone, it goes on")
    }

    func test_every_runnable_vcpu_goes_in_turn() {
        let s = CreditScheduler()
        let a = s.add(.runnable), b = s.add(.off), c = s.add(.runnable)
        var now: UInt64 = 0
        func slice(_ expected: Int, line: UInt = #line) {
            XCTAssertEqual(s.next(core: 0, now: now), expected, line: line)
            now += s.slice; s.charge(expected, ticks: s.slice, now: now)
        }
        slice(a); slice(c); slice(a)
        s.setState(b, .runnable)
        slice(b)
        s.setState(a, .finished); s.setState(b, .finished)
        slice(c); slice(c)
        s.setState(c, .finished)
        XCTAssertNil(s.next(core: 0, now: now))
        XCTAssertFalse(s.hasRunnable)
    }

    func test_a_vcpu_runs_on_one_core_at_a_time() {
        let s = CreditScheduler(cores: 2)
        let a = s.add(.runnable), b = s.add(.runnable)
        XCTAssertEqual(s.next(core: 0), a)
        XCTAssertEqual(s.next(core: 1), b, "a is running on core 0")
        XCTAssertEqual(Array(s.runningOn), [0, 1])
        XCTAssertEqual(s.next(core: 0, now: 10_000), a, "b is busy: core 0 keeps a")
        s.stopRunning(core: 1)
        XCTAssertEqual(s.next(core: 0, now: 20_000), b)
        XCTAssertEqual(Array(s.runningOn), [nil, 0])
        XCTAssertEqual(s.next(core: 1, now: 20_000), a)
    }

    func test_finished_is_terminal() {
        let s = CreditScheduler(cores: 2)
        let a = s.add(.runnable)
        s.setState(a, .finished)
        s.setState(a, .blocked)   // a late WFI handled on another core
        XCTAssertEqual(s.states[a], .finished)
        XCTAssertFalse(s.wake(a))
        XCTAssertFalse(s.hasLive)
    }

    func test_affinity_pins_vcpus_to_cores() {
        let s = CreditScheduler(cores: 2)
        let pinned = s.add(.runnable, affinity: 0b10)
        XCTAssertNil(s.next(core: 0))
        XCTAssertEqual(s.next(core: 1), pinned)
        XCTAssertEqual(s.coreToKick(for: pinned, idleCores: 0b01, except: nil, now: 0), nil, "core 1 runs it already")
        let any = s.add(.runnable, group: 1)
        XCTAssertEqual(s.affinity[any], 0b11)
        XCTAssertEqual(s.coreToKick(for: any, idleCores: 0b10, except: nil, now: 0), 1, "an idle core first")
        XCTAssertEqual(s.coreToKick(for: any, idleCores: 0b01, except: nil, now: 0), 0)
        XCTAssertEqual(s.next(core: 0), any)
        let other = s.add(.blocked, affinity: 0b01, group: 2)
        s.wake(other)
        XCTAssertNil(s.coreToKick(for: other, idleCores: 0b10, except: nil, now: 0), "core 1 is not allowed; core 0's vCPU is not far ahead")
    }

    func test_a_paused_vcpu_is_not_scheduled_and_a_finished_one_can_be_revived() {
        let s = CreditScheduler(cores: 1)
        let a = s.add(.runnable), b = s.add(.runnable, group: 1)
        s.setPaused(a, true)
        XCTAssertEqual(s.next(core: 0), b)
        XCTAssertEqual(s.next(core: 0, now: 100_000), b)
        XCTAssertTrue(s.hasLive, "a paused guest keeps the machine up")
        s.stopRunning(core: 0)
        s.setState(b, .finished)
        XCTAssertFalse(s.canRun(core: 0))
        s.setPaused(a, false)
        XCTAssertTrue(s.canRun(core: 0))
        s.revive(b)
        XCTAssertEqual(s.states[b], .off)
    }

    func test_a_vcpu_that_moves_keeps_its_lag_behind_its_core() {
        let s = CreditScheduler(cores: 2, slice: 5_000)
        let x = s.add(.runnable, affinity: 0b10), y = s.add(.runnable, group: 1), z = s.add(.runnable, affinity: 0b01, group: 2)
        XCTAssertEqual(s.next(core: 0, now: 0), y)
        XCTAssertEqual(s.next(core: 1, now: 0), x)
        s.charge(x, ticks: 10_000_000, now: 10_000_000)
        s.charge(y, ticks: 5_000_000, now: 10_000_000)
        XCTAssertEqual(s.next(core: 1, now: 10_000_000), x)
        XCTAssertEqual(s.next(core: 0, now: 10_000_000), z, "z has run nothing")
        XCTAssertEqual(s.runtime(y, on: 1), 15_000_000, "y is 5 s ahead of core 0's floor, so of core 1's too")
        XCTAssertEqual(s.next(core: 1, now: 20_000_000), x, "y does not take core 1 from x for 5 s")
    }
}
