/// A signal (SIGINT, SIGTERM, SIGHUP) stopped a QEMU run inside a longer job (`bench`): QEMU was
/// stopped, and the job ends rather than going on to its next boot or blaming the guest.
public struct RunInterrupted: Error, CustomStringConvertible {
    public var signal: Int32

    public init(signal: Int32) { self.signal = signal }

    /// 128 + the signal's number, as a shell reports it (and as `run` exits).
    public var exitStatus: Int32 { 128 + signal }

    public var description: String { "interrupted: \(SystemRunner.signalName(signal)) received; QEMU was stopped" }

    /// Throws when `outcome` ended by a signal.
    static func check(_ outcome: SystemRunner.Outcome) throws {
        if case .interrupted(let signal) = outcome.verdict { throw RunInterrupted(signal: signal) }
    }
}
