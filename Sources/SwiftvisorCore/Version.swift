/// swiftvisor's version, shown by the hypervisor's banner and by `swiftvisor --version`.
/// Raised by hand with each milestone: 0.7 is issue 7.
public enum SwiftvisorVersion {
    public static let number: StaticString = "0.7.0"
}
