import Foundation

/// What `swiftvisor bench` prints: what it measured on, then a table of the figures beside the
/// reference hypervisors' counts (ReferenceFigures) and the ratio; or all of it as one JSON
/// object (`--json`) for scripts.
public struct BenchReport {
    public var environment: BenchEnvironment
    public var runs: [Benchmark.Run]

    public init(environment: BenchEnvironment, runs: [Benchmark.Run]) {
        self.environment = environment
        self.runs = runs
    }

    public static let unit = "guest instructions per round trip, the guest's and the hypervisor's together"

    /// Each figure with the QEMU cores it ran on, in the order the guest printed them.
    var figures: [(figure: Benchmark.Figure, cores: Int)] {
        runs.flatMap { run in run.figures.map { ($0, run.cores) } }
    }

    public var text: [String] {
        var table = TextTable([.init("figure"), .init("cores", .right), .init("swiftvisor", .right)]
                              + ReferenceFigures.systems.map { .init($0.title, .right) })
        let references = figures.map { ReferenceFigures.instructions[$0.figure.name] ?? [:] }
        // Within a reference column, the counts and the ratios line up as well.
        let cells: [[String]] = ReferenceFigures.systems.map { system in
            let parts = zip(figures, references).map { entry, refs -> (count: String, ratio: String)? in
                guard let count = refs[system.id] else { return nil }
                let ratio = ReferenceFigures.ratio(reference: count, swiftvisor: entry.figure.value)
                return ("\(count)", ratio.map { "(" + Self.format(ratio: $0) + ")" } ?? "")
            }
            let countWidth = parts.compactMap { $0?.count.count }.max() ?? 0
            let ratioWidth = parts.compactMap { $0?.ratio.count }.max() ?? 0
            return parts.map { part in
                guard let part else { return "-" }
                return part.count.leftPadded(to: countWidth) + " " + part.ratio.leftPadded(to: ratioWidth)
            }
        }
        for (i, entry) in figures.enumerated() {
            table.add([entry.figure.name, "\(entry.cores)", "\(entry.figure.value)"] + cells.map { $0[i] })
        }
        return ["swiftvisor bench: \(Self.unit) (fewer is better)", "", "Measured on"] + environment.lines + [""]
            + table.render() + [
                "",
                "cores: physical cores of the QEMU machine (-smp). (4.0x): the reference takes 4.0 times",
                "swiftvisor's instructions. References from docs/performance.md (same method, QEMU 7.2, -smp 1);",
                "-: not measured there.",
            ]
    }

    /// "4.0x" (one decimal; the counts behind it are exact, the ratio is for reading).
    static func format(ratio: Double) -> String { String(format: "%.1fx", ratio) }

    // MARK: JSON

    struct JSONReport: Encodable {
        var unit: String
        var referencesFrom: String
        var environment: BenchEnvironment
        var figures: [String: JSONFigure]
    }

    struct JSONFigure: Encodable {
        var instructions: Int
        /// Physical cores of the QEMU machine (-smp) for this figure.
        var cores: Int
        var references: [String: JSONReference]
    }

    struct JSONReference: Encodable {
        var instructions: Int
        /// Reference / swiftvisor, two decimals; absent when swiftvisor's count is 0.
        var ratio: Double?
    }

    /// One JSON object: unit, environment, and figures by name, each with its references by
    /// system id (ReferenceFigures.System.id); keys in snake_case, sorted.
    public var json: String {
        var byName: [String: JSONFigure] = [:]
        for (figure, cores) in figures {
            let refs = (ReferenceFigures.instructions[figure.name] ?? [:]).mapValues { count in
                JSONReference(instructions: count,
                              ratio: ReferenceFigures.ratio(reference: count, swiftvisor: figure.value).map { ($0 * 100).rounded() / 100 })
            }
            byName[figure.name] = JSONFigure(instructions: figure.value, cores: cores, references: refs)
        }
        return Self.encode(JSONReport(unit: Self.unit, referencesFrom: "docs/performance.md", environment: environment, figures: byName))
    }

    /// Pretty-printed, sorted keys, snake_case: stable output that diffs well.
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Encoding these plain structs cannot fail.
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
