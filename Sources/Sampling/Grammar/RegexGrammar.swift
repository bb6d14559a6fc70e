/// Compiles a regular expression to a grammar that matches exactly the strings the whole
/// expression matches (anchors are implicit, as vLLM's `guided_regex` and JSON schema `pattern`s
/// are used).
///
/// The practical subset: literals and escapes (`\.`, `\n`, `\t`, `\r`, `\xHH`, `\uHHHH`), the
/// classes `\d \w \s \D \W \S`, bracket classes with ranges and negation, `.` (any character but a
/// line break), groups `( )` and `(?: )`, alternation `|`, quantifiers `* + ?` `{m}` `{m,}`
/// `{m,n}` (a lazy `?` after one is accepted and means the same here), and a leading `^` / trailing
/// `$`. Backreferences, lookaround and other anchors are refused with a typed error.
public enum RegexGrammar {
    /// `pattern` compiled.
    public static func compile(_ pattern: String, limits: GrammarLimits = .init()) throws(GrammarError) -> CompiledGrammar {
        try CompiledGrammar(gbnf: "root ::= " + expression(pattern, limits: limits) + "\n", limits: limits)
    }

    /// `pattern` as one GBNF expression (parenthesised).
    public static func expression(_ pattern: String, limits: GrammarLimits = .init()) throws(GrammarError) -> String {
        guard pattern.utf8.count <= limits.maxSourceBytes else {
            throw .tooLarge(limit: "maxSourceBytes", reason: "\(pattern.utf8.count) bytes exceed \(limits.maxSourceBytes)")
        }
        var scalars = Array(pattern.unicodeScalars)
        if scalars.first == "^" { scalars.removeFirst() }
        if scalars.last == "$", scalars.count < 2 || scalars[scalars.count - 2] != "\\" { scalars.removeLast() }
        var parser = RegexParser(s: scalars, limits: limits)
        let out = try parser.alternation(depth: 0)
        guard parser.pos == scalars.count else { throw parser.fail("unmatched )") }
        return out
    }
}

/// A list of choices as a grammar: exactly one of the strings (vLLM's `guided_choice`).
public enum ChoiceGrammar {
    /// The grammar matching exactly one of `choices`.
    public static func compile(_ choices: [String], limits: GrammarLimits = .init()) throws(GrammarError) -> CompiledGrammar {
        guard !choices.isEmpty else { throw .syntax(reason: "the list of choices is empty", offset: nil) }
        guard choices.count <= limits.maxAlternatives else {
            throw .tooLarge(limit: "maxAlternatives", reason: "\(choices.count) choices, more than \(limits.maxAlternatives)")
        }
        var definition = GrammarDefinition()
        try definition.define("root", .alternatives(choices.map(GrammarExpression.literal)))
        return try CompiledGrammar(definition, limits: limits)
    }
}

private struct RegexParser {
    let s: [Unicode.Scalar]
    let limits: GrammarLimits
    var pos = 0

    init(s: [Unicode.Scalar], limits: GrammarLimits) {
        self.s = s
        self.limits = limits
    }

    func fail(_ reason: String) -> GrammarError { .syntax(reason: reason, offset: pos) }

    var current: Unicode.Scalar? { pos < s.count ? s[pos] : nil }

