import Foundation
import XCTest
@testable import SwiftvisorHost

/// Boots QEMU with the hypervisor and asserts what a user sees: console lines, each guest's
/// outcome, the verdict. Every test runs on a CPU without VHE (cortex-a57) and with it (max);
/// the main ones also with the hypervisor in VHE mode (max --vhe, HCR_EL2.E2H = 1), and on a
/// GICv2 host (virt,gic-version=2 with a cortex-a53), whose guests get a GICv2.
/// On failure the whole console log is attached to the message.
final class SystemTests: XCTestCase {
    static let cpus = ["cortex-a57", "max"]
    /// A QEMU CPU model, whether the hypervisor is asked for E2H = 1 (`--vhe`), and the
    /// version of `virt`'s GIC.
    struct Machine: CustomStringConvertible {
        var cpu: String
        var vhe = false
        var gic = 3
        var board = Board.virt
        var description: String {
            board == .virt ? (vhe ? cpu + " --vhe" : cpu) + (gic == 3 ? "" : " gic-version=\(gic)") : "--machine \(board.rawValue)"
        }
    }
    static let gicv2 = Machine(cpu: "cortex-a53", gic: 2)
    /// Every machine, or those whose description contains $SWIFTVISOR_TEST_MACHINE (e.g.
    /// "gic-version=2": one machine's runs while working on it).
    static let machines = only([Machine(cpu: "cortex-a57"), Machine(cpu: "max"), Machine(cpu: "max", vhe: true), gicv2])
    static func only<T: CustomStringConvertible>(_ list: [T]) -> [T] {
        guard let only = ProcessInfo.processInfo.environment["SWIFTVISOR_TEST_MACHINE"] else { return list }
        return list.filter { $0.description.contains(only) }
    }
    /// The board models (QEMU 10, fetched into the cache once): their own CPUs, GIC-400 and
    /// 4 cores; the demo, isolation, SMP and the Linux pair run on them.
    static let boards = only([Machine(cpu: "cortex-a72", gic: 2, board: .raspi4b), Machine(cpu: "cortex-a53", gic: 2, board: .zcu102)])
    /// A GICv3 machine and the GICv2 one, for the longer Linux runs.
    static let bothGICs = only([Machine(cpu: "cortex-a57"), gicv2])
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")

    func run(_ config: URL, cpu: String, vhe: Bool = false, gic: Int = 3, board: Board = .virt, cores: Int = 2, timeout: Double = 60) throws -> SystemRunner.Outcome {
        var options = SystemRunner.Options()
        options.board = board
        options.cpu = cpu
        options.vhe = vhe
        options.gicVersion = gic
        options.cores = cores
        options.timeout = timeout
        options.echo = false
        return try SystemRunner(log: { _ in }).run(config, options: options)
    }

    func log(_ o: SystemRunner.Outcome) -> String { "\n--- console ---\n" + o.lines.joined(separator: "\n") }

