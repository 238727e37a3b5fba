/// The PV devices between guests (xl.cfg `vif` and `disk` with `backend=NAME`): their checks,
/// and the devices the boot manifest carries.
extension SystemDescription {
    /// Each guest's vifs and disks as the hypervisor gets them, in file order (per guest its
    /// vifs, then its disks). Devices naming no guest as backend are left out (`problems()`
    /// reports them).
    public var xenDevices: [XenDevice] {
        var result: [XenDevice] = []
        for (f, g) in guests.enumerated() {
            for (i, v) in g.vifs.enumerated() {
                guard let b = guestIndex(v.backend) else { continue }
                var d = XenDevice(kind: .vif, frontend: f, backend: b, devid: UInt32(i))
                d.mac = mac(of: g, vif: i).bytes
                d.bridge = v.bridge
                result.append(d)
            }
            for disk in g.disks {
                guard let b = guestIndex(disk.backend) else { continue }
                var d = XenDevice(kind: .vbd, frontend: f, backend: b, devid: disk.vdev.deviceNumber)
                d.vdev = disk.vdev.name
                d.target = disk.target
                d.readOnly = disk.readOnly
                result.append(d)
            }
        }
        return result
    }

    /// The MAC of guest `g`'s vif number `vif`: as written, or derived from the guest's name.
    public func mac(of g: Guest, vif: Int) -> MACAddress {
        g.vifs[vif].mac ?? VirtualInterfaceSpec.derivedMAC(guest: g.name, index: vif)
    }

    func guestIndex(_ name: String) -> Int? {
        for (i, g) in guests.enumerated() where g.name == name { return i }
        return nil
    }

    /// Problems of the `vif` and `disk` entries, reported at their key's line.
    func deviceProblems() -> [Problem] {
        var result: [Problem] = []
        var count = 0
        var macs: [(mac: MACAddress, guest: String, vif: Int)] = []
        // Frontend -> backend, between distinct known guests.
        var serves: [[Int]] = Array(repeating: [], count: guests.count)
        for (f, g) in guests.enumerated() {
            var backends: [(name: String, key: Key)] = []
            for (i, v) in g.vifs.enumerated() {
                backends.append((v.backend, .vif))
                let mac = mac(of: g, vif: i)
                let how = v.mac == nil ? " (derived from its name; give one with mac=)" : ""
                if mac.isMulticast {
                    result.append(g.problem(.vif, "guest '\(g.name)' vif \(i): mac \(mac.text) is a multicast address (bit 0 of its first byte is set); an interface needs a unicast one, e.g. 00:16:3e:xx:xx:xx"))
                } else if let other = macs.first(where: { $0.mac == mac }) {
                    result.append(g.problem(.vif, "guest '\(g.name)' vif \(i): mac \(mac.text)\(how) is also the mac of guest '\(other.guest)' vif \(other.vif); every interface needs its own"))
                }
                macs.append((mac, g.name, i))
            }
            for (i, d) in g.disks.enumerated() {
                backends.append((d.backend, .disk))
                if g.disks[..<i].contains(where: { $0.vdev == d.vdev }) {
                    result.append(g.problem(.disk, "guest '\(g.name)' has two disks named \(d.vdev.name); each vdev must be different"))
                }
                if d.target.utf8.count > Limits.diskTargetLength {
                    result.append(g.problem(.disk, "guest '\(g.name)' \(d.vdev.name): target is \(d.target.utf8.count) bytes long, but at most \(Limits.diskTargetLength) fit in the boot manifest"))
                }
            }
            for (n, (name, key)) in backends.enumerated() {
                count += 1
                if count == Limits.devices + 1 {
                    result.append(g.problem(key, "guest '\(g.name)': this is PV device number \(count) of the system, but at most \(Limits.devices) can be given: \(Limits.devicesReason)"))
                }
                // Each backend named once per guest and key.
                if backends[..<n].contains(where: { $0.name == name && $0.key == key }) { continue }
                guard let b = guestIndex(name) else {
                    result.append(g.problem(key, "guest '\(g.name)': backend '\(name)' is not a guest of this system; the backend is the guest (driver domain) that serves the device"))
                    continue
                }
                if b == f {
                    result.append(g.problem(key, "guest '\(g.name)' cannot be its own backend: a driver domain serves other guests' devices"))
                    continue
                }
                if !serves[f].contains(b) { serves[f].append(b) }
                let backend = guests[b]
                if backend.enhanced != .enabled {
                    result.append(g.problem(key, "its backend, guest '\(backend.name)', has enhanced = \"\(backend.enhanced.name)\", but PV devices need xenstore on both sides: give it enhanced = \"enabled\""))
                }
            }
            if !backends.isEmpty, g.enhanced != .enabled {
                result.append(g.problem(g.vifs.isEmpty ? .disk : .vif, "guest '\(g.name)' has enhanced = \"\(g.enhanced.name)\", but PV devices need xenstore on both sides: give it enhanced = \"enabled\""))
            }
        }
        // A cycle of driver domains (a serves b, b serves a, or longer) could not start: each
        // waits for the other's backend. Reported once, at the first guest of the cycle in the file.
        var reported: [Int] = []
        for s in guests.indices where !reported.contains(s) {
            guard let cycle = Self.cycle(from: s, serves) else { continue }
            if cycle.contains(where: { reported.contains($0) }) { continue }
            reported += cycle
            let g = guests[s]
            let key: Key = g.vifs.contains(where: { $0.backend == guests[cycle[1 % cycle.count]].name }) ? .vif : .disk
            var names = ""
            for i in cycle + [s] { names += (names.isEmpty ? "" : " -> ") + "'\(guests[i].name)'" }
            result.append(g.problem(key, "the backends form a cycle, \(names): each guest's devices would wait for the next; a driver domain's own devices must come from guests that do not depend on it"))
        }
        return result
    }

    /// The guests of a path s -> ... -> s along `serves` (frontend -> its backends), s first; nil if none.
    static func cycle(from s: Int, _ serves: [[Int]]) -> [Int]? {
        var path = [s]
        var visited = [s]
        func walk(_ n: Int) -> Bool {
            for b in serves[n] {
                if b == s { return true }
                if visited.contains(b) { continue }
                visited.append(b); path.append(b)
                if walk(b) { return true }
                path.removeLast()
            }
            return false
        }
        return walk(s) ? path : nil
    }
}
