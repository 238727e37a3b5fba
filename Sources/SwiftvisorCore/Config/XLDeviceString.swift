/// Why a `vif` or `disk` string cannot be used, in words for the config error.
public struct DeviceSpecError: Error, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// xl.cfg's device strings (`vif`, `disk`): comma-separated `key=value` items, with spaces
/// allowed around each (xl-network-configuration.5, xl-disk-configuration.5). Only the
/// key=value form: xl's positional disk form ("phy:/dev/x,xvda,w") is refused.
struct XLDeviceString {
    var items: [(key: String, value: String)] = []

    /// `flags`: xl's bare words (disk's `cdrom`, `discard`...), read as keys with an empty value.
    /// `restKey`: the key whose value is everything after it, commas included (disk's
    /// `target=`, which xl requires to be last for that reason).
    init(_ text: String, kind: String, example: String, restKey: String? = nil, flags: [String] = []) throws(DeviceSpecError) {
        let bytes = Array(text.utf8)
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
            let item = Self.trimmed(bytes[start..<end])
            if item.isEmpty {
                if end >= bytes.count && !items.isEmpty { break }  // a trailing comma
                throw DeviceSpecError("an empty item; write \(kind) as comma-separated key=value, e.g. \"\(example)\"")
            }
            guard let eq = item.firstIndex(of: UInt8(ascii: "=")) else {
                let word = String(decoding: item, as: UTF8.self)
                if flags.contains(word) { items.append((word, "")); start = end + 1; continue }
                throw DeviceSpecError("'\(word)' is not key=value: swiftvisor reads only xl's key=value form, e.g. \"\(example)\"")
            }
            let key = String(decoding: Self.trimmed(item[item.startIndex..<eq]), as: UTF8.self)
            if let restKey, key == restKey {
                // Everything after `target=`, less the spaces around it, is the value.
                let valueStart = bytes.firstIndex(of: UInt8(ascii: "="), after: start)! + 1
                items.append((key, String(decoding: Self.trimmed(bytes[valueStart...]), as: UTF8.self)))
                break
            }
            items.append((key, String(decoding: Self.trimmed(item[(eq + 1)...]), as: UTF8.self)))
            start = end + 1
        }
        for i in items.indices {
            for j in items.indices where j < i && items[j].key == items[i].key {
                throw DeviceSpecError("'\(items[i].key)' is given twice")
            }
        }
    }

    func value(_ key: String) -> String? {
        for item in items where item.key == key { return item.value }
        return nil
    }

    static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == UInt8(ascii: " ") || f == UInt8(ascii: "\t") { s.removeFirst() }
        while let l = s.last, l == UInt8(ascii: " ") || l == UInt8(ascii: "\t") { s.removeLast() }
        return s
    }
}

extension Array where Element == UInt8 {
    fileprivate func firstIndex(of byte: UInt8, after start: Int) -> Int? {
        var i = start
        while i < count { if self[i] == byte { return i }; i += 1 }
        return nil
    }
}
