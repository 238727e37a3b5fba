/// The A64 WFIT instruction (FEAT_WFxT, Arm ARM C6.2 "WFIT"), decoded from its encoding for a
/// trapped WFIT whose ESR_EL2 does not name the register (ISS.RV = 0), or which QEMU (up to
/// 10.0 at least) reports with a WFI's syndrome (ISS.TI = 0b00):
/// 1101 0101 0000 0011 0001 0000 001 Rd, i.e. 0xD5031020 | Rd. (0xD5031000 | Rd is WFET.)
public struct WFITInstruction: Equatable {
    /// Rd, the register holding the timeout (a CNTVCT_EL0 value); 31 is XZR (timeout 0).
    public let register: Int

    static let fixedBits: UInt32 = 0xFFFF_FFE0
    static let encoding: UInt32 = 0xD503_1020

    /// nil unless `word` is a WFIT: every bit but Rd must match.
    public init?(_ word: UInt32) {
        guard word & Self.fixedBits == Self.encoding else { return nil }
        register = Int(word & 0x1F)
    }
}