    static func escape(_ c: UInt32) -> String {
        let hex = String(c, radix: 16, uppercase: true)
        return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    static func classText(_ ranges: [ClosedRange<UInt32>], negated: Bool) -> String {
        "[" + (negated ? "^" : "") + ranges.map { r in
            r.lowerBound == r.upperBound ? escape(r.lowerBound) : escape(r.lowerBound) + "-" + escape(r.upperBound)
        }.joined() + "]"
    }

    static let digit: [ClosedRange<UInt32>] = [0x30 ... 0x39]
    static let word: [ClosedRange<UInt32>] = [0x30 ... 0x39, 0x41 ... 0x5A, 0x5F ... 0x5F, 0x61 ... 0x7A]
    static let space: [ClosedRange<UInt32>] = [0x09 ... 0x0D, 0x20 ... 0x20]

    mutating func alternation(depth: Int) throws(GrammarError) -> String {
        guard depth <= limits.maxNesting else {
            throw .tooLarge(limit: "maxNesting", reason: "groups nested more than \(limits.maxNesting) deep")
        }
        var options = [try sequence(depth: depth)]
        while current == "|" {
            pos += 1
            options.append(try sequence(depth: depth))
            guard options.count <= limits.maxAlternatives else {
                throw .tooLarge(limit: "maxAlternatives", reason: "more than \(limits.maxAlternatives) alternatives")
            }
        }
        return "(" + options.joined(separator: " | ") + ")"
    }

    mutating func sequence(depth: Int) throws(GrammarError) -> String {
        var items: [String] = []
        while let c = current, c != "|", c != ")" {
            var item: String
            switch c {
            case "(":
                pos += 1
                if current == "?" {
                    guard pos + 1 < s.count, s[pos + 1] == ":" else { throw fail("only (?: ) groups are supported") }
                    pos += 2
                }
                item = try alternation(depth: depth + 1)
                guard current == ")" else { throw fail("expected )") }
                pos += 1
            case "[":
                pos += 1
                item = try bracket()
            case ".":
                pos += 1
                item = "[^\\n\\r]"
            case "\\":
                item = try escapeItem()
            case "*", "+", "?":
                throw fail("nothing to repeat")
            case "^", "$":
                throw fail("anchors are only supported at the start and end")
            default:
                pos += 1
                item = "[" + Self.escape(c.value) + "]"
            }
            item = try quantified(item)
            items.append(item)
        }
        return items.isEmpty ? "\"\"" : items.joined(separator: " ")
    }

    mutating func quantified(_ item: String) throws(GrammarError) -> String {
        var out = item
        guard let c = current else { return out }
        switch c {
        case "*", "+", "?":
            pos += 1
            out = "(" + item + ")" + String(c)
        case "{":
            let save = pos
            pos += 1
            let lo = try number()
            var hi: Int? = lo
            if current == "," {
                pos += 1
                hi = current.map { ("0" ... "9").contains($0) } == true ? try number() : nil
            }
            guard current == "}", let lo else {
                // Not a quantifier: a literal brace, as most engines read it.
                pos = save
                return out
            }
            pos += 1
            if let hi, hi < lo { throw fail("{\(lo),\(hi)} has its maximum below its minimum") }
            out = "(" + item + "){\(lo)," + (hi.map(String.init) ?? "") + "}"
        default:
            return out
        }
        if current == "?" || current == "+" { pos += 1 }  // lazy or possessive: same language
        return out
    }

    mutating func number() throws(GrammarError) -> Int? {
        var value = 0, digits = 0
        while let c = current, ("0" ... "9").contains(c) {
            value = value * 10 + Int(c.value - 0x30)
            digits += 1
            pos += 1
            guard value <= limits.maxRepetition else {
                throw .tooLarge(limit: "maxRepetition", reason: "a repetition bound exceeds \(limits.maxRepetition)")
            }
        }
        return digits > 0 ? value : nil
    }

    /// An escape outside brackets.
    mutating func escapeItem() throws(GrammarError) -> String {
        pos += 1
        guard let e = current else { throw fail("trailing \\") }
        switch e {
        case "d": pos += 1; return Self.classText(Self.digit, negated: false)
        case "D": pos += 1; return Self.classText(Self.digit, negated: true)
        case "w": pos += 1; return Self.classText(Self.word, negated: false)
        case "W": pos += 1; return Self.classText(Self.word, negated: true)
        case "s": pos += 1; return Self.classText(Self.space, negated: false)
        case "S": pos += 1; return Self.classText(Self.space, negated: true)
        default: return "[" + Self.escape(try escapedCharacter()) + "]"
        }
    }

    /// The character of a single-character escape (the backslash already read).
    mutating func escapedCharacter() throws(GrammarError) -> UInt32 {
        guard let e = current else { throw fail("trailing \\") }
        pos += 1
        switch e {
        case "n": return 0x0A
        case "t": return 0x09
        case "r": return 0x0D
        case "f": return 0x0C
        case "v": return 0x0B
        case "0": return 0
        case "x": return try hex(2)
        case "u": return try hex(4)
        case "b", "B", "A", "z", "Z", "G": throw fail("anchor \\\(e) is not supported")
        default:
            if ("1" ... "9").contains(e) { throw fail("backreferences are not supported") }
            if e.properties.isAlphabetic { throw fail("unknown escape \\\(e)") }
            return e.value
        }
    }

    mutating func hex(_ n: Int) throws(GrammarError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0 ..< n {
            guard let c = current, let d = Self.hexLetter(c) else {
                throw fail("expected \(n) hex digits")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    static func hexLetter(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "a" ... "f": return c.value - 0x61 + 10
        case "A" ... "F": return c.value - 0x41 + 10
        case "0" ... "9": return c.value - 0x30
        default: return nil
        }
    }

    /// A bracket class (the `[` already read).
    mutating func bracket() throws(GrammarError) -> String {
        var negated = false
        if current == "^" {
            negated = true
            pos += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while true {
            guard let c = current else { throw fail("unterminated [") }
            if c == "]", !first { pos += 1; break }
            first = false
            var lower: UInt32
            if c == "\\" {
                pos += 1
                switch current {
                case "d"?: pos += 1; ranges += Self.digit; continue
                case "w"?: pos += 1; ranges += Self.word; continue
                case "s"?: pos += 1; ranges += Self.space; continue
                case "D"?, "W"?, "S"?: throw fail("negated class escapes inside [ ] are not supported")
                default: lower = try escapedCharacter()
                }
            } else {
                pos += 1
                lower = c.value
            }
            if current == "-", pos + 1 < s.count, s[pos + 1] != "]" {
                pos += 1
                guard let u = current else { throw fail("unterminated [") }
                var upper: UInt32
                if u == "\\" {
                    pos += 1
                    upper = try escapedCharacter()
                } else {
                    pos += 1
                    upper = u.value
                }
                guard upper >= lower else { throw fail("range end below its start") }
                ranges.append(lower ... upper)
            } else {
                ranges.append(lower ... lower)
            }
        }
        guard !ranges.isEmpty else { throw fail("empty class") }
        return Self.classText(ranges, negated: negated)
    }
}
