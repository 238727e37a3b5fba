import Foundation
import SwiftvisorCore

/// The initramfs for Linux guests: busybox, with busybox `init` as PID 1 so that plain
/// `poweroff` and `reboot` (which signal PID 1) shut the guest down properly and end in PSCI
/// SYSTEM_OFF / SYSTEM_RESET.
///
/// Boot order: the kernel runs `/init` (a short script: mounts, hostname, /etc/inittab), which
/// execs busybox `init`; init runs `/sbin/swiftvisor-report` once (`sysinit`: the lines the
/// system tests check), then either a shell on the console (`swiftvisor.shell` on the command
/// line) or `poweroff`. Between the two, `/sbin/swiftvisor-net` brings up a driver domain or a
/// frontend's network and disk (LinuxNetworkScripts: nothing without its command-line words).
///
/// Command-line words it reads: `swiftvisor.name=NAME` (the hostname), `swiftvisor.marker=M`,
/// `swiftvisor.shell`, `swiftvisor.boot=N` (added by the hypervisor from the second boot on),
/// `swiftvisor.reboot-test`, `swiftvisor.panic-test`, `swiftvisor.xenmeet=offer:PEER` /
/// `accept:PEER` (run `xenmeet` with the peer's domid after the report's other lines).
public enum LinuxInitramfs {
    /// PID 1 until it execs busybox init. Its first line is what `bench --linux` times.
    public static let initScript = """
    #!/bin/busybox sh
    /bin/busybox echo "swiftvisor-init: counter at /init: $(/bin/cntvct)"
    /bin/busybox --install -s
    export PATH=/bin:/sbin:/usr/bin:/usr/sbin
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    mount -t devtmpfs devtmpfs /dev 2>/dev/null
    echo "swiftvisor-init: /init started"
    # Linux's Xen drivers that are modules in Debian's kernel, in dependency order (LinuxAssets.guestModules):
    # /dev/xen/evtchn, gntdev, gntalloc in every Xen guest; a driver domain's backends, bridge and
    # loop; the frontends (and ext4) for PV devices.
    mods() { for m in "$@"; do insmod /lib/modules/xen/$m.ko || echo "swiftvisor-init: insmod $m failed"; done; }
    if [ -d /sys/hypervisor ] && [ "$(cat /sys/hypervisor/type 2>/dev/null)" = xen ]; then
        mods xen-evtchn xen-gntdev xen-gntalloc
        case " $(cat /proc/cmdline) " in *" swiftvisor.bridge="*|*" swiftvisor.disk-file="*) mods llc stp bridge loop xen-netback xen-blkback;; esac
        # Always, as udev would once a device appears: the toolstack may plug one later (a driver
        # domain that boots after this guest, or comes back from a reboot).
        mods xen-netfront crc16 mbcache jbd2 crc32c_generic ext4 xen-blkfront
    fi
    for t in read write rm list ls; do ln -s xendevd /bin/xenstore-$t; done
    shell=no
    for w in $(cat /proc/cmdline); do
        case "$w" in swiftvisor.name=*) hostname "${w#swiftvisor.name=}";; swiftvisor.shell) shell=yes;; esac
    done
    /sbin/swiftvisor-net early
    # After the report: a login shell on the console, or power off. /dev/console cannot be a
    # controlling tty (no job control, no Ctrl-C), so cttyhack reopens the device behind it
    # (/sys/class/tty/console/active: ttyAMA0 today) in the session init gave the shell.
    if [ $shell = yes ]; then console="::respawn:/bin/cttyhack /bin/sh -l"; else console="::once:/sbin/poweroff"; fi
    cat > /etc/inittab <<EOF
    ::sysinit:/sbin/swiftvisor-report
    ::sysinit:/sbin/swiftvisor-net
    $console
    ::ctrlaltdel:/sbin/reboot
    ::shutdown:/sbin/swiftvisor-shutdown
    EOF
    exec /sbin/init

    """

