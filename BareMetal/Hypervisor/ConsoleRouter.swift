import CArch
import SwiftvisorCore

/// The host keyboard: bytes from the physical UART go to the guest with the input focus
/// (into its emulated PL011) or to the hypervisor's own console; three Ctrl-A switch.
struct ConsoleRouter {
    var input: ConsoleInput
    var command: [UInt8] = []

    init(guestCount: Int) {
        // Input starts with the first guest: with one guest, typing just works.
        input = ConsoleInput(guestCount: guestCount, focus: guestCount > 0 ? .guest(0) : .hypervisor)
    }

    mutating func received(_ byte: UInt8, _ hv: Hypervisor) {
        switch input.accept(byte) {
        case .nothing: break
        case .switched(let focus): announce(focus, hv)
        case .deliver(let bytes):
            for b in bytes { deliver(b, hv) }
        }
    }

    func announce(_ focus: ConsoleInput.Focus, _ hv: Hypervisor) {
        for (i, vm) in hv.vms.enumerated() {
            let focused = focus == .guest(i)
            if vm.hasInputFocus && !focused { Console.endPartialLine() }
            vm.hasInputFocus = focused
        }
        switch focus {
        case .hypervisor:
            Console.log("input now goes to the hypervisor console (commands: list, help; Ctrl-A three times switches)\n")
        case .guest(let n):
            Console.log("input now goes to guest '"); Console.write(hv.vms[n].name); Console.write("' (Ctrl-A three times switches)\n")
        }
    }

    private mutating func deliver(_ byte: UInt8, _ hv: Hypervisor) {
        switch input.focus {
        case .guest(let n):
            let vm = hv.vms[n]
            guard vm.state == .running else { return }
            if vm.uart.receive(byte) { VirtualInterrupts.updateUARTLine(vm, hv) }
        case .hypervisor:
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                run(command, hv)
                command.removeAll()
            } else if command.count < 64 {
                command.append(byte)
            }
        }
    }

    /// The hypervisor console's commands.
    private func run(_ line: [UInt8], _ hv: Hypervisor) {
        if line.isEmpty { return }
        if line.elementsEqual("list".utf8) || line.elementsEqual("l".utf8) {
            for vm in hv.vms {
                Console.logGuest(vm.name, "': ")
                switch vm.state {
                case .running: Console.write("running")
                case .rebooting: Console.write("rebooting")
                case .finished: Console.write("finished")
                }
                Console.write(", "); Console.decimal(UInt64(vm.vcpus.count)); Console.write(" vCPU(s), ")
                Console.decimal(vm.hostRAM.size >> 20); Console.write(" MiB, boot "); Console.decimal(UInt64(vm.boots))
                Console.write("\n")
            }
        } else {
            Console.log("commands: list (guests and their state), help; Ctrl-A three times switches input\n")
        }
    }
}
