// Coverage-guided fuzzing of the xenstore server (Sources/SwiftvisorCore/Xenstore) through its
// ring transport, with libFuzzer: built by xenstore-fuzz.sh with `swiftc -sanitize=fuzzer,address`
// together with the server's sources. Each input is a script of guest and hypervisor actions;
// any trap (bounds, overflow, precondition) or broken invariant is a finding.

/// A ring page in an array, as the host tests have.
struct FuzzRingPage: XenstoreRingPage {
    var bytes = [UInt8](repeating: 0, count: 4096)
    mutating func loadWord(at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
    mutating func storeWord(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) }
    }
    mutating func loadByte(at offset: Int) -> UInt8 { bytes[offset] }
    mutating func storeByte(_ value: UInt8, at offset: Int) { bytes[offset] = value }
    mutating func barrier() {}
}

/// Reads the input a byte at a time; zeros once it runs out.
struct FuzzInput {
    let data: UnsafeBufferPointer<UInt8>
    var at = 0
    var done: Bool { at >= data.count }
    mutating func byte() -> UInt8 {
        guard at < data.count else { return 0 }
        defer { at += 1 }
        return data[at]
    }
    mutating func word() -> UInt32 { UInt32(byte()) | UInt32(byte()) << 8 | UInt32(byte()) << 16 | UInt32(byte()) << 24 }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }
}

/// Words the server's parsers care about, so that short inputs reach deep paths.
let dictionary: [[UInt8]] = [
    "data", "data/a", "data/a/b", "/local/domain/1/data", "/local/domain/2/data", "control/shutdown", "/", "name",
    "@releaseDomain", "@introduceDomain", "n1", "r2", "b1", "w0", "n0x2", "T", "F", "0", "1", "2", "", "//", "a/",
].map { Array($0.utf8) }

func guestPut(_ page: inout FuzzRingPage, _ bytes: [UInt8]) {
    let cons = page.loadWord(at: XenstoreRing.requestConsumerOffset)
    var prod = page.loadWord(at: XenstoreRing.requestProducerOffset)
    for b in bytes where prod &- cons < XenstoreRing.size {
        page.storeByte(b, at: Int(prod & (XenstoreRing.size - 1)))
        prod &+= 1
    }
    page.storeWord(prod, at: XenstoreRing.requestProducerOffset)
}

func guestDrain(_ page: inout FuzzRingPage) {
    let cons = page.loadWord(at: XenstoreRing.responseConsumerOffset)
    let prod = page.loadWord(at: XenstoreRing.responseProducerOffset)
    if prod &- cons <= XenstoreRing.size { page.storeWord(prod, at: XenstoreRing.responseConsumerOffset) }
}

/// Two introduced guests, with small quotas so that inputs reach them; built once, copied per input.
let prototype: XenstoreServer = {
    let server = XenstoreServer()
    server.quota.nodesPerDomain = 60
    server.quota.nodesPerTransaction = 30
    for domid: UInt16 in [1, 2] {
        server.introduce(XenstoreDomainInfo(domid: domid, name: Array("g".utf8), uuid: [UInt8](repeating: UInt8(domid), count: 16),
                                            vcpus: 1, memoryKiB: 4096))
    }
    return server
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data: UnsafeBufferPointer(start: data, count: size))
    let server = prototype.copy()
    var pages = [FuzzRingPage(), FuzzRingPage()]
    var steps = 0
    while !input.done && steps < 400 {
        steps += 1
        let action = input.byte()
        let g = Int(action >> 7)
        let domid = UInt16(g + 1)
        switch action & 0x7 {
        case 0: // raw bytes into the request ring
            guestPut(&pages[g], input.bytes(Int(input.byte())))
        case 1, 2: // a well-formed message built from dictionary words and input bytes
            var payload: [UInt8] = []
            for _ in 0..<Int(input.byte() % 4) {
                let pick = input.byte()
                payload += pick & 0x80 == 0 ? dictionary[Int(pick) % dictionary.count] : input.bytes(Int(pick & 0x0F))
                payload.append(0)
            }
            if action & 0x40 != 0 { payload += input.bytes(Int(input.byte() % 8)) }
            let header = XenstoreWire.Header(type: UInt32(input.byte() % 24), requestID: UInt32(input.byte()),
                                             transactionID: UInt32(input.byte() % 4), length: UInt32(payload.count))
            guestPut(&pages[g], header.bytes + payload)
            _ = server.service(domid: domid, page: &pages[g])
        case 3:
            _ = server.service(domid: domid, page: &pages[g])
            guestDrain(&pages[g])
        case 4: // the guest scribbles on an index
            let offsets = [XenstoreRing.requestConsumerOffset, XenstoreRing.requestProducerOffset,
                           XenstoreRing.responseConsumerOffset, XenstoreRing.responseProducerOffset]
            pages[g].storeWord(input.word(), at: offsets[Int(input.byte()) % 4])
        case 5: // the hypervisor
            switch input.byte() % 6 {
            case 0: server.requestShutdown(domid, .poweroff)
            case 1: server.release(domid)
            case 2:
                server.introduce(XenstoreDomainInfo(domid: domid, name: Array("h".utf8), uuid: [UInt8](repeating: 9, count: 16),
                                                    vcpus: 2, memoryKiB: 1))
                pages[g] = FuzzRingPage()
            case 3: server.watch(dictionary[Int(input.byte()) % dictionary.count], token: [0x74])
            case 4: _ = server.takeWatchEvents()
            default: server.write(dictionary[Int(input.byte()) % dictionary.count], value: input.bytes(3))
            }
        default:
            guestDrain(&pages[g])
        }
    }
    server.checkInvariants()
    return 0
}

extension XenstoreServer {
    func copy() -> XenstoreServer {
        let s = XenstoreServer(quota: quota)
        s.nodes = nodes
        s.generation = generation
        s.connections = connections
        s.entryCounts = entryCounts
        s.releaseDomainPermissions = releaseDomainPermissions
        s.introduceDomainPermissions = introduceDomainPermissions
        s.domains = domains
        return s
    }

    /// The tree is whole (every node listed once by its parent, every listed child present),
    /// node counts per owner match the nodes, and queues are consistent.
    func checkInvariants() {
        var owners: [(Int32, Int)] = []
        for i in 0..<nodes.count {
            let (path, node) = nodes.entry(at: i)
            precondition(!node.permissions.isEmpty, "a node without an owner")
            if path != XenstorePath.root {
                guard let parent = nodes[XenstorePath.parent(path)] else { preconditionFailure("orphan node") }
                let name = XenstorePath.basename(path)
                precondition(parent.children.filter { $0 == name }.count == 1, "node not listed once by its parent")
            }
            for c in node.children { precondition(nodes[XenstorePath.child(path, c)] != nil, "listed child missing") }
            if let j = owners.firstIndex(where: { $0.0 == node.owner }) { owners[j].1 += 1 } else { owners.append((node.owner, 1)) }
        }
        for (domid, count) in owners { precondition(entries(of: domid) == count, "node count of a domain is wrong") }
        for e in entryCounts where !owners.contains(where: { $0.0 == e.domid }) { precondition(e.count == 0, "count for no nodes") }
        for c in connections { precondition(c.output.count == c.outputIsEvent.count) }
    }
}
