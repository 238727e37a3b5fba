/// The Linux initramfs's network and disk side (issue 10): Xen's hotplug scripts as a driver
/// domain runs them (started by Guests/LinuxTools/xendevd.c, our `xl devd`), and what init does
/// after the report to bring up a driver domain or a frontend.
///
/// Command-line words `/sbin/swiftvisor-net` reads:
/// - `swiftvisor.bridge=BRIDGE:ADDRESS/PREFIX` (a driver domain): creates the bridge with that
///   address (as a dom0's network set-up would: Xen's vif-bridge wants it to exist), starts
///   xendevd and busybox httpd (a page in /srv/www);
/// - `swiftvisor.disk-file=PATH:MIB[,PATH:MIB]` (a driver domain): sparse files a `disk`'s
///   `target` names, created at boot;
/// - `swiftvisor.ip=ADDRESS/PREFIX` (a frontend): every ethN netfront creates gets the address
///   (again when it comes back after its driver domain rebooted); a `/dev/xvda` is mounted on
///   /mnt (made ext2 first if it holds no filesystem) and a line per boot is added to
///   /mnt/boots.txt;
/// - `swiftvisor.ping=A[,B...]`: pinged once the network is up (retried for a minute);
/// - `swiftvisor.nettest=ROLE` (the system tests' scenario, docs in `netTest`).
/// Lines start with "swiftvisor-init: net: " (the system tests read them).
public enum LinuxNetworkScripts {
    /// Xen's tools/hotplug/Linux/vif-bridge, `online`: the vif joins the bridge named in its
    /// backend node, comes up, and hotplug-status says so.
    public static let vifBridge = """
    #!/bin/sh
    # vif-bridge online|offline (env XENBUS_PATH=backend/vif/DOMID/N), run by xendevd.
    say() { echo "xendevd: $*"; }
    fe=$(xenstore-read "$XENBUS_PATH/frontend-id") || exit 1
    vif=vif$fe.${XENBUS_PATH##*/}
    bridge=$(xenstore-read "$XENBUS_PATH/bridge" 2>/dev/null) || bridge=xenbr0
    case "$1" in
    online|add)
        if [ ! -d /sys/class/net/$bridge ]; then
            brctl addbr $bridge && echo 0 > /sys/class/net/$bridge/bridge/forward_delay && ip link set $bridge up
            say "created bridge $bridge"
        fi
        brctl addif $bridge $vif || exit 1
        ip link set dev $vif up || exit 1
        xenstore-write "$XENBUS_PATH/hotplug-status" connected
        say "$vif joined $bridge"
        ;;
    offline|remove)
        brctl delif $bridge $vif 2>/dev/null
        say "$vif left $bridge"
        ;;
    esac
    exit 0

    """

    /// Xen's tools/hotplug/Linux/block, for `type=phy`: a block device is served as it is, a
    /// regular file through a loop device (read-only with mode "r"); `physical-device` is its
    /// major:minor in hex, which blkback waits for. `remove` detaches the loop device (blkback
    /// may still hold it for a moment).
    public static let block = """
    #!/bin/sh
    # block add|remove (env XENBUS_PATH=backend/vbd/DOMID/DEVID), run by xendevd.
    say() { echo "xendevd: $*"; }
    key=$(echo "$XENBUS_PATH" | awk -F/ '{ print $(NF-1) "-" $NF }')
    record=/run/xen/vbd-$key
    mkdir -p /run/xen
    detach() {
        [ -f $record ] || return 0
        loop=$(cat $record)
        for i in 1 2 3 4 5 6 7 8 9 10; do
            losetup -d $loop 2>/dev/null && { say "detached $loop (vbd $key)"; rm -f $record; return 0; }
            sleep 1
        done
        say "could not detach $loop (vbd $key)"; rm -f $record
    }
    case "$1" in
    add)
        params=$(xenstore-read "$XENBUS_PATH/params") || exit 1
        mode=$(xenstore-read "$XENBUS_PATH/mode" 2>/dev/null) || mode=w
        detach   # the node was written again (its frontend came back) before we saw it go
        if [ -b "$params" ]; then
            dev=$params
        elif [ -f "$params" ]; then
            ro=; [ "$mode" = r ] && ro=-r
            dev=$(losetup -f) && losetup $ro $dev "$params" || { say "losetup failed for $params"; exit 1; }
            echo $dev > $record
        else
            say "vbd $key: $params is neither a block device nor a file"; exit 1
        fi
        xenstore-write "$XENBUS_PATH/physical-device" "$(stat -L -c %t:%T $dev)" "$XENBUS_PATH/physical-device-path" $dev \\
            "$XENBUS_PATH/hotplug-status" connected || exit 1
        say "vbd $key: $params on $dev ($(stat -L -c %t:%T $dev), mode $mode)"
        ;;
    remove)
        detach
        ;;
    esac
    exit 0

    """

