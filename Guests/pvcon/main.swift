import _Volatile
import CGuest
import SwiftvisorCore

/// Xen's PV console (hvc0) as Linux's hvc_xen drives it in a domU: finds the ring page and the
/// event channel through HVM_PARAM_CONSOLE_PFN / HVM_PARAM_CONSOLE_EVTCHN, writes `out` and
/// notifies, reads `in` when notified. Boot arguments: `interactive` (asks for a line and echoes
/// it on both consoles), `garbage` (also writes nonsense indexes, which must hurt nobody),
/// `no-console` (a guest told nothing of Xen: both parameters are 0).


/// The hypervisor's shared_info for this guest, mapped here (XENMEM_add_to_physmap).
nonisolated(unsafe) let sharedInfo = UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)))
/// The console page and port, from the HVM parameters.
nonisolated(unsafe) var ring: UInt64 = 0
nonisolated(unsafe) var port: UInt64 = 0
/// Upcalls that found the console port pending.
nonisolated(unsafe) var consoleEvents = 0

/// `struct xencons_interface` (public/io/console.h): in[1024], out[2048], then the indexes.
enum Ring {
    static let inputSize: UInt32 = 1024, outputSize: UInt32 = 2048
    static let inputConsumer: UInt64 = 3072, inputProducer: UInt64 = 3076
    static let outputConsumer: UInt64 = 3080, outputProducer: UInt64 = 3084
    static func load(_ offset: UInt64) -> UInt32 { VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(ring + offset)).load() }
    static func store(_ offset: UInt64, _ v: UInt32) { VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(ring + offset)).store(v) }
    static func byte(_ offset: UInt64) -> UInt8 { VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(ring + offset)).load() }
    static func setByte(_ offset: UInt64, _ v: UInt8) { VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(ring + offset)).store(v) }
}

func hvmParam(_ index: UInt32) -> (Int64, UInt64) { XenEvents.hvmParam(index) }
func notify() -> Int64 { XenEvents.send(port) }

/// hvc_xen's __write_console: as much as fits, then notify; waits (yielding) for room, at most
/// about two seconds in all. Returns false if the hypervisor never made room.
func hvcWrite(_ s: String) -> Bool {
    let bytes = Array(s.utf8)
    var sent = 0
    let end = read_cntvct() + 2 * read_cntfrq()
    while sent < bytes.count {
        let cons = Ring.load(Ring.outputConsumer), prod = Ring.load(Ring.outputProducer)
        memory_barrier()
        var p = prod
        while sent < bytes.count && p &- cons < Ring.outputSize {
            Ring.setByte(1024 + UInt64(p % Ring.outputSize), bytes[sent])
            p &+= 1; sent += 1
        }
        memory_barrier()   // the bytes before the index (hvc_xen's wmb)
        Ring.store(Ring.outputProducer, p)
        _ = notify()
        if sent < bytes.count {
            if read_cntvct() > end { return false }
            Guest.yield()
        }
    }
    return true
}

/// The ring's `out` is empty: the hypervisor consumed everything (within about a second).
func drained() -> Bool {
    let end = read_cntvct() + read_cntfrq()
    while Ring.load(Ring.outputConsumer) != Ring.load(Ring.outputProducer) {
        if read_cntvct() > end { return false }
        Guest.yield()
    }
    return true
}

/// hvc_xen's domU_read_console: a line from `in` (up to CR or LF), waiting up to `seconds`.
func hvcReadLine(seconds: UInt64) -> [UInt8]? {
    var line: [UInt8] = []
    let end = read_cntvct() + seconds * read_cntfrq()
    while read_cntvct() < end {
        let cons = Ring.load(Ring.inputConsumer), prod = Ring.load(Ring.inputProducer)
        memory_barrier()   // the bytes after the index that covers them
        var c = cons
        while c != prod {
            let b = Ring.byte(UInt64(c % Ring.inputSize))
            c &+= 1
            if b == 13 || b == 10 {
                if !line.isEmpty { memory_barrier(); Ring.store(Ring.inputConsumer, c); return line }
            } else if line.count < 200 { line.append(b) }
        }
        memory_barrier()
        Ring.store(Ring.inputConsumer, c)
        Guest.yield()
    }
    return nil
}

