/// A trapped MSR/MRS, decoded from ESR_EL2.ISS (Arm ARM D19.2.40, "ISS encoding for EC 0x18").
public struct SystemRegisterAccess: Equatable {
    public var op0: UInt8, op1: UInt8, crn: UInt8, crm: UInt8, op2: UInt8
    /// Rt, bits 9:5: the general-purpose register transferred.
    public var register: Int
    /// Direction, bit 0: 1 for a read (MRS).
    public var isRead: Bool

    public init(esr: ESR) {
        let iss = esr.iss
        op0 = UInt8(bits(iss, 21, 20)); op2 = UInt8(bits(iss, 19, 17)); op1 = UInt8(bits(iss, 16, 14))
        crn = UInt8(bits(iss, 13, 10)); register = Int(bits(iss, 9, 5)); crm = UInt8(bits(iss, 4, 1))
        isRead = bit(iss, 0)
    }
}
