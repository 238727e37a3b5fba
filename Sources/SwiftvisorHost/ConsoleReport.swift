/// What the hypervisor's console said about each guest, read from its `swiftvisor:` lines.
public struct ConsoleReport: Equatable {
    public enum Outcome: Equatable {
        case shutDown(reason: String, exitCode: Int)
        case stopped(cause: String)
        case notStarted(cause: String)
        /// Ended from the hypervisor console (`destroy`, `quit`, an unanswered `shutdown`).
        case destroyed(String)
    }

    public private(set) var outcomes: [String: Outcome] = [:]
    public private(set) var panic: String?
    public private(set) var allFinished = false
    /// Per guest, per vCPU, the physical cores it ran on (from the shut-down line).
    public private(set) var vcpuCores: [String: [[Int]]] = [:]
    /// Per guest, the physical counter value its virtual counter starts from (CNTVOFF_EL2).
    public private(set) var counterOffsets: [String: UInt64] = [:]
    /// Per guest, the first "Kernel panic" line it printed (a Linux guest's own report).
    public private(set) var kernelPanics: [String: String] = [:]
    /// Lines each guest printed (without the "name | " prefix).
    public private(set) var guestLines: [String: [String]] = [:]
    /// Guests the hypervisor saw panic ("crashed: its kernel panicked").
    public private(set) var crashed: Set<String> = []
    /// Guests started by the console's `create`.
    public private(set) var created: Set<String> = []
    /// Hypervisor lines read (0: it never spoke).
    public private(set) var lines = 0

    public init() {}

    public init(lines: [String]) { for l in lines { consume(l) } }

    public mutating func consume(_ line: String) {
        let l = line.hasSuffix("\r") ? String(line.dropLast()) : line
        if let range = l.range(of: " | "), !l.hasPrefix("swiftvisor:") {
            let guest = String(l[..<range.lowerBound]), text = String(l[range.upperBound...])
            guestLines[guest, default: []].append(text)
            if kernelPanics[guest] == nil, let p = text.range(of: "Kernel panic - ") { kernelPanics[guest] = String(text[p.lowerBound...]) }
            return
        }
        guard l.hasPrefix("swiftvisor: ") else { return }
        lines += 1
        let body = l.dropFirst("swiftvisor: ".count)
        if body.hasPrefix("PANIC") { panic = String(body); return }
        if body.hasPrefix("all guests have finished") { allFinished = true; return }
        guard body.hasPrefix("guest '"), let nameEnd = body.dropFirst(7).firstIndex(of: "'") else { return }
        let name = String(body[body.index(body.startIndex, offsetBy: 7)..<nameEnd])
        let rest = body[body.index(after: nameEnd)...]
        if let r = rest.range(of: ", counter offset "), let v = UInt64(rest[r.upperBound...].prefix { $0.isNumber }) {
            counterOffsets[name] = v
        }
        if rest.hasPrefix(" shut down: ") {
            // "poweroff (exit code 0)"
            let text = rest.dropFirst(" shut down: ".count)
            let reason = text.prefix { $0 != " " }
            var code = -1
            if let r = text.range(of: "(exit code "), let c = Int(text[r.upperBound...].prefix { $0.isNumber }) { code = c }
            outcomes[name] = .shutDown(reason: String(reason), exitCode: code)
            // "; vCPUs ran on cores 0:{0,1} 1:{1}"
            if let r = text.range(of: "; vCPUs ran on cores ") {
                vcpuCores[name] = text[r.upperBound...].split(separator: " ").map { entry in
                    let set = entry.drop { $0 != "{" }.dropFirst().prefix { $0 != "}" }
                    return set.split(separator: ",").compactMap { Int($0) }
                }
            }
        } else if rest.hasPrefix(" stopped: ") {
            outcomes[name] = .stopped(cause: String(rest.dropFirst(" stopped: ".count)))
        } else if rest.hasPrefix(" destroyed: ") {
            outcomes[name] = .destroyed(String(rest.dropFirst(" destroyed: ".count)))
        } else if rest.hasPrefix(" created") || rest.hasPrefix(" rebooting") {
            if rest.hasPrefix(" created") { created.insert(name) }
            outcomes[name] = nil   // running again: its earlier ending no longer stands
        } else if rest.hasPrefix(" crashed: ") {
            crashed.insert(name)
        } else if rest.hasPrefix(" not started: ") {
            outcomes[name] = .notStarted(cause: String(rest.dropFirst(" not started: ".count)))
        }
    }

    /// True when this guest powered off with exit code 0.
    public func succeeded(_ guest: String) -> Bool {
        outcomes[guest] == .shutDown(reason: "poweroff", exitCode: 0)
    }
}
