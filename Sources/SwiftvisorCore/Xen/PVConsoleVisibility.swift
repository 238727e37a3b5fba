/// Whether a guest's PV console (hvc0) output is shown on its console beside its PL011's.
///
/// Linux on Xen makes hvc0 a console even when told `console=ttyAMA0`
/// (arch/arm/xen/enlighten.c adds "hvc" as a preferred console before the command line's
/// `console=` is parsed), so every kernel message would appear twice. On Xen the user picks one
/// with `xl console -t pv|serial`; here the command line picks: hvc0 is shown unless the command
/// line names consoles and hvc0 is not one of them. A guest without `console=` (our bare-metal
/// guests, unikernels) shows both.
public enum PVConsoleVisibility {
    public static func shown(commandLine: String) -> Bool {
        var namesConsoles = false
        let prefix = Array("console=".utf8), hvc0 = Array("hvc0".utf8)
        for word in commandLine.utf8.split(separator: UInt8(ascii: " ")) {
            guard word.starts(with: prefix) else { continue }
            namesConsoles = true
            // console=hvc0 or console=hvc0,OPTIONS
            let device = word.dropFirst(prefix.count).prefix { $0 != UInt8(ascii: ",") }
            if device.elementsEqual(hvc0) { return true }
        }
        return !namesConsoles
    }
}
