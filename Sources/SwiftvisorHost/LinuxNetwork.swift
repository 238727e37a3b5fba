/// The network and disk between `swiftvisor linux`'s guests (issue 10): the first guest is the
/// driver domain (its bridge `xenbr0` at 10.0.0.1/24 joins the vifs netback gives it, busybox
/// httpd serves a page, and it serves disks from files it creates at boot); every other guest
/// has a vif served by it (10.0.0.2, 10.0.0.3, ... in order) and pings the others; the guests in
/// `disks` also get a 32 MiB PV disk `xvda`, a file in the driver domain
/// (/srv/NAME-xvda.img), which they mount on /mnt.
/// The guests' side is LinuxNetworkScripts; the keys are xl.cfg's `vif` and `disk`.
public struct LinuxNetwork {
    public var guests: [String]
    public var disks: Set<String>
    public static let bridge = "xenbr0"
    public static let diskMiB = 32

    public init(guests: [String], disks: Set<String>) {
        self.guests = guests
        self.disks = disks
    }

    /// `swiftvisor linux`'s three guests: alpha serves, beta has a disk, gamma a vif only.
    public static let standard = LinuxNetwork(guests: ["alpha", "beta", "gamma"], disks: ["beta"])

    public var driverDomain: String { guests[0] }
    public func address(_ guest: String) -> String { "10.0.0.\((guests.firstIndex(of: guest) ?? 0) + 1)" }
    public func diskFile(_ guest: String) -> String { "/srv/\(guest)-xvda.img" }
    var frontends: [String] { Array(guests.dropFirst()) }

    /// Kernel command-line words per guest (LinuxNetworkScripts reads them).
    public var arguments: [String: String] {
        var words: [String: String] = [:]
        let files = frontends.filter { disks.contains($0) }.map { "\(diskFile($0)):\(Self.diskMiB)" }
        words[driverDomain] = "swiftvisor.bridge=\(Self.bridge):\(address(driverDomain))/24"
            + (files.isEmpty ? "" : " swiftvisor.disk-file=" + files.joined(separator: ","))
        for guest in frontends {
            let others = guests.filter { $0 != guest }.map(address)
            words[guest] = "swiftvisor.ip=\(address(guest))/24 swiftvisor.ping=\(others.joined(separator: ","))"
        }
        return words
    }

    /// The `vif` and `disk` lines of each frontend's table.
    public var keys: [String: String] {
        var lines: [String: String] = [:]
        for guest in frontends {
            lines[guest] = "vif = [\"backend=\(driverDomain), bridge=\(Self.bridge)\"]"
            if disks.contains(guest) {
                lines[guest]! += "\ndisk = [\"backend=\(driverDomain), vdev=xvda, access=rw, target=\(diskFile(guest))\"]"
            }
        }
        return lines
    }

    /// Words of `a` and `b` together, per guest.
    public static func merge(_ a: [String: String], _ b: [String: String]) -> [String: String] {
        a.merging(b) { $0 + " " + $1 }
    }
}
