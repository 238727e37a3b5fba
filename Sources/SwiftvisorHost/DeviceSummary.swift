import SwiftvisorCore

/// What `swiftvisor check` prints about the PV devices between guests: one line each.
public enum DeviceSummary {
    /// ", N PV device(s)" for the summary line, or "" when there are none.
    public static func count(_ d: SystemDescription) -> String {
        let n = d.xenDevices.count
        return n == 0 ? "" : ", \(n) PV device(s)"
    }

    /// One line per device, e.g. "  vif 0 of 'web': backend 'net', mac 00:16:3e:12:34:56, bridge xenbr0".
    public static func lines(_ d: SystemDescription) -> [String] {
        d.xenDevices.map { x in
            let front = d.guests[x.frontend].name, back = d.guests[x.backend].name
            switch x.kind {
            case .vif:
                return "  vif \(x.devid) of '\(front)': backend '\(back)', mac \(MACAddress(bytes: x.mac).text), bridge \(x.bridge)"
            case .vbd:
                return "  vbd \(x.vdev) (\(x.devid)) of '\(front)': backend '\(back)', target \(x.target), \(x.readOnly ? "ro" : "rw")"
            }
        }
    }
}
