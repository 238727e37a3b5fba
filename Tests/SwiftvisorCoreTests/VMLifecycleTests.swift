import XCTest
@testable import SwiftvisorCore

/// A guest's states and the transitions between them, as the console's `list` shows them.
final class VMLifecycleTests: XCTestCase {
    func test_a_guest_with_autostart_runs_its_first_boot() {
        let vm = VMLifecycle(autostart: true)
        XCTAssertEqual(vm.phase, .running)
        XCTAssertEqual(vm.boots, 1)
        XCTAssertEqual(vm.status(anyVCPUActive: true), .running)
        XCTAssertEqual(vm.status(anyVCPUActive: false), .blocked, "every vCPU waits in WFI")
    }

    func test_a_guest_without_autostart_waits_for_create_then_starts_at_boot_1() {
        var vm = VMLifecycle(autostart: false)
        XCTAssertEqual(vm.status(anyVCPUActive: false), .notStarted)
        XCTAssertTrue(vm.create())
        XCTAssertEqual(vm.status(anyVCPUActive: false), .starting)
        vm.beginBoot()
        XCTAssertEqual(vm.boots, 1)
        vm.booted()
        XCTAssertEqual(vm.phase, .running)
    }

    func test_finished_is_terminal_and_the_first_ending_stands() {
        var vm = VMLifecycle(autostart: true)
        XCTAssertTrue(vm.finish(.shutDown(.poweroff, exitCode: 0)))
        // A trap of one of its vCPUs, handled late by another core, must not change it.
        XCTAssertFalse(vm.finish(.stopped("Data Abort outside RAM")))
        XCTAssertFalse(vm.reboot(), "a late SYSTEM_RESET does not revive it")
        XCTAssertFalse(vm.setPaused(true))
        XCTAssertEqual(vm.phase, .finished)
        XCTAssertEqual(vm.status(anyVCPUActive: false), .shutDown(.poweroff, exitCode: 0))
    }

    func test_create_is_the_only_way_out_of_finished() {
        var vm = VMLifecycle(autostart: true)
        vm.finish(.destroyed)
        XCTAssertEqual(vm.status(anyVCPUActive: false), .destroyed)
        XCTAssertTrue(vm.create())
        XCTAssertEqual(vm.boots, 0)
        XCTAssertFalse(vm.create(), "already starting")
    }

    func test_a_reboot_goes_through_rebooting_and_counts_the_boot() {
        var vm = VMLifecycle(autostart: true)
        XCTAssertTrue(vm.reboot())
        XCTAssertEqual(vm.status(anyVCPUActive: false), .rebooting)
        XCTAssertFalse(vm.reboot(), "only a running guest reboots")
        vm.beginBoot()
        vm.booted()
        XCTAssertEqual(vm.boots, 2)
        XCTAssertEqual(vm.status(anyVCPUActive: true), .running)
    }

    func test_a_reboot_loop_is_refused_after_the_maximum_boots() {
        var vm = VMLifecycle(autostart: true)
        for _ in 1..<VMLifecycle.maximumBoots {
            XCTAssertTrue(vm.reboot()); vm.beginBoot(); vm.booted()
        }
        XCTAssertEqual(vm.boots, VMLifecycle.maximumBoots)
        XCTAssertFalse(vm.mayBootAgain)
        XCTAssertFalse(vm.reboot())
        XCTAssertEqual(vm.phase, .running, "the caller stops it")
        vm.finish(.stopped("rebooted too many times"))
        XCTAssertEqual(vm.status(anyVCPUActive: false), .stopped("rebooted too many times"))
    }

    func test_a_guest_being_rebooted_may_be_destroyed() {
        var vm = VMLifecycle(autostart: true)
        vm.reboot()
        XCTAssertTrue(vm.finish(.destroyed))
        XCTAssertEqual(vm.phase, .finished)
    }

    func test_pause_and_unpause_only_a_running_guest() {
        var vm = VMLifecycle(autostart: true)
        XCTAssertFalse(vm.setPaused(false), "not paused")
        XCTAssertTrue(vm.setPaused(true))
        XCTAssertFalse(vm.setPaused(true), "already paused")
        XCTAssertEqual(vm.status(anyVCPUActive: true), .paused)
        XCTAssertTrue(vm.setPaused(false))
        XCTAssertEqual(vm.status(anyVCPUActive: true), .running)
        vm.reboot()
        XCTAssertFalse(vm.setPaused(true), "a rebooting guest cannot be paused")
    }

    func test_a_crash_shows_until_the_next_boot() {
        var vm = VMLifecycle(autostart: true)
        vm.noteCrash()
        XCTAssertEqual(vm.status(anyVCPUActive: true), .crashed)
        vm.setPaused(true)
        XCTAssertEqual(vm.status(anyVCPUActive: true), .paused, "paused shows first, as before")
        vm.setPaused(false)
        vm.reboot(); vm.beginBoot(); vm.booted()
        XCTAssertFalse(vm.crashed)
        XCTAssertEqual(vm.status(anyVCPUActive: true), .running)
    }

    func test_status_names_are_xl_list_words() {
        XCTAssertEqual(VMLifecycle.Status.crashed.name.description, "crashed (kernel panic)")
        XCTAssertEqual(VMLifecycle.Status.stopped("x").name.description, "stopped: ")
        XCTAssertNotEqual(VMLifecycle.Status.stopped("a"), .stopped("b"))
    }
}
