import CGuest
import SwiftvisorCore

/// Checks what kvm-unit-tests' arm/gic.c "active" test checks of the GIC's state registers
/// (IHI0069 4.1.2, IHI0048B 3.2.4): an SGI the guest has not taken yet reads pending and not
/// active in GICR_ISPENDR0/ISACTIVER0 (a GICv2's banked GICD_ISPENDR0/ISACTIVER0); in its
/// handler, acknowledged, it reads active and not pending; sent again there, both; once
/// completed, neither. Prints "gic: ok <check>" or "gic: FAIL <check> (...)" per check; the
/// exit code is the number of failures.
nonisolated(unsafe) var failures: UInt32 = 0
nonisolated(unsafe) var taken = 0
nonisolated(unsafe) var inHandler: (pending: Bool, active: Bool) = (false, false)
nonisolated(unsafe) var sentAgain: (pending: Bool, active: Bool) = (false, false)

let sgi: UInt32 = 1

func check(_ what: StaticString, _ ok: Bool, _ detail: String = "") {
    if ok {
        Guest.print("gic: ok \(what)")
    } else {
        failures += 1
        Guest.print("gic: FAIL \(what)\(detail.isEmpty ? "" : " (" + detail + ")")")
    }
}

/// vCPU 0's pending and active bits of private interrupt `intid`, as the guest's GIC shows them.
func state(_ intid: UInt32) -> (pending: Bool, active: Bool) {
    let bank = Interrupts.isGICv2 ? Interrupts.gicd : Interrupts.redistributor(cpu: 0) + 0x1_0000
    let pending = Interrupts.register32(bank + 0x200).load(), active = Interrupts.register32(bank + 0x300).load()
    return (pending & 1 << intid != 0, active & 1 << intid != 0)
}

func describe(_ s: (pending: Bool, active: Bool)) -> String {
    "\(s.pending ? "pending" : "not pending"), \(s.active ? "active" : "not active")"
}

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Interrupts.start(cpu: 0)
    Interrupts.handler = { id in
        guard id == sgi else { return }
        taken += 1
        if taken == 1 {
            inHandler = state(sgi)
            Interrupts.sendSGI(sgi, toCPUs: 1)
            sentAgain = state(sgi)
        }
    }
    Interrupts.enable(sgi, cpu: 0)

    // IRQs masked: the SGI stays pending.
    Interrupts.sendSGI(sgi, toCPUs: 1)
    let before = state(sgi)
    check("pending, not active, before it is taken", before == (true, false), describe(before))

    Guest.waitUntil { taken >= 2 }
    irq_disable()
    check("active, not pending, in its handler", inHandler == (false, true), describe(inHandler))
    check("pending and active when sent again in its handler", sentAgain == (true, true), describe(sentAgain))
    check("taken again after its handler completed it", taken == 2, "taken \(taken) time(s)")
    let after = state(sgi)
    check("neither pending nor active once completed", after == (false, false), describe(after))

    Guest.print("giccheck: \(failures) failure(s)")
    Guest.shutdown(.poweroff, exitCode: failures)
}
