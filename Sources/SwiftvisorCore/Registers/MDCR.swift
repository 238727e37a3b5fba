/// MDCR_EL2, Monitor Debug Configuration Register (Arm ARM D19.2.84).
public struct MDCR: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    /// HPMN, bits 4:0: event counters EL1 and EL0 may use.
    public var hpmn: UInt64 { get { bits(rawValue, 4, 0) } set { rawValue = setting(rawValue, 4, 0, to: newValue) } }
    /// TPMCR, bit 5: trap PMCR_EL0 accesses.
    public var tpmcr: Bool { get { bit(rawValue, 5) } set { rawValue = setting(rawValue, 5, newValue) } }
    /// TPM, bit 6: trap Performance Monitors accesses.
    public var tpm: Bool { get { bit(rawValue, 6) } set { rawValue = setting(rawValue, 6, newValue) } }
    /// TDE, bit 8: route debug exceptions to EL2.
    public var tde: Bool { get { bit(rawValue, 8) } set { rawValue = setting(rawValue, 8, newValue) } }
    /// TDA, bit 9: trap debug register accesses.
    public var tda: Bool { get { bit(rawValue, 9) } set { rawValue = setting(rawValue, 9, newValue) } }
    /// TDOSA, bit 10: trap OS-related debug registers (OSLAR, OSLSR, OSDLR, DBGPRCR).
    public var tdosa: Bool { get { bit(rawValue, 10) } set { rawValue = setting(rawValue, 10, newValue) } }
    /// TDRA, bit 11: trap debug ROM address registers.
    public var tdra: Bool { get { bit(rawValue, 11) } set { rawValue = setting(rawValue, 11, newValue) } }
    /// TPMS, bit 14 (FEAT_SPE, RES0 without it): trap the Statistical Profiling registers.
    public var tpms: Bool { get { bit(rawValue, 14) } set { rawValue = setting(rawValue, 14, newValue) } }
    /// TTRF, bit 19 (FEAT_TRF, RES0 without it): trap the trace filter controls (TRFCR_EL1).
    public var ttrf: Bool { get { bit(rawValue, 19) } set { rawValue = setting(rawValue, 19, newValue) } }

    /// PMCR_EL0.N, bits 15:11: the number of event counters implemented (Arm ARM D19.4.8).
    public static func eventCounters(pmcr: UInt64) -> UInt64 { bits(pmcr, 15, 11) }

    /// Every guest's: PMU (TPM, TPMCR) and debug (TDA, TDOSA, TDRA) registers trap, HPMN keeps
    /// every counter (its reset value; a smaller one would change what EL2 counts).
    public static func guest(pmcr: UInt64) -> MDCR {
        var m = MDCR()
        m.hpmn = eventCounters(pmcr: pmcr)
        m.tpmcr = true; m.tpm = true
        m.tda = true; m.tdosa = true; m.tdra = true
        return m
    }
}
