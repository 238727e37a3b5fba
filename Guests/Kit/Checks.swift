import SwiftvisorCore

/// Named checks that print "ok NAME" or "FAIL NAME: got X, want Y"; the guest's exit code is
/// the number of failures, so the host tool sees them.
public struct Checks {
    public private(set) var failures: UInt32 = 0
    public init() {}

    public mutating func expect(_ name: StaticString, _ got: Int64, _ want: Int64) {
        if got == want {
            Guest.print("ok \(name)")
        } else {
            failures += 1
            Guest.print("FAIL \(name): got \(got), want \(want)")
        }
    }

    public mutating func expect(_ name: StaticString, _ condition: Bool) {
        expect(name, condition ? 1 : 0, 1)
    }

    public func finish() -> Never {
        Guest.print("\(failures) failure(s)")
        Guest.shutdown(.poweroff, exitCode: failures)
    }
}
