import Foundation

/// A file in a shared cache named by what it holds (`initramfs-0123456789abcdef.cpio`), so that
/// runs of the tool in parallel (two `swift test` processes, two worktrees) never read a file
/// another run is writing, nor another build's file under the same name: each is written under
/// a name of its own (`.NAME.PID.RANDOM.tmp`) and renamed into place, and rename(2) replaces a
/// name atomically. A run that finds its file there already uses it as it is.
public enum ContentNamedFile {
    /// `PREFIX-HASH.EXTENSION`, HASH being 16 hex digits of the contents' FNV-1a (64 bits).
    public static func name(prefix: String, extension ext: String, contents: [UInt8]) -> String {
        let hash = String(fnv1a(contents), radix: 16)
        return "\(prefix)-\(String(repeating: "0", count: 16 - hash.count))\(hash).\(ext)"
    }

    /// Writes `contents` into `directory` under its content name; returns the file.
    /// Files of the same prefix not used for `keepFor` seconds are removed (in use files are
    /// touched each time a run picks them).
    @discardableResult
    public static func write(_ contents: [UInt8], in directory: URL, prefix: String, extension ext: String,
                             keepFor: TimeInterval = 24 * 3600) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let fileName = Self.name(prefix: prefix, extension: ext, contents: contents)
        let file = directory.appendingPathComponent(fileName)
        let size = (try? fm.attributesOfItem(atPath: file.path)[.size] as? Int) ?? nil
        if size == contents.count {
            try? fm.setAttributes([.modificationDate: Date()], ofItemAtPath: file.path)
        } else {
            let temporary = directory.appendingPathComponent(".\(fileName).\(getpid()).\(UInt32.random(in: .min ... .max)).tmp")
            do {
                try Data(contents).write(to: temporary)
                guard rename(temporary.path, file.path) == 0 else { throw POSIXFailure("renaming \(temporary.path) to \(fileName)") }
            } catch {
                try? fm.removeItem(at: temporary)
                throw error
            }
        }
        removeStale(in: directory, prefix: prefix, extension: ext, except: fileName, olderThan: Date().addingTimeInterval(-keepFor))
        return file
    }

    /// Earlier builds' files (and temporary files a killed run left) not used since `date`.
    static func removeStale(in directory: URL, prefix: String, extension ext: String, except keep: String, olderThan date: Date) {
        let fm = FileManager.default
        // PREFIX-HASH.EXT, or .PREFIX-HASH.EXT.PID.RANDOM.tmp: only names this code gives.
        func named(_ rest: Substring) -> Bool {
            rest.count >= 17 + ext.count && rest.prefix(16).allSatisfy(\.isHexDigit) && rest.dropFirst(16).hasPrefix("." + ext)
        }
        for entry in (try? fm.contentsOfDirectory(atPath: directory.path)) ?? [] where entry != keep {
            let ours = (entry.hasPrefix(prefix + "-") && entry.hasSuffix("." + ext) && entry.count == prefix.count + 18 + ext.count
                        && named(entry.dropFirst(prefix.count + 1)))
                || (entry.hasPrefix("." + prefix + "-") && entry.hasSuffix(".tmp") && named(entry.dropFirst(prefix.count + 2)))
            guard ours else { continue }
            let path = directory.appendingPathComponent(entry).path
            if let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < date {
                try? fm.removeItem(atPath: path)
            }
        }
    }

    /// FNV-1a, 64 bits (http://www.isthe.com/chongo/tech/comp/fnv/): a name, not a signature.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        bytes.withUnsafeBufferPointer { buffer in
            for b in buffer { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        }
        return hash
    }
}
