/// Xenstore path rules (tools/xenstore/xenstored_core.c of Xen 4.17: is_valid_nodename,
/// canonicalize, get_parent; xenstored_watch.c: is_child). Paths are byte strings.
enum XenstorePath {
    static let slash: UInt8 = 0x2F
    static let at: UInt8 = 0x40
    static let root: [UInt8] = [slash]

    /// "/local/domain/<domid>": a domain's home, where its relative paths resolve.
    static func domainPath(_ domid: UInt32) -> [UInt8] {
        XenstoreBytes.string("/local/domain/") + XenstoreBytes.decimal(UInt64(domid))
    }

    /// A path as the caller means it: absolute paths and special ("@...") names as given,
    /// anything else under the caller's domain path.
    static func canonical(_ path: [UInt8], domid: UInt32) -> [UInt8] {
        if let first = path.first, first == slash || first == at { return path }
        return domainPath(domid) + [slash] + path
    }

    /// Whether a byte may appear in a node name: letters, digits and "-/_@".
    static func isValidCharacter(_ b: UInt8) -> Bool {
        (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || (0x30...0x39).contains(b)
            || b == 0x2D || b == slash || b == 0x5F || b == at
    }

    /// is_valid_nodename: absolute, no trailing or double slash, valid characters, and at most
    /// `maxRelativeLength` bytes beyond a "/local/domain/N/" prefix.
    static func isValidNodeName(_ path: [UInt8], maxRelativeLength: Int = XenstoreWire.relativePathMax) -> Bool {
        guard path.first == slash else { return false }
        if path.count > 1 && path.last == slash { return false }
        for i in 1..<max(path.count, 1) where path[i] == slash && path[i - 1] == slash { return false }
        if path.count > localPrefixLength(path) + maxRelativeLength { return false }
        for b in path where !isValidCharacter(b) { return false }
        return true
    }

    /// The length of "/local/domain/N/" at the start of `path` (sscanf "%5u/%n"), or 0.
    static func localPrefixLength(_ path: [UInt8]) -> Int {
        let prefix = XenstoreBytes.string("/local/domain/")
        guard path.count > prefix.count, Array(path[0..<prefix.count]) == prefix else { return 0 }
        var i = prefix.count
        while i < path.count, i - prefix.count < 5, (0x30...0x39).contains(path[i]) { i += 1 }
        guard i > prefix.count, i < path.count, path[i] == slash else { return 0 }
        return i + 1
    }

    /// get_parent: everything before the last slash, or "/".
    static func parent(_ path: [UInt8]) -> [UInt8] {
        var i = path.count - 1
        while i > 0 {
            if path[i] == slash { return Array(path[0..<i]) }
            i -= 1
        }
        return root
    }

    /// The last component (the path must not be "/").
    static func basename(_ path: [UInt8]) -> [UInt8] {
        var i = path.count - 1
        while i >= 0, path[i] != slash { i -= 1 }
        return Array(path[(i + 1)...])
    }

    /// `parent`'s child named `name`.
    static func child(_ parent: [UInt8], _ name: [UInt8]) -> [UInt8] {
        parent == root ? root + name : parent + [slash] + name
    }

    /// is_child: `path` is `ancestor` or below it ("/" is everyone's ancestor).
    static func isWithin(_ path: [UInt8], _ ancestor: [UInt8]) -> Bool {
        if ancestor == root { return true }
        guard path.count >= ancestor.count, Array(path[0..<ancestor.count]) == ancestor else { return false }
        return path.count == ancestor.count || path[ancestor.count] == slash
    }
}
