import Foundation

public struct CommandError: Error, CustomStringConvertible {
    public var command: String
    public var status: Int32
    public var output: String
    public var description: String { "`\(command)` failed with status \(status):\n\(output)" }
}

enum Shell {
    /// Runs a program, returning its combined output; throws if it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], currentDirectory: URL? = nil) throws -> String {
        var lines: [String] = []
        try stream(executable, arguments, currentDirectory: currentDirectory, keepOutput: true) { lines.append($0) }
        return lines.joined(separator: "\n")
    }

    /// Runs a program, passing each line of its output to `onLine` as it arrives (for progress);
    /// throws if it fails, with its last lines.
    static func stream(_ executable: String, _ arguments: [String], currentDirectory: URL? = nil,
                       keepOutput: Bool = false, onLine: @escaping (String) -> Void) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let currentDirectory { p.currentDirectoryURL = currentDirectory }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        let collector = LineCollector(onLine: onLine)
        try p.run()
        while true {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            collector.append(data)
        }
        collector.flush()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let output = collector.lines.suffix(keepOutput ? collector.lines.count : 20).joined(separator: "\n")
            throw CommandError(command: ([executable] + arguments).joined(separator: " "), status: p.terminationStatus, output: output)
        }
    }

    /// The first executable called `name` on PATH.
    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
