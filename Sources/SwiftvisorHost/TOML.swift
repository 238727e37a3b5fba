/// A reader for the subset of TOML v1.0 system descriptions use: comments, `key = value`,
/// `[table]` and `[[array-of-tables]]` headers, basic and literal strings, integers,
/// booleans and one-line arrays; LF or CRLF line ends, with or without a UTF-8 byte order mark.
/// Every value keeps its line for error messages.
public struct TOMLDocument {
    public enum Value: Equatable {
        case string(String), integer(Int), boolean(Bool), array([Value])
        public var typeName: String {
            switch self {
            case .string: return "a string"
            case .integer: return "an integer"
            case .boolean: return "a boolean"
            case .array: return "an array"
            }
        }
    }

    public struct Entry: Equatable {
        public var key: String
        public var value: Value
        public var line: Int
    }

    public struct Table: Equatable {
        /// Header name ("" for the top level), and whether it was `[[name]]`.
        public var name: String
        public var isArrayElement: Bool
        public var line: Int
        public var entries: [Entry] = []
    }

    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public private(set) var tables: [Table]

    public init(parsing text: String) throws {
        tables = [Table(name: "", isArrayElement: false, line: 1)]
        var lineNumber = 0
        // Split on scalars: in a String, "\r\n" is one Character, so splitting on "\n" would
        // keep a CRLF file as one line. A UTF-8 byte order mark at the start is not content.
        var scalars = Substring(text).unicodeScalars
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        for rawLine in scalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var chars = Array(rawLine)
            if chars.last == "\r" { chars.removeLast() }
            var scanner = Scanner(chars, line: lineNumber)
            scanner.skipSpaces()
            if scanner.atEndOrComment { continue }
            if scanner.peek == "[" {
                let isArray = scanner.peek(offset: 1) == "["
                scanner.advance(isArray ? 2 : 1)
                scanner.skipSpaces()
                let name = try scanner.bareKey()
                scanner.skipSpaces()
                try scanner.expect(isArray ? "]]" : "]")
                scanner.skipSpaces()
                guard scanner.atEndOrComment else { throw scanner.error("unexpected text after the table header") }
                if !isArray, tables.contains(where: { $0.name == name }) {
                    throw scanner.error("table [\(name)] is defined twice")
                }
                tables.append(Table(name: name, isArrayElement: isArray, line: lineNumber))
                continue
            }
            let key = try scanner.key()
            scanner.skipSpaces()
            try scanner.expect("=")
            scanner.skipSpaces()
            let value = try scanner.value()
            scanner.skipSpaces()
            guard scanner.atEndOrComment else { throw scanner.error("unexpected text after the value of '\(key)'") }
            if tables[tables.count - 1].entries.contains(where: { $0.key == key }) {
                throw scanner.error("key '\(key)' is set twice in the same table")
            }
            tables[tables.count - 1].entries.append(Entry(key: key, value: value, line: lineNumber))
        }
    }
}

private struct Scanner {
    let chars: [Unicode.Scalar]
    var i = 0
    let line: Int

    init(_ chars: [Unicode.Scalar], line: Int) { self.chars = chars; self.line = line }

    var peek: Unicode.Scalar? { i < chars.count ? chars[i] : nil }
    func peek(offset: Int) -> Unicode.Scalar? { i + offset < chars.count ? chars[i + offset] : nil }
    mutating func advance(_ n: Int = 1) { i += n }
    var atEndOrComment: Bool { peek == nil || peek == "#" || peek == "\r" }
    mutating func skipSpaces() { while peek == " " || peek == "\t" { advance() } }

    func error(_ message: String) -> TOMLDocument.SyntaxError { .init(line: line, message: message) }

    mutating func expect(_ s: String) throws {
        for c in s.unicodeScalars {
            guard peek == c else { throw error("expected '\(s)'") }
            advance()
        }
    }

    static func isBare(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
    }

    mutating func bareKey() throws -> String {
        var s = ""
        while let c = peek, Self.isBare(c) { s.unicodeScalars.append(c); advance() }
        guard !s.isEmpty else { throw error("expected a name") }
        return s
    }

    mutating func key() throws -> String {
        if peek == "\"" { return try basicString() }
        if peek == "'" { return try literalString() }
        let k = try bareKey()
        if peek == "." { throw error("dotted keys are not supported; use a [table] header") }
        return k
    }

    mutating func value() throws -> TOMLDocument.Value {
        guard let c = peek else { throw error("missing value") }
        switch c {
        case "\"": return .string(try basicString())
        case "'": return .string(try literalString())
        case "[":
            advance()
            var items: [TOMLDocument.Value] = []
            while true {
                skipSpaces()
                if peek == "]" { advance(); return .array(items) }
                items.append(try value())
                skipSpaces()
                if peek == "," { advance(); continue }
                skipSpaces()
                guard peek == "]" else { throw error("expected ',' or ']' in array (arrays must be on one line)") }
            }
        case "t", "f":
            let word = try bareKey()
            if word == "true" { return .boolean(true) }
            if word == "false" { return .boolean(false) }
            throw error("'\(word)' is not a value (strings need quotes)")
        default:
            var text = ""
            while let d = peek, Self.isBare(d) || d == "+" { text.unicodeScalars.append(d); advance() }
            let digits = text.replacingOccurrences("_", "")
            if digits.hasPrefix("0x"), let v = Int(digits.dropFirst(2), radix: 16) { return .integer(v) }
            if let v = Int(digits) { return .integer(v) }
            throw error(text.isEmpty ? "missing value" : "'\(text)' is not a value (strings need quotes)")
        }
    }

    mutating func basicString() throws -> String {
        advance()
        var s = ""
        while let c = peek {
            advance()
            switch c {
            case "\"": return s
            case "\\":
                guard let e = peek else { break }
                advance()
                switch e {
                case "n": s += "\n"
                case "t": s += "\t"
                case "\\": s += "\\"
                case "\"": s += "\""
                default: throw error("unsupported escape '\\\(e)'")
                }
            default: s.unicodeScalars.append(c)
            }
        }
        throw error("unterminated string")
    }

    mutating func literalString() throws -> String {
        advance()
        var s = ""
        while let c = peek {
            advance()
            if c == "'" { return s }
            s.unicodeScalars.append(c)
        }
        throw error("unterminated string")
    }
}

extension String {
    func replacingOccurrences(_ a: Character, _ b: String) -> String {
        var r = ""
        for c in self { if c == a { r += b } else { r.append(c) } }
        return r
    }
}