/// The 2-level upcall on vCPU 0 (vcpu_info in shared_info): note the console port.
func upcall() {
    XenEvents.scan(sharedInfo: sharedInfo, vcpuInfo: sharedInfo) { word, pending in
        if XenEvents.includes(port, word: word, pending: pending) { consoleEvents += 1 }
    }
}

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    var c = Checks()
    let (r1, pfn) = hvmParam(XenHVMParam.Index.consolePFN.rawValue)
    let (r2, evtchn) = hvmParam(XenHVMParam.Index.consoleEventChannel.rawValue)
    c.expect("get_param(CONSOLE_PFN) -> 0", r1, 0)
    c.expect("get_param(CONSOLE_EVTCHN) -> 0", r2, 0)
    if Guest.hasBootArgument("no-console") {
        // enhanced = "disabled": no PV console, as a domU created without one (both 0).
        c.expect("no console page, no console port", pfn == 0 && evtchn == 0)
        c.finish()
    }
    c.expect("the console page is the first magic page", pfn == XenGuestLayout.magicPages.base.rawValue >> 12)
    c.expect("the console port is a port", evtchn != 0 && evtchn < 4096)
    guard r1 == 0, r2 == 0, pfn != 0, evtchn != 0 else { c.finish() }
    ring = pfn << 12; port = evtchn

    // shared_info, so that the hypervisor's notifications arrive as upcalls (PPI 31).
    var xatp: (UInt16, UInt16, UInt32, UInt64, UInt64) = (XenHVMParam.domidSelf, 0, 0, 0, sharedInfo >> 12)
    c.expect("add_to_physmap(shared_info) -> 0",
             withUnsafeMutablePointer(to: &xatp) { xen_hypercall(XenABI.Number.memoryOp.rawValue, 7, UInt64(UInt(bitPattern: $0)), 0) }, 0)
    Interrupts.start(cpu: 0)
    Interrupts.enable(XenGuestLayout.eventChannelPPI, cpu: 0)
    Interrupts.handler = { if $0 == XenGuestLayout.eventChannelPPI { upcall() } }
    irq_enable()

    Guest.print("pl011: before hvc0")
    c.expect("send on the console port -> 0", notify(), 0)
    c.expect("a line written to hvc0", hvcWrite("hvc0: hello from the PV console\n"))
    c.expect("the hypervisor consumed the output", drained())
    // More than the ring holds, in lines: the hypervisor drains it as it is notified.
    var many = true
    for i in 0..<64 { many = many && hvcWrite("hvc0 line \(i) of 64: the quick brown fox jumps over the lazy dog\n") }
    c.expect("3.9 KiB through the 2 KiB ring", many && drained())
    // An unfinished line waits for its end; output from both consoles shares the guest's line.
    _ = hvcWrite("hvc0: a line in ")
    c.expect("two writes", hvcWrite("two writes\n") && drained())

    if Guest.hasBootArgument("interactive") {
        let before = consoleEvents
        _ = hvcWrite("hvc0: type a line\n")
        let line = hvcReadLine(seconds: 20)
        c.expect("a typed line arrived in the input ring", line != nil)
        c.expect("the hypervisor notified the console port", consoleEvents > before)
        let text = String(decoding: line ?? [], as: UTF8.self)
        _ = hvcWrite("hvc0 echo: " + text + "\n")
        Guest.print("pl011 echo: " + text)
        c.expect("the echo drained", drained())
    }

    if Guest.hasBootArgument("garbage") {
        // out_prod claiming 64 KiB beyond out_cons: the hypervisor ignores the ring (as
        // xenconsoled does) rather than reading outside it; then sane indexes work again.
        let cons = Ring.load(Ring.outputConsumer)
        Ring.store(Ring.outputProducer, cons &+ 0x10000)
        c.expect("send with garbage indexes -> 0", notify(), 0)
        for _ in 0..<10 { Guest.yield() }
        c.expect("garbage indexes: nothing consumed", Ring.load(Ring.outputConsumer) == cons)
        Ring.store(Ring.outputConsumer, 0xFFFF_FFF0)   // and consumer/producer near the wrap
        Ring.store(Ring.outputProducer, 0xFFFF_FFF0)
        c.expect("indexes that wrap at 2^32", hvcWrite("hvc0: still served after garbage indexes\n") && drained())
        Ring.store(Ring.inputConsumer, Ring.load(Ring.inputProducer) &+ 0x8000)   // garbage for input too
    }
    c.finish()
}
