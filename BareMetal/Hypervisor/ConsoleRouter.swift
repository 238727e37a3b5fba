import CArch
import SwiftvisorCore

/// The host keyboard: bytes from the physical UART go to the guest with the input focus
/// (into its emulated PL011) or to the hypervisor's own console.
///
/// Run by the host tool (multiplexed), the tool owns the focus and sends commands framed
/// (ConsoleMux). On a plain serial line, three Ctrl-A move the focus on, as on Xen's console.
struct ConsoleRouter {
    var input: ConsoleInput
    var mux = ConsoleMux.InputDecoder()
    var command: [UInt8] = []

    init(guestCount: Int) {
        // Input starts with the first guest: with one guest, typing just works.
        input = ConsoleInput(guestCount: guestCount, focus: guestCount > 0 ? .guest(0) : .hypervisor)
    }

    mutating func received(_ byte: UInt8, _ hv: Hypervisor) {
        if Console.multiplexed {
            switch mux.accept(byte) {
            case nil: break
            case .data(let b): deliver(b, hv)
            case .focus(let n): if n < hv.vms.count { input.focus(on: .guest(n)) }
            case .command(let line): run(line, hv)
            }
            return
        }
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
            Console.log("input now goes to the hypervisor console (type help; Ctrl-A three times switches)\n")
        case .guest(let n):
            Console.log("input now goes to guest '"); Console.write(hv.vms[n].name); Console.write("' (Ctrl-A three times switches)\n")
        }
    }

    private mutating func deliver(_ byte: UInt8, _ hv: Hypervisor) {
        switch input.focus {
        case .guest(let n):
            let vm = hv.vms[n]
            guard vm.state == .running else { return }
            // hvc0 once the guest wrote to it, its PL011 before (PVConsole says why).
            if PVConsole.takesInput(vm) { PVConsole.receive(byte, vm, hv) }
            else if vm.uart.receive(byte) { VirtualInterrupts.updateUARTLine(vm, hv) }
        case .hypervisor:
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                run(command, hv)
                command.removeAll()
            } else if byte == 0x7F || byte == 0x08 {
                if !command.isEmpty { command.removeLast() }
            } else if command.count < ConsoleMux.InputDecoder.maximumCommandLength {
                command.append(byte)
            }
        }
    }

    /// The hypervisor console's commands (ConsoleCommand.help lists them).
    private mutating func run(_ line: [UInt8], _ hv: Hypervisor) {
        switch ConsoleCommand.parse(line) {
        case .invalid(.empty): return
        case .invalid(.unknown(let word)):
            Console.log("unknown command '"); Console.write(bytes: word); Console.write("'; type help for the list\n")
        case .invalid(.needsGuest(let word)):
            Console.log(""); Console.write(bytes: word); Console.write(" needs a guest's name: "); Console.write(bytes: word)
            Console.write(" NAME\n")
        case .invalid(.extraWords(let word)):
            Console.log("too many words for '"); Console.write(bytes: word); Console.write("'; type help for the list\n")
        case .command(.list): hv.printGuestList()
        case .command(.help):
            Console.log("hypervisor console commands:\n"); Console.write(ConsoleCommand.helpText)
        case .command(.quit): hv.quit()
        case .command(.console(let name)):
            guard let vm = guest(name, hv) else { return }
            input.focus(on: .guest(vm.index))
            if !Console.multiplexed { announce(input.focus, hv) }
        case .command(.destroy(let name)):
            guard let vm = guest(name, hv, mustBe: "running, paused or rebooting", vm: { $0.state != .finished }) else { return }
            hv.destroy(vm, because: "from the hypervisor console")
        case .command(.pause(let name)):
            guard let vm = guest(name, hv, mustBe: "running and not paused", vm: { $0.state == .running && !$0.paused }) else { return }
            hv.pause(vm)
        case .command(.unpause(let name)):
            guard let vm = guest(name, hv, mustBe: "paused", vm: { $0.state == .running && $0.paused }) else { return }
            hv.unpause(vm)
        case .command(.reboot(let name)):
            guard let vm = guest(name, hv, mustBe: "running and not already asked", vm: { $0.state == .running && $0.shutdownDeadline == nil }) else { return }
            if vm.paused { hv.unpause(vm) }
            hv.requestShutdown(vm, reboot: true)
        case .command(.shutdown(let name)):
            guard let vm = guest(name, hv, mustBe: "running and not already asked", vm: { $0.state == .running && $0.shutdownDeadline == nil }) else { return }
            hv.requestShutdown(vm)
        case .command(.create(let name)):
            guard let vm = guest(name, hv, mustBe: "ended (not started, shut down, stopped or destroyed)", vm: { $0.state == .finished }) else { return }
            hv.create(vm)
        }
    }

    /// The guest a command names, if it exists and is in a state the command applies to;
    /// otherwise says why not.
    private func guest(_ name: [UInt8], _ hv: Hypervisor, mustBe: StaticString = "",
                       vm accepts: (VirtualMachine) -> Bool = { _ in true }) -> VirtualMachine? {
        guard let vm = hv.vm(named: name) else {
            Console.log("no guest named '"); Console.write(bytes: name); Console.write("'; list shows them\n")
            return nil
        }
        guard accepts(vm) else {
            Console.logGuest(vm.name, "' is not "); Console.write(mustBe); Console.write("\n")
            return nil
        }
        return vm
    }
}