    /// `/sbin/swiftvisor-net early` from /init (a driver domain's services, a frontend's
    /// interface set-up), then `/sbin/swiftvisor-net` as busybox init's second `sysinit` step,
    /// after the report (a frontend's disk and pings, the test scenario, a driver domain's end).
    public static let netScript = """
    #!/bin/sh
    say() { echo "swiftvisor-init: net: $*"; }
    bridge=; ip=; ping=; files=; nettest=; boot=1; shell=no
    for w in $(cat /proc/cmdline); do
        case "$w" in swiftvisor.bridge=*) bridge="${w#*=}";; swiftvisor.ip=*) ip="${w#*=}";; swiftvisor.ping=*) ping="${w#*=}";;
            swiftvisor.disk-file=*) files="${w#*=}";; swiftvisor.nettest=*) nettest="${w#*=}";; swiftvisor.boot=*) boot="${w#*=}";;
            swiftvisor.shell) shell=yes;; esac
    done
    [ -n "$bridge$ip" ] || exit 0
    ip link set lo up
    [ -e /dev/xen/xenbus ] || { say "no /dev/xen/xenbus: no PV devices"; exit 0; }

    # Waits up to $1 seconds for the command that follows to succeed.
    waitfor() { n=$1; shift; while ! "$@" >/dev/null 2>&1; do n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 1; done; }
    pings() {
        for p in $(echo "$1" | tr , ' '); do
            if waitfor 90 ping -c 1 -W 1 $p; then
                say "ping $p: $(ping -c 3 -q $p | grep 'packets transmitted')"
            else
                say "ping $p: no answer"
            fi
        done
    }

    if [ "$1" = early ]; then
        # From /init, before the report: what must run before the other guests need it.
        if [ -n "$bridge" ]; then
            # A driver domain: a bridge for the vifs netback creates, the files disks are served
            # from, xendevd to run the hotplug scripts, and a web page.
            br=${bridge%%:*}; addr=${bridge#*:}
            # No forward delay: a port forwards as it joins (busybox brctl has no setfd; sysfs does it).
            brctl addbr $br && echo 0 > /sys/class/net/$br/bridge/forward_delay && ip addr add $addr dev $br && ip link set $br up
            say "bridge $br with $addr"
            for f in $(echo "$files" | tr , ' '); do
                path=${f%:*}; mkdir -p "${path%/*}"; truncate -s "${f##*:}M" "$path" && say "disk file $path: ${f##*:} MiB (sparse)"
            done
            mkdir -p /srv/www
            echo "<p>hello from $(hostname), the driver domain (domain $(xenstore-read domid), boot $boot)</p>" > /srv/www/index.html
            httpd -h /srv/www -p 80 && say "httpd serving http://${addr%/*}/"
            xendevd &
            say "xendevd started"
        fi
        if [ -n "$ip" ]; then
            # A frontend: every ethN netfront gives gets the address (now, and after a driver
            # domain's reboot).
            (
                while :; do
                    for d in /sys/class/net/eth*; do
                        [ -e "$d" ] || continue
                        n=${d##*/}
                        if ! ip -4 addr show dev $n | grep -q inet; then
                            ip addr add $ip dev $n && ip link set $n up && say "$n up with $ip (mac $(cat $d/address))"
                        fi
                    done
                    sleep 1
                done
            ) &
        fi
        exit 0
    fi

    if [ -n "$ip" ]; then
        waitfor 90 sh -c "ip -4 addr | grep -q 'inet ${ip%/*}/'" || say "no interface got $ip"
        if [ -d /sys/bus/xen/devices/vbd-51712 ]; then
            if waitfor 120 test -b /dev/xvda; then
                mkdir -p /mnt
                if ! mount -t ext2 /dev/xvda /mnt 2>/dev/null; then
                    mke2fs -q -L "$(hostname)-disk" /dev/xvda && say "disk: made an ext2 filesystem on /dev/xvda"
                    mount -t ext2 /dev/xvda /mnt || say "disk: cannot mount /dev/xvda"
                fi
                if grep -q ' /mnt ' /proc/mounts; then
                    say "disk: /dev/xvda ($(($(cat /sys/block/xvda/size) / 2048)) MiB) mounted on /mnt"
                    echo "boot $boot of $(hostname), $(date -u '+%Y-%m-%d %H:%M:%S')" >> /mnt/boots.txt
                    sync
                    while read -r l; do say "disk: /mnt/boots.txt: $l"; done < /mnt/boots.txt
                fi
            else
                say "disk: no /dev/xvda"
            fi
        fi
    fi
    [ -n "$ping" ] && pings "$ping"
    [ -n "$nettest" ] && /sbin/swiftvisor-nettest "$nettest" "$boot"

    if [ -n "$ip" ] && [ -n "$ping" ] && [ -z "$nettest" ] && [ $shell = no ]; then
        # Without a shell a frontend stays (at most two minutes) until the other frontends have
        # pinged it too: each pings every other guest 4 times or more (swiftvisor.ping: all
        # guests but itself, one of them the driver domain, which pings no one).
        want=$((4 * ($(echo "$ping" | tr , ' ' | wc -w) - 1)))
        echoes() { awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InEchos") c = i; h = 1 } else print $c }' /proc/net/snmp; }
        n=0; while [ $(echoes) -lt $want ] && [ $n -lt 120 ]; do n=$((n + 1)); sleep 1; done
    fi

    if [ -n "$bridge" ] && [ $shell = no ]; then
        # Without a shell a driver domain serves until it serves no one (its frontends ended).
        base=/local/domain/$(xenstore-read domid)/backend
        served() { [ -n "$(xenstore-list $base/vif 2>/dev/null)$(xenstore-list $base/vbd 2>/dev/null)" ]; }
        waitfor 120 served
        idle=0
        while [ $idle -lt 5 ]; do if served; then idle=0; else idle=$((idle + 1)); fi; sleep 1; done
        say "no frontends left after $(cut -d' ' -f1 /proc/uptime) s up (boot $boot)"
    fi
    exit 0

    """