    /// What the system tests parse (busybox init's `sysinit` action: init waits for it).
    public static let reportScript = """
    #!/bin/sh
    say() { echo "swiftvisor-init: $*"; }
    marker=none; boot=1; meet=
    for w in $(cat /proc/cmdline); do
        case "$w" in swiftvisor.marker=*) marker="${w#swiftvisor.marker=}";; swiftvisor.boot=*) boot="${w#swiftvisor.boot=}";;
            swiftvisor.xenmeet=*) meet="${w#swiftvisor.xenmeet=}";; esac
    done
    say "boot: $boot"
    if [ "$boot" = 1 ] && grep -q swiftvisor.reboot-test /proc/cmdline; then say "rebooting"; reboot -f; fi
    if [ "$boot" = 1 ] && grep -q swiftvisor.panic-test /proc/cmdline; then say "crashing the kernel"; echo c > /proc/sysrq-trigger; fi
    say "uname: $(uname -a)"
    if [ -r /sys/hypervisor/type ]; then
        v=/sys/hypervisor/version
        say "hypervisor: $(cat /sys/hypervisor/type) $(cat $v/major 2>/dev/null).$(cat $v/minor 2>/dev/null)$(cat $v/extra 2>/dev/null) uuid $(cat /sys/hypervisor/uuid 2>/dev/null)"
    else
        say "hypervisor: none"
    fi
    say "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    say "cpus: $(grep -c ^processor /proc/cpuinfo)"
    say "memory: $(grep MemTotal /proc/meminfo)"
    timer() { awk '/arch_timer/ { s = 0; for (i = 2; i <= NF; i++) { if ($i ~ /^[0-9]+$/) s += $i; else break }; print s }' /proc/interrupts; }
    t1=$(timer); sleep 1; t2=$(timer)
    say "timer interrupts: $t1 then $t2"
    echo "$marker" > /tmp/marker
    say "marker file: $(cat /tmp/marker)"
    say "markers seen: $(cat /tmp/marker /proc/cmdline | grep -o 'guest-[a-z]*' | sort -u | tr '\\n' ' ')"
    # swiftvisor.xenmeet=offer:PEER or accept:PEER: meet the peer through xenstore (Guests/LinuxTools/xenmeet.c).
    if [ -n "$meet" ]; then
        if [ -e /dev/xen/xenbus ]; then xenmeet "${meet%%:*}" "${meet#*:}"; say "xenmeet: exit status $?"; else say "xenmeet: no /dev/xen/xenbus"; fi
    fi
    say "done"

    """

    /// busybox init's `shutdown` action, before it signals every process and calls reboot(2).
    /// Nothing in the initramfs outlives the guest; this flushes and unmounts what can be.
    public static let shutdownScript = """
    #!/bin/sh
    echo "swiftvisor-init: shutting down"
    sync
    umount -a -r 2>/dev/null
    true

    """

    /// Read by the login shell: the prompt names the guest (`alpha:/# `).
    public static let profile = """
    export PATH=/bin:/sbin:/usr/bin:/usr/sbin
    export PS1='\\h:\\w\\$ '

    """

    /// `counter` is Guests/LinuxTools/cntvct, which /init runs first (for `bench --linux`);
    /// `tools` go to /bin under their file names (Guests/LinuxTools programs: xenmeet, xendevd
    /// with its xenstore-* names); `modules` (kernel modules) to /lib/modules/xen, loaded by /init
    /// under Xen; the network and disk scripts are LinuxNetworkScripts'.
    public static func build(busybox: URL, counter: URL, tools: [URL] = [], modules: [URL] = []) throws -> [UInt8] {
        var a = CPIOArchive()
        // Directories first: the kernel's unpacker creates entries in archive order.
        for dir in ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "etc", "lib", "lib/modules", "lib/modules/xen",
                    "etc/xen", "etc/xen/scripts", "run", "srv", "mnt"] {
            a.add(dir, .directory)
        }
        a.add("dev/console", .characterDevice(major: 5, minor: 1))
        a.add("bin/busybox", .file(Array(try Data(contentsOf: busybox)), executable: true))
        a.add("bin/cntvct", .file(Array(try Data(contentsOf: counter)), executable: true))
        for tool in tools { a.add("bin/" + tool.lastPathComponent, .file(Array(try Data(contentsOf: tool)), executable: true)) }
        for module in modules { a.add("lib/modules/xen/" + module.lastPathComponent, .file(Array(try Data(contentsOf: module)), executable: false)) }
        a.add("init", .file(Array(initScript.utf8), executable: true))
        a.add("sbin/swiftvisor-report", .file(Array(reportScript.utf8), executable: true))
        a.add("sbin/swiftvisor-shutdown", .file(Array(shutdownScript.utf8), executable: true))
        a.add("sbin/swiftvisor-net", .file(Array(LinuxNetworkScripts.netScript.utf8), executable: true))
        a.add("sbin/swiftvisor-nettest", .file(Array(LinuxNetworkScripts.netTest.utf8), executable: true))
        a.add("etc/xen/scripts/vif-bridge", .file(Array(LinuxNetworkScripts.vifBridge.utf8), executable: true))
        a.add("etc/xen/scripts/block", .file(Array(LinuxNetworkScripts.block.utf8), executable: true))
        a.add("etc/profile", .file(Array(profile.utf8), executable: false))
        return a.finish()
    }
}
