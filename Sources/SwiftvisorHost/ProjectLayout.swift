import Foundation

/// Where things are in the repository, and where builds go.
public struct ProjectLayout {
    public let root: URL

    /// The repository this tool was built from.
    public static let current = ProjectLayout(root: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())

    public init(root: URL) { self.root = root }

    public var core: URL { root.appendingPathComponent("Sources/SwiftvisorCore") }
    public var arch: URL { root.appendingPathComponent("BareMetal/Arch") }
    /// The hypervisor proper: boot, per-CPU data, trap dispatch, run loop (glue).
    public var hypervisor: URL { root.appendingPathComponent("BareMetal/Hypervisor") }
    /// The platform layer: the only Swift that touches hardware (GIC, UART, timer, MMU).
    public var platform: URL { root.appendingPathComponent("BareMetal/Platform") }
    public var guestKit: URL { root.appendingPathComponent("Guests/Kit") }
    public var guests: URL { root.appendingPathComponent("Guests") }
    public var examples: URL { root.appendingPathComponent("examples") }
    /// Build output (ignored by git like every .build folder).
    public var buildDirectory: URL { root.appendingPathComponent(".build/swiftvisor-images") }
    public func guestSource(_ name: String) -> URL { guests.appendingPathComponent(name) }

    /// Names of the built-in test guests (folders of Guests/ other than Kit).
    public var builtinGuests: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: guests.path)) ?? []
        return names.filter { $0 != "Kit" && !$0.hasPrefix(".") }.sorted()
    }
}
