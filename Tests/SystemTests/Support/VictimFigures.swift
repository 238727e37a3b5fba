import Foundation
import XCTest
import SwiftvisorCore
@testable import SwiftvisorHost

/// What Guests/victim reports of one run: it spins with interrupts masked for `victim-seconds`
/// of counter time and prints
///
///     victim: ran R ms of T ms (P %), longest gap G us, gaps over 1 ms: N
///
/// (a "gap" is a jump of the virtual counter between two of its reads: time it did not run).
/// Shared by the attack tests (FairShare, LockHold, RebootLoop, RebootCopy).
struct VictimFigures: Equatable {
    var ranMilliseconds: Int, totalMilliseconds: Int, percent: Int, longestGapMicroseconds: Int, gapsOverAMillisecond: Int

    /// Per mille of its time that it ran (finer than `percent`).
    var share: Int { ranMilliseconds * 1000 / max(totalMilliseconds, 1) }

    /// The victim line among a guest's console lines (the last, should there be several).
    init?(_ lines: [String]) {
        guard let line = lines.last(where: { $0.hasPrefix("victim: ran ") }) else { return nil }
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count == 6 else { return nil }
        // numbers[4] is the "1" of "1 ms".
        (ranMilliseconds, totalMilliseconds, percent, longestGapMicroseconds, gapsOverAMillisecond)
            = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[5])
    }

    /// The figures of `guest` in `outcome`, or nil when it printed none.
    init?(_ outcome: SystemRunner.Outcome, _ guest: String) {
        self.init(outcome.report.guestLines[guest] ?? [])
    }

    var summary: String { "ran \(ranMilliseconds) ms of \(totalMilliseconds) ms (\(share / 10).\(share % 10) %), longest gap \(longestGapMicroseconds) us" }
}

/// Runs the attack tests' systems (Tests/SystemTests/Systems) on a 2-core `virt` machine.
enum AttackSystems {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Systems")

    /// Boots `system` on a `virt` machine with `cores` cores of model `cpu`, quietly; with
    /// `countingInstructions`, under QEMU `-icount shift=0,sleep=off`.
    static func run(_ system: String, cpu: String, countingInstructions: Bool = false, cores: Int = 2,
                    timeout: Double = 120, uartBaud: Int? = nil) throws -> SystemRunner.Outcome {
        try run(file: folder.appendingPathComponent(system), cpu: cpu, countingInstructions: countingInstructions, cores: cores,
                timeout: timeout, uartBaud: uartBaud)
    }

    /// The same for a system file anywhere (one a test wrote).
    static func run(file: URL, cpu: String, countingInstructions: Bool = false, cores: Int = 2,
                    timeout: Double = 120, uartBaud: Int? = nil) throws -> SystemRunner.Outcome {
        var options = SystemRunner.Options()
        options.cpu = cpu
        options.cores = cores
        options.timeout = timeout
        options.echo = false
        options.countInstructions = countingInstructions
        options.uartBaud = uartBaud
        return try SystemRunner(log: { _ in }).run(file, options: options)
    }

    /// The console of a run, for failure messages.
    static func log(_ o: SystemRunner.Outcome, _ title: String, last: Int = 60) -> String {
        "\n--- \(title) ---\n" + o.lines.suffix(last).joined(separator: "\n")
    }

    /// The figures of `guest` in `o`, failing the test when it printed none.
    static func figures(_ o: SystemRunner.Outcome, _ guest: String, _ log: String) throws -> VictimFigures {
        try XCTUnwrap(VictimFigures(o, guest), "no victim line from \(guest)" + log)
    }

    /// Guests/rebooter's run to `VMLifecycle.maximumBoots`: every boot up to the limit asked for
    /// a reset, and the hypervisor then stopped it, saying why.
    static func assertRebootedToTheLimit(_ o: SystemRunner.Outcome, _ log: String, file: StaticString = #filePath, line: UInt = #line) {
        let boots = (o.report.guestLines["rebooter"] ?? []).filter { $0.hasPrefix("rebooter: boot ") && $0.hasSuffix(", resetting") }
        XCTAssertEqual(boots.count, VMLifecycle.maximumBoots, log, file: file, line: line)
        XCTAssertTrue(boots.contains("rebooter: boot \(VMLifecycle.maximumBoots), resetting"), log, file: file, line: line)
        guard case .stopped(let cause)? = o.report.outcomes["rebooter"] else { return XCTFail("rebooter not stopped: " + log, file: file, line: line) }
        XCTAssertTrue(cause.contains("rebooted \(VMLifecycle.maximumBoots) times"), log, file: file, line: line)
    }
}
