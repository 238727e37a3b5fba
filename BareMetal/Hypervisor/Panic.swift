import CArch
import SwiftvisorCore

/// An exception taken at EL2 itself is a hypervisor bug: report everything, then power off
/// so that nothing hangs silently.
@_cdecl("swiftvisor_hypervisor_fault")
func swiftvisorHypervisorFault(_ frame: UnsafeMutablePointer<vcpu_frame>, _ kind: UInt64) {
    let esr = ESR(rawValue: read_esr_el2())
    ConsoleOutput.finish()   // what was queued, then this report straight to the UART
    Console.write("\n")
    Console.log(.panic("exception at EL2: "), endLine: false)
    switch ExitKind(rawValue: kind) {
    case .synchronous: Console.write("synchronous")
    case .irq: Console.write("IRQ")
    case .fiq: Console.write("FIQ")
    case .serror, nil: Console.write("SError")
    }
    if hypervisor != nil, read_tpidr_el2() != 0 { Console.write(" on core "); Console.decimal(this_core().pointee.core) }
    Console.write("\n  EC "); Console.hex(UInt64(esr.exceptionClass.code)); Console.write(" (")
    Console.write(esr.exceptionClass.name)
    Console.write(")  ESR "); Console.hex(esr.rawValue)
    Console.write("  FAR "); Console.hex(read_far_el2())
    Console.write("  ELR "); Console.hex(frame.pointee.elr_el2)
    Console.write("  SPSR "); Console.hex(frame.pointee.spsr_el2)
    withUnsafeBytes(of: &frame.pointee.x) { regs in
        for i in 0..<31 {
            Console.write(i % 4 == 0 ? "\n  x" : "  x")
            if i < 10 { Console.write("0") }
            Console.decimal(UInt64(i)); Console.write(" "); Console.hex(regs.load(fromByteOffset: i * 8, as: UInt64.self))
        }
    }
    Console.write("\n")
    Firmware.systemOff(conduit: Firmware.psciConduit)
}
