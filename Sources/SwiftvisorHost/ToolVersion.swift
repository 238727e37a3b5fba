import Foundation
import SwiftvisorCore

/// `swiftvisor --version`: the host tool's version and, when the repository it was built from
/// (ProjectLayout.current.root) is a git checkout, the commit that checkout is at. The commit is
/// read when asked (one `git` call), so it is absent for a tool copied away from its sources.
public enum ToolVersion {
    /// The one version number, shared with the hypervisor's banner.
    public static let number = "\(SwiftvisorVersion.number)"

    /// "swiftvisor 0.7.0 (commit 9b8aa55)", or "swiftvisor 0.7.0" when the commit is unknown.
    public static func describe(commit: String?) -> String {
        "swiftvisor \(number)" + (commit.map { " (commit \($0))" } ?? "")
    }

    /// The abbreviated hash of HEAD, with "-dirty" when tracked files differ from it; nil when
    /// `root` is not a git checkout, git is not installed, or git refuses (e.g. another owner).
    public static func commit(in root: URL = ProjectLayout.current.root) -> String? {
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path),
              let git = Shell.which("git"),
              let output = try? Shell.run(git, ["-C", root.path, "describe", "--always", "--dirty", "--abbrev=7", "--exclude=*"])
        else { return nil }
        return parseCommit(output)
    }

    /// Accepts git's answer only if it is a hash (optionally "-dirty"), not a warning.
    static func parseCommit(_ output: String) -> String? {
        let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let hash = text.hasSuffix("-dirty") ? text.dropLast("-dirty".count) : Substring(text)
        guard hash.count >= 7, hash.allSatisfy(\.isHexDigit) else { return nil }
        return text
    }
}
