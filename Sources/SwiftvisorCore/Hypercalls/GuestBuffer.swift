/// Walks a guest buffer given by virtual address page by page, as hypercall arguments must be
/// (the guest's stage-1 and stage-2 decide each page separately).
public enum GuestBuffer {
    /// Calls `body` with (host address, length) for each page-sized piece of [va, va + length),
    /// after `translate` has resolved every page. Nothing is passed to `body` unless every page
    /// translates, so a partly bad buffer has no effect. Returns false on any failure.
    @inline(__always)
    public static func forEachPiece(virtualAddress va: UInt64, length: UInt64,
                                    translate: (UInt64) -> HostPhysicalAddress?,
                                    _ body: (HostPhysicalAddress, Int) -> Void) -> Bool {
        guard length > 0 else { return true }
        guard va <= UInt64.max - (length - 1) else { return false }
        // First pass: every page must translate.
        var page = alignDown(va, PageSize.granule)
        let last = alignDown(va + (length - 1), PageSize.granule)
        while true {
            if translate(page) == nil { return false }
            if page == last { break }
            page += PageSize.granule
        }
        var done: UInt64 = 0
        while done < length {
            let at = va + done
            let inPage = min(PageSize.granule - (at & (PageSize.granule - 1)), length - done)
            guard let host = translate(at) else { return false }
            body(host, Int(inPage))
            done += inPage
        }
        return true
    }
}
