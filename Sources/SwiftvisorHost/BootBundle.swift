import Foundation

/// `swiftvisor bundle`: what a board's own boot loader needs to start swiftvisor with a
/// system's guests, in one folder: the hypervisor Image, one file holding the boot manifest
/// and every guest's kernel and ramdisk (loaded at one address), the board's device tree, and
/// the boot loader's configuration (docs/boards.md says where each goes).
public struct BootBundle {
    public var board: Board
    public var boot: BootLayout
    public var image: URL
    public var deviceTree: URL?

    public init(board: Board, boot: BootLayout, image: URL, deviceTree: URL?) {
        self.board = board; self.boot = boot; self.image = image; self.deviceTree = deviceTree
    }

    static let imageName = "swiftvisor.bin"
    static let modulesName = "swiftvisor-modules.bin"

    /// Where the boot loader must put the Image: RAM base + 2 MiB, as QEMU does (the image
    /// relocates itself, so any 2 MiB-aligned address clear of the modules and the DTB works).
    public var imageAddress: UInt64 { board.ramBase + 2 << 20 }

    /// The hypervisor's command line: where the modules are. (`swiftvisor.mux` is the host
    /// tool's; on a real serial line guests' lines are prefixed with their names.)
    public var commandLine: String { "swiftvisor.manifest=0x\(String(boot.manifestAddress, radix: 16))" }

    /// Writes the bundle into `directory` and returns the names of the files written.
    @discardableResult
    public func write(to directory: URL) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [String] = []
        func put(_ name: String, _ data: Data) throws {
            try data.write(to: directory.appendingPathComponent(name))
            written.append(name)
        }
        try put(Self.imageName, try Data(contentsOf: image))
        try put(Self.modulesName, try boot.modulesImage())
        if let deviceTree { try put(deviceTree.lastPathComponent, try Data(contentsOf: deviceTree)) }
        for (name, text) in bootLoaderFiles { try put(name, Data(text.utf8)) }
        return written
    }

    var hex: (UInt64) -> String { { "0x" + String($0, radix: 16) } }

    /// The boot loader's own files for this board.
    var bootLoaderFiles: [(String, String)] {
        let modules = hex(boot.manifestAddress)
        switch board {
        case .raspi4b:
            return [("config.txt", """
                # swiftvisor on a Raspberry Pi 4B (written by `swiftvisor bundle`; docs/boards.md).
                # The firmware starts the Image at EL2 with its own device tree in x0 (the
                # bcm2711-rpi-4-b.dtb of the boot partition) and the secondary cores waiting in
                # its spin table.
                arm_64bit=1
                kernel=\(Self.imageName)
                kernel_address=\(hex(imageAddress))
                # The boot manifest and the guests' kernels and ramdisks, as one file at the
                # address swiftvisor.manifest= names (cmdline.txt).
                initramfs \(Self.modulesName) \(modules)
                # The console: the PL011 (serial0) on GPIO 14/15, 115200 8N1; Bluetooth gives it up.
                enable_uart=1
                dtoverlay=disable-bt

                """),
                ("cmdline.txt", commandLine + "\n")]
        case .zcu102:
            let dtbAddress: UInt64 = 0x10_0000
            return [("boot.cmd", """
                # swiftvisor on a ZCU102 (written by `swiftvisor bundle`; docs/boards.md).
                # U-Boot script: mkimage -A arm64 -T script -C none -d boot.cmd boot.scr
                load mmc 0:1 \(hex(imageAddress)) \(Self.imageName)
                load mmc 0:1 \(modules) \(Self.modulesName)
                load mmc 0:1 \(hex(dtbAddress)) \(deviceTree?.lastPathComponent ?? "zynqmp-zcu102-rev1.0.dtb")
                setenv bootargs "\(commandLine)"
                booti \(hex(imageAddress)) - \(hex(dtbAddress))

                """)]
        case .virt:
            // Not a board one flashes; what QEMU would be given, to try the bundle itself.
            return [("qemu.sh", """
                #!/bin/sh
                # swiftvisor on QEMU virt from this bundle (written by `swiftvisor bundle`).
                cd "$(dirname "$0")"
                exec qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu cortex-a57 -smp 2 -m \(boot.machineRAMMiB)M \\
                    -display none -monitor none -serial stdio -nic none \\
                    -kernel \(Self.imageName) -append "\(commandLine)" \\
                    -device loader,file=\(Self.modulesName),addr=\(modules),force-raw=on

                """)]
        }
    }
}