    /// `/sbin/swiftvisor-nettest ROLE BOOT`: the system tests' scenario between a receiver
    /// (10.0.0.2, with the disk) and a sender (10.0.0.3), each told the other's address:
    /// - `receive:PEER`: boot 1 receives 32 MiB on TCP port 5001 and prints its sha256, then
    ///   reboots; boot 2 streams to PEER:5002 and crashes its kernel mid-transfer (sysrq c);
    ///   later boots (swiftvisor-net brought the network and disk back) tell PEER on port 5003.
    /// - `driver`: (the driver domain) boot 1 reboots when a frontend asks on TCP port 5004.
    /// - `send:PEER`: sends 32 MiB of random bytes to PEER:5001 and prints their sha256, takes
    ///   PEER's stream on port 5002 until it stops (PEER crashed), then pings the driver domain
    ///   (`DRIVER` after a second colon) and fetches its page, and waits for PEER's word on port 5003;
    ///   then asks DRIVER to reboot and waits for its interface to come back, pings DRIVER and
    ///   fetches its page again.
    /// - `survive:DRIVER:NODE` (PVAttackSystemTests): waits (at most 10 min) until the xenstore
    ///   node NODE (another guest's, readable by all) says `done`, then pings DRIVER and fetches its page.
    /// - `bench-serve` (`swiftvisor bench --net`, a driver domain): takes TCP streams on port 5010,
    ///   one after the other, and throws their bytes away.
    /// - `bench:PEER` (`swiftvisor bench --net`, a frontend): ping round trips and a 32 MiB TCP
    ///   stream with busybox nc, over loopback and to PEER (a `bench-serve`), timed with the
    ///   counter (/bin/cntvct). Its lines are NetBenchmark.Line's.
    public static let netTest = """
    #!/bin/sh
    say() { echo "swiftvisor-init: net: $*"; }
    role=${1%%:*}; rest=${1#*:}; peer=${rest%%:*}; driver=${rest#*:}; boot=$2
    size=$((32 * 1024 * 1024))
    # A listener's stdin must not end (busybox nc half-closes at its end, and the sender's nc
    # stops at that): -e gives the connection to a program instead.
    case "$role" in
    receive)
        if [ "$boot" = 1 ]; then
            say "receiving $size bytes on port 5001"
            timeout 600 nc -l -p 5001 -e sh -c 'exec cat > /tmp/blob'
            say "received $(stat -c %s /tmp/blob) bytes, sha256 $(sha256sum /tmp/blob | cut -d' ' -f1)"
            rm -f /tmp/blob
            say "rebooting"
            umount /mnt; sync
            reboot -f
        elif [ "$boot" = 2 ]; then
            tx() { cat /sys/class/net/eth*/statistics/tx_bytes | awk '{ s += $1 } END { print s }'; }
            start=$(tx)
            n=0; until dd if=/dev/zero bs=64k count=100000 2>/dev/null | nc $peer 5002; do n=$((n + 1)); [ $n -lt 60 ] || break; sleep 1; done &
            # Mid-transfer: once 4 MiB went out.
            n=0; while [ $(($(tx) - start)) -lt 4194304 ] && [ $n -lt 120 ]; do n=$((n + 1)); sleep 1; done
            say "crashing the kernel mid-transfer, $((($(tx) - start) / 1048576)) MiB sent"
            echo c > /proc/sysrq-trigger
        else
            n=0
            until echo "$(hostname) is back (boot $boot)" | nc $peer 5003 2>/dev/null; do n=$((n + 1)); [ $n -lt 300 ] || break; sleep 1; done
        fi
        ;;
    send)
        dd if=/dev/urandom of=/tmp/blob bs=1M count=32 2>/dev/null
        sum=$(sha256sum /tmp/blob | cut -d' ' -f1)
        n=0
        until nc $peer 5001 < /tmp/blob 2>/dev/null; do n=$((n + 1)); [ $n -lt 120 ] || break; sleep 1; done
        say "sent $(stat -c %s /tmp/blob) bytes to $peer, sha256 $sum"
        rm -f /tmp/blob
        # PEER's stream goes nowhere; the interfaces' byte counters show it start (the peer
        # reboots first) and stop (it crashed).
        rx() { cat /sys/class/net/eth*/statistics/rx_bytes | awk '{ s += $1 } END { print s }'; }
        start=$(rx)
        nc -l -p 5002 -e sh -c 'exec cat > /dev/null' &
        n=0; while [ $(($(rx) - start)) -lt 1048576 ] && [ $n -lt 400 ]; do n=$((n + 1)); sleep 1; done
        last=0; now=$(rx)
        while [ $((now - last)) -gt 65536 ]; do last=$now; sleep 5; now=$(rx); done
        say "the stream from $peer stopped after $(((now - start) / 1048576)) MiB"
        kill $! 2>/dev/null
        if ping -c 3 -q $driver | grep -q ' 0% packet loss'; then say "after the crash: ping $driver ok"; else say "after the crash: ping $driver failed"; fi
        say "after the crash: wget http://$driver/: $(wget -q -O - http://$driver/)"
        timeout 300 nc -l -p 5003 -e sh -c 'exec cat > /tmp/back'
        say "from $peer after its reboot: $(cat /tmp/back 2>/dev/null)"
        # The driver domain reboots: the interface goes with it and comes back (a new eth0,
        # configured again by swiftvisor-net's loop).
        n=0; until echo "$(hostname)" | nc $driver 5004 2>/dev/null; do n=$((n + 1)); [ $n -lt 60 ] || break; sleep 1; done
        n=0; while ping -c 1 -W 1 $driver >/dev/null 2>&1 && [ $n -lt 120 ]; do n=$((n + 1)); sleep 1; done
        say "$driver is gone"
        n=0; until ping -c 1 -W 1 $driver >/dev/null 2>&1; do n=$((n + 1)); [ $n -lt 400 ] || break; sleep 1; done
        if ping -c 3 -q $driver | grep -q ' 0% packet loss'; then say "after $driver's reboot: ping $driver ok"; else say "after $driver's reboot: ping $driver failed"; fi
        say "after $driver's reboot: wget http://$driver/: $(wget -q -O - http://$driver/)"
        ;;
    driver)
        # The driver domain reboots once when a frontend asks (TCP port 5004).
        if [ "$boot" = 1 ]; then
            timeout 1500 nc -l -p 5004 -e sh -c 'exec cat > /tmp/asked'
            say "rebooting after $(cut -d. -f1 /proc/uptime) s up (boot 1), as $(cat /tmp/asked) asked"
            reboot -f
        fi
        ;;
    bench-serve)
        # dd reads until the sender's nc half-closes; its exit closes the socket, which ends the sender's nc.
        ( while :; do nc -l -p 5010 -e sh -c 'exec dd of=/dev/null bs=64k 2>/tmp/bench-dd'; say "bench: served a stream: $(tail -1 /tmp/bench-dd)"; done ) &
        ;;
    bench)
        # The counter's frequency (ticks -> ns) as the kernel found it in CNTFRQ_EL0.
        say "bench: counter $(dmesg | grep -o 'arch_timer: .*running at [0-9.]*MHz' | grep -o '[0-9.]*MHz' | head -1 | tr -d MHz) MHz"
        dd if=/dev/zero of=/tmp/zero bs=1M count=32 2>/dev/null
        n=0; until ping -c 1 -W 1 $peer >/dev/null 2>&1; do n=$((n + 1)); [ $n -lt 120 ] || break; sleep 1; done
        nc -l -p 5010 -e sh -c 'exec dd of=/dev/null bs=64k 2>/dev/null' &
        for target in 127.0.0.1 $peer; do
            ping -c 3 -q $target >/dev/null   # neighbour entries, caches
            say "bench: ping $target: $(ping -c 10 -q $target | grep round-trip)"
            # The sender's nc ends when the receiver closed, after it read the last byte.
            # This guest's CPU time (idle, all) in USER_HZ ticks, from /proc/stat's "cpu" line.
            cpu() { awk '/^cpu / { print $5, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
            c0=$(cpu)
            n=0; until t0=$(cntvct); nc $target 5010 < /tmp/zero; do n=$((n + 1)); [ $n -lt 60 ] || break; sleep 1; done
            t1=$(cntvct)
            c1=$(cpu)
            say "bench: tcp $target: $(stat -c %s /tmp/zero) bytes in $((t1 - t0)) ticks"
            say "bench: tcp $target: idle $((${c1% *} - ${c0% *})) of $((${c1#* } - ${c0#* })) cpu ticks"
        done
        rm -f /tmp/zero
        say "bench: done"
        ;;
    survive)
        n=0; until [ "$(xenstore-read $driver 2>/dev/null)" = done ]; do n=$((n + 1)); [ $n -lt 600 ] || break; sleep 1; done
        say "after the attacks: $driver is '$(xenstore-read $driver 2>&1)'"
        if ping -c 3 -q $peer | grep -q ' 0% packet loss'; then say "after the attacks: ping $peer ok"; else say "after the attacks: ping $peer failed"; fi
        say "after the attacks: wget http://$peer/: $(wget -q -O - http://$peer/)"
        ;;
    esac
    exit 0

    """
}
