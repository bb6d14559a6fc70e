/// Parses llama.cpp's GBNF grammar syntax into a ``GrammarDefinition``.
///
/// What it reads, as llama.cpp's `grammar-parser` does: `name ::= alternatives` rules, one per line
/// (a rule continues over newlines inside parentheses and after `|`); sequences of string literals
/// `"..."`, character classes `[a-z]` / `[^"\\]`, rule names, groups `( ... )` and `.` (any
/// character); the postfix operators `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}`; escapes `\x41`,
/// `\u00e9`, `\U0001F600`, `\t`, `\r`, `\n`, `\\`, `\"`, `\[`, `\]` (and `\-`, `\^` in classes);
/// `#` comments to the end of the line. Rule names are letters, digits, `-` and `_`.
///
/// Every error is a ``GrammarError`` with the byte offset; input size, nesting depth and repetition
/// bounds are checked against ``GrammarLimits`` as the text is read, so hostile input costs time
/// linear in its length.
public struct GBNFParser {
    private let bytes: [UInt8]
    private var pos = 0
    private let limits: GrammarLimits
    private var depth = 0

    /// Parses `source`.
    public static func parse(_ source: String, limits: GrammarLimits = .init()) throws(GrammarError) -> GrammarDefinition {
        guard source.utf8.count <= limits.maxSourceBytes else {
            throw .tooLarge(limit: "maxSourceBytes", reason: "\(source.utf8.count) bytes exceed \(limits.maxSourceBytes)")
        }
        var parser = GBNFParser(bytes: Array(source.utf8), limits: limits)
        return try parser.grammar()
    }