    func test_demo_guests_print_and_power_off() throws {
        // Every CPU model virt is offered with (--cpu), every GIC, every board.
        for machine in Self.machines + Self.boards + Self.only([Machine(cpu: "cortex-a72")]) {
            let cpu = machine.description
            let o = try run(ProjectLayout.current.examples.appendingPathComponent("demo.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic,
                            board: machine.board, timeout: 120)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            for (name, text) in [("alpha", "I am alpha"), ("beta", "I am beta")] {
                let lines = o.report.guestLines[name] ?? []
                XCTAssertTrue(lines.contains("hello from a swiftvisor guest: \(text)"), cpu + log(o))
                XCTAssertTrue(lines.contains("xen_version says 4.17 (via console_io)"), cpu + log(o))
                XCTAssertEqual(lines.last, "goodbye", cpu + log(o))
            }
            let mode = machine.vhe ? "VHE present, used (VHE mode, E2H=1"
                : machine.cpu == "max" ? "VHE present, not used (nVHE mode, E2H=0" : "VHE not present (nVHE mode, E2H=0)"
            XCTAssertTrue(o.lines.contains { $0.contains(mode) }, cpu + log(o))
            XCTAssertTrue(o.lines.contains { $0.contains("interrupt controller: GICv\(machine.gic), ") }, cpu + log(o))
        }
    }

    func test_every_hypercall_answers_as_documented() throws {
        for machine in Self.machines {
            let cpu = machine.description
            let o = try run(systems.appendingPathComponent("hypercalls.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            let lines = o.report.guestLines["hypercalls"] ?? []
            XCTAssertFalse(lines.contains { $0.hasPrefix("FAIL") }, cpu + log(o))
            XCTAssertEqual(lines.filter { $0.hasPrefix("ok ") }.count, 55, cpu + log(o))
            for line in ["ok xen_version(XENVER_version)", "ok capabilities are 'xen-3.0-aarch64 '",
                         "ok features submap 0 = 0x16005", "ok commandline is '<denied>' to a domU", "ok build_id -> -EPERM",
                         "ok get_features, unmapped buffer -> -EFAULT", "ok pagesize with a buffer -> -EINVAL",
                         "ok vm_assist(enable, writable_pagetables) -> -EINVAL", "ok HVM_PARAM_STORE_PFN is the magic page 0x39001",
                         "ok hvm_op(set_param, CALLBACK_IRQ) -> -EPERM", "ok multicall nested multicall -> -EINVAL",
                         "ok multicall runs every entry (pagesize 4096 in 4..39)", "ok multicall, unmapped list -> -EFAULT", "ok guest_handle is the config's uuid"] {
                XCTAssertTrue(lines.contains(line), line + " " + cpu + log(o))
            }
        }
    }

    /// Guests/grants: a page granted by one guest is mapped, read, written, copied and unmapped
    /// by the other over a ballooned-out hole; every refusal answers Xen's GNTST_*/errno.
    func test_grant_tables_share_pages_between_guests() throws {
        for machine in Self.machines {
            let cpu = machine.description
            let o = try run(systems.appendingPathComponent("grants.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            let granter = o.report.guestLines["granter"] ?? [], grantee = o.report.guestLines["grantee"] ?? []
            XCTAssertFalse((granter + grantee).contains { $0.hasPrefix("FAIL") }, cpu + log(o))
            for line in ["ok entry 10 shows GTF_reading|GTF_writing while mapped", "ok the grantee's write reached the granted page",
                         "ok decrease_reservation of a page another domain maps -> 0 done", "ok the page comes back zeroed",
                         "ok the grantee's shutdown released its mapping of ref 13", "0 failure(s)"] {
                XCTAssertTrue(granter.contains(line), line + " " + cpu + log(o))
            }
            for line in ["ok reads the granter's data through the grant", "ok writing a read-only grant: a data abort, and the guest goes on",
                         "ok map of a grant to domain 3 -> GNTST_general_error", "ok map of an entry not granted -> GNTST_general_error",
                         "ok map of ref 1024 (two frames: refs 0-1023) -> GNTST_bad_gntref", "ok the copy holds the granter's data",
                         "ok unmap it again -> GNTST_bad_handle", "ok a populated page is zeroed (no trace of the grant)",
                         "ok set_version(2) -> -ENOSYS (v1 only)", "ok grant_table_op(transfer) -> -EOPNOTSUPP (no PV guests on Arm)",
                         "ok get_status_frames(1): GNTST_general_error (v1 has none)",
                         "ok 4608 mappings at once (grant window and ballooned-out RAM)", "ok all of them unmap -> GNTST_okay",
                         "0 failure(s)"] {
                XCTAssertTrue(grantee.contains(line), line + " " + cpu + log(o))
            }
            XCTAssertNil(o.report.panic, cpu + log(o))
        }
    }

    /// A granter that reboots while its page is mapped: the mapping is orphaned (the watcher's
    /// own zeroed page, no fault) before the granter's RAM is zeroed for the new boot, whose
    /// grant table and memory are fresh; the watcher unmaps it and maps the new boot's grant.
    func test_a_rebooting_granter_takes_its_pages_back() throws {
        for machine in Self.machines {
            let cpu = machine.description
            let o = try run(systems.appendingPathComponent("grants-reboot.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            let watcher = o.report.guestLines["watcher"] ?? [], rebooter = o.report.guestLines["rebooter"] ?? []
            for line in ["ok the old mapping never faulted across the rebooter's reboot",
                         "ok the old mapping reads zeros once the rebooter has gone",
                         "ok the old mapping never shows the new boot's data",
                         "ok mapped the rebooted granter's new grant of the same ref",
                         "ok unmap of the orphaned mapping -> GNTST_okay", "ok its place is a hole again (faults)",
                         "ok the new grant shows the new boot's data", "ok unmap of the new mapping -> GNTST_okay"] {
                XCTAssertTrue(watcher.contains(line), line + " " + cpu + log(o))
            }
            for line in ["ok after the reboot the page is zeroed", "ok after the reboot the grant frame is no longer mapped",
                         "ok the watcher mapped the new boot's grant"] {
                XCTAssertTrue(rebooter.contains(line), line + " " + cpu + log(o))
            }
            XCTAssertFalse((watcher + rebooter).contains { $0.hasPrefix("FAIL") }, cpu + log(o))
        }
    }

    /// Event channels, shared_info, vcpu_info, runstate, poll and block (Guests/evtchn), within
    /// each guest and between the two, on a GICv3 machine without and with VHE hardware and on GICv2.
    func test_event_channels_within_and_between_guests() throws {
        for machine in Self.only([Machine(cpu: "cortex-a57"), Machine(cpu: "max"), Self.gicv2]) {
            let cpu = machine.description
            let o = try run(systems.appendingPathComponent("evtchn.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            for name in ["first", "second"] {
                let lines = o.report.guestLines[name] ?? []
                XCTAssertFalse(lines.contains { $0.hasPrefix("FAIL") }, name + " " + cpu + log(o))
                XCTAssertEqual(lines.filter { $0.hasPrefix("ok ") }.count, name == "first" ? 97 : 93, name + " " + cpu + log(o))
                for line in ["ok add_to_physmap(shared_info) -> 0", "ok wallclock: wc_sec after 2023 (the host's real time)",
                             "ok registering raises the event upcall (PPI 31 taken)", "ok register_vcpu_info crossing its page -> -ENXIO",
                             "ok runstate: running, entry time set, update flag clear", "ok the event arrives on the other end",
                             "ok unmask delivers what was pending", "ok the other end is unbound for this domain",
                             "ok init_control (FIFO) -> -EOPNOTSUPP", "ok poll with a timeout past -> 0",
                             "ok block unmasked interrupts: the upcall ran", "ok 20 events each way between the two domains"] {
                    XCTAssertTrue(lines.contains(line), line + " " + name + " " + cpu + log(o))
                }
            }
            XCTAssertTrue(o.report.guestLines["second"]?.contains("ok the peer closed: this end is unbound for it") ?? false, cpu + log(o))
            XCTAssertTrue(o.report.guestLines["first"]?.contains("ok /hypervisor is compatible with xen,xen-4.17") ?? false, cpu + log(o))
            XCTAssertTrue(o.report.guestLines["second"]?.contains("ok no /hypervisor node (enhanced = \"disabled\")") ?? false, cpu + log(o))
        }
    }

    func test_a_guest_cannot_reach_memory_it_was_not_given() throws {
        for machine in Self.machines + Self.boards {
            let cpu = machine.description
            let o = try run(systems.appendingPathComponent("isolation.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic,
                            board: machine.board, timeout: 120)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            let probe = o.report.guestLines["probe"] ?? []
            XCTAssertTrue(probe.contains("isolation probe: 24 attempts, 0 not refused"), cpu + log(o))
            XCTAssertFalse(probe.contains { $0.contains("TOP-SECRET") || $0.contains("READ") || $0.contains("WRITTEN") }, cpu + log(o))
            XCTAssertTrue(probe.contains("probe own RAM: no trace of another guest's secret"), cpu + log(o))
            XCTAssertEqual(o.report.guestLines["secret"]?.last, "secret intact", cpu + log(o))
        }
    }

    func test_misbehaving_guests_are_contained() throws {
        for machine in Self.machines {
            let cpu = machine.description
            let o = try run(systems.appendingPathComponent("misbehaving.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic, timeout: 20)
            // The spinner never stops, so the run ends by timeout; everything else finished.
            XCTAssertEqual(o.verdict, .timedOut, cpu + log(o))
            XCTAssertNil(o.report.outcomes["spinner"], cpu + log(o))
            XCTAssertTrue(o.report.succeeded("hello"), cpu + log(o))
            XCTAssertEqual(o.report.guestLines["hello"]?.last, "goodbye", cpu + log(o))
            XCTAssertTrue(o.report.succeeded("badcalls"), cpu + log(o))
            XCTAssertTrue(o.report.guestLines["badcalls"]?.contains("0 failure(s)") ?? false, cpu + log(o))
            // (No early return: the next CPU model's run must not be skipped.)
            if case .stopped(let cause)? = o.report.outcomes["crasher"] {
                XCTAssertTrue(cause.contains("EC 0x20") && cause.contains("IPA 0x200") && cause.contains("PC 0x200"), cause)
            } else {
                XCTFail("crasher not stopped" + log(o))
            }
            XCTAssertNil(o.report.panic, cpu + log(o))
        }
    }

    func test_virtual_interrupts_timers_and_ipis() throws {
        for machine in Self.machines {
            let cpu = machine.description
            let o = try run(systems.appendingPathComponent("interrupts.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic, timeout: 90)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            let timer = o.report.guestLines["timer"] ?? []
            XCTAssertTrue(timer.contains { $0.hasPrefix("virtual timer: ") && $0.hasSuffix(": ok") }, cpu + log(o))
            XCTAssertTrue(timer.contains { $0.hasPrefix("physical timer: ") && $0.hasSuffix(": ok") }, cpu + log(o))
            // Eight SGIs with priorities A0 20 E0 40 80 10 C0 60 arrive in priority order,
            // though only four list registers exist.
            XCTAssertEqual(o.report.guestLines["priorities"]?.last, "order: 5 1 3 7 4 0 6 2 (ok)", cpu + log(o))
            XCTAssertTrue(o.report.guestLines["ipi"]?.contains("ipi ping-pong: 200 pings, 200 pongs of 200 (ok)") ?? false, cpu + log(o))
            XCTAssertEqual(o.report.guestLines["ipi"]?.last, "vCPU 1 is off (PSCI CPU_OFF, AFFINITY_INFO)", cpu + log(o))
            XCTAssertEqual(o.report.guestLines["hog"]?.last, "done hogging", cpu + log(o))
        }
    }

    func test_smp_vcpus_spread_over_cores_and_honour_pinning() throws {
        for (machine, cores) in Self.only([(Machine(cpu: "cortex-a57"), 2), (Machine(cpu: "max"), 2), (Machine(cpu: "max", vhe: true), 2),
                                           (Machine(cpu: "cortex-a57"), 3), (Self.gicv2, 2)].map { CoreCount(machine: $0.0, cores: $0.1) }
                                          + Self.boards.map { CoreCount(machine: $0, cores: 4) }).map { ($0.machine, $0.cores) } {
            let o = try run(systems.appendingPathComponent("smp.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic, board: machine.board,
                            cores: cores, timeout: 120)
            let what = "\(machine), \(cores) cores"
            XCTAssertEqual(o.verdict, .success, what + log(o))
            XCTAssertTrue(o.lines.contains("swiftvisor: starting 4 guest(s) on \(cores) core(s)"), what + log(o))
            XCTAssertEqual(o.report.guestLines["ring4"]?.last, "token ring over 4 vCPUs: 100 of 100 laps (ok)", what + log(o))
            for g in ["ipi-a", "ipi-b"] {
                XCTAssertTrue(o.report.guestLines[g]?.contains("ipi ping-pong: 200 pings, 200 pongs of 200 (ok)") ?? false, what + log(o))
            }
            XCTAssertEqual(o.report.vcpuCores["pinned"], [[1]], "cpus = [1] keeps it on core 1; " + what + log(o))
            let used = Set(o.report.vcpuCores.values.flatMap { $0.flatMap { $0 } })
            XCTAssertEqual(used, Set(0..<cores), "every core ran vCPUs; " + what + log(o))
        }
    }

    struct CoreCount: CustomStringConvertible {
        var machine: Machine, cores: Int
        var description: String { "\(machine), \(cores) cores" }
    }

    func test_a_passed_through_device_and_its_interrupt_reach_only_its_guest() throws {
        for machine in Self.machines {
            let cpu = machine.description
            let o = try run(systems.appendingPathComponent("passthrough.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic, timeout: 60)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            let rtc = o.report.guestLines["rtc"] ?? []
            XCTAssertTrue(rtc.contains("PL031 PeriphID0: 0x31"), "the device's own registers; " + cpu + log(o))
            XCTAssertEqual(rtc.last, "rtc alarm interrupts: 3 of 3 (ok)", cpu + log(o))
            XCTAssertTrue(o.report.guestLines["probe"]?.contains {
                $0.hasPrefix("probe PL031 RTC, 64-bit IPA 0x9010000: read refused") } ?? false, cpu + log(o))
        }
    }

    /// Lines of a Linux guest's boot that mean something went wrong.
    static let linuxTrouble = ["Oops", "rcu_sched self-detected stall", "rcu: INFO", "Unable to handle", "unhandled",
                               "WARNING:", "BUG:", "Kernel panic", "Internal error"]

    func linuxChecks(_ o: SystemRunner.Outcome, guest: String, what: String, gic: Int = 3) {
        let lines = o.report.guestLines[guest] ?? []
        for bad in Self.linuxTrouble {
            XCTAssertFalse(lines.contains { $0.contains(bad) }, "\(guest) printed '\(bad)'; \(what)" + log(o))
        }
        if gic == 3 {
            XCTAssertTrue(lines.contains { $0.contains("GICv3: CPU0: found redistributor 0") }, what + log(o))
        } else {
            XCTAssertFalse(lines.contains { $0.contains("GICv3") }, "a GICv2 guest; " + what + log(o))
        }
        XCTAssertTrue(lines.contains { $0.contains("arch_timer: cp15 timer(s) running at") && $0.contains("(virt)") }, what + log(o))
        XCTAssertTrue(lines.contains { $0.contains("ttyAMA0 at MMIO 0x9000000") }, what + log(o))
        XCTAssertTrue(lines.contains { $0.contains("psci: PSCIv1.1 detected in firmware.") }, what + log(o))
        // Xen's guest interface (docs/xen.md): the /hypervisor node, shared_info, every CPU's vcpu_info.
        XCTAssertTrue(lines.contains { $0.contains("Xen 4.17 support found") }, what + log(o))
        XCTAssertTrue(lines.contains { $0.contains("xen:events: Using 2-level ABI") }, what + log(o))
        XCTAssertTrue(lines.contains { $0.contains("Xen: initializing cpu1") }, what + log(o))
        XCTAssertTrue(lines.contains { $0.contains("smp: Brought up 1 node, 2 CPUs") }, what + log(o))
        XCTAssertTrue(lines.contains { $0.hasPrefix("swiftvisor-init: uname: Linux \(guest) ") && $0.hasSuffix("aarch64 GNU/Linux") }, what + log(o))
        XCTAssertTrue(lines.contains("swiftvisor-init: cpus: 2"), what + log(o))
        XCTAssertTrue(lines.contains { $0.hasPrefix("swiftvisor-init: memory: MemTotal:") }, what + log(o))
        XCTAssertTrue(lines.contains { $0.contains("Memory: ") && $0.contains("/262144K available") }, "256 MiB; " + what + log(o))
        // The timer interrupt count goes up across a one-second sleep.
        if let line = lines.first(where: { $0.hasPrefix("swiftvisor-init: timer interrupts: ") }) {
            let counts = line.split(separator: " ").compactMap { Int($0) }
            XCTAssertEqual(counts.count, 2, line)
            if counts.count == 2 { XCTAssertGreaterThan(counts[1], counts[0], line) }
        } else { XCTFail("no timer interrupt line; " + what + log(o)) }
        XCTAssertTrue(o.report.succeeded(guest), what + log(o))
    }

    func test_linux_boots_to_its_init_and_powers_off() throws {
        let config = try LinuxSystem.prepare(guests: ["solo"]) { _ in }
        for machine in Self.machines {
            let cpu = machine.description
            let o = try run(config, cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic, timeout: 240)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            linuxChecks(o, guest: "solo", what: cpu, gic: machine.gic)
        }
    }

    func test_two_linux_guests_side_by_side() throws {
        // The full pair on one CPU model per GIC (README: CI time); the single guest runs on all.
        let config = try LinuxSystem.prepare(guests: ["alpha", "beta"]) { _ in }
        for machine in Self.bothGICs + Self.boards {
            let what = "pair, \(machine)"
            let o = try run(config, cpu: machine.cpu, gic: machine.gic, board: machine.board, timeout: 300)
            XCTAssertEqual(o.verdict, .success, what + log(o))
            for (guest, other) in [("alpha", "beta"), ("beta", "alpha")] {
                linuxChecks(o, guest: guest, what: what, gic: machine.gic)
                let lines = o.report.guestLines[guest] ?? []
                XCTAssertTrue(lines.contains("swiftvisor-init: marker file: guest-\(guest)"), what + log(o))
                XCTAssertTrue(lines.contains("swiftvisor-init: markers seen: guest-\(guest) "), what + log(o))
                XCTAssertFalse(lines.contains { $0.contains("guest-\(other)") }, "\(guest) saw \(other)'s marker; " + what + log(o))
            }
        }
    }

    func test_a_rebooting_linux_guest_restarts_with_fresh_memory() throws {
        // "crasher" panics on its first boot (sysrq c) and, with panic=-1, restarts.
        let config = try LinuxSystem.prepare(guests: ["rebooter", "steady", "crasher"],
                                             extraArguments: ["rebooter": "swiftvisor.reboot-test",
                                                              "crasher": "swiftvisor.panic-test panic=-1"]) { _ in }
        let o = try run(config, cpu: "cortex-a57", timeout: 300)
        XCTAssertEqual(o.verdict, .success, log(o))
        let lines = o.report.guestLines["rebooter"] ?? []
        XCTAssertEqual(lines.filter { $0 == "swiftvisor-init: /init started" }.count, 2, log(o))
        XCTAssertTrue(lines.contains("swiftvisor-init: rebooting"), log(o))
        XCTAssertTrue(lines.contains("swiftvisor-init: boot: 2"), log(o))
        XCTAssertTrue(o.lines.contains("swiftvisor: guest 'rebooter' rebooting (boot 2)"), log(o))
        XCTAssertEqual(o.report.guestLines["steady"]?.filter { $0 == "swiftvisor-init: /init started" }.count, 1, log(o))
        linuxChecks(o, guest: "steady", what: "beside a rebooting guest")
        // The panic is reported (in the run summary, from the guest's own console), the guest
        // restarts and finishes, and the others are unharmed.
        XCTAssertTrue(o.report.kernelPanics["crasher"]?.hasPrefix("Kernel panic - not syncing: sysrq triggered crash") ?? false, log(o))
        XCTAssertTrue(o.summary.contains { $0.hasPrefix("  crasher: poweroff, exit code 0 (it reported: Kernel panic") }, "\(o.summary)")
        XCTAssertTrue(o.lines.contains("swiftvisor: guest 'crasher' rebooting (boot 2)"), log(o))
        // The hypervisor saw the panic itself (the console's `list` shows the guest crashed).
        XCTAssertTrue(o.lines.contains("swiftvisor: guest 'crasher' crashed: its kernel panicked"), log(o))
        XCTAssertTrue(o.report.crashed.contains("crasher"), log(o))
        XCTAssertTrue(o.report.guestLines["crasher"]?.contains("swiftvisor-init: boot: 2") ?? false, log(o))
    }

    /// Scripted typing: the closure sees each console line and may answer with keystrokes.
    final class Typist: @unchecked Sendable {
        var step = 0
        let lock = NSLock()
        let script: (Typist, String) -> String?
        init(_ script: @escaping (Typist, String) -> String?) { self.script = script }
        func answer(_ line: String) -> String? { lock.lock(); defer { lock.unlock() }; return script(self, line) }
    }

    func runTyping(_ config: URL, cpu: String, gic: Int = 3, _ typist: Typist) throws -> SystemRunner.Outcome {
        var options = SystemRunner.Options()
        options.cpu = cpu
        options.gicVersion = gic
        options.timeout = 240
        options.echo = false
        options.input = .respond { typist.answer($0) }
        return try SystemRunner(log: { _ in }).run(config, options: options)
    }

    func test_a_linux_shell_driven_through_the_console() throws {
        let config = try LinuxSystem.prepare(guests: ["shell"], shell: true) { _ in }
        for machine in Self.only(Self.cpus.map { Machine(cpu: $0) } + [Self.gicv2]) {
            let cpu = machine.description
            let typist = Typist { _, line in
                if line == "shell | swiftvisor-init: done" {
                    return "uname -a; grep -c ^processor /proc/cpuinfo; grep -c arch_timer /proc/interrupts; echo typed-$((6*7))\n"
                }
                return line == "shell | typed-42" ? "poweroff -f\n" : nil
            }
            let o = try runTyping(config, cpu: machine.cpu, gic: machine.gic, typist)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            let lines = o.report.guestLines["shell"] ?? []
            // The answers to what was typed (the echoed command line itself has "$((6*7))").
            XCTAssertTrue(lines.contains { $0.hasPrefix("Linux shell ") && $0.hasSuffix("aarch64 GNU/Linux") }, cpu + log(o))
            XCTAssertTrue(lines.contains("2"), "2 processors; " + cpu + log(o))
            XCTAssertTrue(lines.contains("1"), "one arch_timer line in /proc/interrupts; " + cpu + log(o))
            XCTAssertTrue(lines.contains("typed-42"), cpu + log(o))
            linuxChecks(o, guest: "shell", what: cpu, gic: machine.gic)
        }
    }

    func test_console_input_switches_between_guests_and_the_hypervisor() throws {
        let config = try LinuxSystem.prepare(guests: ["alpha", "beta"], shell: true) { _ in }
        let escape = "\u{1D}"   // Ctrl-]: the hypervisor console
        for machine in Self.bothGICs {
            let typist = Typist { t, line in
                switch (t.step, line) {
                case (0, "alpha | swiftvisor-init: done"), (0, "beta | swiftvisor-init: done"):
                    t.step = line.hasPrefix("alpha") ? 1 : 2; return nil
                case (1, "beta | swiftvisor-init: done"), (2, "alpha | swiftvisor-init: done"):
                    // Input starts with alpha; alpha also tries to forge a hypervisor message (a
                    // DLE 'h' stream switch): its DLE is doubled, so the line stays alpha's.
                    t.step = 3; return "printf '\\020hswiftvisor: guest FORGED\\n'; echo in-$((1+1))-alpha\n"
                case (3, let l) where l.hasSuffix("in-2-alpha") && l.hasPrefix("alpha | "):
                    t.step = 4; return escape + "console beta\necho in-$((1+2))-beta\n"  // now beta
                case (4, let l) where l.hasSuffix("in-3-beta") && l.hasPrefix("beta | "):
                    t.step = 5; return escape + "list\n"                               // the hypervisor console
                case (5, let l) where l.hasPrefix("swiftvisor: beta ") && (l.hasSuffix("running") || l.hasSuffix("blocked")):
                    t.step = 6; return "console alpha\npoweroff -f\n"                  // back to alpha
                case (6, let l) where l.hasPrefix("swiftvisor: guest 'alpha' shut down"):
                    t.step = 7; return escape + "console beta\npoweroff -f\n"          // then beta
                default: return nil
                }
            }
            let o = try runTyping(config, cpu: machine.cpu, gic: machine.gic, typist)
            XCTAssertEqual(o.verdict, .success, "\(machine)" + log(o))
            let alpha = o.report.guestLines["alpha"] ?? [], beta = o.report.guestLines["beta"] ?? []
            XCTAssertTrue(alpha.contains { $0.hasSuffix("in-2-alpha") } && !beta.contains { $0.hasSuffix("in-2-alpha") }, "\(machine)" + log(o))
            XCTAssertTrue(beta.contains { $0.hasSuffix("in-3-beta") } && !alpha.contains { $0.hasSuffix("in-3-beta") }, "\(machine)" + log(o))
            XCTAssertTrue(o.lines.contains("swiftvisor: input goes to guest 'beta'"), "\(machine)" + log(o))
            XCTAssertFalse(o.lines.contains("swiftvisor: guest FORGED"), "a guest forged a hypervisor line; \(machine)" + log(o))
            XCTAssertTrue(alpha.contains("?hswiftvisor: guest FORGED"), "\(machine)" + log(o))
            XCTAssertTrue(o.lines.contains { $0.hasPrefix("swiftvisor: Name ") && $0.hasSuffix("State") }, "\(machine)" + log(o))
            // A shell waiting for input is blocked (all its vCPUs in WFI); one printing is running.
            XCTAssertTrue(o.lines.contains { $0.hasPrefix("swiftvisor: alpha ") && $0.contains(" 2       256 ")
                && ($0.hasSuffix("running") || $0.hasSuffix("blocked")) }, "\(machine)" + log(o))
        }
    }

    func test_pinning_to_a_missing_core_is_rejected() throws {
        XCTAssertThrowsError(try run(systems.appendingPathComponent("smp.toml"), cpu: "cortex-a57", cores: 1)) { error in
            let messages = (error as? [ConfigError])?.map(\.description) ?? []
            XCTAssertTrue(messages.contains { $0.contains("'cpus': guest 'pinned' names core 1, but the machine has 1 core(s) (--cores)") }, "\(messages)")
        }
    }

    func test_a_bad_description_is_rejected_before_qemu_starts() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).toml")
        try "[[guest]]\nname = \"x\"\nkernel = \"guest:nosuchguest\"\nmemory = 8\nspeed = 3\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try run(file, cpu: "cortex-a57")) { error in
            let messages = (error as? [ConfigError])?.map(\.description) ?? []
            XCTAssertTrue(messages.contains { $0.hasSuffix(":5: 'speed': unknown key; a [[guest]] takes name, kernel, memory, vcpus, cmdline, ramdisk, cpus, iomem, irqs, autostart, uuid, layout, enhanced, vif, disk, weight, cap") }, "\(messages)")
            XCTAssertTrue(messages.contains { $0.contains("no built-in guest by that name") }, "\(messages)")
        }
    }

    func test_refuses_to_run_below_el2() throws {
        var options = SystemRunner.Options()
        options.virtualization = false
        options.timeout = 10
        options.echo = false
        let o = try SystemRunner(log: { _ in }).run(ProjectLayout.current.examples.appendingPathComponent("demo.toml"), options: options)
        XCTAssertTrue(o.lines.contains("swiftvisor: entered at EL1, but swiftvisor must be entered at EL2 (QEMU: -M virt,virtualization=on). Stopping."), log(o))
        XCTAssertTrue(o.report.outcomes.isEmpty, log(o))
        XCTAssertNotEqual(o.verdict, .success)
    }

    func test_no_fp_or_simd_registers_at_el2() throws {
        // The hypervisor keeps guests' V0-V31 live across exits; only fpsimd.S may touch them.
        var builder = ImageBuilder(toolchain: try Toolchain())
        builder.log = { _ in }
        _ = try builder.buildHypervisor()
        let elf = ProjectLayout.current.buildDirectory.appendingPathComponent("obj/hypervisor/swiftvisor.elf")
        let listing = try Shell.run(try Toolchain().path("llvm-objdump"), ["-d", "--no-show-raw-insn", elf.path])
        var function = "", offenders: [String] = []
        for line in listing.split(separator: "\n") {
            if line.hasSuffix(">:") { function = String(line); continue }
            let fields = line.split(separator: "\t")
            guard fields.count >= 3, !function.contains("fp_state_") else { continue }
            let operands = fields[2...].joined(separator: " ")
            if operands.range(of: #"(^|[ ,\[{])[qvdsbh][0-9]{1,2}([ ,.\]}]|$)"#, options: .regularExpression) != nil
                || fields[1].hasPrefix("f") && !fields[1].hasPrefix("fmov x") {
                offenders.append("\(function) \(line)")
            }
        }
        XCTAssertEqual(offenders.prefix(10), [], "FP/SIMD use outside fpsimd.S")
        XCTAssertTrue(listing.contains("<fp_state_save>:"))
    }

    func test_the_command_line_tool_exits_with_the_verdict() throws {
        // The built binary, run as a user would: exit 0 only when every guest powered off cleanly.
        let tool = try SwiftvisorTool.url()
        func status(_ args: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = tool
            p.arguments = args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run(); p.waitUntilExit()
            return p.terminationStatus
        }
        XCTAssertEqual(try status(["demo"]), 0)
        XCTAssertEqual(try status(["run", systems.appendingPathComponent("misbehaving.toml").path, "--timeout", "15"]), 3)
        XCTAssertEqual(try status(["check", "/nonexistent.toml"]), 2)
    }
}
