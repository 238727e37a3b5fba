import CArch
import SwiftvisorCore

/// Stage-2 data aborts: accesses to emulated devices are carried out; anything else the guest
/// may not touch becomes an injected external abort.
func handleDataAbort(_ abort: DataAbort, esr: ESR, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    enum Device { case uart, gic }
    let device: Device
    // The UART first: it is the hottest emulated device (every console byte).
    if GuestMachine.uart.contains(abort.ipa) {
        device = .uart
    } else if GuestMachine.gicDistributor.contains(abort.ipa)
                || GuestMachine.gicRedistributors(vcpus: vcpu.vm.vcpus.count).contains(abort.ipa) {
        device = .gic
    } else {
        return inject(.dataAbort(write: abort.isWrite), at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                      cause: "access outside its memory and devices", vcpu, hv)
    }
    // ISV=0 (load/store pair, writeback, SIMD): no syndrome to emulate from (Arm ARM D19.2.40).
    guard abort.syndromeValid else {
        return inject(.dataAbort(write: abort.isWrite), at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                      cause: "device access without a valid syndrome (ISV=0)", vcpu, hv)
    }
    switch device {
    case .uart:
        emulateUART(abort, vcpu)
        // IMSC, ICR and reads of DR change the interrupt line; most accesses (FR polls, DR
        // writes) do not, and cost nothing more.
        if vcpu.vm.uart.interruptLine != vcpu.vm.uartLine {
            VirtualInterrupts.updateUARTLine(vcpu.vm, hv)
        }
    case .gic: emulateGIC(abort, vcpu, hv)
    }
    vcpu.skipInstruction()
    return .resume
}

/// PL011 registers are 32 bits; narrower accesses see their bytes of the word.
@inline(__always)
func emulateUART(_ abort: DataAbort, _ vcpu: VirtualCPU) {
    let vm = vcpu.vm
    let offset = abort.ipa.offset(from: GuestMachine.uart.base)
    let shift = (offset & 3) * 8
    if abort.isWrite {
        let value = UInt32(truncatingIfNeeded: abort.storedValue(vcpu.register(abort.register)) << shift)
        if let byte = vm.uart.write(offset: offset & ~3, value: value) { vm.consoleOutput(byte) }
    } else {
        let raw = UInt64(vm.uart.readAndConsume(offset: offset & ~3)) >> shift
        vcpu.setRegister(abort.register, abort.loadedValue(raw))
    }
}

/// GICD and GICR accesses: 32-bit registers, 64-bit ones (IROUTER, GICR_TYPER) read or written
/// whole or as two words, byte accesses to the priority registers (IHI0069 12.1.3).
func emulateGIC(_ abort: DataAbort, _ vcpu: VirtualCPU, _ hv: Hypervisor) {
    let vm = vcpu.vm
    let distributor = GuestMachine.gicDistributor.contains(abort.ipa)
    var offset: UInt64
    var frame = 0
    if distributor {
        offset = abort.ipa.offset(from: GuestMachine.gicDistributor.base)
    } else {
        let o = abort.ipa.offset(from: GuestMachine.gicRedistributorBase)
        frame = Int(o / VirtualGIC.redistributorStride)
        offset = o % VirtualGIC.redistributorStride
    }
    func read32(_ off: UInt64) -> UInt32 {
        distributor ? vm.gic.distributorRead(offset: off) : vm.gic.redistributorRead(vcpu: frame, offset: off)
    }
    func write32(_ off: UInt64, _ value: UInt32) {
        let effect = distributor ? vm.gic.distributorWrite(offset: off, value: value)
                                 : vm.gic.redistributorWrite(vcpu: frame, offset: off, value: value)
        for v in effect.kick { VirtualInterrupts.kick(vm.vcpus[v], hv) }
    }
    // Byte and halfword accesses are architected only for IPRIORITYR (and IROUTER bytes,
    // not offered): read-modify-write the containing word there, ignore them elsewhere.
    let isPriority = distributor ? (0x0400..<0x0800).contains(offset) : (0x1_0400..<0x1_0420).contains(offset)
    if abort.isWrite {
        let value = abort.storedValue(vcpu.register(abort.register))
        switch abort.accessSize {
        case 8:
            if distributor, offset >= 0x6100 {
                let effect = vm.gic.distributorWrite64(offset: offset, value: value)
                for v in effect.kick { VirtualInterrupts.kick(vm.vcpus[v], hv) }
            } else {
                write32(offset, UInt32(truncatingIfNeeded: value)); write32(offset + 4, UInt32(truncatingIfNeeded: value >> 32))
            }
        case 4:
            if distributor, offset >= 0x6100, offset < 0x8000 {
                // Half of an IROUTER: Aff0 lives in the low word.
                if offset & 4 == 0 { _ = vm.gic.distributorWrite64(offset: offset, value: value) }
            } else { write32(offset, UInt32(truncatingIfNeeded: value)) }
        default:
            guard isPriority else { break }
            let shift = UInt32((offset & 3) * 8)
            let mask: UInt32 = (abort.accessSize == 1 ? 0xFF : 0xFFFF) << shift
            let word = read32(offset & ~3)
            write32(offset & ~3, word & ~mask | (UInt32(truncatingIfNeeded: value) << shift) & mask)
        }
    } else {
        var value: UInt64
        switch abort.accessSize {
        case 8:
            if distributor, offset >= 0x6100, let v = vm.gic.distributorRead64(offset: offset) { value = v }
            else { value = UInt64(read32(offset)) | UInt64(read32(offset + 4)) << 32 }
        case 4:
            if distributor, offset >= 0x6100, offset < 0x8000 {
                value = offset & 4 == 0 ? (vm.gic.distributorRead64(offset: offset) ?? 0) : 0
            } else { value = UInt64(read32(offset)) }
        default:
            value = isPriority ? UInt64(read32(offset & ~3)) >> ((offset & 3) * 8) : 0
        }
        vcpu.setRegister(abort.register, abort.loadedValue(value))
    }
}
