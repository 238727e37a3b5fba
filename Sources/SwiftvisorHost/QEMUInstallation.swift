import Foundation

/// A qemu-system-aarch64 to run: the system's, or Debian's newer build unpacked into our cache
/// for the board models the system's lacks.
public struct QEMUInstallation: Sendable {
    public var executable: String
    /// Extra environment for it (an unpacked QEMU must load its own modules).
    public var environment: [String: String] = [:]
    /// Arguments that point it at its own firmware and data files (`-L`).
    public var dataArguments: [String] = []
    /// "10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)": the first line of `--version`, shortened.
    public var version: String
    public var major: Int { Int(version.prefix { $0.isNumber }) ?? 0 }

    public init(executable: String, environment: [String: String] = [:], dataArguments: [String] = [], version: String) {
        self.executable = executable
        self.environment = environment
        self.dataArguments = dataArguments
        self.version = version
    }

    /// The installation at `executable`, asking it its version.
    public static func probe(_ executable: String, environment: [String: String] = [:], dataArguments: [String] = []) -> QEMUInstallation {
        let output = (try? Shell.run("/usr/bin/env", environment.map { "\($0.key)=\($0.value)" } + [executable, "--version"])) ?? ""
        return QEMUInstallation(executable: executable, environment: environment, dataArguments: dataArguments,
                                version: parseVersion(output) ?? "unknown")
    }

    /// "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" -> "7.2.22 (Debian ...)".
    static func parseVersion(_ output: String) -> String? {
        guard let line = output.split(separator: "\n").first, let range = line.range(of: "version ") else { return nil }
        return String(line[range.upperBound...])
    }

    /// A QEMU that has `board`: the system's if it is new enough, else Debian's
    /// bookworm-backports build in the cache (fetched the first time; see BackportQEMU).
    public static func locate(for board: Board, cache: URL = LinuxAssets.defaultCache, log: @escaping (String) -> Void) throws -> QEMUInstallation {
        let system = probe(try QEMU.locate(log: log))
        if system.major >= board.minimumQEMUMajor { return system }
        return try BackportQEMU(cacheDirectory: cache, log: log).fetch(reason: "the system's QEMU \(system.version) has no \(board.qemuMachineName) model (QEMU \(board.minimumQEMUMajor) or later has)")
    }
}

/// QEMU 10 from Debian's `bookworm-backports` suite, fetched with a private apt state into
/// the cache and unpacked there, as the Linux guest packages are (shared/PLATFORM.md, "Board
/// models"). The system's apt configuration and installed packages are never changed; the
/// unpacked binary runs with the system's libraries (those of its own QEMU 7.2, which
/// `QEMU.locate` installs).
public struct BackportQEMU {
    public let directory: URL
    public var log: (String) -> Void

    public struct Failed: Error, CustomStringConvertible { public var description: String }

    static let packages = ["qemu-system-arm", "qemu-system-common", "qemu-system-data"]
    static let suite = "bookworm-backports"

    public init(cacheDirectory: URL, log: @escaping (String) -> Void) {
        directory = cacheDirectory.appendingPathComponent("qemu-\(Self.suite)")
        self.log = log
    }

    var root: URL { directory.appendingPathComponent("root") }
    var executable: URL { root.appendingPathComponent("usr/bin/qemu-system-aarch64") }

    var installation: QEMUInstallation {
        // Its modules (display, audio) and firmware files, not the system QEMU's: a module from
        // another build refuses to load, with a warning on every start.
        QEMUInstallation.probe(executable.path,
                               environment: ["QEMU_MODULE_DIR": root.appendingPathComponent("usr/lib/x86_64-linux-gnu/qemu").path],
                               dataArguments: ["-L", root.appendingPathComponent("usr/share/qemu").path])
    }

    public func fetch(reason: String) throws -> QEMUInstallation {
        if FileManager.default.isExecutableFile(atPath: executable.path) {
            let existing = installation
            if existing.major >= 9 { return existing }
        }
        guard let apt = Shell.which("apt-get"), let dpkg = Shell.which("dpkg") else {
            throw Failed(description: "\(reason); fetching QEMU from Debian's \(Self.suite) needs apt-get and dpkg (a Debian system), or install QEMU 9 or later yourself")
        }
        let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        guard FileManager.default.fileExists(atPath: keyring) else {
            throw Failed(description: "\(reason); fetching it from Debian's \(Self.suite) needs \(keyring): install it with: sudo apt-get install debian-archive-keyring")
        }
        log("qemu: \(reason): fetching QEMU from Debian's \(Self.suite) into \(directory.path)")
        let lists = directory.appendingPathComponent("apt-lists"), archives = directory.appendingPathComponent("apt-cache")
        let debs = directory.appendingPathComponent("debs")
        try? FileManager.default.removeItem(at: root)
        for d in [lists.appendingPathComponent("partial"), archives.appendingPathComponent("archives/partial"), debs, root] {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        }
        let sources = directory.appendingPathComponent("backports.sources")
        try """
        Types: deb
        URIs: \(Self.mirror())
        Suites: \(Self.suite)
        Components: main
        Signed-By: \(keyring)

        """.write(to: sources, atomically: true, encoding: .utf8)
        let options = ["-o", "Dir::Etc::SourceList=/dev/null", "-o", "Dir::Etc::SourceParts=/nonexistent",
                       "-o", "Dir::Etc::sourcelist=\(sources.path)",
                       "-o", "Dir::State::Lists=\(lists.path)", "-o", "Dir::Cache=\(archives.path)"]
        do {
            try Shell.run(apt, options + ["-q", "update"])
            log("qemu: downloading \(Self.packages.joined(separator: ", ")) (about 13 MB)")
            try Shell.run(apt, options + ["-q", "download"] + Self.packages, currentDirectory: debs)
        } catch {
            throw Failed(description: "\(reason), and downloading it from Debian's \(Self.suite) failed: \(error)")
        }
        for deb in try FileManager.default.contentsOfDirectory(atPath: debs.path).sorted() where deb.hasSuffix(".deb") {
            try Shell.run(dpkg, ["-x", debs.appendingPathComponent(deb).path, root.path])
        }
        try? FileManager.default.removeItem(at: debs)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw Failed(description: "the \(Self.suite) packages held no usr/bin/qemu-system-aarch64")
        }
        if let missing = Self.missingLibraries(executable.path), !missing.isEmpty {
            throw Failed(description: "QEMU from \(Self.suite) needs libraries this system lacks: \(missing.joined(separator: ", ")); install them with apt-get (Debian 12 has them)")
        }
        let fetched = installation
        log("qemu: using QEMU \(fetched.version) from \(executable.path)")
        return fetched
    }

    /// Libraries `ldd` cannot find for `executable`; nil if ldd is not there.
    static func missingLibraries(_ executable: String) -> [String]? {
        guard let ldd = Shell.which("ldd"), let output = try? Shell.run(ldd, [executable]) else { return nil }
        return output.split(separator: "\n").filter { $0.contains("not found") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// The Debian mirror the system's apt sources name (so a machine behind a local mirror
    /// keeps using it), else deb.debian.org.
    static func mirror() -> String {
        let files = ["/etc/apt/sources.list"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/etc/apt/sources.list.d")) ?? [])
            .filter { $0.hasSuffix(".sources") || $0.hasSuffix(".list") }.map { "/etc/apt/sources.list.d/\($0)" }
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                for word in line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                where word.hasPrefix("http") && word.hasSuffix("/debian") {
                    return String(word)
                }
            }
        }
        return "http://deb.debian.org/debian"
    }
}
