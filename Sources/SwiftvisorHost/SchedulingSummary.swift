import SwiftvisorCore

/// What `swiftvisor check` prints about the guests' CPU shares: one line for each guest whose
/// `weight` or `cap` is not the default.
public enum SchedulingSummary {
    /// E.g. "  guest 'batch': weight 128, cap 25 % of a core".
    public static func lines(_ d: SystemDescription) -> [String] {
        d.guests.compactMap { g in
            guard g.weight != Int(CreditScheduler.defaultWeight) || g.cap != 0 else { return nil }
            return "  guest '\(g.name)': weight \(g.weight), " + (g.cap == 0 ? "no cap" : "cap \(g.cap) % of a core")
        }
    }
}
