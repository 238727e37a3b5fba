/// A plain-text table for the terminal: a header row, then one line per row, columns two
/// spaces apart, each padded to its widest cell (numbers right-aligned, text left-aligned).
public struct TextTable {
    public enum Alignment { case left, right }
    public struct Column {
        public var title: String
        public var alignment: Alignment
        public init(_ title: String, _ alignment: Alignment = .left) { self.title = title; self.alignment = alignment }
    }

    public var columns: [Column]
    public var rows: [[String]] = []

    public init(_ columns: [Column]) { self.columns = columns }

    public mutating func add(_ row: [String]) {
        precondition(row.count == columns.count, "a row needs one cell per column")
        rows.append(row)
    }

    /// The header and the rows, without trailing spaces.
    public func render() -> [String] {
        let widths = columns.indices.map { c in ([columns[c].title] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            let padded = cells.indices.map { c -> String in
                let gap = String(repeating: " ", count: widths[c] - cells[c].count)
                return columns[c].alignment == .left ? cells[c] + gap : gap + cells[c]
            }
            let text = padded.joined(separator: "  ")
            return String(text.reversed().drop { $0 == " " }.reversed())
        }
        return [line(columns.map(\.title))] + rows.map(line)
    }
}
