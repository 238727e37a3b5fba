/// Traps whose control bits exist only on CPUs with the feature (RES0 otherwise, so they are
/// set only where the ID registers say the feature is there), as Xen and KVM set them:
/// HCR_EL2.TLOR (LORegions), HCR_EL2.TERR (RAS error records), MDCR_EL2.TPMS (Statistical
/// Profiling) and MDCR_EL2.TTRF (trace filter).
public struct FeatureTraps: Equatable {
    /// ID_AA64MMFR1_EL1.LO, bits 19:16: FEAT_LOR.
    public var limitedOrderingRegions: Bool
    /// ID_AA64PFR0_EL1.RAS, bits 31:28: FEAT_RAS.
    public var reliabilityAvailabilityServiceability: Bool
    /// ID_AA64DFR0_EL1.PMSVer, bits 35:32: FEAT_SPE.
    public var statisticalProfiling: Bool
    /// ID_AA64DFR0_EL1.TraceFilt, bits 43:40: FEAT_TRF.
    public var traceFilter: Bool

    public init(pfr0: UInt64, mmfr1: UInt64, dfr0: UInt64) {
        limitedOrderingRegions = bits(mmfr1, 19, 16) != 0
        reliabilityAvailabilityServiceability = bits(pfr0, 31, 28) != 0
        statisticalProfiling = bits(dfr0, 35, 32) != 0
        traceFilter = bits(dfr0, 43, 40) != 0
    }

    /// `hcr` with TLOR and TERR set where the CPU has the feature: LORegion accesses then
    /// UNDEF (FEAT_LOR is hidden from ID_AA64MMFR1_EL1), error record accesses RAZ/WI
    /// (`SystemRegisterAction.init`), as KVM.
    public func applied(to hcr: HCR) -> HCR {
        var h = hcr
        h.tlor = limitedOrderingRegions
        h.terr = reliabilityAvailabilityServiceability
        return h
    }

    /// `mdcr` with TPMS and TTRF set where the CPU has SPE and the trace filter: both UNDEF
    /// (neither is offered: ID_AA64DFR0_EL1 hides PMSVer and TraceFilt).
    public func applied(to mdcr: MDCR) -> MDCR {
        var m = mdcr
        m.tpms = statisticalProfiling
        m.ttrf = traceFilter
        return m
    }
}