    private init(bytes: [UInt8], limits: GrammarLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    private var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private func peek(_ offset: Int) -> UInt8? { pos + offset < bytes.count ? bytes[pos + offset] : nil }

    private func fail(_ reason: String) -> GrammarError { .syntax(reason: reason, offset: pos) }

    private mutating func grammar() throws(GrammarError) -> GrammarDefinition {
        var definition = GrammarDefinition()
        skipSpace(newlines: true)
        while current != nil {
            let name = try ruleName()
            skipSpace(newlines: false)
            guard peek(0) == UInt8(ascii: ":"), peek(1) == UInt8(ascii: ":"), peek(2) == UInt8(ascii: "=") else {
                throw fail("expected ::= after rule name \"\(name)\"")
            }
            pos += 3
            skipSpace(newlines: true)
            let body = try alternatives(nested: false)
            switch current {
            case UInt8(ascii: "\r"):
                pos += peek(1) == UInt8(ascii: "\n") ? 2 : 1
            case UInt8(ascii: "\n"):
                pos += 1
            case nil:
                break
            default:
                throw fail("expected a newline or the end after rule \"\(name)\"")
            }
            try definition.define(name, body)
            skipSpace(newlines: true)
        }
        return definition
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }

    private mutating func ruleName() throws(GrammarError) -> String {
        let start = pos
        while let c = current, Self.isNameByte(c) { pos += 1 }
        guard pos > start else { throw fail("expected a rule name") }
        return String(decoding: bytes[start ..< pos], as: UTF8.self)
    }

    private mutating func skipSpace(newlines: Bool) {
        while let c = current {
            if c == 0x20 || c == 0x09 {
                pos += 1
            } else if c == UInt8(ascii: "#") {
                while let d = current, d != 0x0A, d != 0x0D { pos += 1 }
            } else if newlines, c == 0x0A || c == 0x0D {
                pos += 1
            } else {
                return
            }
        }
    }

    private mutating func alternatives(nested: Bool) throws(GrammarError) -> GrammarExpression {
        var options = [try sequence(nested: nested)]
        while current == UInt8(ascii: "|") {
            pos += 1
            skipSpace(newlines: true)
            options.append(try sequence(nested: nested))
            guard options.count <= limits.maxAlternatives else {
                throw .tooLarge(limit: "maxAlternatives", reason: "more than \(limits.maxAlternatives) alternatives in one rule")
            }
        }
        return options.count == 1 ? options[0] : .alternatives(options)
    }

    private mutating func sequence(nested: Bool) throws(GrammarError) -> GrammarExpression {
        var items: [GrammarExpression] = []
        while let c = current {
            switch c {
            case UInt8(ascii: "\""):
                pos += 1
                var parts: [GrammarExpression] = []
                while current != UInt8(ascii: "\"") {
                    guard current != nil else { throw fail("unterminated string literal") }
                    parts.append(.characters(CharacterClass(single: try character())))
                }
                pos += 1
                items.append(.sequence(parts))
            case UInt8(ascii: "["):
                pos += 1
                items.append(.characters(try characterClass()))
            case UInt8(ascii: "."):
                pos += 1
                items.append(.characters(.any))
            case UInt8(ascii: "("):
                pos += 1
                depth += 1
                guard depth <= limits.maxNesting else {
                    throw .tooLarge(limit: "maxNesting", reason: "groups nested more than \(limits.maxNesting) deep")
                }
                skipSpace(newlines: true)
                let inner = try alternatives(nested: true)
                guard current == UInt8(ascii: ")") else { throw fail("expected )") }
                pos += 1
                depth -= 1
                items.append(inner)
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                guard let last = items.popLast() else { throw fail("expected an item before \(Character(Unicode.Scalar(c)))") }
                pos += 1
                let (lo, hi): (Int, Int?) = c == UInt8(ascii: "*") ? (0, nil) : c == UInt8(ascii: "+") ? (1, nil) : (0, 1)
                items.append(.repetition(last, min: lo, max: hi))
            case UInt8(ascii: "{"):
                guard let last = items.popLast() else { throw fail("expected an item before {") }
                pos += 1
                skipSpace(newlines: nested)
                let lo = try integer()
                skipSpace(newlines: nested)
                var hi: Int? = lo
                if current == UInt8(ascii: ",") {
                    pos += 1
                    skipSpace(newlines: nested)
                    hi = current.map { $0 >= 0x30 && $0 <= 0x39 } == true ? try integer() : nil
                    skipSpace(newlines: nested)
                }
                guard current == UInt8(ascii: "}") else { throw fail("expected } to close the repetition") }
                pos += 1
                if let hi, hi < lo { throw fail("repetition {\(lo),\(hi)} has its maximum below its minimum") }
                items.append(.repetition(last, min: lo, max: hi))
            default:
                guard Self.isNameByte(c) else { return .sequence(items) }
                items.append(.rule(try ruleName()))
            }
            skipSpace(newlines: nested)
        }
        return .sequence(items)
    }

    private mutating func integer() throws(GrammarError) -> Int {
        let start = pos
        var value = 0
        while let c = current, c >= 0x30, c <= 0x39 {
            value = value * 10 + Int(c - 0x30)
            pos += 1
            guard value <= limits.maxRepetition else {
                throw .tooLarge(limit: "maxRepetition", reason: "a repetition bound exceeds \(limits.maxRepetition)")
            }
        }
        guard pos > start else { throw fail("expected a number") }
        return value
    }

    private mutating func characterClass() throws(GrammarError) -> CharacterClass {
        var negated = false
        if current == UInt8(ascii: "^") {
            negated = true
            pos += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        while current != UInt8(ascii: "]") {
            guard current != nil else { throw fail("unterminated character class") }
            let lower = try character(inClass: true)
            if current == UInt8(ascii: "-"), let next = peek(1), next != UInt8(ascii: "]") {
                pos += 1
                let upper = try character(inClass: true)
                guard upper >= lower else { throw fail("range end below its start") }
                ranges.append(lower ... upper)
            } else {
                ranges.append(lower ... lower)
            }
        }
        pos += 1
        return CharacterClass(ranges, negated: negated)
    }

    /// One code point: an escape, or one UTF-8 encoded character.
    private mutating func character(inClass: Bool = false) throws(GrammarError) -> UInt32 {
        guard let c = current else { throw fail("unexpected end of input") }
        if c == UInt8(ascii: "\\") {
            guard let e = peek(1) else { throw fail("unexpected end of input after \\") }
            pos += 2
            switch e {
            case UInt8(ascii: "x"): return try hex(2)
            case UInt8(ascii: "u"): return try hex(4)
            case UInt8(ascii: "U"): return try hex(8)
            case UInt8(ascii: "t"): return 0x09
            case UInt8(ascii: "r"): return 0x0D
            case UInt8(ascii: "n"): return 0x0A
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "]"): return UInt32(e)
            case UInt8(ascii: "-") where inClass, UInt8(ascii: "^") where inClass: return UInt32(e)
            default:
                pos -= 2
                throw fail("unknown escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
        // A UTF-8 sequence: the source came from a Swift String, so it is well formed.
        let length = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4
        guard pos + length <= bytes.count else { throw fail("truncated UTF-8") }
        var value = length == 1 ? UInt32(c) : UInt32(c) & (0xFF >> UInt32(length + 1))
        for i in 1 ..< length { value = value << 6 | UInt32(bytes[pos + i] & 0x3F) }
        pos += length
        return value
    }

    private mutating func hex(_ digits: Int) throws(GrammarError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0 ..< digits {
            guard let c = current else { throw fail("expected \(digits) hex digits") }
            let d: UInt32
            switch c {
            case 0x30 ... 0x39: d = UInt32(c - 0x30)
            case 0x41 ... 0x46: d = UInt32(c - 0x41 + 10)
            case 0x61 ... 0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("expected \(digits) hex digits")
            }
            value = value << 4 | d
            pos += 1
        }
        guard value <= CharacterClass.maxCodePoint else { throw fail("code point \(value) is beyond U+10FFFF") }
        return value
    }
}
