import CArch
import SwiftvisorCore

/// CONSOLEIO_write (Xen's do_console_io / guest_console_write): the guest's text goes to its
/// console, `XenABI.consoleWriteChunk` bytes per exit. A longer write is continued as Xen
/// continues a hypercall on Arm (hypercall_create_continuation: the PC goes back to the HVC and
/// the arguments are updated): x1 becomes the bytes left, x2 their address, and the guest runs
/// the HVC again. So the hypervisor lock is held for one chunk at a time, the vCPU can be
/// preempted between chunks, and a 16 KiB write costs the writer's time, not every core's.
///
/// Each chunk is checked in full before any of its bytes is shown, so a bad buffer within
/// the first chunk prints nothing; as on Xen, a fault in a later chunk returns -EFAULT after
/// the chunks before it were shown.
@inline(never)
func consoleWrite(buffer: UInt64, length: UInt64, _ vcpu: VirtualCPU) {
    let f = vcpu.frame
    let vm = vcpu.vm
    let now = min(length, XenABI.consoleWriteChunk)
    // A guest over its console rate (a flood): the chunk is dropped whole, its bytes only
    // watched for a kernel panic, so that the lock is held for as little as possible.
    if vm.consoleRate.dropsAll(now, now: read_cntpct_el0(), frequency: read_cntfrq_el0()) {
        let ok = GuestBuffer.forEachPiece(virtualAddress: buffer, length: now,
                                          translate: { GuestMemory.translate($0, write: false, vcpu: vcpu) }) { host, count in
            // SAFETY: `host` is inside this VM's RAM (checked by translate) and identity mapped.
            vm.watchForPanic(in: UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(host.rawValue)), count: count))
        }
        guard ok else { f.pointee.x.0 = XenABI.Errno.efault.returnValue; return }
        return continueWrite(buffer: buffer, length: length, done: now, f)
    }
    // LF becomes CR LF, as Xen's serial console writes a guest's console_io text.
    let ok = GuestMemory.read(buffer, length: now, vcpu: vcpu) {
        if $0 == UInt8(ascii: "\n") { vm.consoleOutput(UInt8(ascii: "\r")) }
        vm.consoleOutput($0)
    }
    guard ok else { f.pointee.x.0 = XenABI.Errno.efault.returnValue; return }
    continueWrite(buffer: buffer, length: length, done: now, f)
}

/// Answers 0 when `done` bytes were the whole write, else continues it with the rest.
private func continueWrite(buffer: UInt64, length: UInt64, done: UInt64, _ f: UnsafeMutablePointer<vcpu_frame>) {
    guard done < length else { f.pointee.x.0 = 0; return }
    // x0 (CONSOLEIO_write) and x16 stay; ELR_EL2 points past the HVC (4 bytes, AArch64).
    f.pointee.x.1 = length - done
    f.pointee.x.2 = buffer &+ done
    f.pointee.elr_el2 &-= 4
}
