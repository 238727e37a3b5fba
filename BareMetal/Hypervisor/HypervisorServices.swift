import SwiftvisorCore

/// The hypervisor's own services, domain 0's part toward each guest (xenstored and
/// xenconsoled in Xen): a guest's EVTCHNOP_send on its port bound to a service comes here,
/// and a service notifies the guest's port. Runs with the hypervisor lock held.
enum HypervisorServices {
    /// `vm` sent on its port bound to `service`.
    @inline(never)
    static func signalled(_ service: EventChannels.Service, by vm: VirtualMachine, _ hv: Hypervisor) {
        switch service {
        case .xenstore: XenstoreGlue.signalled(by: vm, hv)
        case .console: PVConsole.notified(vm)
        }
    }

    /// Notifies `vm`'s port bound to `service` (nothing while the guest's end is closed).
    static func notify(_ vm: VirtualMachine, _ service: EventChannels.Service, _ hv: Hypervisor) {
        if let d = XenGuest.channels.notify(service, of: vm.domid) { XenGuest.deliver(d, hv) }
    }
}
